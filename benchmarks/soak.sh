#!/usr/bin/env bash
# Soak: what minutes and hours of traffic do to tracerboy. The real jar with defaults (buffered) on a PostgreSQL 15
# cluster of its own (fsync on, default shared_buffers; created as cluster 15/soak on port SOAK_PG_PORT, 5450, the first
# time), loaded by wrk at the highest rate it takes: 2 connections, POST /analytics/batch bodies of 1 000 events of the
# current hour over 100 000 users. Every 10 s: rows committed per second (from /metrics) and the size of events,
# hourly_users and request_keys (pg_total_relation_size over their partitions, indexes included).
# Modes: noids (no ids), ids (a random UUIDv4 on every event, as browsers and most SDKs send them), keys (no ids, an
# Idempotency-Key on every request).
# Timestamps: TIMESTAMPS=now (the default) dates each request's events within the 10 s before it is sent, as a tracker
# sending what just happened does; TIMESTAMPS=hour spreads them at random over the current hour (the worst case for
# the (ts, event_key) index: inserts land anywhere in an hour of it rather than at its right edge).
# CONTINUE=1 keeps the mode's database as the last run left it (to see a run on a table already many GB large) and
# writes soak-MODE-continued.*.
# Usage: benchmarks/soak.sh MINUTES [noids|ids|keys]. Needs wrk and pg_createcluster (Debian's postgresql-15).
# Writes benchmarks/soak/soak-MODE.csv and prints a summary; benchmarks/soak-chart.py draws docs/soak.svg from the CSVs.
# Everything runs under nice, so that other work on the machine keeps its share; say so when you quote figures.
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${1:?usage: benchmarks/soak.sh MINUTES [noids|ids|keys]}
MODE=${2:-noids}
CONTINUE=${CONTINUE:-0}
case "$MODE" in noids|ids|keys) ;; *) echo "mode: expected noids, ids or keys, found '$MODE'" >&2; exit 2;; esac
SOAK_PG_PORT=${SOAK_PG_PORT:-5450}
source benchmarks/ports.sh
JAR=http-edge/target/tracerboy.jar
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 2; }
[ -f "$JAR" ] || mvn -B -q package -DskipTests -pl http-edge -am

if ! pg_lsclusters -h | awk '{print $2}' | grep -qx soak; then
    pg_createcluster -q 15 soak -p "$SOAK_PG_PORT" >/dev/null
fi
nice -n 10 pg_ctlcluster 15 soak start 2>/dev/null || true
for _ in $(seq 1 100); do pg_isready -q -h 127.0.0.1 -p "$SOAK_PG_PORT" && break; sleep 0.2; done
DB="soak_$MODE"
psql_soak() { su postgres -c "psql -X -q -At -p $SOAK_PG_PORT $*"; }
size() { psql_soak "-d $DB -c \"SELECT coalesce(sum(pg_total_relation_size(relid)), 0) FROM pg_partition_tree('$1')\""; }
if [ "$CONTINUE" = 1 ] && [ "$(psql_soak "-c \"SELECT count(*) FROM pg_database WHERE datname = '$DB'\"")" = 1 ]; then
    echo "continuing on $DB: $(( $(size events) / 1000000 )) MB of events already there"
else
    psql_soak "-c 'DROP DATABASE IF EXISTS $DB'" >/dev/null
    psql_soak "-c 'CREATE DATABASE $DB'" >/dev/null
fi
psql_soak "-c \"ALTER USER postgres PASSWORD 'soak'\"" >/dev/null

WORK=$(mktemp -d)
mkdir -p benchmarks/soak
TIMESTAMPS=${TIMESTAMPS:-now}
OUT=benchmarks/soak/soak-$MODE$([ "$TIMESTAMPS" = now ] || echo "-$TIMESTAMPS-timestamps")$([ "$CONTINUE" != 1 ] || echo -continued)
CSV=$OUT.csv
cleanup() {
    kill "${WRK_PID:-}" "${TB_PID:-}" 2>/dev/null || true
    wait 2>/dev/null || true
    cp "$WORK/tracerboy.log" "$OUT.log" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
HOUR_MS=$(( $(date +%s) / 3600 * 3600 * 1000 ))
python3 - "$HOUR_MS" "$MODE" "$TIMESTAMPS" > "$WORK/body.ndjson" <<'PY'
import random, sys
hour, ids, now = int(sys.argv[1]), sys.argv[2] == "ids", sys.argv[3] == "now"
random.seed(5)
for body in range(200):
    if body:
        print("---")
    for _ in range(1000):
        kind = "click" if random.randrange(10) == 0 else "impression"
        ts = "@TS@" if now else str(hour + random.randrange(3600000))
        print('{"timestamp":%s,"user":"user-%d","event":"%s"%s}' % (ts, random.randrange(100000), kind,
              ',"id":"@ID@"' if ids else ""))
PY

cp "$JAR" "$WORK/tracerboy.jar" # a build during the run must not change the jar under the running JVM
DATABASE_URL="jdbc:postgresql://127.0.0.1:$SOAK_PG_PORT/$DB?user=postgres&password=soak" PORT=$TB_PORT \
    BIND_ADDRESS=127.0.0.1 nice -n 10 java -jar "$WORK/tracerboy.jar" > "$WORK/tracerboy.log" 2>&1 &
TB_PID=$!
for _ in $(seq 1 600); do curl -fs "http://127.0.0.1:$TB_PORT/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
metric() { curl -fs "http://127.0.0.1:$TB_PORT/metrics" | awk -v k="$1" '$1 == k {printf "%d", $2}'; }

IDS=$([ "$MODE" = ids ] && echo uuid || echo 0)
KEYS=$([ "$MODE" = keys ] && echo 1 || echo 0)
BODY_FILE="$WORK/body.ndjson" IDS=$IDS KEYS=$KEYS nice -n 10 wrk -t1 -c2 -d"$((MINUTES * 60))s" \
    -s benchmarks/wrk/batch-events.lua "http://127.0.0.1:$TB_PORT/analytics/batch" > "$WORK/wrk.out" &
WRK_PID=$!

echo "seconds,rows_total,rows_per_s,events_bytes,hourly_users_bytes,request_keys_bytes" > "$CSV"
START=$(date +%s)
PREV_ROWS=0
PREV_T=$START
while kill -0 "$WRK_PID" 2>/dev/null; do
    sleep 10
    NOW=$(date +%s)
    ROWS=$(metric tracerboy_rows_written_total)
    echo "$((NOW - START)),$ROWS,$(( (ROWS - PREV_ROWS) / (NOW - PREV_T > 0 ? NOW - PREV_T : 1) )),$(size events),$(size hourly_users),$(size request_keys)" >> "$CSV"
    PREV_ROWS=$ROWS
    PREV_T=$NOW
done
wait "$WRK_PID" || true; WRK_PID=
ROWS=$(metric tracerboy_rows_written_total)
KEYED=$(psql_soak "-d $DB -c 'SELECT count(*) FROM events WHERE event_key IS NOT NULL'")
REQUESTS=$(psql_soak "-d $DB -c 'SELECT count(*) FROM request_keys'")
kill -TERM "$TB_PID"; wait "$TB_PID" || true; TB_PID=

python3 - "$CSV" "$MODE" "$MINUTES" "$ROWS" "$KEYED" "$REQUESTS" "$CONTINUE" <<'PY' | tee "$OUT.txt"
import csv, sys
path, mode, minutes, rows, keyed, requests, continued = (sys.argv[1], sys.argv[2], int(sys.argv[3]),
                                                         *map(int, sys.argv[4:]))
# Only samples taken while wrk was sending: the one after it stopped covers idle time.
samples = [s for s in csv.DictReader(open(path)) if int(s["seconds"]) <= minutes * 60 + 5]
t = [int(s["seconds"]) for s in samples]
total = [int(s["rows_total"]) for s in samples]
def at(seconds):  # rows committed at the sample nearest to this many seconds
    return min(range(len(t)), key=lambda i: abs(t[i] - seconds))
i1, iend = at(60), len(t) - 1
i0 = at(t[iend] - 60)
f = total[i1] / t[i1]
l = (total[iend] - total[i0]) / (t[iend] - t[i0])
events_bytes = int(samples[-1]["events_bytes"])
print(f"soak {mode}, {minutes} min: {rows} rows committed, {total[iend] / t[iend]:.0f} rows/s sustained;"
      f" first minute {f:.0f}/s, last minute {l:.0f}/s, last/first {l / f:.2f}")
# Continued, the tables hold earlier runs' rows too: per event only where every row is counted (the keyed ones).
held = keyed if continued else rows
print(f"events: {events_bytes / 1e6:.0f} MB" + (f", {events_bytes / held:.1f} bytes per event with its indexes"
      if held else " (with the earlier runs' rows)")
      + (f"; {keyed} keyed rows" if keyed else "") + (f"; request_keys {requests} rows,"
      f" {int(samples[-1]['request_keys_bytes']) / max(requests, 1):.0f} bytes per request" if requests else ""))
PY
