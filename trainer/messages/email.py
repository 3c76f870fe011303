"""Email over SMTP: the message as it goes out, and one connection per delivery run.

A 5xx reply about a message (its recipient, its content) refuses it for good; a server that is
down or answers 4xx only delays it. A refusal of our own sender address is about the setup, the
same for every message, so it only delays them too (an operator can fix it).
"""

from __future__ import annotations

import functools
import logging
import re
import smtplib
import ssl
from collections.abc import Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from trainer.messages.tried import Failure, Tried
from trainer.models import OutboxMessage, User

log = logging.getLogger(__name__)

# A link to stop this kind of mail: an "unsubscribe" address, or the reminders' own page.
UNSUBSCRIBE_RE = re.compile(
    r"https?://[^\s<>\"']*(?:unsubscribe|/reminders/)[^\s<>\"']*", re.IGNORECASE
)


def mode(config: Mapping[str, Any]) -> str:
    """Send through MAIL_SERVER; without one, keep: mail waits in the outbox to be read."""
    return "send" if config.get("MAIL_SERVER") else "keep"


def where(config: Mapping[str, Any]) -> str | None:
    """host:port of the mail server, or None."""
    if not config.get("MAIL_SERVER"):
        return None
    return f"{config['MAIL_SERVER']}:{config['MAIL_PORT']}"


def reaches() -> ColumnElement[bool]:
    """The people email reaches (an SQL condition on User)."""
    return User.email.is_not(None)


def address_of(user: User) -> str | None:
    """The person's address on this channel, if they have one."""
    return user.email


def build_email(message: OutboxMessage, config: Mapping[str, Any]) -> EmailMessage:
    """The email exactly as it goes out; the same bytes-to-be on every retry."""
    email = EmailMessage()
    _header(email, "From", config["MAIL_DEFAULT_SENDER"])
    _header(email, "To", message.to)
    _header(email, "Subject", message.subject)
    # The date it was written, not the date a retry finally got through.
    _header(email, "Date", format_datetime(message.created_at.replace(tzinfo=UTC)))
    _header(email, "Message-ID", message_id(message, config))
    _header(email, "Auto-Submitted", "auto-generated")  # asks servers not to auto-reply
    unsubscribe = UNSUBSCRIBE_RE.search(message.text)
    if unsubscribe:
        _header(email, "List-Unsubscribe", f"<{unsubscribe.group(0)}>")
    email.set_content(message.text)
    if message.html:
        email.add_alternative(message.html, subtype="html")
    return email


def _header(email: EmailMessage, name: str, value: str) -> None:
    """Plain ASCII on one line goes in as it is (written out the same, folded if long);
    anything else through the header parser, which encodes it and refuses a line break. The
    parser is most of the cost of building a message."""
    if value.isascii() and value.isprintable():
        email.set_raw(name, value)
    else:
        email[name] = value


def message_id(message: OutboxMessage, config: Mapping[str, Any]) -> str:
    """A Message-ID fixed by the outbox row. The creation time is in it so that a database
    rebuilt from scratch, reusing ids, does not make receivers drop new mail as duplicates."""
    stamp = message.created_at.strftime("%Y%m%d%H%M%S")
    return f"<outbox.{message.id}.{stamp}@{_sender_domain(config)}>"


class Sender:
    """One SMTP connection for a delivery run, opened at its first message. Once the server
    cannot be reached, the run's other messages wait too rather than each trying again."""

    def __init__(self, config: Mapping[str, Any]):
        self.config = config
        self.connection: smtplib.SMTP | None = None
        self.unreachable: str | None = None

    def send(
        self, session: Session, message: OutboxMessage, user: User | None, now: datetime
    ) -> Tried:
        """Hand one message to the server, to `message.to`."""
        if not message.to:  # passed on to email for a person who has no address now
            return Tried("no email address", Failure("no email address to write to", True))
        return Tried(message.to, self._send(message))

    def _send(self, message: OutboxMessage) -> Failure | None:
        if self.connection is None and self.unreachable is None:
            try:
                self.connection = _connect(self.config)
            except (OSError, smtplib.SMTPException) as exc:  # refused, timeout, auth, TLS
                self.unreachable = _describe(exc)
                log.warning("Mail server %s unreachable: %s", where(self.config), self.unreachable)
        if self.connection is None:
            return Failure(self.unreachable or "no connection")
        failure = _send(self.connection, message, self.config)
        if failure is not None and self.connection.sock is None:
            self.connection = None  # it dropped: one fresh connection for the next message
        return failure

    def close(self) -> None:
        if self.connection is not None:
            _close(self.connection)
            self.connection = None


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


def _send(
    connection: smtplib.SMTP, message: OutboxMessage, config: Mapping[str, Any]
) -> Failure | None:
    """A failure that leaves the session in doubt closes the connection (`sock` becomes None)."""
    try:
        email = build_email(message, config)
    except Exception as exc:  # e.g. a newline in a subject: this message only
        return Failure(f"could not build the email: {exc}")
    envelope_from = _address(config["MAIL_DEFAULT_SENDER"])
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
    the same answer. 4xx replies are temporary, and so is a refusal of our own sender (MAIL
    FROM): marking the whole outbox failed for an address an operator can fix would lose it."""
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


@functools.lru_cache(maxsize=16)
def _address(sender: str) -> str:
    """The bare address of a "Name <address>" setting (read for every message)."""
    return parseaddr(sender)[1]


def _sender_domain(config: Mapping[str, Any]) -> str:
    domain = _address(config.get("MAIL_DEFAULT_SENDER") or "").rpartition("@")[2]
    if not domain:
        domain = urlsplit(config.get("PUBLIC_URL") or "").hostname or "localhost"
    return domain
