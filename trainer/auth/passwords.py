"""Password hashing with Argon2id."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context

_strong = PasswordHasher()
# Same algorithm with small costs, for test suites that log in hundreds of times.
_fast = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

# Verified against when the email is unknown, so both paths cost the same time.
_DUMMY_HASHES: dict[int, str] = {}
MIN_LENGTH = 8


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
