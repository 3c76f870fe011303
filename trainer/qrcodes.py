"""QR codes drawn here (segno), as inline SVG: no outside service sees the links they carry."""

from __future__ import annotations

import segno
from markupsafe import Markup, escape


def qr_svg(text: str, title: str) -> Markup:
    """An `<svg>` QR code of `text`, sized by CSS (class "qr"), named by `title` for screen
    readers. Error correction M: still readable with a crease or a smudge on a printed card."""
    code = segno.make(text, error="m", micro=False)
    svg = code.svg_inline(scale=1, omitsize=True, svgclass="qr", lineclass=None, title=None)
    # Attributes only (no style): the Content-Security-Policy forbids inline style.
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{escape(title)}" ', 1))
