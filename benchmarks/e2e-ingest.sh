#!/usr/bin/env bash
# End-to-end ingest against its ceiling, in one run on this machine:
#   1. the bare Undertow server that only answers 204 (same IO threads, same options), loaded with wrk;
#   2. the real tracerboy.jar once per variant (embedded PostgreSQL in a fresh directory, or DATABASE_URL), same load;
# after each tracerboy run it waits for the writer to drain and reconciles the 204s wrk counted with the events GET
# reports for the hour, then stops tracerboy with SIGTERM and checks it exits 0.
# Usage: benchmarks/e2e-ingest.sh [seconds] [connections]
# Environment: USERS (distinct users per hour, default 100000); DATABASE_URL (optional); VARIANTS, tracerboy option
# sets separated by ';' (default: one run with the defaults), e.g. VARIANTS='--ack-mode=buffered;--ack-mode=committed'.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-20}
CONNECTIONS=${2:-64}
USERS=${USERS:-100000}
VARIANTS=${VARIANTS:-}
BARE_PORT=${BARE_PORT:-9301}
TB_PORT=${TB_PORT:-9302}
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
field() { awk -v k="$1" '$1 == k {print $2}' "$2"; }
rate() { awk '/^Requests\/sec/ {print int($2)}' "$1"; }
# A random hour of 2020 per run, so runs against a shared DATABASE_URL never mix.
random_hour() { echo $(( (1577836800 + (RANDOM * 32768 + RANDOM) % 8760 * 3600) * 1000 )); }

java -cp "$BENCH_JAR" io.tracerboy.bench.Bare204Server "$BARE_PORT" "$(nproc)" > "$WORK/bare.log" 2>&1 &
BARE_PID=$!
wait_for "http://127.0.0.1:$BARE_PORT/"
HOUR_MS=$(random_hour) wrk -t1 -c"$CONNECTIONS" -d3s -s benchmarks/wrk/post-events.lua "http://127.0.0.1:$BARE_PORT" > /dev/null
HOUR_MS=$(random_hour) load "http://127.0.0.1:$BARE_PORT" "$WORK/bare.wrk"
kill "$BARE_PID"; wait "$BARE_PID" 2>/dev/null || true; BARE_PID=
BARE=$(rate "$WORK/bare.wrk")

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
    load "http://127.0.0.1:$TB_PORT" "$WORK/tracerboy-$i.wrk"
    ACKED=$(field TB_204 "$WORK/tracerboy-$i.wrk")
    SEEN=0
    for _ in $(seq 1 600); do
        SEEN=$(curl -fs "http://127.0.0.1:$TB_PORT/analytics?timestamp=$HOUR_MS" | awk -F, '/^clicks|^impressions/ {s += $2} END {print s + 0}')
        [ "$SEEN" -ge "$ACKED" ] && break
        sleep 0.1
    done
    kill -TERM "$TB_PID"; STATUS=0; wait "$TB_PID" || STATUS=$?; TB_PID=
    # wrk stops counting when its clock runs out while up to one request per connection is still in flight: those
    # were answered 204 and stored but not counted, so stored events may exceed counted 204s by at most that.
    if [ "$SEEN" -lt "$ACKED" ] || [ "$SEEN" -gt $((ACKED + CONNECTIONS)) ] || [ "$STATUS" -ne 0 ]; then
        VERDICT="NO: $ACKED 204s, $SEEN stored, exit $STATUS"; FAILED=1
    else
        VERDICT="yes: $ACKED 204s, $SEEN stored ($((SEEN - ACKED)) in flight at wrk's end), exit 0"
    fi
    TB=$(rate "$WORK/tracerboy-$i.wrk")
    printf '%-44s %9s %6s %9s %9s %s\n' "tracerboy ${ARGS:-(defaults)}" "$TB" \
        "$(awk -v a="$TB" -v b="$BARE" 'BEGIN {printf "%.2f", a / b}')" \
        "$(awk -v v="$(field TB_P50_US "$WORK/tracerboy-$i.wrk")" 'BEGIN {printf "%.2f", v / 1000}')" \
        "$(awk -v v="$(field TB_P99_US "$WORK/tracerboy-$i.wrk")" 'BEGIN {printf "%.2f", v / 1000}')" "$VERDICT"
    grep -hE "Non-2xx|Socket errors" "$WORK/tracerboy-$i.wrk" | sed 's/^/    /' || true
done
exit $FAILED
