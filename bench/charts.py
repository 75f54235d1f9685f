"""Draw each measure's curve, product and ceiling against size on log axes, as a small hand-written SVG.

    .venv/bin/python bench/charts.py measures.json [--out docs/bench]

run_all.py --write-docs calls `draw_all`; docs/benchmarks.md links each chart beside its row. Two lines that stay
parallel mean the product grows like its ceiling; a product line steeper than the ceiling's grows faster than
the work.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Measure, fmt, read_measures  # noqa: E402

WIDTH, HEIGHT = 360, 220
LEFT, RIGHT, TOP, BOTTOM = 58, 12, 26, 40
PRODUCT, CEILING = "#c0392b", "#2471a3"


def slug(measure: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", measure.lower()).strip("-")[:80]


def _ticks(low: float, high: float) -> list[float]:
    """Powers of ten covering [low, high] (at least two)."""
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    if first == last:
        last += 1
    return [10.0**e for e in range(first, last + 1)]


def svg(measure: str, points: list[Measure]) -> str:
    """One chart: x = size, y = value (both log10); product in red, ceiling in blue, dashed."""
    points = sorted(points, key=lambda m: m.size)
    values = [v for m in points for v in (m.product, m.ceiling) if v > 0]
    if not values:
        values = [1.0]
    xs, ys = _ticks(min(m.size for m in points), max(m.size for m in points)), _ticks(min(values), max(values))
    x0, x1, y0, y1 = math.log10(xs[0]), math.log10(xs[-1]), math.log10(ys[0]), math.log10(ys[-1])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(size: float) -> float:
        return LEFT + (math.log10(size) - x0) / (x1 - x0) * plot_w

    def py(value: float) -> float:
        return TOP + plot_h - (math.log10(value) - y0) / (y1 - y0) * plot_h

    unit = points[0].unit
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        'font-family="sans-serif" font-size="10">',
        f"<title>{_escape(measure)}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{LEFT}" y="14" font-size="11" font-weight="bold">{_escape(measure[:58])}</text>',
    ]
    for tick in xs:
        x = px(tick)
        parts.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{TOP + plot_h}" stroke="#ddd"/>')
        parts.append(f'<text x="{x:.1f}" y="{TOP + plot_h + 12}" text-anchor="middle">{fmt(tick)}</text>')
    for tick in ys:
        y = py(tick)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{LEFT - 4}" y="{y + 3:.1f}" text-anchor="end">{fmt(tick)}</text>')
    parts.append(f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 14}" text-anchor="middle">size</text>')
    parts.append(f'<text x="4" y="{TOP - 6}">{_escape(unit)}</text>')
    for label, color, dash, attribute in (("product", PRODUCT, "", "product"), ("ceiling", CEILING, "4 3", "ceiling")):
        coords = [(px(m.size), py(getattr(m, attribute))) for m in points if getattr(m, attribute) > 0]
        if coords:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
            dashes = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"{dashes}/>')
            parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{color}"/>' for x, y in coords]
        legend_x = LEFT + (0 if label == "product" else 80)
        parts.append(f'<text x="{legend_x}" y="{HEIGHT - 2}" fill="{color}">— {label}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def draw_all(measures: list[Measure], folder: Path) -> list[Path]:
    """One SVG per measure name in `folder`; returns the files written."""
    grouped: dict[str, list[Measure]] = defaultdict(list)
    for m in measures:
        grouped[m.measure].append(m)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for measure, points in grouped.items():
        path = folder / f"{slug(measure)}.svg"
        path.write_text(svg(measure, points))
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("measures", type=Path, help="a JSON list written by run_all.py --json")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "bench")
    args = parser.parse_args()
    for path in draw_all(read_measures(args.measures), args.out):
        print(path)


if __name__ == "__main__":
    main()
