"""Server-side SVG for dashboards: a time series per metric and sparklines. Every text is escaped and no style
attribute is written (the CSP forbids inline styles); colours are presentation attributes."""

import html

PALETTE = ["#175cd3", "#e04f16", "#137a3a", "#7a5af8", "#c11574", "#0e9384", "#b54708", "#667085"]
_W, _H, _LEFT, _RIGHT, _TOP, _BOTTOM = 760, 260, 56, 12, 30, 40


def _esc(text) -> str:
    return html.escape(str(text), quote=True)


def _fmt(value) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:,.2f}"


def series_svg(title: str, labels: list[str], series: list[tuple[str, list]]) -> str:
    """Lines, one per series, one point per window; gaps where a value is n/a (not additive at that grain)."""
    values = [v for _name, vs in series for v in vs if v is not None]
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" width="{_W}" height="{_H}" role="img" '
        f'aria-label="{_esc(title)}"><title>{_esc(title)}</title>'
        f'<text x="{_LEFT}" y="18" font-size="13" font-weight="600" fill="#101828">{_esc(title)}</text>'
    )
    if not values or not labels:
        return head + f'<text x="{_LEFT}" y="{_H / 2}" fill="#667085">No data</text></svg>'
    low, high = min(0.0, min(values)), max(values)
    high = high if high > low else low + 1
    step = (_W - _LEFT - _RIGHT) / max(1, len(labels) - 1)
    # Where the windows sit, for the date-range brush (static/js/dashboard_brush.js): x of window i = left + i × step.
    head = head.replace(
        "<svg ",
        f'<svg data-brush-windows="{_esc(",".join(labels))}" data-brush-left="{_LEFT}" data-brush-step="{step:.3f}" '
        f'data-brush-top="{_TOP}" data-brush-bottom="{_H - _BOTTOM}" ',
        1,
    )

    def x(i):
        return _LEFT + i * step if len(labels) > 1 else (_W + _LEFT) / 2

    def y(v):
        return _TOP + (1 - (v - low) / (high - low)) * (_H - _TOP - _BOTTOM)

    parts = [head]
    for tick in range(5):
        value = low + (high - low) * tick / 4
        parts.append(
            f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#eaecf0"/>'
            f'<text x="{_LEFT - 6}" y="{y(value) + 4:.1f}" font-size="10" text-anchor="end" fill="#667085">'
            f"{_esc(_fmt(value))}</text>"
        )
    every = max(1, len(labels) // 8)
    for i, label in enumerate(labels):
        if i % every == 0 or i == len(labels) - 1:
            parts.append(
                f'<text x="{x(i):.1f}" y="{_H - _BOTTOM + 16}" font-size="10" text-anchor="middle" fill="#667085">'
                f"{_esc(label)}</text>"
            )
    for number, (name, vs) in enumerate(series):
        colour = PALETTE[number % len(PALETTE)]
        path, pen = [], "M"
        for i, v in enumerate(vs):
            if v is None:
                pen = "M"
                continue
            path.append(f"{pen}{x(i):.1f},{y(v):.1f}")
            pen = "L"
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5" fill="{colour}">'
                f"<title>{_esc(name)} {_esc(labels[i])}: {_esc(_fmt(v))}</title></circle>"
            )
        if path:
            parts.append(f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" stroke-width="2"/>')
        if len(series) > 1:
            lx = _LEFT + (number % 4) * 170
            ly = _H - 8 - (number // 4) * 0
            parts.append(
                f'<rect x="{lx}" y="{ly - 8}" width="10" height="10" fill="{colour}"/>'
                f'<text x="{lx + 14}" y="{ly + 1}" font-size="11" fill="#344054">{_esc(name)[:24]}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def sparkline_svg(values: list, width: int = 120, height: int = 28) -> str:
    points = [(i, v) for i, v in enumerate(values) if v is not None]
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" aria-hidden="true">'
    )
    if len(points) < 2:
        return head + "</svg>"
    low, high = min(v for _i, v in points), max(v for _i, v in points)
    span = high - low or 1
    step = (width - 4) / max(1, len(values) - 1)
    coords = " ".join(f"{2 + i * step:.1f},{height - 2 - (v - low) / span * (height - 4):.1f}" for i, v in points)
    return head + f'<polyline points="{coords}" fill="none" stroke="#175cd3" stroke-width="1.5"/></svg>'
