"""The library as loaded into the database by `content sync`.

Rows are keyed by the ids written in the files (`key`), never deleted: an item or lesson that
leaves the files is marked `retired`, so attempts and answers that point at it keep their meaning.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer.models.base import Base, utcnow
from trainer.models.people import JobRole


class Quiz(Base):
    __tablename__ = "quizzes"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    source_path: Mapped[str] = mapped_column(String(500))
    retired: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    items: Mapped[list[QuizItem]] = relationship(
        back_populates="quiz", order_by="QuizItem.position"
    )

    @property
    def live_items(self) -> list[QuizItem]:
        return [item for item in self.items if not item.retired]


class QuizItem(Base):
    __tablename__ = "quiz_items"
    __table_args__ = (UniqueConstraint("quiz_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id"), index=True)
    key: Mapped[str] = mapped_column(String(120))
    type: Mapped[str] = mapped_column(String(16))
    prompt: Mapped[str] = mapped_column(Text)
    text_format: Mapped[str] = mapped_column(String(16), default="markdown")
    # [{"text": str, "weight": float, "feedback": str}, ...] in file order; a choice whose text
    # or feedback has a format of its own (GIFT's `~[html]...`) also holds "format" or
    # "feedback_format".
    choices: Mapped[list] = mapped_column(JSON)
    explanation: Mapped[str] = mapped_column(Text, default="")
    # GIFT's `####[html]...`; None: the explanation is in `text_format`.
    explanation_format: Mapped[str | None] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[int] = mapped_column(default=0)
    retired: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    quiz: Mapped[Quiz] = relationship(back_populates="items")

    @property
    def global_key(self) -> str:
        return f"{self.quiz.key}/{self.key}"

    def choice_format(self, choice: dict) -> str:
        """The format a choice's text is written in."""
        return choice.get("format") or self.text_format

    def feedback_format(self, choice: dict) -> str:
        """The format a choice's feedback is written in."""
        return choice.get("feedback_format") or self.text_format

    def is_right(self, choice: dict) -> bool:
        """A right answer: on a multiple-answer item, any choice with credit; on the others,
        a choice no other outweighs (a conversation's turn weighs its lines by their score)."""
        if choice["weight"] <= 0:
            return False
        return self.type == "multiple" or choice["weight"] >= max(c["weight"] for c in self.choices)

    @property
    def right_choices(self) -> list[dict]:
        return [choice for choice in self.choices if self.is_right(choice)]

    def format_of_choice_text(self, text: str) -> str:
        """The format of the choice reading `text`, as attempts keep the answers picked."""
        for choice in self.choices:
            if choice["text"] == text:
                return self.choice_format(choice)
        return self.text_format

    @property
    def explanation_text_format(self) -> str:
        return self.explanation_format or self.text_format


class Lesson(Base):
    __tablename__ = "lessons"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    skill: Mapped[str] = mapped_column(String(64), index=True)
    roles: Mapped[list] = mapped_column(JSON, default=list)
    minutes: Mapped[int]
    quiz_id: Mapped[int | None] = mapped_column(ForeignKey("quizzes.id"))
    scenario_md: Mapped[str] = mapped_column(Text)
    key_points_md: Mapped[str] = mapped_column(Text)
    source_path: Mapped[str] = mapped_column(String(500))
    retired: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    quiz: Mapped[Quiz | None] = relationship()
    roleplays: Mapped[list[RolePlay]] = relationship(
        back_populates="lesson", order_by="RolePlay.position"
    )

    @property
    def live_roleplays(self) -> list[RolePlay]:
        return [rp for rp in self.roleplays if not rp.retired]


class RolePlay(Base):
    __tablename__ = "roleplays"
    __table_args__ = (UniqueConstraint("lesson_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id"), index=True)
    key: Mapped[str] = mapped_column(String(120))
    situation: Mapped[str] = mapped_column(Text)
    customer: Mapped[str] = mapped_column(Text)
    rubric: Mapped[list] = mapped_column(JSON)
    model_answer: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(default=0)
    retired: Mapped[bool] = mapped_column(default=False)

    lesson: Mapped[Lesson] = relationship(back_populates="roleplays")


class Path(Base):
    """An onboarding path: the lessons a job role starts with, each due days after hire."""

    __tablename__ = "paths"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    job_role_id: Mapped[int | None] = mapped_column(ForeignKey("job_roles.id"), index=True)
    retired: Mapped[bool] = mapped_column(default=False)

    job_role: Mapped[JobRole | None] = relationship()
    steps: Mapped[list[PathStep]] = relationship(
        back_populates="path", order_by="PathStep.position", cascade="all, delete-orphan"
    )


class PathStep(Base):
    __tablename__ = "path_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    path_id: Mapped[int] = mapped_column(ForeignKey("paths.id"), index=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id"))
    position: Mapped[int]
    due_days: Mapped[int]

    path: Mapped[Path] = relationship(back_populates="steps")
    lesson: Mapped[Lesson] = relationship()
