"""Role-play coaching: the manager's queue of answers to comment on, and what the learner reads.

A comment is written once: the first manager to comment on an answer takes it out of every
queue, and a second comment sent at the same moment is refused rather than overwriting it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from flask import abort
from flask_babel import format_number
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from trainer.languages import gettext as _
from trainer.manage.scope import people_query, person_in_scope
from trainer.manage.team import user_names
from trainer.models import RolePlayAnswer, User, utcnow
from trainer.web import parse_id

MAX_COMMENT = 2000
NOTE_DAYS = 14  # how long Today shows the latest coaching note
# The queue's age filter: key -> (label, waiting at least, at most) in days.
AGES = {
    "": (_l("Any age"), None, None),
    "new": (_l("From the last 2 days"), None, 2),
    "2": (_l("Waiting over 2 days"), 2, None),
    "7": (_l("Waiting over a week"), 7, None),
}


class CoachingError(ValueError):
    """The comment cannot be saved; the message says why, for the person who wrote it."""


class AlreadyCoached(CoachingError):
    pass


@dataclass(frozen=True)
class QueueFilters:
    """Whose answers and how old. Unknown values fall back to everyone, any age."""

    person_id: int | None = None
    age: str = ""

    @classmethod
    def from_args(cls, args) -> QueueFilters:
        age = args.get("age", "")
        return cls(person_id=parse_id(args.get("person")), age=age if age in AGES else "")

    def args(self, **changes) -> dict:
        """Query-string arguments for a link, defaults left out."""
        merged = replace(self, **changes)
        result = {"person": merged.person_id, "age": merged.age or None}
        return {key: value for key, value in result.items() if value is not None}


def waiting_for_comment(
    session: Session,
    viewer: User,
    filters: QueueFilters | None = None,
    now: datetime | None = None,
) -> Select:
    """Role-play answers of the viewer's active people that have no comment yet, oldest
    first, as a query to page through; only one person's and of an age with `filters`."""
    filters = filters or QueueFilters()
    people = people_query(session, viewer).where(User.active.is_(True))
    query = (
        select(RolePlayAnswer)
        .where(
            RolePlayAnswer.user_id.in_(people.with_only_columns(User.id)),
            RolePlayAnswer.coach_comment.is_(None),
        )
        .order_by(RolePlayAnswer.created_at, RolePlayAnswer.id)
        .options(selectinload(RolePlayAnswer.roleplay), selectinload(RolePlayAnswer.user))
    )
    if filters.person_id is not None:
        query = query.where(RolePlayAnswer.user_id == filters.person_id)
    _label, at_least, at_most = AGES[filters.age]
    now = now or utcnow()
    if at_least is not None:
        query = query.where(RolePlayAnswer.created_at <= now - timedelta(days=at_least))
    if at_most is not None:
        query = query.where(RolePlayAnswer.created_at > now - timedelta(days=at_most))
    return query


def waiting_people(session: Session, viewer: User) -> list[tuple[int, str, int]]:
    """(id, name, answers waiting) of the viewer's people with answers waiting, by name: the
    queue's person filter."""
    waiting = waiting_for_comment(session, viewer).subquery()
    return [
        tuple(row)
        for row in session.execute(
            select(User.id, User.name, func.count())
            .join(waiting, waiting.c.user_id == User.id)
            .group_by(User.id, User.name)
            .order_by(User.name, User.id)
        )
    ]


def next_waiting(
    session: Session, viewer: User, after: RolePlayAnswer, filters: QueueFilters | None = None
) -> RolePlayAnswer | None:
    """The answer after `after` in the (filtered) queue, going round to its start; None when
    nothing else is waiting. What "Save & next" opens."""
    queue = waiting_for_comment(session, viewer, filters).where(RolePlayAnswer.id != after.id)
    later = or_(
        RolePlayAnswer.created_at > after.created_at,
        and_(RolePlayAnswer.created_at == after.created_at, RolePlayAnswer.id > after.id),
    )
    return session.scalar(queue.where(later).limit(1)) or session.scalar(queue.limit(1))


def queue_position(
    session: Session, viewer: User, answer: RolePlayAnswer, filters: QueueFilters | None = None
) -> tuple[int, int]:
    """(this answer's place, how many are waiting) in the filtered queue; place 0 when the
    answer is not in it."""
    queue = waiting_for_comment(session, viewer, filters).subquery()
    total = session.scalar(select(func.count()).select_from(queue)) or 0
    before = session.scalar(
        select(func.count())
        .select_from(queue)
        .where(
            or_(
                queue.c.created_at < answer.created_at,
                and_(queue.c.created_at == answer.created_at, queue.c.id < answer.id),
            )
        )
    )
    inside = session.scalar(select(func.count()).select_from(queue).where(queue.c.id == answer.id))
    return (before + 1 if inside else 0), total


def answer_in_scope(session: Session, viewer: User, answer_id: int) -> RolePlayAnswer:
    """The answer, if its person is in the viewer's scope; 404 otherwise."""
    answer = session.get(RolePlayAnswer, answer_id)
    if answer is None:
        abort(404)
    person_in_scope(session, viewer, answer.user_id)
    return answer


def comment_on(
    session: Session, viewer: User, answer_id: int, text: str, now: datetime | None = None
) -> RolePlayAnswer:
    """Save the viewer's comment on an answer and take it out of the queue. An answer of a
    person outside the viewer's scope is 404 (nothing saved). Raises `CoachingError` for an
    empty or too long comment, `AlreadyCoached` when someone commented first. Committed."""
    answer = answer_in_scope(session, viewer, answer_id)
    text = (text or "").strip()
    if not text:
        raise CoachingError(_("Write a coaching note."))
    if len(text) > MAX_COMMENT:
        raise CoachingError(
            _("Keep it under %(count)s characters.", count=format_number(MAX_COMMENT))
        )
    # Only an answer still without a comment is written: two managers racing, one wins.
    saved = session.execute(
        update(RolePlayAnswer)
        .where(RolePlayAnswer.id == answer.id, RolePlayAnswer.coach_comment.is_(None))
        .values(coach_comment=text, coached_by_id=viewer.id, coached_at=now or utcnow())
    ).rowcount
    session.commit()
    session.refresh(answer)
    if not saved:
        coach = session.get(User, answer.coached_by_id) if answer.coached_by_id else None
        if coach is None:
            raise AlreadyCoached(_("Someone has already left a coaching note on this answer."))
        raise AlreadyCoached(
            _("%(name)s has already left a coaching note on this answer.", name=coach.name)
        )
    return answer


def coached_answers(learner: User) -> Select:
    """The learner's own answers that have a coaching note, newest note first."""
    return (
        select(RolePlayAnswer)
        .where(RolePlayAnswer.user_id == learner.id, RolePlayAnswer.coach_comment.is_not(None))
        .order_by(RolePlayAnswer.coached_at.desc(), RolePlayAnswer.id.desc())
        .options(selectinload(RolePlayAnswer.roleplay))
    )


def latest_note(
    session: Session, learner: User, now: datetime | None = None
) -> RolePlayAnswer | None:
    """The learner's newest coaching note if it came in the last 14 days, for Today."""
    since = (now or utcnow()) - timedelta(days=NOTE_DAYS)
    return session.scalar(
        coached_answers(learner).where(RolePlayAnswer.coached_at >= since).limit(1)
    )


def coach_names(session: Session, answers: list[RolePlayAnswer]) -> dict[int, str]:
    return user_names(session, {a.coached_by_id for a in answers})
