"""Characters content may not hold, and lines counted the way an editor counts them.

Control characters (NUL and the rest) cannot be stored by PostgreSQL or mean nothing on a page.
U+0085, U+2028 and U+2029 are line breaks to the YAML parser but not to an editor, so they would
shift every line number after them. Bytes that are not UTF-8 arrive here as lone surrogates
(the file is decoded with `surrogateescape`), so each is reported on its own line too.
"""

from __future__ import annotations

import re

# Tab, \n and \r are ordinary (\r is a line end, see `normalise_newlines`).
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\udc80-\udcff]")
LINE_BREAKS = {0x85: "NEL", 0x2028: "LINE SEPARATOR", 0x2029: "PARAGRAPH SEPARATOR"}
_NAMES = {0x00: "NUL", 0x1B: "ESC", 0x7F: "DEL", **LINE_BREAKS}
# A file full of them is reported by its first lines, not by a million messages.
MAX_REPORTED_LINES = 20


def normalise_newlines(text: str) -> str:
    """`\\r\\n` and a lone `\\r` become `\\n`, so splitting on `\\n` gives the editor's lines."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def describe(char: str) -> str:
    """What a forbidden character is, and what to do about it, as a problem message."""
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:
        return f"not UTF-8 text (byte 0x{code - 0xDC00:02X}); save the file as UTF-8"
    label = f"U+{code:04X}" + (f" ({_NAMES[code]})" if code in _NAMES else "")
    if code in LINE_BREAKS:
        return f"invisible line break {label}; use an ordinary line break, or a space"
    return f"control character {label} is not allowed; delete it"


def forbidden_lines(text: str) -> list[tuple[int, str]]:
    """(line, message) for each line of `text` holding a forbidden character, naming the first.

    `text` has its newlines normalised. After `MAX_REPORTED_LINES` lines, one more entry says
    that there are more.
    """
    found: list[tuple[int, str]] = []
    line, pos = 1, 0
    while match := FORBIDDEN.search(text, pos):
        line += text.count("\n", pos, match.start())
        if len(found) == MAX_REPORTED_LINES:
            found.append((line, "more lines hold such characters; fix the ones above first"))
            break
        found.append((line, describe(match.group())))
        pos = text.find("\n", match.start())  # one message a line is enough
        if pos < 0:
            break
    return found
