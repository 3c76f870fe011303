"""Sending the outbox over SMTP.

Delivery is at-least-once with a de-duplication key. Before a message is handed to the server
its row is claimed in its own commit (attempts + 1, next try pushed back), and after the server
accepts it `sent_at` is committed. So a crash, a dead server or a second worker never loses a
message and never sends one twice on purpose; the one window left (the server accepted, the
process died before the commit) resends the same Message-ID, which receivers de-duplicate on.

A message ends unsent in two ways only, both kept as `failed_at` with the reason in
`last_error`: the server refused it for good (a 5xx reply to its recipient or its content), or
it expired (`expires_at`, e.g. a reminder at the end of the learner's day) before it went out.
A server that is down or answers 4xx only delays it.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from trainer.models import OutboxMessage, User, utcnow
from trainer.review.planning import zone_of

log = logging.getLogger(__name__)

# Wait after the 1st, 2nd, 3rd failed try, then hourly for as long as it keeps failing.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
)
MAX_ERROR_LENGTH = 1000
# A link to stop this kind of mail: an "unsubscribe" address, or the reminders' own page.
UNSUBSCRIBE_RE = re.compile(
    r"https?://[^\s<>\"']*(?:unsubscribe|/reminders/)[^\s<>\"']*", re.IGNORECASE
)


def backoff(attempts: int) -> timedelta:
    """How long to wait before the next try, after `attempts` tries (1 or more)."""
    return BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1]


@dataclass
class DeliveryReport:
    """What one `deliver_pending` run did."""

    server: str | None  # host:port, or None when no MAIL_SERVER is set
    sent: int = 0
    deferred: int = 0  # not sent this time (server down, 4xx): tried again after the backoff
    failed: int = 0  # refused for good (5xx): marked failed, never tried again
    expired: int = 0  # past their expiry before they went out: marked failed, not sent
    skipped: int = 0  # claimed by another worker between our read and our claim
    kept: int = 0  # unsent messages left in the outbox because no server is set
    errors: list[str] = field(default_factory=list)

    @property
    def mail_kept(self) -> bool:
        """True when no mail server is set up and messages stay in the outbox to be read."""
        return self.server is None

    def __str__(self) -> str:
        if self.server is None:
            return (
                f"No MAIL_SERVER set: nothing sent; {_count(self.kept, 'unsent message')} "
                "kept in the outbox (read them with `flask --app trainer outbox`)."
            )
        if not (self.sent or self.deferred or self.failed or self.expired or self.skipped):
            return f"Nothing due to send ({self.server})."
        line = f"Sent {self.sent}"
        if self.deferred:
            line += f", {self.deferred} failed and will be retried"
        if self.failed:
            line += f", {self.failed} refused for good (not retried)"
        if self.expired:
            line += f", {self.expired} expired unsent"
        if self.skipped:
            line += f", {self.skipped} taken by another worker"
        lines = [f"{line} via {self.server}."]
        lines += [f"  {error}" for error in self.errors]
        return "\n".join(lines)


@dataclass(frozen=True)
class MessageStatus:
    """A message's state in words: `word` is sent, failed, waiting or kept; `detail` says
    more (for a failed one, the server's reply or why it expired)."""

    word: str
    detail: str

    def __str__(self) -> str:
        return f"{self.word} ({self.detail})" if self.detail else self.word


def message_status(message: OutboxMessage, mail_server: str | None) -> MessageStatus:
    """Where a message stands, for the outbox listings (CLI and admin pages)."""
    if message.sent_at is not None:
        return MessageStatus("sent", _when(message.sent_at))
    if message.failed_at is not None:
        return MessageStatus("failed", f"{_when(message.failed_at)}: {message.last_error}")
    if not mail_server:
        return MessageStatus("kept", "no mail server set up")
    if message.attempts == 0:
        return MessageStatus("waiting", "not tried yet")
    parts = [f"attempt {message.attempts}"]
    if message.next_attempt_at is not None:
        parts.append(f"next try {_when(message.next_attempt_at)}")
    if message.expires_at is not None:
        parts.append(f"expires {_when(message.expires_at)}")
    if message.last_error:
        parts.append(f"last error: {message.last_error}")
    return MessageStatus("waiting", ", ".join(parts))


def build_email(message: OutboxMessage, config: Mapping[str, Any]) -> EmailMessage:
    """The email exactly as it goes out; the same bytes-to-be on every retry."""
    sender = config["MAIL_DEFAULT_SENDER"]
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to
    email["Subject"] = message.subject
    # The date it was written, not the date a retry finally got through.
    email["Date"] = format_datetime(message.created_at.replace(tzinfo=UTC))
    email["Message-ID"] = message_id(message, config)
    email["Auto-Submitted"] = "auto-generated"  # asks mail servers not to send auto-replies
    unsubscribe = UNSUBSCRIBE_RE.search(message.text)
    if unsubscribe:
        email["List-Unsubscribe"] = f"<{unsubscribe.group(0)}>"
    email.set_content(message.text)
    if message.html:
        email.add_alternative(message.html, subtype="html")
    return email


def message_id(message: OutboxMessage, config: Mapping[str, Any]) -> str:
    """A Message-ID fixed by the outbox row. The creation time is in it so that a database
    rebuilt from scratch, reusing ids, does not make receivers drop new mail as duplicates."""
    stamp = message.created_at.strftime("%Y%m%d%H%M%S")
    return f"<outbox.{message.id}.{stamp}@{_sender_domain(config)}>"


def deliver_pending(
    session: Session, now: datetime | None = None, limit: int = 200
) -> DeliveryReport:
    """Send up to `limit` unsent messages that are due (`next_attempt_at <= now`), oldest due
    first, over one SMTP connection set up from the app config; first, mark failed (up to
    `limit`) those whose `expires_at` has passed, which are never sent.

    Each message is committed as it goes: sent ones get `sent_at`; ones the server refused for
    good (5xx to the recipient or the content) get `failed_at` and the reply in `last_error`;
    others that failed stay unsent with `attempts`, `last_error` and a later `next_attempt_at`,
    to be retried until sent or expired, never dropped. One refused recipient does not stop the
    rest; a server that cannot be reached defers the whole batch. With no MAIL_SERVER nothing is
    sent or changed and the report says mail is kept. It commits the session many times, so
    call it with nothing of the caller's pending.
    """
    config = current_app.config
    now = _naive_utc(now or utcnow())
    if not config.get("MAIL_SERVER"):
        unsent = session.scalar(select(func.count()).select_from(OutboxMessage).where(_is_open()))
        log.debug("No MAIL_SERVER set: %s unsent message(s) kept in the outbox", unsent)
        return DeliveryReport(server=None, kept=unsent or 0)

    report = DeliveryReport(server=f"{config['MAIL_SERVER']}:{config['MAIL_PORT']}")
    for message in _expire(session, now, limit):
        report.expired += 1
        report.errors.append(f"#{message.id} to {message.to}: {message.last_error}")
        log.warning("Outbox message %s to %s %s", message.id, message.to, message.last_error)
    due_ids = session.scalars(
        select(OutboxMessage.id)
        .where(_is_due(now))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    ).all()
    session.commit()  # end the read transaction: every claim below is its own commit

    connection: smtplib.SMTP | None = None
    unreachable: str | None = None  # once the server cannot be reached, the rest wait too
    try:
        for outbox_id in due_ids:
            message = _claim(session, outbox_id, now)
            if message is None:
                report.skipped += 1
                continue
            if connection is None and unreachable is None:
                try:
                    connection = _connect(config)
                except (OSError, smtplib.SMTPException) as exc:  # refused, timeout, auth, TLS
                    unreachable = _describe(exc)
                    log.warning("Mail server %s unreachable: %s", report.server, unreachable)
            if connection is None:
                failure: Failure | None = Failure(unreachable)
            else:
                failure = _send(connection, message, config)
            if failure is None:
                message.sent_at = now
                message.last_error = None
                message.failed_at = None  # it went out, whatever a worker expiring it wrote
                _forget_secrets(message)
                session.commit()
                report.sent += 1
                log.info("Sent outbox message %s to %s", message.id, message.to)
                continue
            message.last_error = failure.error[:MAX_ERROR_LENGTH]
            if failure.permanent:
                message.failed_at = now
                message.next_attempt_at = None
                report.failed += 1
            else:
                report.deferred += 1
            session.commit()
            outcome = "refused for good" if failure.permanent else "not sent"
            report.errors.append(f"#{message.id} to {message.to}: {outcome}: {failure.error}")
            log.warning(
                "Outbox message %s to %s %s: %s", message.id, message.to, outcome, failure.error
            )
            if connection is not None and connection.sock is None:
                connection = None  # it dropped: one fresh connection for the next message
    finally:
        if connection is not None:
            _close(connection)
    log.info(
        "Mail delivery: %s sent, %s deferred, %s failed, %s expired, %s skipped",
        report.sent,
        report.deferred,
        report.failed,
        report.expired,
        report.skipped,
    )
    return report


# A password link is a key to an account: once the server has it, the outbox keeps no copy.
_SECRET_LINK = re.compile(r"/welcome/[A-Za-z0-9_\-]+")
_SECRET_KINDS = {"invitation"}


def _forget_secrets(message: OutboxMessage) -> None:
    if message.kind in _SECRET_KINDS:
        message.text = _SECRET_LINK.sub("/welcome/(link removed once sent)", message.text)
        if message.html:
            message.html = _SECRET_LINK.sub("/welcome/(link removed once sent)", message.html)


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
}


def _expire(session: Session, now: datetime, limit: int) -> list[OutboxMessage]:
    """Mark failed, with the reason, the open messages whose `expires_at` has passed, each in
    its own commit; the ones this run marked (not those another worker marked or sent first)."""
    stale = session.scalars(
        select(OutboxMessage)
        .where(_is_open(), OutboxMessage.expires_at <= now)
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
        when = _when(message.expires_at)
    reason = f"expired: not delivered before {why} ({when})"
    if message.last_error:
        reason += f"; last error: {message.last_error}"
    return reason


def _claim(session: Session, outbox_id: int, now: datetime) -> OutboxMessage | None:
    """Take one message for this run, or None if it was sent or taken meanwhile.

    The conditional update is the lock: of two workers, only one matches the old attempt
    count. Pushing `next_attempt_at` on first also means that a crash mid-send leaves the
    message due again after the backoff, rather than stuck or resent at once."""
    attempts = session.scalar(select(OutboxMessage.attempts).where(OutboxMessage.id == outbox_id))
    if attempts is None:
        return None
    claimed = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id, OutboxMessage.attempts == attempts, _is_due(now))
        .values(attempts=attempts + 1, next_attempt_at=now + backoff(attempts + 1))
        .execution_options(synchronize_session=False)
    )
    session.commit()
    if claimed.rowcount != 1:
        return None
    return session.get(OutboxMessage, outbox_id)


def _connect(config: Mapping[str, Any]) -> smtplib.SMTP:
    host, port, timeout = config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_TIMEOUT"]
    context = ssl.create_default_context()
    if config.get("MAIL_USE_SSL"):
        connection: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        connection = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if config.get("MAIL_USE_TLS") and not config.get("MAIL_USE_SSL"):
            connection.starttls(context=context)
        if config.get("MAIL_USERNAME"):
            connection.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
    except BaseException:
        _close(connection)
        raise
    return connection


@dataclass(frozen=True)
class Failure:
    """Why a message was not sent, and whether trying again could ever help."""

    error: str
    permanent: bool = False


def _send(
    connection: smtplib.SMTP, message: OutboxMessage, config: Mapping[str, Any]
) -> Failure | None:
    """Hand one message to the server: None when accepted, else why not. A failure that
    leaves the session in doubt closes the connection (its `sock` becomes None)."""
    try:
        email = build_email(message, config)
    except Exception as exc:  # e.g. a newline in a subject: this message only
        return Failure(f"could not build the email: {exc}")
    envelope_from = parseaddr(config["MAIL_DEFAULT_SENDER"])[1]
    try:
        refused = connection.send_message(email, from_addr=envelope_from, to_addrs=[message.to])
    except (
        smtplib.SMTPResponseException,
        smtplib.SMTPRecipientsRefused,
        smtplib.SMTPNotSupportedError,
    ) as exc:  # the server answered and reset: the session can go on (smtplib closes on 421)
        return Failure(_describe(exc), _refused_for_good(exc))
    except Exception as exc:  # timeout, reset, disconnect, unencodable address: start afresh
        connection.close()
        return Failure(_describe(exc))
    if refused:  # only possible with several recipients, but never count a refusal as sent
        exc = smtplib.SMTPRecipientsRefused(refused)
        return Failure(_describe(exc), _refused_for_good(exc))
    return None


def _refused_for_good(exc: Exception) -> bool:
    """A 5xx reply about this message (its recipient, its content): the same message will get
    the same answer. 4xx replies are temporary. A refusal of our own sender (MAIL FROM) is about
    the setup, the same for every message, so it is not: marking the whole outbox failed for a
    sender address an operator can fix would lose it all."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _reply in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPDataError):
        return exc.smtp_code >= 500
    return False


def _close(connection: smtplib.SMTP) -> None:
    try:
        connection.quit()
    except (OSError, smtplib.SMTPException):
        connection.close()


def _describe(exc: BaseException) -> str:
    """One line for `last_error`: the exception kind and what the server said."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        said = "; ".join(
            f"{address}: {code} {_text(reply)}" for address, (code, reply) in exc.recipients.items()
        )
        return f"SMTPRecipientsRefused: {said}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__}: {exc.smtp_code} {_text(exc.smtp_error)}"
    return f"{type(exc).__name__}: {exc}".strip()


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _sender_domain(config: Mapping[str, Any]) -> str:
    address = parseaddr(config.get("MAIL_DEFAULT_SENDER") or "")[1]
    domain = address.rpartition("@")[2]
    if not domain:
        domain = urlsplit(config.get("PUBLIC_URL") or "").hostname or "localhost"
    return domain


def _naive_utc(moment: datetime) -> datetime:
    """The database keeps naive UTC; accept an aware time too."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
