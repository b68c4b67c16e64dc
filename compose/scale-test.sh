#!/usr/bin/env bash
# Local scale test, no Docker: three tracerboy replicas on three ports against one PostgreSQL, Debian's nginx with the
# same gateway configuration as compose (nginx/tracerboy.conf, upstream pointed at the local ports), wrk load through
# the gateway with users overlapping across replicas and hours, then exact counts per hour checked three ways:
# GET through the gateway = hourly_stats = a count over the raw events table; and events stored vs 204s counted, by the
# same Reconciler (test-support) the Java benchmarks and Gatling scenarios use.
# Usage: compose/scale-test.sh [seconds] [connections]. Needs wrk, nginx (apt-get install -y wrk nginx), psql.
# Uses DATABASE_URL's server if set (its user needs CREATEDB), else starts this machine's PostgreSQL 15 cluster.
# Ports: TB_PORT (the replicas take it and the next two) and GATEWAY_PORT; default free ports
# (benchmarks/ports.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-15}
CONNECTIONS=${2:-64}
source benchmarks/ports.sh
PORTS=("${REPLICA_PORTS[@]}")
JAR=http-edge/target/tracerboy.jar
for tool in wrk nginx psql; do
    command -v "$tool" >/dev/null || { echo "$tool is needed: apt-get install -y wrk nginx postgresql-client" >&2; exit 2; }
done
[ -f "$JAR" ] && [ -f benchmarks/target/benchmarks.jar ] || mvn -B -q package -DskipTests
[ -n "${DATABASE_URL:-}" ] || source .ci/postgres.sh

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# A fresh database on the same server, named after this run.
DB="tb_scale_$$"
BASE_URL=${DATABASE_URL%%\?*}
QUERY=${DATABASE_URL#*\?}
PG_HOSTPORT=${BASE_URL#jdbc:postgresql://}; PG_HOSTPORT=${PG_HOSTPORT%%/*}
PG_HOST=${PG_HOSTPORT%%:*}; PG_PORT=${PG_HOSTPORT##*:}; [ "$PG_PORT" = "$PG_HOST" ] && PG_PORT=5432
param() { echo "$QUERY" | tr '&' '\n' | awk -F= -v k="$1" '$1 == k {print $2}'; }
export PGHOST=$PG_HOST PGPORT=$PG_PORT PGUSER=$(param user) PGPASSWORD=$(param password)
psql -q -d postgres -c "CREATE DATABASE $DB"
trap 'cleanup; psql -q -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
RUN_URL="jdbc:postgresql://$PG_HOSTPORT/$DB?$QUERY"

for i in "${!PORTS[@]}"; do
    DATABASE_URL=$RUN_URL PORT=${PORTS[$i]} BIND_ADDRESS=127.0.0.1 java -jar "$JAR" > "$WORK/replica-$i.log" 2>&1 &
    PIDS+=($!)
done

# The gateway: compose's server block, with the upstream listing the local replicas.
{
    echo "upstream tracerboy {"
    for port in "${PORTS[@]}"; do echo "    server 127.0.0.1:$port max_fails=2 fail_timeout=5s;"; done
    echo "    keepalive 64;"
    echo "}"
} > "$WORK/upstream.conf"
sed -e "s|include /etc/nginx/tracerboy-upstream.conf;|include $WORK/upstream.conf;|" \
    -e "s|listen 4000;|listen 127.0.0.1:$GATEWAY_PORT;|" compose/nginx/tracerboy.conf > "$WORK/tracerboy.conf"
cat > "$WORK/nginx.conf" <<NGINX
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 4096; }
http {
    client_body_temp_path $WORK/tmp;
    proxy_temp_path $WORK/tmp;
    include $WORK/tracerboy.conf;
}
NGINX
mkdir -p "$WORK/tmp"
nginx -t -q -c "$WORK/nginx.conf" -p "$WORK"
nginx -c "$WORK/nginx.conf" -p "$WORK"

for port in "${PORTS[@]}" "$GATEWAY_PORT"; do
    for _ in $(seq 1 600); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
done

# Two random past hours of the last week (within EVENT_RETENTION_HOURS), 20 000 users overlapping across replicas
# (round-robin spreads every user).
export HOUR_MS=$(( ($(date +%s) / 3600 - 3 - RANDOM % 150) * 3600 * 1000 )) HOURS=2 USERS=20000
wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" -s benchmarks/wrk/post-events.lua "http://127.0.0.1:$GATEWAY_PORT" > "$WORK/wrk.out"
ACKED=$(awk '$1 == "TB_204" {print $2}' "$WORK/wrk.out")

# Wait for the three writers to drain: the stored count stops moving and covers every 204.
PREV=-1
for _ in $(seq 1 600); do
    STORED=$(psql -tAq -d "$DB" -c "SELECT count(*) FROM events")
    [ "$STORED" -ge "$ACKED" ] && [ "$STORED" -eq "$PREV" ] && break
    PREV=$STORED; sleep 0.3
done

FAILED=0
echo "3 replicas behind nginx $(nginx -v 2>&1 | cut -d/ -f2), one PostgreSQL; wrk -t1 -c$CONNECTIONS -d${DURATION}s through the gateway"
grep -E "Requests/sec|Non-2xx|Socket errors" "$WORK/wrk.out" | sed 's/^ */wrk: /'
# The shared reconciler (test-support): each hour via the gateway's GET = hourly_stats = a recount over raw events, and
# events stored vs 204s counted (at most one request per connection more: in flight when wrk stopped counting).
java -cp benchmarks/target/benchmarks.jar io.tracerboy.testsupport.Reconciler "$RUN_URL" \
    "http://127.0.0.1:$GATEWAY_PORT" "$HOUR_MS" 2 "$ACKED" "$CONNECTIONS" || FAILED=1
PER_REPLICA=$(for i in "${!PORTS[@]}"; do curl -fs "http://127.0.0.1:${PORTS[$i]}/metrics" | awk '$1 == "tracerboy_rows_written_total" {printf "%d ", $2}'; done)
echo "rows written per replica: $PER_REPLICA"

for i in "${!PIDS[@]}"; do
    kill -TERM "${PIDS[$i]}"; STATUS=0; wait "${PIDS[$i]}" || STATUS=$?
    [ "$STATUS" -eq 0 ] || { echo "replica $i exited $STATUS" >&2; FAILED=1; }
done
PIDS=()
[ "$FAILED" -eq 0 ] && echo "exact: every hour agrees three ways, every replica stopped cleanly"
exit $FAILED
