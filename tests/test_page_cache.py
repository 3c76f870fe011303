"""Kept pages (trainer/page_cache.py): a learner's Today, an answered question and a manager's
team page are served again as drawn while nothing says they changed. A person's own writes show
at once, in every process; others' show within PAGE_CACHE_SECONDS; nobody gets anyone else's
page, a stale CSRF token, a one-time answer form twice, or loses a flashed message."""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from flask_login import login_required
from sqlalchemy import select, update

from tests.conftest import form_token, make_app, sync_starter_library, tables_made
from tests.test_learn import LESSON, answer, lesson_row, right_choices
from trainer.extensions import db
from trainer.models import Lesson, User
from trainer.page_cache import EXTENSION

PASSWORD = "correct horse"
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def _kept_app(tmp_path, request, **config):
    config = {"PAGE_CACHE_SECONDS": 60, **config}
    return make_app(tmp_path, "sqlite", request, **config)


@contextmanager
def _kept_library_app(tmp_path, request, **config):
    """The app with pages kept, on SQLite, with the starter library."""
    with tables_made(_kept_app(tmp_path, request, **config)) as app:
        sync_starter_library(app)
        yield app


@pytest.fixture
def app(tmp_path, request):
    with _kept_library_app(tmp_path, request) as app:
        yield app


@pytest.fixture
def clock(monkeypatch):
    """The kept pages' clock, moved by hand."""
    now = [1000.0]
    monkeypatch.setattr("trainer.page_cache.time.monotonic", lambda: now[0])
    return now


def _person(app, email, **fields):
    from trainer.people.services import create_user

    fields.setdefault("name", email.split("@")[0].title())
    with app.app_context():
        user = create_user(db.session, email=email, password=PASSWORD, **fields)
        db.session.commit()
        return user.id


def _signed_in(app, email):
    client = app.test_client()
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
    return client


def _rename_behind_the_pages_back(app, user_id, name):
    """A change no request of theirs made (an admin's, a job's): their version stays."""
    with app.app_context():
        db.session.execute(update(User).where(User.id == user_id).values(name=name))
        db.session.commit()


def _version(app, user_id) -> int:
    with app.app_context():
        return db.session.scalar(select(User.page_version).where(User.id == user_id))


def test_today_is_kept_until_the_person_writes_then_drawn_again(app, clock):
    ana = _person(app, "ana@example.com", name="Ana Ruiz", job_role="teller")
    client = _signed_in(app, "ana@example.com")
    assert "Ana" in client.get("/").get_data(as_text=True)
    _rename_behind_the_pages_back(app, ana, "Carla Ruiz")
    assert "Hello, Ana" in client.get("/").get_data(as_text=True)  # kept

    # Their own answer moves their version: every page of theirs is drawn again at once.
    before = _version(app, ana)
    items = lesson_row(app)["items"]
    response, _token = answer(client, 1, right_choices(items[0][2]))
    assert response.status_code == 303
    assert _version(app, ana) > before
    page = client.get("/").get_data(as_text=True)
    assert "Hello, Carla" in page
    assert "Continue" in page  # the lesson they started


def test_what_others_change_shows_within_the_kept_seconds(app, clock):
    ana = _person(app, "ana@example.com", name="Ana Ruiz", job_role="teller")
    client = _signed_in(app, "ana@example.com")
    client.get("/")
    _rename_behind_the_pages_back(app, ana, "Carla Ruiz")
    clock[0] += 59
    assert "Hello, Ana" in client.get("/").get_data(as_text=True)
    clock[0] += 1
    assert "Hello, Carla" in client.get("/").get_data(as_text=True)


def test_a_write_in_one_process_is_seen_by_the_pages_another_process_keeps(
    app, tmp_path, request, clock
):
    """Two processes (two apps on one database, each with its own kept pages)."""
    other = _kept_app(tmp_path, request)
    ana = _person(app, "ana@example.com", name="Ana Ruiz", job_role="teller")
    here = _signed_in(app, "ana@example.com")
    there = other.test_client()
    there.set_cookie("session", here.get_cookie("session").value)
    assert "Hello, Ana" in there.get("/").get_data(as_text=True)
    _rename_behind_the_pages_back(app, ana, "Carla Ruiz")
    assert "Hello, Ana" in there.get("/").get_data(as_text=True)  # kept over there

    items = lesson_row(app)["items"]
    assert answer(here, 1, right_choices(items[0][2]))[0].status_code == 303  # written here
    assert "Hello, Carla" in there.get("/").get_data(as_text=True)
    assert len(other.extensions[EXTENSION]) == 1
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def test_nobody_is_shown_another_persons_kept_page(app, clock):
    _person(app, "ana@example.com", name="Ana Ruiz", job_role="teller")
    _person(app, "ben@example.com", name="Ben Ortiz", job_role="teller")
    ana, ben = _signed_in(app, "ana@example.com"), _signed_in(app, "ben@example.com")
    assert "Hello, Ana" in ana.get("/").get_data(as_text=True)
    page = ben.get("/").get_data(as_text=True)
    assert "Hello, Ben" in page
    assert "Ana" not in page
    assert "Hello, Ana" in ana.get("/").get_data(as_text=True)


def test_each_kept_page_carries_a_working_csrf_token(tmp_path, request, clock):
    with _kept_library_app(tmp_path, request, WTF_CSRF_ENABLED=True) as app:
        _person(app, "ana@example.com", job_role="teller")
        client = app.test_client()
        login = client.get("/login").get_data(as_text=True)
        token = CSRF_RE.search(login).group(1)
        data = {"email": "ana@example.com", "password": PASSWORD, "csrf_token": token}
        assert client.post("/login", data=data).status_code == 302
        first = client.get("/").get_data(as_text=True)
        kept = client.get("/").get_data(as_text=True)
        assert len(app.extensions[EXTENSION]) == 1
        assert "\x00" not in kept
        assert CSRF_RE.search(first) and CSRF_RE.search(kept)
        # The kept page's sign-out button works: its token is this request's own.
        answer = client.post("/logout", data={"csrf_token": CSRF_RE.search(kept).group(1)})
        assert answer.status_code == 303
        assert client.get("/").status_code == 302  # signed out: sent to sign in


def test_a_flashed_message_is_shown_even_when_the_page_is_kept(app, clock):
    _person(app, "ana@example.com", job_role="teller")
    client = _signed_in(app, "ana@example.com")
    client.get("/")
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "A message for Ana")]
    assert "A message for Ana" in client.get("/").get_data(as_text=True)
    assert "A message for Ana" not in client.get("/").get_data(as_text=True)


def test_an_unanswered_question_is_never_kept_and_an_answered_one_is(app, clock):
    _person(app, "ana@example.com", job_role="teller")
    client = _signed_in(app, "ana@example.com")
    url = f"/lessons/{LESSON}/quiz/1"
    first = form_token(client.get(url).get_data(as_text=True))
    second = form_token(client.get(url).get_data(as_text=True))
    assert first != second  # a fresh one-time answer form each time
    items = lesson_row(app)["items"]
    client.post(url, data={"choice": right_choices(items[0][2]), "token": second, "shown": "0"})
    answered = client.get(url).get_data(as_text=True)
    assert 'name="token"' not in answered
    assert client.get(url).get_data(as_text=True) == answered
    assert len(app.extensions[EXTENSION]) == 1


def test_a_change_to_the_library_shows_at_once(app, clock):
    _person(app, "ana@example.com", job_role="teller")
    client = _signed_in(app, "ana@example.com")
    assert "The first ten seconds at the counter" in client.get("/").get_data(as_text=True)
    with app.app_context():
        lesson = db.session.scalar(select(Lesson).where(Lesson.key == LESSON))
        lesson.title = "Hello at the counter"
        db.session.commit()
    assert "Hello at the counter" in client.get("/").get_data(as_text=True)


def test_the_team_page_shows_the_managers_own_reminder_at_once(app, clock):
    _person(app, "ana@example.com", name="Ana Ruiz", job_role="teller", team="Millbrook")
    _person(app, "mia@example.com", name="Mia Manager", role="manager", team="Millbrook")
    with app.app_context():
        from trainer.models import Team

        mia = db.session.scalar(select(User).where(User.email == "mia@example.com"))
        mia.managed_teams.append(db.session.scalar(select(Team).where(Team.name == "Millbrook")))
        ana_id = db.session.scalar(select(User.id).where(User.email == "ana@example.com"))
        db.session.commit()
    manager = _signed_in(app, "mia@example.com")
    page = manager.get("/manage/").get_data(as_text=True)
    assert "reminded today" not in page
    assert manager.get("/manage/").get_data(as_text=True) == page  # kept
    assert manager.post(f"/manage/people/{ana_id}/remind").status_code in (302, 303)
    manager.get("/manage/")  # drawn afresh anyway, for its "sent" message
    assert "reminded today" in manager.get("/manage/").get_data(as_text=True)


def test_no_page_is_kept_when_the_setting_is_zero(tmp_path, request):
    app = make_app(tmp_path, "sqlite", request, PAGE_CACHE_SECONDS=0)
    assert EXTENSION not in app.extensions


def test_a_request_that_fails_after_committing_loses_its_unfinished_work(app, clock):
    """Moving the version is part of the write's own transaction: nothing else gets committed
    with it (a request that wrote, then flushed more and gave up, keeps only what it committed)."""
    from trainer.models import Team

    def commit_then_give_up():
        db.session.add(Team(name="Committed"))
        db.session.commit()
        db.session.add(Team(name="Flushed, then given up"))
        db.session.flush()
        return "no", 400

    app.add_url_rule("/t/commit-then-give-up", view_func=login_required(commit_then_give_up))
    ana = _person(app, "ana@example.com", job_role="teller")
    client = _signed_in(app, "ana@example.com")
    before = _version(app, ana)
    assert client.get("/t/commit-then-give-up").status_code == 400
    with app.app_context():
        assert db.session.scalars(select(Team.name)).all() == ["Committed"]
    assert _version(app, ana) == before + 1


def test_a_change_to_someone_elses_row_moves_their_version_too(app, clock):
    """An admin's edit of a person (their team, role or name) shows on that person's pages at
    once, not only on the admin's."""

    def rename(person_id):
        person = db.session.get(User, person_id)
        person.name = "Carla Ruiz"
        db.session.commit()
        return "ok"

    app.add_url_rule("/t/rename/<int:person_id>", view_func=login_required(rename))
    ana = _person(app, "ana@example.com", name="Ana Ruiz", job_role="teller")
    _person(app, "root@example.com", name="Root Admin", role="admin")
    learner, admin = _signed_in(app, "ana@example.com"), _signed_in(app, "root@example.com")
    assert "Hello, Ana" in learner.get("/").get_data(as_text=True)
    assert admin.get(f"/t/rename/{ana}").status_code == 200
    assert "Hello, Carla" in learner.get("/").get_data(as_text=True)


def test_the_minutely_last_seen_note_does_not_make_pages_out_of_date(app, clock, monkeypatch):
    """A request that only notes the session as still in use draws a page that may be kept,
    and moves no version."""
    from datetime import timedelta

    from trainer.auth import sessions
    from trainer.models import UserSession, utcnow

    ana = _person(app, "ana@example.com", name="Ana Ruiz", job_role="teller")
    client = _signed_in(app, "ana@example.com")
    before = _version(app, ana)
    later = utcnow() + timedelta(minutes=2)
    monkeypatch.setattr(sessions, "utcnow", lambda: later)
    assert "Hello, Ana" in client.get("/").get_data(as_text=True)  # noted, drawn, kept
    with app.app_context():
        assert db.session.scalars(select(UserSession.last_seen_at)).all() == [later]
        assert db.session.scalar(select(User.last_seen_at).where(User.id == ana)) == later
    _rename_behind_the_pages_back(app, ana, "Carla Ruiz")
    assert "Hello, Ana" in client.get("/").get_data(as_text=True)  # the kept page
    assert _version(app, ana) == before
