"""QR codes for posters and cards, drawn here (segno) as inline SVG: no outside service, and
nothing the Content Security Policy would block."""

from __future__ import annotations

import io

import segno
from markupsafe import Markup, escape


def qr_svg(text: str, label: str, scale: int = 6) -> Markup:
    """An SVG image of `text` as a QR code, described to screen readers by `label`."""
    code = segno.make(text, error="m")
    out = io.BytesIO()
    code.save(out, kind="svg", scale=scale, border=4, xmldecl=False, svgns=True, nl=False)
    svg = out.getvalue().decode("ascii")
    # role="img" with a label: read as one picture, not as a pile of path data.
    return Markup(
        svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1).replace(
            'class="segno"', 'class="qr"'
        )
    )
