#!/usr/bin/env bash
# End-to-end ingest against its ceiling, in one run on this machine:
#   1. the bare Undertow server that only answers 204 (same IO threads, same options), loaded with wrk;
#   2. the real tracerboy.jar once per variant (embedded PostgreSQL in a fresh directory, or DATABASE_URL), same load;
# after each tracerboy run it waits for the writer to drain and reconciles the 204s wrk counted with the events GET
# reports for the hour, then stops tracerboy with SIGTERM and checks it exits 0. The POST load runs at the highest rate
# the edge accepts, so it doubles as a burst test: non-2xx answers (503) and the ring's peak depth are reported. Then
# the same comparison for GETs of the current hour (the first variant only).
# Usage: benchmarks/e2e-ingest.sh [seconds] [connections]
# Environment: USERS (distinct users per hour, default 100000); DATABASE_URL (optional); VARIANTS, tracerboy option
# sets separated by ';' (default: one run with the defaults), e.g. VARIANTS='--ack-mode=buffered;--ack-mode=committed';
# TB_PORT and BARE_PORT (default: free ports; benchmarks/ports.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-20}
CONNECTIONS=${2:-64}
USERS=${USERS:-100000}
VARIANTS=${VARIANTS:-}
source benchmarks/ports.sh
JAR=http-edge/target/tracerboy.jar
BENCH_JAR=benchmarks/target/benchmarks.jar
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 2; }
[ -f "$JAR" ] && [ -f "$BENCH_JAR" ] || mvn -B -q package -DskipTests

WORK=$(mktemp -d)
cleanup() { kill "${BARE_PID:-}" "${TB_PID:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
export USERS

wait_for() { for _ in $(seq 1 300); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "timeout: $1" >&2; exit 1; }
load() { wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s benchmarks/wrk/post-events.lua "$1" > "$2"; }
gets() { wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s benchmarks/wrk/get-current-hour.lua "$1" > "$2"; }
ring_depth() { curl -fs "http://127.0.0.1:$TB_PORT/metrics" | awk '$1 == "tracerboy_ring_depth_events" {print int($2)}'; }
ms() { awk -v v="$(field "$1" "$2")" 'BEGIN {printf "%.2f", v / 1000}'; }
field() { awk -v k="$1" '$1 == k {print $2}' "$2"; }
rate() { awk '/^Requests\/sec/ {print int($2)}' "$1"; }
# The database a run wrote to: DATABASE_URL, or the embedded server's port from its lock file (trust authentication).
jdbc_url() {
    if [ -n "${DATABASE_URL:-}" ]; then echo "$DATABASE_URL"; return; fi
    echo "jdbc:postgresql://127.0.0.1:$(sed -n 4p "$WORK/pgdata-$1/postmaster.pid")/postgres?user=postgres"
}
# A random hour of 2020 per run, so runs against a shared DATABASE_URL never mix.
# A random past hour of the last week (events older than EVENT_RETENTION_HOURS, 168 by default, are refused).
random_hour() { echo $(( ($(date +%s) / 3600 - 2 - RANDOM % 150) * 3600 * 1000 )); }

java -cp "$BENCH_JAR" io.tracerboy.bench.Bare204Server "$BARE_PORT" "$(nproc)" > "$WORK/bare.log" 2>&1 &
BARE_PID=$!
wait_for "http://127.0.0.1:$BARE_PORT/"
HOUR_MS=$(random_hour) wrk -t1 -c"$CONNECTIONS" -d3s -s benchmarks/wrk/post-events.lua "http://127.0.0.1:$BARE_PORT" > /dev/null
HOUR_MS=$(random_hour) load "http://127.0.0.1:$BARE_PORT" "$WORK/bare.wrk"
gets "http://127.0.0.1:$BARE_PORT" "$WORK/bare-get.wrk"
kill "$BARE_PID"; wait "$BARE_PID" 2>/dev/null || true; BARE_PID=
BARE=$(rate "$WORK/bare.wrk")
BARE_GET=$(rate "$WORK/bare-get.wrk")

echo "machine: $(nproc) cores, $(uname -r); wrk -t1 -c$CONNECTIONS -d${DURATION}s; $USERS users/hour; 90% impressions"
printf '%-44s %9s %6s %9s %9s %s\n' "server" "POST/s" "ratio" "p50 ms" "p99 ms" "reconciled"
printf '%-44s %9s %6s %9s %9s %s\n' "bare Undertow, answers 204 only" "$BARE" "1.00" \
    "$(awk -v v="$(field TB_P50_US "$WORK/bare.wrk")" 'BEGIN {printf "%.2f", v / 1000}')" \
    "$(awk -v v="$(field TB_P99_US "$WORK/bare.wrk")" 'BEGIN {printf "%.2f", v / 1000}')" "-"

FAILED=0
IFS=';' read -r -a RUNS <<< "${VARIANTS:- }"
for i in "${!RUNS[@]}"; do
    ARGS=${RUNS[$i]}
    HOUR_MS=$(random_hour); export HOUR_MS
    EMBEDDED_DATA_DIR="$WORK/pgdata-$i" PORT=$TB_PORT BIND_ADDRESS=127.0.0.1 java -jar "$JAR" $ARGS > "$WORK/tracerboy-$i.log" 2>&1 &
    TB_PID=$!
    wait_for "http://127.0.0.1:$TB_PORT/readyz"
    # Warm-up in the previous hour, so it does not count in the reconciled one.
    HOUR_MS=$((HOUR_MS - 3600000)) wrk -t1 -c"$CONNECTIONS" -d3s -s benchmarks/wrk/post-events.lua "http://127.0.0.1:$TB_PORT" > /dev/null
    load "http://127.0.0.1:$TB_PORT" "$WORK/tracerboy-$i.wrk" &
    WRK_PID=$!
    PEAK=0
    while kill -0 "$WRK_PID" 2>/dev/null; do
        DEPTH=$(ring_depth || echo 0); [ "${DEPTH:-0}" -gt "$PEAK" ] && PEAK=$DEPTH
        sleep 0.1
    done
    wait "$WRK_PID"
    DRAIN_START=$(date +%s%N)
    while [ "$(ring_depth || echo 1)" -gt 0 ]; do sleep 0.01; done
    DRAIN_MS=$(( ($(date +%s%N) - DRAIN_START) / 1000000 ))
    ACKED=$(field TB_204 "$WORK/tracerboy-$i.wrk")
    # The shared reconciler (test-support): GET = hourly_stats = a recount over raw events for the hour, and stored
    # events at least the 204s wrk counted, at most one per connection more (in flight when wrk stopped counting).
    if java -cp "$BENCH_JAR" io.tracerboy.testsupport.Reconciler "$(jdbc_url "$i")" "http://127.0.0.1:$TB_PORT" \
            "$HOUR_MS" 1 "$ACKED" "$CONNECTIONS" > "$WORK/reconciled-$i.txt" 2>&1; then
        VERDICT="yes: $(grep -h '^acknowledged' "$WORK/reconciled-$i.txt")"
    else
        VERDICT="NO: $(tail -n 1 "$WORK/reconciled-$i.txt")"; FAILED=1
    fi
    TB=$(rate "$WORK/tracerboy-$i.wrk")
    printf '%-44s %9s %6s %9s %9s %s\n' "tracerboy ${ARGS:-(defaults)}" "$TB" \
        "$(awk -v a="$TB" -v b="$BARE" 'BEGIN {printf "%.2f", a / b}')" \
        "$(awk -v v="$(field TB_P50_US "$WORK/tracerboy-$i.wrk")" 'BEGIN {printf "%.2f", v / 1000}')" \
        "$(awk -v v="$(field TB_P99_US "$WORK/tracerboy-$i.wrk")" 'BEGIN {printf "%.2f", v / 1000}')" "$VERDICT"
    grep -hE "Non-2xx|Socket errors" "$WORK/tracerboy-$i.wrk" | sed 's/^/    /' || true
    echo "    ring (capacity $(curl -fs "http://127.0.0.1:$TB_PORT/metrics" 2>/dev/null | awk '$1 == "tracerboy_ring_capacity_events" {print int($2)}')): peak depth seen $PEAK, drained ${DRAIN_MS} ms after the load stopped"
    if [ "$i" -eq 0 ]; then
        gets "http://127.0.0.1:$TB_PORT" "$WORK/tracerboy-get.wrk"
        TB_GET=$(rate "$WORK/tracerboy-get.wrk")
        GET_LINE=$(printf '%-44s %9s %6s %9s %9s' "GET current hour: tracerboy ${ARGS:-(defaults)}" "$TB_GET" \
            "$(awk -v a="$TB_GET" -v b="$BARE_GET" 'BEGIN {printf "%.2f", a / b}')" "$(ms TB_P50_US "$WORK/tracerboy-get.wrk")" \
            "$(ms TB_P99_US "$WORK/tracerboy-get.wrk")")
    fi
    kill -TERM "$TB_PID"; STATUS=0; wait "$TB_PID" || STATUS=$?; TB_PID=
    [ "$STATUS" -eq 0 ] || { echo "    tracerboy exited $STATUS" >&2; FAILED=1; }
done
printf '%-44s %9s %6s %9s %9s\n' "GET current hour: bare Undertow" "$BARE_GET" "1.00" "$(ms TB_P50_US "$WORK/bare-get.wrk")" \
    "$(ms TB_P99_US "$WORK/bare-get.wrk")"
echo "$GET_LINE"
exit $FAILED
