"""Answers sent at the same moment, on both databases: two tabs of one lesson, and a lesson and
a refresher answering the same item. Each request runs in its own thread with its own session;
a barrier releases them together so they really collide."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import date
from functools import partial

from sqlalchemy import func, select

from tests.conftest import form_token, sync_starter_library
from tests.conversation_support import play_lessons_conversation
from trainer.extensions import db
from trainer.learn import services as learn
from trainer.models import (
    Attempt,
    Lesson,
    LessonRun,
    QuizItem,
    Refresher,
    ReviewCard,
    ReviewLog,
    User,
)
from trainer.people.services import create_user
from trainer.review.refresher import record_refresher_answer

LESSON = "teller-greeting-at-the-counter"
PASSWORD = "correct horse"
TRIALS = 30


def at_once(*calls) -> list:
    """Run each call in its own thread, all released by one barrier. Returns what each call
    returned, or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        try:
            results[i] = call()
        except Exception as exc:  # a server error is an outcome the test counts
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def seen(result) -> str:
    """What the learner's tab shows after sending the answer."""
    if isinstance(result, Exception):
        return f"error: {type(result).__name__}"
    page = result.get_data(as_text=True)
    return "feedback" if result.status_code == 200 and "✓ Right" in page else "no feedback"


def learners(app, prefix: str, n: int) -> list[str]:
    emails = [f"{prefix}{i}@example.com" for i in range(n)]
    with app.app_context():
        for email in emails:
            create_user(db.session, email=email, name="Sam Teller", password=PASSWORD)
        db.session.commit()
    return emails


def signed_in(app, email: str):
    client = app.test_client()
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
    return client


def first_item(app) -> tuple[int, list[str]]:
    """The id of the lesson's first question and a right answer to it, as form values."""
    with app.app_context():
        lesson = db.session.scalar(select(Lesson).where(Lesson.key == LESSON))
        item = lesson.quiz.live_items[0]
        return item.id, [str(i) for i, c in enumerate(item.choices) if c["weight"] > 0][:1]


def open_question(client, url: str, chosen: list[str]):
    """Open the question in a tab (with its own form token); returns the tab's submission."""
    token = form_token(client.get(url).get_data(as_text=True))
    data = {"choice": chosen, "token": token, "shown": "0"}
    return lambda: client.post(url, data=data, follow_redirects=True)


def two_tabs(*tabs: tuple) -> list[str]:
    """Each (client, url, chosen) tab opens its question, all at once, then all send at once.
    Opening together also gives each its own warm database connection, as busy workers have."""
    sends = at_once(*(partial(open_question, *tab) for tab in tabs))
    return [seen(result) for result in at_once(*sends)]


def lesson_taken_once(app, email: str) -> None:
    """The learner goes through the whole lesson once: every question, the conversation, every
    role-play."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        lesson = db.session.scalar(select(Lesson).where(Lesson.key == LESSON))
        for item in lesson.quiz.live_items:
            learn.record_answer(db.session, user, lesson, item, [0], uuid.uuid4().hex, 12.0)
        for roleplay in lesson.live_roleplays:
            said = learn.record_roleplay(
                db.session, user, lesson, roleplay, "Good morning!", uuid.uuid4().hex
            )
            learn.tick_rubric(db.session, said, [0])
        play_lessons_conversation(db.session, user, lesson)
        assert learn.complete_run(db.session, learn.open_run(db.session, user, lesson))


def per_learner(query, emails: list[str]) -> Counter:
    """How many learners have each count of what `query` counts for a user id."""
    counts = Counter()
    for email in emails:
        user_id = db.session.scalar(select(User.id).where(User.email == email))
        counts[db.session.scalar(query(user_id))] += 1
    return counts


def open_runs(user_id):
    return select(func.count(LessonRun.id)).where(
        LessonRun.user_id == user_id, LessonRun.completed_at.is_(None)
    )


def answers_in_open_runs(user_id):
    return (
        select(func.count(Attempt.id))
        .join(LessonRun, LessonRun.id == Attempt.run_id)
        .where(Attempt.user_id == user_id, LessonRun.completed_at.is_(None))
    )


def cards(emails: list[str]) -> Counter:
    """(repetitions, attempts, review logs) of every card of these learners, counted."""
    attempts = select(func.count(Attempt.id)).where(
        Attempt.user_id == ReviewCard.user_id, Attempt.item_id == ReviewCard.item_id
    )
    logs = select(func.count(ReviewLog.id)).where(ReviewLog.card_id == ReviewCard.id)
    rows = db.session.execute(
        select(ReviewCard.reps, attempts.scalar_subquery(), logs.scalar_subquery())
        .join(User, User.id == ReviewCard.user_id)
        .where(User.email.in_(emails))
    )
    return Counter(tuple(row) for row in rows)


def test_two_tabs_answering_question_one_at_once_store_one_run_and_one_attempt(any_db_app):
    app = any_db_app
    sync_starter_library(app)
    emails = learners(app, "tabs", TRIALS)
    _item_id, right = first_item(app)
    url = f"/lessons/{LESSON}/quiz/1"

    shown = Counter()
    for n, email in enumerate(emails):
        if n % 2:  # half of them take the lesson again: their cards exist already
            lesson_taken_once(app, email)
        browser = signed_in(app, email)
        shown.update(two_tabs((browser, url, right), (browser, url, right)))

    # Each tab shows the question's feedback, as if it had been the only one.
    assert shown == {"feedback": 2 * TRIALS}
    with app.app_context():
        assert per_learner(open_runs, emails) == {1: TRIALS}
        assert per_learner(answers_in_open_runs, emails) == {1: TRIALS}
        mismatched = Counter({card: n for card, n in cards(emails).items() if len(set(card)) > 1})
        assert mismatched == Counter(), "(reps, attempts, logs) of cards that lost an update"


def test_a_lesson_and_a_refresher_answering_one_item_at_once_both_count_on_its_card(any_db_app):
    """Different places, so both answers are kept, and the card takes both of them."""
    app = any_db_app
    sync_starter_library(app)
    emails = learners(app, "both", TRIALS)
    item_id, right = first_item(app)

    shown = Counter()
    for n, email in enumerate(emails):
        with app.app_context():
            user = db.session.scalar(select(User).where(User.email == email))
            earlier, now = (
                Refresher(
                    user_id=user.id,
                    local_date=date(2026, 11, 23),
                    kind="practice",
                    round=r,
                    item_ids=[item_id],
                    budget_seconds=300,
                )
                for r in (1, 2)
            )
            db.session.add_all([earlier, now])
            db.session.commit()
            if n % 2:  # every other learner already has a card for the item
                item = db.session.get(QuizItem, item_id)
                record_refresher_answer(
                    db.session, user, earlier, item, [int(right[0])], uuid.uuid4().hex, 12.0
                )
            refresher_id = now.id
        browser = signed_in(app, email)
        shown.update(
            two_tabs(
                (browser, f"/lessons/{LESSON}/quiz/1", right),
                (browser, f"/refresher/{refresher_id}/1", right),
            )
        )

    assert shown == {"feedback": 2 * TRIALS}
    with app.app_context():
        # (reps, attempts, logs): 2 for a first answer in both places, 3 with the earlier one.
        assert cards(emails) == {(2, 2, 2): TRIALS - TRIALS // 2, (3, 3, 3): TRIALS // 2}
