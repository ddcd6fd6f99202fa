"""Charts drawn on the server as accessible SVG: no JavaScript, no CDN, nothing the CSP would block.

Each builder returns SVG markup (safe to insert in a template) with `role="img"`, a
<title> and a <desc> named by `aria-labelledby`, and the value of every bar or point
written as text next to it, so that nothing is told by colour alone. The page puts a
<table> with the same numbers under each chart. Colours are the DSFR's; text is
#161616 on white (contrast 17.8:1); styling is done with presentation attributes
(fill, stroke), never a `style` attribute, which the site's CSP forbids.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils import formats
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

Number = int | float | Decimal

# DSFR colours: blue France (sun-113), its lighter tint, grey text and lines.
BLUE = "#000091"
BLUE_LIGHT = "#6a6af4"
TEXT = "#161616"
MUTED = "#666666"
LINE = "#929292"
WHITE = "#ffffff"

WIDTH = 720
FONT = 'font-family="Marianne, arial, sans-serif"'
# Fill of each series of a stacked chart: a colour and a pattern, told apart without colour.
SERIES_FILLS = ("solid", "hatch", "dots", "cross")


def plain_number(value: Number) -> str:
    """1 234 in the active language (no decimals)."""
    return formats.number_format(Decimal(value), 0, use_l10n=True, force_grouping=True)


def euros(value: Number) -> str:
    """« 12 345 € » in the active language, rounded to the euro."""
    return f"{plain_number(value)} €"


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[Number]


def _svg(*, chart_id: str, title: str, description: str, height: int, body: list[str]) -> SafeString:
    chart_id = escape(chart_id)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="courtier-chart" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" focusable="false" {FONT}>'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>'
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="{WHITE}"/>'
    )
    return mark_safe(head + "".join(body) + "</svg>")  # noqa: S308 - every text above went through escape()


def _text(x: float, y: float, text: str, *, anchor: str = "middle", size: int = 12, fill: str = TEXT,
          rotate: bool = False, bold: bool = False) -> str:
    transform = f' transform="rotate(-45 {x:.1f} {y:.1f})"' if rotate else ""
    weight = ' font-weight="700"' if bold else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{fill}"'
            f'{weight}{transform}>{escape(text)}</text>')


def _scale(values: Sequence[Number]) -> float:
    largest = max((float(value) for value in values), default=0.0)
    return largest if largest > 0 else 1.0


def _patterns(chart_id: str) -> str:
    """Pattern fills for the series of a stacked chart (solid blue, hatched, dotted, crossed)."""
    chart_id = escape(chart_id)
    return (
        "<defs>"
        f'<pattern id="{chart_id}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="6" height="6" fill="{WHITE}"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{BLUE}" stroke-width="3"/></pattern>'
        f'<pattern id="{chart_id}-dots" width="6" height="6" patternUnits="userSpaceOnUse">'
        f'<rect width="6" height="6" fill="{WHITE}"/><circle cx="3" cy="3" r="1.6" fill="{BLUE}"/></pattern>'
        f'<pattern id="{chart_id}-cross" width="6" height="6" patternUnits="userSpaceOnUse">'
        f'<rect width="6" height="6" fill="{WHITE}"/>'
        f'<path d="M0 0L6 6M6 0L0 6" stroke="{BLUE}" stroke-width="1"/></pattern>'
        "</defs>"
    )


def _series_fill(chart_id: str, index: int) -> str:
    kind = SERIES_FILLS[index % len(SERIES_FILLS)]
    return BLUE if kind == "solid" else f"url(#{escape(chart_id)}-{kind})"


def bar_chart(*, chart_id: str, title: str, description: str, labels: Sequence[str], values: Sequence[Number],
              value_format: Callable[[Number], str] = plain_number) -> SafeString:
    """Vertical bars, one per label (months for instance), each with its value written above it."""
    count = max(len(labels), 1)
    rotate = count > 8
    top, bottom, left, right = 24, (70 if rotate else 36), 12, 12
    plot_height = 200
    height = top + plot_height + bottom
    scale = _scale(values)
    slot = (WIDTH - left - right) / count
    bar_width = max(min(slot * 0.6, 56), 4)
    baseline = top + plot_height
    body: list[str] = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        center = left + slot * i + slot / 2
        bar_height = float(value) / scale * plot_height
        if bar_height > 0:
            body.append(f'<rect x="{center - bar_width / 2:.1f}" y="{baseline - bar_height:.1f}" '
                        f'width="{bar_width:.1f}" height="{bar_height:.1f}" fill="{BLUE}"/>')
        body.append(_text(center, baseline - bar_height - 6, value_format(value), size=11))
        if rotate:
            body.append(_text(center + 4, baseline + 16, label, anchor="end", size=11, rotate=True))
        else:
            body.append(_text(center, baseline + 18, label, size=11))
    body.append(f'<line x1="{left}" y1="{baseline}" x2="{WIDTH - right}" y2="{baseline}" stroke="{LINE}"/>')
    return _svg(chart_id=chart_id, title=title, description=description, height=height, body=body)


def hbar_chart(*, chart_id: str, title: str, description: str, labels: Sequence[str], values: Sequence[Number],
               value_format: Callable[[Number], str] = plain_number, max_value: Number | None = None) -> SafeString:
    """Horizontal bars, one line per label (providers, lots...), the label on the left, the value at the end."""
    return stacked_hbar_chart(chart_id=chart_id, title=title, description=description, labels=labels,
                              series=[Series("", values)], value_format=value_format, max_value=max_value)


def stacked_hbar_chart(*, chart_id: str, title: str, description: str, labels: Sequence[str],
                       series: Sequence[Series], value_format: Callable[[Number], str] = plain_number,
                       max_value: Number | None = None) -> SafeString:
    """Horizontal bars stacked by series (a legend names each fill, solid or patterned); the total at the end."""
    legend = len(series) > 1
    row, label_width, value_width = 28, 230, 150
    top = 34 if legend else 8
    height = top + 8 + row * max(len(labels), 1)
    totals = [sum((Decimal(one.values[i]) for one in series), Decimal(0)) for i in range(len(labels))]
    scale = float(max_value) if max_value else _scale(totals)
    plot_width = WIDTH - label_width - value_width
    body: list[str] = [_patterns(chart_id)] if legend else []
    if legend:
        x = 8
        for index, one in enumerate(series):
            body.append(f'<rect x="{x}" y="8" width="14" height="14" fill="{_series_fill(chart_id, index)}" '
                        f'stroke="{BLUE}" stroke-width="1"/>')
            body.append(_text(x + 20, 19, one.label, anchor="start"))
            x += 32 + 7 * len(one.label)
    for i, label in enumerate(labels):
        y = top + row * i
        shown = label if len(label) <= 34 else f"{label[:33]}…"
        body.append(_text(label_width - 8, y + 18, shown, anchor="end"))
        x = float(label_width)
        for index, one in enumerate(series):
            width = max(float(one.values[i]) / scale * plot_width, 0)
            if width > 0:
                body.append(f'<rect x="{x:.1f}" y="{y + 5}" width="{width:.1f}" height="{row - 10}" '
                            f'fill="{_series_fill(chart_id, index)}" stroke="{BLUE}" stroke-width="1"/>')
                x += width
        body.append(_text(x + 6, y + 18, value_format(totals[i]), anchor="start"))
    body.append(f'<line x1="{label_width}" y1="{top}" x2="{label_width}" y2="{height - 8}" stroke="{LINE}"/>')
    return _svg(chart_id=chart_id, title=title, description=description, height=height, body=body)


def line_chart(*, chart_id: str, title: str, description: str, labels: Sequence[str], values: Sequence[Number],
               value_format: Callable[[Number], str] = plain_number) -> SafeString:
    """A line over time with a marked point and its value for every label."""
    count = max(len(labels), 1)
    # Room on the left and below for the month labels, rotated by 45 degrees.
    top, bottom, left, right = 24, 70, 56, 24
    plot_height = 200
    height = top + plot_height + bottom
    scale = _scale(values)
    step = (WIDTH - left - right) / max(count - 1, 1)
    baseline = top + plot_height
    points = [(left + step * i, baseline - float(value) / scale * plot_height) for i, value in enumerate(values)]
    body: list[str] = [f'<line x1="{left}" y1="{baseline}" x2="{WIDTH - right}" y2="{baseline}" stroke="{LINE}"/>']
    if points:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        body.append(f'<polyline points="{path}" fill="none" stroke="{BLUE}" stroke-width="2"/>')
    for (x, y), label, value in zip(points, labels, values, strict=True):
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{BLUE}"/>')
        body.append(_text(x, y - 8, value_format(value), size=10))
        body.append(_text(x + 4, baseline + 16, label, anchor="end", size=10, rotate=True))
    return _svg(chart_id=chart_id, title=title, description=description, height=height, body=body)
