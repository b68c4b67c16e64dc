#!/usr/bin/env bash
# End-to-end ingest against its ceiling, in one run on this machine:
#   1. the bare Undertow server that only answers 204 (same IO threads, same options), loaded with wrk;
#   2. the real tracerboy.jar (embedded PostgreSQL in a fresh directory, or DATABASE_URL), same wrk load;
# then waits for the writer to drain and reconciles: the 204s wrk counted must equal the events GET reports.
# Prints both rates and their ratio. Usage: benchmarks/e2e-ingest.sh [seconds] [connections]
# Environment: USERS (distinct users, default 100000), DATABASE_URL (optional), TB_ARGS (extra tracerboy options).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-20}
CONNECTIONS=${2:-64}
USERS=${USERS:-100000}
BARE_PORT=${BARE_PORT:-9301}
TB_PORT=${TB_PORT:-9302}
JAR=http-edge/target/tracerboy.jar
BENCH_JAR=benchmarks/target/benchmarks.jar
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 2; }
[ -f "$JAR" ] && [ -f "$BENCH_JAR" ] || mvn -B -q package -DskipTests

WORK=$(mktemp -d)
cleanup() { kill "${BARE_PID:-}" "${TB_PID:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
# A random hour of 2020, so runs against a shared DATABASE_URL never mix.
HOUR_MS=$(( (1577836800 + (RANDOM * 32768 + RANDOM) % 8760 * 3600) * 1000 ))
export HOUR_MS USERS

wait_for() { for _ in $(seq 1 300); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "timeout: $1" >&2; exit 1; }
load() { wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s benchmarks/wrk/post-events.lua "$1" > "$2"; }
rate() { awk '/^Requests\/sec/ {print int($2)}' "$1"; }

java -cp "$BENCH_JAR" io.tracerboy.bench.Bare204Server "$BARE_PORT" "$(nproc)" > "$WORK/bare.log" 2>&1 &
BARE_PID=$!
sleep 1
curl -s -o /dev/null -X POST "http://127.0.0.1:$BARE_PORT/warm"
wrk -t1 -c"$CONNECTIONS" -d3s -s benchmarks/wrk/post-events.lua "http://127.0.0.1:$BARE_PORT" > /dev/null # JIT warm-up
load "http://127.0.0.1:$BARE_PORT" "$WORK/bare.wrk"
kill "$BARE_PID"; wait "$BARE_PID" 2>/dev/null || true; BARE_PID=

EMBEDDED_DATA_DIR="$WORK/pgdata" PORT=$TB_PORT BIND_ADDRESS=127.0.0.1 java -jar "$JAR" ${TB_ARGS:-} > "$WORK/tracerboy.log" 2>&1 &
TB_PID=$!
wait_for "http://127.0.0.1:$TB_PORT/readyz"
# Warm-up in another hour (one hour earlier), so it does not count in the reconciled hour.
HOUR_MS=$((HOUR_MS - 3600000)) wrk -t1 -c"$CONNECTIONS" -d3s -s benchmarks/wrk/post-events.lua "http://127.0.0.1:$TB_PORT" > /dev/null
load "http://127.0.0.1:$TB_PORT" "$WORK/tracerboy.wrk"

ACKED=$(awk '/^TB_204/ {print $2}' "$WORK/tracerboy.wrk")
SEEN=0
for _ in $(seq 1 600); do
    BODY=$(curl -fs "http://127.0.0.1:$TB_PORT/analytics?timestamp=$HOUR_MS")
    SEEN=$(echo "$BODY" | awk -F, '/^clicks|^impressions/ {s += $2} END {print s + 0}')
    [ "$SEEN" -ge "$ACKED" ] && break
    sleep 0.1
done
kill -TERM "$TB_PID"; wait "$TB_PID"; STATUS=$?; TB_PID=

BARE=$(rate "$WORK/bare.wrk"); TB=$(rate "$WORK/tracerboy.wrk")
echo "machine: $(nproc) cores, $(uname -r); wrk -t1 -c$CONNECTIONS -d${DURATION}s; $USERS users/hour; tracerboy ${TB_ARGS:-defaults}"
echo "bare Undertow 204:     $BARE req/s  (p50 $(awk '/^TB_P50_US/ {print $2}' "$WORK/bare.wrk") us, p99 $(awk '/^TB_P99_US/ {print $2}' "$WORK/bare.wrk") us)"
echo "tracerboy end-to-end:  $TB req/s  (p50 $(awk '/^TB_P50_US/ {print $2}' "$WORK/tracerboy.wrk") us, p99 $(awk '/^TB_P99_US/ {print $2}' "$WORK/tracerboy.wrk") us)"
echo "ratio:                 $(awk -v a="$TB" -v b="$BARE" 'BEGIN {printf "%.2f", a / b}')"
echo "204s counted by wrk:   $ACKED"
echo "events in GET of hour: $SEEN"
grep -E "Non-2xx|Socket errors" "$WORK/tracerboy.wrk" || true
echo "tracerboy exit status: $STATUS"
# wrk stops counting when its clock runs out, while up to one request per connection is still in flight: those were
# answered 204 and stored, but not counted. So stored events may exceed counted 204s by at most the connection count.
if [ "$SEEN" -lt "$ACKED" ]; then echo "LOSS: $((ACKED - SEEN)) acknowledged events missing" >&2; exit 1; fi
if [ "$SEEN" -gt $((ACKED + CONNECTIONS)) ]; then echo "EXCESS: $((SEEN - ACKED)) more events than 204s" >&2; exit 1; fi
echo "reconciled: every counted 204 is a stored event ($((SEEN - ACKED)) more were in flight when wrk stopped counting)"
