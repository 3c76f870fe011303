"""The outbox delivered over a real SMTP server (aiosmtpd), the `outbox` CLI and the admin pages."""

from __future__ import annotations

import email
import socket
from datetime import date, datetime, timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from tests.test_notify import GREETING, answer_lesson, mails, manage, person
from trainer.extensions import db
from trainer.messages import deliver_pending, queue_message
from trainer.messages.delivery import BACKOFF, backoff
from trainer.messages.email import build_email
from trainer.models import OutboxMessage, User
from trainer.notify import jobs as notify_jobs

NOW = datetime(2025, 3, 3, 9, 0)
SENDER = "Frontline Trainer <no-reply@trainer.example>"


class Recorder:
    """An SMTP handler that keeps what it is given and refuses chosen recipients."""

    def __init__(self):
        self.envelopes = []
        self.tried: list[str] = []  # every RCPT TO, accepted or not
        self.refuse: set[str] = set()  # 550 at RCPT: no such mailbox, for good
        self.defer: set[str] = set()  # 451 at RCPT: try again later
        self.hang_up: set[str] = set()  # 421 at DATA: the server closes the session
        self.reject_content: set[str] = set()  # 554 at DATA: this message, for good
        self.refuse_sender = False  # 553 at MAIL FROM: our sender address

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.refuse_sender:
            return "553 5.7.1 Sender address rejected: not owned by user"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.tried.append(address)
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        if address in self.defer:
            return "451 4.2.1 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if set(envelope.rcpt_tos) & self.hang_up:
            return "421 4.3.2 Shutting down"
        if set(envelope.rcpt_tos) & self.reject_content:
            return "554 5.7.1 Message rejected as spam"
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self):
        return [email.message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]

    def recipients(self) -> list[str]:
        return [address for e in self.envelopes for address in e.rcpt_tos]


def reserve_port() -> socket.socket:
    """A bound, non-listening socket: its port refuses connections and no one else takes it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


class SMTPServer:
    """Starts and stops an aiosmtpd server on a port."""

    def __init__(self):
        self.handler = Recorder()
        self.controller = None
        self._reserved = reserve_port()
        self.port = self._reserved.getsockname()[1]

    def start(self):
        self._reserved.close()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
        self._reserved.close()


@pytest.fixture
def smtp_port():
    """A port with no server yet: call `.start()` to bring the server up."""
    server = SMTPServer()
    yield server
    server.stop()


@pytest.fixture
def smtp(smtp_port):
    """A running SMTP server that records what it receives."""
    smtp_port.start()
    return smtp_port


def use_server(app, server: SMTPServer) -> None:
    app.config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=server.port,
        MAIL_TIMEOUT=5,
        MAIL_DEFAULT_SENDER=SENDER,
        MAIL_USE_TLS=False,
        MAIL_USE_SSL=False,
        MAIL_USERNAME=None,
    )


def queue(app, to="sam@example.com", subject="Your refresher is ready", **fields) -> int:
    fields.setdefault("text", "Three questions are waiting for you.")
    with app.app_context():
        message = queue_message(db.session, to=to, subject=subject, **fields)
        message.created_at = message.next_attempt_at = NOW - timedelta(minutes=1)
        db.session.commit()
        return message.id


def deliver(app, now=NOW, **kwargs):
    with app.app_context():
        return deliver_pending(db.session, now=now, **kwargs)


def row(app, outbox_id: int) -> OutboxMessage:
    with app.app_context():
        message = db.session.get(OutboxMessage, outbox_id)
        db.session.expunge(message)
        return message


# --- delivery -------------------------------------------------------------------------------


def test_queued_message_is_delivered_with_text_and_html(any_db_app, smtp):
    use_server(any_db_app, smtp)
    outbox_id = queue(
        any_db_app,
        subject="Ready: “Handling a complaint”",
        text="Hello Sam,\n\nYour refresher is ready.",
        html="<p>Hello Sam,</p><p>Your refresher is ready.</p>",
    )

    report = deliver(any_db_app)

    assert (report.sent, report.deferred) == (1, 0)
    assert smtp.handler.recipients() == ["sam@example.com"]
    assert smtp.handler.envelopes[0].mail_from == "no-reply@trainer.example"
    (received,) = smtp.handler.messages()
    assert received["From"] == SENDER
    assert received["To"] == "sam@example.com"
    assert received["Subject"] == "Ready: “Handling a complaint”"
    assert received["Message-ID"].startswith(f"<outbox.{outbox_id}.")
    assert received["Message-ID"].endswith("@trainer.example>")
    assert received.get_content_type() == "multipart/alternative"
    assert received.get_body(("plain",)).get_content().strip().endswith("Your refresher is ready.")
    assert "<p>Hello Sam,</p>" in received.get_body(("html",)).get_content()
    assert row(any_db_app, outbox_id).sent_at == NOW


def test_sent_message_is_not_sent_again(any_db_app, smtp):
    use_server(any_db_app, smtp)
    outbox_id = queue(any_db_app)
    assert deliver(any_db_app).sent == 1

    again = deliver(any_db_app, now=NOW + timedelta(days=1))

    assert (again.sent, again.deferred) == (0, 0)
    assert "Nothing due" in str(again)
    assert len(smtp.handler.envelopes) == 1
    assert row(any_db_app, outbox_id).attempts == 1


def test_text_only_message_has_no_html_part(app, smtp):
    use_server(app, smtp)
    queue(app, text="Plain only.")
    deliver(app)
    (received,) = smtp.handler.messages()
    assert received.get_content_type() == "text/plain"
    assert received.get_content().strip() == "Plain only."


def test_server_down_keeps_message_and_retries_it_once_up(any_db_app, smtp_port):
    use_server(any_db_app, smtp_port)  # nothing listens there yet
    outbox_id = queue(any_db_app)

    down = deliver(any_db_app)

    assert (down.sent, down.deferred) == (0, 1)
    message = row(any_db_app, outbox_id)
    assert message.sent_at is None
    assert message.attempts == 1
    assert "ConnectionRefused" in message.last_error
    assert message.next_attempt_at == NOW + BACKOFF[0]

    smtp_port.start()
    early = deliver(any_db_app, now=message.next_attempt_at - timedelta(seconds=1))
    assert (early.sent, early.deferred) == (0, 0)
    assert smtp_port.handler.envelopes == []

    on_time = deliver(any_db_app, now=message.next_attempt_at)
    later = deliver(any_db_app, now=message.next_attempt_at + timedelta(hours=2))

    assert (on_time.sent, later.sent) == (1, 0)
    assert smtp_port.handler.recipients() == ["sam@example.com"]
    message = row(any_db_app, outbox_id)
    assert message.sent_at == NOW + BACKOFF[0]
    assert message.last_error is None


def test_unreachable_server_defers_the_whole_batch(app, smtp_port):
    use_server(app, smtp_port)
    ids = [queue(app, to=f"p{n}@example.com") for n in range(3)]

    report = deliver(app)

    assert (report.sent, report.deferred) == (0, 3)
    for outbox_id in ids:
        message = row(app, outbox_id)
        assert (message.sent_at, message.attempts) == (None, 1)
        assert message.next_attempt_at > NOW


def test_backoff_grows_then_stays_hourly(app, smtp_port):
    use_server(app, smtp_port)
    outbox_id = queue(app)
    now = NOW
    waits = []
    for _ in range(6):
        deliver(app, now=now)
        message = row(app, outbox_id)
        waits.append(message.next_attempt_at - now)
        now = message.next_attempt_at
    minutes = [wait / timedelta(minutes=1) for wait in waits]
    assert minutes == [1, 5, 15, 60, 60, 60]
    assert row(app, outbox_id).attempts == 6
    assert backoff(100) == timedelta(hours=1)


def test_a_5xx_refusal_fails_the_message_at_once_and_a_4xx_one_waits(any_db_app, smtp):
    use_server(any_db_app, smtp)
    smtp.handler.refuse.add("gone@example.com")
    smtp.handler.defer.add("busy@example.com")
    first = queue(any_db_app, to="ana@example.com")
    refused = queue(any_db_app, to="gone@example.com")
    busy = queue(any_db_app, to="busy@example.com")
    last = queue(any_db_app, to="ben@example.com")

    report = deliver(any_db_app)

    assert (report.sent, report.failed, report.deferred) == (2, 1, 1)
    assert "Sent 2, 1 failed and will be retried, 1 refused for good (not retried)" in str(report)
    assert smtp.handler.recipients() == ["ana@example.com", "ben@example.com"]
    assert row(any_db_app, first).sent_at == NOW
    assert row(any_db_app, last).sent_at == NOW
    failed = row(any_db_app, refused)
    assert (failed.sent_at, failed.failed_at, failed.attempts) == (None, NOW, 1)
    assert failed.last_error == (
        "SMTPRecipientsRefused: gone@example.com: 550 5.1.1 No such user here"
    )
    waiting = row(any_db_app, busy)
    assert (waiting.sent_at, waiting.failed_at, waiting.attempts) == (None, None, 1)
    assert "451 4.2.1 Mailbox busy" in waiting.last_error
    assert waiting.next_attempt_at == NOW + BACKOFF[0]

    # The busy mailbox takes it on the retry; the refused one is never tried again.
    smtp.handler.defer.clear()
    smtp.handler.refuse.clear()
    later = deliver(any_db_app, now=NOW + timedelta(hours=2))
    again = deliver(any_db_app, now=NOW + timedelta(days=3))

    assert (later.sent, later.failed, later.deferred) == (1, 0, 0)
    assert "Nothing due" in str(again)
    assert smtp.handler.tried.count("gone@example.com") == 1
    assert smtp.handler.recipients()[-1] == "busy@example.com"
    assert row(any_db_app, busy).sent_at == NOW + timedelta(hours=2)
    assert row(any_db_app, refused).failed_at == NOW


def test_refused_content_fails_but_a_refused_sender_keeps_trying(app, smtp):
    use_server(app, smtp)
    smtp.handler.reject_content.add("ana@example.com")
    spam = queue(app, to="ana@example.com")
    assert deliver(app).failed == 1
    failed = row(app, spam)
    assert failed.failed_at == NOW
    assert failed.last_error == "SMTPDataError: 554 5.7.1 Message rejected as spam"

    # Our own sender refused is the setup's fault, the same for every message: fixable, so
    # the message waits (hourly at worst) rather than being lost with the rest of the outbox.
    smtp.handler.refuse_sender = True
    waiting = queue(app, to="ben@example.com")
    report = deliver(app)
    assert (report.failed, report.deferred) == (0, 1)
    message = row(app, waiting)
    assert (message.failed_at, message.next_attempt_at) == (None, NOW + BACKOFF[0])
    assert "SMTPSenderRefused: 553 5.7.1 Sender address rejected" in message.last_error

    smtp.handler.refuse_sender = False
    assert deliver(app, now=NOW + BACKOFF[0]).sent == 1
    assert smtp.handler.recipients() == ["ben@example.com"]


def test_server_hanging_up_mid_batch_defers_that_message_and_reconnects(app, smtp):
    use_server(app, smtp)
    smtp.handler.hang_up.add("drop@example.com")
    ids = [queue(app, to=to) for to in ("ana@example.com", "drop@example.com", "ben@example.com")]

    report = deliver(app)

    assert (report.sent, report.deferred) == (2, 1)
    assert smtp.handler.recipients() == ["ana@example.com", "ben@example.com"]
    dropped = row(app, ids[1])
    assert (dropped.sent_at, dropped.attempts) == (None, 1)
    assert "421" in dropped.last_error


class Crash(BaseException):
    """The process dying (not an error the delivery loop may catch)."""


def test_crash_mid_batch_loses_nothing_and_sends_nothing_twice(app, smtp, monkeypatch):
    import smtplib

    use_server(app, smtp)
    ids = [queue(app, to=f"p{n}@example.com") for n in range(3)]
    real_send = smtplib.SMTP.sendmail
    calls = []

    def dies_on_second(self, from_addr, to_addrs, msg, *args, **kwargs):
        calls.append(to_addrs)
        if len(calls) == 2:
            raise Crash
        return real_send(self, from_addr, to_addrs, msg, *args, **kwargs)

    monkeypatch.setattr(smtplib.SMTP, "sendmail", dies_on_second)
    with pytest.raises(Crash):
        deliver(app)
    monkeypatch.setattr(smtplib.SMTP, "sendmail", real_send)

    with app.app_context():
        db.session.remove()  # what a restarted process sees
    assert row(app, ids[0]).sent_at == NOW
    claimed = row(app, ids[1])
    assert (claimed.sent_at, claimed.attempts) == (None, 1)  # taken, then the crash
    assert row(app, ids[2]).attempts == 0

    deliver(app, now=NOW + timedelta(seconds=30))  # the restart: the third is still due
    deliver(app, now=claimed.next_attempt_at)  # the interrupted one, after its backoff
    deliver(app, now=claimed.next_attempt_at + timedelta(hours=1))

    assert sorted(smtp.handler.recipients()) == [
        "p0@example.com",
        "p1@example.com",
        "p2@example.com",
    ]
    assert all(row(app, outbox_id).sent_at is not None for outbox_id in ids)


def test_message_id_is_stable_across_retries(app):
    outbox_id = queue(app)
    with app.app_context():
        message = db.session.get(OutboxMessage, outbox_id)
        first = build_email(message, app.config)
        message.attempts = 3
        second = build_email(message, app.config)
    assert first["Message-ID"] == second["Message-ID"]
    assert first["Date"] == second["Date"]


@pytest.mark.parametrize(
    "fields",
    [
        {"subject": "Your refresher is ready", "text": "Three questions are waiting for you."},
        {
            "subject": "Ready: “Handling a complaint”",
            "text": "Hello Sam,\n\nIt is ready.",
            "html": "<p>Hello Sam,</p><p>It is ready.</p>",
        },
        {
            "subject": "Tu repaso está listo: " + "Sucursal Riverside, " * 14,
            "text": "¡Hola Ana!\r\nSon cinco minutos.\n\n" + "ñ" * 200,
            "html": '<div style="font-family:Arial">' + "<p>¡Hola! Son cinco minutos.</p>" * 20,
        },
        {"subject": "Zażółć gęślą jaźń", "text": "Ζωή " * 100},
        {"subject": "Dots", "text": ".\n..\n.leading dot\n" + "a" * 500 + "\nend", "html": ""},
        {"subject": "Its own boundary", "text": "--=_outbox.1\n", "html": "<p>=_outbox.1_</p>"},
    ],
    ids=["plain", "html", "long-and-accented", "greek", "dots-and-long-line", "boundary-in-text"],
)
def test_the_email_written_directly_reads_back_as_the_message(fields):
    from trainer.messages.email import email_bytes

    message = OutboxMessage(id=1, to="Ana Pérez <ana@example.com>", created_at=NOW, kind="general")
    for name, value in {"html": None, **fields}.items():
        setattr(message, name, value)
    config = {"MAIL_DEFAULT_SENDER": SENDER}
    written = email_bytes(message, config)

    assert email_bytes(message, config) == written  # the same bytes on every retry
    assert b"\n" not in written.replace(b"\r\n", b"") and written.isascii()
    assert max(len(line) for line in written.split(b"\r\n")) <= 78
    read = email.message_from_bytes(written, policy=policy.default)
    assert [d for part in read.walk() for d in part.defects] == []
    assert (read["From"], read["To"], read["Subject"]) == (SENDER, message.to, message.subject)
    assert read["Message-ID"] == f"<outbox.1.{NOW:%Y%m%d%H%M%S}@trainer.example>"

    def content(kind: str) -> str:  # line ends as written: CRLF in 7bit parts, LF when encoded
        return read.get_body((kind,)).get_content().replace("\r\n", "\n")

    assert content("plain") == message.text.replace("\r\n", "\n").rstrip("\n") + "\n"
    if message.html:
        assert read.get_content_type() == "multipart/alternative"
        assert content("html") == message.html + "\n"
    else:
        assert read.get_content_type() == "text/plain"


def test_a_header_with_a_line_break_is_not_sent(app, smtp):
    use_server(app, smtp)
    outbox_id = queue(app, subject="Hello\nBcc: everyone@example.com")

    report = deliver(app)

    assert (report.sent, report.deferred) == (0, 1)
    assert smtp.handler.envelopes == []
    assert "could not build the email: the Subject header holds a line break" in (
        row(app, outbox_id).last_error
    )


def test_unsubscribe_link_becomes_a_header(app):
    link = "https://trainer.example/account/unsubscribe?token=abc"
    outbox_id = queue(app, text=f"Hello.\n\nStop these reminders: {link}\n")
    plain_id = queue(app, text="Hello.")
    with app.app_context():
        with_link = build_email(db.session.get(OutboxMessage, outbox_id), app.config)
        without = build_email(db.session.get(OutboxMessage, plain_id), app.config)
    assert with_link["List-Unsubscribe"] == f"<{link}>"
    assert without["List-Unsubscribe"] is None


def test_limit_bounds_one_run(app, smtp):
    use_server(app, smtp)
    for n in range(3):
        queue(app, to=f"p{n}@example.com")
    assert deliver(app, limit=2).sent == 2
    assert deliver(app).sent == 1


# --- expiry: not sent once it is no longer worth it ------------------------------------------

TOKYO = "Asia/Tokyo"  # UTC+9 all year: its midnight is 15:00 UTC


def as_if_queued_at(app, kind: str, at: datetime) -> None:
    """The job ran at `at` in the test, but stamped its mail with the real time: restamp it."""
    with app.app_context():
        for message in db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)):
            message.created_at = message.next_attempt_at = at
        db.session.commit()


def test_a_reminder_not_delivered_by_the_learners_midnight_expires(library_app, smtp):
    app = library_app
    use_server(app, smtp)
    kai = person(app, "kai@example.com", name="Kai Sato", timezone=TOKYO)
    rin = person(app, "rin@example.com", name="Rin Abe", timezone=TOKYO)
    for user_id in (kai, rin):
        answer_lesson(app, user_id, GREETING, datetime(2026, 1, 4, 9))
    six_pm = datetime(2026, 1, 14, 9)  # 18:00 on the 14th in Tokyo
    midnight = datetime(2026, 1, 14, 15)  # 00:00 on the 15th in Tokyo
    with app.app_context():
        assert notify_jobs.send_reminders(db.session, six_pm) == 2
    as_if_queued_at(app, "reminder", six_pm)
    kai_mail, rin_mail = (m.id for m in mails(app, "reminder"))
    assert row(app, kai_mail).expires_at == row(app, rin_mail).expires_at == midnight

    smtp.handler.defer.add("kai@example.com")  # Kai's mailbox is busy all evening
    assert deliver(app, now=six_pm).sent == 1
    late = deliver(app, now=midnight - timedelta(minutes=1))  # still the 14th in Tokyo: tried
    assert (late.sent, late.deferred, late.expired) == (0, 1, 0)

    smtp.handler.defer.clear()  # the mailbox takes mail again, but Kai's day is over
    report = deliver(app, now=midnight)
    assert (report.sent, report.deferred, report.expired) == (0, 0, 1)
    assert "Sent 0, 1 expired unsent" in str(report)
    assert smtp.handler.recipients() == ["rin@example.com"]
    expired = row(app, kai_mail)
    assert (expired.sent_at, expired.failed_at) == (None, midnight)
    assert expired.last_error == (
        "expired: not delivered before the end of the learner's day (2026-01-15 00:00 "
        "Asia/Tokyo); last error: SMTPRecipientsRefused: kai@example.com: 451 4.2.1 Mailbox "
        "busy, try again later"
    )
    assert "Nothing due" in str(deliver(app, now=midnight + timedelta(days=1)))
    assert smtp.handler.tried.count("kai@example.com") == 2


def test_an_expired_message_is_marked_failed_once_and_never_sent(any_db_app, smtp):
    use_server(any_db_app, smtp)
    kai = person(any_db_app, "kai@example.com", timezone=TOKYO)
    midnight = NOW + timedelta(hours=6)  # 00:00 in Tokyo
    kept = queue(any_db_app, to="kai@example.com", kind="reminder", user_id=kai,
                 expires_at=midnight)  # fmt: skip
    lasting = queue(any_db_app, to="ben@example.com", subject="Overdue")
    smtp.handler.defer.update({"kai@example.com", "ben@example.com"})
    assert deliver(any_db_app).deferred == 2
    smtp.handler.defer.clear()

    first = deliver(any_db_app, now=midnight + timedelta(hours=1))
    second = deliver(any_db_app, now=midnight + timedelta(hours=2))

    assert (first.sent, first.expired, second.expired) == (1, 1, 0)
    assert smtp.handler.recipients() == ["ben@example.com"]
    expired = row(any_db_app, kept)
    assert expired.failed_at == midnight + timedelta(hours=1)
    assert expired.last_error.startswith(
        "expired: not delivered before the end of the learner's day (2025-03-04 00:00 Asia/Tokyo)"
    )
    assert row(any_db_app, lasting).sent_at == midnight + timedelta(hours=1)


def test_a_digest_expires_two_days_after_it_was_queued(library_app, smtp_port):
    app = library_app
    use_server(app, smtp_port)  # the mail server stays down
    person(app, "ana@example.com", name="Ana Alvarez", job_role="teller", team="Millbrook")
    boss = person(app, "boss@example.com", role="manager", timezone="America/New_York")
    manage(app, boss, "Millbrook")
    monday = datetime(2026, 11, 23, 13)  # 08:00 in New York
    with app.app_context():
        assert notify_jobs.manager_digest(db.session, monday) == 1
    as_if_queued_at(app, "digest", monday)
    (digest,) = mails(app, "digest")
    assert digest.expires_at == monday + timedelta(days=2)

    assert deliver(app, now=digest.expires_at - timedelta(minutes=1)).deferred == 1
    smtp_port.start()
    report = deliver(app, now=digest.expires_at)
    assert (report.sent, report.expired) == (0, 1)
    assert smtp_port.handler.envelopes == []
    assert row(app, digest.id).last_error.startswith(
        "expired: not delivered before it was two days old (2026-11-25 08:00 America/New_York)"
        "; last error: ConnectionRefusedError"
    )


def test_an_invitation_expires_with_its_link_and_an_overdue_notice_never(library_app, smtp):
    from trainer.admin.invites import send_invitation
    from trainer.models import Invitation

    app = library_app
    use_server(app, smtp)
    new_hire = person(app, "new@example.com", job_role="teller", hire_date=date(2026, 1, 5))
    with app.app_context():
        invitation = send_invitation(db.session, db.session.get(User, new_hire))
        db.session.commit()
        link_ends = invitation.expires_at
        assert notify_jobs.flag_overdue(db.session, datetime(2026, 2, 1, 12)) == 1
        invitations = db.session.scalars(select(Invitation)).all()
    (invite,) = mails(app, "invitation")
    (overdue,) = mails(app, "overdue")
    assert [i.expires_at for i in invitations] == [invite.expires_at] == [link_ends]
    assert overdue.expires_at is None

    # Nothing goes out for a week (the server says try later), then it does.
    smtp.handler.defer.add("new@example.com")
    assert deliver(app, now=link_ends - timedelta(hours=1)).deferred == 2
    smtp.handler.defer.clear()
    report = deliver(app, now=link_ends)
    assert (report.sent, report.expired) == (1, 1)
    assert [m["Subject"] for m in smtp.handler.messages()] == [overdue.subject]
    assert row(app, invite.id).last_error.startswith(
        "expired: not delivered before its password link stopped working ("
    )


# --- no mail server: kept, readable ---------------------------------------------------------


def test_without_mail_server_nothing_is_sent_and_cli_shows_it(app, smtp):
    app.config["MAIL_SERVER"] = None
    outbox_id = queue(app, subject="Welcome", text="Sign in at http://127.0.0.1:5000/login")

    report = deliver(app)

    assert report.mail_kept and report.sent == 0 and report.kept == 1
    assert "No MAIL_SERVER" in str(report)
    assert smtp.handler.envelopes == []
    message = row(app, outbox_id)
    assert (message.sent_at, message.attempts) == (None, 0)

    runner = app.test_cli_runner()
    listing = runner.invoke(args=["outbox"])
    assert listing.exit_code == 0, listing.output
    assert "Welcome" in listing.output
    assert "sam@example.com" in listing.output
    assert "kept" in listing.output

    shown = runner.invoke(args=["outbox", "--show", str(outbox_id)])
    assert shown.exit_code == 0, shown.output
    assert "Subject: Welcome" in shown.output
    assert "To: sam@example.com" in shown.output
    assert "Message-ID: <outbox." in shown.output
    assert shown.output.rstrip().endswith("Sign in at http://127.0.0.1:5000/login")


def test_cli_on_empty_outbox(app):
    result = app.test_cli_runner().invoke(args=["outbox"])
    assert result.exit_code == 0
    assert "The outbox is empty." in result.output


def test_cli_show_unknown_message(app):
    result = app.test_cli_runner().invoke(args=["outbox", "--show", "999"])
    assert result.exit_code != 0
    assert "no message #999" in result.output


def test_cli_lists_newest_first_with_limit_and_status(app, smtp):
    use_server(app, smtp)
    smtp.handler.defer.add("busy@example.com")
    smtp.handler.refuse.add("gone@example.com")
    queue(app, to="ana@example.com", subject="First")
    queue(app, to="busy@example.com", subject="Second")
    queue(app, to="gone@example.com", subject="Third")
    runner = app.test_cli_runner()

    delivered = runner.invoke(args=["outbox", "--deliver"])
    assert delivered.exit_code == 0, delivered.output
    assert (
        "Sent 1, 1 failed and will be retried, 1 refused for good (not retried)" in delivered.output
    )

    listing = runner.invoke(args=["outbox", "--limit", "2"]).output
    assert "3 message(s), 1 unsent, 1 failed" in listing
    assert listing.index("Third") < listing.index("Second")
    assert "First" not in listing
    assert "1 older not shown" in listing
    lines = listing.splitlines()
    second = next(n for n, line in enumerate(lines) if "Second" in line)
    third = next(n for n, line in enumerate(lines) if "Third" in line)
    assert lines[second].endswith("waiting")
    assert "attempt 1" in lines[second + 1] and "451" in lines[second + 1]
    assert lines[third].endswith("failed")
    assert "550 5.1.1 No such user here" in lines[third + 1]


# --- admin pages ----------------------------------------------------------------------------


def test_admin_reads_outbox_and_a_message(app, make_user, auth, client):
    make_user("admin@example.com", role="admin")
    outbox_id = queue(app, subject="Your refresher is ready", html="<p>Hi</p>")
    auth.login("admin@example.com")

    listing = client.get("/admin/outbox")
    assert listing.status_code == 200
    page = listing.get_data(as_text=True)
    assert "Your refresher is ready" in page
    assert f'href="/admin/outbox/{outbox_id}"' in page
    assert "kept" in page
    assert 'href="/admin/outbox"' in page  # the nav link

    shown = client.get(f"/admin/outbox/{outbox_id}")
    assert shown.status_code == 200
    body = shown.get_data(as_text=True)
    assert "Three questions are waiting for you." in body
    assert "&lt;p&gt;Hi&lt;/p&gt;" in body
    assert client.get("/admin/outbox/999").status_code == 404


def test_admin_and_cli_show_failed_messages_with_the_reason(app, smtp, make_user, auth, client):
    make_user("admin@example.com", role="admin")
    use_server(app, smtp)
    smtp.handler.refuse.add("gone@example.com")
    refused = queue(app, to="gone@example.com", subject="Refused one")
    expired = queue(app, to="kai@example.com", subject="Too late", kind="reminder",
                    expires_at=NOW - timedelta(seconds=1))  # fmt: skip
    tomorrow = NOW + timedelta(days=1)
    waiting = queue(app, to="ana@example.com", subject="Not yet", expires_at=tomorrow)
    smtp.handler.defer.add("ana@example.com")
    report = deliver(app)
    assert (report.failed, report.expired, report.deferred) == (1, 1, 1)
    auth.login("admin@example.com")

    page = client.get("/admin/outbox").get_data(as_text=True)
    assert page.count('<td class="small"><strong class="status-failed">failed</strong>') == 2
    assert "550 5.1.1 No such user here" in page
    assert "expired: not delivered before the end of the learner&#39;s day" in page
    assert '<strong class="status-waiting">waiting</strong>' in page
    assert "expires 2025-03-04 09:00 UTC" in page

    shown = client.get(f"/admin/outbox/{refused}").get_data(as_text=True)
    assert '<strong class="status-failed">failed</strong>' in shown
    assert "2025-03-03 09:00 UTC: SMTPRecipientsRefused: gone@example.com: 550 5.1.1" in shown
    shown = client.get(f"/admin/outbox/{waiting}").get_data(as_text=True)
    assert "<dt>Expires</dt><dd>2025-03-04 09:00 UTC" in shown

    runner = app.test_cli_runner()
    listing = runner.invoke(args=["outbox"]).output
    assert "3 message(s), 1 unsent, 2 failed" in listing
    assert "expired: not delivered before the end of the learner's day" in listing
    show = runner.invoke(args=["outbox", "--show", str(expired)]).output
    assert "Status: failed (2025-03-03 09:00 UTC: expired: not delivered before" in show


@pytest.mark.parametrize("role", ["learner", "manager"])
def test_non_admins_get_403(app, make_user, auth, client, role):
    make_user(role=role)
    outbox_id = queue(app)
    auth.login()
    assert client.get("/admin/outbox").status_code == 403
    assert client.get(f"/admin/outbox/{outbox_id}").status_code == 403
    assert 'href="/admin/outbox"' not in client.get("/").get_data(as_text=True)


def test_signed_out_visitor_is_sent_to_login(app, client):
    outbox_id = queue(app)
    for url in ("/admin/outbox", f"/admin/outbox/{outbox_id}"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


def test_message_content_is_escaped(app, make_user, auth, client):
    make_user("admin@example.com", role="admin")
    outbox_id = queue(
        app,
        subject="<b>Hi</b>",
        text="Hello <script>alert(1)</script>",
        html='<img src=x onerror="alert(2)"><script>alert(3)</script>',
    )
    auth.login("admin@example.com")
    for url in ("/admin/outbox", f"/admin/outbox/{outbox_id}"):
        page = client.get(url).get_data(as_text=True)
        assert "<script>" not in page
        assert "<b>Hi</b>" not in page
        assert "&lt;b&gt;Hi&lt;/b&gt;" in page
    page = client.get(f"/admin/outbox/{outbox_id}").get_data(as_text=True)
    assert "Hello &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img" not in page


def test_outbox_pages_fifty_at_a_time_newest_first(app, make_user, auth, client):
    make_user("admin@example.com", role="admin")
    with app.app_context():
        for n in range(51):
            queue_message(db.session, to="sam@example.com", subject=f"Message {n:02d}", text="x")
        db.session.commit()
        newest, oldest = db.session.scalars(
            select(OutboxMessage.id).order_by(OutboxMessage.id.desc())
        ).all()[::50]
    auth.login("admin@example.com")

    first = client.get("/admin/outbox").get_data(as_text=True)
    second = client.get("/admin/outbox?page=2").get_data(as_text=True)

    assert first.count('href="/admin/outbox/') == 50
    assert first.index("Message 50") < first.index("Message 49")
    assert "Message 00" not in first and "page 1 of 2" in first
    assert second.count('href="/admin/outbox/') == 1 and "Message 00" in second
    assert f'href="/admin/outbox/{oldest}"' in second
    assert f'href="/admin/outbox/{newest}"' in first


def test_a_password_link_is_not_kept_once_sent(app, smtp):
    use_server(app, smtp)
    link = "http://127.0.0.1:5000/welcome/AbC-123_xyz"
    outbox_id = queue(
        app,
        subject="Set your Frontline Trainer password",
        text=f"Set your password: {link}",
        html=f'<p><a href="{link}">Set your password</a></p>',
        kind="invitation",
    )
    assert deliver(app).sent == 1
    (received,) = smtp.handler.messages()
    assert link in received.get_body(("plain",)).get_content()
    kept = row(app, outbox_id)
    assert "AbC-123_xyz" not in kept.text
    assert "AbC-123_xyz" not in kept.html
    assert "link removed once sent" in kept.text


def test_an_overlong_subject_is_shortened_not_lost(app):
    outbox_id = queue(app, subject="Your team's week: " + "Riverside Bank branch, " * 30)
    subject = row(app, outbox_id).subject
    assert len(subject) == 300
    assert subject.endswith("…")


def test_a_reminder_carries_its_stop_link_as_list_unsubscribe(app):
    link = "http://127.0.0.1:5000/reminders/MQ.abc-DEF_1"
    outbox_id = queue(app, text=f"Snooze or stop these reminders: {link}", kind="reminder")
    with app.app_context():
        email = build_email(db.session.get(OutboxMessage, outbox_id), app.config)
    assert email["List-Unsubscribe"] == f"<{link}>"
