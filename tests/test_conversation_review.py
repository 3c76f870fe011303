"""A conversation's decisions after it is played: they come back in refreshers on the same
review cards, and managers see them in the skill grid, on the person page and among the
team's weak turns."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import form_token
from tests.conversation_support import (
    TO_GOOD,
    TO_MIXED,
    TO_POOR,
    get,
    load_into,
    play_as,
    write_conversation_library,
)
from trainer.extensions import db
from trainer.manage import insight
from trainer.models import (
    Attempt,
    Conversation,
    QuizItem,
    Refresher,
    ReviewCard,
    ReviewLog,
    User,
    utcnow,
)
from trainer.people.services import create_user, get_or_create_team
from trainer.review.planning import item_skills

PASSWORD = "correct horse"


@pytest.fixture
def world(any_db_app, tmp_path):
    """A manager of a team of two learners, and the library with its conversation."""
    app = any_db_app
    load_into(app, write_conversation_library(tmp_path / "content"))
    with app.app_context():
        team = get_or_create_team(db.session, "Millbrook branch")
        manager = create_user(
            db.session, email="maria@example.com", name="Maria", password=PASSWORD, role="manager"
        )
        team.managers.append(manager)
        ids = {}
        for email, name in (("sam@example.com", "Sam Taylor"), ("ana@example.com", "Ana Ruiz")):
            user = create_user(db.session, email=email, name=name, password=PASSWORD)
            user.team = team
            db.session.flush()
            ids[name.split()[0].lower()] = user.id
        db.session.commit()
    return app, ids


def signed_in(app, email: str):
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def decision_cards(user_id: int) -> dict[str, tuple[int, int]]:
    """(repetitions, review logs) of the learner's card for each decision, by node."""
    logs = select(func.count(ReviewLog.id)).where(ReviewLog.card_id == ReviewCard.id)
    rows = db.session.execute(
        select(QuizItem.key, ReviewCard.reps, logs.scalar_subquery())
        .join(QuizItem, QuizItem.id == ReviewCard.item_id)
        .where(ReviewCard.user_id == user_id)
    )
    return {key: (reps, logged) for key, reps, logged in rows}


def test_a_decision_comes_back_in_a_later_refresher_on_the_same_card(world):
    app, ids = world
    with app.app_context():
        play_as(ids["sam"], TO_MIXED, when=utcnow() - timedelta(days=12))
        assert decision_cards(ids["sam"]) == {"open": (1, 1), "listen": (1, 1), "plan": (1, 1)}
    client = signed_in(app, "sam@example.com")

    response = client.get("/refresher")
    assert response.status_code == 302
    refresher_id = int(re.search(r"/refresher/(\d+)/1$", response.location).group(1))
    with app.app_context():
        planned = db.session.get(Refresher, refresher_id).item_ids
        keys = [db.session.get(QuizItem, item_id).key for item_id in planned]
    assert sorted(keys) == ["listen", "open", "plan"]

    n = keys.index("listen") + 1
    url = f"/refresher/{refresher_id}/{n}"
    page = get(client, url)
    assert "The third call about a late payment" in page.text
    assert "The customer says: “Go on, then. But I can't pay it all.” What do you say?" in (
        page.text
    )
    assert "Thanks. What's made this month hard?" in page.text
    # The line he said then scored 1 of 2; this time the learner picks the best one.
    response = client.post(
        url, data={"choice": ["0"], "token": form_token(page.html), "shown": "0"}
    )
    assert response.status_code == 303
    feedback = get(client, url)
    assert "✓ Right" in feedback.text
    assert "An open question: he tells you what you need to build a plan." in feedback.text

    with app.app_context():
        cards = decision_cards(ids["sam"])
        assert cards["listen"] == (2, 2)  # one card, moved by the conversation and the refresher
        assert (
            db.session.scalar(select(Attempt.context).where(Attempt.refresher_id == refresher_id))
            == "refresher"
        )


def test_a_weaker_line_in_a_refresher_shows_the_best_one(world):
    app, ids = world
    with app.app_context():
        play_as(ids["sam"], TO_GOOD, when=utcnow() - timedelta(days=12))
    client = signed_in(app, "sam@example.com")
    refresher_id = int(
        re.search(r"/refresher/(\d+)/1$", client.get("/refresher").location).group(1)
    )
    with app.app_context():
        planned = db.session.get(Refresher, refresher_id).item_ids
        keys = [db.session.get(QuizItem, item_id).key for item_id in planned]
    url = f"/refresher/{refresher_id}/{keys.index('listen') + 1}"
    page = get(client, url)
    client.post(url, data={"choice": ["1"], "token": form_token(page.html), "shown": "0"})
    feedback = get(client, url).text
    assert "◐ Partly right" in feedback
    assert "Your answer: How much can you pay today? Fair, but it skips why he is behind." in (
        feedback
    )
    assert "Right answer: Thanks. What's made this month hard?" in feedback


def test_decisions_count_for_the_conversations_skill(world):
    app, ids = world
    with app.app_context():
        play_as(ids["sam"], TO_GOOD)
        talk = db.session.scalar(select(Conversation))
        skills = item_skills(db.session)
        assert {skills[item.id] for item in talk.quiz.items} == {"collections-call"}


def test_the_skill_grid_counts_conversation_results(world):
    app, ids = world
    with app.app_context():
        play_as(ids["sam"], TO_POOR, when=utcnow() - timedelta(days=3))
        play_as(ids["sam"], TO_GOOD, when=utcnow() - timedelta(days=1))
        play_as(ids["ana"], TO_MIXED, when=utcnow() - timedelta(days=1))
        grid = insight.skill_grid(db.session, select(User).where(User.role == "learner"))
        assert grid.skills == ["collections-call"]
        cells = {row.person.name: row.cell("collections-call") for row in grid.rows}
        assert cells["Sam Taylor"].ending == "good"  # the latest run counts
        assert cells["Ana Ruiz"].ending == "mixed"
        assert cells["Sam Taylor"].items == 4  # open, angry, listen, plan: every decision met
        assert cells["Ana Ruiz"].items == 3
        assert cells["Sam Taylor"].now is not None
    page = get(signed_in(app, "maria@example.com"), "/manage/skills")
    assert "Collections call" in page.text
    assert "Talk: , latest conversation ended good" in page.text
    assert "Talk: , latest conversation ended mixed" in page.text


def test_the_person_page_shows_each_runs_way_and_ending(world):
    app, ids = world
    with app.app_context():
        play_as(ids["sam"], TO_POOR, when=utcnow() - timedelta(days=2))
        play_as(ids["sam"], TO_MIXED, when=utcnow() - timedelta(days=1))
    page = get(signed_in(app, "maria@example.com"), f"/manage/people/{ids['sam']}")
    text = page.text
    section = text[text.index("Conversations The latest 2") :]
    mixed, poor = section.index("A mixed ending"), section.index("A poor ending")
    assert mixed < poor  # newest first
    assert "A mixed ending · 3 of 6 points (50%)" in section
    assert "A poor ending · 0 of 6 points (0%)" in section
    assert (
        "The customer (angry): “I told the last one. My hours got cut!” Weaker line: “I "
        "understand, but the account is still in arrears.” (0 of 2) Better: “I'm sorry, that "
        "sounds hard. Can we look at it together?”" in section
    )
    assert "Best line: “Good afternoon, Mr Ortiz" in section
    assert "· conversation" in text  # the answers list says where each was given


def test_the_questions_view_shows_the_most_common_weak_turns(world):
    app, ids = world
    with app.app_context():
        play_as(ids["sam"], TO_POOR)
        play_as(ids["sam"], TO_MIXED)
        play_as(ids["ana"], TO_MIXED)
        turns = insight.weak_turns(
            db.session, select(User).where(User.role == "learner"), utcnow() - timedelta(days=1)
        )
    assert [(t.said, t.times) for t in turns] == [
        ("How much can you pay today?", 2),
        ("The minimum is sixty, I'm afraid.", 2),
        ("You are 45 days past due. We need a payment today.", 1),
        ("I understand, but the account is still in arrears.", 1),
    ]  # most often first; then in the conversation's order
    assert turns[0].customer == "Go on, then. But I can't pay it all."
    assert turns[0].better == ["Thanks. What's made this month hard?"]
    page = get(signed_in(app, "maria@example.com"), "/manage/questions")
    text = page.text
    turns_section = text[text.index("Weak turns in conversations") :]
    assert (
        "The third call about a late payment The customer: “Go on, then. But I can't pay it "
        "all.” 2 times : “How much can you pay today?” Better: “Thanks. What's made this month "
        "hard?”" in turns_section
    )
    # Turns are not also listed as quiz questions.
    assert "What do you say?" not in text[: text.index("Weak turns in conversations")]
