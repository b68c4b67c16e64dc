#!/usr/bin/env bash
# Batch ingest end to end against raw COPY, in one run: the real tracerboy.jar (defaults, buffered) on a fresh database
# (DATABASE_URL's server, or the embedded PostgreSQL), loaded by wrk with POST /analytics/batch bodies of 1 000 events
# of the current hour, users drawn from 100 000 (200 different bodies in turn); the rate counts events acknowledged (200) until the last is committed. Then
# the shared Reconciler checks the hour three ways and events stored = events acknowledged, and the same number of
# events is COPYed raw (binary, 10 000 rows per COPY, one connection) into a fresh database on the same server, and
# then COPYed once more by the server itself from a binary file (COPY ... FROM '<file>': no client at all, the physical
# limit; it needs a superuser, which the embedded PostgreSQL's is, so with DATABASE_URL it may say it was refused).
# Usage: benchmarks/batch-ingest.sh [seconds] [connections] [ids|noids]. Needs wrk (apt-get install wrk).
# Environment: DATABASE_URL (optional), TB_PORT (default: a free port; benchmarks/ports.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-20}
CONNECTIONS=${2:-4}
IDS=$([ "${3:-noids}" = ids ] && echo 1 || echo 0)
source benchmarks/ports.sh
JAR=http-edge/target/tracerboy.jar
BENCH_JAR=benchmarks/target/benchmarks.jar
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 2; }
[ -f "$JAR" ] && [ -f "$BENCH_JAR" ] || mvn -B -q package -DskipTests

WORK=$(mktemp -d)
cleanup() { kill "${TB_PID:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
HOUR_MS=$(( $(date +%s) / 3600 * 3600 * 1000 ))
# 200 different bodies, which wrk sends in turn: 200 000 events over 100 000 users (~86 000 of them seen per run).
python3 - "$HOUR_MS" "$IDS" > "$WORK/body.ndjson" <<'PY'
import random, sys
hour, ids = int(sys.argv[1]), sys.argv[2] == "1"
random.seed(5)
for body in range(200):
    if body:
        print("---")
    for _ in range(1000):
        kind = "click" if random.randrange(10) == 0 else "impression"
        event_id = ',"id":"@ID@"' if ids else ""
        print('{"timestamp":%d,"user":"user-%d","event":"%s"%s}' % (hour + random.randrange(3600000),
              random.randrange(100000), kind, event_id))
PY

if [ -n "${DATABASE_URL:-}" ]; then
    DB="tb_batch_$$"
    java -cp "$BENCH_JAR" io.tracerboy.bench.BatchIngestBenchmark createdb "$DB" > /dev/null
fi
DATABASE_URL_RUN=${DATABASE_URL:+$(echo "$DATABASE_URL" | sed -E "s|(//[^/]+/)[^?]*|\1$DB|")}
DATABASE_URL=$DATABASE_URL_RUN EMBEDDED_DATA_DIR="$WORK/pgdata" PORT=$TB_PORT BIND_ADDRESS=127.0.0.1 \
    java -jar "$JAR" > "$WORK/tracerboy.log" 2>&1 &
TB_PID=$!
for _ in $(seq 1 600); do curl -fs "http://127.0.0.1:$TB_PORT/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
metric() { curl -fs "http://127.0.0.1:$TB_PORT/metrics" | awk -v k="$1" '$1 == k {printf "%d", $2}'; }

START=$(date +%s%N)
BODY_FILE="$WORK/body.ndjson" IDS=$IDS wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" -s benchmarks/wrk/batch-events.lua \
    "http://127.0.0.1:$TB_PORT/analytics/batch" > "$WORK/wrk.out"
ACCEPTED=$(metric tracerboy_events_accepted_total)
while [ "$(metric tracerboy_rows_written_total)" -lt "$((ACCEPTED - $(metric tracerboy_events_resent_total)))" ]; do
    sleep 0.01
done
END=$(date +%s%N)
OK=$(awk '$1 == "TB_OK" {print $2}' "$WORK/wrk.out")
REQUESTS=$(awk '$1 == "TB_REQUESTS" {print $2}' "$WORK/wrk.out")
RATE=$(( ACCEPTED * 1000000000 / (END - START) ))

JDBC=${DATABASE_URL_RUN:-"jdbc:postgresql://127.0.0.1:$(sed -n 4p "$WORK/pgdata/postmaster.pid")/postgres?user=postgres"}
java -cp "$BENCH_JAR" io.tracerboy.testsupport.Reconciler "$JDBC" "http://127.0.0.1:$TB_PORT" "$HOUR_MS" 1 \
    "$ACCEPTED" 0 > "$WORK/reconciled.txt" || { cat "$WORK/reconciled.txt"; exit 1; }
COPY=$(DATABASE_URL=${DATABASE_URL:-$JDBC} java -cp "$BENCH_JAR" io.tracerboy.bench.BatchIngestBenchmark rawcopy \
    "$ACCEPTED" 100000 10000 | tail -n 1)
SERVER_COPY=$(DATABASE_URL=${DATABASE_URL:-$JDBC} java -cp "$BENCH_JAR" io.tracerboy.bench.BatchIngestBenchmark \
    servercopy "$ACCEPTED" 100000 2>/dev/null | tail -n 1 || echo "refused (needs a superuser)")
kill -TERM "$TB_PID"; wait "$TB_PID" || true; TB_PID=
[ -n "${DB:-}" ] && java -cp "$BENCH_JAR" io.tracerboy.bench.BatchIngestBenchmark dropdb "$DB" > /dev/null

echo "wrk -t1 -c$CONNECTIONS -d${DURATION}s, 1 000 events per request$([ "$IDS" = 1 ] && echo ", an id on every event")"
echo "requests: $REQUESTS, 200: $OK, refused (503, ring full: the writer set the pace): $((REQUESTS - OK))"
echo "batch ingest: $ACCEPTED events acknowledged and committed, $RATE events/s; $(tail -n 1 "$WORK/reconciled.txt")"
echo "raw binary COPY of as many events, 10000 per COPY, one connection: $COPY rows/s"
awk -v a="$RATE" -v b="$COPY" 'BEGIN {printf "ratio: %.2f\n", a / b}'
echo "server-side COPY FROM '<file>' of as many events, one statement: $SERVER_COPY rows/s"
case "$SERVER_COPY" in *[!0-9]*) ;; *) awk -v a="$RATE" -v b="$SERVER_COPY" \
    'BEGIN {printf "ratio to the server-side COPY: %.2f\n", a / b}';; esac
