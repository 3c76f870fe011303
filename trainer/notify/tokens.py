"""Signed links in reminder mails: whoever holds one may snooze or stop that person's
reminders, without signing in. They carry the user id only and do not expire (a mail read
weeks later must still work); changing SECRET_KEY invalidates them all."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from trainer.models import User

SALT = "reminder-links"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def reminder_token(user: User) -> str:
    return _serializer().dumps(user.id)


def read_reminder_token(token: str) -> int | None:
    """The user id a token was made for, or None if it was not made by us."""
    try:
        value = _serializer().loads(token)
    except BadSignature:
        return None
    # bool is an int too; only a real id counts.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None
