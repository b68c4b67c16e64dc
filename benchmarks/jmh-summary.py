#!/usr/bin/env python3
"""Turns a JMH JSON result (java -jar benchmarks.jar ... -rf json) into markdown tables; for BatchWriteBenchmark,
rows/s per method and tracerboy's ratios to raw COPY and to one INSERT per event, measured in the same run."""
import json
import sys
from collections import defaultdict

results = json.load(open(sys.argv[1]))
batch = defaultdict(dict)
other = []
for r in results:
    name = r["benchmark"].split(".")
    cls, method = name[-2], name[-1]
    score, unit = r["primaryMetric"]["score"], r["primaryMetric"]["scoreUnit"]
    error = r["primaryMetric"]["scoreError"]
    params = r.get("params", {})
    if cls == "BatchWriteBenchmark":
        batch[(int(params["batchSize"]), int(params["usersPerHour"]))][method] = score
    else:
        label = method + ("" if not params else " " + ",".join(f"{k}={v}" for k, v in params.items()))
        threads = r.get("threads", 1)
        other.append((cls, label, threads, score, error, unit))

if batch:
    print("| batch size | users/hour | tracerboy writer rows/s | raw COPY rows/s | INSERT per event rows/s "
          "| writer / raw COPY | writer / INSERT |")
    print("|---|---|---|---|---|---|---|")
    for (size, users), m in sorted(batch.items()):
        rows = {k: size / v * 1000 for k, v in m.items()}  # scores are ms per batch
        w, c, i = rows.get("tracerboyWriter"), rows.get("rawCopy"), rows.get("insertPerEvent")
        fmt = lambda x: f"{x:,.0f}" if x else "-"
        print(f"| {size:,} | {users:,} | {fmt(w)} | {fmt(c)} | {fmt(i)} | "
              f"{(w / c) if w and c else float('nan'):.2f} | {(w / i) if w and i else float('nan'):.0f}× |")
if other:
    print()
    print("| benchmark | method | threads | score | error | unit |")
    print("|---|---|---|---|---|---|")
    for cls, label, threads, score, error, unit in other:
        print(f"| {cls} | {label} | {threads} | {score:,.3f} | ±{error:,.3f} | {unit} |")
