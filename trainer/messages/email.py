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
from email import base64mime, message_from_bytes, policy, quoprimime
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


def email_bytes(message: OutboxMessage, config: Mapping[str, Any]) -> bytes:
    """The email exactly as it goes out, the same bytes on every retry: headers, then the text,
    or the text and the HTML as multipart/alternative. Written here rather than through the
    standard library's EmailMessage, whose header parser and generator cost more than all the
    rest of a delivery; what it writes reads back the same through that library's parser.
    Raises ValueError for a header that holds a line break."""
    utf8 = _international(config["MAIL_DEFAULT_SENDER"], message.to)
    head = [
        _header("From", config["MAIL_DEFAULT_SENDER"], utf8),
        _header("To", message.to, utf8),
        _header("Subject", message.subject, utf8),
        # The date it was written, not the date a retry finally got through.
        _header("Date", format_datetime(message.created_at.replace(tzinfo=UTC)), utf8),
        _header("Message-ID", message_id(message, config), utf8),
        "Auto-Submitted: auto-generated\r\n",  # asks mail servers not to send auto-replies
    ]
    unsubscribe = UNSUBSCRIBE_RE.search(message.text)
    if unsubscribe:
        head.append(_header("List-Unsubscribe", f"<{unsubscribe.group(0)}>", utf8))
    head.append("MIME-Version: 1.0\r\n")
    text = _part("plain", message.text)
    if not message.html:
        return "".join(head).encode() + text
    html = _part("html", message.html)
    boundary = f"=_outbox.{message.id}"  # "=_" never occurs in quoted-printable or base64
    while boundary.encode() in text or boundary.encode() in html:  # nor, now, in 7bit parts
        boundary += "_"
    head.append(f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"\r\n\r\n')
    line = f"--{boundary}\r\n".encode()
    end = f"--{boundary}--\r\n".encode()
    return "".join(head).encode() + line + text + b"\r\n" + line + html + b"\r\n" + end


def build_email(message: OutboxMessage, config: Mapping[str, Any]) -> EmailMessage:
    """The email as it goes out, read back into an EmailMessage (to show its headers)."""
    return message_from_bytes(email_bytes(message, config), policy=policy.default)


def _header(name: str, value: str, utf8: bool) -> str:
    """One header line: plain ASCII that fits on a line as it is, anything else encoded and
    folded by the standard library's policy (the parser is only paid for those)."""
    if len(value.splitlines()) > 1:
        raise ValueError(f"the {name} header holds a line break")
    if value.isascii() and value.isprintable() and len(name) + len(value) < 77:
        return f"{name}: {value}\r\n"
    mail_policy = policy.SMTPUTF8 if utf8 else policy.SMTP
    return mail_policy.header_factory(name, value).fold(policy=mail_policy)


def _part(subtype: str, content: str) -> bytes:
    """A text part in UTF-8, chosen as the standard library chooses: 7bit when every line is
    ASCII and short, else quoted-printable, or base64 when that is shorter."""
    lines = content.encode().splitlines()
    data = b"\r\n".join(lines) + b"\r\n"
    if data.isascii() and max(map(len, lines), default=0) <= 78:
        encoding, body = "7bit", data
    else:
        plain = b"\n".join(lines) + b"\n"  # the lines' ends inside the encoding, as the library
        quoted = quoprimime.body_encode(plain.decode("latin-1"), 76, "\r\n")
        encoded = base64mime.body_encode(plain, 76, "\r\n")
        if len(quoted) <= len(encoded):
            encoding, body = "quoted-printable", quoted.encode("ascii")
        else:
            encoding, body = "base64", encoded.encode("ascii")
    head = f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
    head += f"Content-Transfer-Encoding: {encoding}\r\n\r\n"
    return head.encode() + body


def _international(sender: str, to: str) -> bool:
    """An address outside ASCII: the server must take SMTPUTF8, and headers are UTF-8."""
    if not _address(sender).isascii():
        return True
    return not to.isascii() and not parseaddr(to)[1].isascii()  # a name alone needs no UTF-8


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
    if config.get("MAIL_USE_SSL"):
        context = ssl.create_default_context()
        connection: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        connection = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if config.get("MAIL_USE_TLS") and not config.get("MAIL_USE_SSL"):
            # Made when used: loading the system's certificates costs more than a message.
            connection.starttls(context=ssl.create_default_context())
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
        data = email_bytes(message, config)
    except Exception as exc:  # e.g. a newline in a subject: this message only
        return Failure(f"could not build the email: {exc}")
    envelope_from = _address(config["MAIL_DEFAULT_SENDER"])
    international = _international(config["MAIL_DEFAULT_SENDER"], message.to)
    options = ("SMTPUTF8", "BODY=8BITMIME") if international else ()
    try:
        refused = connection.sendmail(envelope_from, [message.to], data, options)
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
