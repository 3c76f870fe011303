"""Charts as inline SVG drawn on the server: no JavaScript, no third-party script, no CDN.

Every chart is `role="img"` with a `<title>` and a `<desc>` that gives the data in words, so a
screen reader gets what a sighted reader sees. All text is escaped: labels are people's names
and content titles. Values outside the scale are clamped to it: a chart never draws outside
its frame, whatever the data.
"""

from __future__ import annotations

import itertools
import math

from markupsafe import Markup, escape

from trainer.languages import gettext as _

INK = "#1b1f24"
MUTED = "#4d5561"
GRID = "#c9d0d9"
LINE = "#0b5394"
EMPTY_CELL = "#eef0f3"
# Light tints, so the dark cell text keeps its contrast on every colour of the scale.
RED = (0xF2, 0xA5, 0xA0)
AMBER = (0xFF, 0xD7, 0x80)
GREEN = (0x9E, 0xD6, 0xA8)
# Where the scale is fully red, amber and green, in percent: near the bands of the skill
# view (weak below 60, strong from 80), blended in between.
SCALE = ((50.0, RED), (65.0, AMBER), (85.0, GREEN))

_ids = itertools.count(1)  # unique ids on a page for aria-labelledby


def _fmt(value: float, unit: str) -> str:
    number = f"{value:.0f}" if abs(value - round(value)) < 0.05 else f"{value:.1f}"
    return f"{number}{unit}"


def _clamp(value: float, low: float, high: float) -> float:
    if math.isnan(value):
        return low
    return max(low, min(high, value))


def _open(kind: str, width: float, height: float, title: str, desc: str, size: str) -> list[str]:
    n = next(_ids)
    title_id, desc_id = f"{kind}-{n}-title", f"{kind}-{n}-desc"
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="svg-chart {kind}" viewBox="0 0 {width:g} '
        f'{height:g}" {size} role="img" aria-labelledby="{title_id}" aria-describedby="{desc_id}">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(desc)}</desc>',
    ]


def _text(x: float, y: float, text: str, *, size: int = 11, anchor: str = "middle",
          fill: str = MUTED, weight: str | None = None) -> str:  # fmt: skip
    bold = f' font-weight="{weight}"' if weight else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="{fill}"{bold}>{escape(text)}</text>'
    )


# -- a line over time -----------------------------------------------------------------------

WIDTH, HEIGHT = 400, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 24, 24, 40
MIN_LABEL_GAP = 40  # units between two labels on the x axis before some are left out
CHAR_W = 6  # about how wide a character of the 11-unit labels is


def line_chart(
    points: list[tuple[str, float]], *, title: str, y_max: float = 100, unit: str = "%"
) -> Markup:
    """A line through `points` (label, value), oldest first, on a scale from 0 to `y_max`.

    Gridlines at 0, half and all of `y_max`; each point is marked and labelled with its value
    (every other one, or fewer, when they are too close to read). Scales with its container.
    """
    y_max = y_max if y_max > 0 else 100
    values = [_clamp(float(v), 0, y_max) for _label, v in points]
    labels = [str(label) for label, _v in points]
    pairs = zip(labels, values, strict=True)
    desc = "; ".join(f"{label}: {_fmt(v, unit)}" for label, v in pairs) + "." if points else ""
    desc = desc or _("No data yet.")
    out = _open("line-chart", WIDTH, HEIGHT, title, desc, 'width="100%"')

    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    bottom = TOP + plot_h
    for share in (0, 0.5, 1):
        y = bottom - share * plot_h
        # The zero line is the x axis; the others are dashed guides.
        style = f'stroke="{MUTED}"' if share == 0 else f'stroke="{GRID}" stroke-dasharray="4 3"'
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" {style}/>')
        out.append(_text(LEFT - 6, y + 4, _fmt(share * y_max, unit), anchor="end"))
    out.append(f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}" stroke="{MUTED}"/>')

    if not points:
        out.append(_text(LEFT + plot_w / 2, TOP + plot_h / 2, _("No data yet"), size=13))
        out.append("</svg>")
        return Markup("".join(out))

    n = len(points)
    step = plot_w / (n - 1) if n > 1 else 0
    xs = [LEFT + plot_w / 2] if n == 1 else [LEFT + i * step for i in range(n)]
    ys = [bottom - v / y_max * plot_h for v in values]
    stride = max(1, math.ceil(MIN_LABEL_GAP / step)) if step else 1
    if n > 1:
        coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
        out.append(f'<polyline points="{coords}" fill="none" stroke="{LINE}" stroke-width="2.5"/>')
    for i, (x, y, v, label) in enumerate(zip(xs, ys, values, labels, strict=True)):
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{LINE}"/>')
        if (n - 1 - i) % stride == 0:  # the latest point is always labelled
            out.append(_text(x, max(y - 8, 10), _fmt(v, unit), fill=INK, weight="600"))
            # Kept inside the frame: a long first or last label moves in rather than being cut.
            half = CHAR_W * len(label) / 2
            out.append(_text(min(max(x, half + 2), WIDTH - half - 2), bottom + 16, label))
    out.append("</svg>")
    return Markup("".join(out))


# -- a grid of people by skills ------------------------------------------------------------

CELL_W, CELL_H = 76, 30
HEADER_H = 42
MAX_ROW_LABEL = 24  # characters of a row label drawn; the full label is in the desc and tooltip


def cell_colour(percent: float) -> str:
    """Red up to 50, amber at 65, green from 85, blended in between."""
    percent = _clamp(percent, 0, 100)
    (low, low_rgb), (mid, mid_rgb), (high, high_rgb) = SCALE
    if percent <= low:
        rgb = low_rgb
    elif percent >= high:
        rgb = high_rgb
    else:
        (a, a_rgb), (b, b_rgb) = ((low, low_rgb), (mid, mid_rgb)) if percent < mid else (
            (mid, mid_rgb), (high, high_rgb))  # fmt: skip
        t = (percent - a) / (b - a)
        rgb = tuple(round(x + (y - x) * t) for x, y in zip(a_rgb, b_rgb, strict=True))
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _header_lines(text: str) -> list[str]:
    """A column header on at most two lines of about 11 characters."""
    words, lines = text.split(), [""]
    for word in words:
        candidate = f"{lines[-1]} {word}".strip()
        if len(candidate) <= 11 or not lines[-1]:
            lines[-1] = candidate
        elif len(lines) < 2:
            lines.append(word)
        else:
            lines[-1] = candidate
    return [_short(line, 12) for line in lines]


def heat_grid(
    rows: list[str],
    columns: list[str],
    values: list[list[float | None]],
    *,
    title: str,
    unit: str = "%",
) -> Markup:
    """A row per entry of `rows`, a column per entry of `columns`, each cell coloured on a
    red-amber-green scale from 0 to 100 with its value printed in it ("–" when None), so colour
    is never the only signal. Drawn at its natural size: put it in a container that scrolls.
    """
    rows, columns = [str(r) for r in rows], [str(c) for c in columns]

    def value_at(r: int, c: int) -> float | None:
        row = values[r] if r < len(values) else []
        value = row[c] if c < len(row) else None
        return None if value is None else _clamp(float(value), 0, 100)

    grid = [[value_at(r, c) for c in range(len(columns))] for r in range(len(rows))]
    no_data = _("no data")
    if rows and columns:
        desc = " ".join(
            f"{name}: "
            + ", ".join(
                f"{col} {no_data if v is None else _fmt(v, unit)}"
                for col, v in zip(columns, grid[r], strict=True)
            )
            + "."
            for r, name in enumerate(rows)
        )
    else:
        desc = _("No data yet.")

    longest = max((len(_short(r, MAX_ROW_LABEL)) for r in rows), default=8)
    label_w = min(180, max(80, 7 * longest + 12))
    width = label_w + CELL_W * max(len(columns), 1) + 2
    height = HEADER_H + CELL_H * max(len(rows), 1) + 2
    out = _open("heat-grid", width, height, title, desc, f'width="{width}" height="{height}"')
    if not (rows and columns):
        out.append(_text(width / 2, HEADER_H + CELL_H / 2 + 4, _("No data yet"), size=13))
        out.append("</svg>")
        return Markup("".join(out))

    for c, column in enumerate(columns):
        x = label_w + c * CELL_W + CELL_W / 2
        lines = _header_lines(column)
        first_y = HEADER_H - 8 - 13 * (len(lines) - 1)
        for i, line in enumerate(lines):
            out.append(_text(x, first_y + 13 * i, line, fill=INK, weight="600"))
    for r, name in enumerate(rows):
        y = HEADER_H + r * CELL_H
        out.append(_text(4, y + CELL_H / 2 + 4, _short(name, MAX_ROW_LABEL), anchor="start",
                         fill=INK, size=12))  # fmt: skip
        for c, column in enumerate(columns):
            v = grid[r][c]
            x = label_w + c * CELL_W
            shown = "–" if v is None else _fmt(v, unit)
            fill = EMPTY_CELL if v is None else cell_colour(v)
            out.append(
                f"<g><title>{escape(name)}, {escape(column)}: {escape(shown)}</title>"
                f'<rect x="{x + 1}" y="{y + 1}" width="{CELL_W - 2}" height="{CELL_H - 2}" '
                f'rx="3" fill="{fill}"/>'
                + _text(x + CELL_W / 2, y + CELL_H / 2 + 4, shown, fill=INK, size=12)
                + "</g>"
            )
    out.append("</svg>")
    return Markup("".join(out))
