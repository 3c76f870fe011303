"""Telling a person something exactly once, even when two processes run the same job at once.

The Notification row's unique (user, kind, key) is the rule; the message is queued in the same
transaction, so there is never a message without its row nor a row without its message. The
message goes out on the person's own channel (`trainer.messages.channels`), whichever it is:
one message, one row, however many channels it may have to try.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from trainer.messages import channels, queue_message
from trainer.models import Notification, User


def already_notified(session: Session, user_id: int, kind: str, keys: Sequence[str]) -> bool:
    return (
        session.scalar(
            select(Notification.id)
            .where(
                Notification.user_id == user_id,
                Notification.kind == kind,
                Notification.key.in_(list(keys)),
            )
            .limit(1)
        )
        is not None
    )


def notify_once(
    session: Session,
    user: User,
    kind: str,
    key: str,
    *,
    subject: str,
    text: str,
    html: str | None,
    short: str | None = None,
    url: str | None = None,
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> bool:
    """Queue the message (not sent after `expires_at`, if given) on the person's channels and
    record (user, kind, key) in one commit. False, and nothing queued or recorded, if that was
    recorded before (by an earlier run or by another process at the same moment), or if no
    channel reaches the person. `short` and `url`: the version for push and text messages;
    without them it goes by email only. `now`: the job's time, when it is queued.

    Expects a session with nothing else pending: a lost race rolls the session back."""
    return notify_once_for_all(
        session,
        user,
        kind,
        [key],
        subject=subject,
        text=text,
        html=html,
        short=short,
        url=url,
        expires_at=expires_at,
        now=now,
    )


def notify_once_for_all(
    session: Session,
    user: User,
    kind: str,
    keys: Sequence[str],
    *,
    subject: str,
    text: str,
    html: str | None,
    short: str | None = None,
    url: str | None = None,
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> bool:
    """One message covering several things (a manager's overdue report): one row per key, all
    committed with the message. If any key was recorded already, nothing is sent and False is
    returned; the caller's next run finds the keys still untold and tells them then."""
    keys = list(dict.fromkeys(keys))
    if not keys:
        return False
    route = channels.route(session, user, current_app.config, short=short is not None)
    if not route:  # no way to reach them: nothing is recorded as told
        return False
    # Cheap path: a job re-run after a success stops here without writing.
    if already_notified(session, user.id, kind, keys):
        return False
    to = channels.address_of(route[0], user) or ""
    user_id = user.id  # read before a rollback expires the object
    try:
        message = queue_message(
            session,
            to=to,
            subject=subject,
            text=text,
            html=html,
            short=short,
            url=url,
            channels=route,
            kind=kind,
            user_id=user_id,
            expires_at=expires_at,
            now=now,
        )
        session.add_all(
            Notification(user_id=user_id, kind=kind, key=key, message_id=message.id) for key in keys
        )
        session.commit()
    except IntegrityError:
        # The race: another process inserted the same row between our check and our insert.
        session.rollback()
        if already_notified(session, user_id, kind, keys):
            return False
        raise  # some other broken rule; not ours to hide
    return True
