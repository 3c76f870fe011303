"""Ways in for people without email: a team's enrolled tablet, and personal sign-in cards."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer.models.base import Base, utcnow
from trainer.models.people import Team, User


class Device(Base):
    """A browser enrolled as a team's shared tablet, where the team's people sign in with their
    employee number and PIN.

    Made with a one-time enrolment link (only its code's SHA-256 is kept); opening it on the
    tablet stores a secret's SHA-256 here and the secret, signed, in the tablet's cookie.
    Revoking the device stops the cookie at once and ends the sessions started on it."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(80))  # "Counter tablet"
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )  # None: made on the command line
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    link_hash: Mapped[str] = mapped_column(String(64), unique=True)
    link_expires_at: Mapped[datetime]
    enrolled_at: Mapped[datetime | None]
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    team: Mapped[Team] = relationship()
    created_by: Mapped[User | None] = relationship()

    def status(self, now: datetime) -> str:
        """revoked | enrolled | waiting (its link still works) | expired (it never will)."""
        if self.revoked_at is not None:
            return "revoked"
        if self.enrolled_at is not None:
            return "enrolled"
        return "waiting" if self.link_expires_at > now else "expired"


class SignInCard(Base):
    """A printed one-time card that lets a person without email or phone in for the first time,
    to choose a password or a PIN. Only its code's SHA-256 is kept."""

    __tablename__ = "sign_in_cards"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(foreign_keys=[user_id])
