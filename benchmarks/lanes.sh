#!/usr/bin/env bash
# The writer lanes against the database's cores, side by side with raw COPY in each run: JMH BatchWriteBenchmark
# (tracerboyWriter, rawCopy; 10 000 events per batch; 100 000 and 1 000 000 users/hour) for WRITER_LANES 1, 2 and 4,
# with the PostgreSQL cluster of DATABASE_URL (a local one: its processes are pinned with taskset) on 1 core, then on
# every core of this machine. Writes benchmarks/lanes/lanes-Ncores.json and prints the tables (benchmarks/jmh-summary.py).
# Usage: benchmarks/lanes.sh [CORE_COUNTS, default "1 2"] [LANES, default "1,2,4"]. Needs DATABASE_URL on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
CORE_COUNTS=${1:-"1 2"}
LANES=${2:-1,2,4}
: "${DATABASE_URL:?DATABASE_URL: expected the JDBC URL of a PostgreSQL cluster on this machine, found nothing}"
PORT=$(echo "$DATABASE_URL" | sed -E 's|.*//[^:/]+:([0-9]+)/.*|\1|')
DATA_DIR=$(pg_lsclusters -h | awk -v p="$PORT" '$3 == p {print $6}')
[ -n "$DATA_DIR" ] || { echo "DATABASE_URL: expected a cluster of this machine (pg_lsclusters), found port $PORT" >&2; exit 2; }
BENCH_JAR=benchmarks/target/benchmarks.jar
[ -f "$BENCH_JAR" ] || mvn -B -q package -DskipTests
POSTMASTER=$(head -1 "$DATA_DIR/postmaster.pid")
pin() { # every process of the cluster, and (by inheritance) the backends it starts from now on
    for pid in "$POSTMASTER" $(pgrep -P "$POSTMASTER"); do taskset -a -pc "$1" "$pid" >/dev/null; done
}
trap 'pin "0-$(( $(nproc) - 1 ))"' EXIT
mkdir -p benchmarks/lanes
for cores in $CORE_COUNTS; do
    pin "0-$((cores - 1))"
    echo "PostgreSQL on $cores of $(nproc) cores (taskset -pc 0-$((cores - 1))), the JVM on all"
    java -jar "$BENCH_JAR" 'BatchWriteBenchmark\.(tracerboyWriter|rawCopy)$' -p batchSize=10000 \
        -p usersPerHour=100000,1000000 -p lanes="$LANES" -f 1 -wi 3 -w 3 -i 5 -r 3 \
        -rf json -rff "benchmarks/lanes/lanes-${cores}cores.json" > "benchmarks/lanes/lanes-${cores}cores.log" 2>&1
    python3 benchmarks/jmh-summary.py "benchmarks/lanes/lanes-${cores}cores.json"
done
