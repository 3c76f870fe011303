"""The sign-in side's scheduled housekeeping."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from trainer.auth import sessions, throttle


def tidy_sign_ins(session: Session, now: datetime) -> str:
    """Delete sign-in counts whose windows are long over and sessions that ended (or expired)
    more than 90 days ago; safe to run twice."""
    counters = throttle.forget_old(session, now)
    ended = sessions.forget_old(session, now)
    session.commit()
    return f"forgot {counters} sign-in count(s) and {ended} old session(s)"
