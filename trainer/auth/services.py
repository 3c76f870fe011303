"""Signing in: credentials, throttling of repeated failures, password changes."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from trainer.auth.passwords import MIN_LENGTH, hash_password, needs_rehash, verify_password
from trainer.models import LoginFailure, User, utcnow

BAD_CREDENTIALS = "That email and password do not match an active account."


@dataclass
class SignIn:
    user: User | None
    error: str | None = None


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def _wait_message(seconds: float) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many failed sign-ins. Wait {minutes} {unit} and try again."


def _throttled(session: Session, email: str, address: str) -> str | None:
    """A message when this account or address has failed too often in the window."""
    config = current_app.config
    window = timedelta(seconds=config["LOGIN_FAILURE_WINDOW_SECONDS"])
    since = utcnow() - window
    for column, value, limit in (
        (LoginFailure.email, email, config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]),
        (LoginFailure.address, address, config["LOGIN_MAX_FAILURES_PER_ADDRESS"]),
    ):
        count, oldest = session.execute(
            select(func.count(), func.min(LoginFailure.at)).where(
                column == value, LoginFailure.at >= since
            )
        ).one()
        if count >= limit:
            wait = (oldest + window - utcnow()).total_seconds()
            return _wait_message(wait)
    return None


def authenticate(session: Session, email: str, password: str, address: str) -> SignIn:
    """Check credentials. Never says whether the email exists; counts and limits failures."""
    email = normalise_email(email)
    address = (address or "unknown")[:64]
    refused = _throttled(session, email, address)
    if refused:
        return SignIn(None, refused)

    user = session.scalar(select(User).where(User.email == email))
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.active:
        session.add(LoginFailure(email=email, address=address))
        session.commit()
        return SignIn(None, BAD_CREDENTIALS)

    session.execute(delete(LoginFailure).where(LoginFailure.email == email))
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_seen_at = utcnow()
    session.commit()
    return SignIn(user)


def change_password(session: Session, user: User, current: str, new: str) -> str | None:
    """Set a new password; returns an error for the current-password field, or None."""
    if not verify_password(user.password_hash, current):
        return "That is not your current password."
    if len(new) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    user.password_hash = hash_password(new)
    session.commit()
    return None
