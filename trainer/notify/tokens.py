"""Signed links in reminder mails: whoever holds one may snooze or stop that person's
reminders, without signing in. So a link is short-lived: it works for 60 days, and only until
the person's reminder settings are changed through one of their links (each carries the
settings' version). Changing SECRET_KEY invalidates them all."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from trainer.models import User

SALT = "reminder-links"
LIFETIME = timedelta(days=60)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def reminder_token(user: User) -> str:
    return _serializer().dumps([user.id, user.reminder_links_version])


def read_reminder_token(token: str) -> tuple[int, int] | None:
    """(user id, settings version) of a link we made less than 60 days ago, else None."""
    try:
        value = _serializer().loads(token, max_age=int(LIFETIME.total_seconds()))
    except BadSignature:  # forged, altered, or too old (SignatureExpired is a BadSignature)
        return None
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(part, int) and not isinstance(part, bool) for part in value)
    ):
        return value[0], value[1]
    return None


def link_user(session, token: str) -> User | None:
    """The active person a link still works for, or None when it is forged or has expired."""
    found = read_reminder_token(token)
    if found is None:
        return None
    user = session.get(User, found[0])
    if user is None or not user.active or user.reminder_links_version != found[1]:
        return None
    return user
