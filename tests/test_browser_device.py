"""The team tablet and sign-in cards in a real headless Chromium, JavaScript off, CSRF on: a
tablet enrolled by opening its link, employee number and PIN on one screen, "Done — sign out" at
the end of a refresher or lesson, idling out, keyboard only; a sheet of cards printed on A4."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from tests.browser_support import LESSON, PHONE
from tests.test_browser import UNLABELLED_CONTROLS
from tests.test_review import take_quiz
from trainer.auth import device as devices
from trainer.extensions import db
from trainer.learn import services as learn
from trainer.models import Lesson, Team, UserSession, utcnow
from trainer.people.services import create_user, get_or_create_team

pytestmark = pytest.mark.browser

TABLET = {"width": 800, "height": 1280}
PASSWORD = "correct horse"
MANAGER = "pat.pot@example.com"
TEAM = "The Copper Pot (tablet tests)"


@pytest.fixture(scope="module")
def pot(live_server):
    """A team managed by Pat: Jo (1001) has lessons behind her and a refresher due; Lee (1002)
    is in the middle of a lesson, its questions answered, its role-play to do. Nine new people
    have never signed in, for a sheet of cards."""
    app = live_server.app
    app.config["PUBLIC_URL"] = live_server.url  # links on cards and tablets point here
    with app.app_context():
        s = db.session
        team = get_or_create_team(s, TEAM)
        pat = create_user(s, email=MANAGER, name="Pat Manager", password=PASSWORD, role="manager")
        pat.managed_teams.append(team)
        jo = create_user(s, name="Jo Server", employee_number="T1001", pin="246810", team=TEAM,
                         job_role="teller")  # fmt: skip
        lee = create_user(s, name="Lee Host", employee_number="T1002", pin="135792", team=TEAM,
                          job_role="teller")  # fmt: skip
        for n in range(9):
            create_user(s, name=f"New Person {n + 1}", employee_number=f"N{n + 1:03}", team=TEAM)
        s.commit()
        take_quiz(jo, when=utcnow() - timedelta(days=12))
        lesson = s.scalar(sa.select(Lesson).where(Lesson.key == LESSON))
        for item in lesson.quiz.live_items:
            learn.record_answer(s, lee, lesson, item, [0], uuid.uuid4().hex, 9.0)
        return SimpleNamespace(team=team.id, jo=jo.id, lee=lee.id)


def fits(page: Page, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} is {scroll}px wide"


def log_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def all_labelled(page: Page) -> None:
    assert page.evaluate(UNLABELLED_CONTROLS) == []


def tablet_browser(browser, live_server, viewport):
    context = browser.new_context(
        viewport=viewport, java_script_enabled=False, base_url=live_server.url
    )
    context.set_default_timeout(5000)
    return context, context.new_page()


def enrol_by_manager(page: Page, width: int) -> None:
    """Pat signs in on the tablet, makes an enrolment link and opens it right there."""
    log_in(page, MANAGER)
    page.goto("/manage/devices")
    expect(page.get_by_role("heading", level=1, name="Team tablets")).to_be_visible()
    all_labelled(page)
    fits(page, width)
    page.get_by_label("Name of the device").fill("Counter tablet")
    page.get_by_role("button", name="Make an enrolment link").click()
    expect(page.get_by_role("heading", name="Open this link on the tablet")).to_be_visible()
    qr = page.get_by_role("img", name="QR code of the enrolment link for Counter tablet")
    expect(qr).to_be_visible()
    fits(page, width)
    page.locator(".typed-link a").click()


def enrol_by_link(page: Page, live_server) -> None:
    """A link made on the command line, typed into the tablet's browser."""
    with live_server.app.app_context():
        team = db.session.scalar(sa.select(Team).where(Team.name == TEAM))
        _device, code = devices.add_device(db.session, team, "Phone-size tablet", None)
        link = devices.enrolment_link(code)
    page.goto(link)


def confirm_enrolment(page: Page, width: int) -> None:
    expect(page.get_by_role("heading", name="Make this browser the team tablet?")).to_be_visible()
    fits(page, width)
    page.get_by_role("button", name="Use this browser as the team tablet").click()
    expect(page).to_have_url(re.compile(r"/device$"))
    expect(page.get_by_role("status")).to_contain_text(f"This browser is now {TEAM}’s tablet")


def sign_in_with_pin(page: Page, number: str, pin: str, width: int) -> None:
    expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()
    all_labelled(page)
    fits(page, width)
    page.get_by_label("Employee number", exact=True).fill(number)
    page.get_by_label("PIN", exact=True).fill(pin)
    page.get_by_role("button", name="Sign in").click()


def finish_refresher(page: Page) -> None:
    page.get_by_role("link", name="Start refresher").click()
    while True:
        question = page.get_by_role("heading", level=1, name=re.compile(r"Question \d+"))
        expect(question).to_be_visible()
        page.locator("label.choice").first.click()
        page.get_by_role("button", name="Check my answer").click()
        last = page.get_by_role("link", name="See how you did")
        if last.count():
            last.click()
            break
        page.get_by_role("link", name="Next question").click()
    expect(page.get_by_role("heading", name="Refresher done")).to_be_visible()


def finish_lesson(page: Page) -> None:
    # The lesson's conversation, saying the first line offered each time, to an ending.
    page.goto(f"/lessons/{LESSON}/conversation")
    while not page.get_by_role("heading", level=2, name=re.compile("ending$")).is_visible():
        page.locator("button.say-line").first.click()
        expect(page.locator(".said .line-verdict")).to_be_visible()
    page.goto(f"/lessons/{LESSON}/roleplay/1")
    while page.get_by_role("heading", level=1, name="Role-play").count():
        page.get_by_label("What would you say?").fill("Good morning! I'll be right with you.")
        page.get_by_role("button", name="Show me the model answer").click()
        page.locator("label.choice").first.click()
        page.get_by_role("button", name="Save and continue").click()
        page.locator("nav.step-nav a.primary").click()  # past what the learner covered
    expect(page.get_by_role("heading", name="Lesson complete")).to_be_visible()


def nothing_of(page: Page, name: str, number: str) -> None:
    body = page.locator("body").inner_text()
    assert name not in body and name.split()[0] + "," not in body and number not in body
    expect(page.get_by_label("Employee number", exact=True)).to_have_value("")
    expect(page.get_by_label("PIN", exact=True)).to_have_value("")


@pytest.mark.parametrize(
    ("viewport", "who", "finish"),
    [
        (TABLET, ("Jo Server", "T1001", "246810"), "refresher"),
        (PHONE, ("Lee Host", "T1002", "135792"), "lesson"),
    ],
    ids=["tablet-refresher", "360px-lesson"],
)
def test_enrol_sign_in_with_pin_finish_and_done_sign_out(
    browser, live_server, pot, viewport, who, finish
):
    width = viewport["width"]
    name, number, pin = who
    context, page = tablet_browser(browser, live_server, viewport)
    try:
        if finish == "refresher":
            enrol_by_manager(page, width)
        else:
            enrol_by_link(page, live_server)
        confirm_enrolment(page, width)
        expect(page.get_by_text(f"{TEAM} · ", exact=False)).to_be_visible()

        sign_in_with_pin(page, number, "999999", width)  # a wrong PIN first
        expect(page.get_by_role("alert")).to_have_text(
            "That employee number and PIN do not match. Check both and try again."
        )
        expect(page.get_by_label("PIN", exact=True)).to_have_value("")
        sign_in_with_pin(page, number, pin, width)
        hello = page.get_by_role("heading", level=1, name=f"Hello, {name.split()[0]}")
        expect(hello).to_be_visible()
        fits(page, width)

        finish_refresher(page) if finish == "refresher" else finish_lesson(page)
        fits(page, width)
        done = page.get_by_role("button", name="Done — sign out")
        expect(done).to_have_class(re.compile(r"\bprimary\b"))
        done.click()

        expect(page).to_have_url(re.compile(r"/device$"))
        expect(page.get_by_role("status")).to_have_text("You are signed out.")
        nothing_of(page, name, number)
        fits(page, width)
        page.go_back()  # the page before is not kept: it asks the server, which says no
        expect(page).to_have_url(re.compile(r"/device$"))
        nothing_of(page, name, number)
    finally:
        context.close()


def test_the_tablet_signs_out_after_device_idle_minutes(browser, live_server, pot):
    context, page = tablet_browser(browser, live_server, TABLET)
    try:
        enrol_by_link(page, live_server)
        confirm_enrolment(page, TABLET["width"])
        sign_in_with_pin(page, "T1001", "246810", TABLET["width"])
        expect(page.get_by_role("heading", level=1, name="Hello, Jo")).to_be_visible()

        idle = live_server.app.config["DEVICE_IDLE_MINUTES"]
        with live_server.app.app_context():
            for row in db.session.scalars(
                sa.select(UserSession).where(
                    UserSession.user_id == pot.jo, UserSession.ended_at.is_(None)
                )
            ):
                row.last_seen_at -= timedelta(minutes=idle, seconds=1)
            db.session.commit()
        page.get_by_role("link", name="Lessons").click()

        expect(page).to_have_url(re.compile(r"/device$"))
        expect(page.get_by_role("status")).to_have_text("Please sign in to continue.")
        nothing_of(page, "Jo Server", "T1001")
    finally:
        context.close()


def test_pin_sign_in_by_keyboard_alone(browser, live_server, pot):
    context, page = tablet_browser(browser, live_server, PHONE)
    try:
        enrol_by_link(page, live_server)
        confirm_enrolment(page, PHONE["width"])
        page.keyboard.press("Tab")  # skip link
        page.keyboard.press("Tab")  # brand
        page.keyboard.press("Tab")
        expect(page.get_by_label("Employee number", exact=True)).to_be_focused()
        page.keyboard.type("T1002")
        page.keyboard.press("Tab")
        expect(page.get_by_label("PIN", exact=True)).to_be_focused()
        page.keyboard.type("135792")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1, name="Hello, Lee")).to_be_visible()
        page.get_by_role("button", name="Sign out").focus()
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"/device$"))
    finally:
        context.close()


def test_a_sheet_of_cards_prints_six_to_an_a4_page_and_nothing_else(page: Page, live_server, pot):
    log_in(page, MANAGER)
    page.goto("/manage/cards")
    expect(page.get_by_role("heading", level=1, name="Sign-in cards")).to_be_visible()
    all_labelled(page)
    fits(page, PHONE["width"])
    boxes = page.get_by_role("checkbox")
    expect(boxes).to_have_count(9)
    page.get_by_role("button", name="Print cards").click()

    expect(page.get_by_role("heading", name=f"Sign-in cards for {TEAM}")).to_be_visible()
    cards = page.locator("article.signin-card")
    expect(cards).to_have_count(9)
    expect(cards.first.get_by_role("img", name=re.compile("QR code of New Person"))).to_be_visible()
    fits(page, PHONE["width"])

    page.emulate_media(media="print")
    for hidden in ("header.site", ".manage-nav", ".no-print"):
        expect(page.locator(hidden).first).to_be_hidden()
    sheets = page.locator(".card-page")
    expect(sheets).to_have_count(2)
    expect(sheets.nth(0).locator("article.signin-card")).to_have_count(6)
    expect(sheets.nth(1).locator("article.signin-card")).to_have_count(3)
    first = sheets.nth(0).bounding_box()
    for n in range(6):
        card = sheets.nth(0).locator("article.signin-card").nth(n)
        box = card.bounding_box()
        assert first["y"] <= box["y"] and box["y"] + box["height"] <= first["y"] + first["height"]
        assert box["width"] > 300 and box["height"] > 300  # about 95 x 92 mm each
        # Nothing of the card is cut off: its link, last, ends inside it.
        link = card.locator(".card-link").bounding_box()
        assert link["y"] + link["height"] <= box["y"] + box["height"]
    pdf = page.pdf(prefer_css_page_size=True)
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 2

    # A card, opened on the person's phone, lets them choose a password and go to Today.
    link = cards.first.locator(".card-link").inner_text()
    phone = page.context.browser.new_context(
        viewport=PHONE, java_script_enabled=False, base_url=live_server.url
    )
    try:
        mine = phone.new_page()
        mine.goto(f"http://{link}")
        expect(mine.get_by_role("heading", name="Welcome, New")).to_be_visible()
        all_labelled(mine)
        fits(mine, PHONE["width"])
        mine.get_by_label("Password", exact=True).fill("soup of the day")
        mine.get_by_label("Password again", exact=True).fill("soup of the day")
        mine.get_by_role("button", name="Save and sign in").click()
        expect(mine.get_by_role("heading", level=1, name="Hello, New")).to_be_visible()
        mine.goto(f"http://{link}")
        used = mine.get_by_role("heading", name="This card was already used or has expired")
        expect(used).to_be_visible()
    finally:
        phone.close()
