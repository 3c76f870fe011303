"""Review cards: created on a learner's first answer to an item, updated by every answer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trainer.models import Attempt, ReviewCard, ReviewLog, utcnow
from trainer.models.base import insert_skipping_duplicates
from trainer.review.fsrs_cards import (
    DEFAULT_ANSWER_SECONDS,
    RecallModel,
    apply_fsrs,
    aware,
    fsrs_columns,
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


def locked_card(session: Session, user_id: int, item_id: int) -> ReviewCard | None:
    """The learner's card for the item, read afresh and locked until the transaction ends.

    PostgreSQL locks the row (FOR UPDATE), so a second answer at the same moment waits and then
    reads the updated card. SQLite has no row locks and needs none: callers read the card after
    inserting the attempt, when their transaction already holds the database's one write lock.
    """
    return session.scalar(
        select(ReviewCard)
        .where(ReviewCard.user_id == user_id, ReviewCard.item_id == item_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def review(session: Session, attempt: Attempt, now: datetime | None = None) -> ReviewCard:
    """Update (or create) the learner's card for the attempt's item. Not committed: the caller
    commits it with the attempt, so an answer and its schedule are stored together or not at all.

    Never loses an update: answers to one item at the same moment (a lesson and a refresher,
    say) are applied one after the other, so the card's `reps` counts every attempt.
    """
    now = now or attempt.answered_at or utcnow()
    card = locked_card(session, attempt.user_id, attempt.item_id)
    if card is None:
        # Another answer may be creating the card right now: skip ours if theirs is first.
        session.execute(
            insert_skipping_duplicates(session, ReviewCard.__table__).values(
                user_id=attempt.user_id,
                item_id=attempt.item_id,
                reps=0,
                lapses=0,
                **fsrs_columns(new_card(now)),
            )
        )
        card = locked_card(session, attempt.user_id, attempt.item_id)
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
