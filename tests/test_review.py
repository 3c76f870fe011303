"""Review cards, the daily refresher and what the learner sees of their memory."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta

import fsrs
import pytest
from sqlalchemy import func, select

from tests.conftest import form_token, sync_starter_library
from trainer.extensions import db
from trainer.learn import services as learn
from trainer.models import (
    Attempt,
    Lesson,
    QuizItem,
    Refresher,
    ReviewCard,
    ReviewLog,
    User,
    utcnow,
)
from trainer.review.fsrs_cards import rating_for
from trainer.review.planning import (
    DueCard,
    budget_items,
    end_of_local_day,
    local_date,
    order_items,
    plan_for_user,
    plan_refreshers,
)

LESSON = "teller-greeting-at-the-counter"
OTHER = "teller-red-carpet-service"


# -- pure rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("correct", "seconds", "usual", "rating"),
    [
        (False, 3, 20, fsrs.Rating.Again),
        (False, None, None, fsrs.Rating.Again),
        (True, 9, 20, fsrs.Rating.Easy),
        (True, 10, 20, fsrs.Rating.Easy),
        (True, 15, 20, fsrs.Rating.Good),
        (True, 39, 20, fsrs.Rating.Good),
        (True, 40, 20, fsrs.Rating.Hard),
        (True, None, 20, fsrs.Rating.Good),
    ],
)
def test_an_answer_maps_to_a_rating(correct, seconds, usual, rating):
    assert rating_for(correct, seconds, usual) == rating


def test_refresher_order_weakest_first_mixed_and_ending_on_the_surest():
    cards = [
        DueCard(1, "phone", 0.30),
        DueCard(2, "phone", 0.35),
        DueCard(3, "phone", 0.40),
        DueCard(4, "greeting", 0.50),
        DueCard(5, "greeting", 0.60),
        DueCard(6, "recovery", 0.95),
        DueCard(7, "recovery", 0.99),  # beyond the budget: never chosen
    ]
    order = order_items(cards, limit=6)
    assert sorted(order) == [1, 2, 3, 4, 5, 6]
    assert order[-1] == 6, "the item most likely right comes last"
    assert order[0] == 1, "the weakest item comes first"
    skills = {c.item_id: c.skill for c in cards}
    adjacent_same = sum(1 for a, b in zip(order, order[1:], strict=False) if skills[a] == skills[b])
    assert adjacent_same <= 1, order


def test_the_budget_fits_the_learners_pace():
    assert budget_items(300, 15) == 13  # 15 s to answer + 8 s of feedback
    assert budget_items(300, 40) == 6
    assert budget_items(300, 1000) == 1


def test_local_days_follow_the_learners_time_zone():
    now = datetime(2026, 11, 23, 7, 0)  # 07:00 UTC
    assert local_date("America/Los_Angeles", now) == date(2026, 11, 22)
    assert local_date("Australia/Sydney", now) == date(2026, 11, 23)
    assert end_of_local_day("America/Los_Angeles", date(2026, 11, 22)) == datetime(
        2026, 11, 23, 8, 0
    )
    assert end_of_local_day("Australia/Sydney", date(2026, 11, 23)) == datetime(2026, 11, 23, 13, 0)


# -- helpers ----------------------------------------------------------------------------------


def make_learner(email="sam@example.com", timezone="Europe/London"):
    from trainer.people.services import create_user

    user = create_user(
        db.session,
        email=email,
        name=email.split("@")[0].title(),
        password="correct horse",
        role="learner",
        job_role="teller",
        timezone=timezone,
    )
    db.session.commit()
    return user


def take_quiz(user, key=LESSON, when=None, right=True, seconds=12.0):
    lesson = db.session.scalar(select(Lesson).where(Lesson.key == key))
    for item in lesson.quiz.live_items:
        pick = [i for i, c in enumerate(item.choices) if (c["weight"] > 0) == right]
        chosen = pick if item.type == "multiple" and right else pick[:1]
        learn.record_answer(
            db.session,
            user,
            lesson,
            item,
            chosen,
            uuid.uuid4().hex,
            seconds,
            answered_at=when,
        )
    run = learn.open_run(db.session, user, lesson)
    if run is not None:  # close the run so the lesson can be taken again
        run.completed_at = when or utcnow()
        db.session.commit()
    return lesson


# -- cards ------------------------------------------------------------------------------------


def test_first_answer_creates_a_card_and_later_answers_update_it(any_db_app):
    sync_starter_library(any_db_app)
    with any_db_app.app_context():
        user = make_learner()
        start = utcnow() - timedelta(days=10)
        lesson = take_quiz(user, when=start)
        items = len(lesson.quiz.live_items)
        cards = db.session.scalars(select(ReviewCard).where(ReviewCard.user_id == user.id)).all()
        assert len(cards) == items
        first = {c.item_id: (c.due, c.reps) for c in cards}
        assert all(reps == 1 for _, reps in first.values())
        assert all(due > start for due, _ in first.values())

        take_quiz(user, when=start + timedelta(days=1), right=False)
        cards = db.session.scalars(select(ReviewCard).where(ReviewCard.user_id == user.id)).all()
        assert len(cards) == items, "one card per learner and item, never two"
        assert all(c.reps == 2 for c in cards)
        logs = db.session.scalars(select(ReviewLog).order_by(ReviewLog.id)).all()
        assert len(logs) == 2 * items
        assert {log.rating for log in logs[items:]} == {int(fsrs.Rating.Again)}
        assert all(log.attempt_id is not None for log in logs)


def test_a_higher_desired_retention_brings_items_back_sooner(app):
    sync_starter_library(app)

    def interval_after_reviews(retention: float, email: str) -> timedelta:
        app.config["DESIRED_RETENTION"] = retention
        with app.app_context():
            user = make_learner(email)
            when = datetime(2026, 1, 1, 9, 0)
            for gap in (timedelta(0), timedelta(minutes=15), timedelta(days=3)):
                when += gap
                take_quiz(user, when=when)
            card = db.session.scalar(select(ReviewCard).where(ReviewCard.user_id == user.id))
            return card.due - card.last_review

    loose = interval_after_reviews(0.80, "loose@example.com")
    strict = interval_after_reviews(0.97, "strict@example.com")
    assert strict < loose


# -- planning ---------------------------------------------------------------------------------


def test_the_refresher_is_built_from_due_cards_and_planned_once(any_db_app):
    sync_starter_library(any_db_app)
    with any_db_app.app_context():
        user = make_learner()
        take_quiz(user, when=utcnow() - timedelta(days=20))
        take_quiz(user, key=OTHER, when=utcnow() - timedelta(days=2))
        refresher = plan_for_user(db.session, user)
        assert refresher is not None
        due_items = set(
            db.session.scalars(
                select(ReviewCard.item_id).where(
                    ReviewCard.user_id == user.id,
                    ReviewCard.due <= end_of_local_day(user.timezone, refresher.local_date),
                )
            )
        )
        assert refresher.item_ids and set(refresher.item_ids) <= due_items
        assert refresher.recall_before
        again = plan_for_user(db.session, user)
        assert again.id == refresher.id
        assert db.session.scalar(select(func.count()).select_from(Refresher)) == 1


def test_retired_items_are_never_planned(app):
    sync_starter_library(app)
    with app.app_context():
        user = make_learner()
        lesson = take_quiz(user, when=utcnow() - timedelta(days=20))
        retired = lesson.quiz.live_items[0]
        retired.retired = True
        db.session.commit()
        refresher = plan_for_user(db.session, user)
        assert retired.id not in refresher.item_ids


def test_bulk_planning_covers_each_learners_own_day_and_is_idempotent(any_db_app):
    sync_starter_library(any_db_app)
    with any_db_app.app_context():
        west = make_learner("west@example.com", "America/Los_Angeles")
        east = make_learner("east@example.com", "Australia/Sydney")
        idle = make_learner("idle@example.com")  # no cards: nothing to plan
        for user in (west, east):
            take_quiz(user, when=utcnow() - timedelta(days=15))
        now = datetime.combine(utcnow().date(), datetime.min.time()) + timedelta(hours=7)
        assert plan_refreshers(db.session, now) == 2
        assert plan_refreshers(db.session, now) == 0
        rows = {r.user_id: r for r in db.session.scalars(select(Refresher))}
        assert set(rows) == {west.id, east.id}
        assert idle.id not in rows
        assert rows[west.id].local_date == local_date("America/Los_Angeles", now)
        assert rows[east.id].local_date == local_date("Australia/Sydney", now)
        assert rows[west.id].local_date != rows[east.id].local_date


# -- the learner's side -----------------------------------------------------------------------


@pytest.fixture
def learner_with_history(library_app, make_user, auth):
    user_id = make_user(job_role="teller")
    with library_app.app_context():
        user = db.session.get(User, user_id)
        take_quiz(user, when=utcnow() - timedelta(days=12))
        take_quiz(user, key=OTHER, when=utcnow() - timedelta(days=6))
    auth.login()
    return library_app


def answer_item(client, url, right_choices=True, token=None):
    page = client.get(url).get_data(as_text=True)
    token = token or form_token(page)
    values = re.findall(r'name="choice" value="(\d+)"', page)
    return client.post(url, data={"choice": values[:1], "token": token, "shown": "0"}), token


def test_today_shows_the_refresher_streak_and_skills(learner_with_history, client):
    page = client.get("/").get_data(as_text=True)
    assert "Today&#39;s refresher" in page or "Today's refresher" in page
    assert re.search(r"\d+ questions?</strong> · about \d+ minutes?", page)
    assert "Start refresher" in page
    assert "Your skills" in page
    assert "First impression" in page and "Red carpet" in page
    assert "Start a streak today" in page  # the history is days old: no streak yet


def test_taking_the_refresher_to_its_summary(learner_with_history, client):
    response = client.get("/refresher")
    assert response.status_code == 302
    first = response.location
    match = re.search(r"/refresher/(\d+)/1$", first)
    assert match
    refresher_id = int(match.group(1))
    with learner_with_history.app_context():
        count = len(db.session.get(Refresher, refresher_id).item_ids)

    for n in range(1, count + 1):
        url = f"/refresher/{refresher_id}/{n}"
        response, token = answer_item(client, url)
        assert response.status_code == 303
        feedback = client.get(url).get_data(as_text=True)
        assert "Right" in feedback or "Not quite" in feedback
        # The same form sent again is recorded once.
        client.post(url, data={"choice": ["0"], "token": token, "shown": "0"})

    summary = client.get(f"/refresher/{refresher_id}/done").get_data(as_text=True)
    assert "Refresher done" in summary
    assert re.search(rf"You got <strong>\d+ of {count}</strong>", summary)
    assert "What got stronger" in summary or "Worth another look" in summary
    assert "Your next refresher" in summary
    with learner_with_history.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(Attempt)
                .where(Attempt.refresher_id == refresher_id)
            )
            == count
        )
        assert db.session.get(Refresher, refresher_id).completed_at is not None
    today = client.get("/").get_data(as_text=True)
    assert "✓ Done" in today


def test_nothing_due_offers_practise_anyway_from_the_weakest_skill(
    library_app, make_user, auth, client
):
    user_id = make_user(job_role="teller")
    with library_app.app_context():
        user = db.session.get(User, user_id)
        take_quiz(user, when=utcnow() - timedelta(minutes=1))
        # Push every card into the future: nothing is due today.
        for card in db.session.scalars(select(ReviewCard)):
            card.due = utcnow() + timedelta(days=5)
        db.session.commit()
    auth.login()
    page = client.get("/refresher").get_data(as_text=True)
    assert "Nothing due today" in page
    response = client.post("/refresher/practice")
    assert response.status_code == 303
    assert re.search(r"/refresher/\d+/1$", response.location)
    with library_app.app_context():
        practice = db.session.scalar(select(Refresher).where(Refresher.kind == "practice"))
        assert practice.item_ids
        skills = {
            lesson.skill
            for lesson in db.session.scalars(
                select(Lesson)
                .join(QuizItem, QuizItem.quiz_id == Lesson.quiz_id)
                .where(QuizItem.id.in_(practice.item_ids))
            )
        }
        assert len(skills) == 1


def test_another_learners_refresher_is_not_found(learner_with_history, client, make_user, auth):
    refresher_url = client.get("/refresher").location
    client.post("/logout")
    make_user("other@example.com", job_role="teller")
    auth.login("other@example.com")
    assert client.get(refresher_url).status_code == 404


def test_a_refresher_of_another_zones_today_does_not_block_the_learners_own(app):
    sync_starter_library(app)
    with app.app_context():
        london = make_learner("london@example.com", "Europe/London")
        take_quiz(london, when=utcnow() - timedelta(days=15))
        # 03:00 UTC: already the 24th in London, still the 23rd in Los Angeles.
        now = datetime(2026, 11, 24, 3, 0)
        west = make_learner("west@example.com", "America/Los_Angeles")
        take_quiz(west, when=utcnow() - timedelta(days=15))
        # London's refresher of the 23rd exists (planned yesterday).
        db.session.add(
            Refresher(
                user_id=london.id,
                local_date=date(2026, 11, 23),
                item_ids=[1],
                budget_seconds=300,
            )
        )
        db.session.commit()
        assert plan_refreshers(db.session, now) == 2
        days = {(r.user_id, r.local_date) for r in db.session.scalars(select(Refresher))}
        assert (london.id, date(2026, 11, 24)) in days
        assert (west.id, date(2026, 11, 23)) in days


def _take_refresher(app, client, right: bool) -> str:
    """Answer every item of today's refresher, all right or all wrong; the summary page."""
    refresher_id = int(re.search(r"/refresher/(\d+)/1$", client.get("/refresher").location)[1])
    with app.app_context():
        refresher = db.session.get(Refresher, refresher_id)
        items = [db.session.get(QuizItem, i) for i in refresher.item_ids]
        picks = [
            [n for n, c in enumerate(item.choices) if item.is_right(c) == right] for item in items
        ]
        picks = picks if right else [pick[:1] for pick in picks]
    for n, pick in enumerate(picks, start=1):
        url = f"/refresher/{refresher_id}/{n}"
        token = form_token(client.get(url).get_data(as_text=True))
        client.post(url, data={"choice": [str(p) for p in pick], "token": token, "shown": "0"})
    return client.get(f"/refresher/{refresher_id}/done").get_data(as_text=True)


def _section(page: str, heading: str) -> str:
    start = page.index(heading)
    end = page.find("<h2", start + 1)
    return page[start : end if end > 0 else page.index("</section>", start)]


def test_the_summary_of_a_refresher_all_right_lists_only_what_got_stronger(
    learner_with_history, client
):
    page = _take_refresher(learner_with_history, client, right=True)
    assert "What got stronger" in page
    assert "Worth another look" not in page
    stronger = _section(page, "What got stronger")
    for before, after in re.findall(r"recall (\d+)% → (\d+)%", stronger):
        assert int(after) > int(before)
    assert "Every one right" in page
    # One refresher a day: the next is tomorrow at the earliest, said in words.
    assert "Your next refresher: <strong>tomorrow</strong>" in page or re.search(
        r"Your next refresher: <strong>\w+day \d+ \w+</strong>", page
    )


def test_the_summary_of_a_refresher_all_wrong_lists_what_is_worth_another_look(
    learner_with_history, client
):
    page = _take_refresher(learner_with_history, client, right=False)
    assert "What got stronger" not in page
    look = _section(page, "Worth another look")
    assert re.search(r"\d+ questions? to get right next time", look)
    assert re.search(r"\d+ missed", look)
    # Missed items are due again soon, but never twice in a day: tomorrow.
    tomorrow = local_date("UTC", utcnow()) + timedelta(days=1)
    assert f"<strong>tomorrow</strong> ({tomorrow:%A %-d %B})" in page
