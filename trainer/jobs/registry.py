"""The scheduled jobs, by stable name: what each runs, when, and why.

The names are the job ids in the scheduler's job store, so renaming one leaves the old row
behind (the scheduler removes rows whose name is no longer here when it starts). Each body is
`body(session, now) -> result` with `now` naive UTC, and is safe to run twice.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger


class UnknownJob(LookupError):
    """No job of that name in the registry."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"Unknown job {self.name!r}. Known jobs: {', '.join(JOBS)}."


@dataclass(frozen=True)
class JobSpec:
    name: str
    target: str  # dotted path of the body: "package.module.function" (or "module:function")
    trigger: BaseTrigger
    schedule: str  # the trigger in words, for `jobs list`
    description: str

    def load(self) -> Callable:
        """The body, imported now (the bodies live in modules that may import the app)."""
        module, sep, attr = self.target.partition(":")
        if not sep:
            module, _, attr = self.target.rpartition(".")
        return getattr(importlib.import_module(module), attr)


def _cron(**fields) -> CronTrigger:
    return CronTrigger(timezone=UTC, **fields)


# Times are UTC. The 15-minute plan catches every learner's midnight, half-hour and
# quarter-hour time zones included; the hourly jobs start a minute or two after the hour so
# they do not all begin at once with the five-minute and one-minute jobs.
JOBS: dict[str, JobSpec] = {
    spec.name: spec
    for spec in (
        JobSpec(
            "plan-refreshers",
            "trainer.review.planning.plan_refreshers",
            _cron(minute="*/15"),
            "every 15 minutes",
            "Plan each learner's refresher for their new local day.",
        ),
        JobSpec(
            "send-reminders",
            "trainer.notify.jobs.send_reminders",
            _cron(minute="*/5"),
            "every 5 minutes",
            "Queue the reminders that are due.",
        ),
        JobSpec(
            "flag-overdue",
            "trainer.notify.jobs.flag_overdue",
            _cron(minute=1),
            "hourly (at :01)",
            "Flag onboarding lessons that have gone past their due date.",
        ),
        JobSpec(
            "manager-digest",
            "trainer.notify.jobs.manager_digest",
            _cron(minute=2),
            "hourly (at :02)",
            "Queue the weekly digest for each manager whose time has come.",
        ),
        JobSpec(
            "tidy-sign-ins",
            "trainer.auth.jobs.tidy_sign_ins",
            _cron(hour=3, minute=7),
            "daily (at 03:07)",
            "Forget old sign-in counts and sessions that ended long ago.",
        ),
        JobSpec(
            "deliver-mail",
            "trainer.messages.deliver_pending",
            _cron(minute="*"),
            "every minute",
            # The name is from when every message was email; job ids in the store keep it.
            "Send the queued messages that are due, each on its person's channel.",
        ),
    )
}


def get(name: str) -> JobSpec:
    try:
        return JOBS[name]
    except KeyError:
        raise UnknownJob(name) from None
