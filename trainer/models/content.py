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

QUIZ_KINDS = ("quiz", "conversation")


class Quiz(Base):
    """A quiz file's questions, or (kind "conversation") the review items of a conversation's
    decisions, one per node with choices, keyed by node id."""

    __tablename__ = "quizzes"
    # A conversation may share its id with a quiz file: each kind has its own ids.
    __table_args__ = (UniqueConstraint("kind", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="quiz", server_default="quiz")
    key: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(200))
    source_path: Mapped[str] = mapped_column(String(500))
    # {language: {field: text}}, written by `content sync` from the translation files; the
    # answer key stays in the columns above, shared by every language.
    translations: Mapped[dict | None] = mapped_column(JSON)
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
    # {language: {field: text}}, written by `content sync` from the translation files; the
    # answer key stays in the columns above, shared by every language.
    translations: Mapped[dict | None] = mapped_column(JSON)
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
    # Played after the quiz.
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    scenario_md: Mapped[str] = mapped_column(Text)
    key_points_md: Mapped[str] = mapped_column(Text)
    source_path: Mapped[str] = mapped_column(String(500))
    # {language: {field: text}}, written by `content sync` from the translation files; the
    # answer key stays in the columns above, shared by every language.
    translations: Mapped[dict | None] = mapped_column(JSON)
    retired: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    quiz: Mapped[Quiz | None] = relationship()
    conversation: Mapped[Conversation | None] = relationship()
    roleplays: Mapped[list[RolePlay]] = relationship(
        back_populates="lesson", order_by="RolePlay.position"
    )

    @property
    def live_roleplays(self) -> list[RolePlay]:
        return [rp for rp in self.roleplays if not rp.retired]

    @property
    def live_conversation(self) -> Conversation | None:
        conversation = self.conversation
        return conversation if conversation is not None and not conversation.retired else None


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
    # {language: {field: text}}, written by `content sync` from the translation files; the
    # answer key stays in the columns above, shared by every language.
    translations: Mapped[dict | None] = mapped_column(JSON)
    retired: Mapped[bool] = mapped_column(default=False)

    lesson: Mapped[Lesson] = relationship(back_populates="roleplays")


class Conversation(Base):
    """A branching role-play: the customer speaks, the learner picks a line, the customer
    reacts, until a good, mixed or poor ending.

    `nodes` is the graph as written in its file: {node id: {"customer", "cue", "choices":
    [{"say", "score", "feedback", "next"}, ...]}} for a decision, {node id: {"ending",
    "summary"}} for an ending. Each decision is also an item of `quiz` (kind "conversation"),
    keyed by its node id, so it comes back in refreshers with its own review card.
    """

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    skill: Mapped[str] = mapped_column(String(64), index=True)
    setting: Mapped[str] = mapped_column(String(64))
    start: Mapped[str] = mapped_column(String(120))
    nodes: Mapped[dict] = mapped_column(JSON)
    best_score: Mapped[int]  # the most points any way through can score
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id"), unique=True)
    source_path: Mapped[str] = mapped_column(String(500))
    # {language: {field: text}}, written by `content sync` from the translation files; the
    # answer key stays in the columns above, shared by every language.
    translations: Mapped[dict | None] = mapped_column(JSON)
    retired: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    quiz: Mapped[Quiz] = relationship()

    def node(self, key: str) -> dict | None:
        return self.nodes.get(key)


class Path(Base):
    """An onboarding path: the lessons a job role starts with, each due days after hire."""

    __tablename__ = "paths"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    job_role_id: Mapped[int | None] = mapped_column(ForeignKey("job_roles.id"), index=True)
    # {language: {"title": ...}}, from `lessons/paths.<language>.yaml`.
    translations: Mapped[dict | None] = mapped_column(JSON)
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


class LibraryState(Base):
    """One row: the library's version, moved on by every change to a lesson, quiz, item,
    role-play, conversation or path (`trainer.content.live`), so each process knows when the
    lessons it keeps in memory are out of date."""

    __tablename__ = "library_state"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(default=0, server_default="0")
