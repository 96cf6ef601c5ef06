# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_fieldsync_global_optspecs
    string join \n db= config= json timeout= h/help V/version
end

function __fish_fieldsync_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_fieldsync_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_fieldsync_using_subcommand
    set -l cmd (__fish_fieldsync_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c fieldsync -n "__fish_fieldsync_needs_command" -l db -d 'The local database [default: fieldsync.sqlite3 in the user\'s data directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_needs_command" -l config -d 'The config file [default: config.toml in the user\'s config directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_needs_command" -l timeout -d 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]' -r
complete -c fieldsync -n "__fish_fieldsync_needs_command" -l json -d 'Print machine-readable JSON instead of text'
complete -c fieldsync -n "__fish_fieldsync_needs_command" -s h -l help -d 'Print help'
complete -c fieldsync -n "__fish_fieldsync_needs_command" -s V -l version -d 'Print version'
complete -c fieldsync -n "__fish_fieldsync_needs_command" -f -a "init" -d 'Set up this device: which server to sync with, as which officer'
complete -c fieldsync -n "__fish_fieldsync_needs_command" -f -a "household" -d 'Record and look up households'
complete -c fieldsync -n "__fish_fieldsync_needs_command" -f -a "visit" -d 'Record and look up visits'
complete -c fieldsync -n "__fish_fieldsync_needs_command" -f -a "form" -d 'Show the team\'s form (questionnaire), as synced to this device'
complete -c fieldsync -n "__fish_fieldsync_needs_command" -f -a "queue" -d 'Show the changes waiting to be synced'
complete -c fieldsync -n "__fish_fieldsync_needs_command" -f -a "status" -d 'Show what is synced, what waits, and what needs attention'
complete -c fieldsync -n "__fish_fieldsync_needs_command" -f -a "sync" -d 'Push local changes to the server, then pull everyone else\'s'
complete -c fieldsync -n "__fish_fieldsync_needs_command" -f -a "conflicts" -d 'List records in conflict with the server\'s copy'
complete -c fieldsync -n "__fish_fieldsync_needs_command" -f -a "resolve" -d 'Settle conflicts, interactively or with flags'
complete -c fieldsync -n "__fish_fieldsync_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c fieldsync -n "__fish_fieldsync_needs_command" -f -a "export" -d 'Export this laptop\'s records as CSV or JSON lines (e.g. when it is retired)'
complete -c fieldsync -n "__fish_fieldsync_needs_command" -f -a "demo" -d 'Show fieldsync end to end: a local server, three officers of two teams, offline work, sync'
complete -c fieldsync -n "__fish_fieldsync_needs_command" -f -a "serve" -d 'Run the sync server'
complete -c fieldsync -n "__fish_fieldsync_needs_command" -f -a "admin" -d 'Manage the sync server\'s officers and tokens'
complete -c fieldsync -n "__fish_fieldsync_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand init" -l server -d 'The sync server\'s URL, e.g. https://sync.example.org' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand init" -l officer -d 'Your officer id, as your administrator registered it' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand init" -l token -d 'Your token (visible to other users in the process list; prefer --token-stdin)' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand init" -l ca-cert -d 'Also trust this certificate authority (PEM), for a server whose certificate your organisation issued itself. It is copied beside the config' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand init" -l db -d 'The local database [default: fieldsync.sqlite3 in the user\'s data directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand init" -l config -d 'The config file [default: config.toml in the user\'s config directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand init" -l timeout -d 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand init" -l token-stdin -d 'Read the token from the first line of stdin'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand init" -l json -d 'Print machine-readable JSON instead of text'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand init" -s h -l help -d 'Print help'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and not __fish_seen_subcommand_from add edit delete list show import help" -l db -d 'The local database [default: fieldsync.sqlite3 in the user\'s data directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and not __fish_seen_subcommand_from add edit delete list show import help" -l config -d 'The config file [default: config.toml in the user\'s config directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and not __fish_seen_subcommand_from add edit delete list show import help" -l timeout -d 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and not __fish_seen_subcommand_from add edit delete list show import help" -l json -d 'Print machine-readable JSON instead of text'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and not __fish_seen_subcommand_from add edit delete list show import help" -s h -l help -d 'Print help'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and not __fish_seen_subcommand_from add edit delete list show import help" -f -a "add" -d 'Record a new household; prints its id'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and not __fish_seen_subcommand_from add edit delete list show import help" -f -a "edit" -d 'Change a household\'s fields (an empty value clears an optional field)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and not __fish_seen_subcommand_from add edit delete list show import help" -f -a "delete" -d 'Delete a household (it must have no visits left)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and not __fish_seen_subcommand_from add edit delete list show import help" -f -a "list" -d 'List households'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and not __fish_seen_subcommand_from add edit delete list show import help" -f -a "show" -d 'Show one household'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and not __fish_seen_subcommand_from add edit delete list show import help" -f -a "import" -d 'Record many households from a CSV (with a header) or JSON-lines file; `-` reads stdin. Rows imported on this device before are skipped (see --again)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and not __fish_seen_subcommand_from add edit delete list show import help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from add" -l name -d 'The household\'s name (required, up to 200 characters)' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from add" -l village -d 'The village or neighbourhood, up to 200 characters' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from add" -l gps -d 'Position as LAT,LON in decimal degrees, e.g. -1.2921,36.8219' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from add" -l notes -d 'Free text, up to 4000 characters' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from add" -l db -d 'The local database [default: fieldsync.sqlite3 in the user\'s data directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from add" -l config -d 'The config file [default: config.toml in the user\'s config directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from add" -l timeout -d 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from add" -l json -d 'Print machine-readable JSON instead of text'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from edit" -l name -d 'A new name (up to 200 characters)' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from edit" -l village -d 'A new village; "" clears it' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from edit" -l gps -d 'A new position as LAT,LON; "" clears it' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from edit" -l notes -d 'New notes (line breaks allowed); "" clears them' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from edit" -l db -d 'The local database [default: fieldsync.sqlite3 in the user\'s data directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from edit" -l config -d 'The config file [default: config.toml in the user\'s config directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from edit" -l timeout -d 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from edit" -l json -d 'Print machine-readable JSON instead of text'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from edit" -s h -l help -d 'Print help'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from delete" -l db -d 'The local database [default: fieldsync.sqlite3 in the user\'s data directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from delete" -l config -d 'The config file [default: config.toml in the user\'s config directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from delete" -l timeout -d 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from delete" -l json -d 'Print machine-readable JSON instead of text'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from list" -l state -d 'Only records in this sync state: pending, syncing, synced or conflict' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from list" -l db -d 'The local database [default: fieldsync.sqlite3 in the user\'s data directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from list" -l config -d 'The config file [default: config.toml in the user\'s config directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from list" -l timeout -d 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from list" -l deleted -d 'Include deleted records (tombstones)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from list" -l json -d 'Print machine-readable JSON instead of text'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from show" -l db -d 'The local database [default: fieldsync.sqlite3 in the user\'s data directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from show" -l config -d 'The config file [default: config.toml in the user\'s config directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from show" -l timeout -d 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from show" -l json -d 'Print machine-readable JSON instead of text'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from import" -l db -d 'The local database [default: fieldsync.sqlite3 in the user\'s data directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from import" -l config -d 'The config file [default: config.toml in the user\'s config directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from import" -l timeout -d 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from import" -l again -d 'Import every row as a new record, even rows this device imported before'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from import" -l coerce -d 'JSON lines: accept a number where a string belongs when it reads back exactly as written (`42`, `2.5`; never `1e3` or a number too long to keep exactly)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from import" -l json -d 'Print machine-readable JSON instead of text'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from help" -f -a "add" -d 'Record a new household; prints its id'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from help" -f -a "edit" -d 'Change a household\'s fields (an empty value clears an optional field)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete a household (it must have no visits left)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from help" -f -a "list" -d 'List households'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one household'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from help" -f -a "import" -d 'Record many households from a CSV (with a header) or JSON-lines file; `-` reads stdin. Rows imported on this device before are skipped (see --again)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand household; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and not __fish_seen_subcommand_from add edit delete list show import help" -l db -d 'The local database [default: fieldsync.sqlite3 in the user\'s data directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and not __fish_seen_subcommand_from add edit delete list show import help" -l config -d 'The config file [default: config.toml in the user\'s config directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and not __fish_seen_subcommand_from add edit delete list show import help" -l timeout -d 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and not __fish_seen_subcommand_from add edit delete list show import help" -l json -d 'Print machine-readable JSON instead of text'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and not __fish_seen_subcommand_from add edit delete list show import help" -s h -l help -d 'Print help'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and not __fish_seen_subcommand_from add edit delete list show import help" -f -a "add" -d 'Record a visit to a household; prints its id. On a terminal, without --answer, walks through the team\'s form question by question (Esc steps back, Ctrl-C discards)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and not __fish_seen_subcommand_from add edit delete list show import help" -f -a "edit" -d 'Change a visit (an empty value clears notes or gps). On a terminal, without flags, walks through the team\'s form with the visit\'s answers as defaults'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and not __fish_seen_subcommand_from add edit delete list show import help" -f -a "delete" -d 'Delete a visit'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and not __fish_seen_subcommand_from add edit delete list show import help" -f -a "list" -d 'List visits'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and not __fish_seen_subcommand_from add edit delete list show import help" -f -a "show" -d 'Show one visit'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and not __fish_seen_subcommand_from add edit delete list show import help" -f -a "import" -d 'Record many visits from a CSV (with a header) or JSON-lines file; `-` reads stdin. Rows imported on this device before are skipped (see --again)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and not __fish_seen_subcommand_from add edit delete list show import help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from add" -l household -d 'The household: the short id `household list` shows, or its full id' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from add" -l notes -d 'Free text, up to 4000 characters (line breaks allowed)' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from add" -l gps -d 'Position as LAT,LON in decimal degrees, e.g. -1.2921,36.8219' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from add" -l answer -d 'An answer as KEY=VALUE; repeat for more' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from add" -l at -d 'When the visit happened: 2026-11-25T09:30 in this laptop\'s zone, or with an offset [default: now]' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from add" -l db -d 'The local database [default: fieldsync.sqlite3 in the user\'s data directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from add" -l config -d 'The config file [default: config.toml in the user\'s config directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from add" -l timeout -d 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from add" -l json -d 'Print machine-readable JSON instead of text'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from edit" -l notes -d 'New notes (line breaks allowed); "" clears them' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from edit" -l gps -d 'A new position as LAT,LON; "" clears it' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from edit" -l answer -d 'Set an answer as KEY=VALUE; repeat for more' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from edit" -l unset-answer -d 'Remove an answer; repeat for more' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from edit" -l at -d 'A new time for the visit: 2026-11-25T09:30 in this laptop\'s zone, or with an offset' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from edit" -l db -d 'The local database [default: fieldsync.sqlite3 in the user\'s data directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from edit" -l config -d 'The config file [default: config.toml in the user\'s config directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from edit" -l timeout -d 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from edit" -l json -d 'Print machine-readable JSON instead of text'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from edit" -s h -l help -d 'Print help'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from delete" -l db -d 'The local database [default: fieldsync.sqlite3 in the user\'s data directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from delete" -l config -d 'The config file [default: config.toml in the user\'s config directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from delete" -l timeout -d 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from delete" -l json -d 'Print machine-readable JSON instead of text'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from list" -l household -d 'Only visits to this household (its short id or full id)' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from list" -l state -d 'Only records in this sync state: pending, syncing, synced or conflict' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from list" -l db -d 'The local database [default: fieldsync.sqlite3 in the user\'s data directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from list" -l config -d 'The config file [default: config.toml in the user\'s config directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from list" -l timeout -d 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from list" -l deleted -d 'Include deleted records (tombstones)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from list" -l json -d 'Print machine-readable JSON instead of text'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from show" -l db -d 'The local database [default: fieldsync.sqlite3 in the user\'s data directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from show" -l config -d 'The config file [default: config.toml in the user\'s config directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from show" -l timeout -d 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from show" -l json -d 'Print machine-readable JSON instead of text'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from import" -l db -d 'The local database [default: fieldsync.sqlite3 in the user\'s data directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from import" -l config -d 'The config file [default: config.toml in the user\'s config directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from import" -l timeout -d 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from import" -l again -d 'Import every row as a new record, even rows this device imported before'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from import" -l coerce -d 'JSON lines: accept a number where a string belongs when it reads back exactly as written (`42`, `2.5`; never `1e3` or a number too long to keep exactly)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from import" -l json -d 'Print machine-readable JSON instead of text'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from help" -f -a "add" -d 'Record a visit to a household; prints its id. On a terminal, without --answer, walks through the team\'s form question by question (Esc steps back, Ctrl-C discards)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from help" -f -a "edit" -d 'Change a visit (an empty value clears notes or gps). On a terminal, without flags, walks through the team\'s form with the visit\'s answers as defaults'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete a visit'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from help" -f -a "list" -d 'List visits'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one visit'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from help" -f -a "import" -d 'Record many visits from a CSV (with a header) or JSON-lines file; `-` reads stdin. Rows imported on this device before are skipped (see --again)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand visit; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand form; and not __fish_seen_subcommand_from show help" -l db -d 'The local database [default: fieldsync.sqlite3 in the user\'s data directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand form; and not __fish_seen_subcommand_from show help" -l config -d 'The config file [default: config.toml in the user\'s config directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand form; and not __fish_seen_subcommand_from show help" -l timeout -d 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand form; and not __fish_seen_subcommand_from show help" -l json -d 'Print machine-readable JSON instead of text'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand form; and not __fish_seen_subcommand_from show help" -s h -l help -d 'Print help'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand form; and not __fish_seen_subcommand_from show help" -f -a "show" -d 'Print the team\'s current form as this device holds it (it arrives with `fieldsync sync`); `--json` prints its JSON'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand form; and not __fish_seen_subcommand_from show help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand form; and __fish_seen_subcommand_from show" -l version -d 'Another version this device holds [default: the current one]' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand form; and __fish_seen_subcommand_from show" -l db -d 'The local database [default: fieldsync.sqlite3 in the user\'s data directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand form; and __fish_seen_subcommand_from show" -l config -d 'The config file [default: config.toml in the user\'s config directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand form; and __fish_seen_subcommand_from show" -l timeout -d 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand form; and __fish_seen_subcommand_from show" -l json -d 'Print machine-readable JSON instead of text'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand form; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand form; and __fish_seen_subcommand_from help" -f -a "show" -d 'Print the team\'s current form as this device holds it (it arrives with `fieldsync sync`); `--json` prints its JSON'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand form; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand queue; and not __fish_seen_subcommand_from discard help" -l db -d 'The local database [default: fieldsync.sqlite3 in the user\'s data directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand queue; and not __fish_seen_subcommand_from discard help" -l config -d 'The config file [default: config.toml in the user\'s config directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand queue; and not __fish_seen_subcommand_from discard help" -l timeout -d 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand queue; and not __fish_seen_subcommand_from discard help" -l rejected -d 'Only entries the server rejected (with their errors)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand queue; and not __fish_seen_subcommand_from discard help" -l json -d 'Print machine-readable JSON instead of text'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand queue; and not __fish_seen_subcommand_from discard help" -s h -l help -d 'Print help'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand queue; and not __fish_seen_subcommand_from discard help" -f -a "discard" -d 'Remove changes the server rejected, after saving them (and the records as they are here) to a JSON-lines file next to the database; the records are refreshed from the server with the next sync'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand queue; and not __fish_seen_subcommand_from discard help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand queue; and __fish_seen_subcommand_from discard" -l db -d 'The local database [default: fieldsync.sqlite3 in the user\'s data directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand queue; and __fish_seen_subcommand_from discard" -l config -d 'The config file [default: config.toml in the user\'s config directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand queue; and __fish_seen_subcommand_from discard" -l timeout -d 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand queue; and __fish_seen_subcommand_from discard" -l rejected -d 'Discard every rejected change'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand queue; and __fish_seen_subcommand_from discard" -s y -l yes -d 'Do not ask (required without a terminal)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand queue; and __fish_seen_subcommand_from discard" -l json -d 'Print machine-readable JSON instead of text'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand queue; and __fish_seen_subcommand_from discard" -s h -l help -d 'Print help'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "discard" -d 'Remove changes the server rejected, after saving them (and the records as they are here) to a JSON-lines file next to the database; the records are refreshed from the server with the next sync'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand status" -l db -d 'The local database [default: fieldsync.sqlite3 in the user\'s data directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand status" -l config -d 'The config file [default: config.toml in the user\'s config directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand status" -l timeout -d 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand status" -l json -d 'Print machine-readable JSON instead of text'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand status" -s h -l help -d 'Print help'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand sync" -l batch-size -d 'Changes per push request (1 to 500)' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand sync" -l page-size -d 'Records per pull page (1 to 1000)' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand sync" -l interval -d 'Time between syncs in --watch mode, e.g. 30s, 15m, 1h [default: 15m]; needs --watch' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand sync" -l retries -d 'Attempts per request before giving up on a transient failure' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand sync" -l db -d 'The local database [default: fieldsync.sqlite3 in the user\'s data directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand sync" -l config -d 'The config file [default: config.toml in the user\'s config directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand sync" -l timeout -d 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand sync" -l watch -d 'Keep running: sync every --interval (with jitter), soon after local changes, and back off while offline. Ctrl-C or SIGTERM stops after the current batch; a second one quits at once (exit 130, nothing is lost)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand sync" -s q -l quiet -d 'Print nothing on success'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand sync" -l allow-insecure-http -d 'Allow plain http:// to a server that is not on this machine'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand sync" -l adopt-server -d 'Sync with a server database other than the one this device synced with (a rebuilt or new server): send it every local record it lacks, then pull the rest from scratch'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand sync" -l json -d 'Print machine-readable JSON instead of text'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand sync" -s h -l help -d 'Print help'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand conflicts" -l db -d 'The local database [default: fieldsync.sqlite3 in the user\'s data directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand conflicts" -l config -d 'The config file [default: config.toml in the user\'s config directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand conflicts" -l timeout -d 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand conflicts" -l json -d 'Print machine-readable JSON instead of text'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand conflicts" -s h -l help -d 'Print help'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand resolve" -l keep -d 'Keep my side or the server\'s for every colliding field (and for delete-vs-edit: mine keeps what this device did, theirs what the server did)' -r -f -a "mine\t''
theirs\t''"
complete -c fieldsync -n "__fish_fieldsync_using_subcommand resolve" -l field -d 'Decide one field: FIELD=mine or FIELD=theirs (e.g. notes=mine, answers.crop=theirs). Fields not named keep --keep, or are required' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand resolve" -l db -d 'The local database [default: fieldsync.sqlite3 in the user\'s data directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand resolve" -l config -d 'The config file [default: config.toml in the user\'s config directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand resolve" -l timeout -d 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand resolve" -l all -d 'Settle every conflict (with --keep), without prompting'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand resolve" -l json -d 'Print machine-readable JSON instead of text'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand resolve" -s h -l help -d 'Print help'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand completions" -l db -d 'The local database [default: fieldsync.sqlite3 in the user\'s data directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand completions" -l config -d 'The config file [default: config.toml in the user\'s config directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand completions" -l timeout -d 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand completions" -l json -d 'Print machine-readable JSON instead of text'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand completions" -s h -l help -d 'Print help'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand export" -l entity -d 'Which records: household or visit' -r -f -a "household\t''
visit\t''"
complete -c fieldsync -n "__fish_fieldsync_using_subcommand export" -l format -d 'csv (a header row, one column per answer key) or jsonl (one JSON object a line)' -r -f -a "csv\t'CSV with a header row (RFC 4180, UTF-8)'
jsonl\t'One JSON object per line'"
complete -c fieldsync -n "__fish_fieldsync_using_subcommand export" -l output -d 'Write to this file (replaced only once the export is complete) instead of stdout' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand export" -l db -d 'The local database [default: fieldsync.sqlite3 in the user\'s data directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand export" -l config -d 'The config file [default: config.toml in the user\'s config directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand export" -l timeout -d 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand export" -l include-deleted -d 'Include deleted records (tombstones), with `deleted` true'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand export" -l labels -d 'CSV of visits: head answer columns with the form\'s question labels instead of `answers.<name>` (columns follow the form\'s order either way)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand export" -l excel-safe -d 'CSV for a spreadsheet: text cells beginning with =, +, -, @ get a leading \' so they are shown as text, never run as formulas (off by default: it changes the data)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand export" -l json -d 'Print machine-readable JSON instead of text'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand demo" -l db -d 'The local database [default: fieldsync.sqlite3 in the user\'s data directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand demo" -l config -d 'The config file [default: config.toml in the user\'s config directory]' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand demo" -l timeout -d 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand demo" -l keep -d 'Keep the demo\'s folder (server database, officers\' databases and configs) afterwards'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand demo" -l json -d 'Print machine-readable JSON instead of text'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand demo" -s h -l help -d 'Print help'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand serve" -l listen -d 'Address to listen on; port 0 picks a free port' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand serve" -l database -d 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stdout after the `listening on` line]' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand serve" -l tls-cert -d 'PEM certificate chain for HTTPS (needs --tls-key)' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand serve" -l tls-key -d 'PEM private key for HTTPS (needs --tls-cert)' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand serve" -l max-inflight -d 'Most requests in flight; beyond it the server answers 503 with Retry-After' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand serve" -l max-body-memory-mib -d 'Most memory all request bodies may hold at once, in MiB; beyond it the server answers 503 with Retry-After' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand serve" -l log-format -d 'Log lines on stderr as `text` or `json` (one object a line). The level comes from FIELDSYNC_LOG (or RUST_LOG), default `info`' -r -f -a "text\t''
json\t''"
complete -c fieldsync -n "__fish_fieldsync_using_subcommand serve" -l pool-size -d 'PostgreSQL: most connections this process opens (keep processes × pool size below the database\'s max_connections). A request that finds every connection busy for 5 s is answered 503 with Retry-After; connections idle for 2 minutes are closed' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand serve" -l metrics -d 'Who may read the Prometheus metrics at /metrics: `loopback` (clients on this host), `public` (everyone who reaches the port) or `off`' -r -f -a "loopback\t''
public\t''
off\t''"
complete -c fieldsync -n "__fish_fieldsync_using_subcommand serve" -l op-retention-days -d 'Days the server keeps each change\'s stored result (what makes a retried push apply once); older ones are forgotten every hour, and a device sending one again is refused `op_expired`, never applied twice. Keep it longer than any device stays offline' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand serve" -l db -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand serve" -l config -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand serve" -l timeout -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand serve" -l json
complete -c fieldsync -n "__fish_fieldsync_using_subcommand serve" -s h -l help -d 'Print help'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and not __fish_seen_subcommand_from officer export form purge-tombstones trim-ops status migrate backup help" -l database -d 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and not __fish_seen_subcommand_from officer export form purge-tombstones trim-ops status migrate backup help" -l db -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and not __fish_seen_subcommand_from officer export form purge-tombstones trim-ops status migrate backup help" -l config -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and not __fish_seen_subcommand_from officer export form purge-tombstones trim-ops status migrate backup help" -l timeout -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and not __fish_seen_subcommand_from officer export form purge-tombstones trim-ops status migrate backup help" -l json
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and not __fish_seen_subcommand_from officer export form purge-tombstones trim-ops status migrate backup help" -s h -l help -d 'Print help'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and not __fish_seen_subcommand_from officer export form purge-tombstones trim-ops status migrate backup help" -f -a "officer" -d 'Add, list, revoke and move officers'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and not __fish_seen_subcommand_from officer export form purge-tombstones trim-ops status migrate backup help" -f -a "export" -d 'Export records as CSV or JSON lines for analysis, streamed; prints the version to pass as --since next time'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and not __fish_seen_subcommand_from officer export form purge-tombstones trim-ops status migrate backup help" -f -a "form" -d 'Publish, list and show each team\'s form (XLSForm) versions'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and not __fish_seen_subcommand_from officer export form purge-tombstones trim-ops status migrate backup help" -f -a "purge-tombstones" -d 'Delete tombstones older than a version; cursors older than it must re-sync'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and not __fish_seen_subcommand_from officer export form purge-tombstones trim-ops status migrate backup help" -f -a "trim-ops" -d 'Forget the stored results of changes received more than a number of days ago (op-id retention; `serve` does it every hour with --op-retention-days). A device that sends one of them again is refused `op_expired`, never applied twice'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and not __fish_seen_subcommand_from officer export form purge-tombstones trim-ops status migrate backup help" -f -a "status" -d 'Server version, officers, records, the current version, the history floor and table sizes'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and not __fish_seen_subcommand_from officer export form purge-tombstones trim-ops status migrate backup help" -f -a "migrate" -d 'Create or upgrade the server database\'s schema, then exit. Run it as the schema owner (PostgreSQL), once per upgrade, before starting the new servers; `serve` and the other `admin` commands then need only SELECT/INSERT/UPDATE/DELETE on the tables. PostgreSQL: the database must exist (an empty one gets the whole schema); SQLite: the file must exist (`serve` creates new ones)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and not __fish_seen_subcommand_from officer export form purge-tombstones trim-ops status migrate backup help" -f -a "backup" -d 'Write a consistent copy of a SQLite server database to a new FILE, while the server runs (PostgreSQL: use pg_dump -Fc)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and not __fish_seen_subcommand_from officer export form purge-tombstones trim-ops status migrate backup help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from officer" -l db -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from officer" -l config -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from officer" -l timeout -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from officer" -l database -d 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from officer" -l json
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from officer" -s h -l help -d 'Print help'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from officer" -f -a "add" -d 'Add an officer and print their new token (once, alone on stdout)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from officer" -f -a "list" -d 'List officers: team, last push, last pull, changes pushed, revoked'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from officer" -f -a "revoke" -d 'Revoke an officer\'s token at once'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from officer" -f -a "token" -d 'Issue a new token (printed once, alone on stdout): the old one stops working at once, and a revocation is lifted. The officer then runs `fieldsync init --token-stdin`'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from officer" -f -a "move" -d 'Move an officer to another team; their next pull delivers the new team\'s records'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from officer" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from export" -l entity -d 'Which records: household or visit' -r -f -a "household\t''
visit\t''"
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from export" -l format -d 'csv (a header row, one column per answer key) or jsonl (one JSON object a line)' -r -f -a "csv\t'CSV with a header row (RFC 4180, UTF-8)'
jsonl\t'One JSON object per line'"
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from export" -l output -d 'Write to this file (replaced only once the export is complete) instead of stdout' -r -F
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from export" -l team -d 'Only this team\'s records' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from export" -l since -d 'Only records changed after this: what the previous export printed (a version with --team; for every team a watermark, one version per team: north:120,south:88)' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from export" -l db -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from export" -l config -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from export" -l timeout -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from export" -l database -d 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from export" -l include-deleted -d 'Include deleted records (tombstones), with `deleted` true'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from export" -l labels -d 'CSV of visits: head answer columns with the form\'s question labels instead of `answers.<name>` (columns follow the form\'s order either way)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from export" -l excel-safe -d 'CSV for a spreadsheet: text cells beginning with =, +, -, @ get a leading \' so they are shown as text, never run as formulas (off by default: it changes the data)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from export" -l json
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from form" -l db -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from form" -l config -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from form" -l timeout -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from form" -l database -d 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from form" -l json
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from form" -s h -l help -d 'Print help'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from form" -f -a "publish" -d 'Publish an XLSForm (an .xlsx workbook, or a folder of survey.csv and choices.csv) as the team\'s next form version; prints the new version number alone on stdout'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from form" -f -a "list" -d 'List published form versions: team, version, form id, title, questions, published'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from form" -f -a "show" -d 'Print one published form version (the team\'s current one by default)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from form" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from purge-tombstones" -l before-version -d 'Delete tombstones whose version is below this (at most the current version)' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from purge-tombstones" -l db -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from purge-tombstones" -l config -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from purge-tombstones" -l timeout -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from purge-tombstones" -l database -d 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from purge-tombstones" -l json
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from purge-tombstones" -s h -l help -d 'Print help'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from trim-ops" -l older-than-days -d 'Forget results received at least this many days ago; 0 forgets every result (a device retrying a push whose answer it lost is then refused, not applied)' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from trim-ops" -l db -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from trim-ops" -l config -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from trim-ops" -l timeout -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from trim-ops" -l database -d 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from trim-ops" -l json
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from trim-ops" -s h -l help -d 'Print help'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from status" -l db -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from status" -l config -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from status" -l timeout -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from status" -l database -d 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from status" -l json -d 'Print JSON instead of text'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from migrate" -l db -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from migrate" -l config -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from migrate" -l timeout -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from migrate" -l database -d 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from migrate" -l json
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from migrate" -s h -l help -d 'Print help'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from backup" -l db -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from backup" -l config -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from backup" -l timeout -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from backup" -l database -d 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]' -r
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from backup" -l json
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from backup" -s h -l help -d 'Print help'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from help" -f -a "officer" -d 'Add, list, revoke and move officers'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from help" -f -a "export" -d 'Export records as CSV or JSON lines for analysis, streamed; prints the version to pass as --since next time'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from help" -f -a "form" -d 'Publish, list and show each team\'s form (XLSForm) versions'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from help" -f -a "purge-tombstones" -d 'Delete tombstones older than a version; cursors older than it must re-sync'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from help" -f -a "trim-ops" -d 'Forget the stored results of changes received more than a number of days ago (op-id retention; `serve` does it every hour with --op-retention-days). A device that sends one of them again is refused `op_expired`, never applied twice'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from help" -f -a "status" -d 'Server version, officers, records, the current version, the history floor and table sizes'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from help" -f -a "migrate" -d 'Create or upgrade the server database\'s schema, then exit. Run it as the schema owner (PostgreSQL), once per upgrade, before starting the new servers; `serve` and the other `admin` commands then need only SELECT/INSERT/UPDATE/DELETE on the tables. PostgreSQL: the database must exist (an empty one gets the whole schema); SQLite: the file must exist (`serve` creates new ones)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from help" -f -a "backup" -d 'Write a consistent copy of a SQLite server database to a new FILE, while the server runs (PostgreSQL: use pg_dump -Fc)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand admin; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand help; and not __fish_seen_subcommand_from init household visit form queue status sync conflicts resolve completions export demo serve admin help" -f -a "init" -d 'Set up this device: which server to sync with, as which officer'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand help; and not __fish_seen_subcommand_from init household visit form queue status sync conflicts resolve completions export demo serve admin help" -f -a "household" -d 'Record and look up households'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand help; and not __fish_seen_subcommand_from init household visit form queue status sync conflicts resolve completions export demo serve admin help" -f -a "visit" -d 'Record and look up visits'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand help; and not __fish_seen_subcommand_from init household visit form queue status sync conflicts resolve completions export demo serve admin help" -f -a "form" -d 'Show the team\'s form (questionnaire), as synced to this device'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand help; and not __fish_seen_subcommand_from init household visit form queue status sync conflicts resolve completions export demo serve admin help" -f -a "queue" -d 'Show the changes waiting to be synced'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand help; and not __fish_seen_subcommand_from init household visit form queue status sync conflicts resolve completions export demo serve admin help" -f -a "status" -d 'Show what is synced, what waits, and what needs attention'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand help; and not __fish_seen_subcommand_from init household visit form queue status sync conflicts resolve completions export demo serve admin help" -f -a "sync" -d 'Push local changes to the server, then pull everyone else\'s'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand help; and not __fish_seen_subcommand_from init household visit form queue status sync conflicts resolve completions export demo serve admin help" -f -a "conflicts" -d 'List records in conflict with the server\'s copy'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand help; and not __fish_seen_subcommand_from init household visit form queue status sync conflicts resolve completions export demo serve admin help" -f -a "resolve" -d 'Settle conflicts, interactively or with flags'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand help; and not __fish_seen_subcommand_from init household visit form queue status sync conflicts resolve completions export demo serve admin help" -f -a "completions" -d 'Print a shell completion script'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand help; and not __fish_seen_subcommand_from init household visit form queue status sync conflicts resolve completions export demo serve admin help" -f -a "export" -d 'Export this laptop\'s records as CSV or JSON lines (e.g. when it is retired)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand help; and not __fish_seen_subcommand_from init household visit form queue status sync conflicts resolve completions export demo serve admin help" -f -a "demo" -d 'Show fieldsync end to end: a local server, three officers of two teams, offline work, sync'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand help; and not __fish_seen_subcommand_from init household visit form queue status sync conflicts resolve completions export demo serve admin help" -f -a "serve" -d 'Run the sync server'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand help; and not __fish_seen_subcommand_from init household visit form queue status sync conflicts resolve completions export demo serve admin help" -f -a "admin" -d 'Manage the sync server\'s officers and tokens'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand help; and not __fish_seen_subcommand_from init household visit form queue status sync conflicts resolve completions export demo serve admin help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand help; and __fish_seen_subcommand_from household" -f -a "add" -d 'Record a new household; prints its id'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand help; and __fish_seen_subcommand_from household" -f -a "edit" -d 'Change a household\'s fields (an empty value clears an optional field)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand help; and __fish_seen_subcommand_from household" -f -a "delete" -d 'Delete a household (it must have no visits left)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand help; and __fish_seen_subcommand_from household" -f -a "list" -d 'List households'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand help; and __fish_seen_subcommand_from household" -f -a "show" -d 'Show one household'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand help; and __fish_seen_subcommand_from household" -f -a "import" -d 'Record many households from a CSV (with a header) or JSON-lines file; `-` reads stdin. Rows imported on this device before are skipped (see --again)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand help; and __fish_seen_subcommand_from visit" -f -a "add" -d 'Record a visit to a household; prints its id. On a terminal, without --answer, walks through the team\'s form question by question (Esc steps back, Ctrl-C discards)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand help; and __fish_seen_subcommand_from visit" -f -a "edit" -d 'Change a visit (an empty value clears notes or gps). On a terminal, without flags, walks through the team\'s form with the visit\'s answers as defaults'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand help; and __fish_seen_subcommand_from visit" -f -a "delete" -d 'Delete a visit'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand help; and __fish_seen_subcommand_from visit" -f -a "list" -d 'List visits'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand help; and __fish_seen_subcommand_from visit" -f -a "show" -d 'Show one visit'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand help; and __fish_seen_subcommand_from visit" -f -a "import" -d 'Record many visits from a CSV (with a header) or JSON-lines file; `-` reads stdin. Rows imported on this device before are skipped (see --again)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand help; and __fish_seen_subcommand_from form" -f -a "show" -d 'Print the team\'s current form as this device holds it (it arrives with `fieldsync sync`); `--json` prints its JSON'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "discard" -d 'Remove changes the server rejected, after saving them (and the records as they are here) to a JSON-lines file next to the database; the records are refreshed from the server with the next sync'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand help; and __fish_seen_subcommand_from admin" -f -a "officer" -d 'Add, list, revoke and move officers'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand help; and __fish_seen_subcommand_from admin" -f -a "export" -d 'Export records as CSV or JSON lines for analysis, streamed; prints the version to pass as --since next time'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand help; and __fish_seen_subcommand_from admin" -f -a "form" -d 'Publish, list and show each team\'s form (XLSForm) versions'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand help; and __fish_seen_subcommand_from admin" -f -a "purge-tombstones" -d 'Delete tombstones older than a version; cursors older than it must re-sync'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand help; and __fish_seen_subcommand_from admin" -f -a "trim-ops" -d 'Forget the stored results of changes received more than a number of days ago (op-id retention; `serve` does it every hour with --op-retention-days). A device that sends one of them again is refused `op_expired`, never applied twice'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand help; and __fish_seen_subcommand_from admin" -f -a "status" -d 'Server version, officers, records, the current version, the history floor and table sizes'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand help; and __fish_seen_subcommand_from admin" -f -a "migrate" -d 'Create or upgrade the server database\'s schema, then exit. Run it as the schema owner (PostgreSQL), once per upgrade, before starting the new servers; `serve` and the other `admin` commands then need only SELECT/INSERT/UPDATE/DELETE on the tables. PostgreSQL: the database must exist (an empty one gets the whole schema); SQLite: the file must exist (`serve` creates new ones)'
complete -c fieldsync -n "__fish_fieldsync_using_subcommand help; and __fish_seen_subcommand_from admin" -f -a "backup" -d 'Write a consistent copy of a SQLite server database to a new FILE, while the server runs (PostgreSQL: use pg_dump -Fc)'
