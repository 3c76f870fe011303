"""Delivering the outbox, each message on its person's channel.

Delivery is at-least-once with a de-duplication key. Before a message is handed to a channel
its row is claimed in its own commit (attempts + 1, next try pushed back), and after the channel
takes it `sent_at` is committed. So a crash, a dead server or a second worker never loses a
message and never sends one twice on purpose; the one window left (the channel took it, the
process died before the commit) resends it with the same Message-ID (email) or Topic (push),
which receivers and push services de-duplicate on.

A message is on one channel at a time, in its route's order, and moves to the next only when
the one it is on refuses it for good (a 5xx reply to an email, a push subscription gone, a text
message service answering 4xx): so it is never sent on two. It ends unsent in two ways only,
both kept as `failed_at` with the reason in `last_error`: the last channel of its route refused
it for good, or it expired (`expires_at`, e.g. a reminder at the end of the learner's day)
before it went out. A channel that is down, or answers "try later", only delays it.

`deliver_pending` is the `deliver-mail` job: every due message, oldest first; with a task queue
(BROKER_URL) it hands them out to workers instead, as tasks that each run `deliver_batch`: claim
up to DELIVERY_BATCH due messages in one statement (on PostgreSQL `FOR UPDATE SKIP LOCKED`, so
workers never wait for each other) and send them on the thread's own connections. A claim is a
lease: a message whose worker died is due again after DELIVERY_LEASE_SECONDS. A task carries no
message ids, so one enqueued twice or lost with a broker's memory changes nothing: the outbox
says what is due, and the next run hands out tasks for it. `deliver_one` claims and delivers
one message.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session, selectinload

from trainer.database import long_statements
from trainer.languages import gettext as _
from trainer.messages import channels
from trainer.messages.channels import KEEP, LABELS, OFF, SEND
from trainer.messages.tried import Failure, Tried
from trainer.models import CHANNELS, EMAIL, PUSH, Delivery, OutboxMessage, User, utcnow
from trainer.review.planning import zone_of

log = logging.getLogger(__name__)

# Wait after the 1st, 2nd, 3rd failed try on a channel, then hourly while it keeps failing.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
)
MAX_ERROR_LENGTH = 1000


def backoff(attempts: int) -> timedelta:
    """How long to wait before the next try, after `attempts` tries (1 or more)."""
    return BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1]


# -- what a run did ---------------------------------------------------------------------------


@dataclass
class Outcome:
    """What delivering one message did: `word` is sent, deferred (tried again later), failed
    (refused for good on its last channel), kept (it waits on a channel that keeps messages)
    or skipped (not due, or another worker has it)."""

    word: str
    channel: str | None = None  # the channel it was sent on
    moved: int = 0  # channels that refused it for good before the next was tried
    errors: list[str] = field(default_factory=list)


@dataclass
class DeliveryReport:
    """What one `deliver_pending` run did."""

    server: str | None  # the mail server's host:port, or None when no MAIL_SERVER is set
    sending: list[str] = field(default_factory=list)  # where each sending channel sends
    sent: int = 0
    deferred: int = 0  # not sent this time (server down, 4xx): tried again after the backoff
    failed: int = 0  # refused for good on the last channel of their route: never tried again
    expired: int = 0  # past their expiry before they went out: marked failed, not sent
    skipped: int = 0  # claimed by another worker between our read and our claim
    kept: int = 0  # unsent messages left in the outbox on a channel that keeps them
    moved: int = 0  # refused for good on one channel and passed to the next
    by_channel: Counter = field(default_factory=Counter)  # sent, per channel
    errors: list[str] = field(default_factory=list)

    @property
    def mail_kept(self) -> bool:
        """True when no mail server is set up and mail stays in the outbox to be read."""
        return self.server is None

    def add(self, outcome: Outcome) -> None:
        if outcome.word == "sent":
            self.sent += 1
            self.by_channel[outcome.channel] += 1
        elif outcome.word == "deferred":
            self.deferred += 1
        elif outcome.word == "failed":
            self.failed += 1
        elif outcome.word == "skipped":
            self.skipped += 1
        elif outcome.word == "kept":
            self.kept += 1
        self.moved += outcome.moved
        self.errors += outcome.errors

    def __str__(self) -> str:
        if not self.sending:
            return (
                f"No MAIL_SERVER set: nothing sent; {_count(self.kept, 'unsent message')} "
                "kept in the outbox (read them with `flask --app trainer outbox`)."
            )
        via = ", ".join(self.sending)
        kept = f" {_count(self.kept, 'message')} kept in the outbox." if self.kept else ""
        if not (self.sent or self.deferred or self.failed or self.expired or self.skipped):
            return f"Nothing due to send ({via}).{kept}"
        line = f"Sent {self.sent}"
        if set(self.by_channel) - {EMAIL}:
            line += " (" + ", ".join(
                f"{n} by {LABELS[channel]}" for channel, n in sorted(self.by_channel.items())
            ) + ")"  # fmt: skip
        if self.moved:
            line += f", {self.moved} passed on to the next channel"
        if self.deferred:
            line += f", {self.deferred} failed and will be retried"
        if self.failed:
            line += f", {self.failed} refused for good (not retried)"
        if self.expired:
            line += f", {self.expired} expired unsent"
        if self.skipped:
            line += f", {self.skipped} taken by another worker"
        lines = [f"{line} via {via}.{kept}"]
        lines += [f"  {error}" for error in self.errors]
        return "\n".join(lines)


@dataclass(frozen=True)
class MessageStatus:
    """A message's state in words: `word` is sent, failed, waiting or kept; `detail` says
    more (for a failed one, the last refusal or why it expired)."""

    word: str
    detail: str

    def __str__(self) -> str:
        return f"{self.word} ({self.detail})" if self.detail else self.word


def message_status(message: OutboxMessage, config: Mapping[str, Any]) -> MessageStatus:
    """Where a message stands, for the outbox listings (CLI and admin pages)."""
    if message.sent_at is not None:
        return MessageStatus("sent", _when(message.sent_at))
    if message.failed_at is not None:
        return MessageStatus("failed", f"{_when(message.failed_at)}: {message.last_error}")
    if channels.mode(message.channel, config) == KEEP:
        return MessageStatus("kept", _kept_reason(message.channel))
    if message.attempts == 0:
        return MessageStatus("waiting", _("not tried yet"))
    parts = [_("attempt %(number)d", number=message.attempts)]
    if message.next_attempt_at is not None:
        parts.append(_("next try %(when)s", when=_when(message.next_attempt_at)))
    if message.expires_at is not None:
        parts.append(_("expires %(when)s", when=_when(message.expires_at)))
    if message.last_error:
        parts.append(_("last error: %(error)s", error=message.last_error))
    return MessageStatus("waiting", ", ".join(parts))


def delivery_status(message: OutboxMessage, delivery: Delivery) -> MessageStatus:
    """What one channel of a message's route did with it."""
    if delivery.sent_at is not None:
        return MessageStatus("sent", _when(delivery.sent_at))
    if delivery.failed_at is not None:
        return MessageStatus("refused", f"{_when(delivery.failed_at)}: {delivery.last_error}")
    if message.sent_at is not None or message.failed_at is not None:
        return MessageStatus("not used", "")
    if delivery.channel != message.channel:
        return MessageStatus("next", _("if the one before refuses it"))
    if delivery.attempts:
        tries = _(
            "attempt %(number)d, last error: %(error)s",
            number=delivery.attempts,
            error=delivery.last_error,
        )
        return MessageStatus("waiting", tries)
    return MessageStatus("waiting", _("not tried yet"))


def _kept_reason(channel: str) -> str:
    if channel == EMAIL:
        return _("no mail server set up")
    if channel == PUSH:
        return _("push notifications are kept here")
    return _("text messages are kept here (SMS_URL=outbox)")


# -- delivering -------------------------------------------------------------------------------


class Senders:
    """One sender per channel for a run, made when first needed, closed at the end."""

    def __init__(self, config: Mapping[str, Any]):
        self.config = config
        self._open: dict[str, Any] = {}

    def get(self, channel: str):
        if channel not in self._open:
            self._open[channel] = channels.sender(channel, self.config)
        return self._open[channel]

    def close(self) -> None:
        for sender in self._open.values():
            sender.close()
        self._open.clear()

    def gave_up(self) -> bool:
        """True when a sender found its server unreachable (it stops trying for its run)."""
        return any(getattr(sender, "unreachable", None) for sender in self._open.values())


def _modes(config: Mapping[str, Any]) -> dict[str, str]:
    return {channel: channels.mode(channel, config) for channel in CHANNELS}


def _acting(modes: Mapping[str, str]) -> list[str]:
    """Channels whose messages delivery handles: sending ones, and ones no longer set up (their
    messages move on). Messages on a keeping channel wait there untouched."""
    return [channel for channel in CHANNELS if modes[channel] != KEEP]


def deliver_pending(
    session: Session, now: datetime | None = None, limit: int = 200
) -> DeliveryReport:
    """Deliver up to `limit` unsent messages that are due (`next_attempt_at <= now`), oldest
    due first, each on its channel (one SMTP connection for all the email); first, mark failed
    (up to `limit`) those whose `expires_at` has passed, which are never sent.

    Each message is committed as it goes (see `deliver_one`). One refused recipient does not
    stop the rest; a mail server that cannot be reached defers the run's email. Messages on a
    channel that keeps them (email without MAIL_SERVER, SMS_URL=outbox) are left as they are,
    and counted as kept. It commits the session many times, so call it with nothing of the
    caller's pending.

    With a task queue (BROKER_URL) it sends nothing itself: see `hand_out`.
    """
    from trainer.jobs import queue

    config = current_app.config
    now = _naive_utc(now or utcnow())
    if queue.enabled(config):
        return hand_out(session, now, limit=max(limit, 10_000))
    modes = _modes(config)
    acting = _acting(modes)
    report = DeliveryReport(
        server=channels.where(EMAIL, config),
        sending=[_sending(channel, config) for channel in CHANNELS if modes[channel] == SEND],
    )
    keeping = [channel for channel in CHANNELS if modes[channel] == KEEP]
    if keeping:
        report.kept = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(_is_open(), OutboxMessage.channel.in_(keeping))
        ) or 0  # fmt: skip
    for message in _expire(session, now, limit, acting):
        report.expired += 1
        report.errors.append(f"#{message.id} to {message.to}: {message.last_error}")
        log.warning("Outbox message %s to %s %s", message.id, message.to, message.last_error)
    due_ids = session.scalars(
        select(OutboxMessage.id)
        .where(_is_due(now), OutboxMessage.channel.in_(acting))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    ).all()
    session.commit()  # end the read transaction: every claim below is its own commit

    senders = Senders(config)
    try:
        for outbox_id in due_ids:
            report.add(deliver_one(session, outbox_id, now, senders=senders, modes=modes))
    finally:
        senders.close()
    log.info(
        "Delivery: %s sent, %s deferred, %s failed, %s expired, %s skipped, %s passed on",
        report.sent,
        report.deferred,
        report.failed,
        report.expired,
        report.skipped,
        report.moved,
    )
    return report


def deliver_one(
    session: Session,
    outbox_id: int,
    now: datetime | None = None,
    *,
    senders: Senders | None = None,
    modes: Mapping[str, str] | None = None,
) -> Outcome:
    """Claim one due message and deliver it on its channel; while a channel refuses it for
    good, on the next channel of its route, at once. Commits the claim, then the outcome.
    Skipped when it is not due or another worker claimed it first: of two workers delivering
    the same message at once, exactly one sends it."""
    config = current_app.config
    now = _naive_utc(now or utcnow())
    modes = modes or _modes(config)
    own = senders is None
    senders = senders or Senders(config)
    try:
        message = _claim(session, outbox_id, now, _acting(modes))
        if message is None:
            return Outcome("skipped")
        user = session.get(User, message.user_id) if message.user_id is not None else None
        return _deliver(session, message, user, now, senders, modes, _committer(session))
    finally:
        if own:
            senders.close()


def _deliver(
    session: Session,
    message: OutboxMessage,
    user: User | None,
    now: datetime,
    senders: Senders,
    modes: Mapping[str, str],
    save: Save,
) -> Outcome:
    """Deliver a claimed message; `save(message, fields, delivery)` commits each outcome: the
    message's `fields` that changed, and its route entry for the channel tried."""
    outcome = Outcome("deferred")
    while True:
        delivery = _current(message)
        channel = delivery.channel
        if modes[channel] == KEEP:  # passed on to a channel that keeps messages: it waits there
            message.next_attempt_at = now
            save(message, ("next_attempt_at",))
            outcome.word = "kept"
            return outcome
        if modes[channel] == OFF:
            tried = Tried(message.to, Failure(f"{LABELS[channel]}s are not set up now", True))
        else:
            delivery.attempts += 1
            tried = senders.get(channel).send(session, message, user, now)
        delivery.to = tried.to[:254]
        failure = tried.failure
        label = f"#{message.id} to {tried.to} by {LABELS[channel]}"
        if failure is None:
            delivery.sent_at = message.sent_at = now
            message.last_error = None
            message.failed_at = None  # it went out, whatever a worker expiring it wrote
            fields = ("sent_at", "last_error", "failed_at")
            if _forget_secrets(message):
                fields += ("text", "html")
            save(message, fields, delivery)  # the row says it went; the run's summary counts it
            outcome.word, outcome.channel = "sent", channel
            return outcome
        error = failure.error[:MAX_ERROR_LENGTH]
        delivery.last_error = message.last_error = error
        if not failure.permanent:
            message.next_attempt_at = now + backoff(delivery.attempts)
            save(message, ("last_error", "next_attempt_at"), delivery)
            outcome.word = "deferred"
            outcome.errors.append(f"{label}: not sent: {error}")
            log.warning("Outbox message %s not sent: %s", label, error)
            return outcome
        delivery.failed_at = now
        following = _following(message, delivery)
        if following is None:
            message.failed_at = now
            message.next_attempt_at = None
            save(message, ("last_error", "failed_at", "next_attempt_at"), delivery)
            outcome.word = "failed"
            outcome.errors.append(f"{label}: refused for good: {error}")
            log.warning("Outbox message %s refused for good: %s", label, error)
            return outcome
        message.channel = following.channel
        if user is not None:
            message.to = (channels.address_of(following.channel, user) or "")[:254]
        save(message, ("last_error", "channel", "to"), delivery)
        outcome.moved += 1
        outcome.errors.append(
            f"{label}: refused for good, passed on to {LABELS[following.channel]}: {error}"
        )
        log.info("Outbox message %s refused for good, passed on: %s", label, error)


# How an outcome is committed: (message, its changed fields, the route entry tried or None).
Save = Callable[..., None]


def _committer(session: Session) -> Save:
    """For a message loaded in `session`: commit the session (the ORM writes what changed)."""

    def save(message: OutboxMessage, fields: tuple[str, ...], delivery=None) -> None:
        session.commit()

    return save


# What a route entry's outcome writes: all of it (only the worker holding the claim writes it).
_ROUTE_FIELDS = ("attempts", "to", "last_error", "sent_at", "failed_at")


class _Outcomes:
    """Commits a batch's outcomes on the batch's own session and connection, without the ORM:
    the message's changed fields and its route entry in one statement on PostgreSQL (two
    elsewhere), in one transaction with whatever the sender wrote (push subscriptions gone).
    The batch's messages are detached: nothing else writes them."""

    def __init__(self, session: Session):
        self.session = session
        self.dialect = session.get_bind().dialect.name

    def __call__(self, message: OutboxMessage, fields: tuple[str, ...], delivery=None) -> None:
        route = None if delivery is None else "insert" if delivery.id is None else "update"
        params = {f"m_{name}": getattr(message, name) for name in fields}
        params["m_id"] = message.id
        if delivery is not None:
            params |= {f"r_{name}": getattr(delivery, name) for name in _ROUTE_FIELDS}
            params |= {"r_id": delivery.id, "r_position": delivery.position,
                       "r_channel": delivery.channel}  # fmt: skip
        connection = self.session.connection()  # in the session's transaction
        for statement in _outcome_statements(self.dialect, fields, route):
            connection.execute(statement, params)
        self.session.commit()


@functools.cache
def _outcome_statements(dialect: str, fields: tuple[str, ...], route: str | None) -> tuple:
    """The statements that write an outcome, made once for each shape of outcome."""
    outbox, routes = OutboxMessage.__table__, Delivery.__table__
    message = (
        update(outbox)
        .where(outbox.c.id == bindparam("m_id"))
        .values({name: bindparam(f"m_{name}") for name in fields})
    )
    values = {name: bindparam(f"r_{name}") for name in _ROUTE_FIELDS}
    if route == "update":
        entry = update(routes).where(routes.c.id == bindparam("r_id")).values(values)
    elif route == "insert":  # an entry the route lacked (see `_current`)
        entry = insert(routes).values(
            message_id=bindparam("m_id"), position=bindparam("r_position"),
            channel=bindparam("r_channel"), **values,
        )  # fmt: skip
    else:
        return (message,)
    if dialect == "postgresql":
        return (message.add_cte(entry.cte("entry")),)
    return (entry, message)


# -- with a task queue ------------------------------------------------------------------------


@dataclass
class HandOut:
    """What one `deliver-mail` run did with a task queue: tasks handed to the workers."""

    due: int  # messages due now
    waiting: int  # delivery tasks already in the queue
    queued: int  # delivery tasks added
    expired: int = 0
    kept: int = 0

    def __str__(self) -> str:
        line = (
            f"{_count(self.due, 'message')} due: {_count(self.queued, 'delivery task')} "
            f"queued for the workers ({self.waiting} already waiting)"
        )
        if self.expired:
            line += f", {self.expired} expired unsent"
        if self.kept:
            line += f"; {_count(self.kept, 'message')} kept in the outbox"
        return line + "."


def hand_out(session: Session, now: datetime, limit: int = 10_000) -> HandOut:
    """Mark failed what expired (up to `limit`), and queue enough `deliver-messages` tasks for
    every due message: one per DELIVERY_BATCH of them, less the tasks already waiting. A
    message is never named in a task, so tasks lost, doubled or left over do no harm."""
    from trainer.jobs import queue

    config = current_app.config
    modes = _modes(config)
    acting = _acting(modes)
    expired = len(_expire(session, now, limit, acting))
    keeping = [channel for channel in CHANNELS if modes[channel] == KEEP]
    kept = 0
    if keeping:
        kept = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(_is_open(), OutboxMessage.channel.in_(keeping))
        ) or 0  # fmt: skip
    due = session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(_is_due(now), OutboxMessage.channel.in_(acting))
    ) or 0  # fmt: skip
    session.commit()
    waiting = queue.waiting(queue.MESSAGES, config)
    wanted = math.ceil(due / max(1, config["DELIVERY_BATCH"]))
    queued = queue.enqueue("deliver-messages", max(0, wanted - waiting), config)
    return HandOut(due=due, waiting=waiting, queued=queued, expired=expired, kept=kept)


def deliver_batch(session: Session, now: datetime | None = None) -> DeliveryReport:
    """A worker's delivery task: claim up to DELIVERY_BATCH due messages no other worker holds,
    each for DELIVERY_LEASE_SECONDS, and deliver them one after the other on this thread's
    senders (its SMTP session stays open for the thread's next task). Past half the lease it
    stops and lets the rest go, so no message is sent after its claim could have lapsed."""
    config = current_app.config
    modes = _modes(config)
    lease = timedelta(seconds=config["DELIVERY_LEASE_SECONDS"])
    claimed_at = _naive_utc(now or utcnow())
    ids = claim_batch(session, claimed_at, config["DELIVERY_BATCH"], _acting(modes), lease)
    report = DeliveryReport(
        server=channels.where(EMAIL, config),
        sending=[_sending(channel, config) for channel in CHANNELS if modes[channel] == SEND],
    )
    if not ids:
        return report
    senders = thread_senders(config)
    started = time.monotonic()
    # The batch holds one connection: its messages are read with their routes (and people),
    # then detached and kept in memory, each outcome written by one statement (`_Outcomes`).
    # Only this worker writes these rows while it holds their claim.
    with (
        long_statements(None),  # each transaction is a few rows: no SET of a longer limit
        session.get_bind().connect() as connection,
        Session(connection, expire_on_commit=False) as batch,
    ):
        messages = batch.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .options(selectinload(OutboxMessage.deliveries))
            .order_by(OutboxMessage.id)
        ).all()
        people = sorted({m.user_id for m in messages if m.user_id is not None})
        users = {}
        if people:  # mail to an address alone has nobody to look up
            users = {u.id: u for u in batch.scalars(select(User).where(User.id.in_(people)))}
        batch.expunge_all()
        batch.commit()
        save = _Outcomes(batch)
        for index, message in enumerate(messages):
            if time.monotonic() - started > lease.total_seconds() / 2:
                _let_go(batch, [m.id for m in messages[index:]], config, started)
                break
            when = _naive_utc(now or utcnow())
            report.add(
                _deliver(batch, message, users.get(message.user_id), when, senders, modes, save)
            )
    return report


def _let_go(session: Session, ids: list[int], config: Mapping[str, Any], started: float) -> None:
    from trainer.jobs import queue

    release(session, ids)
    log.warning(
        "Delivery task let %s claimed messages go after %.1f s (half its lease)",
        len(ids),
        time.monotonic() - started,
    )
    queue.enqueue("deliver-messages", 1, config)  # someone else sends them now


def claim_batch(
    session: Session, now: datetime, limit: int, acting: list[str], lease: timedelta
) -> list[int]:
    """Take up to `limit` due messages, oldest due first, in one committed statement: each
    gets one more attempt and is not due again before `now + lease`. Rows another worker is
    claiming at the same moment are skipped, never waited for (PostgreSQL); SQLite writes one
    at a time anyway. Returns their ids."""
    due = (
        select(OutboxMessage.id)
        .where(_is_due(now), OutboxMessage.channel.in_(acting))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = session.scalars(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(due.scalar_subquery()))
        .values(attempts=OutboxMessage.attempts + 1, next_attempt_at=now + lease)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    ).all()
    session.commit()
    return sorted(ids)


def release(session: Session, ids: list[int]) -> None:
    """Let claimed, unsent messages go: due at once, for another worker."""
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), _is_open())
        .values(next_attempt_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.commit()


_thread = threading.local()
_all_senders: list[Senders] = []
_all_senders_lock = threading.Lock()
IDLE_SECONDS = 30  # a sender unused this long is closed and opened afresh


def thread_senders(config: Mapping[str, Any]) -> Senders:
    """This thread's senders, kept from task to task (one SMTP session per worker thread).
    Made afresh when idle a while or when a server could not be reached: a task must not
    inherit the last one's verdict, nor a session the server has dropped."""
    senders: Senders | None = getattr(_thread, "senders", None)
    idle = time.monotonic() - getattr(_thread, "used", 0.0)
    stale = senders is not None and senders.config is not config  # another app's settings
    if senders is not None and (stale or idle > IDLE_SECONDS or senders.gave_up()):
        senders.close()
        with _all_senders_lock:
            _all_senders.remove(senders)
        senders = None
    if senders is None:
        senders = _thread.senders = Senders(config)
        with _all_senders_lock:
            _all_senders.append(senders)
    _thread.used = time.monotonic()
    return senders


def close_thread_senders() -> None:
    """Close every thread's senders (a worker that stops, after its threads have)."""
    with _all_senders_lock:
        for senders in _all_senders:
            senders.close()
        _all_senders.clear()


def _current(message: OutboxMessage) -> Delivery:
    """The route's entry for the channel the message is on."""
    for delivery in message.deliveries:
        if delivery.channel == message.channel and delivery.failed_at is None:
            return delivery
    delivery = Delivery(position=len(message.deliveries), channel=message.channel, attempts=0)
    message.deliveries.append(delivery)
    return delivery


def _following(message: OutboxMessage, delivery: Delivery) -> Delivery | None:
    for candidate in message.deliveries:
        if candidate.position > delivery.position:
            return candidate
    return None


def _sending(channel: str, config: Mapping[str, Any]) -> str:
    where = channels.where(channel, config)
    if channel == EMAIL:
        return where or "email"
    if channel == channels.SMS:
        return f"text messages through {where}"
    return where or LABELS[channel]


# A password link is a key to an account: once it is sent, the outbox keeps no copy.
_SECRET_LINK = re.compile(r"/(welcome|password/reset)/[A-Za-z0-9_\-]+")
_SECRET_KINDS = {"invitation", "password-reset"}


def _forget_secrets(message: OutboxMessage) -> bool:
    """Take the link out of a sent message that carried one; True if it changed anything."""
    if message.kind not in _SECRET_KINDS:
        return False
    message.text = _SECRET_LINK.sub(r"/\1/(link removed once sent)", message.text)
    if message.html:
        message.html = _SECRET_LINK.sub(r"/\1/(link removed once sent)", message.html)
    return True


def _is_open():
    """Neither sent nor failed: the message may still go out."""
    return OutboxMessage.sent_at.is_(None) & OutboxMessage.failed_at.is_(None)


def _is_due(now: datetime):
    return (
        _is_open()
        & or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now)
        & or_(OutboxMessage.expires_at.is_(None), OutboxMessage.expires_at > now)
    )


# Why a kind of message stops being worth sending (its expiry is set where it is queued).
_EXPIRY_REASONS = {
    "reminder": "the end of the learner's day",
    "digest": "it was two days old",
    "invitation": "its password link stopped working",
    "password-reset": "its password link stopped working",
}


def _expire(session: Session, now: datetime, limit: int, acting: list[str]) -> list[OutboxMessage]:
    """Mark failed, with the reason, the open messages whose `expires_at` has passed, each in
    its own commit; the ones this run marked (not those another worker marked or sent first)."""
    stale = session.scalars(
        select(OutboxMessage)
        .where(_is_open(), OutboxMessage.expires_at <= now, OutboxMessage.channel.in_(acting))
        .order_by(OutboxMessage.expires_at, OutboxMessage.id)
        .limit(limit)
    ).all()
    zones = dict(
        session.execute(
            select(User.id, User.timezone).where(
                User.id.in_(sorted({m.user_id for m in stale if m.user_id is not None}))
            )
        ).all()
    )
    expired = []
    for message in stale:
        reason = _expiry_reason(message, zones.get(message.user_id))
        marked = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id, _is_open())
            .values(failed_at=now, next_attempt_at=None, last_error=reason[:MAX_ERROR_LENGTH])
            .execution_options(synchronize_session=False)
        )
        session.commit()
        if marked.rowcount == 1:
            expired.append(message)
    return expired


def _expiry_reason(message: OutboxMessage, timezone: str | None) -> str:
    """E.g. "expired: not delivered before the end of the learner's day (2025-03-04 00:00
    Asia/Tokyo); last error: ...", on the recipient's own clock when they have one."""
    why = _EXPIRY_REASONS.get(message.kind, "its expiry time")
    if timezone:
        local = message.expires_at.replace(tzinfo=UTC).astimezone(zone_of(timezone))
        when = f"{local:%Y-%m-%d %H:%M} {timezone}"
    else:
        when = f"{message.expires_at:%Y-%m-%d %H:%M} UTC"  # stored: in the log's English
    reason = f"expired: not delivered before {why} ({when})"
    if message.last_error:
        reason += f"; last error: {message.last_error}"
    return reason


def _claim(
    session: Session, outbox_id: int, now: datetime, acting: list[str]
) -> OutboxMessage | None:
    """Take one message for this run, or None if it was sent or taken meanwhile.

    The conditional update is the lock: of two workers, only one matches the old attempt
    count. Pushing `next_attempt_at` on first also means that a crash mid-send leaves the
    message due again after the backoff, rather than stuck or resent at once."""
    attempts = session.scalar(select(OutboxMessage.attempts).where(OutboxMessage.id == outbox_id))
    if attempts is None:
        return None
    claimed = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == outbox_id,
            OutboxMessage.attempts == attempts,
            OutboxMessage.channel.in_(acting),
            _is_due(now),
        )
        .values(attempts=attempts + 1, next_attempt_at=now + backoff(attempts + 1))
        .execution_options(synchronize_session=False)
    )
    session.commit()
    if claimed.rowcount != 1:
        return None
    return session.get(OutboxMessage, outbox_id)


def _naive_utc(moment: datetime) -> datetime:
    """The database keeps naive UTC; accept an aware time too."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _when(moment: datetime) -> str:
    return _("%(time)s UTC", time=f"{moment:%Y-%m-%d %H:%M}")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
