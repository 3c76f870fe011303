"""FSRS for quiz items: how an answer becomes a rating, and a card's predicted recall.

See docs/spaced-repetition.md for why answers map to ratings the way they do.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

import fsrs
from flask import current_app, has_app_context

from trainer.models import ReviewCard

DEFAULT_ANSWER_SECONDS = 15.0
FAST_SHARE = 0.5  # right in under half the learner's usual time: recalled with ease
SLOW_SHARE = 2.0  # right but taking over twice as long: recalled with effort


@lru_cache(maxsize=8)
def _scheduler(desired_retention: float, fuzz: bool) -> fsrs.Scheduler:
    return fsrs.Scheduler(desired_retention=desired_retention, enable_fuzzing=fuzz)


def scheduler() -> fsrs.Scheduler:
    if has_app_context():
        config = current_app.config
        return _scheduler(float(config["DESIRED_RETENTION"]), bool(config["FSRS_FUZZ"]))
    return _scheduler(0.9, False)


def rating_for(correct: bool, seconds: float | None, usual_seconds: float | None) -> fsrs.Rating:
    """Wrong is Again. Right is Good, Easy when much quicker than usual, Hard when much slower."""
    if not correct:
        return fsrs.Rating.Again
    if seconds is None or not usual_seconds:
        return fsrs.Rating.Good
    if seconds <= FAST_SHARE * usual_seconds:
        return fsrs.Rating.Easy
    if seconds >= SLOW_SHARE * usual_seconds:
        return fsrs.Rating.Hard
    return fsrs.Rating.Good


def aware(moment: datetime | None) -> datetime | None:
    """fsrs works in aware UTC; the database keeps naive UTC."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def new_card(now: datetime) -> fsrs.Card:
    # An explicit id: without one fsrs makes a clock-based id and sleeps 1 ms to keep it unique.
    return fsrs.Card(card_id=0, due=aware(now))


def _naive(moment: datetime | None) -> datetime | None:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment is not None else None


def to_fsrs(card: ReviewCard) -> fsrs.Card:
    return fsrs.Card(
        card_id=card.id or 0,
        state=fsrs.State(card.state),
        step=card.step,
        stability=card.stability,
        difficulty=card.difficulty,
        due=aware(card.due),
        last_review=aware(card.last_review),
    )


def fsrs_columns(state: fsrs.Card) -> dict:
    """The card's columns that hold an fsrs card's state."""
    return {
        "state": int(state.state),
        "step": state.step,
        "stability": state.stability,
        "difficulty": state.difficulty,
        "due": _naive(state.due),
        "last_review": _naive(state.last_review),
    }


def apply_fsrs(card: ReviewCard, state: fsrs.Card) -> None:
    for column, value in fsrs_columns(state).items():
        setattr(card, column, value)


class RecallModel:
    """Predicted recall with the FSRS forgetting curve, cheap enough for millions of cards."""

    def __init__(self, sched: fsrs.Scheduler | None = None):
        sched = sched or scheduler()
        self.decay = -sched.parameters[20]
        self.factor = 0.9 ** (1 / self.decay) - 1

    def recall(self, stability: float | None, last_review: datetime | None, at: datetime) -> float:
        if stability is None or last_review is None:
            return 0.0
        days = max(0, (at - last_review).days)  # whole days, as fsrs itself counts them
        return (1 + self.factor * days / stability) ** self.decay
