"""Signed-in sessions, sign-in throttling and company accounts, kept in the database so every web
worker agrees."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from trainer.models.base import Base, utcnow


class UserSession(Base):
    """One signed-in browser. The cookie carries the row id and a secret whose SHA-256 is kept
    here; ending the row (sign-out, password change, deactivation, idling) ends the session at
    once, whatever copies of the cookie exist."""

    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_user_address", "user_id", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    secret_hash: Mapped[str] = mapped_column(String(64))
    device: Mapped[str] = mapped_column(String(120), default="")  # "Chrome on Android"
    address: Mapped[str] = mapped_column(String(64), default="")
    remember: Mapped[bool] = mapped_column(default=False)
    # Started on a team's shared tablet: ends after DEVICE_IDLE_MINUTES idle, and when the
    # device is revoked.
    device_id: Mapped[int | None] = mapped_column(
        ForeignKey("devices.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None] = mapped_column(index=True)
    # signed out | signed out elsewhere | password changed | deactivated | idle | expired |
    # device revoked
    end_reason: Mapped[str | None] = mapped_column(String(32))

    @property
    def active(self) -> bool:
        return self.ended_at is None


class SignInCounter(Base):
    """A count of sign-in attempts for one key ("address:...", "pair:...", "account:...") in a
    window that starts at its first attempt. Updated by single atomic upserts, so concurrent
    attempts each see a different count and no limit can be overrun."""

    __tablename__ = "sign_in_counters"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
    window_start: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # Account keys only: no password of this account is checked before then.
    next_check_at: Mapped[datetime | None]


class CompanyAccount(Base):
    """A person's account at the company's OpenID provider, remembered the first time it signs
    in (trainer/auth/oidc.py). From then on the provider's subject finds the person, so an email
    changed or reused at the company never moves the sign-in to someone else here. One per
    person and provider."""

    __tablename__ = "company_accounts"
    __table_args__ = (
        UniqueConstraint("issuer", "subject"),
        UniqueConstraint("user_id", "issuer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))  # the ID token's "sub"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_signed_in_at: Mapped[datetime] = mapped_column(default=utcnow)
