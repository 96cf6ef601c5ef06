
use builtin;
use str;

set edit:completion:arg-completer[fieldsync] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'fieldsync'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'fieldsync'= {
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --timeout 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand init 'Set up this device: which server to sync with, as which officer'
            cand household 'Record and look up households'
            cand visit 'Record and look up visits'
            cand form 'Show the team''s form (questionnaire), as synced to this device'
            cand queue 'Show the changes waiting to be synced'
            cand status 'Show what is synced, what waits, and what needs attention'
            cand sync 'Push local changes to the server, then pull everyone else''s'
            cand conflicts 'List records in conflict with the server''s copy'
            cand resolve 'Settle conflicts, interactively or with flags'
            cand completions 'Print a shell completion script'
            cand export 'Export this laptop''s records as CSV or JSON lines (e.g. when it is retired)'
            cand demo 'Show fieldsync end to end: a local server, three officers of two teams, offline work, sync'
            cand serve 'Run the sync server'
            cand admin 'Manage the sync server''s officers and tokens'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fieldsync;init'= {
            cand --server 'The sync server''s URL, e.g. https://sync.example.org'
            cand --officer 'Your officer id, as your administrator registered it'
            cand --token 'Your token (visible to other users in the process list; prefer --token-stdin)'
            cand --ca-cert 'Also trust this certificate authority (PEM), for a server whose certificate your organisation issued itself. It is copied beside the config'
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --timeout 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]'
            cand --token-stdin 'Read the token from the first line of stdin'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;household'= {
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --timeout 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
            cand add 'Record a new household; prints its id'
            cand edit 'Change a household''s fields (an empty value clears an optional field)'
            cand delete 'Delete a household (it must have no visits left)'
            cand list 'List households'
            cand show 'Show one household'
            cand import 'Record many households from a CSV (with a header) or JSON-lines file; `-` reads stdin. Rows imported on this device before are skipped (see --again)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fieldsync;household;add'= {
            cand --name 'The household''s name (required, up to 200 characters)'
            cand --village 'The village or neighbourhood, up to 200 characters'
            cand --gps 'Position as LAT,LON in decimal degrees, e.g. -1.2921,36.8219'
            cand --notes 'Free text, up to 4000 characters'
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --timeout 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;household;edit'= {
            cand --name 'A new name (up to 200 characters)'
            cand --village 'A new village; "" clears it'
            cand --gps 'A new position as LAT,LON; "" clears it'
            cand --notes 'New notes (line breaks allowed); "" clears them'
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --timeout 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;household;delete'= {
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --timeout 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;household;list'= {
            cand --state 'Only records in this sync state: pending, syncing, synced or conflict'
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --timeout 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]'
            cand --deleted 'Include deleted records (tombstones)'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;household;show'= {
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --timeout 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;household;import'= {
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --timeout 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]'
            cand --again 'Import every row as a new record, even rows this device imported before'
            cand --coerce 'JSON lines: accept a number where a string belongs when it reads back exactly as written (`42`, `2.5`; never `1e3` or a number too long to keep exactly)'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;household;help'= {
            cand add 'Record a new household; prints its id'
            cand edit 'Change a household''s fields (an empty value clears an optional field)'
            cand delete 'Delete a household (it must have no visits left)'
            cand list 'List households'
            cand show 'Show one household'
            cand import 'Record many households from a CSV (with a header) or JSON-lines file; `-` reads stdin. Rows imported on this device before are skipped (see --again)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fieldsync;household;help;add'= {
        }
        &'fieldsync;household;help;edit'= {
        }
        &'fieldsync;household;help;delete'= {
        }
        &'fieldsync;household;help;list'= {
        }
        &'fieldsync;household;help;show'= {
        }
        &'fieldsync;household;help;import'= {
        }
        &'fieldsync;household;help;help'= {
        }
        &'fieldsync;visit'= {
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --timeout 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
            cand add 'Record a visit to a household; prints its id. On a terminal, without --answer, walks through the team''s form question by question (Esc steps back, Ctrl-C discards)'
            cand edit 'Change a visit (an empty value clears notes or gps). On a terminal, without flags, walks through the team''s form with the visit''s answers as defaults'
            cand delete 'Delete a visit'
            cand list 'List visits'
            cand show 'Show one visit'
            cand import 'Record many visits from a CSV (with a header) or JSON-lines file; `-` reads stdin. Rows imported on this device before are skipped (see --again)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fieldsync;visit;add'= {
            cand --household 'The household: the short id `household list` shows, or its full id'
            cand --notes 'Free text, up to 4000 characters (line breaks allowed)'
            cand --gps 'Position as LAT,LON in decimal degrees, e.g. -1.2921,36.8219'
            cand --answer 'An answer as KEY=VALUE; repeat for more'
            cand --at 'When the visit happened: 2026-11-25T09:30 in this laptop''s zone, or with an offset [default: now]'
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --timeout 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;visit;edit'= {
            cand --notes 'New notes (line breaks allowed); "" clears them'
            cand --gps 'A new position as LAT,LON; "" clears it'
            cand --answer 'Set an answer as KEY=VALUE; repeat for more'
            cand --unset-answer 'Remove an answer; repeat for more'
            cand --at 'A new time for the visit: 2026-11-25T09:30 in this laptop''s zone, or with an offset'
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --timeout 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;visit;delete'= {
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --timeout 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;visit;list'= {
            cand --household 'Only visits to this household (its short id or full id)'
            cand --state 'Only records in this sync state: pending, syncing, synced or conflict'
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --timeout 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]'
            cand --deleted 'Include deleted records (tombstones)'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;visit;show'= {
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --timeout 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;visit;import'= {
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --timeout 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]'
            cand --again 'Import every row as a new record, even rows this device imported before'
            cand --coerce 'JSON lines: accept a number where a string belongs when it reads back exactly as written (`42`, `2.5`; never `1e3` or a number too long to keep exactly)'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;visit;help'= {
            cand add 'Record a visit to a household; prints its id. On a terminal, without --answer, walks through the team''s form question by question (Esc steps back, Ctrl-C discards)'
            cand edit 'Change a visit (an empty value clears notes or gps). On a terminal, without flags, walks through the team''s form with the visit''s answers as defaults'
            cand delete 'Delete a visit'
            cand list 'List visits'
            cand show 'Show one visit'
            cand import 'Record many visits from a CSV (with a header) or JSON-lines file; `-` reads stdin. Rows imported on this device before are skipped (see --again)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fieldsync;visit;help;add'= {
        }
        &'fieldsync;visit;help;edit'= {
        }
        &'fieldsync;visit;help;delete'= {
        }
        &'fieldsync;visit;help;list'= {
        }
        &'fieldsync;visit;help;show'= {
        }
        &'fieldsync;visit;help;import'= {
        }
        &'fieldsync;visit;help;help'= {
        }
        &'fieldsync;form'= {
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --timeout 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
            cand show 'Print the team''s current form as this device holds it (it arrives with `fieldsync sync`); `--json` prints its JSON'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fieldsync;form;show'= {
            cand --version 'Another version this device holds [default: the current one]'
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --timeout 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;form;help'= {
            cand show 'Print the team''s current form as this device holds it (it arrives with `fieldsync sync`); `--json` prints its JSON'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fieldsync;form;help;show'= {
        }
        &'fieldsync;form;help;help'= {
        }
        &'fieldsync;queue'= {
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --timeout 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]'
            cand --rejected 'Only entries the server rejected (with their errors)'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
            cand discard 'Remove changes the server rejected, after saving them (and the records as they are here) to a JSON-lines file next to the database; the records are refreshed from the server with the next sync'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fieldsync;queue;discard'= {
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --timeout 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]'
            cand --rejected 'Discard every rejected change'
            cand -y 'Do not ask (required without a terminal)'
            cand --yes 'Do not ask (required without a terminal)'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;queue;help'= {
            cand discard 'Remove changes the server rejected, after saving them (and the records as they are here) to a JSON-lines file next to the database; the records are refreshed from the server with the next sync'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fieldsync;queue;help;discard'= {
        }
        &'fieldsync;queue;help;help'= {
        }
        &'fieldsync;status'= {
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --timeout 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;sync'= {
            cand --batch-size 'Changes per push request (1 to 500)'
            cand --page-size 'Records per pull page (1 to 1000)'
            cand --interval 'Time between syncs in --watch mode, e.g. 30s, 15m, 1h [default: 15m]; needs --watch'
            cand --retries 'Attempts per request before giving up on a transient failure'
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --timeout 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]'
            cand --watch 'Keep running: sync every --interval (with jitter), soon after local changes, and back off while offline. Ctrl-C or SIGTERM stops after the current batch; a second one quits at once (exit 130, nothing is lost)'
            cand -q 'Print nothing on success'
            cand --quiet 'Print nothing on success'
            cand --allow-insecure-http 'Allow plain http:// to a server that is not on this machine'
            cand --adopt-server 'Sync with a server database other than the one this device synced with (a rebuilt or new server): send it every local record it lacks, then pull the rest from scratch'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;conflicts'= {
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --timeout 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;resolve'= {
            cand --keep 'Keep my side or the server''s for every colliding field (and for delete-vs-edit: mine keeps what this device did, theirs what the server did)'
            cand --field 'Decide one field: FIELD=mine or FIELD=theirs (e.g. notes=mine, answers.crop=theirs). Fields not named keep --keep, or are required'
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --timeout 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]'
            cand --all 'Settle every conflict (with --keep), without prompting'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;completions'= {
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --timeout 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;export'= {
            cand --entity 'Which records: household or visit'
            cand --format 'csv (a header row, one column per answer key) or jsonl (one JSON object a line)'
            cand --output 'Write to this file (replaced only once the export is complete) instead of stdout'
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --timeout 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]'
            cand --include-deleted 'Include deleted records (tombstones), with `deleted` true'
            cand --labels 'CSV of visits: head answer columns with the form''s question labels instead of `answers.<name>` (columns follow the form''s order either way)'
            cand --excel-safe 'CSV for a spreadsheet: text cells beginning with =, +, -, @ get a leading '' so they are shown as text, never run as formulas (off by default: it changes the data)'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'fieldsync;demo'= {
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --timeout 'How long to wait for the server to answer one request, e.g. 10s, 2m [default: 30s]'
            cand --keep 'Keep the demo''s folder (server database, officers'' databases and configs) afterwards'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;serve'= {
            cand --listen 'Address to listen on; port 0 picks a free port'
            cand --database 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stdout after the `listening on` line]'
            cand --tls-cert 'PEM certificate chain for HTTPS (needs --tls-key)'
            cand --tls-key 'PEM private key for HTTPS (needs --tls-cert)'
            cand --max-inflight 'Most requests in flight; beyond it the server answers 503 with Retry-After'
            cand --max-body-memory-mib 'Most memory all request bodies may hold at once, in MiB; beyond it the server answers 503 with Retry-After'
            cand --log-format 'Log lines on stderr as `text` or `json` (one object a line). The level comes from FIELDSYNC_LOG (or RUST_LOG), default `info`'
            cand --pool-size 'PostgreSQL: most connections this process opens (keep processes × pool size below the database''s max_connections). A request that finds every connection busy for 5 s is answered 503 with Retry-After; connections idle for 2 minutes are closed'
            cand --metrics 'Who may read the Prometheus metrics at /metrics: `loopback` (clients on this host), `public` (everyone who reaches the port) or `off`'
            cand --op-retention-days 'Days the server keeps each change''s stored result (what makes a retried push apply once); older ones are forgotten every hour, and a device sending one again is refused `op_expired`, never applied twice. Keep it longer than any device stays offline'
            cand --db 'db'
            cand --config 'config'
            cand --timeout 'timeout'
            cand --json 'json'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;admin'= {
            cand --database 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]'
            cand --db 'db'
            cand --config 'config'
            cand --timeout 'timeout'
            cand --json 'json'
            cand -h 'Print help'
            cand --help 'Print help'
            cand officer 'Add, list, revoke and move officers'
            cand export 'Export records as CSV or JSON lines for analysis, streamed; prints the version to pass as --since next time'
            cand form 'Publish, list and show each team''s form (XLSForm) versions'
            cand purge-tombstones 'Delete tombstones older than a version; cursors older than it must re-sync'
            cand trim-ops 'Forget the stored results of changes received more than a number of days ago (op-id retention; `serve` does it every hour with --op-retention-days). A device that sends one of them again is refused `op_expired`, never applied twice'
            cand status 'Server version, officers, records, the current version, the history floor and table sizes'
            cand migrate 'Create or upgrade the server database''s schema, then exit. Run it as the schema owner (PostgreSQL), once per upgrade, before starting the new servers; `serve` and the other `admin` commands then need only SELECT/INSERT/UPDATE/DELETE on the tables. PostgreSQL: the database must exist (an empty one gets the whole schema); SQLite: the file must exist (`serve` creates new ones)'
            cand backup 'Write a consistent copy of a SQLite server database to a new FILE, while the server runs (PostgreSQL: use pg_dump -Fc)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fieldsync;admin;officer'= {
            cand --db 'db'
            cand --config 'config'
            cand --timeout 'timeout'
            cand --database 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]'
            cand --json 'json'
            cand -h 'Print help'
            cand --help 'Print help'
            cand add 'Add an officer and print their new token (once, alone on stdout)'
            cand list 'List officers: team, last push, last pull, changes pushed, revoked'
            cand revoke 'Revoke an officer''s token at once'
            cand token 'Issue a new token (printed once, alone on stdout): the old one stops working at once, and a revocation is lifted. The officer then runs `fieldsync init --token-stdin`'
            cand move 'Move an officer to another team; their next pull delivers the new team''s records'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fieldsync;admin;officer;add'= {
            cand --team 'The team whose households and visits the officer sees and edits'
            cand --db 'db'
            cand --config 'config'
            cand --timeout 'timeout'
            cand --database 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]'
            cand --json 'json'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;admin;officer;list'= {
            cand --silent-for 'Only officers who have not synced (no push, no pull) for this long: 7d, 12h, 30m. Officers who never synced count from when they were added'
            cand --db 'db'
            cand --config 'config'
            cand --timeout 'timeout'
            cand --database 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]'
            cand --json 'Print JSON instead of a table'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;admin;officer;revoke'= {
            cand --db 'db'
            cand --config 'config'
            cand --timeout 'timeout'
            cand --database 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]'
            cand --json 'json'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;admin;officer;token'= {
            cand --db 'db'
            cand --config 'config'
            cand --timeout 'timeout'
            cand --database 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]'
            cand --json 'json'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;admin;officer;move'= {
            cand --team 'The team the officer joins'
            cand --db 'db'
            cand --config 'config'
            cand --timeout 'timeout'
            cand --database 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]'
            cand --json 'json'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;admin;officer;help'= {
            cand add 'Add an officer and print their new token (once, alone on stdout)'
            cand list 'List officers: team, last push, last pull, changes pushed, revoked'
            cand revoke 'Revoke an officer''s token at once'
            cand token 'Issue a new token (printed once, alone on stdout): the old one stops working at once, and a revocation is lifted. The officer then runs `fieldsync init --token-stdin`'
            cand move 'Move an officer to another team; their next pull delivers the new team''s records'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fieldsync;admin;officer;help;add'= {
        }
        &'fieldsync;admin;officer;help;list'= {
        }
        &'fieldsync;admin;officer;help;revoke'= {
        }
        &'fieldsync;admin;officer;help;token'= {
        }
        &'fieldsync;admin;officer;help;move'= {
        }
        &'fieldsync;admin;officer;help;help'= {
        }
        &'fieldsync;admin;export'= {
            cand --entity 'Which records: household or visit'
            cand --format 'csv (a header row, one column per answer key) or jsonl (one JSON object a line)'
            cand --output 'Write to this file (replaced only once the export is complete) instead of stdout'
            cand --team 'Only this team''s records'
            cand --since 'Only records changed after this: what the previous export printed (a version with --team; for every team a watermark, one version per team: north:120,south:88)'
            cand --db 'db'
            cand --config 'config'
            cand --timeout 'timeout'
            cand --database 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]'
            cand --include-deleted 'Include deleted records (tombstones), with `deleted` true'
            cand --labels 'CSV of visits: head answer columns with the form''s question labels instead of `answers.<name>` (columns follow the form''s order either way)'
            cand --excel-safe 'CSV for a spreadsheet: text cells beginning with =, +, -, @ get a leading '' so they are shown as text, never run as formulas (off by default: it changes the data)'
            cand --json 'json'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'fieldsync;admin;form'= {
            cand --db 'db'
            cand --config 'config'
            cand --timeout 'timeout'
            cand --database 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]'
            cand --json 'json'
            cand -h 'Print help'
            cand --help 'Print help'
            cand publish 'Publish an XLSForm (an .xlsx workbook, or a folder of survey.csv and choices.csv) as the team''s next form version; prints the new version number alone on stdout'
            cand list 'List published form versions: team, version, form id, title, questions, published'
            cand show 'Print one published form version (the team''s current one by default)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fieldsync;admin;form;publish'= {
            cand --team 'The team whose officers fill this form'
            cand --db 'db'
            cand --config 'config'
            cand --timeout 'timeout'
            cand --database 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]'
            cand --json 'json'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;admin;form;list'= {
            cand --team 'Only this team''s versions'
            cand --db 'db'
            cand --config 'config'
            cand --timeout 'timeout'
            cand --database 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]'
            cand --json 'Print JSON instead of a table'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;admin;form;show'= {
            cand --team 'The team whose form to show'
            cand --version 'The version to show [default: the current one]'
            cand --db 'db'
            cand --config 'config'
            cand --timeout 'timeout'
            cand --database 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]'
            cand --json 'Print the form''s JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;admin;form;help'= {
            cand publish 'Publish an XLSForm (an .xlsx workbook, or a folder of survey.csv and choices.csv) as the team''s next form version; prints the new version number alone on stdout'
            cand list 'List published form versions: team, version, form id, title, questions, published'
            cand show 'Print one published form version (the team''s current one by default)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fieldsync;admin;form;help;publish'= {
        }
        &'fieldsync;admin;form;help;list'= {
        }
        &'fieldsync;admin;form;help;show'= {
        }
        &'fieldsync;admin;form;help;help'= {
        }
        &'fieldsync;admin;purge-tombstones'= {
            cand --before-version 'Delete tombstones whose version is below this (at most the current version)'
            cand --db 'db'
            cand --config 'config'
            cand --timeout 'timeout'
            cand --database 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]'
            cand --json 'json'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;admin;trim-ops'= {
            cand --older-than-days 'Forget results received at least this many days ago; 0 forgets every result (a device retrying a push whose answer it lost is then refused, not applied)'
            cand --db 'db'
            cand --config 'config'
            cand --timeout 'timeout'
            cand --database 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]'
            cand --json 'json'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;admin;status'= {
            cand --db 'db'
            cand --config 'config'
            cand --timeout 'timeout'
            cand --database 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]'
            cand --json 'Print JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;admin;migrate'= {
            cand --db 'db'
            cand --config 'config'
            cand --timeout 'timeout'
            cand --database 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]'
            cand --json 'json'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;admin;backup'= {
            cand --db 'db'
            cand --config 'config'
            cand --timeout 'timeout'
            cand --database 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]'
            cand --json 'json'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;admin;help'= {
            cand officer 'Add, list, revoke and move officers'
            cand export 'Export records as CSV or JSON lines for analysis, streamed; prints the version to pass as --since next time'
            cand form 'Publish, list and show each team''s form (XLSForm) versions'
            cand purge-tombstones 'Delete tombstones older than a version; cursors older than it must re-sync'
            cand trim-ops 'Forget the stored results of changes received more than a number of days ago (op-id retention; `serve` does it every hour with --op-retention-days). A device that sends one of them again is refused `op_expired`, never applied twice'
            cand status 'Server version, officers, records, the current version, the history floor and table sizes'
            cand migrate 'Create or upgrade the server database''s schema, then exit. Run it as the schema owner (PostgreSQL), once per upgrade, before starting the new servers; `serve` and the other `admin` commands then need only SELECT/INSERT/UPDATE/DELETE on the tables. PostgreSQL: the database must exist (an empty one gets the whole schema); SQLite: the file must exist (`serve` creates new ones)'
            cand backup 'Write a consistent copy of a SQLite server database to a new FILE, while the server runs (PostgreSQL: use pg_dump -Fc)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fieldsync;admin;help;officer'= {
            cand add 'Add an officer and print their new token (once, alone on stdout)'
            cand list 'List officers: team, last push, last pull, changes pushed, revoked'
            cand revoke 'Revoke an officer''s token at once'
            cand token 'Issue a new token (printed once, alone on stdout): the old one stops working at once, and a revocation is lifted. The officer then runs `fieldsync init --token-stdin`'
            cand move 'Move an officer to another team; their next pull delivers the new team''s records'
        }
        &'fieldsync;admin;help;officer;add'= {
        }
        &'fieldsync;admin;help;officer;list'= {
        }
        &'fieldsync;admin;help;officer;revoke'= {
        }
        &'fieldsync;admin;help;officer;token'= {
        }
        &'fieldsync;admin;help;officer;move'= {
        }
        &'fieldsync;admin;help;export'= {
        }
        &'fieldsync;admin;help;form'= {
            cand publish 'Publish an XLSForm (an .xlsx workbook, or a folder of survey.csv and choices.csv) as the team''s next form version; prints the new version number alone on stdout'
            cand list 'List published form versions: team, version, form id, title, questions, published'
            cand show 'Print one published form version (the team''s current one by default)'
        }
        &'fieldsync;admin;help;form;publish'= {
        }
        &'fieldsync;admin;help;form;list'= {
        }
        &'fieldsync;admin;help;form;show'= {
        }
        &'fieldsync;admin;help;purge-tombstones'= {
        }
        &'fieldsync;admin;help;trim-ops'= {
        }
        &'fieldsync;admin;help;status'= {
        }
        &'fieldsync;admin;help;migrate'= {
        }
        &'fieldsync;admin;help;backup'= {
        }
        &'fieldsync;admin;help;help'= {
        }
        &'fieldsync;help'= {
            cand init 'Set up this device: which server to sync with, as which officer'
            cand household 'Record and look up households'
            cand visit 'Record and look up visits'
            cand form 'Show the team''s form (questionnaire), as synced to this device'
            cand queue 'Show the changes waiting to be synced'
            cand status 'Show what is synced, what waits, and what needs attention'
            cand sync 'Push local changes to the server, then pull everyone else''s'
            cand conflicts 'List records in conflict with the server''s copy'
            cand resolve 'Settle conflicts, interactively or with flags'
            cand completions 'Print a shell completion script'
            cand export 'Export this laptop''s records as CSV or JSON lines (e.g. when it is retired)'
            cand demo 'Show fieldsync end to end: a local server, three officers of two teams, offline work, sync'
            cand serve 'Run the sync server'
            cand admin 'Manage the sync server''s officers and tokens'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fieldsync;help;init'= {
        }
        &'fieldsync;help;household'= {
            cand add 'Record a new household; prints its id'
            cand edit 'Change a household''s fields (an empty value clears an optional field)'
            cand delete 'Delete a household (it must have no visits left)'
            cand list 'List households'
            cand show 'Show one household'
            cand import 'Record many households from a CSV (with a header) or JSON-lines file; `-` reads stdin. Rows imported on this device before are skipped (see --again)'
        }
        &'fieldsync;help;household;add'= {
        }
        &'fieldsync;help;household;edit'= {
        }
        &'fieldsync;help;household;delete'= {
        }
        &'fieldsync;help;household;list'= {
        }
        &'fieldsync;help;household;show'= {
        }
        &'fieldsync;help;household;import'= {
        }
        &'fieldsync;help;visit'= {
            cand add 'Record a visit to a household; prints its id. On a terminal, without --answer, walks through the team''s form question by question (Esc steps back, Ctrl-C discards)'
            cand edit 'Change a visit (an empty value clears notes or gps). On a terminal, without flags, walks through the team''s form with the visit''s answers as defaults'
            cand delete 'Delete a visit'
            cand list 'List visits'
            cand show 'Show one visit'
            cand import 'Record many visits from a CSV (with a header) or JSON-lines file; `-` reads stdin. Rows imported on this device before are skipped (see --again)'
        }
        &'fieldsync;help;visit;add'= {
        }
        &'fieldsync;help;visit;edit'= {
        }
        &'fieldsync;help;visit;delete'= {
        }
        &'fieldsync;help;visit;list'= {
        }
        &'fieldsync;help;visit;show'= {
        }
        &'fieldsync;help;visit;import'= {
        }
        &'fieldsync;help;form'= {
            cand show 'Print the team''s current form as this device holds it (it arrives with `fieldsync sync`); `--json` prints its JSON'
        }
        &'fieldsync;help;form;show'= {
        }
        &'fieldsync;help;queue'= {
            cand discard 'Remove changes the server rejected, after saving them (and the records as they are here) to a JSON-lines file next to the database; the records are refreshed from the server with the next sync'
        }
        &'fieldsync;help;queue;discard'= {
        }
        &'fieldsync;help;status'= {
        }
        &'fieldsync;help;sync'= {
        }
        &'fieldsync;help;conflicts'= {
        }
        &'fieldsync;help;resolve'= {
        }
        &'fieldsync;help;completions'= {
        }
        &'fieldsync;help;export'= {
        }
        &'fieldsync;help;demo'= {
        }
        &'fieldsync;help;serve'= {
        }
        &'fieldsync;help;admin'= {
            cand officer 'Add, list, revoke and move officers'
            cand export 'Export records as CSV or JSON lines for analysis, streamed; prints the version to pass as --since next time'
            cand form 'Publish, list and show each team''s form (XLSForm) versions'
            cand purge-tombstones 'Delete tombstones older than a version; cursors older than it must re-sync'
            cand trim-ops 'Forget the stored results of changes received more than a number of days ago (op-id retention; `serve` does it every hour with --op-retention-days). A device that sends one of them again is refused `op_expired`, never applied twice'
            cand status 'Server version, officers, records, the current version, the history floor and table sizes'
            cand migrate 'Create or upgrade the server database''s schema, then exit. Run it as the schema owner (PostgreSQL), once per upgrade, before starting the new servers; `serve` and the other `admin` commands then need only SELECT/INSERT/UPDATE/DELETE on the tables. PostgreSQL: the database must exist (an empty one gets the whole schema); SQLite: the file must exist (`serve` creates new ones)'
            cand backup 'Write a consistent copy of a SQLite server database to a new FILE, while the server runs (PostgreSQL: use pg_dump -Fc)'
        }
        &'fieldsync;help;admin;officer'= {
            cand add 'Add an officer and print their new token (once, alone on stdout)'
            cand list 'List officers: team, last push, last pull, changes pushed, revoked'
            cand revoke 'Revoke an officer''s token at once'
            cand token 'Issue a new token (printed once, alone on stdout): the old one stops working at once, and a revocation is lifted. The officer then runs `fieldsync init --token-stdin`'
            cand move 'Move an officer to another team; their next pull delivers the new team''s records'
        }
        &'fieldsync;help;admin;officer;add'= {
        }
        &'fieldsync;help;admin;officer;list'= {
        }
        &'fieldsync;help;admin;officer;revoke'= {
        }
        &'fieldsync;help;admin;officer;token'= {
        }
        &'fieldsync;help;admin;officer;move'= {
        }
        &'fieldsync;help;admin;export'= {
        }
        &'fieldsync;help;admin;form'= {
            cand publish 'Publish an XLSForm (an .xlsx workbook, or a folder of survey.csv and choices.csv) as the team''s next form version; prints the new version number alone on stdout'
            cand list 'List published form versions: team, version, form id, title, questions, published'
            cand show 'Print one published form version (the team''s current one by default)'
        }
        &'fieldsync;help;admin;form;publish'= {
        }
        &'fieldsync;help;admin;form;list'= {
        }
        &'fieldsync;help;admin;form;show'= {
        }
        &'fieldsync;help;admin;purge-tombstones'= {
        }
        &'fieldsync;help;admin;trim-ops'= {
        }
        &'fieldsync;help;admin;status'= {
        }
        &'fieldsync;help;admin;migrate'= {
        }
        &'fieldsync;help;admin;backup'= {
        }
        &'fieldsync;help;help'= {
        }
    ]
    $completions[$command]
}
