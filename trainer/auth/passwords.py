"""Password hashing with Argon2id, and the rules a new password must meet."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context

from trainer.languages import gettext as _

_strong = PasswordHasher()
# Same algorithm with small costs, for test suites that log in hundreds of times.
_fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

# Verified against when the email is unknown, so both paths cost the same time.
_DUMMY_HASHES: dict[int, str] = {}
MIN_LENGTH = 12
# Longer input is refused before hashing: Argon2 over megabytes is a way to tie up a worker.
MAX_LENGTH = 256
COMMON_COUNT = 10_000


@functools.cache
def _common() -> frozenset[str]:
    """The 10,000 most used passwords, from the list zxcvbn maintains (ranked by frequency)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"][:COMMON_COUNT])


def is_common(password: str) -> bool:
    return password.lower() in _common()


def password_problem(password: str | None) -> str | None:
    """What is wrong with a new password, in words for the form, or None if it will do.
    (Passwords set before these rules keep working until their owner changes them.)"""
    password = password or ""
    if len(password) < MIN_LENGTH:
        return _("Use at least %(count)d characters.", count=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _("Use at most %(count)d characters.", count=MAX_LENGTH)
    if is_common(password):
        return _(
            "That is one of the most common passwords, so it is easy to guess. Choose another."
        )
    return None


def _hasher() -> PasswordHasher:
    if has_app_context() and current_app.config.get("PASSWORD_HASH_FAST"):
        return _fast
    return _strong


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def _dummy_hash(hasher: PasswordHasher) -> str:
    if id(hasher) not in _DUMMY_HASHES:
        _DUMMY_HASHES[id(hasher)] = hasher.hash("not-a-real-password")
    return _DUMMY_HASHES[id(hasher)]


def verify_password(password_hash: str | None, password: str) -> bool:
    if len(password or "") > MAX_LENGTH:
        return False  # never hashed: see MAX_LENGTH
    hasher = _hasher()
    try:
        return hasher.verify(password_hash or _dummy_hash(hasher), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True
