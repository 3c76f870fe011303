"""Queueing mail. A message is a row first, so it is never lost to a mail server being down,
and it commits in the same transaction as whatever caused it (a notification, an invitation)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from trainer.models import OutboxMessage, utcnow

MAX_SUBJECT = 300  # the column's length


def queue_message(
    session: Session,
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    kind: str = "general",
    user_id: int | None = None,
    expires_at: datetime | None = None,
) -> OutboxMessage:
    """Add a message to the outbox (not committed: the caller commits it with its cause).

    `expires_at` (naive UTC): when it is no longer worth sending; if it has not gone out by
    then it is marked failed, not sent late. None: it is worth sending however late."""
    if len(subject) > MAX_SUBJECT:  # a subject naming many teams must not lose the mail
        subject = subject[: MAX_SUBJECT - 1].rstrip() + "…"
    message = OutboxMessage(
        to=to,
        subject=subject,
        text=text,
        html=html,
        kind=kind,
        user_id=user_id,
        next_attempt_at=utcnow(),
        expires_at=expires_at,
    )
    session.add(message)
    session.flush()
    return message
