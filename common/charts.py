"""Charts as server-rendered SVG: no JavaScript, no external files, no ``style`` attributes
(presentation attributes only, so that a strict Content Security Policy allows them).

Each chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` (read by screen
readers), labelled axes, a legend, and a ``<title>`` tooltip on every data point (the browser
shows it on hover). Text and axes use ``currentColor``, so a chart follows the admin's light or
dark theme. Colours are the Okabe-Ito palette, distinguishable with colour-blindness.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.html import escape
from django.utils.safestring import mark_safe

BLUE = "#0072B2"
ORANGE = "#E69F00"
VERMILLION = "#D55E00"
GREEN = "#009E73"
SKY = "#56B4E9"
PURPLE = "#CC79A7"
GREY = "#999999"

WIDTH = 760
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 64, 20, 40, 48
FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif"'
# Above this many points, a line's points carry no marker of their own (the line is the data).
MAX_MARKERS = 400


@dataclass(frozen=True)
class Series:
    """One series of a time chart. ``points``: (day, value); ``kind``: ``line`` (straight
    segments), ``step`` (holds each value until the next), ``dots`` or ``bars``. ``tooltips``:
    one text per point (default: the day and the value)."""

    name: str
    points: Sequence[tuple[date, float]]
    kind: str = "line"
    color: str = BLUE
    dashed: bool = False
    tooltips: Sequence[str] | None = None
    unit: str = ""
    # A reference line (e.g. a declared figure): drawn, but not data of its own.
    reference: bool = False


@dataclass(frozen=True)
class Bars:
    """One series of a bar chart: a value per category."""

    name: str
    values: Sequence[float]
    color: str = BLUE
    unit: str = ""


def nice_ticks(maximum, count=5):
    """Round tick values from 0 to at least ``maximum`` (steps of 1, 2 or 5 times a power of
    ten)."""
    if maximum <= 0:
        return [0, 1]
    raw = maximum / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    if step < 1 and maximum >= 1:
        step = 1
    top = math.ceil(maximum / step - 1e-9) * step
    return [round(index * step, 6) for index in range(round(top / step) + 1)]


def _number(value):
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.1f}"


def _open(chart_id, title, description, height):
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" {FONT} '
        'font-size="12" fill="currentColor">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>',
        f'<text x="{MARGIN_LEFT}" y="16" font-size="14" font-weight="600">{escape(title)}</text>',
    ]


def _legend(entries, y=32):
    parts, x = [], MARGIN_LEFT
    for name, color, dashed, kind in entries:
        if kind in ("bars", "dots"):
            swatch = (
                f'<rect x="{x}" y="{y - 9}" width="12" height="10" rx="2" fill="{color}"/>'
                if kind == "bars"
                else f'<circle cx="{x + 6}" cy="{y - 4}" r="4" fill="{color}"/>'
            )
        else:
            dash = ' stroke-dasharray="5 3"' if dashed else ""
            swatch = (
                f'<line x1="{x}" y1="{y - 4}" x2="{x + 16}" y2="{y - 4}" stroke="{color}" '
                f'stroke-width="2.5"{dash}/>'
            )
        parts.append(f'<g class="legend-item">{swatch}')
        parts.append(f'<text x="{x + 20}" y="{y}" font-size="11">{escape(name)}</text></g>')
        x += 28 + 7 * len(name)
    return parts


def _y_axis(ticks, scale_y, plot_right, y_label, height):
    parts = []
    for tick in ticks:
        y = scale_y(tick)
        parts.append(
            f'<line x1="{MARGIN_LEFT}" y1="{y:.1f}" x2="{plot_right}" y2="{y:.1f}" '
            'stroke="currentColor" stroke-opacity="0.12"/>'
        )
        parts.append(
            f'<text x="{MARGIN_LEFT - 8}" y="{y + 4:.1f}" text-anchor="end" '
            f'font-size="11">{_number(tick)}</text>'
        )
    middle = (MARGIN_TOP + height - MARGIN_BOTTOM) / 2
    parts.append(
        f'<text class="axis-label" x="16" y="{middle:.1f}" text-anchor="middle" font-size="11" '
        f'transform="rotate(-90 16 {middle:.1f})">{escape(y_label)}</text>'
    )
    return parts


def _x_label(x_label, height):
    middle = (MARGIN_LEFT + WIDTH - MARGIN_RIGHT) / 2
    return (
        f'<text class="axis-label" x="{middle:.1f}" y="{height - 6}" text-anchor="middle" '
        f'font-size="11">{escape(x_label)}</text>'
    )


def _frame(plot_bottom, plot_right):
    return (
        f'<line x1="{MARGIN_LEFT}" y1="{plot_bottom}" x2="{plot_right}" y2="{plot_bottom}" '
        'stroke="currentColor" stroke-opacity="0.5"/>'
    )


def _empty(message, plot_bottom):
    middle = (MARGIN_LEFT + WIDTH - MARGIN_RIGHT) / 2
    y = (MARGIN_TOP + plot_bottom) / 2
    return (
        f'<text class="no-data" x="{middle:.1f}" y="{y:.1f}" text-anchor="middle" '
        f'font-size="13" fill-opacity="0.6">{escape(message)}</text>'
    )


def time_chart(
    *,
    chart_id,
    title,
    description,
    start: date,
    end: date,
    series: Sequence[Series],
    y_label,
    x_label="Date",
    height=260,
    empty_message="No data for this period yet.",
):
    """A chart of values over the days ``start`` .. ``end`` (both shown)."""
    plot_right, plot_bottom = WIDTH - MARGIN_RIGHT, height - MARGIN_BOTTOM
    span = max((end - start).days, 1)
    values = [value for one in series for _, value in one.points]
    ticks = nice_ticks(max(values, default=0))
    top = ticks[-1] or 1
    day_width = (plot_right - MARGIN_LEFT) / (span + 1)

    def scale_x(day):
        return MARGIN_LEFT + ((day - start).days + 0.5) * day_width

    def scale_y(value):
        return plot_bottom - (value / top) * (plot_bottom - MARGIN_TOP)

    parts = _open(chart_id, title, description, height)
    parts += _legend([(one.name, one.color, one.dashed, one.kind) for one in series])
    parts += _y_axis(ticks, scale_y, plot_right, y_label, height)
    step = max(1, math.ceil((span + 1) / 8))
    if step > 7:
        step = math.ceil(step / 7) * 7
    day = end
    while day >= start:
        x = scale_x(day)
        parts.append(
            f'<line x1="{x:.1f}" y1="{plot_bottom}" x2="{x:.1f}" y2="{plot_bottom + 4}" '
            'stroke="currentColor" stroke-opacity="0.5"/>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{plot_bottom + 17}" text-anchor="middle" '
            f'font-size="11">{day.strftime("%d %b")}</text>'
        )
        day -= timedelta(days=step)
    parts.append(_frame(plot_bottom, plot_right))
    parts.append(_x_label(x_label, height))
    if not any(one.points for one in series if not one.reference):
        parts.append(_empty(empty_message, plot_bottom))
    for index, one in enumerate(series):
        parts += _draw_series(one, index, scale_x, scale_y, day_width, plot_right, plot_bottom)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every text and name above went through escape())


def _tooltip(one, position, day, value):
    if one.tooltips is not None:
        return one.tooltips[position]
    unit = f" {one.unit}" if one.unit else ""
    return f"{one.name}, {day.isoformat()}: {_number(value)}{unit}"


def _draw_series(one, index, scale_x, scale_y, day_width, plot_right, plot_bottom):
    name = escape(one.name)
    parts = [f'<g class="series series-{index}" data-series="{name}">']
    points = list(one.points)
    if one.kind == "bars":
        width = max(day_width * 0.7, 1)
        for position, (day, value) in enumerate(points):
            x, y = scale_x(day) - width / 2, scale_y(value)
            parts.append(
                f'<rect class="data-point" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" '
                f'height="{max(plot_bottom - y, 0):.1f}" fill="{one.color}" fill-opacity="0.8">'
                f"<title>{escape(_tooltip(one, position, day, value))}</title></rect>"
            )
    elif points:
        coordinates = []
        for day, value in points:
            x, y = scale_x(day), scale_y(value)
            if one.kind == "step" and coordinates:
                coordinates.append((x, coordinates[-1][1]))
            coordinates.append((x, y))
        if one.kind == "step":
            coordinates.append((plot_right, coordinates[-1][1]))
        if one.kind != "dots":
            dash = ' stroke-dasharray="6 4"' if one.dashed else ""
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coordinates)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{one.color}" '
                f'stroke-width="2.2" stroke-linejoin="round"{dash}/>'
            )
        if one.kind == "dots" or len(points) <= MAX_MARKERS:
            radius = 4.5 if one.kind == "dots" else 1.6
            opacity = "0.85" if one.kind == "dots" else "0.55"
            for position, (day, value) in enumerate(points):
                parts.append(
                    f'<circle class="data-point" cx="{scale_x(day):.1f}" '
                    f'cy="{scale_y(value):.1f}" r="{radius}" fill="{one.color}" '
                    f'fill-opacity="{opacity}"><title>'
                    f"{escape(_tooltip(one, position, day, value))}</title></circle>"
                )
    parts.append("</g>")
    return parts


def bar_chart(
    *,
    chart_id,
    title,
    description,
    categories: Sequence[str],
    series: Sequence[Bars],
    y_label,
    x_label,
    height=260,
    empty_message="Nothing to show.",
):
    """Vertical bars, one group per category, one bar per series in each group."""
    plot_right, plot_bottom = WIDTH - MARGIN_RIGHT, height - MARGIN_BOTTOM
    values = [value for one in series for value in one.values]
    ticks = nice_ticks(max(values, default=0))
    top = ticks[-1] or 1

    def scale_y(value):
        return plot_bottom - (value / top) * (plot_bottom - MARGIN_TOP)

    parts = _open(chart_id, title, description, height)
    parts += _legend([(one.name, one.color, False, "bars") for one in series])
    parts += _y_axis(ticks, scale_y, plot_right, y_label, height)
    group_width = (plot_right - MARGIN_LEFT) / max(len(categories), 1)
    bar_width = group_width * 0.8 / max(len(series), 1)
    label_size = 11 if len(categories) <= 10 else 10
    for position, category in enumerate(categories):
        center = MARGIN_LEFT + (position + 0.5) * group_width
        parts.append(
            f'<text x="{center:.1f}" y="{plot_bottom + 17}" text-anchor="middle" '
            f'font-size="{label_size}">{escape(category)}</text>'
        )
    parts.append(_frame(plot_bottom, plot_right))
    parts.append(_x_label(x_label, height))
    if not any(values):
        parts.append(_empty(empty_message, plot_bottom))
    for index, one in enumerate(series):
        parts.append(f'<g class="series series-{index}" data-series="{escape(one.name)}">')
        for position, (category, value) in enumerate(zip(categories, one.values, strict=True)):
            x = MARGIN_LEFT + position * group_width + group_width * 0.1 + index * bar_width
            y = scale_y(value)
            unit = f" {one.unit}" if one.unit else ""
            parts.append(
                f'<rect class="data-point" x="{x:.1f}" y="{y:.1f}" width="{bar_width:.1f}" '
                f'height="{max(plot_bottom - y, 0):.1f}" rx="2" fill="{one.color}">'
                f"<title>{escape(f'{one.name}, {category}: {_number(value)}{unit}')}</title>"
                "</rect>"
            )
            if value:
                parts.append(
                    f'<text x="{x + bar_width / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle" '
                    f'font-size="10">{_number(value)}</text>'
                )
        parts.append("</g>")
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every text and name above went through escape())
