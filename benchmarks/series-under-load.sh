#!/usr/bin/env bash
# Latency of GET /analytics/series (the last 24 hours: 24 hourly buckets and their total) under the usual POST load,
# with wrk (C, light on CPU) rather than a JVM load generator: one wrk sends paced POSTs (64 connections, one per 3 ms
# each: ~16 000/s, 100 000 users; 95 % in the current hour, 5 % spread over the 23 hours before it, so every bucket has
# users and the day's total is an estimate united from 24 hours' sketches), a second wrk sends paced series requests
# (8 connections, one per 10 ms each: ~800/s) and reports their latency alone. Modelled on get-under-load.sh.
# Usage: benchmarks/series-under-load.sh [seconds]. Environment: TB_PORT (default: a free port; benchmarks/ports.sh),
# POST_DELAY_MS (3), PAST_SHARE (5: the percentage of POSTs dated in the 23 hours before this one; 0: all in this
# hour, as before 2026-12-07), SERIES_PATH (unset; /healthz measures a constant answer instead, the machine's floor).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-20}
POST_DELAY_MS=${POST_DELAY_MS:-3}  # per POST connection: 3 ms is ~16 000 POST/s over 64 connections
export PAST_SHARE=${PAST_SHARE:-5}
source benchmarks/ports.sh
JAR=http-edge/target/tracerboy.jar
[ -f "$JAR" ] || mvn -B -q package -DskipTests
WORK=$(mktemp -d)
trap 'kill "${TB_PID:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
EMBEDDED_DATA_DIR="$WORK/pg" PORT=$TB_PORT BIND_ADDRESS=127.0.0.1 java -jar "$JAR" > "$WORK/tracerboy.log" 2>&1 &
TB_PID=$!
for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$TB_PORT/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
HOUR_MS=$(( $(date +%s) / 3600 * 3600 * 1000 ))
# warm-up, both paths
HOUR_MS=$HOUR_MS DELAY_MS=$POST_DELAY_MS wrk -t1 -c64 -d5s -s benchmarks/wrk/paced-events.lua "http://127.0.0.1:$TB_PORT" > /dev/null &
POSTS_PID=$!
DELAY_MS=10 wrk -t1 -c8 -d5s -s benchmarks/wrk/paced-series.lua "http://127.0.0.1:$TB_PORT" > /dev/null
wait "$POSTS_PID"
HOUR_MS=$HOUR_MS DELAY_MS=$POST_DELAY_MS wrk -t1 -c64 -d"${DURATION}s" --latency -s benchmarks/wrk/paced-events.lua "http://127.0.0.1:$TB_PORT" > "$WORK/posts.wrk" &
POSTS_PID=$!
DELAY_MS=10 wrk -t1 -c8 -d"${DURATION}s" --latency -s benchmarks/wrk/paced-series.lua "http://127.0.0.1:$TB_PORT" > "$WORK/gets.wrk"
wait "$POSTS_PID"
us() { awk -v k="$1" '$1 == k {printf "%.2f ms", $2 / 1000}' "$2"; }
echo "mixed load for ${DURATION}s on $(nproc) cores: POSTs $(awk '/^Requests\/sec/ {print int($2)}' "$WORK/posts.wrk")/s, series $(awk '/^Requests\/sec/ {print int($2)}' "$WORK/gets.wrk")/s"
echo "series latency: p50 $(us TB_P50_US "$WORK/gets.wrk"), p99 $(us TB_P99_US "$WORK/gets.wrk"), p99.9 $(us TB_P999_US "$WORK/gets.wrk")"
echo "POST latency: p50 $(us TB_P50_US "$WORK/posts.wrk"), p99 $(us TB_P99_US "$WORK/posts.wrk")"
curl -fs "http://127.0.0.1:$TB_PORT/metrics" | awk '$1 ~ /^tracerboy_get_(requests_total|duration_seconds_count|duration_seconds_sum)/ {print "server: " $0}'
echo "series answers other than 2xx: $(awk '$1 == "TB_NON2XX" {print $2}' "$WORK/gets.wrk")"
curl -fs "http://127.0.0.1:$TB_PORT/analytics/series?from=$(( $(date +%s000) - 23 * 3600000 ))&to=$(date +%s000)" | \
  grep -o '"total":{[^}]*}' | sed 's/^/last answer: /'
