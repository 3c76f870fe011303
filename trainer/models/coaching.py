"""What managers add: enrolments and assignments, observations on the floor, invitations."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer.models.base import Base, utcnow
from trainer.models.content import Lesson, Path
from trainer.models.people import User

GRADES = ("A", "B", "C", "D", "E", "F")


class Enrolment(Base):
    """A person on a path, or assigned one lesson, with a due date.

    New hires are enrolled on their job role's path automatically (source "auto"); a manager or
    admin can assign a path or a lesson to a person or a team (source "assigned").
    """

    __tablename__ = "enrolments"
    __table_args__ = (
        UniqueConstraint("user_id", "path_id"),
        UniqueConstraint("user_id", "lesson_id"),
        Index("ix_enrolments_due", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    path_id: Mapped[int | None] = mapped_column(ForeignKey("paths.id"))
    lesson_id: Mapped[int | None] = mapped_column(ForeignKey("lessons.id"))
    # For a path: the day the path starts (each step is due `due_days` later) unless
    # `due_date` sets one date for all of it. For a lesson: its due date.
    start_date: Mapped[date]
    due_date: Mapped[date | None]
    source: Mapped[str] = mapped_column(String(16), default="assigned")  # auto | assigned
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    path: Mapped[Path | None] = relationship()
    lesson: Mapped[Lesson | None] = relationship()


class ObservationChecklist(Base):
    """What to look for in one kind of moment of truth (a phone greeting, a collections call)."""

    __tablename__ = "observation_checklists"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    skill: Mapped[str] = mapped_column(String(64))
    points: Mapped[list] = mapped_column(JSON)
    # The job role keys it is for; empty: every role.
    roles: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    builtin: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Observation(Base):
    """A moment of truth a manager saw on the floor or heard on a call, graded A-F."""

    __tablename__ = "observations"
    __table_args__ = (Index("ix_observations_user_observed", "user_id", "observed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    observer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    checklist_id: Mapped[int] = mapped_column(ForeignKey("observation_checklists.id"))
    # The checklist's points as they were, and which were seen.
    points: Mapped[list] = mapped_column(JSON)
    seen: Mapped[list] = mapped_column(JSON)
    grade: Mapped[str] = mapped_column(String(1))
    note: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(16), default="floor")  # floor | phone
    observed_at: Mapped[datetime] = mapped_column(default=utcnow)
    token: Mapped[str] = mapped_column(String(64), unique=True)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    observer: Mapped[User] = relationship(foreign_keys=[observer_id])
    checklist: Mapped[ObservationChecklist] = relationship()


class Invitation(Base):
    """A one-time link to set a password. Only the token's hash is stored."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
