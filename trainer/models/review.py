"""Spaced repetition: one FSRS card per learner and quiz item, its log, and daily refreshers."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer.models.base import Base, utcnow
from trainer.models.content import QuizItem


class ReviewCard(Base):
    """FSRS memory state of one item for one learner. `due` drives what is due."""

    __tablename__ = "review_cards"
    __table_args__ = (
        UniqueConstraint("user_id", "item_id"),
        # "What is due for this learner" and "what is due for everyone" are both one index scan.
        Index("ix_review_cards_user_due", "user_id", "due"),
        Index("ix_review_cards_due", "due"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("quiz_items.id"), index=True)
    state: Mapped[int] = mapped_column(index=True)  # fsrs.State: 1 learning, 2 review, 3 relearning
    step: Mapped[int | None]
    stability: Mapped[float | None]
    difficulty: Mapped[float | None]
    due: Mapped[datetime]
    last_review: Mapped[datetime | None]
    reps: Mapped[int] = mapped_column(default=0)
    lapses: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    item: Mapped[QuizItem] = relationship()


class ReviewLog(Base):
    """Each rating given to a card, with the answer that caused it: the raw data to re-fit FSRS."""

    __tablename__ = "review_logs"

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("review_cards.id"), index=True)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id"), unique=True)
    rating: Mapped[int]
    reviewed_at: Mapped[datetime]
    review_duration_ms: Mapped[int | None]
    retrievability: Mapped[float | None]  # predicted recall just before this review
    stability: Mapped[float | None]  # after the review
    difficulty: Mapped[float | None]
    due: Mapped[datetime]


class Refresher(Base):
    """The day's refresher of one learner: the items planned, in order, and how it went."""

    __tablename__ = "refreshers"
    # One daily refresher per learner and day; "practise anyway" rounds count up from 1.
    __table_args__ = (UniqueConstraint("user_id", "local_date", "kind", "round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    local_date: Mapped[date]  # the learner's own calendar day
    kind: Mapped[str] = mapped_column(String(16), default="daily")  # daily | practice
    round: Mapped[int] = mapped_column(default=0)
    item_ids: Mapped[list] = mapped_column(JSON)
    budget_seconds: Mapped[int]
    planned_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    correct: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    # Predicted recall per skill when planned, to show what improved at the end.
    recall_before: Mapped[dict | None] = mapped_column(JSON)
