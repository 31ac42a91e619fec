"""Server-rendered SVG charts: no JavaScript, no build, readable without colour (every series is labelled)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT, PAD = 720, 220, 36
COLOURS = {
    "positive": "#2e7d32",
    "neutral": "#9e9e9e",
    "negative": "#c62828",
    "unclassified": "#d7ccc8",
    "volume": "#1565c0",
}


@dataclass(frozen=True)
class Point:
    label: str  # shown on the x axis, e.g. '12 Nov'
    value: float


def _frame(title: str, body: str) -> Markup:
    return Markup(
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{body}</svg>'
    )


def _x(i: int, n: int) -> float:
    return PAD + (WIDTH - 2 * PAD) * (i / max(1, n - 1))


def _y(value: float, top: float) -> float:
    return HEIGHT - PAD - (HEIGHT - 2 * PAD) * (value / top if top else 0)


def _axes(points: Sequence[Point], top: float) -> str:
    n = len(points)
    step = max(1, n // 8)
    parts = [
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#888"/>',
        f'<text x="4" y="{PAD}" font-size="11">{top:g}</text>',
        f'<text x="4" y="{HEIGHT - PAD}" font-size="11">0</text>',
    ]
    parts += [
        f'<text x="{_x(i, n):.1f}" y="{HEIGHT - 12}" font-size="10" text-anchor="middle">{escape(p.label)}</text>'
        for i, p in enumerate(points)
        if i % step == 0
    ]
    return "".join(parts)


def line_chart(title: str, points: Sequence[Point], marked: Sequence[int] = ()) -> Markup:
    """A line of `points`, with `marked` buckets (spikes) circled and labelled."""
    if not points:
        return Markup("")
    top = max(p.value for p in points) or 1
    path = " ".join(
        f"{'M' if i == 0 else 'L'}{_x(i, len(points)):.1f},{_y(p.value, top):.1f}" for i, p in enumerate(points)
    )
    dots = "".join(
        f'<circle class="spike" cx="{_x(i, len(points)):.1f}" cy="{_y(points[i].value, top):.1f}" r="6" '
        f'fill="none" stroke="#c62828" stroke-width="2"><title>spike: {points[i].value:g} on {escape(points[i].label)}'
        f"</title></circle>"
        f'<text x="{_x(i, len(points)):.1f}" y="{_y(points[i].value, top) - 10:.1f}" font-size="11" '
        f'text-anchor="middle" fill="#c62828">spike {points[i].value:g}</text>'
        for i in marked
    )
    tips = "".join(
        f'<circle cx="{_x(i, len(points)):.1f}" cy="{_y(p.value, top):.1f}" r="2.5" fill="{COLOURS["volume"]}">'
        f"<title>{escape(p.label)}: {p.value:g}</title></circle>"
        for i, p in enumerate(points)
    )
    body = _axes(points, top) + f'<path d="{path}" fill="none" stroke="{COLOURS["volume"]}" stroke-width="2"/>'
    return _frame(title, body + tips + dots)


def stacked_bars(title: str, labels: Sequence[str], series: dict[str, Sequence[int]]) -> Markup:
    """One bar per bucket, stacked by series (e.g. negative / neutral / positive), with a legend."""
    if not labels:
        return Markup("")
    totals = [sum(values[i] for values in series.values()) for i in range(len(labels))]
    top = max(totals) or 1
    n = len(labels)
    width = max(2.0, (WIDTH - 2 * PAD) / n - 2)
    bars = []
    for i, label in enumerate(labels):
        base = 0
        for name, values in series.items():
            value = values[i]
            if not value:
                continue
            y_top, y_base = _y(base + value, top), _y(base, top)
            bars.append(
                f'<rect class="bar {name}" x="{_x(i, n) - width / 2:.1f}" y="{y_top:.1f}" width="{width:.1f}" '
                f'height="{y_base - y_top:.1f}" fill="{COLOURS.get(name, "#555")}"><title>{escape(label)} {name}: '
                f"{value}</title></rect>"
            )
            base += value
    legend = "".join(
        f'<rect x="{PAD + 110 * k}" y="4" width="10" height="10" fill="{COLOURS.get(name, "#555")}"/>'
        f'<text x="{PAD + 14 + 110 * k}" y="13" font-size="11">{escape(name)}</text>'
        for k, name in enumerate(series)
    )
    points = [Point(label, 0) for label in labels]
    return _frame(title, _axes(points, top) + "".join(bars) + legend)


def horizontal_bars(title: str, rows: Sequence[tuple[str, float, str]]) -> Markup:
    """Labelled bars, largest first: (label, value, value shown as text)."""
    if not rows:
        return Markup("")
    top = max(v for _, v, _ in rows) or 1
    longest = WIDTH - 380  # leaves room after the longest bar for its text ('140 · reach 815,012')
    height = 28 * len(rows) + 10
    body = "".join(
        f'<text x="4" y="{24 + 28 * k}" font-size="12">{escape(label)}</text>'
        f'<rect class="bar" x="180" y="{10 + 28 * k}" width="{longest * value / top:.1f}" height="18" '
        f'fill="{COLOURS["volume"]}"><title>{escape(label)}: {escape(shown)}</title></rect>'
        f'<text x="{186 + longest * value / top:.1f}" y="{24 + 28 * k}" font-size="12">{escape(shown)}</text>'
        for k, (label, value, shown) in enumerate(rows)
    )
    return Markup(
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {WIDTH} {height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{body}</svg>'
    )
