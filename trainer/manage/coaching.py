"""Role-play coaching: the manager's queue of answers to comment on, and what the learner reads.

A comment is written once: the first manager to comment on an answer takes it out of every
queue, and a second comment sent at the same moment is refused rather than overwriting it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import abort
from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session, selectinload

from trainer.manage.scope import people_query, person_in_scope
from trainer.manage.team import user_names
from trainer.models import RolePlayAnswer, User, utcnow

MAX_COMMENT = 2000
NOTE_DAYS = 14  # how long Today shows the latest coaching note


class CoachingError(ValueError):
    """The comment cannot be saved; the message says why, for the person who wrote it."""


class AlreadyCoached(CoachingError):
    pass


def waiting_for_comment(session: Session, viewer: User) -> Select:
    """Role-play answers of the viewer's active people that have no comment yet, oldest
    first, as a query to page through."""
    people = people_query(session, viewer).where(User.active.is_(True))
    return (
        select(RolePlayAnswer)
        .where(
            RolePlayAnswer.user_id.in_(people.with_only_columns(User.id)),
            RolePlayAnswer.coach_comment.is_(None),
        )
        .order_by(RolePlayAnswer.created_at, RolePlayAnswer.id)
        .options(selectinload(RolePlayAnswer.roleplay), selectinload(RolePlayAnswer.user))
    )


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
        raise CoachingError("Write a coaching note.")
    if len(text) > MAX_COMMENT:
        raise CoachingError(f"Keep it under {MAX_COMMENT:,} characters.")
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
        who = coach.name if coach else "someone"
        raise AlreadyCoached(f"{who} has already left a coaching note on this answer.")
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
