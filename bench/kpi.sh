#!/usr/bin/env bash
# KPI speed at national scale: fills a database with `innofolio demo-data --scale N`
# (default 100000 ideas, ~1,000,000 income and statement lines), starts the release server and
# times `GET /kpis/values` for the last full year and the current result contract's scorecard,
# on SQLite and on PostgreSQL. Prints p50/p95/max per endpoint and backend.
#
#   bash bench/kpi.sh                 # both backends, scale 100000, 25 requests each
#   SCALE=20000 RUNS=10 bash bench/kpi.sh
#   BACKENDS=sqlite bash bench/kpi.sh
#
# PostgreSQL: a throwaway cluster is started with .ci/pg-start (Debian's postgresql package
# must be installed: apt-get install -y postgresql).
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=${SCALE:-100000}
RUNS=${RUNS:-25}
BACKENDS=${BACKENDS:-"sqlite postgres"}
work=$(mktemp -d /tmp/innofolio-bench.XXXXXX)
chmod 755 "$work"   # the PostgreSQL cluster runs as user postgres
server=""
pg_dir=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  [ -n "$pg_dir" ] && bash .ci/pg-stop "$pg_dir" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

cargo build --release -q
bin=target/release/innofolio
year=$(( $(date -u +%Y) - 1 ))

# p50/p95/max in milliseconds of the times (seconds) on stdin.
stats() {
  sort -n | awk '{ t[NR] = $1 * 1000 } END {
    p50 = t[int((NR + 1) * 0.50)]; p95 = t[int(NR * 0.95 + 0.999)]; if (p95 == "") p95 = t[NR];
    printf "p50 %7.1f ms   p95 %7.1f ms   max %7.1f ms   (%d requests)\n", p50, p95, t[NR], NR }'
}

measure() { # $1 label, $2 url, $3 key
  curl -fsS -o /dev/null -H "Authorization: Bearer $3" "$2"   # warm-up
  curl -fsS -o /dev/null -H "Authorization: Bearer $3" "$2"
  for _ in $(seq 1 "$RUNS"); do
    curl -fsS -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $3" "$2"
  done | stats | sed "s|^|  $1: |"
}

run_backend() { # $1 label, $2 DATABASE_URL, $3 port
  echo "== $1, scale $SCALE"
  local started key url contract
  started=$(date +%s.%N)
  DATABASE_URL="$2" "$bin" demo-data --scale "$SCALE" | grep -E 'ideas|income|royalty_statements|agreements|written' | sed 's/^/  /'
  echo "  demo-data took $(echo "$(date +%s.%N) - $started" | bc | xargs printf '%.1f') s"
  key=$(DATABASE_URL="$2" "$bin" create-api-key --role management --name bench | tail -n 1)
  DATABASE_URL="$2" INNOFOLIO_BIND="127.0.0.1:$3" RUST_LOG=warn INNOFOLIO_WEBHOOK_DELIVERY=off "$bin" serve > "$work/server-$1.log" 2>&1 &
  server=$!
  url="http://127.0.0.1:$3"
  for _ in $(seq 1 100); do curl -fs "$url/health" >/dev/null && break; sleep 0.1; done
  contract=$(curl -fsS -H "Authorization: Bearer $key" "$url/api/v1/result-contracts?status=agreed" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
  measure "kpis/values $year      " "$url/api/v1/kpis/values?from=$year-01-01&to=$year-12-31" "$key"
  measure "scorecard (contract $contract)" "$url/api/v1/result-contracts/$contract/scorecard" "$key"
  measure "reports/funnel $year    " "$url/api/v1/reports/funnel?from=$year-01-01&to=$year-12-31" "$key"
  kill "$server"; wait "$server" 2>/dev/null || true; server=""
}

for backend in $BACKENDS; do
  case $backend in
    sqlite) run_backend sqlite "sqlite://$work/bench.db" 18401 ;;
    postgres)
      pg_dir="$work/pg"
      pg_url=$(bash .ci/pg-start "$pg_dir" 55439)
      run_backend postgres "$pg_url" 18402
      bash .ci/pg-stop "$pg_dir" >/dev/null 2>&1 || true; pg_dir="" ;;
  esac
done
