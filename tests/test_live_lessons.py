"""Each process keeps the lessons it has shown in memory (trainer/content/live.py): a change to
the library shows on the next page, whether it was made in this process or in another one."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from sqlalchemy import select

from tests.conftest import ROOT, sync_starter_library
from trainer.extensions import db
from trainer.learn.services import live_lesson
from trainer.models import LibraryState, QuizItem
from trainer.people.services import create_user

KEY = "teller-greeting-at-the-counter"
PASSWORD = "correct horse battery"


def _first_item_id(app) -> int:
    with app.app_context():
        return live_lesson(db.session, KEY).quiz.live_items[0].id


def _reword(app, item_id: int, prompt: str) -> None:
    with app.app_context():
        db.session.get(QuizItem, item_id).prompt = prompt
        db.session.commit()


def test_a_change_made_in_this_process_shows_on_the_next_page(library_app):
    app = library_app
    with app.app_context():
        create_user(db.session, email="ana@example.com", name="Ana", password=PASSWORD)
        db.session.commit()
    client = app.test_client()
    client.post("/login", data={"email": "ana@example.com", "password": PASSWORD})
    before = client.get(f"/lessons/{KEY}/quiz/1").get_data(as_text=True)
    assert "Which greeting, said aloud to the customer?" not in before

    _reword(app, _first_item_id(app), "Which greeting, said aloud to the customer?")
    after = client.get(f"/lessons/{KEY}/quiz/1").get_data(as_text=True)
    assert "Which greeting, said aloud to the customer?" in after


def test_a_change_made_in_another_process_shows_once_it_looks_again(app):
    """Another process (here a real one: a second Python on the same database file) rewords
    a question; this one, which asks the library's version at most every
    LIBRARY_CHECK_SECONDS, shows the new words as soon as it asks."""
    sync_starter_library(app)
    item_id = _first_item_id(app)
    cache = app.extensions["trainer.live_lessons"]
    with app.app_context():
        version = db.session.scalar(select(LibraryState.version))
        assert live_lesson(db.session, KEY).quiz.live_items[0].prompt != "Reworded elsewhere"

    database = app.config["SQLALCHEMY_DATABASE_URI"]
    script = textwrap.dedent(
        f"""
        from trainer import create_app
        from trainer.extensions import db
        from trainer.models import QuizItem
        app = create_app("test", {{"SQLALCHEMY_DATABASE_URI": {database!r}}})
        with app.app_context():
            db.session.get(QuizItem, {item_id}).prompt = "Reworded elsewhere"
            db.session.commit()
        """
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, timeout=120)

    with app.app_context():
        assert db.session.scalar(select(LibraryState.version)) == version + 1
        # Until it looks again, this process shows what it has...
        assert live_lesson(db.session, KEY).quiz.live_items[0].prompt != "Reworded elsewhere"
    cache.check_seconds = 0  # ...and it looks again once the interval is over.
    with app.app_context():
        assert live_lesson(db.session, KEY).quiz.live_items[0].prompt == "Reworded elsewhere"


def test_the_kept_lessons_belong_to_no_request(library_app):
    """The lesson a page reads is detached: committing or closing a request's session leaves
    it readable, and nothing a request adds can drag it into that session."""
    app = library_app
    with app.app_context():
        lesson = live_lesson(db.session, KEY)
        assert lesson not in db.session
        db.session.commit()
    with app.app_context():
        again = live_lesson(db.session, KEY)
        assert again is lesson and again not in db.session
        assert again.title and again.quiz.live_items[0].choices
