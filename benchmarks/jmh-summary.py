#!/usr/bin/env python3
"""Turns a JMH JSON result (java -jar benchmarks.jar ... -rf json) into markdown tables; for BatchWriteBenchmark,
rows/s per method and tracerboy's ratios to raw COPY and to one INSERT per event, measured in the same run.
JMH writes a score or error it cannot compute (one iteration, one fork) as the string "NaN": shown as "-"."""
import json
import math
import sys
from collections import defaultdict


def number(value):
    """A JMH figure as a float: numbers as they are, "NaN" and "Infinity" (JSON strings) as Python's."""
    return float(value)


def fmt(x, spec):
    return "-" if x is None or math.isnan(x) else format(x, spec)


results = json.load(open(sys.argv[1]))
batch = defaultdict(dict)
other = []
for r in results:
    name = r["benchmark"].split(".")
    cls, method = name[-2], name[-1]
    score, unit = number(r["primaryMetric"]["score"]), r["primaryMetric"]["scoreUnit"]
    error = number(r["primaryMetric"]["scoreError"])
    params = r.get("params", {})
    if cls == "BatchWriteBenchmark":
        key = (int(params["batchSize"]), int(params["usersPerHour"]), int(params.get("lanes", 1)))
        batch[key][method] = score
        batch[key][method + " error"] = error
    else:
        label = method + ("" if not params else " " + ",".join(f"{k}={v}" for k, v in params.items()))
        threads = r.get("threads", 1)
        other.append((cls, label, threads, score, error, unit))

if batch:
    print("| batch size | users/hour | lanes | tracerboy writer ms/batch | raw COPY ms/batch | tracerboy writer rows/s "
          "| raw COPY rows/s | INSERT per event rows/s | writer / raw COPY | writer / INSERT |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (size, users, lanes), m in sorted(batch.items()):
        def ms(method):
            v, e = m.get(method), m.get(method + " error")
            return "-" if v is None else fmt(v, ".1f") + ("" if e is None or math.isnan(e) else " ±" + fmt(e, ".1f"))
        # scores are ms per batch (NaN > 0 is False)
        rows = {k: size / v * 1000 for k, v in m.items() if not k.endswith(" error") and v > 0}
        w, c, i = rows.get("tracerboyWriter"), rows.get("rawCopy"), rows.get("insertPerEvent")
        to_copy = fmt(w / c if w and c else None, ".2f")
        to_insert = fmt(w / i if w and i else None, ".0f")
        print(f"| {size:,} | {users:,} | {lanes} | {ms('tracerboyWriter')} | {ms('rawCopy')} | {fmt(w, ',.0f')} | "
              f"{fmt(c, ',.0f')} | {fmt(i, ',.0f')} | {to_copy} | {to_insert}{'×' if to_insert != '-' else ''} |")
if other:
    print()
    print("| benchmark | method | threads | score | error | unit |")
    print("|---|---|---|---|---|---|")
    for cls, label, threads, score, error, unit in other:
        spread = fmt(error, ",.3f")
        spread = spread if spread == "-" else "±" + spread
        print(f"| {cls} | {label} | {threads} | {fmt(score, ',.3f')} | {spread} | {unit} |")
