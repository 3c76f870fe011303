"""Short one-time codes that a person can type: a tablet's enrolment link, a sign-in card.

Twelve characters from an alphabet without look-alikes (no 0/O, 1/I/L), about 59 random bits:
with a single use, an expiry and every guess costing a request, out of reach of guessing. Only
the code's SHA-256 is stored, so a copy of the database signs no one in. Written in groups of
four (7KQM-4WXP-RT2H); typed in any case, with or without the dashes.
"""

from __future__ import annotations

import hashlib
import re
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 12
_CODE = re.compile(rf"^[{ALPHABET}]{{{LENGTH}}}$")
_SEPARATORS = re.compile(r"[\s\-]+")


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(text: str | None) -> str | None:
    """The code as stored, from what was typed or scanned; None when it cannot be one."""
    code = _SEPARATORS.sub("", (text or "")[:64]).upper()
    return code if _CODE.match(code) else None


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def written(code: str) -> str:
    """7KQM-4WXP-RT2H: easier to read out and type."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))
