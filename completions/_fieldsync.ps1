
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'fieldsync' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'fieldsync'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'fieldsync' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The local database [default: fieldsync.sqlite3 in the user''s data directory]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: config.toml in the user''s config directory]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Set up this device: which server to sync with, as which officer')
            [CompletionResult]::new('household', 'household', [CompletionResultType]::ParameterValue, 'Record and look up households')
            [CompletionResult]::new('visit', 'visit', [CompletionResultType]::ParameterValue, 'Record and look up visits')
            [CompletionResult]::new('form', 'form', [CompletionResultType]::ParameterValue, 'Show the team''s form (questionnaire), as synced to this device')
            [CompletionResult]::new('queue', 'queue', [CompletionResultType]::ParameterValue, 'Show the changes waiting to be synced')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show what is synced, what waits, and what needs attention')
            [CompletionResult]::new('sync', 'sync', [CompletionResultType]::ParameterValue, 'Push local changes to the server, then pull everyone else''s')
            [CompletionResult]::new('conflicts', 'conflicts', [CompletionResultType]::ParameterValue, 'List records in conflict with the server''s copy')
            [CompletionResult]::new('resolve', 'resolve', [CompletionResultType]::ParameterValue, 'Settle conflicts, interactively or with flags')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Export this laptop''s records as CSV or JSON lines (e.g. when it is retired)')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Show fieldsync end to end: a local server, three officers of two teams, offline work, sync')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Run the sync server')
            [CompletionResult]::new('admin', 'admin', [CompletionResultType]::ParameterValue, 'Manage the sync server''s officers and tokens')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fieldsync;init' {
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'The sync server''s URL, e.g. https://sync.example.org')
            [CompletionResult]::new('--officer', '--officer', [CompletionResultType]::ParameterName, 'Your officer id, as your administrator registered it')
            [CompletionResult]::new('--token', '--token', [CompletionResultType]::ParameterName, 'Your token (visible to other users in the process list; prefer --token-stdin)')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'Also trust this certificate authority (PEM), for a server whose certificate your organisation issued itself. It is copied beside the config')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The local database [default: fieldsync.sqlite3 in the user''s data directory]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: config.toml in the user''s config directory]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]')
            [CompletionResult]::new('--token-stdin', '--token-stdin', [CompletionResultType]::ParameterName, 'Read the token from the first line of stdin')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fieldsync;household' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The local database [default: fieldsync.sqlite3 in the user''s data directory]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: config.toml in the user''s config directory]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Record a new household; prints its id')
            [CompletionResult]::new('edit', 'edit', [CompletionResultType]::ParameterValue, 'Change a household''s fields (an empty value clears an optional field)')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a household (it must have no visits left)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List households')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one household')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Record many households from a CSV (with a header) or JSON-lines file; `-` reads stdin. Rows imported on this device before are skipped (see --again)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fieldsync;household;add' {
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'The household''s name (required, up to 200 characters)')
            [CompletionResult]::new('--village', '--village', [CompletionResultType]::ParameterName, 'The village or neighbourhood, up to 200 characters')
            [CompletionResult]::new('--gps', '--gps', [CompletionResultType]::ParameterName, 'Position as LAT,LON in decimal degrees, e.g. -1.2921,36.8219')
            [CompletionResult]::new('--notes', '--notes', [CompletionResultType]::ParameterName, 'Free text, up to 4000 characters')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The local database [default: fieldsync.sqlite3 in the user''s data directory]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: config.toml in the user''s config directory]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fieldsync;household;edit' {
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'A new name (up to 200 characters)')
            [CompletionResult]::new('--village', '--village', [CompletionResultType]::ParameterName, 'A new village; "" clears it')
            [CompletionResult]::new('--gps', '--gps', [CompletionResultType]::ParameterName, 'A new position as LAT,LON; "" clears it')
            [CompletionResult]::new('--notes', '--notes', [CompletionResultType]::ParameterName, 'New notes (line breaks allowed); "" clears them')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The local database [default: fieldsync.sqlite3 in the user''s data directory]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: config.toml in the user''s config directory]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fieldsync;household;delete' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The local database [default: fieldsync.sqlite3 in the user''s data directory]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: config.toml in the user''s config directory]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fieldsync;household;list' {
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'Only records in this sync state: pending, syncing, synced or conflict')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The local database [default: fieldsync.sqlite3 in the user''s data directory]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: config.toml in the user''s config directory]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]')
            [CompletionResult]::new('--deleted', '--deleted', [CompletionResultType]::ParameterName, 'Include deleted records (tombstones)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fieldsync;household;show' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The local database [default: fieldsync.sqlite3 in the user''s data directory]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: config.toml in the user''s config directory]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fieldsync;household;import' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The local database [default: fieldsync.sqlite3 in the user''s data directory]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: config.toml in the user''s config directory]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]')
            [CompletionResult]::new('--again', '--again', [CompletionResultType]::ParameterName, 'Import every row as a new record, even rows this device imported before')
            [CompletionResult]::new('--coerce', '--coerce', [CompletionResultType]::ParameterName, 'JSON lines: accept a number where a string belongs when it reads back exactly as written (`42`, `2.5`; never `1e3` or a number too long to keep exactly)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fieldsync;household;help' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Record a new household; prints its id')
            [CompletionResult]::new('edit', 'edit', [CompletionResultType]::ParameterValue, 'Change a household''s fields (an empty value clears an optional field)')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a household (it must have no visits left)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List households')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one household')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Record many households from a CSV (with a header) or JSON-lines file; `-` reads stdin. Rows imported on this device before are skipped (see --again)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fieldsync;household;help;add' {
            break
        }
        'fieldsync;household;help;edit' {
            break
        }
        'fieldsync;household;help;delete' {
            break
        }
        'fieldsync;household;help;list' {
            break
        }
        'fieldsync;household;help;show' {
            break
        }
        'fieldsync;household;help;import' {
            break
        }
        'fieldsync;household;help;help' {
            break
        }
        'fieldsync;visit' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The local database [default: fieldsync.sqlite3 in the user''s data directory]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: config.toml in the user''s config directory]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Record a visit to a household; prints its id. On a terminal, without --answer, walks through the team''s form question by question (Esc steps back, Ctrl-C discards)')
            [CompletionResult]::new('edit', 'edit', [CompletionResultType]::ParameterValue, 'Change a visit (an empty value clears notes or gps). On a terminal, without flags, walks through the team''s form with the visit''s answers as defaults')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a visit')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List visits')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one visit')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Record many visits from a CSV (with a header) or JSON-lines file; `-` reads stdin. Rows imported on this device before are skipped (see --again)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fieldsync;visit;add' {
            [CompletionResult]::new('--household', '--household', [CompletionResultType]::ParameterName, 'The household: the short id `household list` shows, or its full id')
            [CompletionResult]::new('--notes', '--notes', [CompletionResultType]::ParameterName, 'Free text, up to 4000 characters (line breaks allowed)')
            [CompletionResult]::new('--gps', '--gps', [CompletionResultType]::ParameterName, 'Position as LAT,LON in decimal degrees, e.g. -1.2921,36.8219')
            [CompletionResult]::new('--answer', '--answer', [CompletionResultType]::ParameterName, 'An answer as KEY=VALUE; repeat for more')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'When the visit happened: 2026-11-25T09:30 in this laptop''s zone, or with an offset [default: now]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The local database [default: fieldsync.sqlite3 in the user''s data directory]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: config.toml in the user''s config directory]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fieldsync;visit;edit' {
            [CompletionResult]::new('--notes', '--notes', [CompletionResultType]::ParameterName, 'New notes (line breaks allowed); "" clears them')
            [CompletionResult]::new('--gps', '--gps', [CompletionResultType]::ParameterName, 'A new position as LAT,LON; "" clears it')
            [CompletionResult]::new('--answer', '--answer', [CompletionResultType]::ParameterName, 'Set an answer as KEY=VALUE; repeat for more')
            [CompletionResult]::new('--unset-answer', '--unset-answer', [CompletionResultType]::ParameterName, 'Remove an answer; repeat for more')
            [CompletionResult]::new('--at', '--at', [CompletionResultType]::ParameterName, 'A new time for the visit: 2026-11-25T09:30 in this laptop''s zone, or with an offset')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The local database [default: fieldsync.sqlite3 in the user''s data directory]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: config.toml in the user''s config directory]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fieldsync;visit;delete' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The local database [default: fieldsync.sqlite3 in the user''s data directory]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: config.toml in the user''s config directory]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fieldsync;visit;list' {
            [CompletionResult]::new('--household', '--household', [CompletionResultType]::ParameterName, 'Only visits to this household (its short id or full id)')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'Only records in this sync state: pending, syncing, synced or conflict')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The local database [default: fieldsync.sqlite3 in the user''s data directory]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: config.toml in the user''s config directory]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]')
            [CompletionResult]::new('--deleted', '--deleted', [CompletionResultType]::ParameterName, 'Include deleted records (tombstones)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fieldsync;visit;show' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The local database [default: fieldsync.sqlite3 in the user''s data directory]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: config.toml in the user''s config directory]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fieldsync;visit;import' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The local database [default: fieldsync.sqlite3 in the user''s data directory]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: config.toml in the user''s config directory]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]')
            [CompletionResult]::new('--again', '--again', [CompletionResultType]::ParameterName, 'Import every row as a new record, even rows this device imported before')
            [CompletionResult]::new('--coerce', '--coerce', [CompletionResultType]::ParameterName, 'JSON lines: accept a number where a string belongs when it reads back exactly as written (`42`, `2.5`; never `1e3` or a number too long to keep exactly)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fieldsync;visit;help' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Record a visit to a household; prints its id. On a terminal, without --answer, walks through the team''s form question by question (Esc steps back, Ctrl-C discards)')
            [CompletionResult]::new('edit', 'edit', [CompletionResultType]::ParameterValue, 'Change a visit (an empty value clears notes or gps). On a terminal, without flags, walks through the team''s form with the visit''s answers as defaults')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a visit')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List visits')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one visit')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Record many visits from a CSV (with a header) or JSON-lines file; `-` reads stdin. Rows imported on this device before are skipped (see --again)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fieldsync;visit;help;add' {
            break
        }
        'fieldsync;visit;help;edit' {
            break
        }
        'fieldsync;visit;help;delete' {
            break
        }
        'fieldsync;visit;help;list' {
            break
        }
        'fieldsync;visit;help;show' {
            break
        }
        'fieldsync;visit;help;import' {
            break
        }
        'fieldsync;visit;help;help' {
            break
        }
        'fieldsync;form' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The local database [default: fieldsync.sqlite3 in the user''s data directory]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: config.toml in the user''s config directory]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print the team''s current form as this device holds it (it arrives with `fieldsync sync`); `--json` prints its JSON')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fieldsync;form;show' {
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Another version this device holds [default: the current one]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The local database [default: fieldsync.sqlite3 in the user''s data directory]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: config.toml in the user''s config directory]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fieldsync;form;help' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print the team''s current form as this device holds it (it arrives with `fieldsync sync`); `--json` prints its JSON')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fieldsync;form;help;show' {
            break
        }
        'fieldsync;form;help;help' {
            break
        }
        'fieldsync;queue' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The local database [default: fieldsync.sqlite3 in the user''s data directory]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: config.toml in the user''s config directory]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]')
            [CompletionResult]::new('--rejected', '--rejected', [CompletionResultType]::ParameterName, 'Only entries the server rejected (with their errors)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('discard', 'discard', [CompletionResultType]::ParameterValue, 'Remove changes the server rejected, after saving them (and the records as they are here) to a JSON-lines file next to the database; the records are refreshed from the server with the next sync')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fieldsync;queue;discard' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The local database [default: fieldsync.sqlite3 in the user''s data directory]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: config.toml in the user''s config directory]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]')
            [CompletionResult]::new('--rejected', '--rejected', [CompletionResultType]::ParameterName, 'Discard every rejected change')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask (required without a terminal)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask (required without a terminal)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fieldsync;queue;help' {
            [CompletionResult]::new('discard', 'discard', [CompletionResultType]::ParameterValue, 'Remove changes the server rejected, after saving them (and the records as they are here) to a JSON-lines file next to the database; the records are refreshed from the server with the next sync')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fieldsync;queue;help;discard' {
            break
        }
        'fieldsync;queue;help;help' {
            break
        }
        'fieldsync;status' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The local database [default: fieldsync.sqlite3 in the user''s data directory]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: config.toml in the user''s config directory]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fieldsync;sync' {
            [CompletionResult]::new('--batch-size', '--batch-size', [CompletionResultType]::ParameterName, 'Changes per push request (1 to 500)')
            [CompletionResult]::new('--page-size', '--page-size', [CompletionResultType]::ParameterName, 'Records per pull page (1 to 1000)')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Time between syncs in --watch mode, e.g. 30s, 15m, 1h [default: 15m]; needs --watch')
            [CompletionResult]::new('--retries', '--retries', [CompletionResultType]::ParameterName, 'Attempts per request before giving up on a transient failure')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The local database [default: fieldsync.sqlite3 in the user''s data directory]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: config.toml in the user''s config directory]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]')
            [CompletionResult]::new('--watch', '--watch', [CompletionResultType]::ParameterName, 'Keep running: sync every --interval (with jitter), soon after local changes, and back off while offline. Ctrl-C or SIGTERM stops after the current batch; a second one quits at once (exit 130, nothing is lost)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success')
            [CompletionResult]::new('--allow-insecure-http', '--allow-insecure-http', [CompletionResultType]::ParameterName, 'Allow plain http:// to a server that is not on this machine')
            [CompletionResult]::new('--adopt-server', '--adopt-server', [CompletionResultType]::ParameterName, 'Sync with a server database other than the one this device synced with (a rebuilt or new server): send it every local record it lacks, then pull the rest from scratch')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fieldsync;conflicts' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The local database [default: fieldsync.sqlite3 in the user''s data directory]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: config.toml in the user''s config directory]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fieldsync;resolve' {
            [CompletionResult]::new('--keep', '--keep', [CompletionResultType]::ParameterName, 'Keep my side or the server''s for every colliding field (and for delete-vs-edit: mine keeps what this device did, theirs what the server did)')
            [CompletionResult]::new('--field', '--field', [CompletionResultType]::ParameterName, 'Decide one field: FIELD=mine or FIELD=theirs (e.g. notes=mine, answers.crop=theirs). Fields not named keep --keep, or are required')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The local database [default: fieldsync.sqlite3 in the user''s data directory]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: config.toml in the user''s config directory]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Settle every conflict (with --keep), without prompting')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fieldsync;completions' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The local database [default: fieldsync.sqlite3 in the user''s data directory]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: config.toml in the user''s config directory]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fieldsync;export' {
            [CompletionResult]::new('--entity', '--entity', [CompletionResultType]::ParameterName, 'Which records: household or visit')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'csv (a header row, one column per answer key) or jsonl (one JSON object a line)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write to this file (replaced only once the export is complete) instead of stdout')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The local database [default: fieldsync.sqlite3 in the user''s data directory]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: config.toml in the user''s config directory]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]')
            [CompletionResult]::new('--include-deleted', '--include-deleted', [CompletionResultType]::ParameterName, 'Include deleted records (tombstones), with `deleted` true')
            [CompletionResult]::new('--labels', '--labels', [CompletionResultType]::ParameterName, 'CSV of visits: head answer columns with the form''s question labels instead of `answers.<name>` (columns follow the form''s order either way)')
            [CompletionResult]::new('--excel-safe', '--excel-safe', [CompletionResultType]::ParameterName, 'CSV for a spreadsheet: text cells beginning with =, +, -, @ get a leading '' so they are shown as text, never run as formulas (off by default: it changes the data)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'fieldsync;demo' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'The local database [default: fieldsync.sqlite3 in the user''s data directory]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'The config file [default: config.toml in the user''s config directory]')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]')
            [CompletionResult]::new('--keep', '--keep', [CompletionResultType]::ParameterName, 'Keep the demo''s folder (server database, officers'' databases and configs) afterwards')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print machine-readable JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fieldsync;serve' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address to listen on; port 0 picks a free port')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stdout after the `listening on` line]')
            [CompletionResult]::new('--tls-cert', '--tls-cert', [CompletionResultType]::ParameterName, 'PEM certificate chain for HTTPS (needs --tls-key)')
            [CompletionResult]::new('--tls-key', '--tls-key', [CompletionResultType]::ParameterName, 'PEM private key for HTTPS (needs --tls-cert)')
            [CompletionResult]::new('--max-inflight', '--max-inflight', [CompletionResultType]::ParameterName, 'Most requests in flight; beyond it the server answers 503 with Retry-After')
            [CompletionResult]::new('--max-body-memory-mib', '--max-body-memory-mib', [CompletionResultType]::ParameterName, 'Most memory all request bodies may hold at once, in MiB; beyond it the server answers 503 with Retry-After')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines on stderr as `text` or `json` (one object a line). The level comes from FIELDSYNC_LOG (or RUST_LOG), default `info`')
            [CompletionResult]::new('--pool-size', '--pool-size', [CompletionResultType]::ParameterName, 'PostgreSQL: most connections this process opens (keep processes × pool size below the database''s max_connections). A request that finds every connection busy for 5 s is answered 503 with Retry-After; connections idle for 2 minutes are closed')
            [CompletionResult]::new('--metrics', '--metrics', [CompletionResultType]::ParameterName, 'Who may read the Prometheus metrics at /metrics: `loopback` (clients on this host), `public` (everyone who reaches the port) or `off`')
            [CompletionResult]::new('--op-retention-days', '--op-retention-days', [CompletionResultType]::ParameterName, 'Days the server keeps each change''s stored result (what makes a retried push apply once); older ones are forgotten every hour, and a device sending one again is refused `op_expired`, never applied twice. Keep it longer than any device stays offline')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'db')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'config')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'timeout')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'json')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fieldsync;admin' {
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'db')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'config')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'timeout')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'json')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('officer', 'officer', [CompletionResultType]::ParameterValue, 'Add, list, revoke and move officers')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Export records as CSV or JSON lines for analysis, streamed; prints the version to pass as --since next time')
            [CompletionResult]::new('form', 'form', [CompletionResultType]::ParameterValue, 'Publish, list and show each team''s form (XLSForm) versions')
            [CompletionResult]::new('purge-tombstones', 'purge-tombstones', [CompletionResultType]::ParameterValue, 'Delete tombstones older than a version; cursors older than it must re-sync')
            [CompletionResult]::new('trim-ops', 'trim-ops', [CompletionResultType]::ParameterValue, 'Forget the stored results of changes received more than a number of days ago (op-id retention; `serve` does it every hour with --op-retention-days). A device that sends one of them again is refused `op_expired`, never applied twice')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Server version, officers, records, the current version, the history floor and table sizes')
            [CompletionResult]::new('migrate', 'migrate', [CompletionResultType]::ParameterValue, 'Create or upgrade the server database''s schema, then exit. Run it as the schema owner (PostgreSQL), once per upgrade, before starting the new servers; `serve` and the other `admin` commands then need only SELECT/INSERT/UPDATE/DELETE on the tables. PostgreSQL: the database must exist (an empty one gets the whole schema); SQLite: the file must exist (`serve` creates new ones)')
            [CompletionResult]::new('backup', 'backup', [CompletionResultType]::ParameterValue, 'Write a consistent copy of a SQLite server database to a new FILE, while the server runs (PostgreSQL: use pg_dump -Fc)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fieldsync;admin;officer' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'db')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'config')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'timeout')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'json')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add an officer and print their new token (once, alone on stdout)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List officers: team, last push, last pull, changes pushed, revoked')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke an officer''s token at once')
            [CompletionResult]::new('token', 'token', [CompletionResultType]::ParameterValue, 'Issue a new token (printed once, alone on stdout): the old one stops working at once, and a revocation is lifted. The officer then runs `fieldsync init --token-stdin`')
            [CompletionResult]::new('move', 'move', [CompletionResultType]::ParameterValue, 'Move an officer to another team; their next pull delivers the new team''s records')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fieldsync;admin;officer;add' {
            [CompletionResult]::new('--team', '--team', [CompletionResultType]::ParameterName, 'The team whose households and visits the officer sees and edits')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'db')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'config')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'timeout')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'json')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fieldsync;admin;officer;list' {
            [CompletionResult]::new('--silent-for', '--silent-for', [CompletionResultType]::ParameterName, 'Only officers who have not synced (no push, no pull) for this long: 7d, 12h, 30m. Officers who never synced count from when they were added')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'db')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'config')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'timeout')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON instead of a table')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fieldsync;admin;officer;revoke' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'db')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'config')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'timeout')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'json')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fieldsync;admin;officer;token' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'db')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'config')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'timeout')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'json')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fieldsync;admin;officer;move' {
            [CompletionResult]::new('--team', '--team', [CompletionResultType]::ParameterName, 'The team the officer joins')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'db')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'config')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'timeout')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'json')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fieldsync;admin;officer;help' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add an officer and print their new token (once, alone on stdout)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List officers: team, last push, last pull, changes pushed, revoked')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke an officer''s token at once')
            [CompletionResult]::new('token', 'token', [CompletionResultType]::ParameterValue, 'Issue a new token (printed once, alone on stdout): the old one stops working at once, and a revocation is lifted. The officer then runs `fieldsync init --token-stdin`')
            [CompletionResult]::new('move', 'move', [CompletionResultType]::ParameterValue, 'Move an officer to another team; their next pull delivers the new team''s records')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fieldsync;admin;officer;help;add' {
            break
        }
        'fieldsync;admin;officer;help;list' {
            break
        }
        'fieldsync;admin;officer;help;revoke' {
            break
        }
        'fieldsync;admin;officer;help;token' {
            break
        }
        'fieldsync;admin;officer;help;move' {
            break
        }
        'fieldsync;admin;officer;help;help' {
            break
        }
        'fieldsync;admin;export' {
            [CompletionResult]::new('--entity', '--entity', [CompletionResultType]::ParameterName, 'Which records: household or visit')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'csv (a header row, one column per answer key) or jsonl (one JSON object a line)')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write to this file (replaced only once the export is complete) instead of stdout')
            [CompletionResult]::new('--team', '--team', [CompletionResultType]::ParameterName, 'Only this team''s records')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only records changed after this: what the previous export printed (a version with --team; for every team a watermark, one version per team: north:120,south:88)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'db')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'config')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'timeout')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]')
            [CompletionResult]::new('--include-deleted', '--include-deleted', [CompletionResultType]::ParameterName, 'Include deleted records (tombstones), with `deleted` true')
            [CompletionResult]::new('--labels', '--labels', [CompletionResultType]::ParameterName, 'CSV of visits: head answer columns with the form''s question labels instead of `answers.<name>` (columns follow the form''s order either way)')
            [CompletionResult]::new('--excel-safe', '--excel-safe', [CompletionResultType]::ParameterName, 'CSV for a spreadsheet: text cells beginning with =, +, -, @ get a leading '' so they are shown as text, never run as formulas (off by default: it changes the data)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'json')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'fieldsync;admin;form' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'db')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'config')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'timeout')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'json')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('publish', 'publish', [CompletionResultType]::ParameterValue, 'Publish an XLSForm (an .xlsx workbook, or a folder of survey.csv and choices.csv) as the team''s next form version; prints the new version number alone on stdout')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List published form versions: team, version, form id, title, questions, published')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print one published form version (the team''s current one by default)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fieldsync;admin;form;publish' {
            [CompletionResult]::new('--team', '--team', [CompletionResultType]::ParameterName, 'The team whose officers fill this form')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'db')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'config')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'timeout')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'json')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fieldsync;admin;form;list' {
            [CompletionResult]::new('--team', '--team', [CompletionResultType]::ParameterName, 'Only this team''s versions')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'db')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'config')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'timeout')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON instead of a table')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fieldsync;admin;form;show' {
            [CompletionResult]::new('--team', '--team', [CompletionResultType]::ParameterName, 'The team whose form to show')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'The version to show [default: the current one]')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'db')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'config')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'timeout')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the form''s JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fieldsync;admin;form;help' {
            [CompletionResult]::new('publish', 'publish', [CompletionResultType]::ParameterValue, 'Publish an XLSForm (an .xlsx workbook, or a folder of survey.csv and choices.csv) as the team''s next form version; prints the new version number alone on stdout')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List published form versions: team, version, form id, title, questions, published')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print one published form version (the team''s current one by default)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fieldsync;admin;form;help;publish' {
            break
        }
        'fieldsync;admin;form;help;list' {
            break
        }
        'fieldsync;admin;form;help;show' {
            break
        }
        'fieldsync;admin;form;help;help' {
            break
        }
        'fieldsync;admin;purge-tombstones' {
            [CompletionResult]::new('--before-version', '--before-version', [CompletionResultType]::ParameterName, 'Delete tombstones whose version is below this (at most the current version)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'db')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'config')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'timeout')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'json')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fieldsync;admin;trim-ops' {
            [CompletionResult]::new('--older-than-days', '--older-than-days', [CompletionResultType]::ParameterName, 'Forget results received at least this many days ago; 0 forgets every result (a device retrying a push whose answer it lost is then refused, not applied)')
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'db')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'config')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'timeout')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'json')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fieldsync;admin;status' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'db')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'config')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'timeout')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON instead of text')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fieldsync;admin;migrate' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'db')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'config')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'timeout')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'json')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fieldsync;admin;backup' {
            [CompletionResult]::new('--db', '--db', [CompletionResultType]::ParameterName, 'db')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'config')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'timeout')
            [CompletionResult]::new('--database', '--database', [CompletionResultType]::ParameterName, 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'json')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'fieldsync;admin;help' {
            [CompletionResult]::new('officer', 'officer', [CompletionResultType]::ParameterValue, 'Add, list, revoke and move officers')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Export records as CSV or JSON lines for analysis, streamed; prints the version to pass as --since next time')
            [CompletionResult]::new('form', 'form', [CompletionResultType]::ParameterValue, 'Publish, list and show each team''s form (XLSForm) versions')
            [CompletionResult]::new('purge-tombstones', 'purge-tombstones', [CompletionResultType]::ParameterValue, 'Delete tombstones older than a version; cursors older than it must re-sync')
            [CompletionResult]::new('trim-ops', 'trim-ops', [CompletionResultType]::ParameterValue, 'Forget the stored results of changes received more than a number of days ago (op-id retention; `serve` does it every hour with --op-retention-days). A device that sends one of them again is refused `op_expired`, never applied twice')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Server version, officers, records, the current version, the history floor and table sizes')
            [CompletionResult]::new('migrate', 'migrate', [CompletionResultType]::ParameterValue, 'Create or upgrade the server database''s schema, then exit. Run it as the schema owner (PostgreSQL), once per upgrade, before starting the new servers; `serve` and the other `admin` commands then need only SELECT/INSERT/UPDATE/DELETE on the tables. PostgreSQL: the database must exist (an empty one gets the whole schema); SQLite: the file must exist (`serve` creates new ones)')
            [CompletionResult]::new('backup', 'backup', [CompletionResultType]::ParameterValue, 'Write a consistent copy of a SQLite server database to a new FILE, while the server runs (PostgreSQL: use pg_dump -Fc)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fieldsync;admin;help;officer' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add an officer and print their new token (once, alone on stdout)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List officers: team, last push, last pull, changes pushed, revoked')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke an officer''s token at once')
            [CompletionResult]::new('token', 'token', [CompletionResultType]::ParameterValue, 'Issue a new token (printed once, alone on stdout): the old one stops working at once, and a revocation is lifted. The officer then runs `fieldsync init --token-stdin`')
            [CompletionResult]::new('move', 'move', [CompletionResultType]::ParameterValue, 'Move an officer to another team; their next pull delivers the new team''s records')
            break
        }
        'fieldsync;admin;help;officer;add' {
            break
        }
        'fieldsync;admin;help;officer;list' {
            break
        }
        'fieldsync;admin;help;officer;revoke' {
            break
        }
        'fieldsync;admin;help;officer;token' {
            break
        }
        'fieldsync;admin;help;officer;move' {
            break
        }
        'fieldsync;admin;help;export' {
            break
        }
        'fieldsync;admin;help;form' {
            [CompletionResult]::new('publish', 'publish', [CompletionResultType]::ParameterValue, 'Publish an XLSForm (an .xlsx workbook, or a folder of survey.csv and choices.csv) as the team''s next form version; prints the new version number alone on stdout')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List published form versions: team, version, form id, title, questions, published')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print one published form version (the team''s current one by default)')
            break
        }
        'fieldsync;admin;help;form;publish' {
            break
        }
        'fieldsync;admin;help;form;list' {
            break
        }
        'fieldsync;admin;help;form;show' {
            break
        }
        'fieldsync;admin;help;purge-tombstones' {
            break
        }
        'fieldsync;admin;help;trim-ops' {
            break
        }
        'fieldsync;admin;help;status' {
            break
        }
        'fieldsync;admin;help;migrate' {
            break
        }
        'fieldsync;admin;help;backup' {
            break
        }
        'fieldsync;admin;help;help' {
            break
        }
        'fieldsync;help' {
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Set up this device: which server to sync with, as which officer')
            [CompletionResult]::new('household', 'household', [CompletionResultType]::ParameterValue, 'Record and look up households')
            [CompletionResult]::new('visit', 'visit', [CompletionResultType]::ParameterValue, 'Record and look up visits')
            [CompletionResult]::new('form', 'form', [CompletionResultType]::ParameterValue, 'Show the team''s form (questionnaire), as synced to this device')
            [CompletionResult]::new('queue', 'queue', [CompletionResultType]::ParameterValue, 'Show the changes waiting to be synced')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show what is synced, what waits, and what needs attention')
            [CompletionResult]::new('sync', 'sync', [CompletionResultType]::ParameterValue, 'Push local changes to the server, then pull everyone else''s')
            [CompletionResult]::new('conflicts', 'conflicts', [CompletionResultType]::ParameterValue, 'List records in conflict with the server''s copy')
            [CompletionResult]::new('resolve', 'resolve', [CompletionResultType]::ParameterValue, 'Settle conflicts, interactively or with flags')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Export this laptop''s records as CSV or JSON lines (e.g. when it is retired)')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'Show fieldsync end to end: a local server, three officers of two teams, offline work, sync')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Run the sync server')
            [CompletionResult]::new('admin', 'admin', [CompletionResultType]::ParameterValue, 'Manage the sync server''s officers and tokens')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'fieldsync;help;init' {
            break
        }
        'fieldsync;help;household' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Record a new household; prints its id')
            [CompletionResult]::new('edit', 'edit', [CompletionResultType]::ParameterValue, 'Change a household''s fields (an empty value clears an optional field)')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a household (it must have no visits left)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List households')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one household')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Record many households from a CSV (with a header) or JSON-lines file; `-` reads stdin. Rows imported on this device before are skipped (see --again)')
            break
        }
        'fieldsync;help;household;add' {
            break
        }
        'fieldsync;help;household;edit' {
            break
        }
        'fieldsync;help;household;delete' {
            break
        }
        'fieldsync;help;household;list' {
            break
        }
        'fieldsync;help;household;show' {
            break
        }
        'fieldsync;help;household;import' {
            break
        }
        'fieldsync;help;visit' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Record a visit to a household; prints its id. On a terminal, without --answer, walks through the team''s form question by question (Esc steps back, Ctrl-C discards)')
            [CompletionResult]::new('edit', 'edit', [CompletionResultType]::ParameterValue, 'Change a visit (an empty value clears notes or gps). On a terminal, without flags, walks through the team''s form with the visit''s answers as defaults')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete a visit')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List visits')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one visit')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Record many visits from a CSV (with a header) or JSON-lines file; `-` reads stdin. Rows imported on this device before are skipped (see --again)')
            break
        }
        'fieldsync;help;visit;add' {
            break
        }
        'fieldsync;help;visit;edit' {
            break
        }
        'fieldsync;help;visit;delete' {
            break
        }
        'fieldsync;help;visit;list' {
            break
        }
        'fieldsync;help;visit;show' {
            break
        }
        'fieldsync;help;visit;import' {
            break
        }
        'fieldsync;help;form' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print the team''s current form as this device holds it (it arrives with `fieldsync sync`); `--json` prints its JSON')
            break
        }
        'fieldsync;help;form;show' {
            break
        }
        'fieldsync;help;queue' {
            [CompletionResult]::new('discard', 'discard', [CompletionResultType]::ParameterValue, 'Remove changes the server rejected, after saving them (and the records as they are here) to a JSON-lines file next to the database; the records are refreshed from the server with the next sync')
            break
        }
        'fieldsync;help;queue;discard' {
            break
        }
        'fieldsync;help;status' {
            break
        }
        'fieldsync;help;sync' {
            break
        }
        'fieldsync;help;conflicts' {
            break
        }
        'fieldsync;help;resolve' {
            break
        }
        'fieldsync;help;completions' {
            break
        }
        'fieldsync;help;export' {
            break
        }
        'fieldsync;help;demo' {
            break
        }
        'fieldsync;help;serve' {
            break
        }
        'fieldsync;help;admin' {
            [CompletionResult]::new('officer', 'officer', [CompletionResultType]::ParameterValue, 'Add, list, revoke and move officers')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Export records as CSV or JSON lines for analysis, streamed; prints the version to pass as --since next time')
            [CompletionResult]::new('form', 'form', [CompletionResultType]::ParameterValue, 'Publish, list and show each team''s form (XLSForm) versions')
            [CompletionResult]::new('purge-tombstones', 'purge-tombstones', [CompletionResultType]::ParameterValue, 'Delete tombstones older than a version; cursors older than it must re-sync')
            [CompletionResult]::new('trim-ops', 'trim-ops', [CompletionResultType]::ParameterValue, 'Forget the stored results of changes received more than a number of days ago (op-id retention; `serve` does it every hour with --op-retention-days). A device that sends one of them again is refused `op_expired`, never applied twice')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Server version, officers, records, the current version, the history floor and table sizes')
            [CompletionResult]::new('migrate', 'migrate', [CompletionResultType]::ParameterValue, 'Create or upgrade the server database''s schema, then exit. Run it as the schema owner (PostgreSQL), once per upgrade, before starting the new servers; `serve` and the other `admin` commands then need only SELECT/INSERT/UPDATE/DELETE on the tables. PostgreSQL: the database must exist (an empty one gets the whole schema); SQLite: the file must exist (`serve` creates new ones)')
            [CompletionResult]::new('backup', 'backup', [CompletionResultType]::ParameterValue, 'Write a consistent copy of a SQLite server database to a new FILE, while the server runs (PostgreSQL: use pg_dump -Fc)')
            break
        }
        'fieldsync;help;admin;officer' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add an officer and print their new token (once, alone on stdout)')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List officers: team, last push, last pull, changes pushed, revoked')
            [CompletionResult]::new('revoke', 'revoke', [CompletionResultType]::ParameterValue, 'Revoke an officer''s token at once')
            [CompletionResult]::new('token', 'token', [CompletionResultType]::ParameterValue, 'Issue a new token (printed once, alone on stdout): the old one stops working at once, and a revocation is lifted. The officer then runs `fieldsync init --token-stdin`')
            [CompletionResult]::new('move', 'move', [CompletionResultType]::ParameterValue, 'Move an officer to another team; their next pull delivers the new team''s records')
            break
        }
        'fieldsync;help;admin;officer;add' {
            break
        }
        'fieldsync;help;admin;officer;list' {
            break
        }
        'fieldsync;help;admin;officer;revoke' {
            break
        }
        'fieldsync;help;admin;officer;token' {
            break
        }
        'fieldsync;help;admin;officer;move' {
            break
        }
        'fieldsync;help;admin;export' {
            break
        }
        'fieldsync;help;admin;form' {
            [CompletionResult]::new('publish', 'publish', [CompletionResultType]::ParameterValue, 'Publish an XLSForm (an .xlsx workbook, or a folder of survey.csv and choices.csv) as the team''s next form version; prints the new version number alone on stdout')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List published form versions: team, version, form id, title, questions, published')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print one published form version (the team''s current one by default)')
            break
        }
        'fieldsync;help;admin;form;publish' {
            break
        }
        'fieldsync;help;admin;form;list' {
            break
        }
        'fieldsync;help;admin;form;show' {
            break
        }
        'fieldsync;help;admin;purge-tombstones' {
            break
        }
        'fieldsync;help;admin;trim-ops' {
            break
        }
        'fieldsync;help;admin;status' {
            break
        }
        'fieldsync;help;admin;migrate' {
            break
        }
        'fieldsync;help;admin;backup' {
            break
        }
        'fieldsync;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
