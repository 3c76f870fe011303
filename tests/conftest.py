"""Fixtures: an app per test on SQLite (and on PostgreSQL where a test asks for both)."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from trainer import ROOT, create_app
from trainer.extensions import db as _db

# Live server and Chromium fixtures for the browser tests (tests/browser_support.py); a push
# service and a text message service for the message channels (tests/channel_support.py).
pytest_plugins = ["tests.browser_support", "tests.channel_support"]

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TOKEN_RE = re.compile(r'name="token" type="hidden" value="([0-9a-f]+)"')


def _postgres_schema_options(schema: str) -> dict:
    return {"connect_args": {"options": f"-csearch_path={schema}"}, "pool_pre_ping": True}


@pytest.fixture(scope="session")
def postgres_engine():
    """The PostgreSQL server. A run that cannot reach it fails: it is part of the suite."""
    engine = sa.create_engine(POSTGRES_URL, pool_pre_ping=True)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
    except sa.exc.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_URL} ({exc.orig}). "
            "Start it (see README, 'Tests') or set TEST_POSTGRES_URL.",
            pytrace=False,
        )
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_schema(postgres_engine):
    """A fresh, empty schema for one test, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with postgres_engine.begin() as conn:
        conn.execute(sa.text(f'create schema "{schema}"'))
    yield schema
    with postgres_engine.begin() as conn:
        conn.execute(sa.text(f'drop schema "{schema}" cascade'))


def make_app(tmp_path: Path, database: str, request, **overrides):
    config = {"CONTENT_DIR": str(ROOT)}
    if database == "postgresql":
        schema = request.getfixturevalue("postgres_schema")
        config["SQLALCHEMY_DATABASE_URI"] = POSTGRES_URL
        config["SQLALCHEMY_ENGINE_OPTIONS"] = _postgres_schema_options(schema)
    else:
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'test.sqlite'}"
    config.update(overrides)
    return create_app("test", config)


@contextmanager
def tables_made(app):
    """`app` with its tables created; its sessions and connections closed afterwards."""
    with app.app_context():
        _db.create_all()
    try:
        yield app
    finally:
        with app.app_context():
            _db.session.remove()
            _db.engine.dispose()


def _app(tmp_path, database, request):
    with tables_made(make_app(tmp_path, database, request)) as app:
        yield app


@pytest.fixture
def app(tmp_path, request):
    """The app on SQLite, schema created, no content loaded."""
    yield from _app(tmp_path, "sqlite", request)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_app(tmp_path, request):
    """The same app on each database the product supports: a test using it runs twice."""
    yield from _app(tmp_path, request.param, request)


@pytest.fixture
def db(app):
    with app.app_context():
        yield _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def sync_starter_library(app) -> None:
    from trainer.content.library import load_library
    from trainer.content.sync import sync_library

    with app.app_context():
        library = load_library(app.config["CONTENT_DIR"])
        assert library.ok, library.problems
        sync_library(_db.session, library)


@pytest.fixture
def library_app(app):
    """The app with the starter library loaded."""
    sync_starter_library(app)
    return app


@pytest.fixture
def make_user(app):
    """Create a person: make_user("sam@example.com", role="learner", job_role="teller")."""
    from trainer.people.services import create_user

    def make(email="sam@example.com", password="correct horse", **fields):
        fields.setdefault("name", email.split("@")[0].title())
        with app.app_context():
            user = create_user(_db.session, email=email, password=password, **fields)
            _db.session.commit()
            return user.id

    return make


class AuthActions:
    def __init__(self, client):
        self.client = client

    def login(self, email="sam@example.com", password="correct horse"):
        return self.client.post("/login", data={"email": email, "password": password})

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


def form_token(html: str) -> str:
    """The one-time token of the answer form on a page."""
    match = TOKEN_RE.search(html)
    assert match, "no answer form on the page"
    return match.group(1)


# Translations are named `<id>.<language>.<ending>`.
SOURCES_ONLY = shutil.ignore_patterns("*.es.*", "*.pl.*")


@pytest.fixture
def content_dir(tmp_path):
    """A writable copy of the starter library's sources, for tests that edit content files.

    Its translations (`<id>.es.md`, ...) are left out: a test that edits a source would see
    them reported as behind it. Tests of translations write their own.
    """
    target = tmp_path / "content"
    shutil.copytree(ROOT / "lessons", target / "lessons", ignore=SOURCES_ONLY)
    shutil.copytree(ROOT / "quizzes", target / "quizzes", ignore=SOURCES_ONLY)
    return target
