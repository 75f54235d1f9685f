"""Server-side SVG charts of a schedule's history: every text escaped, no style attributes (the CSP forbids them)."""

import html
import math
from datetime import date

from .models import ScheduleRun

Status = ScheduleRun.Status

STATUS_COLORS = {
    Status.SUCCEEDED: "#137a3a", Status.FAILED: "#b42318", Status.CANCELLED: "#f79009", Status.SKIPPED: "#98a2b3",
    Status.RETRYING: "#9a6700", Status.WAITING: "#dc6803", Status.CLAIMED: "#84adff", Status.SUBMITTED: "#175cd3",
    Status.RUNNING: "#2e90fa",
}  # fmt: skip

# --- Charts (server-side SVG, every text escaped, no style attributes: the CSP forbids inline styles) --------------

_W, _H = 720, 240
_LEFT, _RIGHT, _TOP, _BOTTOM = 44, 12, 34, 28


def runs_chart_svg(days: list[tuple[date, dict[str, int]]]) -> str:
    """Stacked bars: runs per day, coloured by status, with a legend and a tooltip per segment."""
    title = "Runs per day by status"
    if not days:
        return _empty_svg(title)
    peak = max(sum(counts.values()) for _day, counts in days)
    ticks = _int_ticks(peak)
    slot_w = (_W - _LEFT - _RIGHT) / len(days)
    bar_w = max(1.0, slot_w * 0.7)
    parts = _frame(title, ticks, "runs")
    statuses = [value for value, _label in Status.choices if any(value in counts for _day, counts in days)]
    for index, (day, counts) in enumerate(days):
        x = _LEFT + index * slot_w + (slot_w - bar_w) / 2
        base = 0
        for status in statuses:
            n = counts.get(status, 0)
            if not n:
                continue
            y_top, y_bottom = _y(base + n, ticks[-1]), _y(base, ticks[-1])
            parts.append(
                f'<rect x="{x:.1f}" y="{y_top:.1f}" width="{bar_w:.1f}" height="{y_bottom - y_top:.1f}" '
                f'fill="{STATUS_COLORS.get(status, "#667085")}"><title>{_esc(day.isoformat())}: {n} {_esc(status)}'
                "</title></rect>"
            )
            base += n
    parts += _x_labels([day for day, _counts in days], slot_w)
    parts += _legend([(STATUS_COLORS.get(s, "#667085"), Status(s).label) for s in statuses])
    parts.append("</svg>")
    return "\n".join(parts)


def durations_chart_svg(points: list[tuple[date, float]]) -> str:
    """A line of the average duration per day (minutes), with a tooltip per point."""
    title = "Average duration per day (minutes)"
    if not points:
        return _empty_svg(title)
    ticks = _nice_ticks(max(value for _day, value in points))
    slot_w = (_W - _LEFT - _RIGHT) / len(points)
    coords = [(_LEFT + (i + 0.5) * slot_w, _y(value, ticks[-1])) for i, (_day, value) in enumerate(points)]
    parts = _frame(title, ticks, "minutes")
    parts.append(
        '<polyline fill="none" stroke="#1f5fd6" stroke-width="2" points="'
        + " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        + '"/>'
    )
    for (x, y), (day, value) in zip(coords, points, strict=True):
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#1f5fd6"><title>{_esc(day.isoformat())}: '
            f"{value:.1f} min</title></circle>"
        )
    parts += _x_labels([day for day, _value in points], slot_w)
    parts.append("</svg>")
    return "\n".join(parts)


def _frame(title: str, ticks: list[float], unit: str) -> list[str]:
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" width="{_W}" height="{_H}" role="img" '
        f'aria-label="{_esc(title)}" font-family="sans-serif" font-size="11">',
        f"<title>{_esc(title)}</title>",
        f'<text x="{_LEFT}" y="14" font-size="13" font-weight="bold">{_esc(title)}</text>',
    ]
    for tick in ticks:
        y = _y(tick, ticks[-1])
        parts.append(f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e6ec"/>')
        label = f"{tick:g}"
        parts.append(f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_esc(label)}</text>')
    parts.append(f'<text x="4" y="{_TOP - 4}" fill="#667085">{_esc(unit)}</text>')
    return parts


def _y(value: float, top_value: float) -> float:
    plot_h = _H - _TOP - _BOTTOM
    return _TOP + plot_h - (value / top_value) * plot_h if top_value else _TOP + plot_h


def _x_labels(days: list[date], slot_w: float) -> list[str]:
    every = max(1, math.ceil(len(days) / 12))  # at most about a dozen labels
    return [
        f'<text x="{_LEFT + (i + 0.5) * slot_w:.1f}" y="{_H - 10}" text-anchor="middle">{_esc(day.strftime("%m-%d"))}'
        "</text>"
        for i, day in enumerate(days)
        if i % every == 0
    ]


def _legend(items: list[tuple[str, str]]) -> list[str]:
    parts, x = [], _W - _RIGHT
    for color, label in reversed(items):
        width = 14 + 6.5 * len(label)
        x -= width
        parts.append(f'<rect x="{x:.1f}" y="5" width="10" height="10" fill="{color}"/>')
        parts.append(f'<text x="{x + 13:.1f}" y="14">{_esc(label)}</text>')
    return parts


def _int_ticks(peak: int) -> list[float]:
    step = max(1, math.ceil(peak / 4))
    return [float(step * i) for i in range(5 if peak > 4 else peak + 1)] or [0.0, 1.0]


def _nice_ticks(peak: float) -> list[float]:
    if peak <= 0:
        return [0.0, 1.0]
    raw = peak / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [step * i for i in range(math.ceil(peak / step) + 1)]


def _empty_svg(title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} 60" width="{_W}" height="60" role="img" '
        f'aria-label="{_esc(title)}" font-family="sans-serif" font-size="12"><title>{_esc(title)}</title>'
        f'<text x="{_W / 2}" y="34" text-anchor="middle" fill="#667085">No runs to chart yet</text></svg>'
    )


def _esc(text: str) -> str:
    return html.escape(str(text), quote=True)
