"""A person's refresher reminder settings: as changed from the link in a reminder, and on the
Account page (channel, time of day, time zone, days off)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from trainer.languages import gettext as _
from trainer.messages import channels
from trainer.models import EMAIL, PUSH, SMS, User, utcnow
from trainer.people.zones import timezone_names
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


# -- the Account page's "Reminders" section -------------------------------------------------

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class ReminderSettingsError(ValueError):
    """A setting that cannot be saved: `field` names the form field, `message` says why."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class ChannelChoice:
    key: str  # push | sms | email
    label: str  # "Text message to +447911123456"


def channel_choices(session: Session, user: User, config: Mapping[str, Any]) -> list[ChannelChoice]:
    """The ways the person can be reminded: offered here and reaching them, default first."""
    labels = {
        PUSH: _("Notification in the browsers where you turned them on"),
        SMS: _("Text message to %(phone)s", phone=user.phone),
        EMAIL: _("Email to %(address)s", address=user.email),
    }
    return [ChannelChoice(key, labels[key]) for key in channels.reachable(session, user, config)]


def reminder_channel(session: Session, user: User, config: Mapping[str, Any]) -> str | None:
    """The channel reminders go on now: the person's choice if it reaches them, else the
    first that does of push, text message, email; None when none does."""
    route = channels.route(session, user, config)
    return route[0] if route else None


def days_off(user: User) -> list[int]:
    """ISO weekdays (1 Monday .. 7 Sunday) the person gets no reminder."""
    return sorted(int(day) for day in user.reminder_days_off or "" if day in "1234567")


def change_reminder_settings(
    session: Session,
    user: User,
    config: Mapping[str, Any],
    *,
    on: bool,
    channel: str | None,
    reminder_time: time,
    timezone: str,
    days: list[int],
) -> None:
    """Check and save (commit) the person's reminder settings. `channel` must be one that
    reaches them (None when none does); `days` are ISO weekdays off, never all seven.
    Raises ReminderSettingsError, saving nothing, when a setting cannot be used."""
    reachable = channels.reachable(session, user, config)
    if channel is None and reachable:
        raise ReminderSettingsError("channel", _("Choose how to get your reminders."))
    if channel is not None and channel not in reachable:
        raise ReminderSettingsError("channel", _("That way of reaching you is not available."))
    if timezone not in timezone_names() and timezone != user.timezone:
        raise ReminderSettingsError("timezone", _("Choose a time zone from the list."))
    if any(day not in range(1, 8) for day in days):
        raise ReminderSettingsError("days_off", _("Choose days from the list."))
    if len(set(days)) == 7:
        raise ReminderSettingsError(
            "days_off", _("Leave at least one day for reminders, or untick the reminders box.")
        )
    user.reminders_off = not on
    user.reminder_channel = channel
    user.reminder_time = reminder_time.replace(second=0, microsecond=0)
    user.timezone = timezone
    user.reminder_days_off = "".join(str(day) for day in sorted(set(days)))
    session.commit()
