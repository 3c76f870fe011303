"""How far delivery is behind: what waits in the outbox and how fast it has been going out,
for the admin's outbox page and `flask --app trainer jobs list`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trainer.messages.channels import KEEP, mode
from trainer.models import CHANNELS, OutboxMessage, utcnow

RATE_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class Backlog:
    waiting: int  # unsent messages that will still go out (not kept, not failed)
    due: int  # of which due now (the rest wait for a retry, or are claimed by a worker)
    oldest: datetime | None  # queued time of the oldest waiting message (naive UTC)
    sent_last_hour: int

    @property
    def per_minute(self) -> float:
        return self.sent_last_hour / (RATE_WINDOW.total_seconds() / 60)

    def age(self, now: datetime) -> timedelta | None:
        return None if self.oldest is None else now - self.oldest

    def describe(self, now: datetime) -> str:
        """One line, e.g. "12 messages waiting (10 due now), the oldest queued 3 min ago;
        1,800 sent in the last hour (30.0 a minute)"."""
        plural = "" if self.waiting == 1 else "s"
        line = f"{self.waiting:,} message{plural} waiting ({self.due:,} due now)"
        if self.oldest is not None:
            line += f", the oldest queued {_ago(now - self.oldest)} ago"
        rate = f"{self.sent_last_hour:,} sent in the last hour ({self.per_minute:.1f} a minute)"
        return f"{line}; {rate}"


def backlog(session: Session, config: Mapping[str, Any], now: datetime | None = None) -> Backlog:
    now = now or utcnow()
    sending = [channel for channel in CHANNELS if mode(channel, config) != KEEP]
    is_open = OutboxMessage.sent_at.is_(None) & OutboxMessage.failed_at.is_(None)
    waiting, oldest = session.execute(
        select(func.count(), func.min(OutboxMessage.created_at)).where(
            is_open, OutboxMessage.channel.in_(sending)
        )
    ).one()
    due = session.scalar(
        select(func.count()).where(
            is_open,
            OutboxMessage.channel.in_(sending),
            OutboxMessage.next_attempt_at <= now,
        )
    )
    sent = session.scalar(select(func.count()).where(OutboxMessage.sent_at >= now - RATE_WINDOW))
    return Backlog(waiting=waiting or 0, due=due or 0, oldest=oldest, sent_last_hour=sent or 0)


def _ago(span: timedelta) -> str:
    seconds = max(0, int(span.total_seconds()))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"
