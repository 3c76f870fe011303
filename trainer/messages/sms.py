"""Text messages, and chat apps, through Apprise.

SMS_URL is an Apprise URL in which `{phone}` stands for the person's number (E.164), e.g.
`twilio://ACCOUNT_SID:AUTH_TOKEN@+15551234567/{phone}`; any service Apprise knows will do. Left
empty, text messages are not offered. `SMS_URL=outbox` offers them but keeps them in the outbox
to be read, as mail is kept without a MAIL_SERVER (for demos and trying things out).

Apprise says only whether a service took a message, and logs why not. A service that answered
4xx (other than 408 and 429) refused this message for good, and the person's next channel is
tried; a service that could not be reached, or answered 5xx, is tried again later.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from trainer.messages.tried import Failure, Tried
from trainer.models import OutboxMessage, User

log = logging.getLogger(__name__)

KEEP = "outbox"
SIGNATURE = "Frontline Trainer"  # a text message has no sender name: say who it is from
_STATUS = re.compile(r"error=(\d{3})")
_TEMPORARY_4XX = frozenset({408, 429})


def mode(config: Mapping[str, Any]) -> str:
    """Send through SMS_URL, keep when it is `outbox`, off (not offered) when it is not set."""
    url = (config.get("SMS_URL") or "").strip()
    if not url:
        return "off"
    return "keep" if url == KEEP else "send"


def where(config: Mapping[str, Any]) -> str | None:
    """The service's kind ("twilio://"): the rest of the URL holds its secrets."""
    if mode(config) != "send":
        return None
    return f"{urlsplit(config['SMS_URL'].strip()).scheme}://"


def reaches() -> ColumnElement[bool]:
    """The people text messages reach (an SQL condition on User)."""
    return User.phone.is_not(None)


def address_of(user: User) -> str | None:
    return user.phone


def target(config: Mapping[str, Any], phone: str) -> str:
    """SMS_URL with the number in it. Quoted: a "+" in a query string would read as a space."""
    return config["SMS_URL"].strip().replace("{phone}", quote(phone, safe=""))


def text(message: OutboxMessage) -> str:
    """The text as the person's phone shows it: who it is from, the news, the link."""
    parts = [f"{SIGNATURE}: {message.short}"]
    if message.url:
        parts.append(message.url)
    return " ".join(parts)


class Sender:
    """Texts a person at their number as it is when the message goes out."""

    def __init__(self, config: Mapping[str, Any]):
        self.config = config

    def send(
        self, session: Session, message: OutboxMessage, user: User | None, now: datetime
    ) -> Tried:
        phone = user.phone if user is not None else None
        if not phone:
            return Tried("no phone number", Failure("no phone number to text", permanent=True))
        if not message.short:
            return Tried(phone, Failure("this message has no text-message version", True))
        import apprise  # only loaded by a run that sends texts

        notifier = apprise.Apprise()
        if not notifier.add(target(self.config, phone)):
            # The setting, not the message: fixed, the message can still go.
            problem = f"SMS_URL is not a URL Apprise can use ({where(self.config)})"
            return Tried(phone, Failure(problem))
        result = notifier.notify(body=text(message), title="")
        if result:
            return Tried(phone)
        said = "; ".join(entry.message for entry in result.logs()) or result.status.name
        codes = [int(code) for code in _STATUS.findall(said)]
        refused = bool(codes) and all(
            400 <= code < 500 and code not in _TEMPORARY_4XX for code in codes
        )
        return Tried(phone, Failure(said, permanent=refused))

    def close(self) -> None:
        pass
