"""Review cards: created on a learner's first answer to an item, updated by every answer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trainer.models import Attempt, ReviewCard, ReviewLog, utcnow
from trainer.review.fsrs_cards import (
    DEFAULT_ANSWER_SECONDS,
    RecallModel,
    apply_fsrs,
    aware,
    new_card,
    rating_for,
    scheduler,
    to_fsrs,
)

RECENT_ANSWERS = 30


def usual_seconds(session: Session, user_id: int) -> float:
    """The learner's average answer time over their recent answers (a default before any)."""
    recent = (
        select(Attempt.seconds)
        .where(Attempt.user_id == user_id, Attempt.seconds.is_not(None))
        .order_by(Attempt.answered_at.desc())
        .limit(RECENT_ANSWERS)
        .subquery()
    )
    value = session.scalar(select(func.avg(recent.c.seconds)))
    return float(value) if value else DEFAULT_ANSWER_SECONDS


def review(session: Session, attempt: Attempt, now: datetime | None = None) -> ReviewCard:
    """Update (or create) the learner's card for the attempt's item. Not committed: the caller
    commits it with the attempt, so an answer and its schedule are stored together or not at all.
    """
    now = now or attempt.answered_at or utcnow()
    card = session.scalar(
        select(ReviewCard).where(
            ReviewCard.user_id == attempt.user_id, ReviewCard.item_id == attempt.item_id
        )
    )
    if card is None:
        card = ReviewCard(user_id=attempt.user_id, item_id=attempt.item_id, reps=0, lapses=0)
        apply_fsrs(card, new_card(now))
        session.add(card)
        session.flush()
    before = RecallModel().recall(card.stability, card.last_review, now)
    rating = rating_for(attempt.correct, attempt.seconds, usual_seconds(session, attempt.user_id))
    was_review = card.state == 2
    state, _log = scheduler().review_card(
        to_fsrs(card),
        rating,
        review_datetime=aware(now),
        review_duration=int(attempt.seconds * 1000) if attempt.seconds is not None else None,
    )
    apply_fsrs(card, state)
    card.reps += 1
    if was_review and rating == 1:
        card.lapses += 1
    session.add(
        ReviewLog(
            card_id=card.id,
            attempt_id=attempt.id,
            rating=int(rating),
            reviewed_at=now,
            review_duration_ms=int(attempt.seconds * 1000) if attempt.seconds is not None else None,
            retrievability=before if card.reps > 1 else None,
            stability=card.stability,
            difficulty=card.difficulty,
            due=card.due,
        )
    )
    return card
