#!/usr/bin/env bash
# Read throughput against the framework's ceiling: wrk on `GET /api/v1/ideas/{id}` (with an API
# key: authentication, a database read, ETag) and, in the same run, on bench/baseline (a bare
# actix-web endpoint returning a fixed JSON body of the same size). Prints both, the ratio, p99
# latency, and the server's peak RSS during the run. SQLite, release builds. A third run reads
# with the single-record cache off (INNOFOLIO_READ_CACHE=off), so every request reads the database.
#
#   bash bench/read.sh            # DURATION=10s CONNECTIONS=32 THREADS=2
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null; }
cargo build --release -q
CARGO_TARGET_DIR="$PWD/target/baseline" cargo build --release -q --manifest-path bench/baseline/Cargo.toml
work=$(mktemp -d); pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
export DATABASE_URL="sqlite://$work/read.db"
key=$(target/release/innofolio create-api-key --role staff --name bench | tail -n 1)
INNOFOLIO_BIND=127.0.0.1:18501 RUST_LOG=warn INNOFOLIO_WEBHOOK_DELIVERY=off target/release/innofolio serve >/dev/null 2>&1 &
app=$!; pids+=("$app")
# The same server with the single-record cache off: every request reads the database.
INNOFOLIO_READ_CACHE=off INNOFOLIO_BIND=127.0.0.1:18502 RUST_LOG=warn INNOFOLIO_WEBHOOK_DELIVERY=off target/release/innofolio serve >/dev/null 2>&1 &
pids+=("$!")
BIND=127.0.0.1:18500 target/baseline/release/innofolio-baseline >/dev/null 2>&1 &
pids+=("$!")
for _ in $(seq 1 100); do curl -fs http://127.0.0.1:18501/health >/dev/null && curl -fs http://127.0.0.1:18502/health >/dev/null && curl -fs -o /dev/null http://127.0.0.1:18500/api/v1/ideas/1 && break; sleep 0.1; done
id=$(curl -fsS -X POST http://127.0.0.1:18501/api/v1/ideas -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
  -d '{"title": "Pressure-sensing wound dressing", "description": "A dressing that measures pressure", "kind": "clinical_invention", "received_on": "2026-01-05", "tags": ["wound", "sensor"]}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

run() { # $1 label, $2 url, $3.. extra wrk args
  local label=$1 url=$2; shift 2
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url" > "$work/$label.txt"
  rps=$(awk '/^Requests\/sec/ {print $2}' "$work/$label.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$work/$label.txt")
  errors=$(awk '/Non-2xx/ {print $5}' "$work/$label.txt")
  printf '%-28s %10s req/s   p99 %8s   non-2xx %s\n' "$label" "$rps" "$p99" "${errors:-0}"
  echo "$rps" > "$work/$label.rps"
}
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION, loopback, $(nproc) cores"
run baseline http://127.0.0.1:18500/api/v1/ideas/1
run innofolio "http://127.0.0.1:18501/api/v1/ideas/$id" -H "Authorization: Bearer $key"
run innofolio-uncached "http://127.0.0.1:18502/api/v1/ideas/$id" -H "Authorization: Bearer $key"
ratio() { python3 -c "print(f'{float(open(\"$work/$1.rps\").read()) / float(open(\"$work/baseline.rps\").read()) * 100:.1f}')"; }
echo "ratio: innofolio at $(ratio innofolio)% of the baseline's requests/s (target >= 50%)"
echo "       with the read cache off (every request reads SQLite): $(ratio innofolio-uncached)%"
echo "innofolio peak RSS during the run: $(awk '/VmHWM/ {printf "%.1f MB", $2/1024}' /proc/$app/status) (target < 150 MB)"
