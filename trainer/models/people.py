from __future__ import annotations

from datetime import date, datetime, time

from flask_login import UserMixin
from sqlalchemy import JSON, CheckConstraint, Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer.models.base import Base, utcnow

ROLES = ("learner", "manager", "admin")

team_managers = Table(
    "team_managers",
    Base.metadata,
    Column("team_id", ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class JobRole(Base):
    """What a person does at work (teller, wait staff, ...); lessons and paths target it."""

    __tablename__ = "job_roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    # {language: {"name": ...}}, from `lessons/paths.<language>.yaml`.
    translations: Mapped[dict | None] = mapped_column(JSON)


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    # What joining with a team code asks of a newcomer (trainer/people/joining.py).
    joiners_need_employee_number: Mapped[bool] = mapped_column(default=False, server_default="0")
    joiners_need_approval: Mapped[bool] = mapped_column(default=False, server_default="0")

    members: Mapped[list[User]] = relationship(back_populates="team")
    managers: Mapped[list[User]] = relationship(
        secondary=team_managers, back_populates="managed_teams"
    )


class User(UserMixin, Base):
    __tablename__ = "users"
    # Many frontline staff have no company email: an employee number (the branch tablet) or a
    # phone (text messages) will do instead.
    __table_args__ = (
        CheckConstraint(
            "email IS NOT NULL OR employee_number IS NOT NULL OR phone IS NOT NULL",
            name="reachable",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    employee_number: Mapped[str | None] = mapped_column(String(32), unique=True)
    phone: Mapped[str | None] = mapped_column(String(16), index=True)  # E.164, +447911123456
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    pin_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="learner")
    job_role_id: Mapped[int | None] = mapped_column(ForeignKey("job_roles.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/London")
    # The language lessons are read in ("es"); None: the DEFAULT_LANGUAGE setting.
    language: Mapped[str | None] = mapped_column(String(8))
    hire_date: Mapped[date | None]
    # When the daily refresher reminder goes out, in the person's own time zone.
    reminder_time: Mapped[time] = mapped_column(default=time(18, 0))
    # Where reminders go (push, sms, email); None: the first of those the person can receive.
    reminder_channel: Mapped[str | None] = mapped_column(String(16))
    # ISO weekdays without a reminder, e.g. "67" for Saturday and Sunday.
    reminder_days_off: Mapped[str] = mapped_column(String(7), default="", server_default="")
    reminders_off: Mapped[bool] = mapped_column(default=False)
    reminders_snoozed_until: Mapped[date | None]
    # Bumped when the stop/snooze settings change through a reminder's link: older links die.
    reminder_links_version: Mapped[int] = mapped_column(default=0, server_default="0")
    active: Mapped[bool] = mapped_column(default=True)
    # Joined with a team code and waiting for a manager of the team to approve them.
    awaiting_approval: Mapped[bool] = mapped_column(default=False, server_default="0")
    joined_with_code: Mapped[str | None] = mapped_column(String(16))  # JoinCode.code
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None]
    # Moves on whenever a request of theirs writes: pages kept for them are then out of date
    # (trainer/page_cache.py).
    page_version: Mapped[int] = mapped_column(default=0, server_default="0")

    job_role: Mapped[JobRole | None] = relationship()
    team: Mapped[Team | None] = relationship(back_populates="members")
    managed_teams: Mapped[list[Team]] = relationship(
        secondary=team_managers, back_populates="managers"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    # The signed-in session this object was loaded for (`trainer.auth.sessions`); Flask-Login
    # keeps it in the session and remember-me cookies, so ending the row ends both.
    session_token = None  # str, set on the loaded object only, never stored
    session_device_id = None  # the team tablet that session was started on, if any

    def get_id(self) -> str | None:
        return self.session_token

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else self.handle

    @property
    def handle(self) -> str:
        """How to tell this person apart in a list: their email, else employee number or phone."""
        from trainer.languages import (
            gettext as _,  # in the reader's language; English outside a request
        )

        if self.email:
            return self.email
        if self.employee_number:
            return _("employee no. %(number)s", number=self.employee_number)
        return self.phone or _("person %(number)s", number=self.id)

    def __repr__(self) -> str:
        return f"<User {self.handle} {self.role}>"


class JoinCode(Base):
    """A team's code on a poster: whoever has it may join the team, until it expires, is
    revoked or has been used `max_uses` times (counted by one atomic update per joiner)."""

    __tablename__ = "join_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    job_role_id: Mapped[int | None] = mapped_column(ForeignKey("job_roles.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    max_uses: Mapped[int]
    uses: Mapped[int] = mapped_column(default=0)
    revoked_at: Mapped[datetime | None]

    team: Mapped[Team] = relationship()
    job_role: Mapped[JobRole | None] = relationship()

    def usable(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now and self.uses < self.max_uses

    @property
    def display(self) -> str:
        """Easier to read off a wall: ABCD-EFGH."""
        return f"{self.code[:4]}-{self.code[4:]}" if len(self.code) == 8 else self.code
