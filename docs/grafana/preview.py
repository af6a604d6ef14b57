#!/usr/bin/env python3
"""Draws docs/grafana/preview.svg from rectrack.json: the dashboard's panel layout (Grafana's
24-column grid), each panel with its title, kind and first query. Grafana itself does not run
here; this shows what the JSON lays out, not live data.

    python3 docs/grafana/preview.py
"""

import json
import math
import pathlib
from xml.sax.saxutils import escape

HERE = pathlib.Path(__file__).parent
COLUMN, ROW, GAP = 50, 30, 6  # pixels per grid column and row, and between panels


def wave(x, y, w, h, seed):
    """A placeholder series: the shape of a chart, not data."""
    points = []
    for i in range(41):
        t = i / 40
        v = 0.5 + 0.3 * math.sin(6.0 * t + seed) + 0.15 * math.sin(17.0 * t + 2 * seed)
        points.append(f"{x + t * w:.1f},{y + h - v * h:.1f}")
    return f'<polyline points="{" ".join(points)}" fill="none" stroke="#73bf69" stroke-width="2"/>'


def panel(p):
    g = p["gridPos"]
    x, y = g["x"] * COLUMN + GAP, g["y"] * ROW + GAP
    w, h = g["w"] * COLUMN - GAP, g["h"] * ROW - GAP
    title = escape(p["title"])
    if p["type"] == "row":
        return f'<text x="{x}" y="{y + 18}" class="row">{title}</text>'
    out = [f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="4" class="panel"/>',
           f'<text x="{x + 10}" y="{y + 20}" class="title">{title}</text>']
    expr = p["targets"][0]["expr"] if p.get("targets") else ""
    short = expr if len(expr) <= w // 6.2 else expr[: int(w // 6.2) - 1] + "…"
    out.append(f'<text x="{x + 10}" y="{y + h - 10}" class="expr">{escape(short)}</text>')
    if p["type"] == "stat":
        out.append(f'<text x="{x + w / 2}" y="{y + h / 2 + 14}" class="stat">NaN</text>')
    else:
        out.append(wave(x + 10, y + 32, w - 20, h - 62, p["id"]))
    return "\n".join(out)


def main():
    dash = json.loads((HERE / "rectrack.json").read_text(encoding="utf-8"))
    bottom = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in dash["panels"])
    width, height = 24 * COLUMN + GAP, bottom * ROW + GAP + 40
    body = "\n".join(panel(p) for p in dash["panels"])
    svg = f"""<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 -40 {width} {height}">
<style>
  .panel {{ fill: #181b1f; stroke: #2c3235; }}
  .title {{ fill: #d8d9da; font: 600 14px sans-serif; }}
  .row {{ fill: #d8d9da; font: 600 16px sans-serif; }}
  .expr {{ fill: #8e8e8e; font: 10px monospace; }}
  .stat {{ fill: #8e8e8e; font: 600 40px sans-serif; text-anchor: middle; }}
  .head {{ fill: #d8d9da; font: 600 20px sans-serif; }}
</style>
<rect x="0" y="-40" width="{width}" height="{height}" fill="#111217"/>
<text x="{GAP}" y="-12" class="head">{escape(dash["title"])}（版面预览，非实时数据）</text>
{body}
</svg>
"""
    (HERE / "preview.svg").write_text(svg, encoding="utf-8")


if __name__ == "__main__":
    main()
