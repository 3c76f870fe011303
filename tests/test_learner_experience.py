"""What a learner sees between customers: Today's order and due dates, picking a lesson up
where it was left, the end of a lesson, and role-play practised out loud."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import form_token
from tests.test_learn import (
    LESSON,
    answer,
    lesson_row,
    play_best_lines,
    right_choices,
    wrong_choice,
)
from trainer.extensions import db
from trainer.learn.enrolment import assign
from trainer.learn.services import path_progress
from trainer.learn.today import due_phrase
from trainer.models import Lesson, RolePlayAnswer, User

SECOND = "teller-red-carpet-service"


@pytest.fixture
def learner(library_app, make_user, auth):
    make_user(job_role="teller", team="Millbrook branch")
    assert auth.login().status_code == 302
    return library_app


@pytest.fixture
def behind(library_app, make_user, auth):
    """A teller hired 60 days ago who has done nothing: every path lesson is late."""
    make_user(job_role="teller", hire_date=date.today() - timedelta(days=60))
    assert auth.login().status_code == 302
    return library_app


@pytest.mark.parametrize(
    ("days", "phrase"),
    [(0, "due today"), (1, "due tomorrow"), (3, "due in 3 days"), (-1, "1 day late"),
     (-2, "2 days late"), (9, "due Tue 8 Dec")],
)  # fmt: skip
def test_due_dates_read_as_words(days, phrase):
    today = date(2026, 11, 29)
    assert due_phrase(today + timedelta(days=days), today) == phrase


def test_a_new_hire_sees_the_first_lesson_before_an_empty_refresher(learner, client):
    page = client.get("/").get_data(as_text=True)
    assert "Nothing is due today" in page
    assert page.index("Start lesson") < page.index('id="refresher-title"')


def test_a_refresher_waiting_comes_before_the_next_lesson(learner, client):
    for n, (_key, _type, choices) in enumerate(lesson_row(learner)["items"], start=1):
        answer(client, n, right_choices(choices))
    with learner.app_context():
        from trainer.models import ReviewCard

        for card in db.session.scalars(select(ReviewCard)):
            card.due = card.due - timedelta(days=30)
        db.session.commit()
    page = client.get("/").get_data(as_text=True)
    assert "Start refresher" in page
    assert page.index('id="refresher-title"') < page.index("Teller onboarding")


def test_behind_shows_one_catch_up_line_and_days_late_instead_of_red_labels(behind, client):
    page = client.get("/").get_data(as_text=True)
    with behind.app_context():
        minutes = sum(
            lesson.minutes
            for lesson in db.session.scalars(select(Lesson).where(Lesson.retired.is_(False)))
            if "teller" in lesson.roles and lesson.key.startswith("teller-")
        )
    line = re.search(r"(\d+) lessons ≈ (\d+) min — one today", page)
    assert line, page
    assert int(line[1]) == 10
    assert int(line[2]) > 10 and int(line[2]) <= max(minutes, 50)
    assert "overdue" not in page.lower()
    assert "badge overdue" not in page
    assert re.search(r"\d+ days late", page)
    assert page.count('class="late"') == 1  # only the next lesson's date stands out


def test_a_lesson_on_the_path_and_assigned_shows_once_with_the_earlier_date(learner, client):
    with learner.app_context():
        user = db.session.scalar(select(User).where(User.email == "sam@example.com"))
        lesson = db.session.scalar(select(Lesson).where(Lesson.key == SECOND))
        other = db.session.scalar(select(Lesson).where(Lesson.key == "table-greeting-first-minute"))
        assign(db.session, user, [user], lesson=lesson, due_date=date.today() + timedelta(days=1))
        assign(db.session, user, [user], lesson=other, due_date=date.today())
        title, other_title = lesson.title, other.title
    page = client.get("/").get_data(as_text=True)
    assert page.count(f">{title}</a>") == 1
    row = re.search(rf">{re.escape(title)}</a>\s*<span[^>]*>([^<]*)</span>", page)
    assert row[1].strip() == "due tomorrow"
    assigned = page[page.index("Assigned to you") :]
    assert title not in assigned
    assert other_title in assigned and "due today" in assigned


def test_continue_lesson_opens_the_first_unanswered_step(learner, client):
    items = lesson_row(learner)["items"]
    for n in (1, 2):
        answer(client, n, right_choices(items[n - 1][2]))
    page = client.get("/").get_data(as_text=True)
    assert f'href="/lessons/{LESSON}/continue">Continue lesson</a>' in page
    response = client.get(f"/lessons/{LESSON}/continue")
    assert response.status_code == 302
    assert response.location.endswith(f"/lessons/{LESSON}/quiz/3")
    # Not started: the scenario.
    assert client.get(f"/lessons/{SECOND}/continue").location.endswith(f"/lessons/{SECOND}")


def _finish(client, app, wrong_first=True, aloud=False):
    row = lesson_row(app)
    for n, (_key, _type, choices) in enumerate(row["items"], start=1):
        chosen = wrong_choice(choices) if wrong_first and n == 1 else right_choices(choices)
        answer(client, n, chosen)
    play_best_lines(client, LESSON)
    for n, (_key, rubric) in enumerate(row["roleplays"], start=1):
        url = f"/lessons/{LESSON}/roleplay/{n}"
        token = form_token(client.get(url).get_data(as_text=True))
        data = {"aloud": "I said it out loud"} if aloud else {"text": "Good morning, I'm Sam."}
        client.post(url, data={**data, "token": token})
        response = client.post(f"{url}/rubric", data={"ticked": ["0"]})
        # Ticking shows what was covered, on the role-play, before moving on.
        assert response.location.endswith(f"{url}#covered-title")
        page = client.get(url).get_data(as_text=True)
        assert f"You covered 1 of {len(rubric)}" in page
        assert "Save and continue" not in page
    return row


def test_the_lesson_end_shows_score_path_position_streak_and_what_next(learner, client):
    row = _finish(client, learner)
    total = len(row["items"])
    page = client.get(f"/lessons/{LESSON}/done").get_data(as_text=True)
    assert f"You got <strong>{total - 1} of {total}</strong>" in page
    assert re.search(r"<strong>0 → 1 of 10</strong>\s*lessons done", page)
    assert "1 day</strong>" in page  # the streak
    assert 'class="celebrate"' in page
    with learner.app_context():
        user = db.session.scalar(select(User).where(User.email == "sam@example.com"))
        second = path_progress(db.session, user).next.lesson
        next_label = f"Next: {second.title} ({second.minutes} min)"
    first_button = re.search(
        r'<nav class="step-nav"[^>]*>\s*<a class="button primary"[^>]*>([^<]*)<', page
    )
    assert first_button[1].replace("&#39;", "'") == next_label
    assert f'href="/lessons/{LESSON}/missed">Review the ones you missed</a>' in page

    missed = client.get(f"/lessons/{LESSON}/missed").get_data(as_text=True)
    assert "The ones you missed" in missed
    assert missed.count("Right answer:") == 1
    # Taken again, the position does not move.
    _finish(client, learner, wrong_first=False)
    again = client.get(f"/lessons/{LESSON}/done").get_data(as_text=True)
    assert re.search(r"<strong>1 of 10</strong>\s*lessons done", again)
    assert "Review the ones you missed" not in again


def test_i_said_it_out_loud_goes_to_the_model_answer_and_rubric(learner, client):
    url = f"/lessons/{LESSON}/roleplay/1"
    page = client.get(url).get_data(as_text=True)
    assert '<div class="bubble customer">' in page
    assert "I said it out loud" in page
    response = client.post(url, data={"aloud": "I said it out loud", "token": form_token(page)})
    assert response.status_code == 303
    shown = client.get(url).get_data(as_text=True)
    assert "A model answer" in shown
    assert "You said it out loud" in shown
    assert "Tick what your answer did" in shown
    with learner.app_context():
        (kept,) = db.session.scalars(select(RolePlayAnswer)).all()
        assert kept.text == ""


def test_a_finished_roleplay_shows_its_answer_read_only(learner, client):
    _finish(client, learner)
    client.get(f"/lessons/{LESSON}/done")
    page = client.get(f"/lessons/{LESSON}/roleplay/1").get_data(as_text=True)
    assert "Good morning, I&#39;m Sam." in page
    assert "<textarea" not in page
    assert "Save and continue" not in page
    assert "You finished this lesson" in page
    assert "You covered 1 of" in page


def test_the_library_groups_path_role_and_other_roles_with_a_search(learner, client):
    page = client.get("/lessons").get_data(as_text=True)
    assert 'role="search"' in page and 'type="search"' in page
    path = page.index('id="group-path"')
    role = page.find('id="group-role"')
    other = page.index('id="group-other"')
    assert path < other and (role == -1 or path < role < other)
    assert "Teller onboarding" in page[path:]
    teller = page.index('href="/lessons/teller-greeting-at-the-counter"')
    waiter = page.index('href="/lessons/table-greeting-first-minute"')
    assert path < teller < other < waiter
    # Each lesson once.
    assert page.count('href="/lessons/teller-greeting-at-the-counter"') == 1

    found = client.get("/lessons?q=phone").get_data(as_text=True)
    links = re.findall(r'<a href="/lessons/([a-z0-9-]+)"', found)
    assert links and len(links) < page.count('<a href="/lessons/')
    with learner.app_context():
        for key in links:
            lesson = db.session.scalar(select(Lesson).where(Lesson.key == key))
            haystack = f"{lesson.title} {lesson.skill} {' '.join(lesson.roles)}".lower()
            assert "phone" in haystack
    nothing = client.get("/lessons?q=zzzz").get_data(as_text=True)
    assert "No lesson matches “zzzz”" in nothing
