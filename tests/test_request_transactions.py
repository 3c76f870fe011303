"""How a request ends its transaction: one that only read is committed, so PostgreSQL keeps the
statements psycopg prepared on the connection; anything that wrote and was not committed by
its view, or that failed, is still rolled back and leaves nothing behind."""

from __future__ import annotations

import contextlib
import time

import pytest
import sqlalchemy as sa

from tests.conftest import POSTGRES_URL, make_app, tables_made
from trainer.extensions import db
from trainer.models import Team

PASSWORD = "correct horse"


@pytest.fixture
def pg_app(tmp_path, request):
    with tables_made(make_app(tmp_path, "postgresql", request)) as app:
        yield app


def _sign_in(app):
    from tests.conftest import sync_starter_library
    from trainer.people.services import create_user

    sync_starter_library(app)
    with app.app_context():
        create_user(db.session, email="ana@example.com", password=PASSWORD, name="Ana")
        db.session.commit()
    client = app.test_client()
    answer = client.post("/login", data={"email": "ana@example.com", "password": PASSWORD})
    assert answer.status_code == 302
    return client


def _prepared(app) -> list[str]:
    with app.app_context(), db.engine.connect() as conn:
        return list(conn.scalars(sa.text("SELECT statement FROM pg_prepared_statements")))


def test_the_statements_of_a_page_asked_often_are_prepared_once_and_kept(pg_app):
    client = _sign_in(pg_app)
    with pg_app.app_context():
        db.engine.dispose()  # one connection from here on: the one the pages use
    for _ in range(7):
        assert client.get("/").status_code == 200
    prepared = _prepared(pg_app)
    # The session check and Today's own reads are prepared on the pool's connection: the
    # server no longer parses and plans them on every request.
    assert any("user_sessions" in statement for statement in prepared), prepared
    assert any("FROM enrolments" in statement for statement in prepared), prepared


def test_prepared_statements_can_be_turned_off_for_a_pooler(tmp_path, request):
    app = make_app(tmp_path, "postgresql", request, DATABASE_PREPARED_STATEMENTS=False)
    with tables_made(app):
        client = _sign_in(app)
        with app.app_context():
            db.engine.dispose()
        for _ in range(7):
            assert client.get("/").status_code == 200
        assert _prepared(app) == []


@pytest.fixture(params=["sqlite", "postgresql"])
def routes_app(tmp_path, request):
    """The app with a few routes that read, write without committing, or fail."""
    app = make_app(tmp_path, request.param, request)

    def read():
        return str(db.session.scalar(sa.select(sa.func.count()).select_from(Team)))

    def write_core():
        db.session.execute(sa.insert(Team).values(name="Core, never committed"))
        return "ok"

    def write_flushed():
        db.session.add(Team(name="Flushed, never committed"))
        db.session.flush()
        return "ok"

    def write_pending():
        db.session.add(Team(name="Pending, never flushed"))
        return "ok"

    def write_text():
        db.session.execute(sa.text("INSERT INTO teams (name) VALUES ('Text, never committed')"))
        return "ok"

    def fail_then_answer():
        with contextlib.suppress(sa.exc.DBAPIError):
            db.session.execute(sa.text("SELECT no_such_column FROM teams"))
        return "ok"

    for view in (read, write_core, write_flushed, write_pending, write_text, fail_then_answer):
        app.add_url_rule(f"/t/{view.__name__}", view.__name__, view)
    with tables_made(app):
        yield app


@pytest.mark.parametrize("view", ["write_core", "write_flushed", "write_pending", "write_text"])
def test_what_a_view_wrote_but_did_not_commit_is_rolled_back(routes_app, view):
    client = routes_app.test_client()
    assert client.get(f"/t/{view}").status_code == 200
    with routes_app.app_context():
        assert db.session.scalars(sa.select(Team.name)).all() == []


def test_a_request_whose_statement_failed_ends_cleanly_and_the_next_one_reads(routes_app):
    client = routes_app.test_client()
    assert client.get("/t/fail_then_answer").status_code == 200
    assert client.get("/t/read").get_data(as_text=True) == "0"
    assert client.get("/t/write_core").status_code == 200
    assert client.get("/t/read").get_data(as_text=True) == "0"


@contextlib.contextmanager
def _pinging_app(tmp_path, request, seconds: float):
    """The app on PostgreSQL with the production way of checking connections (no
    pool_pre_ping), its connections named so the test can cut them."""
    schema = request.getfixturevalue("postgres_schema")
    name = f"trainer-{schema}"
    options = {"options": f"-csearch_path={schema}", "application_name": name}
    app = make_app(
        tmp_path,
        "sqlite",
        request,
        SQLALCHEMY_DATABASE_URI=POSTGRES_URL,
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": options},
        DATABASE_PING_IDLE_SECONDS=seconds,
    )
    with tables_made(app):
        yield app, name


def _cut_connections(postgres_engine, name: str) -> None:
    """The server ends every connection of the app (as a restart or failover would)."""
    with postgres_engine.begin() as conn:
        ended = conn.scalar(
            sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = :name"
            ),
            {"name": name},
        )
    assert ended >= 1


def test_a_connection_idle_past_the_ping_age_is_checked_and_replaced(
    tmp_path, request, postgres_engine
):
    with _pinging_app(tmp_path, request, seconds=0.2) as (app, name):
        client = _sign_in(app)
        assert client.get("/").status_code == 200
        _cut_connections(postgres_engine, name)
        time.sleep(0.3)
        assert client.get("/").status_code == 200  # checked, found dead, replaced: no error


def test_a_connection_used_moments_ago_is_not_pinged_and_one_request_pays_for_a_cut(
    tmp_path, request, postgres_engine
):
    """The trade made for a round trip less per request: a cut within the ping age costs the
    next request a 503 page; the pool then replaces its connections and the next one works."""
    with _pinging_app(tmp_path, request, seconds=3600) as (app, name):
        client = _sign_in(app)
        assert client.get("/").status_code == 200
        _cut_connections(postgres_engine, name)
        assert client.get("/").status_code == 503
        assert client.get("/").status_code == 200
