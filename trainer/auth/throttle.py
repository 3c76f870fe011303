"""Counting password guesses so that a stranger can slow an account down but never lock its
owner out.

Three counts, each a row of `sign_in_counters` changed by one atomic upsert (so forty guesses
sent at the same moment each see a different count):

- per address: every failed attempt from one client address, whatever the account;
- per account and address: every failed attempt at one account from one address. These two
  refuse further attempts from that address for the rest of a window;
- per account, across all addresses: the passwords actually checked in a day. Past a few, each
  check must wait a growing delay, and past a daily cap none is checked. This count is skipped
  for the owner's browsers and addresses (where the account signed in before), so someone
  guessing from elsewhere only slows down strangers.

A refusal never says whether the account exists: unknown names are counted just the same.

Passwords use the limits of the LOGIN_* settings (`passwords()`). Another way of signing in
passes its own `Policy`: PINs on a team's tablet count per person and device, per device and
per person a day, under keys of their own (trainer/auth/device.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, case, delete, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from trainer.languages import gettext as _
from trainer.languages import ngettext
from trainer.models import SignInCounter, utcnow

DAY = timedelta(days=1)


@dataclass(frozen=True)
class Refusal:
    """Why an attempt was not checked, and for how long."""

    message: str
    retry_after: int  # seconds


@dataclass(frozen=True)
class Policy:
    """The limits of one way of signing in, and what a refusal says (%(wait)s: "2 minutes").

    `address` counts failures from one place (a client address, or a tablet), `pair` failures
    at one account from that place, both in a window of `window_seconds`; `checks_per_day`
    caps the secrets checked for one account in a day, each past `checks_before_delay`
    waiting longer."""

    window_seconds: int
    per_address: int
    per_pair: int
    checks_before_delay: int
    checks_per_day: int
    too_many_here: str
    too_many_pair: str
    slowed: str
    capped: str


def passwords() -> Policy:
    """The limits for passwords, from the LOGIN_* settings."""
    config = current_app.config
    return Policy(
        window_seconds=config["LOGIN_FAILURE_WINDOW_SECONDS"],
        per_address=config["LOGIN_MAX_FAILURES_PER_ADDRESS"],
        per_pair=config["LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS"],
        checks_before_delay=config["LOGIN_CHECKS_BEFORE_DELAY"],
        checks_per_day=config["LOGIN_MAX_CHECKS_PER_ACCOUNT_PER_DAY"],
        too_many_here=_(
            "Too many failed sign-ins from this network in a short time. "
            "Wait %(wait)s and try again."
        ),
        too_many_pair=_("Too many failed sign-ins in a short time. Wait %(wait)s and try again."),
        slowed=_(
            "This account has had many wrong passwords today, so each try must wait a "
            "little. Try again in %(wait)s."
        ),
        capped=_(
            "This account has had too many wrong passwords today. Try again later, or sign "
            "in on a phone or computer where you have signed in before."
        ),
    )


@dataclass(frozen=True)
class Attempt:
    """The counter keys one sign-in attempt reserved; `release` them when it succeeds."""

    address: str
    pair: str
    account: str | None  # None when the account count was skipped for a known owner
    policy: Policy | None = None  # None: passwords()


def _upsert(session: Session):
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(SignInCounter)


def _bump(session: Session, key: str, now: datetime, window: timedelta, *, only_if=None):
    """Add one to `key` in one atomic upsert (a new window if its last one is over), returning
    (count, window start); with `only_if`, only while that holds (or the window is over), and
    None when it did not."""
    table = SignInCounter.__table__
    expired = table.c.window_start <= now - window
    changes = {
        "count": case((expired, 1), else_=table.c.count + 1),
        "window_start": case((expired, now), else_=table.c.window_start),
    }
    if only_if is not None:
        changes["next_check_at"] = case((expired, None), else_=table.c.next_check_at)
    statement = (
        _upsert(session)
        .values(key=key, count=1, window_start=now)
        .on_conflict_do_update(
            index_elements=[table.c.key],
            set_=changes,
            where=None if only_if is None else or_(expired, only_if),
        )
        .returning(table.c.count, table.c.window_start)
    )
    return session.execute(statement).first()


def _count(session: Session, key: str, now: datetime, window: timedelta) -> tuple[int, datetime]:
    """Add one to `key`; the new count and window start."""
    count, start = _bump(session, key, now, window)
    return count, start


def _check_account(session: Session, key: str, now: datetime, policy: Policy) -> bool:
    """Take one of the account's daily checks if one is free and no delay is running."""
    table = SignInCounter.__table__
    free = and_(
        table.c.count < policy.checks_per_day,
        or_(table.c.next_check_at.is_(None), table.c.next_check_at <= now),
    )
    return _bump(session, key, now, DAY, only_if=free) is not None


def account_delay(checks: int, policy: Policy | None = None) -> timedelta:
    """The wait before the next check after `checks` wrong passwords in a day: none for the
    first few, then doubling from 2 seconds up to 5 minutes."""
    free = (policy or passwords()).checks_before_delay
    if checks <= free:
        return timedelta(0)
    return timedelta(seconds=min(300, 2 ** min(checks - free, 20)))


def _wait(seconds: float) -> str:
    if seconds < 60:
        return ngettext("%(num)d second", "%(num)d seconds", max(1, math.ceil(seconds)))
    return ngettext("%(num)d minute", "%(num)d minutes", math.ceil(seconds / 60))


def reserve(
    session: Session,
    account: str,
    address: str,
    *,
    known_owner: bool,
    policy: Policy | None = None,
) -> Attempt | Refusal:
    """Count one attempt to check the secret of `account` (`services.throttle_key`) from
    `address`, before checking it, under the limits of `policy` (passwords' by default).

    Returns the reserved `Attempt`, or a `Refusal` when a limit is reached (the secret must
    then not be checked). Commits, so the counts hold even if the check crashes.
    """
    now = utcnow()
    policy = policy or passwords()
    attempt = Attempt(
        f"address:{address}", f"pair:{account} {address}", f"account:{account}", policy
    )
    refusal = _reserve(session, attempt, now, known_owner, policy)
    session.commit()
    if refusal is not None:
        return refusal
    return attempt if not known_owner else Attempt(attempt.address, attempt.pair, None, policy)


def _reserve(session: Session, attempt: Attempt, now: datetime, known_owner: bool, policy: Policy):
    window = timedelta(seconds=policy.window_seconds)
    limits = (
        (attempt.address, policy.per_address, policy.too_many_here),
        (attempt.pair, policy.per_pair, policy.too_many_pair),
    )
    for key, limit, message in limits:
        count, start = _count(session, key, now, window)
        if count > limit:
            wait = (start + window - now).total_seconds()
            return Refusal(message % {"wait": _wait(wait)}, max(1, math.ceil(wait)))
    if not known_owner and not _check_account(session, attempt.account, now, policy):
        return _account_refusal(session, attempt.account, now, policy)
    return None


def _account_refusal(session: Session, key: str, now: datetime, policy: Policy) -> Refusal:
    counter = session.get(SignInCounter, key)
    if counter is not None and counter.next_check_at and counter.next_check_at > now:
        wait = (counter.next_check_at - now).total_seconds()
        return Refusal(policy.slowed % {"wait": _wait(wait)}, max(1, math.ceil(wait)))
    wait = (counter.window_start + DAY - now).total_seconds() if counter else DAY.total_seconds()
    return Refusal(policy.capped % {"wait": _wait(wait)}, max(1, math.ceil(wait)))


def failed(session: Session, attempt: Attempt) -> None:
    """The password was wrong: start the account's delay before its next check. Committed."""
    if attempt.account is None:
        return
    now = utcnow()
    counter = session.get(SignInCounter, attempt.account, populate_existing=True)
    delay = account_delay(counter.count if counter else 0, attempt.policy)
    if delay:
        session.execute(
            update(SignInCounter)
            .where(SignInCounter.key == attempt.account)
            .values(next_check_at=now + delay)
        )
    session.commit()


def succeeded(session: Session, attempt: Attempt) -> None:
    """The password was right: this attempt was not a failure. Not committed (the caller
    commits it with the new session)."""
    session.execute(delete(SignInCounter).where(SignInCounter.key == attempt.pair))
    keys = [attempt.address] + ([attempt.account] if attempt.account else [])
    session.execute(
        update(SignInCounter)
        .where(SignInCounter.key.in_(keys), SignInCounter.count > 0)
        .values(count=SignInCounter.count - 1)
    )


def forget_old(session: Session, now: datetime) -> int:
    """Delete counters whose window ended more than a day ago. Not committed."""
    window = timedelta(seconds=current_app.config["LOGIN_FAILURE_WINDOW_SECONDS"])
    result = session.execute(
        delete(SignInCounter).where(SignInCounter.window_start < now - max(window, DAY) - DAY)
    )
    return result.rowcount or 0


# -- other guessable things (join codes, sign-in links) ---------------------------------------


def refused(session: Session, key: str, limit: int, window: timedelta) -> Refusal | None:
    """A refusal when `key` has had `limit` failures in its window (counted by `failure`)."""
    now = utcnow()
    counter = session.get(SignInCounter, key)
    if counter is None or counter.window_start <= now - window or counter.count < limit:
        return None
    wait = (counter.window_start + window - now).total_seconds()
    return Refusal(
        _("Too many tries that did not work. Wait %(wait)s and try again.", wait=_wait(wait)),
        max(1, math.ceil(wait)),
    )


def failure(session: Session, key: str, window: timedelta) -> None:
    """Count one failure under `key` (atomic). Committed."""
    _count(session, key, utcnow(), window)
    session.commit()
