"""An answer is practice: grading a choice and storing it with its review card, wherever it was
made (a lesson's quiz, a refresher, a turn of a conversation).

The players (`trainer.learn` for lessons and conversations, `trainer.review.refresher`) all
call down to this one place, so an answer is graded, kept and scheduled the same way in each.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from trainer.languages import gettext as _
from trainer.models import Attempt, QuizItem, User, utcnow
from trainer.review.cards import review

MAX_SECONDS = 60 * 60  # an answer left open longer says nothing about speed


class AnswerError(ValueError):
    """The submitted answer cannot be graded (no choice, a choice that does not exist)."""


def grade(item: QuizItem, chosen: list[int]) -> tuple[bool, float]:
    """(right, score from 0 to 1) for the choice indexes picked.

    Single and true/false: the score is the chosen choice's weight, and it is right when no
    choice weighs more (a conversation's turn weighs its lines by their score). Multiple: the
    weights of everything picked, added up and kept between 0 and 1; right only when every
    right choice and no wrong one is picked.
    """
    if not chosen:
        raise AnswerError(_("Choose an answer."))
    if any(i < 0 or i >= len(item.choices) for i in chosen) or len(set(chosen)) != len(chosen):
        raise AnswerError(_("That choice is not one of this question's answers."))
    if item.type != "multiple":
        if len(chosen) != 1:
            raise AnswerError(_("Choose one answer."))
        choice = item.choices[chosen[0]]
        return item.is_right(choice), max(0.0, min(1.0, choice["weight"]))
    score = max(0.0, min(1.0, sum(item.choices[i]["weight"] for i in chosen)))
    right = {i for i, c in enumerate(item.choices) if item.is_right(c)}
    return set(chosen) == right, score


def find_by_token(session: Session, user: User, token: str) -> Attempt | None:
    return session.scalar(select(Attempt).where(Attempt.user_id == user.id, Attempt.token == token))


def store_attempt(
    session: Session,
    user: User,
    item: QuizItem,
    chosen: list[int],
    token: str,
    seconds: float | None,
    *,
    run_id: int | None = None,
    refresher_id: int | None = None,
    conversation_run_id: int | None = None,
    step: int | None = None,
    earlier: Callable[[], Attempt | None] | None = None,
    answered_at: datetime | None = None,
) -> Attempt:
    """Grade, store the attempt and update the learner's review card, in one commit, together
    with whatever the caller changed in the session beforehand (a conversation run moving on).

    If another request stored the same answer first (same token, or the same item in the same
    lesson run or refresher, or the same step of a conversation run), that one is returned,
    nothing new is stored and the caller's changes are rolled back.
    """
    correct, score = grade(item, chosen)
    if seconds is not None:
        seconds = max(0.0, min(float(seconds), MAX_SECONDS))
    if run_id:
        context = "lesson"
    elif conversation_run_id:
        context = "conversation"
    else:
        context = "refresher"
    attempt = Attempt(
        user_id=user.id,
        item_id=item.id,
        run_id=run_id,
        refresher_id=refresher_id,
        conversation_run_id=conversation_run_id,
        step=step,
        context=context,
        chosen=sorted(chosen),
        chosen_text=[item.choices[i]["text"] for i in sorted(chosen)],
        correct=correct,
        score=score,
        seconds=seconds,
        token=token,
        answered_at=answered_at or utcnow(),
    )
    try:
        session.add(attempt)
        session.flush()
        review(session, attempt)
        session.commit()
    except IntegrityError:
        session.rollback()
        found = find_by_token(session, user, token) or (earlier() if earlier else None)
        if found is None:
            raise
        return found
    return attempt
