"""Reading a QR code of ours back as a camera app would: the SVG's modules drawn as pixels and
decoded by ZXing."""

from __future__ import annotations

import re

import zxingcpp


def svg_matrix(svg: str) -> list[list[int]]:
    """The modules of a QR code drawn by segno as one SVG path of horizontal strokes."""
    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg).group(1))
    path = re.search(r' d="([^"]+)"', svg).group(1)
    assert set(re.sub(r"[\d.\s-]", "", path)) <= set("Mmh"), path
    grid = [[0] * size for _ in range(size)]
    x = y = 0.0
    for command, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", path):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        else:
            for column in range(round(x), round(x + float(a))):
                grid[int(y)][column] = 1
            x += float(a)
    return grid


def decode_qr(svg: str, scale: int = 4) -> list[str]:
    """Read the QR code back as a camera app would, from its pixels (ZXing)."""
    grid = svg_matrix(svg)
    pixels = bytearray()
    for row in grid:
        line = b"".join(bytes([0 if dark else 255]) * scale for dark in row)
        pixels += line * scale
    size = len(grid) * scale
    image = memoryview(bytes(pixels)).cast("B", (size, size))
    return [found.text for found in zxingcpp.read_barcodes(image)]
