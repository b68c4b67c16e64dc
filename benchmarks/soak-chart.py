#!/usr/bin/env python3
"""Draws docs/soak.svg from benchmarks/soak/soak-{noids,ids,keys}.csv (benchmarks/soak.sh): rows committed per second
every 10 s, one line per mode, and the size of events over time. No plotting library needed: plain SVG."""
import csv
import os
import sys

MODES = [("noids", "no ids", "#1f77b4"), ("ids", "a random UUIDv4 id on every event", "#d62728"),
         ("keys", "an Idempotency-Key on every request", "#2ca02c")]
here = os.path.dirname(os.path.abspath(__file__))
series = {}
for mode, _, _ in MODES:
    path = os.path.join(here, "soak", "soak-%s.csv" % mode)
    if os.path.exists(path):
        rows = [(int(r["seconds"]), int(r["rows_per_s"]), int(r["events_bytes"])) for r in csv.DictReader(open(path))]
        if rows:
            series[mode] = rows
if not series:
    sys.exit("no benchmarks/soak/soak-*.csv: run benchmarks/soak.sh first")

W, H, L, R, T, B = 760, 300, 70, 20, 30, 40
def chart(title, index, scale, unit, y0):
    xmax = max(s[-1][0] for s in series.values())
    ymax = max(max(p[index] for p in s) for s in series.values()) / scale * 1.1
    out = ['<g transform="translate(0,%d)">' % y0,
           '<text x="%d" y="18" font-size="14">%s</text>' % (L, title)]
    for i in range(5):
        y = T + (H - T - B) * i / 4
        out.append('<line x1="%d" x2="%d" y1="%.0f" y2="%.0f" stroke="#ddd"/>' % (L, W - R, y, y))
        out.append('<text x="%d" y="%.0f" font-size="11" text-anchor="end">%.0f%s</text>'
                   % (L - 4, y + 4, ymax * (4 - i) / 4, unit))
    for minute in range(0, xmax // 60 + 1, 5):
        x = L + (W - L - R) * minute * 60 / xmax
        out.append('<text x="%.0f" y="%d" font-size="11" text-anchor="middle">%d min</text>' % (x, H - B + 16, minute))
    for mode, label, colour in MODES:
        if mode in series:
            pts = " ".join("%.1f,%.1f" % (L + (W - L - R) * t / xmax, T + (H - T - B) * (1 - v / scale / ymax))
                           for t, *vals in series[mode] for v in [vals[index - 1]])
            out.append('<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>' % (colour, pts))
    out.append('</g>')
    return out

svg = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif">' % (W, 2 * H + 30)]
svg += chart("rows committed per second, every 10 s (thousands)", 1, 1000, "k", 0)
svg += chart("size of events, indexes included (GB)", 2, 1e9, "", H)
for i, (mode, label, colour) in enumerate(MODES):
    if mode in series:
        svg.append('<text x="%d" y="%d" font-size="12" fill="%s">%s</text>' % (L + (0, 90, 340)[i], 2 * H + 20, colour, label))
svg.append('</svg>')
target = os.path.join(here, "..", "docs", "soak.svg")
open(target, "w").write("\n".join(svg) + "\n")
print("wrote", os.path.normpath(target))
