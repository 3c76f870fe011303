"""Messages on the learner's own channel: Web Push and text messages (Apprise) against real
endpoints started here, exactly once across channels, the fallback when a channel refuses a
message for good, and the Account page's "Reminders" section."""

from __future__ import annotations

import logging
import re
import threading
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from tests.channel_support import SUBJECT, use_push, use_sms
from tests.conftest import sync_starter_library
from tests.test_mail import SMTPServer, use_server
from tests.test_notify import GREETING, answer_lesson, mails
from trainer.extensions import db
from trainer.messages import deliver_one, deliver_pending, push
from trainer.models import (
    Delivery,
    Notification,
    OutboxMessage,
    PushSubscription,
    User,
)
from trainer.notify import jobs
from trainer.people.services import create_user

PASSWORD = "correct horse"
PHONE = "+447911123456"
NOW = datetime(2026, 1, 14, 18, 5)  # a Wednesday; 18:05 in London, after the 18:00 reminder


@pytest.fixture
def smtp():
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def library(app):
    sync_starter_library(app)
    return app


def learner(app, name: str, *, due: bool = True, **fields) -> int:
    """A teller (email, phone or employee number as given) with questions due on NOW."""
    fields.setdefault("password", PASSWORD)
    with app.app_context():
        user = create_user(db.session, name=name, job_role="teller", **fields)
        db.session.commit()
        user_id = user.id
    if due:
        answer_lesson(app, user_id, GREETING, datetime(2026, 1, 4, 9))
    return user_id


def sign_in(client, handle: str) -> None:
    response = client.post("/login", data={"email": handle, "password": PASSWORD})
    assert response.status_code == 302, response.text


def subscribe(client, browser) -> object:
    return client.post("/account/push", json=browser.subscription())


def remind(app, now: datetime = NOW) -> int:
    with app.app_context():
        return jobs.send_reminders(db.session, now)


def deliver(app, now: datetime = NOW):
    with app.app_context():
        return deliver_pending(db.session, now)


def deliver_as_task(app, now: datetime = NOW):
    """What a worker's delivery task does (`deliver_batch`), here in the test's process."""
    from trainer.messages.delivery import deliver_batch

    with app.app_context():
        report = deliver_batch(db.session, now)
        db.session.commit()
        return report


def routes(app) -> list[list[tuple[str, str]]]:
    """Each message's route: (channel, what it did) in order."""
    from trainer.messages.delivery import delivery_status

    with app.app_context():
        messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [[(d.channel, delivery_status(m, d).word) for d in m.deliveries] for m in messages]


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


# -- Web Push, checked and decrypted by a push service -----------------------------------------


def test_a_push_reminder_is_signed_and_encrypted_for_the_browser(any_db_app, push_service):
    app = any_db_app
    sync_starter_library(app)
    key = use_push(app, push_service)
    learner(app, "Sam Teller", email="sam@example.com")
    browser = push_service.browser(key)
    client = app.test_client()
    sign_in(client, "sam@example.com")
    assert subscribe(client, browser).status_code == 201

    assert remind(app) == 1
    report = deliver(app)

    assert (report.sent, report.by_channel["push"]) == (1, 1)
    [pushed] = push_service.delivered()
    assert pushed.error is None
    assert pushed.browser is browser
    assert pushed.claims["sub"] == SUBJECT
    [reminder] = mails(app, "reminder")
    assert pushed.payload == {
        "title": reminder.subject,
        "body": reminder.short,
        "url": "http://127.0.0.1:5000/refresher",
        "tag": "reminder",
    }
    assert reminder.short.startswith("Hi Sam, your refresher for today is ready: ")
    assert pushed.headers["urgency"] == "normal"
    assert pushed.headers["topic"] == f"outbox-{reminder.id}"
    # Held by the push service until the end of the learner's day (midnight in London).
    assert int(pushed.headers["ttl"]) == 6 * 3600 - 5 * 60
    assert routes(app) == [[("push", "sent"), ("email", "not used")]]

    assert "Nothing due" in str(deliver(app, NOW + timedelta(hours=1)))
    assert remind(app, NOW + timedelta(hours=1)) == 0
    assert len(push_service.pushes) == 1


def test_push_keys_prints_keys_that_push_services_accept(library, push_service):
    result = library.test_cli_runner().invoke(args=["push", "keys"])
    assert result.exit_code == 0, result.output
    settings = dict(
        line.split("=", 1) for line in result.output.splitlines() if line.startswith("VAPID_")
    )
    assert set(settings) == {"VAPID_PUBLIC_KEY", "VAPID_PRIVATE_KEY", "VAPID_SUBJECT"}
    assert settings["VAPID_SUBJECT"] == "mailto:no-reply@frontline-trainer.local"
    assert "Keep the private key secret" in result.output
    library.config.update(settings, PUSH_SERVICE_HOSTS="127.0.0.1")
    learner(library, "Sam Teller", email="sam@example.com")
    client = library.test_client()
    sign_in(client, "sam@example.com")
    assert subscribe(client, push_service.browser(settings["VAPID_PUBLIC_KEY"])).status_code == 201

    remind(library)
    assert deliver(library).sent == 1
    [pushed] = push_service.pushes
    assert (pushed.status, pushed.error) == (201, None)


def test_vapid_settings_that_do_not_match_hold_pushes_back_and_say_why(library, push_service):
    key = use_push(library, push_service)
    learner(library, "Sam Teller", email="sam@example.com")
    client = library.test_client()
    sign_in(client, "sam@example.com")
    subscribe(client, push_service.browser(key))
    remind(library)
    library.config["VAPID_PUBLIC_KEY"] = push.new_keys()[0]  # a typo'd deployment

    report = deliver(library)

    assert (report.sent, report.deferred) == (0, 1)
    assert "VAPID_PUBLIC_KEY is not the public half of VAPID_PRIVATE_KEY" in str(report)
    assert push_service.pushes == []
    assert routes(library) == [[("push", "waiting"), ("email", "next")]]


# -- text messages through Apprise ------------------------------------------------------------


def test_a_text_message_reminder_names_the_number_and_says_the_reminder(any_db_app, sms_service):
    app = any_db_app
    sync_starter_library(app)
    use_sms(app, sms_service)
    learner(app, "Kai Server", phone="07911 123456", employee_number="1001")

    assert remind(app) == 1
    report = deliver(app)

    assert (report.sent, report.by_channel["sms"]) == (1, 1)
    [text] = sms_service.taken()
    [reminder] = mails(app, "reminder")
    assert text["to"] == PHONE  # where {phone} was in SMS_URL
    assert text["message"] == (
        f"Frontline Trainer: {reminder.short} http://127.0.0.1:5000/refresher"
    )
    assert reminder.short.startswith("Hi Kai, your refresher for today is ready: ")
    assert reminder.to == PHONE and reminder.channel == "sms"
    assert routes(app) == [[("sms", "sent")]]
    assert "1 by text message" in str(report)


@pytest.mark.parametrize("deliver", [deliver, deliver_as_task], ids=["job", "task"])
def test_a_text_refused_for_good_goes_by_email_and_one_failing_for_now_waits(
    library, sms_service, smtp, deliver
):
    use_sms(library, sms_service)
    use_server(library, smtp)
    learner(library, "Kai Server", phone=PHONE, email="kai@example.com")
    with library.app_context():
        db.session.get(User, 1).reminder_channel = "sms"
        db.session.commit()
    remind(library)

    sms_service.answers["/sms"] = 503  # the text service is down: wait, do not pass it on
    report = deliver(library)
    assert (report.sent, report.deferred, report.moved) == (0, 1, 0)
    assert smtp.handler.envelopes == []

    sms_service.answers["/sms"] = 400  # it refuses this number for good: email it instead
    report = deliver(library, NOW + timedelta(minutes=2))
    assert (report.sent, report.moved, report.by_channel["email"]) == (1, 1, 1)
    assert smtp.handler.recipients() == ["kai@example.com"]
    assert len(sms_service.posts) == 2 and sms_service.taken() == []
    [message] = mails(library, "reminder")
    assert message.to == "kai@example.com" and message.channel == "email"
    assert routes(library) == [[("sms", "refused"), ("email", "sent")]]
    with library.app_context():
        refused = db.session.scalar(select(Delivery.last_error).where(Delivery.channel == "sms"))
    assert refused.startswith("Failed to send JSON POST notification: Bad Request")
    assert refused.endswith("error=400.")


# -- falling back, waiting, exactly once --------------------------------------------------------


@pytest.mark.parametrize("deliver", [deliver, deliver_as_task], ids=["job", "task"])
def test_a_gone_browser_passes_the_reminder_to_text_message_once(
    any_db_app, push_service, sms_service, deliver
):
    app = any_db_app
    sync_starter_library(app)
    key = use_push(app, push_service)
    use_sms(app, sms_service)
    learner(app, "Kai Server", phone=PHONE, employee_number="1001")
    browser = push_service.browser(key)
    client = app.test_client()
    sign_in(client, PHONE)
    assert subscribe(client, browser).status_code == 201
    push_service.answers[browser.endpoint.removeprefix(push_service.base)] = 410

    remind(app)
    report = deliver(app)

    assert (report.sent, report.moved, report.by_channel["sms"]) == (1, 1, 1)
    assert [p.status for p in push_service.pushes] == [410]  # signed and readable, but gone
    assert push_service.pushes[0].error is None
    assert [t["to"] for t in sms_service.taken()] == [PHONE]
    assert count(app, PushSubscription) == 0
    assert routes(app) == [[("push", "refused"), ("sms", "sent")]]
    with app.app_context():
        push_try = db.session.scalar(select(Delivery).where(Delivery.channel == "push"))
        assert push_try.last_error == "Unknown browser: 410 Gone"

    assert "Nothing due" in str(deliver(app, NOW + timedelta(hours=2)))
    # The next day's reminder goes straight by text: no browser is left.
    remind(app, NOW + timedelta(days=1))
    deliver(app, NOW + timedelta(days=1))
    assert len(push_service.pushes) == 1
    assert len(sms_service.taken()) == 2
    assert routes(app)[1] == [("sms", "sent")]


def test_a_push_service_that_is_down_delays_the_push_and_passes_nothing_on(
    library, push_service, sms_service
):
    key = use_push(library, push_service)
    use_sms(library, sms_service)
    learner(library, "Kai Server", phone=PHONE)
    browser = push_service.browser(key)
    client = library.test_client()
    sign_in(client, PHONE)
    subscribe(client, browser)
    path = browser.endpoint.removeprefix(push_service.base)
    push_service.answers[path] = 503
    remind(library)

    assert deliver(library).deferred == 1
    assert "Nothing due" in str(deliver(library, NOW + timedelta(seconds=30)))  # backing off
    push_service.answers[path] = 201
    assert deliver(library, NOW + timedelta(minutes=1)).sent == 1

    assert [p.status for p in push_service.pushes] == [503, 201]
    assert sms_service.posts == []
    assert routes(library) == [[("push", "sent"), ("sms", "not used")]]


def test_two_deliveries_at_once_send_each_message_once(
    any_db_app, push_service, sms_service, caplog
):
    app = any_db_app
    sync_starter_library(app)
    key = use_push(app, push_service)
    use_sms(app, sms_service)
    client = app.test_client()
    for n in range(4):
        learner(app, f"Pat Pusher{n}", email=f"pat{n}@example.com")
        sign_in(client, f"pat{n}@example.com")
        assert subscribe(client, push_service.browser(key)).status_code == 201
        client.post("/logout")
    for n in range(4):
        learner(app, f"Tex Texter{n}", phone=f"+4479111234{n:02d}")
    assert remind(app) == 8
    barrier = threading.Barrier(2)
    reports, errors = [], []

    def worker():
        try:
            with app.app_context():
                db.session.execute(select(1))  # connect before the start line
                barrier.wait(timeout=30)
                reports.append(deliver_pending(db.session, NOW))
                db.session.remove()
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    with caplog.at_level(logging.ERROR):
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    assert not errors
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert sum(r.sent for r in reports) == 8
    assert sum(r.sent + r.skipped for r in reports) <= 16
    pushed = [p.browser.endpoint for p in push_service.delivered()]
    assert len(pushed) == len(set(pushed)) == 4
    texted = [t["to"] for t in sms_service.taken()]
    assert len(texted) == len(set(texted)) == 4
    with app.app_context():
        attempts = db.session.scalars(select(OutboxMessage.attempts)).all()
    assert attempts == [1] * 8


def test_deliver_one_is_what_a_worker_calls_for_one_message(library, sms_service):
    use_sms(library, sms_service)
    learner(library, "Kai Server", phone=PHONE)
    remind(library)
    [message] = mails(library, "reminder")
    with library.app_context():
        assert deliver_one(db.session, message.id, NOW).word == "sent"
        assert deliver_one(db.session, message.id, NOW).word == "skipped"
    assert len(sms_service.taken()) == 1


# -- who is reachable -------------------------------------------------------------------------


def test_nobody_is_told_when_no_channel_reaches_them(library, sms_service):
    tablet_only = learner(library, "Ana Floor", employee_number="1001")
    texter = learner(library, "Kai Server", phone=PHONE)  # text messages are not set up

    assert remind(library) == 0
    assert count(library, OutboxMessage) == 0
    assert count(library, Notification) == 0

    use_sms(library, sms_service)
    assert remind(library) == 1
    with library.app_context():
        told = db.session.scalars(select(Notification.user_id)).all()
    assert told == [texter] and tablet_only not in told
    deliver(library)
    assert [t["to"] for t in sms_service.taken()] == [PHONE]


def test_sms_url_outbox_keeps_texts_to_be_read(library, sms_service):
    library.config["SMS_URL"] = "outbox"
    learner(library, "Kai Server", phone=PHONE, employee_number="1001")
    assert remind(library) == 1
    report = deliver(library)
    assert (report.sent, report.kept) == (0, 1)
    [message] = mails(library, "reminder")
    assert message.channel == "sms" and message.to == PHONE and message.sent_at is None

    result = library.test_cli_runner().invoke(args=["outbox"])
    assert "SMS_URL=outbox: text messages are kept here to be read." in result.output
    assert "kept" in result.output and PHONE in result.output


# -- the Account page ---------------------------------------------------------------------------


def test_reminders_section_offers_the_channels_that_reach_the_person(library, sms_service):
    learner(library, "Kai Server", phone=PHONE, email="kai@example.com", due=False)
    client = library.test_client()
    sign_in(client, "kai@example.com")

    page = client.get("/account").text
    assert '<h2 id="reminders">Reminders</h2>' in page
    assert "Email to kai@example.com" in page
    assert "Text message" not in page  # SMS_URL is not set: not offered
    assert "Notifications" not in page and "/static/push." not in page  # no VAPID keys

    use_sms(library, sms_service)
    page = client.get("/account").text
    checked = re.findall(
        r'<input checked id="channel-\d" name="channel" type="radio" value="(\w+)">', page
    )
    assert checked == ["sms"]  # the first they can receive of push, SMS, email
    assert f"Text message to {PHONE}" in page


def test_reminder_settings_are_saved_and_the_jobs_keep_to_them(library, sms_service):
    use_sms(library, sms_service)
    learner(library, "Kai Server", phone=PHONE, email="kai@example.com")
    client = library.test_client()
    sign_in(client, "kai@example.com")
    response = client.post(
        "/account/reminders",
        data={
            "on": "y",
            "channel": "email",
            "reminder_time": "19:30",
            "timezone": "Europe/London",
            "days_off": ["3", "6", "7"],  # Wednesday, and the weekend
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/account#reminders")
    page = client.get("/account").text
    assert "Your reminder settings are saved." in page
    assert 'value="19:30"' in page
    for day in ("3", "6", "7"):
        assert f'name="days_off" value="{day}" checked' in page
    assert 'name="days_off" value="4" checked' not in page

    assert remind(library, NOW) == 0  # Wednesday is a day off
    thursday = NOW + timedelta(days=1)
    assert remind(library, thursday) == 0  # 18:05 is before 19:30
    assert remind(library, thursday.replace(hour=19, minute=31)) == 1
    [message] = mails(library, "reminder")
    assert message.channel == "email" and message.to == "kai@example.com"
    assert routes(library) == [[("email", "waiting"), ("sms", "next")]]

    client.post("/account/reminders", data={"channel": "sms", "reminder_time": "19:30",
                                             "timezone": "Europe/London"})  # fmt: skip
    with library.app_context():
        assert db.session.get(User, 1).reminders_off is True  # the box left unticked
    assert remind(library, thursday + timedelta(days=1, hours=2)) == 0


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"channel": "sms"}, "That way of reaching you is not available."),
        ({"channel": ""}, "Choose how to get your reminders."),
        ({"reminder_time": "25:00"}, "Not a valid time value."),
        ({"timezone": "Mars/Olympus_Mons"}, "Choose a time zone from the list."),
        ({"days_off": [str(d) for d in range(1, 8)]}, "Leave at least one day for reminders"),
        ({"days_off": ["9"]}, "Choose days from the list."),
    ],
)
def test_reminder_settings_that_cannot_be_used_say_why_and_save_nothing(library, data, error):
    learner(library, "Sam Teller", email="sam@example.com", due=False)
    client = library.test_client()
    sign_in(client, "sam@example.com")
    form = {"on": "y", "channel": "email", "reminder_time": "07:45", "timezone": "Asia/Tokyo"}
    response = client.post("/account/reminders", data={**form, **data})
    assert response.status_code == 400
    assert error in response.text
    assert 'class="field-error"' in response.text
    with library.app_context():
        user = db.session.get(User, 1)
        assert (user.reminder_time, user.timezone, user.reminder_days_off) == (
            time(18, 0),
            "Europe/London",
            "",
        )


def test_someone_no_channel_reaches_is_told_why_on_the_account_page(library):
    learner(library, "Ana Floor", employee_number="1001", due=False)
    client = library.test_client()
    sign_in(client, "1001")
    page = client.get("/account").text
    assert "We have no way to send you reminders yet" in page
    assert 'name="channel"' not in page
    response = client.post(
        "/account/reminders",
        data={"on": "y", "reminder_time": "08:00", "timezone": "Europe/Paris", "days_off": "7"},
    )
    assert response.status_code == 303
    with library.app_context():
        user = db.session.get(User, 1)
        assert (user.timezone, user.reminder_days_off, user.reminder_channel) == (
            "Europe/Paris",
            "7",
            None,
        )


# -- a browser turning notifications on -------------------------------------------------------


def test_a_browser_turns_notifications_on_and_off_from_the_account_page(library, push_service):
    key = use_push(library, push_service)
    learner(library, "Sam Teller", email="sam@example.com", due=False)
    learner(library, "Ann Other", email="ann@example.com", due=False)
    browser = push_service.browser(key)
    client = library.test_client()
    sign_in(client, "sam@example.com")

    page = client.get("/account").text
    assert 'id="push"' in page and f'data-key="{key}"' in page and "/static/push." in page
    response = client.post(
        "/account/push",
        json=browser.subscription(),
        headers={"User-Agent": "Mozilla/5.0 (Linux; Android 14) Chrome/126.0 Mobile"},
    )
    assert response.status_code == 201
    assert response.json == {"device": "Chrome on Android"}
    assert subscribe(client, browser).status_code == 201  # again: still one browser
    page = client.get("/account").text
    assert "Notifications are on in" in page
    assert "<strong>Chrome on Android</strong>" not in page  # the second time, no agent given
    assert "Notification in the browsers where you turned them on" in page

    other = library.test_client()  # the same browser, now used by someone else
    sign_in(other, "ann@example.com")
    assert subscribe(other, browser).status_code == 201
    with library.app_context():
        rows = db.session.execute(select(PushSubscription.user_id)).scalars().all()
    assert rows == [2]

    assert client.post("/account/push/1/stop").status_code == 303  # not Sam's any more
    assert count(library, PushSubscription) == 1
    response = other.post("/account/push/1/stop", follow_redirects=True)
    assert "No more notifications in Unknown browser." in response.text
    assert count(library, PushSubscription) == 0


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda s: {**s, "endpoint": "https://evil.example/collect"},
         "This server does not send to the push service at evil.example."),
        (lambda s: {**s, "endpoint": "http://fcm.googleapis.com/fcm/send/x"},
         "A push address must use HTTPS."),
        (lambda s: {**s, "endpoint": "https://fcm.googleapis.com/" + "x" * 1000},
         "That push address is too long."),
        (lambda s: {**s, "keys": {"p256dh": "bm90IGEga2V5", "auth": s["keys"]["auth"]}},
         "The browser's keys are not valid."),
        (lambda s: {**s, "keys": {**s["keys"], "auth": "c2hvcnQ"}},
         "The browser's keys are not valid."),
        (lambda s: {"endpoint": s["endpoint"]}, "That is not a push subscription."),
        (lambda s: ["not", "an", "object"], "That is not a push subscription."),
    ],
)  # fmt: skip
def test_a_subscription_that_cannot_be_used_is_refused_with_a_reason(
    library, push_service, change, error
):
    key = use_push(library, push_service)
    library.config["PUSH_SERVICE_HOSTS"] = "fcm.googleapis.com,127.0.0.1"
    learner(library, "Sam Teller", email="sam@example.com", due=False)
    client = library.test_client()
    sign_in(client, "sam@example.com")
    response = client.post("/account/push", json=change(push_service.browser(key).subscription()))
    assert response.status_code == 400
    assert response.json == {"error": error}
    assert count(library, PushSubscription) == 0


def test_turning_notifications_on_needs_push_set_up_a_session_and_the_csrf_token(
    library, push_service
):
    learner(library, "Sam Teller", email="sam@example.com", due=False)
    client = library.test_client()
    subscription = push_service.browser("key").subscription()
    assert client.post("/account/push", json=subscription).status_code == 302  # to sign in
    sign_in(client, "sam@example.com")
    assert client.post("/account/push", json=subscription).status_code == 404  # push is off

    key = use_push(library, push_service)
    subscription = push_service.browser(key).subscription()
    library.config["WTF_CSRF_ENABLED"] = True
    assert client.post("/account/push", json=subscription).status_code == 400
    page = client.get("/account").text
    token = re.search(r'data-csrf="([^"]+)"', page).group(1)
    response = client.post("/account/push", json=subscription, headers={"X-CSRFToken": token})
    assert response.status_code == 201


# -- the admin's outbox ---------------------------------------------------------------------


def test_the_outbox_shows_what_each_channel_did(library, push_service, sms_service):
    key = use_push(library, push_service)
    use_sms(library, sms_service)
    learner(library, "Kai Server", phone=PHONE, employee_number="1001")
    learner(library, "Ada Admin", email="ada@example.com", role="admin", due=False)
    browser = push_service.browser(key)
    client = library.test_client()
    sign_in(client, PHONE)
    subscribe(client, browser)
    push_service.answers[browser.endpoint.removeprefix(push_service.base)] = 410
    remind(library)
    deliver(library)

    admin = library.test_client()
    sign_in(admin, "ada@example.com")
    page = admin.get("/admin/outbox").text
    assert "Push notifications go out through web push." in page
    assert "Text messages go out through json://." in page
    assert f"to {PHONE} by text message" in page
    assert '<strong class="status-sent">sent</strong>' in page
    page = admin.get("/admin/outbox/1").text
    refused = r'Push notification</strong> to Unknown browser:\s*<strong class="status-refused">'
    assert re.search(refused, page)
    assert "410 Gone" in page
    sent = rf'Text message</strong> to {re.escape(PHONE)}:\s*<strong class="status-sent">'
    assert re.search(sent, page)
    assert "Frontline Trainer: Hi Kai" in page  # the text as the phone shows it

    show = library.test_cli_runner().invoke(args=["outbox", "--show", "1"]).output
    assert "By push notification to Unknown browser: refused (" in show
    assert f"By text message to {PHONE}: sent (" in show


# -- the installed app's files ----------------------------------------------------------------


def fetch(client, path: str):
    """A GET whose file is read and closed (static files are streamed)."""
    with client.get(path) as response:
        response.get_data()
        return response


def test_the_service_worker_and_manifest_are_served_for_the_whole_site(client):
    worker = fetch(client, "/service-worker.js")
    assert worker.status_code == 200
    assert worker.mimetype in ("text/javascript", "application/javascript")
    assert worker.headers["Cache-Control"] == "no-cache"
    assert "showNotification" in worker.text
    assert "caches." not in worker.text and "cache.put" not in worker.text  # keeps no pages

    manifest = fetch(client, "/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    data = manifest.json
    assert (data["start_url"], data["scope"], data["display"]) == ("/", "/", "standalone")
    for icon in data["icons"]:
        served = fetch(client, icon["src"])
        assert served.status_code == 200
        assert served.mimetype == icon["type"]
        if icon["type"] == "image/png":
            width = int.from_bytes(served.data[16:20], "big")
            height = int.from_bytes(served.data[20:24], "big")
            assert f"{width}x{height}" == icon["sizes"]
    page = client.get("/login").text
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page


def test_the_icons_are_the_ones_the_script_draws():
    from PIL import Image, ImageChops

    from tools import make_icons

    for name, drawn in make_icons.icons().items():
        with Image.open(make_icons.ICONS / name) as shipped:
            assert shipped.size == drawn.size
            assert ImageChops.difference(shipped.convert("RGBA"), drawn).getbbox() is None, name
    assert (make_icons.ICONS / "icon.svg").read_text() == make_icons.svg()
