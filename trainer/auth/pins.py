"""PINs for signing in on a team's enrolled tablet: six digits, hashed with Argon2id like
passwords. A PIN alone is weak, so it works only on an enrolled device and its guesses are
counted per person and per device (`trainer/auth/device.py`)."""

from __future__ import annotations

import re

from trainer.auth.passwords import hash_password, verify_password
from trainer.languages import gettext as _

LENGTH = 6
_DIGITS = re.compile(rf"^[0-9]{{{LENGTH}}}$")


def pin_problem(pin: str | None) -> str | None:
    """What is wrong with a new PIN, in words for the form, or None if it will do."""
    pin = pin or ""
    if not _DIGITS.match(pin):
        return _("Use exactly %(count)d digits.", count=LENGTH)
    steps = {(int(b) - int(a)) % 10 for a, b in zip(pin, pin[1:], strict=False)}
    if len(set(pin)) == 1 or steps in ({1}, {9}):
        return _("That PIN is too easy to guess (like 111111 or 123456). Choose another.")
    return None


def hash_pin(pin: str) -> str:
    return hash_password(pin)


def verify_pin(pin_hash: str | None, pin: str) -> bool:
    """Same cost whether or not the person has a PIN (see `verify_password`)."""
    return verify_password(pin_hash, pin or "")
