
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
            cand serve 'Run the sync server'
            cand admin 'Manage the sync server''s officers and tokens'
            cand demo 'Show fieldsync end to end: a local server, two officers, offline work, sync'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fieldsync;init'= {
            cand --server 'The sync server''s URL, e.g. https://sync.example.org'
            cand --officer 'Your officer id, as your administrator registered it'
            cand --token 'Your token (visible to other users in the process list; prefer --token-stdin)'
            cand --ca-cert 'Also trust this certificate authority (PEM), for a server whose certificate your organisation issued itself. It is copied beside the config'
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --token-stdin 'Read the token from the first line of stdin'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;household'= {
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
            cand add 'Record a new household; prints its id'
            cand edit 'Change a household''s fields (an empty value clears an optional field)'
            cand delete 'Delete a household (it must have no visits left)'
            cand list 'List households'
            cand show 'Show one household'
            cand import 'Record many households from a CSV (with a header) or JSON-lines file; `-` reads stdin'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fieldsync;household;add'= {
            cand --name 'The household''s name (required, up to 200 characters)'
            cand --village 'village'
            cand --gps 'Position as LAT,LON in decimal degrees, e.g. -1.2921,36.8219'
            cand --notes 'Free text, up to 4000 characters'
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;household;edit'= {
            cand --name 'name'
            cand --village 'village'
            cand --gps 'gps'
            cand --notes 'notes'
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;household;delete'= {
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;household;list'= {
            cand --state 'Only records in this sync state: pending, syncing, synced or conflict'
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --deleted 'Include deleted records (tombstones)'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;household;show'= {
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;household;import'= {
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
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
            cand import 'Record many households from a CSV (with a header) or JSON-lines file; `-` reads stdin'
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
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
            cand add 'Record a visit to a household; prints its id'
            cand edit 'Change a visit (an empty value clears notes or gps)'
            cand delete 'Delete a visit'
            cand list 'List visits'
            cand show 'Show one visit'
            cand import 'Record many visits from a CSV (with a header) or JSON-lines file; `-` reads stdin'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fieldsync;visit;add'= {
            cand --household 'The household''s id, or any unique prefix of it'
            cand --notes 'notes'
            cand --gps 'gps'
            cand --answer 'An answer as KEY=VALUE; repeat for more'
            cand --at 'When the visit happened (RFC 3339, e.g. 2026-11-25T09:30:00Z) [default: now]'
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;visit;edit'= {
            cand --notes 'notes'
            cand --gps 'gps'
            cand --answer 'answer'
            cand --unset-answer 'Remove an answer; repeat for more'
            cand --at 'at'
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;visit;delete'= {
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;visit;list'= {
            cand --household 'Only visits to this household (id or prefix)'
            cand --state 'Only records in this sync state: pending, syncing, synced or conflict'
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --deleted 'Include deleted records (tombstones)'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;visit;show'= {
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;visit;import'= {
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;visit;help'= {
            cand add 'Record a visit to a household; prints its id'
            cand edit 'Change a visit (an empty value clears notes or gps)'
            cand delete 'Delete a visit'
            cand list 'List visits'
            cand show 'Show one visit'
            cand import 'Record many visits from a CSV (with a header) or JSON-lines file; `-` reads stdin'
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
            cand --watch 'Keep running: sync every --interval (with jitter), soon after local changes, and back off while offline. Ctrl-C or SIGTERM stops after the current batch'
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
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;resolve'= {
            cand --keep 'Keep my side or the server''s for every colliding field (and for delete-vs-edit: mine keeps what this device did, theirs what the server did)'
            cand --field 'Decide one field: FIELD=mine or FIELD=theirs (e.g. notes=mine, answers.crop=theirs). Fields not named keep --keep, or are required'
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --all 'Settle every conflict (with --keep), without prompting'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;completions'= {
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
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
            cand --include-deleted 'Include deleted records (tombstones), with `deleted` true'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'fieldsync;serve'= {
            cand --listen 'Address to listen on; port 0 picks a free port'
            cand --database 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stdout after the `listening on` line]'
            cand --tls-cert 'PEM certificate chain for HTTPS (needs --tls-key)'
            cand --tls-key 'PEM private key for HTTPS (needs --tls-cert)'
            cand --max-inflight 'Most requests in flight; beyond it the server answers 503 with Retry-After'
            cand --max-body-memory-mib 'Most memory all request bodies may hold at once, in MiB; beyond it the server answers 503 with Retry-After'
            cand --log-format 'Log lines on stderr as `text` or `json` (one object a line). The level comes from FIELDSYNC_LOG (or RUST_LOG), default `info`'
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;admin'= {
            cand --database 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]'
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
            cand officer 'Add, list, revoke and move officers'
            cand export 'Export records as CSV or JSON lines for analysis, streamed; prints the version to pass as --since next time'
            cand form 'Publish, list and show each team''s form (XLSForm) versions'
            cand purge-tombstones 'Delete tombstones older than a version; cursors older than it must re-sync'
            cand status 'Server version, officers, records, the current version and the history floor'
            cand backup 'Write a consistent copy of a SQLite server database to a new FILE, while the server runs (PostgreSQL: use pg_dump -Fc)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fieldsync;admin;officer'= {
            cand --database 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]'
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --json 'Print machine-readable JSON instead of text'
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
            cand --team 'team'
            cand --database 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]'
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;admin;officer;list'= {
            cand --silent-for 'Only officers who have not synced (no push, no pull) for this long: 7d, 12h, 30m. Officers who never synced count from when they were added'
            cand --database 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]'
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --json 'Print JSON instead of a table'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;admin;officer;revoke'= {
            cand --database 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]'
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;admin;officer;token'= {
            cand --database 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]'
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;admin;officer;move'= {
            cand --team 'team'
            cand --database 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]'
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --json 'Print machine-readable JSON instead of text'
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
            cand --since 'Only records changed after this version (the one the previous export printed)'
            cand --database 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]'
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --include-deleted 'Include deleted records (tombstones), with `deleted` true'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'fieldsync;admin;form'= {
            cand --database 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]'
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
            cand publish 'Publish an XLSForm (an .xlsx workbook, or a folder of survey.csv and choices.csv) as the team''s next form version; prints the new version number alone on stdout'
            cand list 'List published form versions: team, version, form id, title, questions, published'
            cand show 'Print one published form version (the team''s current one by default)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'fieldsync;admin;form;publish'= {
            cand --team 'The team whose officers fill this form'
            cand --database 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]'
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;admin;form;list'= {
            cand --team 'Only this team''s versions'
            cand --database 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]'
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --json 'Print JSON instead of a table'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;admin;form;show'= {
            cand --team 'team'
            cand --version 'The version to show [default: the current one]'
            cand --database 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]'
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
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
            cand --database 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]'
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;admin;status'= {
            cand --database 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]'
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --json 'Print JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;admin;backup'= {
            cand --database 'sqlite:PATH, a path ending in .sqlite3 or .db, a postgres:// URL or a libpq "key=value ..." string; anything else is refused (exit 78) [default: server.sqlite3 in the data dir, announced on stderr]'
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'fieldsync;admin;help'= {
            cand officer 'Add, list, revoke and move officers'
            cand export 'Export records as CSV or JSON lines for analysis, streamed; prints the version to pass as --since next time'
            cand form 'Publish, list and show each team''s form (XLSForm) versions'
            cand purge-tombstones 'Delete tombstones older than a version; cursors older than it must re-sync'
            cand status 'Server version, officers, records, the current version and the history floor'
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
        &'fieldsync;admin;help;status'= {
        }
        &'fieldsync;admin;help;backup'= {
        }
        &'fieldsync;admin;help;help'= {
        }
        &'fieldsync;demo'= {
            cand --db 'The local database [default: fieldsync.sqlite3 in the user''s data directory]'
            cand --config 'The config file [default: config.toml in the user''s config directory]'
            cand --keep 'Keep the demo''s folder (server database, officers'' databases and configs) afterwards'
            cand --json 'Print machine-readable JSON instead of text'
            cand -h 'Print help'
            cand --help 'Print help'
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
            cand serve 'Run the sync server'
            cand admin 'Manage the sync server''s officers and tokens'
            cand demo 'Show fieldsync end to end: a local server, two officers, offline work, sync'
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
            cand import 'Record many households from a CSV (with a header) or JSON-lines file; `-` reads stdin'
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
            cand add 'Record a visit to a household; prints its id'
            cand edit 'Change a visit (an empty value clears notes or gps)'
            cand delete 'Delete a visit'
            cand list 'List visits'
            cand show 'Show one visit'
            cand import 'Record many visits from a CSV (with a header) or JSON-lines file; `-` reads stdin'
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
        &'fieldsync;help;serve'= {
        }
        &'fieldsync;help;admin'= {
            cand officer 'Add, list, revoke and move officers'
            cand export 'Export records as CSV or JSON lines for analysis, streamed; prints the version to pass as --since next time'
            cand form 'Publish, list and show each team''s form (XLSForm) versions'
            cand purge-tombstones 'Delete tombstones older than a version; cursors older than it must re-sync'
            cand status 'Server version, officers, records, the current version and the history floor'
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
        &'fieldsync;help;admin;status'= {
        }
        &'fieldsync;help;admin;backup'= {
        }
        &'fieldsync;help;demo'= {
        }
        &'fieldsync;help;help'= {
        }
    ]
    $completions[$command]
}
