"""The manager's people pages in a real headless Chromium on a phone, JavaScript off, CSRF on."""

from __future__ import annotations

import csv
import re
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.browser_support import ARTIFACTS, LESSON, PHONE
from tests.test_browser import assert_fits, log_in
from trainer.extensions import db
from trainer.learn.services import live_lesson, record_roleplay, tick_rubric
from trainer.models import User, utcnow
from trainer.people.services import create_user, get_or_create_team
from trainer.review.planning import local_date

pytestmark = pytest.mark.browser

PASSWORD = "correct horse"
MANAGER = "mia.manager@example.com"
ANN = "ann.north@example.com"


@pytest.fixture(scope="module")
def teams(live_server):
    """North, managed by Mia: Ann (with a role-play answer waiting) and Bob. South: Cat."""
    with live_server.app.app_context():
        s = db.session
        north = get_or_create_team(s, "North branch")
        get_or_create_team(s, "South branch")
        mia = create_user(s, email=MANAGER, name="Mia Manager", password=PASSWORD, role="manager")
        mia.managed_teams.append(north)
        hired = local_date("Europe/London", utcnow()) - timedelta(days=3)
        people = {}
        for email, name, team in (
            (ANN, "Ann Archer", "North branch"),
            ("bob.north@example.com", "Bob Baker", "North branch"),
            ("cat.south@example.com", "Cat Cole", "South branch"),
        ):
            people[name] = create_user(
                s,
                email=email,
                name=name,
                password=PASSWORD,
                job_role="teller",
                team=team,
                hire_date=hired,
            )
        s.commit()
        lesson = live_lesson(s, LESSON)
        answer = record_roleplay(
            s,
            people["Ann Archer"],
            lesson,
            lesson.live_roleplays[0],
            "Good morning! Come on over, I'm Ann.",
            uuid.uuid4().hex,
        )
        tick_rubric(s, answer, [0])
        return SimpleNamespace(ann=people["Ann Archer"].id, cat=people["Cat Cole"].id)


def test_manager_coaches_a_roleplay_and_the_learner_reads_it(
    page: Page, browser, live_server, teams
):
    note = "Warm start. Next time, look up and greet them before you finish the last customer."
    log_in(page, MANAGER)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Coaching").click()
    expect(page.get_by_role("heading", level=1, name="Coaching")).to_be_visible()
    queue = page.locator("ol.coach-queue li", has_text="Good morning! Come on over, I'm Ann.")
    assert_fits(page)
    queue.get_by_role("link", name=re.compile("Ann Archer")).click()
    card = page.locator("article", has_text="Good morning! Come on over, I'm Ann.")
    expect(card.get_by_role("heading", level=1, name="Ann Archer")).to_be_visible()
    card.get_by_text("A model answer").click()
    expect(card.locator("blockquote.model")).to_be_visible()
    expect(card.locator(".rubric li.right")).to_have_count(1)
    assert_fits(page)
    card.get_by_label("Your coaching note to Ann").fill(note)
    card.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Coaching note sent to Ann Archer.")
    expect(page.get_by_text("Good morning! Come on over, I'm Ann.")).to_have_count(0)

    learner = browser.new_context(
        viewport=PHONE, java_script_enabled=False, base_url=live_server.url
    ).new_page()
    try:
        log_in(learner, ANN)
        card = learner.locator(
            "section", has=learner.get_by_role("heading", name="New coaching note")
        )
        expect(card).to_contain_text(note)
        assert_fits(learner)
        card.get_by_role("link", name="Read your coaching notes").click()
        expect(learner.get_by_role("heading", level=1, name="Coaching notes")).to_be_visible()
        expect(learner.locator(".coach-note")).to_contain_text("Mia Manager")
        expect(learner.locator(".coach-note")).to_contain_text(note)
        expect(learner.locator("blockquote.mine")).to_contain_text("I'm Ann")
        assert_fits(learner)
    finally:
        learner.context.close()


def test_csv_download_has_the_rows_on_the_page(page: Page, live_server, teams):
    log_in(page, MANAGER)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Team").click()
    expect(page.get_by_role("heading", level=1, name="Your team")).to_be_visible()
    expect(page.get_by_role("img", name="Path lessons completed")).to_be_visible()
    assert_fits(page)

    header = [
        re.sub(r"\s*[▲▼]$", "", text.strip())
        for text in page.locator("table.team thead th").all_inner_texts()
    ]
    # The data of each row; the Remind button beside a name is a control, not data.
    shown = [
        [row.locator("th > a").inner_text().strip()]
        + [cell.strip() for cell in row.locator("td").all_inner_texts()]
        for row in page.locator("table.team tbody tr").all()
    ]
    assert [row[0] for row in shown] == ["Ann Archer", "Bob Baker"]
    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV").click()
    download = info.value
    today = local_date("Europe/London", utcnow()).isoformat()
    assert download.suggested_filename == f"team-{today}.csv"
    with open(download.path(), encoding="utf-8-sig", newline="") as f:
        assert list(csv.reader(f)) == [header, *shown]


def test_another_teams_person_is_not_found(page: Page, live_server, teams):
    log_in(page, MANAGER)
    response = page.goto(f"/manage/people/{teams.cat}")
    assert response.status == 404
    expect(page.get_by_role("heading", name="There is nothing at this address")).to_be_visible()
    expect(page.get_by_text("Cat Cole")).to_have_count(0)
    assert_fits(page)

    page.goto(f"/manage/people/{teams.ann}")
    expect(page.get_by_role("heading", level=1, name="Ann Archer")).to_be_visible()
    assign = page.get_by_role("main").get_by_role("link", name="Assign", exact=True).last
    expect(assign).to_have_attribute("href", f"/manage/assign?person={teams.ann}")
    assert_fits(page)


def test_remind_from_the_team_page_on_a_phone(page: Page, live_server, teams):
    log_in(page, MANAGER)
    page.goto("/manage/")
    assert_fits(page)
    row = page.locator("table.team tbody tr", has_text="Bob Baker")
    row.get_by_role("button", name="Remind Bob Baker").click()
    expect(page.get_by_role("status")).to_have_text("Reminder sent to Bob Baker.")
    row = page.locator("table.team tbody tr", has_text="Bob Baker")
    expect(row.get_by_text("reminded today")).to_be_visible()
    expect(row.get_by_role("button", name="Remind Bob Baker")).to_have_count(0)
    assert_fits(page)


def test_team_page_is_one_card_per_person_on_a_phone_and_full_width_on_a_desktop(
    page: Page, live_server, teams
):
    log_in(page, MANAGER)
    expect(page).to_have_url(re.compile(r"/manage/$"))  # a manager lands on their team
    expect(page.get_by_role("heading", level=1, name="Your team")).to_be_visible()
    assert_fits(page)
    figures = page.locator("ul.figures li")
    expect(figures).to_have_count(4)
    expect(figures.nth(3)).to_contain_text("refreshers done this week")
    # Two figures a line on a phone.
    first, second, third = (figures.nth(n).bounding_box() for n in range(3))
    assert first["y"] == second["y"] < third["y"]
    attention = page.get_by_role("region", name="Needs attention")
    expect(attention.get_by_role("button", name="Remind Ann Archer")).to_be_visible()
    people = page.locator("table.team tbody tr")
    expect(people).to_have_count(2)
    assert attention.bounding_box()["y"] < people.first.bounding_box()["y"]
    # One card per person: stacked, each as wide as the screen allows, labelled values.
    ann, bob = people.nth(0).bounding_box(), people.nth(1).bounding_box()
    assert ann["width"] <= PHONE["width"] and bob["y"] >= ann["y"] + ann["height"]
    progress = people.nth(0).locator("td.progress-cell")
    assert progress.evaluate("td => getComputedStyle(td).display") == "flex"
    label = progress.evaluate("td => getComputedStyle(td, '::before').content")
    assert label == '"Path progress"'
    expect(people.nth(0).get_by_role("button", name="Remind Ann Archer")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "team-phone.png"), full_page=True)

    page.set_viewport_size({"width": 1280, "height": 800})
    main = page.get_by_role("main").bounding_box()
    assert main["width"] > 1000  # full width, not the reading column
    assert (
        people.nth(0).locator("td").first.evaluate("td => getComputedStyle(td).display")
        == "table-cell"
    )
    first, fourth = figures.nth(0).bounding_box(), figures.nth(3).bounding_box()
    assert first["y"] == fourth["y"]  # the four figures on one line
    page.screenshot(path=str(ARTIFACTS / "team-desktop.png"), full_page=True)


def test_coaching_one_answer_at_a_time_with_save_and_next_on_a_phone(
    page: Page, live_server, teams
):
    with live_server.app.app_context():
        s = db.session
        bob = s.scalar(select(User).where(User.email == "bob.north@example.com"))
        lesson = live_lesson(s, LESSON)
        texts = ("Hi there, one moment please.", "Welcome in, I'm Bob. What can I do?")
        for roleplay, text in zip(lesson.live_roleplays, texts, strict=False):
            record_roleplay(s, bob, lesson, roleplay, text, uuid.uuid4().hex)
    log_in(page, MANAGER)
    page.goto("/manage/coaching")
    page.get_by_label("Person").select_option(label="Bob Baker (2)")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("ol.coach-queue li")).to_have_count(2)
    assert_fits(page)
    page.get_by_role("link", name="Start with Bob's answer").click()
    expect(page.get_by_text("answer 1 of 2")).to_be_visible()
    expect(page.locator("blockquote.mine")).to_have_text(texts[0])

    # Nothing written: the error is summed up at the top, its link goes to the field.
    page.get_by_role("button", name="Save & next").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Write a coaching note.")
    assert summary.bounding_box()["y"] < page.locator("blockquote.mine").bounding_box()["y"]
    summary.get_by_role("link", name="Write a coaching note.").click()
    expect(page).to_have_url(re.compile(r"#a\d+-comment$"))
    note = page.get_by_label("Your coaching note to Bob")
    expect(note).to_have_attribute("aria-invalid", "true")
    assert_fits(page)

    note.fill("Say your name first, then offer help.")
    page.screenshot(path=str(ARTIFACTS / "coaching-360.png"), full_page=True)
    page.get_by_role("button", name="Save & next").click()
    expect(page.get_by_role("status")).to_have_text("Coaching note sent to Bob Baker.")
    expect(page.locator("blockquote.mine")).to_have_text(texts[1])
    expect(page.get_by_text("answer 1 of 1")).to_be_visible()
    expect(page.get_by_role("button", name="Save & next")).to_have_count(0)
    page.get_by_label("Your coaching note to Bob").fill("That is the one.")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("No answer waiting matches.")).to_be_visible()
    expect(page.get_by_label("Person")).to_have_value("")  # Bob has none left to list
    assert_fits(page)


def test_assign_a_lesson_to_two_people_at_once_on_a_phone(page: Page, live_server, teams):
    log_in(page, MANAGER)
    page.goto("/manage/assign")
    assert_fits(page)
    page.get_by_label("What to assign").select_option(label="Putting a wrong or late dish right")
    page.get_by_role("checkbox", name="Ann Archer").check()
    page.get_by_role("checkbox", name="Bob Baker").check()
    due = local_date("Europe/London", utcnow()) + timedelta(days=10)
    page.get_by_label("Due date").fill(due.isoformat())
    page.get_by_role("button", name="Assign").click()
    expect(page.get_by_role("status")).to_contain_text("to 2 people")
    expect(page.get_by_role("heading", level=1, name="Your team")).to_be_visible()
