"""Queueing messages. A message is a row first, so it is never lost to a mail server or a push
service being down, and it commits in the same transaction as whatever caused it (a
notification, an invitation)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from trainer.models import EMAIL, Delivery, OutboxMessage, utcnow

MAX_SUBJECT = 300  # the column's length
MAX_URL = 500
# Kinds of message whose link works once (a password link): while mail is kept in the outbox,
# an admin passes such a link on by hand.
ONE_TIME_KINDS = frozenset({"invitation", "password-reset"})
_LINK = re.compile(r"https?://[^\s<>\"']+")


def one_time_link(message: OutboxMessage) -> str | None:
    """The one-time link a message carries (the first link of its text), if it is of a kind
    that carries one."""
    if message.kind not in ONE_TIME_KINDS:
        return None
    found = _LINK.search(message.text or "")
    return found.group(0).rstrip(".,;)") if found else None


def queue_message(
    session: Session,
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    short: str | None = None,
    url: str | None = None,
    channels: Sequence[str] = (EMAIL,),
    kind: str = "general",
    user_id: int | None = None,
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> OutboxMessage:
    """Add a message to the outbox (not committed: the caller commits it with its cause).

    `channels` is its route, tried in order, each only when the one before refused it for
    good; `to` is the address on the first. `short` and `url` are what push notifications and
    text messages carry. `expires_at` (naive UTC): when it is no longer worth sending; if it
    has not gone out by then it is marked failed, not sent late. None: however late. `now`:
    when it is queued (a job run as if at another time queues it then), due at once."""
    if not channels:
        raise ValueError("a message needs at least one channel")
    if len(subject) > MAX_SUBJECT:  # a subject naming many teams must not lose the mail
        subject = subject[: MAX_SUBJECT - 1].rstrip() + "…"
    if url is not None and len(url) > MAX_URL:
        url = None  # a link cut short would be wrong; the text still says what to do
    now = now or utcnow()
    message = OutboxMessage(
        to=to,
        subject=subject,
        text=text,
        html=html,
        short=short,
        url=url,
        channel=channels[0],
        kind=kind,
        user_id=user_id,
        created_at=now,
        next_attempt_at=now,
        expires_at=expires_at,
        deliveries=[
            Delivery(position=position, channel=channel)
            for position, channel in enumerate(channels)
        ],
    )
    session.add(message)
    session.flush()
    return message
