"""The Account page's "Reminders" section and the installed app's service worker, in a real
headless Chromium on a phone-sized screen."""

from __future__ import annotations

import json
import time as time_module
from datetime import time

import pytest
from playwright.sync_api import Page, expect

from tests.test_browser import UNLABELLED_CONTROLS, assert_fits, log_in
from trainer.messages import push
from trainer.models import OutboxMessage
from trainer.notify.mails import reminder_mail

pytestmark = pytest.mark.browser

NOTIFICATIONS = """async () => {
  const registration = await navigator.serviceWorker.ready;
  const shown = await registration.getNotifications();
  return shown.map(n => ({title: n.title, body: n.body, tag: n.tag, url: n.data.url}));
}"""


def wait_for_notifications(page: Page, limit: float = 10, fail: bool = True) -> list[dict]:
    """The notifications the service worker shows, once it shows any (it handles a push
    in its own time); fails (or, with `fail` off, gives none) rather than hangs."""
    deadline = time_module.monotonic() + limit
    while not (shown := page.evaluate(NOTIFICATIONS)):
        if time_module.monotonic() >= deadline:
            assert not fail, "no notification was shown"
            return []
        page.wait_for_timeout(50)
    return shown


@pytest.fixture
def push_offered(live_server):
    """VAPID keys set for this test: the page offers notifications (no push service is
    contacted: a headless browser cannot subscribe with one)."""
    public, private = push.new_keys()
    settings = {
        "VAPID_PUBLIC_KEY": public,
        "VAPID_PRIVATE_KEY": private,
        "VAPID_SUBJECT": "mailto:ops@trainer.example",
    }
    live_server.app.config.update(settings)
    yield public
    live_server.app.config.update(dict.fromkeys(settings, ""))


def test_reminder_settings_on_a_phone_without_javascript(page: Page, live_server):
    email = live_server.learner()
    log_in(page, email)
    page.get_by_role("link", name="Account", exact=True).click()

    expect(page.get_by_role("heading", name="Reminders")).to_be_visible()
    expect(page.get_by_label("Remind me on days my refresher is waiting")).to_be_checked()
    expect(page.get_by_role("radio", name=f"Email to {email}")).to_be_checked()
    expect(page.get_by_role("group", name="How to reach you")).to_be_visible()
    expect(page.get_by_role("heading", name="Notifications")).to_have_count(0)  # push is off
    assert page.evaluate(UNLABELLED_CONTROLS) == []
    assert_fits(page)

    page.get_by_label("Time of day").fill("07:30")
    page.get_by_label("Time zone").select_option("Asia/Tokyo")
    days_off = page.get_by_role("group", name="Days off")
    days_off.get_by_label("Saturday").focus()
    page.keyboard.press("Space")
    days_off.get_by_label("Sunday").click()
    page.get_by_role("button", name="Save reminder settings").click()

    expect(page.get_by_role("status")).to_have_text("Your reminder settings are saved.")
    expect(page.get_by_label("Time of day")).to_have_value("07:30")
    expect(page.get_by_label("Time zone")).to_have_value("Asia/Tokyo")
    for day, ticked in (("Friday", False), ("Saturday", True), ("Sunday", True)):
        box = page.get_by_role("group", name="Days off").get_by_label(day)
        (expect(box).to_be_checked if ticked else expect(box).not_to_be_checked)()
    assert_fits(page)

    # Every day off is refused, with the reason beside the days, and nothing is lost.
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"):
        page.get_by_role("group", name="Days off").get_by_label(day).check()
    page.get_by_label("Time of day").fill("08:15")
    page.get_by_role("button", name="Save reminder settings").click()
    expect(page.locator(".field-error")).to_have_text(
        "Leave at least one day for reminders, or untick the reminders box."
    )
    expect(page.get_by_label("Time of day")).to_have_value("08:15")  # as typed, not lost
    assert_fits(page)


def test_turning_notifications_on_needs_javascript(page: Page, live_server, push_offered):
    log_in(page, live_server.learner())
    page.goto("/account")
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    expect(page.get_by_text("Turning notifications on needs JavaScript.")).to_be_visible()
    expect(page.get_by_role("button", name="Turn on notifications in this browser")).to_be_hidden()
    assert_fits(page)


def test_the_service_worker_shows_pushes_and_an_offline_notice(
    js_page: Page, live_server, push_offered
):
    page = js_page
    page.context.grant_permissions(["notifications"])
    email = live_server.learner()
    log_in(page, email)
    page.goto("/account")
    turn_on = page.get_by_role("button", name="Turn on notifications in this browser")
    expect(turn_on).to_be_visible()
    assert page.evaluate(UNLABELLED_CONTROLS) == []
    turn_on.click()
    # A headless browser has no push service to subscribe with: the page says so, plainly,
    # and everything else on it keeps working.
    status = page.locator("#push [role=status]")
    expect(status).to_contain_text("Notifications could not be turned on: ")
    expect(turn_on).to_be_enabled()
    assert_fits(page)

    # The service worker is installed; a push carrying the payload the server sends (which
    # the browser decrypts before handing it over; handed over here through the browser's
    # debugging protocol) becomes a notification.
    cdp = page.context.new_cdp_session(page)
    registrations = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(event["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    deadline = time_module.monotonic() + 10
    while not registrations:  # CDP events arrive while the page is waited on
        assert time_module.monotonic() < deadline, "no service worker registration reported"
        page.wait_for_timeout(50)
    mail = reminder_mail(
        first_name="Taylor",
        questions=6,
        minutes=3,
        started=False,
        streak=2,
        reminder_time=time(18, 0),
        refresher_url=f"{live_server.url}/refresher",
        settings_url=f"{live_server.url}/reminders/x",
    )
    message = OutboxMessage(subject=mail.subject, short=mail.short, url=mail.url, kind="reminder")
    push_message = {
        "origin": live_server.url,
        "registrationId": registrations[0]["registrationId"],
        "data": push.payload(message),
    }
    # A push handed over while the worker is still starting can be dropped by the browser (a
    # real push service would deliver it again): hand it over again until one shows. Its tag
    # makes a second copy replace the first, so exactly one notification is still expected.
    shown = []
    for _attempt in range(3):
        cdp.send("ServiceWorker.deliverPushMessage", push_message)
        shown = wait_for_notifications(page, limit=5, fail=False)
        if shown:
            break
    assert shown, "no notification was shown"
    assert shown == [
        {
            "title": "Your 3-minute refresher is ready",
            "body": "Hi Taylor, your refresher for today is ready: 6 questions, about 3 minutes. "
            "You're on a 2-day streak.",
            "tag": "reminder",
            "url": f"{live_server.url}/refresher",
        }
    ]
    assert json.loads(push.payload(message))["body"] == shown[0]["body"]

    # Offline, a page is not served from any copy: the notice says so, and nothing of the
    # account is shown to whoever holds the device.
    page.context.set_offline(True)
    page.goto("/account")
    expect(page.get_by_role("heading", name="You are offline")).to_be_visible()
    expect(page.get_by_text(email)).to_have_count(0)
    expect(page.get_by_role("heading", name="Your account")).to_have_count(0)
    assert_fits(page)
    page.context.set_offline(False)
    page.get_by_role("link", name="Try again").click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
