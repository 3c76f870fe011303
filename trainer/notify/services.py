"""A person's refresher reminder settings, as changed from the link in a reminder mail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from trainer.models import User, utcnow
from trainer.review.planning import local_date

SNOOZE_DAYS = 7
ACTIONS = ("snooze", "stop", "resume")


@dataclass(frozen=True)
class ReminderState:
    off: bool
    resumes_on: date | None  # first day a reminder can come again, while snoozed

    @property
    def on(self) -> bool:
        return not self.off and self.resumes_on is None


def reminder_state(user: User, now: datetime | None = None) -> ReminderState:
    """Whether the person gets reminders, and if snoozed, from which of their days again."""
    today = local_date(user.timezone, now or utcnow())
    snoozed = user.reminders_snoozed_until
    resumes_on = snoozed + timedelta(days=1) if snoozed is not None and snoozed >= today else None
    return ReminderState(off=user.reminders_off, resumes_on=resumes_on)


def change_reminders(
    session: Session, user: User, action: str, now: datetime | None = None
) -> ReminderState:
    """Apply `action` and commit: "snooze" skips reminders for SNOOZE_DAYS of the person's own
    days starting today, "stop" turns them off, "resume" turns them on and ends a snooze.
    Raises ValueError for any other action."""
    if action not in ACTIONS:
        raise ValueError(f"unknown reminder action {action!r}")
    now = now or utcnow()
    if action == "snooze":
        # `reminders_snoozed_until` is the last day without one: today plus six more.
        user.reminders_snoozed_until = local_date(user.timezone, now) + timedelta(
            days=SNOOZE_DAYS - 1
        )
    elif action == "stop":
        user.reminders_off = True
    else:
        user.reminders_off = False
        user.reminders_snoozed_until = None
    session.commit()
    return reminder_state(user, now)
