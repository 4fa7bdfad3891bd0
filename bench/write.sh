#!/usr/bin/env bash
# Write throughput: wrk POSTs ideas (each with its own Idempotency-Key, an audit record, a
# change event and tags) for DURATION on SQLite and on PostgreSQL, then counts the rows and
# checks they equal the 201s wrk received. Release build.
#
#   bash bench/write.sh              # DURATION=10s CONNECTIONS=16; BACKENDS="sqlite postgres"
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-16}
BACKENDS=${BACKENDS:-"sqlite postgres"}
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null; }
cargo build --release -q
work=$(mktemp -d); chmod 755 "$work"; server=""; pg_dir=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; [ -n "$pg_dir" ] && bash .ci/pg-stop "$pg_dir" >/dev/null 2>&1; rm -rf "$work"' EXIT
cat > "$work/post.lua" <<'LUA'
local counter = 0
local thread_id = 0
setup = function(thread) thread_id = thread_id + 1; thread:set("tid", thread_id) end
request = function()
  counter = counter + 1
  local body = string.format('{"title": "Idea %d-%d", "kind": "idea_problem", "received_on": "2026-01-05", "tags": ["bench"]}', tid, counter)
  return wrk.format("POST", "/api/v1/ideas", {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. key,
    ["Idempotency-Key"] = string.format("bench-%d-%d", tid, counter)}, body)
end
local created = 0
response = function(status) if status == 201 then created = created + 1 end end
done = function(summary, latency, requests) end
LUA
bench() { # $1 label, $2 DATABASE_URL, $3 port
  local key rps n
  key=$(DATABASE_URL="$2" target/release/innofolio create-api-key --role staff --name bench | tail -n 1)
  DATABASE_URL="$2" INNOFOLIO_BIND="127.0.0.1:$3" RUST_LOG=warn INNOFOLIO_WEBHOOK_DELIVERY=off target/release/innofolio serve >/dev/null 2>&1 &
  server=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$3/health" >/dev/null && break; sleep 0.1; done
  sed "s/^local counter = 0/key = \"$key\"\nlocal counter = 0/" "$work/post.lua" > "$work/post-$1.lua"
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$work/post-$1.lua" "http://127.0.0.1:$3" > "$work/$1.txt"
  kill "$server"; wait "$server" 2>/dev/null || true; server=""
  rps=$(awk '/^Requests\/sec/ {print $2}' "$work/$1.txt")
  total=$(awk '/requests in/ {print $1}' "$work/$1.txt")
  non2xx=$(awk '/Non-2xx/ {print $5}' "$work/$1.txt"); non2xx=${non2xx:-0}
  if [ "$1" = sqlite ]; then
    n=$(python3 -c "import sqlite3; c=sqlite3.connect('${2#sqlite://}'); print(c.execute('select count(*) from ideas').fetchone()[0], c.execute(\"select count(*) from audit_log where entity='idea'\").fetchone()[0])")
  else
    n="$(psql "$2" -tAc 'select count(*) from ideas') $(psql "$2" -tAc "select count(*) from audit_log where entity='idea'")"
  fi
  printf '%-10s %9s creates/s   p99 %8s   %s requests, %s non-2xx; rows: ideas %s, audit %s\n' \
    "$1" "$rps" "$(awk '$1 == "99%" {print $2}' "$work/$1.txt")" "$total" "$non2xx" ${n}
}
for b in $BACKENDS; do
  case $b in
    sqlite) bench sqlite "sqlite://$work/write.db" 18511 ;;
    postgres) pg_dir="$work/pg"; url=$(bash .ci/pg-start "$pg_dir" 55441 2>/dev/null); bench postgres "$url" 18512 ;;
  esac
done
