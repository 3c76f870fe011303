"""A manager's one-tap reminder ("Remind") to a person of their team: at most one a person a
day, whoever presses it and however often (the notification's unique key decides), naming the
manager and linking to the person's next lesson."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from trainer.languages import speaking
from trainer.learn.services import assigned_lessons, path_progress
from trainer.messages import channels
from trainer.models import Notification, User, utcnow
from trainer.notify.mails import nudge_mail
from trainer.notify.once import notify_once
from trainer.review.planning import end_of_local_day, local_date

KIND = "nudge"


def _today(user: User, now: datetime) -> str:
    return local_date(user.timezone, now).isoformat()


def can_reach(session: Session, user: User) -> bool:
    """Whether a reminder has somewhere to go: a channel that reaches the person."""
    return user.active and bool(channels.route(session, user, current_app.config))


def remind(session: Session, manager: User, person: User, now: datetime | None = None) -> str:
    """Send the nudge: "sent", "already" (reminded today, by anyone), or "unreachable".
    Committed when sent."""
    now = now or utcnow()
    if not can_reach(session, person):
        return "unreachable"
    key = _today(person, now)
    if session.scalar(
        select(Notification.id).where(
            Notification.user_id == person.id, Notification.kind == KIND, Notification.key == key
        )
    ):
        return "already"
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    lesson = _next_lesson(session, person)
    with speaking(person):
        mail = nudge_mail(
            first_name=person.first_name,
            manager=manager.name,
            lesson=lesson.title if lesson else None,
            minutes=lesson.minutes if lesson else None,
            url=f"{base}/lessons/{lesson.key}" if lesson else f"{base}/refresher",
        )
    sent = notify_once(
        session,
        person,
        KIND,
        key,
        subject=mail.subject,
        text=mail.text,
        html=mail.html,
        short=mail.short,
        url=mail.url,
        expires_at=end_of_local_day(person.timezone, local_date(person.timezone, now)),
        now=now,
    )
    return "sent" if sent else "already"


def _next_lesson(session: Session, person: User):
    """The lesson to do next: the earliest-due unfinished one, path or assigned."""
    candidates = []
    progress = path_progress(session, person)
    if progress and progress.next:
        candidates.append(progress.next)
    candidates += [pl for pl in assigned_lessons(session, person) if not pl.completed]
    if not candidates:
        return None
    return min(candidates, key=lambda pl: (pl.due is None, pl.due or datetime.max.date())).lesson


def reminded_today(session: Session, people: list[User], now: datetime | None = None) -> set[int]:
    """The ids of those people who got a nudge on their own today."""
    now = now or utcnow()
    if not people:
        return set()
    keys = {person.id: _today(person, now) for person in people}
    rows = session.execute(
        select(Notification.user_id, Notification.key).where(
            Notification.kind == KIND, Notification.user_id.in_(list(keys))
        )
    )
    return {user_id for user_id, key in rows if keys.get(user_id) == key}


@dataclass
class Round:
    """What "Remind everyone overdue" did."""

    sent: list[User] = field(default_factory=list)
    already: list[User] = field(default_factory=list)
    unreachable: list[User] = field(default_factory=list)


def remind_all(
    session: Session, manager: User, people: list[User], now: datetime | None = None
) -> Round:
    """Nudge each of `people` (each at most once today). Committed person by person."""
    result = Round()
    for person in people:
        outcome = remind(session, manager, person, now)
        getattr(result, outcome).append(person)
    return result
