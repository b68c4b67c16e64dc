#!/usr/bin/env bash
# The whole benchmark suite in one invocation, as BENCHMARKS.md reports it: every ratio below is measured side by side
# in this run on this machine. Output goes to benchmarks/results/latest/ (kept out of git, except what BENCHMARKS.md
# quotes). Takes ~12 minutes on 2 cores. Needs wrk (apt-get install -y wrk).
#   1. end to end: bare Undertow 204 vs tracerboy (POSTs, buffered and committed; GETs), with reconciliation, and
#      GET latency beside a POST load
#   2. JMH: the batch writer vs raw COPY vs one INSERT per event (batch sizes x user cardinalities), ring publish
#      with 1/2/4 producers, query parsing, COPY encoding, GET lookup
#   3. a 30 s database outage under load (ring, 503s, drain)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=benchmarks/results/latest
mkdir -p "$OUT"
mvn -B -q package -DskipTests
echo "== end to end (wrk)"
VARIANTS='--ack-mode=buffered;--ack-mode=committed' benchmarks/e2e-ingest.sh "${E2E_SECONDS:-20}" 64 | tee "$OUT/e2e.txt"
echo "== GET latency under a mixed load (wrk)"
benchmarks/get-under-load.sh "${E2E_SECONDS:-20}" | tee "$OUT/get-under-load.txt"
echo "== JMH"
java -jar benchmarks/target/benchmarks.jar 'BatchWrite|RingPublish|QueryParse|CopyEncode|HourlyLookup' \
    -rf json -rff "$OUT/jmh.json" > "$OUT/jmh.log" 2>&1
python3 benchmarks/jmh-summary.py "$OUT/jmh.json" | tee "$OUT/jmh.md"
echo "== outage"
java -cp benchmarks/target/benchmarks.jar io.tracerboy.bench.OutageBenchmark 5000 30 262144 2>/dev/null \
    | grep -vE "^[0-9]{2}:[0-9]{2}" | tee "$OUT/outage.txt"
