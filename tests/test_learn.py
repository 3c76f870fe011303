"""The learner's flow through the Flask test client, with the starter library loaded."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.conftest import form_token
from trainer.extensions import db
from trainer.models import Attempt, Lesson, LessonRun, RolePlayAnswer

LESSON = "teller-greeting-at-the-counter"


@pytest.fixture
def learner(library_app, make_user, auth):
    make_user(job_role="teller", team="Millbrook branch")
    assert auth.login().status_code == 302
    return library_app


def lesson_row(app, key=LESSON):
    with app.app_context():
        lesson = db.session.scalar(select(Lesson).where(Lesson.key == key))
        return {
            "items": [(i.key, i.type, i.choices) for i in lesson.quiz.live_items],
            "roleplays": [(rp.key, rp.rubric) for rp in lesson.live_roleplays],
        }


def right_choices(choices):
    return [str(i) for i, c in enumerate(choices) if c["weight"] > 0]


def wrong_choice(choices):
    return [str(next(i for i, c in enumerate(choices) if c["weight"] <= 0))]


def answer(client, n, chosen, key=LESSON):
    page = client.get(f"/lessons/{key}/quiz/{n}").get_data(as_text=True)
    token = form_token(page)
    return client.post(
        f"/lessons/{key}/quiz/{n}", data={"choice": chosen, "token": token, "shown": "0"}
    ), token


def play_best_lines(client, key=LESSON) -> str:
    """Play the lesson's conversation, pressing the best-scored line each time; returns the
    ending page."""
    url = f"/lessons/{key}/conversation"
    with client.application.app_context():
        nodes = db.session.scalar(select(Lesson).where(Lesson.key == key)).conversation.nodes
    page = client.get(url).get_data(as_text=True)
    while "The way you went" not in page:
        lines = nodes[re.search(r'data-node="([a-z0-9-]+)"', page).group(1)]["choices"]
        best = max(range(len(lines)), key=lambda i: lines[i]["score"])
        hidden = dict(re.findall(r'name="(run|step)" type="hidden" value="(\d*)"', page))
        data = {"choice": str(best), "token": form_token(page), "shown": "0", **hidden}
        page = client.post(url, data=data, follow_redirects=True).get_data(as_text=True)
    return page


def count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_today_shows_the_path_with_its_next_lesson_and_due_date(learner, client):
    page = client.get("/").get_data(as_text=True)
    assert "Hello, Sam" in page
    assert "Teller onboarding" in page
    assert "0 of 10 lessons done" in page
    next_lesson = re.search(r'<div class="next">.*?</div>', page, re.S).group(0)
    assert "The first ten seconds at the counter" in next_lesson
    assert 'href="/lessons/teller-greeting-at-the-counter"' in next_lesson
    assert "Start lesson" in next_lesson
    assert "due " in next_lesson


def test_scenario_and_key_points_pages_show_the_lesson_text(learner, client):
    scenario = client.get(f"/lessons/{LESSON}").get_data(as_text=True)
    assert "The scenario" in scenario
    assert "Step 1 of" in scenario
    assert f'href="/lessons/{LESSON}/key-points"' in scenario
    points = client.get(f"/lessons/{LESSON}/key-points").get_data(as_text=True)
    assert "What good looks like" in points
    assert f'href="/lessons/{LESSON}/quiz/1"' in points


def test_a_right_answer_shows_its_feedback_and_the_explanation(learner, client):
    items = lesson_row(learner)["items"]
    key, _type, choices = items[0]
    response, _ = answer(client, 1, right_choices(choices))
    assert response.status_code == 303
    page = client.get(response.location).get_data(as_text=True)
    assert "✓ Right" in page
    chosen = next(c for c in choices if c["weight"] > 0)
    assert chosen["feedback"].split()[0] in page
    assert "Why" in page


def test_a_wrong_answer_shows_the_chosen_feedback_and_the_right_answer(learner, client):
    key, _type, choices = lesson_row(learner)["items"][0]
    wrong = wrong_choice(choices)
    response, _ = answer(client, 1, wrong)
    page = client.get(response.location).get_data(as_text=True)
    assert "Not quite" in page
    assert "Right answer:" in page
    with learner.app_context():
        attempt = db.session.scalar(select(Attempt))
        assert attempt.correct is False
        assert attempt.chosen == [int(wrong[0])]
        assert attempt.chosen_text == [choices[int(wrong[0])]["text"]]
        assert attempt.seconds is not None


def test_no_choice_gives_a_field_error_and_records_nothing(learner, client):
    page = client.get(f"/lessons/{LESSON}/quiz/1").get_data(as_text=True)
    response = client.post(
        f"/lessons/{LESSON}/quiz/1", data={"token": form_token(page), "shown": "0"}
    )
    assert response.status_code == 400
    assert "Choose an answer." in response.get_data(as_text=True)
    assert count(learner, Attempt) == 0


def test_a_double_submitted_answer_is_recorded_once(learner, client):
    _key, _type, choices = lesson_row(learner)["items"][0]
    first, token = answer(client, 1, right_choices(choices))
    replay = client.post(
        f"/lessons/{LESSON}/quiz/1",
        data={"choice": wrong_choice(choices), "token": token, "shown": "0"},
    )
    assert first.status_code == 303
    assert replay.status_code in (200, 303)
    assert count(learner, Attempt) == 1
    with learner.app_context():
        assert db.session.scalar(select(Attempt.correct)) is True


def test_a_second_form_for_an_answered_item_is_not_recorded_again(learner, client):
    _key, _type, choices = lesson_row(learner)["items"][0]
    answer(client, 1, right_choices(choices))
    # A stale tab with a different token for the same item of the same run.
    client.post(
        f"/lessons/{LESSON}/quiz/1",
        data={"choice": wrong_choice(choices), "token": "f" * 32, "shown": "0"},
    )
    assert count(learner, Attempt) == 1


def test_a_choice_that_does_not_exist_is_refused(learner, client):
    response, _ = answer(client, 1, ["99"])
    assert response.status_code == 400
    assert "not one of this question" in response.get_data(as_text=True)
    assert count(learner, Attempt) == 0


def test_whole_lesson_to_completion_with_score(learner, client):
    row = lesson_row(learner)
    for n, (_key, _type, choices) in enumerate(row["items"], start=1):
        chosen = right_choices(choices) if n > 1 else wrong_choice(choices)
        response, _ = answer(client, n, chosen)
        assert response.status_code == 303

    # The conversation comes after the quiz; the lesson is complete only once it has ended.
    last = client.get(f"/lessons/{LESSON}/quiz/{len(row['items'])}").get_data(as_text=True)
    assert f'href="/lessons/{LESSON}/conversation">Next: the conversation</a>' in last
    ending = play_best_lines(client, LESSON)
    assert "A good ending" in ending
    assert f'href="/lessons/{LESSON}/roleplay/1">Next: role-play</a>' in ending

    for n, (_key, _rubric) in enumerate(row["roleplays"], start=1):
        url = f"/lessons/{LESSON}/roleplay/{n}"
        page = client.get(url).get_data(as_text=True)
        assert "What would you say?" in page
        response = client.post(
            url, data={"text": "Good morning, I'm Sam. How can I help?", "token": form_token(page)}
        )
        assert response.status_code == 303
        shown = client.get(url).get_data(as_text=True)
        assert "A model answer" in shown
        assert "Good morning, I&#39;m Sam" in shown
        response = client.post(f"{url}/rubric", data={"ticked": ["0", "1"]})
        assert response.status_code == 303

    done = client.get(f"/lessons/{LESSON}/done").get_data(as_text=True)
    total = len(row["items"])
    assert "Lesson complete" in done
    assert f"You got <strong>{total - 1} of {total}</strong>" in done

    with learner.app_context():
        run = db.session.scalar(select(LessonRun))
        assert run.completed_at is not None
        assert (run.correct, run.total) == (total - 1, total)
        answers = db.session.scalars(select(RolePlayAnswer)).all()
        assert len(answers) == len(row["roleplays"])
        assert answers[0].ticked == answers[0].rubric[:2]
    today = client.get("/").get_data(as_text=True)
    assert "1 of 10 lessons done" in today


def test_done_before_finishing_sends_the_learner_to_the_first_gap(learner, client):
    _key, _type, choices = lesson_row(learner)["items"][0]
    answer(client, 1, right_choices(choices))
    response = client.get(f"/lessons/{LESSON}/done")
    assert response.status_code == 302
    assert response.location.endswith(f"/lessons/{LESSON}/quiz/2")


def test_an_empty_roleplay_answer_gets_a_field_error(learner, client):
    url = f"/lessons/{LESSON}/roleplay/1"
    page = client.get(url).get_data(as_text=True)
    response = client.post(url, data={"text": "  ", "token": form_token(page)})
    assert response.status_code == 400
    assert "Write what you would say" in response.get_data(as_text=True)
    assert count(learner, RolePlayAnswer) == 0


def test_a_double_submitted_roleplay_answer_is_kept_once(learner, client):
    url = f"/lessons/{LESSON}/roleplay/1"
    token = form_token(client.get(url).get_data(as_text=True))
    for _ in range(2):
        client.post(url, data={"text": "Hello there", "token": token})
    assert count(learner, RolePlayAnswer) == 1


def test_unknown_lesson_and_step_are_not_found(learner, client):
    assert client.get("/lessons/no-such-lesson").status_code == 404
    assert client.get(f"/lessons/{LESSON}/quiz/99").status_code == 404
    assert client.get(f"/lessons/{LESSON}/roleplay/9").status_code == 404


def test_library_lists_lessons_for_the_learners_role_first(learner, client):
    page = client.get("/lessons").get_data(as_text=True)
    first_teller = page.find('href="/lessons/teller-greeting-at-the-counter"')
    first_waiter = page.find('href="/lessons/table-greeting-first-minute"')
    assert 0 < first_teller < first_waiter
