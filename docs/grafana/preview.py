#!/usr/bin/env python3
"""Draws docs/grafana/preview.svg: the dashboard in rectrack.json (Grafana's 24-column grid),
each panel drawn from what its own queries answer on a real Prometheus that scraped a running
rectrack. Grafana is not packaged for this machine; Prometheus is (Debian's `prometheus`), so
the queries are the dashboard's, evaluated by Prometheus, and only the drawing is ours.

    python3 docs/grafana/preview.py --prometheus http://127.0.0.1:19090 --minutes 6

docs/grafana/capture.sh starts rectrack and Prometheus, sends traffic and runs this.
"""

import argparse
import json
import pathlib
import time
import urllib.parse
import urllib.request
from xml.sax.saxutils import escape

HERE = pathlib.Path(__file__).parent
COLUMN, ROW, GAP = 50, 30, 6  # pixels per grid column and row, and between panels
COLOURS = ["#73bf69", "#f2cc0c", "#5794f2", "#ff780a", "#b877d9", "#f2495c", "#8ab8ff", "#fade2a"]


def query(base, path, params):
    url = f"{base}/api/v1/{path}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=30) as response:
        answer = json.load(response)
    if answer.get("status") != "success":
        raise SystemExit(f"Prometheus refused {params.get('query')}: {answer}")
    return answer["data"]["result"]


def expr_of(target, step):
    """The panel's query with the dashboard's variables as Grafana fills them."""
    rate = f"{max(4 * step, 15)}s"
    return target["expr"].replace('{job=~"$job"}', "").replace("$__rate_interval", rate)


def legend(target, labels):
    text = target.get("legendFormat") or ", ".join(f"{k}={v}" for k, v in labels.items())
    for key, value in labels.items():
        text = text.replace("{{" + key + "}}", value)
    return text or "value"


def number(value, unit):
    suffix = {"s": " s", "reqps": " 次/秒", "ops": " 次/秒"}.get(unit, "")
    if value != value:  # NaN
        return "无"
    if unit == "s" and value < 1:
        return f"{value * 1000:.3g} ms"
    return f"{value:.3g}{suffix}"


def timeseries(p, x, y, w, h, series, start, end):
    unit = p.get("fieldConfig", {}).get("defaults", {}).get("unit", "")
    out = []
    plot_x, plot_y, plot_w, plot_h = x + 48, y + 30, w - 58, h - 92
    values = [v for _, _, points in series for _, v in points if v == v]
    top = max(values) if values else 1.0
    top = top * 1.1 if top > 0 else 1.0
    for frac in (0.0, 0.5, 1.0):
        gy = plot_y + plot_h - frac * plot_h
        out.append(f'<line x1="{plot_x}" y1="{gy:.1f}" x2="{plot_x + plot_w}" y2="{gy:.1f}" class="grid"/>')
        out.append(f'<text x="{plot_x - 4}" y="{gy + 4:.1f}" class="axis" text-anchor="end">{escape(number(top * frac, unit))}</text>')
    for minute in range(0, int((end - start) // 60) + 1):
        t = start + minute * 60
        tx = plot_x + (t - start) / (end - start) * plot_w
        label = time.strftime("%H:%M", time.localtime(t))
        out.append(f'<text x="{tx:.1f}" y="{plot_y + plot_h + 14}" class="axis" text-anchor="middle">{label}</text>')
    for i, (name, _, points) in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        coords = [
            f"{plot_x + (t - start) / (end - start) * plot_w:.1f},{plot_y + plot_h - v / top * plot_h:.1f}"
            for t, v in points
            if v == v
        ]
        if coords:
            out.append(f'<polyline points="{" ".join(coords)}" fill="none" stroke="{colour}" stroke-width="1.6"/>')
    for i, (name, most, _) in enumerate(series[:3]):
        colour = COLOURS[i % len(COLOURS)]
        ly = plot_y + plot_h + 30 + i * 13
        short = name if len(name) <= w // 8 else name[: int(w // 8) - 1] + "…"
        out.append(f'<rect x="{x + 10}" y="{ly - 8}" width="10" height="3" fill="{colour}"/>')
        out.append(f'<text x="{x + 26}" y="{ly}" class="legend">{escape(short)}  最大 {escape(number(most, unit))}</text>')
    if len(series) > 3:
        out.append(f'<text x="{x + w - 10}" y="{plot_y + plot_h + 30}" class="legend" text-anchor="end">另 {len(series) - 3} 条</text>')
    if not series:
        out.append(f'<text x="{x + w / 2}" y="{y + h / 2}" class="axis" text-anchor="middle">无数据</text>')
    return out


def panel(p, base, start, end, step):
    g = p["gridPos"]
    x, y = g["x"] * COLUMN + GAP, g["y"] * ROW + GAP
    w, h = g["w"] * COLUMN - GAP, g["h"] * ROW - GAP
    title = escape(p["title"])
    if p["type"] == "row":
        return f'<text x="{x}" y="{y + 18}" class="row">{title}</text>'
    out = [f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="4" class="panel"/>',
           f'<text x="{x + 10}" y="{y + 20}" class="title">{title}</text>']
    unit = p.get("fieldConfig", {}).get("defaults", {}).get("unit", "")
    if p["type"] == "stat":
        result = query(base, "query", {"query": expr_of(p["targets"][0], step), "time": end})
        value = float(result[0]["value"][1]) if result else float("nan")
        out.append(f'<text x="{x + w / 2}" y="{y + h / 2 + 14}" class="stat">{escape(number(value, unit))}</text>')
        return "\n".join(out)
    series = []
    for target in p.get("targets", []):
        result = query(base, "query_range", {
            "query": expr_of(target, step), "start": start, "end": end, "step": step})
        for s in result:
            points = [(float(t), float(v)) for t, v in s["values"]]
            # The legend shows each series' highest value, as the dashboard's legend does (max).
            most = max((v for _, v in points if v == v), default=float("nan"))
            series.append((legend(target, s["metric"]), most, points))
    series.sort(key=lambda s: -max((v for _, v in s[2] if v == v), default=0))
    out.extend(timeseries(p, x, y, w, h, series, start, end))
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--prometheus", required=True, help="Prometheus' address")
    parser.add_argument("--minutes", type=float, default=6, help="the time range drawn")
    args = parser.parse_args()
    end = time.time()
    start = end - args.minutes * 60
    step = max(int(args.minutes * 60 / 120), 2)
    dash = json.loads((HERE / "rectrack.json").read_text(encoding="utf-8"))
    bottom = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in dash["panels"])
    width, height = 24 * COLUMN + GAP, bottom * ROW + GAP + 40
    body = "\n".join(panel(p, args.prometheus, start, end, step) for p in dash["panels"])
    taken = time.strftime("%Y-%m-%d %H:%M", time.localtime(end))
    svg = f"""<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 -40 {width} {height}">
<style>
  .panel {{ fill: #181b1f; stroke: #2c3235; }}
  .title {{ fill: #d8d9da; font: 600 14px sans-serif; }}
  .row {{ fill: #d8d9da; font: 600 16px sans-serif; }}
  .axis {{ fill: #8e8e8e; font: 10px sans-serif; }}
  .legend {{ fill: #c7d0d9; font: 10px sans-serif; }}
  .grid {{ stroke: #2c3235; stroke-width: 1; }}
  .stat {{ fill: #73bf69; font: 600 40px sans-serif; text-anchor: middle; }}
  .head {{ fill: #d8d9da; font: 600 20px sans-serif; }}
</style>
<rect x="0" y="-40" width="{width}" height="{height}" fill="#111217"/>
<text x="{GAP}" y="-12" class="head">{escape(dash["title"])}（Prometheus 实测数据，{taken}，{args.minutes:g} 分钟）</text>
{body}
</svg>
"""
    (HERE / "preview.svg").write_text(svg, encoding="utf-8")


if __name__ == "__main__":
    main()
