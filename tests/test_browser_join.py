"""Joining from a poster in a real headless Chromium on a 360 px phone, JavaScript off, CSRF on:
a new wait-staff hire is in their first lesson within three screens."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.test_browser import assert_fits
from trainer.extensions import db
from trainer.people import joining
from trainer.people.services import create_user, get_or_create_team

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def code(live_server):
    app = live_server.app
    with app.app_context():
        team = get_or_create_team(db.session, "The Copper Pot (browser)")
        create_user(
            db.session, name="Old Hand", email="old.hand@example.com", job_role="wait-staff",
            team=team.name, password="correct horse",
        )  # fmt: skip
        db.session.commit()
        return joining.create_code(db.session, team, by=None, uses=10).code


def test_a_new_hire_scans_the_poster_and_is_in_the_first_lesson_within_three_screens(
    page: Page, live_server, code
):
    screens = []
    page.on("load", lambda p: screens.append(p.url))

    page.goto(f"/join/{code}")  # 1: what the poster's QR code opens
    assert_fits(page)
    expect(page.get_by_role("heading", name="Join The Copper Pot (browser)")).to_be_visible()
    page.get_by_label("Your name").fill("Jo Newman")
    page.get_by_label("Employee number").fill("4001")
    page.get_by_label("With a 6-digit PIN on the branch tablet").check()
    page.get_by_label("PIN (6 digits)").fill("246810")
    page.get_by_role("button", name="Join").click()

    expect(page).to_have_url(f"{live_server.url}/")  # 2: Today
    assert_fits(page)
    start = page.get_by_role("link", name="Start lesson")
    expect(start).to_be_visible()
    start.click()  # 3: the first lesson of the wait-staff path
    expect(page).to_have_url(f"{live_server.url}/lessons/{first_lesson(live_server.app)}")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert len(screens) <= 3, screens


def first_lesson(app) -> str:
    from sqlalchemy import select

    from trainer.models import JobRole, Path

    with app.app_context():
        path = db.session.scalar(
            select(Path).join(JobRole).where(JobRole.key == "wait-staff", Path.retired.is_(False))
        )
        return path.steps[0].lesson.key


def test_a_mistyped_code_says_so_in_the_field(page: Page, live_server, code):
    page.goto("/join")
    assert_fits(page)
    page.get_by_label("Code").fill("ABCD-2345")
    page.get_by_role("button", name="Continue").click()
    error = page.locator("#code-error")
    expect(error).to_contain_text("That code does not work")
    page.get_by_label("Code").fill(code.lower())
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Join The Copper Pot (browser)")
