"""Playing a conversation in a lesson, through the Flask test client: one page per turn, each
ending, the way taken, "Try again", and every choice stored once."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from tests.conftest import form_token
from tests.conversation_samples import CONVERSATION, YAML_PATH
from tests.conversation_support import (
    LESSON_KEY,
    TO_GOOD,
    TO_MIXED,
    TO_POOR,
    URL,
    Page,
    form_of,
    get,
    load_into,
    play,
    say,
    write_conversation_library,
)
from tests.test_content_check import edited
from trainer.content.library import load_library
from trainer.content.sync import sync_library
from trainer.extensions import db
from trainer.models import Attempt, ConversationRun, LessonRun, ReviewCard, ReviewLog, User
from trainer.people.services import create_user

PASSWORD = "correct horse"


@pytest.fixture
def root(tmp_path):
    return write_conversation_library(tmp_path / "content")


@pytest.fixture
def learner(app, root, client):
    load_into(app, root)
    with app.app_context():
        create_user(db.session, email="sam@example.com", name="Sam", password=PASSWORD)
        db.session.commit()
    assert (
        client.post("/login", data={"email": "sam@example.com", "password": PASSWORD}).status_code
        == 302
    )
    return app


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def runs(app) -> list[ConversationRun]:
    with app.app_context():
        found = db.session.scalars(select(ConversationRun).order_by(ConversationRun.id)).all()
        for run in found:
            db.session.expunge(run)
        return found


# -- one page per turn ----------------------------------------------------------------------------


def test_the_conversation_comes_after_the_quiz(learner, client):
    page = client.get(f"/lessons/{LESSON_KEY}/quiz/3").get_data(as_text=True)
    client.post(
        f"/lessons/{LESSON_KEY}/quiz/3",
        data={"choice": ["0"], "token": form_token(page), "shown": "0"},
    )
    answered = get(client, f"/lessons/{LESSON_KEY}/quiz/3")
    assert f'href="{URL}">Next: the conversation</a>' in answered.html
    start = get(client)
    assert "Step 6 of 8 · Conversation" in start.text  # scenario, points, 3 questions, here


def test_the_first_page_is_the_customers_line_and_the_lines_to_say(learner, client):
    page = get(client)
    assert page.status == 200
    assert "The third call about a late payment" in page.text
    assert "The customer (defensive) “I know, I'm late again. What do you want?”" in page.text
    assert "What do you say?" in page.text
    assert page.html.count('class="say-line"') == 2
    assert '<button type="submit" name="choice" value="1" class="say-line">' in page.html
    assert page.field("run") == "" and page.field("step") == "0"
    assert count(learner, ConversationRun) == 0  # nothing is stored before the first choice


def test_a_choice_shows_its_feedback_then_the_customers_reaction(learner, client):
    page = say(client, 0)
    assert page.status == 200
    text = page.text
    said = text.index("You “Good afternoon, Mr Ortiz")
    verdict = text.index("✓ Good line. Name, bank, and asking for time")
    reaction = text.index("The customer “Go on, then. But I can't pay it all.”")
    assert said < verdict < reaction
    assert "Thanks. What's made this month hard?" in text
    assert page.field("step") == "1"

    weaker = say(client, 1)
    assert "◐ Could be better. Fair, but it skips why he is behind." in weaker.text


@pytest.mark.parametrize(
    ("lines", "node", "outcome", "summary", "points", "share"),
    [
        (TO_GOOD, "saved", "A good ending", "He agrees a plan he can keep", "6 of 6", 100),
        (TO_MIXED, "grudging", "A mixed ending", "He agrees to sixty to end", "3 of 6", 50),
        (TO_POOR, "lost", "A poor ending", "He hangs up.", "0 of 6", 0),
    ],
)
def test_each_ending_shows_its_outcome_summary_score_and_way(
    learner, client, lines, node, outcome, summary, points, share
):
    page = play(client, lines)
    assert page.status == 200
    text = page.text
    assert outcome in text
    assert summary in text
    assert f"You scored {points} points: {share}% of the best way through." in text
    assert "The way you went" in text
    assert 'href="/lessons/greeting/conversation" data-in-place>Try again</a>' in page.html
    assert 'href="/lessons/greeting/roleplay/1">Next: role-play</a>' in page.html
    (run,) = runs(learner)
    assert (run.ending, run.steps, run.node) == (outcome.split()[1], len(lines), node)
    assert run.finished_at is not None


def test_the_way_taken_shows_the_better_line_where_one_scored_less(learner, client):
    text = play(client, TO_MIXED).text
    way = text[text.index("The way you went") :]
    assert "You said (2 of 2 points): “Good afternoon, Mr Ortiz" in way
    assert "You said (1 of 2 points): “How much can you pay today?”" in way
    assert (
        "Better: “Thanks. What's made this month hard?” An open question: he tells you what "
        "you need to build a plan." in way
    )
    assert "You said (0 of 2 points): “The minimum is sixty, I'm afraid.”" in way
    assert "Better: “Forty a week works." in way
    assert way.count("Better:") == 2  # none where the best line was said


def test_try_again_starts_a_new_run_and_keeps_the_old_one(learner, client):
    play(client, TO_POOR)
    again = get(client)
    assert "Last time you reached a poor ending, with 0 of 6 points. Play it again" in again.text
    assert "The customer (defensive)" in again.text
    play(client, TO_GOOD)
    first, second = runs(learner)
    assert (first.ending, second.ending) == ("poor", "good")
    assert first.lesson_run_id == second.lesson_run_id  # both in this pass of the lesson


def test_every_choice_is_kept_in_order_in_the_run(learner, client):
    play(client, TO_MIXED)
    with learner.app_context():
        attempts = db.session.scalars(select(Attempt).order_by(Attempt.step)).all()
        run = db.session.scalar(select(ConversationRun))
        assert [(a.step, a.item.key, a.chosen, a.context) for a in attempts] == [
            (0, "open", [0], "conversation"),
            (1, "listen", [1], "conversation"),
            (2, "plan", [1], "conversation"),
        ]
        assert {a.conversation_run_id for a in attempts} == {run.id}
        assert [a.correct for a in attempts] == [True, False, False]
        assert run.points == 3 and run.best == 6


# -- once, however often it is sent ---------------------------------------------------------


def test_a_double_submitted_choice_is_recorded_once(learner, client):
    page = get(client)
    data = form_of(page, 0)
    for _ in range(2):
        response = client.post(URL, data=data)
        assert response.status_code == 303
    assert count(learner, Attempt) == 1
    (run,) = runs(learner)
    assert (run.steps, run.node) == (1, "listen")


def test_a_form_from_an_earlier_turn_records_nothing(learner, client):
    start = get(client)
    say(client, 0, start)  # the learner goes on in one tab...
    stale = say(client, 1, start)  # ...and presses the other line in the first tab, later
    assert count(learner, Attempt) == 1
    assert "Go on, then. But I can't pay it all." in stale.text  # where the run really is
    listen = get(client)
    say(client, 0, listen)
    say(client, 1, listen)  # the Back button, one turn on
    assert count(learner, Attempt) == 2


def test_a_line_that_is_not_there_is_refused(learner, client):
    page = get(client)
    response = client.post(URL, data=form_of(page, 5))
    assert response.status_code == 400
    assert "That is not one of the lines you can say here." in response.get_data(as_text=True)
    response = client.post(URL, data={**form_of(page, 0), "choice": "first"})
    assert response.status_code == 400
    assert count(learner, Attempt) == 0 and count(learner, ConversationRun) == 0


def test_first_choices_from_two_tabs_at_once_start_one_run(any_db_app, tmp_path):
    """Each learner opens the start in two tabs, and both press a line at the same moment."""
    app = any_db_app
    load_into(app, write_conversation_library(tmp_path / "content"))
    emails = [f"tabs{n}@example.com" for n in range(12)]
    with app.app_context():
        for email in emails:
            create_user(db.session, email=email, name="Sam", password=PASSWORD)
        db.session.commit()
    shown = Counter()
    for email in emails:
        client = app.test_client()
        client.post("/login", data={"email": email, "password": PASSWORD})
        pages = [get(client), get(client)]
        barrier = threading.Barrier(2)
        results: list = [None, None]

        def send(i, page, client=client, barrier=barrier, results=results):
            barrier.wait()
            response = client.post(URL, data=form_of(page, i), follow_redirects=True)
            results[i] = Page(response.status_code, response.get_data(as_text=True))

        threads = [threading.Thread(target=send, args=(i, p)) for i, p in enumerate(pages)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        shown.update(page.status for page in results)
    assert shown == {200: 2 * len(emails)}
    with app.app_context():
        per_learner = Counter(
            db.session.execute(
                select(
                    func.count(ConversationRun.id),
                    func.sum(ConversationRun.steps),
                ).group_by(ConversationRun.user_id)
            ).all()
        )
        assert per_learner == {(1, 1): len(emails)}
        assert db.session.scalar(select(func.count(Attempt.id))) == len(emails)
        assert db.session.scalar(select(func.count(LessonRun.id))) == len(emails)
        reps = Counter(db.session.scalars(select(ReviewCard.reps)))
        assert reps == {1: len(emails)}
        assert db.session.scalar(select(func.count(ReviewLog.id))) == len(emails)


# -- the lesson around it -------------------------------------------------------------------------


def finish_quiz_and_roleplay(client) -> None:
    for n in (1, 2, 3):
        page = client.get(f"/lessons/{LESSON_KEY}/quiz/{n}").get_data(as_text=True)
        client.post(
            f"/lessons/{LESSON_KEY}/quiz/{n}",
            data={"choice": ["0"], "token": form_token(page), "shown": "0"},
        )
    url = f"/lessons/{LESSON_KEY}/roleplay/1"
    page = client.get(url).get_data(as_text=True)
    client.post(url, data={"text": "Thanks for waiting.", "token": form_token(page)})
    client.post(f"{url}/rubric", data={"ticked": ["0"]})


def test_a_lesson_is_complete_once_its_conversation_reaches_an_ending(learner, client):
    finish_quiz_and_roleplay(client)
    response = client.get(f"/lessons/{LESSON_KEY}/done")
    assert response.status_code == 302
    assert response.location.endswith(URL)
    assert count(learner, LessonRun, LessonRun.completed_at.is_not(None)) == 0

    play(client, TO_MIXED)
    done = get(client, f"/lessons/{LESSON_KEY}/done")
    assert "Lesson complete" in done.text
    assert "In the conversation you reached a mixed ending, with 3 of 6 points." in done.text
    assert count(learner, LessonRun, LessonRun.completed_at.is_not(None)) == 1


def test_the_start_page_lets_a_learner_go_on_after_an_ending_in_this_pass(learner, client):
    play(client, TO_GOOD)
    page = get(client)
    assert "go on to the <a" not in page.html
    assert 'href="/lessons/greeting/roleplay/1">go on to the role-play</a>' in page.html


def test_another_learners_run_and_a_lesson_without_one_are_not_found(learner, client, app):
    play(client, TO_GOOD)
    (run,) = runs(learner)
    with app.app_context():
        create_user(db.session, email="kim@example.com", name="Kim", password=PASSWORD)
        db.session.commit()
    other = app.test_client()
    other.post("/login", data={"email": "kim@example.com", "password": PASSWORD})
    assert other.get(f"{URL}/runs/{run.id}").status_code == 404
    assert client.get(f"{URL}/runs/{run.id}").status_code == 200
    assert client.get(f"{URL}/runs/99999").status_code == 404
    assert client.get("/lessons/no-such-lesson/conversation").status_code == 404


def test_a_run_whose_node_left_the_file_is_set_aside(learner, client, root):
    say(client, 1)  # at "angry"
    without_angry = edited(CONVERSATION, "        next: angry\n", "        next: plan\n")
    start, end = without_angry.index("  angry:\n"), without_angry.index("  plan:\n")
    without_angry = without_angry[:start] + without_angry[end:]
    without_angry = without_angry[: without_angry.index("  lost:\n")]
    (root / YAML_PATH).write_text(without_angry, encoding="utf-8")
    with learner.app_context():
        sync_library(db.session, load_library(root))
    page = get(client)
    assert "The customer (defensive)" in page.text  # back at the start
    (run,) = runs(learner)
    assert run.finished_at is not None and run.ending is None
    say(client, 0, page)
    assert len(runs(learner)) == 2


def test_the_player_works_for_the_learner_only(app, root, client):
    load_into(app, root)
    response = client.get(URL)
    assert response.status_code == 302 and "/login" in response.location
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == 0
