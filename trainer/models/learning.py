"""What learners did: append-only records that content edits never rewrite."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ColumnElement, ForeignKey, Index, String, Text, UniqueConstraint, and_
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer.models.base import Base, utcnow
from trainer.models.content import Conversation, Lesson, QuizItem, RolePlay
from trainer.models.people import User


class LessonRun(Base):
    """One pass through a lesson, from its scenario to its completion screen.

    A person has at most one open run per lesson, which the database enforces, so two tabs
    sending question 1 at once share one run. `abandoned_at` marks an older duplicate open run
    from before that rule (migration 0007): kept for its answers, neither open nor completed.
    """

    __tablename__ = "lesson_runs"
    __table_args__ = (Index("ix_lesson_runs_user_lesson", "user_id", "lesson_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    abandoned_at: Mapped[datetime | None]
    correct: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)

    user: Mapped[User] = relationship()
    lesson: Mapped[Lesson] = relationship()

    @hybrid_property
    def is_open(self) -> bool:
        """Still being taken: neither completed nor set aside."""
        return self.completed_at is None and self.abandoned_at is None

    @is_open.inplace.expression
    @classmethod
    def _is_open_expression(cls) -> ColumnElement[bool]:
        return and_(cls.completed_at.is_(None), cls.abandoned_at.is_(None))


# One open run per person and lesson, even when two tabs send question 1 at the same moment.
Index(
    "uq_lesson_runs_open",
    LessonRun.user_id,
    LessonRun.lesson_id,
    unique=True,
    sqlite_where=LessonRun.is_open,
    postgresql_where=LessonRun.is_open,
)


class ConversationRun(Base):
    """One pass through a conversation, from its start to an ending.

    Each choice is an `Attempt` at its node's review item, numbered by `step` from 0, so the
    path taken is the run's attempts in step order; `node` is where the run stands (at the
    end, its ending node). A person has at most one open run per conversation. A run whose
    node left the file is closed without an ending (`ending` None): set aside, kept for its
    answers.
    """

    __tablename__ = "conversation_runs"
    __table_args__ = (
        Index("ix_conversation_runs_user_conversation", "user_id", "conversation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    # The pass through the lesson it was played in.
    lesson_run_id: Mapped[int | None] = mapped_column(ForeignKey("lesson_runs.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    node: Mapped[str] = mapped_column(String(120))
    steps: Mapped[int] = mapped_column(default=0)
    points: Mapped[int] = mapped_column(default=0)
    best: Mapped[int | None]  # the conversation's best possible score when the run ended
    ending: Mapped[str | None] = mapped_column(String(8))  # good | mixed | poor

    user: Mapped[User] = relationship()
    conversation: Mapped[Conversation] = relationship()

    @hybrid_property
    def is_open(self) -> bool:
        return self.finished_at is None

    @is_open.inplace.expression
    @classmethod
    def _is_open_expression(cls) -> ColumnElement[bool]:
        return cls.finished_at.is_(None)

    @property
    def percent(self) -> int | None:
        """The score as a share of the best possible, once ended."""
        if self.ending is None or not self.best:
            return None
        return min(100, round(100 * self.points / self.best))


# One open run per person and conversation, even when two tabs make the first choice at once.
Index(
    "uq_conversation_runs_open",
    ConversationRun.user_id,
    ConversationRun.conversation_id,
    unique=True,
    sqlite_where=ConversationRun.is_open,
    postgresql_where=ConversationRun.is_open,
)


class Attempt(Base):
    """One answer to one quiz item. Never updated; a replayed form finds its token taken."""

    __tablename__ = "attempts"
    __table_args__ = (
        UniqueConstraint("user_id", "token"),
        # One answer per item per lesson run, even when two submissions race.
        UniqueConstraint("run_id", "item_id"),
        UniqueConstraint("refresher_id", "item_id"),
        # One choice per step of a conversation run.
        UniqueConstraint("conversation_run_id", "step"),
        Index("ix_attempts_user_answered", "user_id", "answered_at"),
        Index("ix_attempts_item_answered", "item_id", "answered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("quiz_items.id"))
    run_id: Mapped[int | None] = mapped_column(ForeignKey("lesson_runs.id"), index=True)
    refresher_id: Mapped[int | None] = mapped_column(ForeignKey("refreshers.id"), index=True)
    conversation_run_id: Mapped[int | None] = mapped_column(ForeignKey("conversation_runs.id"))
    step: Mapped[int | None]  # 0, 1, ... within the conversation run
    # lesson | refresher | conversation
    context: Mapped[str] = mapped_column(String(16), default="lesson")
    # Indexes into the item's choices as they were, and their texts, kept as answered.
    chosen: Mapped[list] = mapped_column(JSON)
    chosen_text: Mapped[list] = mapped_column(JSON)
    correct: Mapped[bool]
    score: Mapped[float]
    seconds: Mapped[float | None]
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)
    token: Mapped[str] = mapped_column(String(64))

    user: Mapped[User] = relationship()
    item: Mapped[QuizItem] = relationship()


class RolePlayAnswer(Base):
    """What a learner said they would say, the rubric points they ticked, and any coaching."""

    __tablename__ = "roleplay_answers"
    __table_args__ = (
        UniqueConstraint("user_id", "token"),
        UniqueConstraint("run_id", "roleplay_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    roleplay_id: Mapped[int] = mapped_column(ForeignKey("roleplays.id"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("lesson_runs.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    # Rubric lines as shown when answered; `ticked` is the subset the learner claimed.
    rubric: Mapped[list] = mapped_column(JSON, default=list)
    ticked: Mapped[list | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ticked_at: Mapped[datetime | None]
    token: Mapped[str] = mapped_column(String(64))
    coach_comment: Mapped[str | None] = mapped_column(Text)
    coached_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    coached_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    roleplay: Mapped[RolePlay] = relationship()
