#!/usr/bin/env bash
# The session-6 measurements of docs/performance.md: one 100,000-visit push, then fresh pulls,
# each timed with the CPU of the laptop, the server and PostgreSQL's processes split out.
#
#   bash benches/scripts/backlog_split.sh sqlite|pg [PULLS]
#
# Builds nothing: it runs target/release/fieldsync (or $BIN). The laptop that pushes has
# synced once before its 100,000 visits are recorded, as the bench's does; FIRST=1 skips
# that sync (a laptop's first sync after a week offline). PULLS (default 3) fresh laptops
# then pull everything. `pg` starts a throwaway PostgreSQL 15 cluster and must run as root
# (as the tests do). Everything lives in a temporary folder, removed at the end; the server
# listens on 127.0.0.1:7801 (PostgreSQL on 7802).
set -euo pipefail
KIND=${1:?usage: backlog_split.sh sqlite|pg [PULLS]}
PULLS=${2:-3}
BIN=${BIN:-$(cd "$(dirname "$0")/../.." && pwd)/target/release/fieldsync}
PG_BIN=/usr/lib/postgresql/15/bin
W=$(mktemp -d); chmod 755 "$W"
SERVE=""
cleanup() {
  [ -n "$SERVE" ] && kill "$SERVE" 2>/dev/null || true
  [ "$KIND" = pg ] && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$W/pgdata" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$W"
}
trap cleanup EXIT
if [ "$KIND" = pg ]; then
  mkdir -p "$W/pgdata" "$W/sock"; chown postgres "$W/pgdata" "$W/sock"
  runuser -u postgres -- "$PG_BIN/initdb" -D "$W/pgdata" -U postgres --auth=trust >/dev/null
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$W/pgdata" -w -l "$W/pgdata/pg.log" \
    -o "-p 7802 -k $W/sock -c listen_addresses=127.0.0.1" start >/dev/null
  DB=postgres://postgres@127.0.0.1:7802/postgres
else
  DB=sqlite:$W/server.sqlite3
fi
"$BIN" serve --listen 127.0.0.1:7801 --database "$DB" > "$W/serve.log" 2>&1 &
SERVE=$!
sleep 1.5
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
# PostgreSQL: the postmaster with its reaped backends, plus the live ones.
pgcpu() {
  local t=0 pm
  [ "$KIND" = pg ] || { echo 0; return; }
  pm=$(head -1 "$W/pgdata/postmaster.pid")
  t=$(awk '{print $14+$15+$16+$17}' "/proc/$pm/stat")
  for c in $(pgrep -P "$pm"); do t=$((t + $(cpu "$c" 2>/dev/null || echo 0))); done
  echo "$t"
}
secs() { echo "scale=2; $1/$(getconf CLK_TCK)" | bc; }
laptop() { # officer
  "$BIN" admin --database "$DB" officer add "$1" --team north > "$W/tok_$1" 2>/dev/null
  FIELDSYNC_DB=$W/$1.db FIELDSYNC_CONFIG=$W/$1.toml \
    "$BIN" init --server http://127.0.0.1:7801 --officer "$1" --token-stdin < "$W/tok_$1" >/dev/null 2>&1
}
timed_sync() { # officer label
  local s0 p0 wall u sy
  s0=$(cpu "$SERVE"); p0=$(pgcpu)
  FIELDSYNC_DB=$W/$1.db FIELDSYNC_CONFIG=$W/$1.toml /usr/bin/time -f "%e %U %S" -o "$W/time" \
    "$BIN" sync --json > "$W/out.json"
  read -r wall u sy < "$W/time"
  echo "$2: wall ${wall} s, laptop CPU $(echo "$u+$sy" | bc) s, server CPU $(secs $(( $(cpu "$SERVE") - s0 ))) s, PostgreSQL CPU $(secs $(( $(pgcpu) - p0 ))) s;" \
    "$(python3 -c "import json; d=json.load(open('$W/out.json')); print(', '.join(f'{k} {d[k]}' for k in ('pushed', 'pulled', 'requests', 'push_ms', 'pull_ms')))")"
}
laptop a
export FIELDSYNC_DB=$W/a.db FIELDSYNC_CONFIG=$W/a.toml
[ -z "${FIRST:-}" ] && "$BIN" sync >/dev/null
H=$("$BIN" household add --name "Backlog farm")
python3 - "$H" > "$W/visits.jsonl" <<'PY'
import json, sys
h = sys.argv[1]
for i in range(99999):
    print(json.dumps({"household_id": h, "visited_at": "2026-11-20T09:30:00Z",
                      "notes": f"visit {i}: follow-up on the water point",
                      "gps": [-1.2921 + (i % 1000) * 1e-5, 36.8219],
                      "answers": {"crop": "maize", "household_size": str(i % 9 + 1)}}))
PY
"$BIN" visit import "$W/visits.jsonl" >/dev/null 2>&1
unset FIELDSYNC_DB FIELDSYNC_CONFIG
timed_sync a "push ($KIND)"
for i in $(seq 1 "$PULLS"); do
  laptop "p$i"
  timed_sync "p$i" "fresh pull $i ($KIND)"
done
