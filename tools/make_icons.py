"""Draw the web app's icons into static/icons/: a white speech bubble with a tick, on the
brand blue. Run it after changing the design (it needs Pillow: `pip install pillow`):

    .venv/bin/python tools/make_icons.py

The SVG is written from the same shapes, so every size shows the same picture.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

ICONS = Path(__file__).resolve().parent.parent / "static" / "icons"
FAVICON = ICONS.parent / "favicon.ico"
FAVICON_SIZES = [(16, 16), (32, 32), (48, 48)]
BLUE = (11, 83, 148, 255)  # --brand in static/style.css
WHITE = (255, 255, 255, 255)
CLEAR = (0, 0, 0, 0)
SUPERSAMPLE = 4

# On a 512 x 512 canvas.
CORNER = 96  # of the rounded square behind it
BUBBLE = (96, 120, 416, 360)
BUBBLE_RADIUS = 56
TAIL = [(168, 340), (144, 436), (260, 356)]
TICK = [(180, 242), (236, 298), (336, 190)]
TICK_WIDTH = 40


def _scaled(points, scale: float):
    """Shapes shrunk towards the centre (a maskable icon keeps them in the middle 80%)."""
    return [(256 + (x - 256) * scale, 256 + (y - 256) * scale) for x, y in points]


def draw(size: int, *, background: str = "rounded", scale: float = 1.0, ink=WHITE) -> Image:
    """One icon: `background` is "rounded" (a rounded blue square), "full" (blue to the edges,
    for maskable icons) or "none" (transparent, for the monochrome badge)."""
    big = size * SUPERSAMPLE
    unit = big / 512
    image = Image.new("RGBA", (big, big), CLEAR)
    pen = ImageDraw.Draw(image)
    if background == "rounded":
        pen.rounded_rectangle((0, 0, big - 1, big - 1), radius=CORNER * unit, fill=BLUE)
    elif background == "full":
        pen.rectangle((0, 0, big, big), fill=BLUE)

    def at(points):
        return [(x * unit, y * unit) for x, y in _scaled(points, scale)]

    (x0, y0), (x1, y1) = at([BUBBLE[:2], BUBBLE[2:]])
    pen.rounded_rectangle((x0, y0, x1, y1), radius=BUBBLE_RADIUS * scale * unit, fill=ink)
    pen.polygon(at(TAIL), fill=ink)
    tick = at(TICK)
    width = round(TICK_WIDTH * scale * unit)
    tick_ink = BLUE if background != "none" else CLEAR
    pen.line(tick, fill=tick_ink, width=width, joint="curve")
    for x, y in (tick[0], tick[-1]):  # round ends
        pen.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=tick_ink)
    return image.resize((size, size), Image.LANCZOS)


def svg() -> str:
    tail = " ".join(f"{x},{y}" for x, y in TAIL)
    tick = " ".join(f"{x},{y}" for x, y in TICK)
    x0, y0, x1, y1 = BUBBLE
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512">\n'
        f'  <rect width="512" height="512" rx="{CORNER}" fill="#0b5394"/>\n'
        f'  <rect x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}" rx="{BUBBLE_RADIUS}"'
        ' fill="#fff"/>\n'
        f'  <polygon points="{tail}" fill="#fff"/>\n'
        f'  <polyline points="{tick}" fill="none" stroke="#0b5394" stroke-width="{TICK_WIDTH}"'
        ' stroke-linecap="round" stroke-linejoin="round"/>\n'
        "</svg>\n"
    )


def icons() -> dict[str, Image.Image]:
    """Every PNG, by file name."""
    return {
        "icon-192.png": draw(192),
        "icon-512.png": draw(512),
        "maskable-512.png": draw(512, background="full", scale=0.8),
        "apple-touch-icon.png": draw(180, background="full", scale=0.9),
        "badge-96.png": draw(96, background="none"),
    }


def favicon() -> Image.Image:
    """The browser tab's icon (static/favicon.ico holds it at each of FAVICON_SIZES)."""
    return draw(48)


def main() -> None:
    ICONS.mkdir(parents=True, exist_ok=True)
    for name, image in icons().items():
        image.save(ICONS / name, optimize=True)
    (ICONS / "icon.svg").write_text(svg())
    favicon().save(FAVICON, sizes=FAVICON_SIZES)
    print(f"Icons written to {ICONS}")


if __name__ == "__main__":
    main()
