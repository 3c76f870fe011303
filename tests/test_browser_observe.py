"""A manager records an observation on a phone, with JavaScript off, and sees it in the skill
view. Runs against the shared live server (tests/browser_support.py), CSRF on."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.browser_support import ARTIFACTS, PASSWORD, PHONE
from tests.test_browser import assert_fits, log_in
from trainer.extensions import db

pytestmark = pytest.mark.browser

LESSONS = (
    "phone-greeting-first-seconds",
    "teller-greeting-at-the-counter",
    "teller-red-carpet-service",
    "teller-last-impression",
    "teller-branch-touchpoints",
)


def manager_with_a_learner(live_server) -> tuple[str, str]:
    """A manager of a new team with one teller who has answered a lesson's questions."""
    from trainer.learn import services as learn
    from trainer.manage.observations import ensure_builtin_checklists
    from trainer.models import Lesson, utcnow
    from trainer.people.services import create_user, get_or_create_team

    suffix = uuid.uuid4().hex[:6]
    with live_server.app.app_context():
        ensure_builtin_checklists(db.session)
        manager = create_user(
            db.session,
            email=f"manager-{suffix}@example.com",
            name="Morgan Manager",
            password=PASSWORD,
            role="manager",
        )
        manager.managed_teams.append(get_or_create_team(db.session, f"Branch {suffix}"))
        learner = create_user(
            db.session,
            email=f"lee-{suffix}@example.com",
            name=f"Lee <i>{suffix}</i>",
            password=PASSWORD,
            job_role="teller",
            team=f"Branch {suffix}",
        )
        db.session.commit()
        # Five skills: a grid wider than the phone, which must scroll in its own box.
        for key in LESSONS:
            lesson = db.session.scalar(select(Lesson).where(Lesson.key == key))
            for n, item in enumerate(lesson.quiz.live_items):
                learn.record_answer(
                    db.session, learner, lesson, item, [0], uuid.uuid4().hex, 10.0,
                    answered_at=utcnow() - timedelta(days=6, minutes=n),
                )  # fmt: skip
        return manager.email, learner.name


def test_a_manager_records_an_observation_without_javascript(page: Page, live_server):
    manager, learner = manager_with_a_learner(live_server)
    log_in(page, manager)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Team").click()
    manager_nav = page.get_by_role("navigation", name="Manager")
    expect(manager_nav.get_by_role("link", name="Observe")).to_be_visible()
    manager_nav.get_by_role("link", name="Observe").click()

    expect(page.get_by_role("heading", name="Record an observation")).to_be_visible()
    assert_fits(page)
    page.get_by_label("Person").select_option(label=learner)
    page.get_by_label("Checklist").select_option(label="Answering the phone")
    page.get_by_role("button", name="Show the checklist").click()

    expect(page.get_by_role("heading", name=f"{learner}: Answering the phone")).to_be_visible()
    expect(page.get_by_label("Person").locator("option:checked")).to_have_text(learner)
    expect(page.get_by_role("radio", name="On the phone")).to_be_checked()
    assert_fits(page)
    page.get_by_label("Answered within three rings").check()
    page.get_by_label("Said the company and their own name").check()
    page.get_by_role("radio", name="B", exact=True).check()
    page.get_by_label("Note (optional)").fill("Friendly and quick; forgot to offer help.")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "observe-360.png"), full_page=True)
    page.get_by_role("button", name="Record observation").click()

    expect(page.get_by_text("Observation recorded")).to_be_visible()
    assert "/manage/people/" in page.url

    page.goto("/manage/skills")
    expect(page.get_by_role("heading", name="Skills", exact=True)).to_be_visible()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=learner))
    cell = row.locator('td[data-skill="phone-greeting"]')
    expect(cell).to_contain_text("B")
    expect(cell).to_contain_text("%")
    # One grid on a phone: five skills fit the screen under upright-turned headings, and the
    # heat map that repeats it is left for wider screens.
    box = page.get_by_role("region", name="Predicted recall today, by person and skill")
    assert box.evaluate("el => el.scrollWidth <= el.clientWidth")
    heading = page.locator("table.skill-grid thead th").nth(1)
    assert heading.evaluate("th => getComputedStyle(th).writingMode") == "vertical-rl"
    heat = page.get_by_role("img", name="Predicted recall today, by person and skill")
    expect(heat).to_be_hidden()
    assert_fits(page)
    page.screenshot(path=str(ARTIFACTS / "skills-360.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(heat).to_be_visible()
    page.set_viewport_size(PHONE)

    page.get_by_role("link", name="In 30 days, with no refresher").click()
    expect(page.get_by_role("link", name="In 30 days, with no refresher")).to_have_attribute(
        "aria-current", "page"
    )
    assert_fits(page)

    page.get_by_role("link", name="Questions").click()
    expect(page.get_by_role("heading", name="Questions missed most")).to_be_visible()
    assert_fits(page)
