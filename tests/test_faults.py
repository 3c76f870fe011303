"""Faults that say so: a database that is down, frozen or read-only gives a clear 503 page in
seconds, loses nothing, and the app recovers by itself once the database is back."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from tests.conftest import POSTGRES_URL, form_token, sync_starter_library
from trainer import ROOT, create_app
from trainer.database import long_statements
from trainer.extensions import db
from trainer.models import Attempt, ConversationRun

LESSON = "teller-greeting-at-the-counter"
PASSWORD = "correct horse"


class Relay:
    """A TCP relay to PostgreSQL that a test can cut (connections refused and dropped, as in a
    restart) or freeze (connections accepted, never answered), then restore."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.mode = "open"
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.mode == "down":
                client.close()
                continue
            with self.lock:
                self.sockets.append(client)
            if self.mode == "frozen":
                continue  # the handshake worked; nothing will ever answer
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.sockets.append(upstream)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def _drop_all(self) -> None:
        with self.lock:
            for s in self.sockets:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self.sockets.clear()

    def cut(self) -> None:
        self.mode = "down"
        self._drop_all()

    def freeze(self) -> None:
        self.mode = "frozen"
        self._drop_all()

    def restore(self) -> None:
        self.mode = "open"

    def close(self) -> None:
        self.listener.close()
        self._drop_all()


@pytest.fixture
def relayed_app(request, postgres_schema):
    """The app on PostgreSQL, reached through a relay the test controls."""
    url = sa.engine.make_url(POSTGRES_URL)
    relay = Relay((url.host or "127.0.0.1", url.port or 5432))

    def make(**config):
        app = create_app(
            "test",
            {
                "CONTENT_DIR": str(ROOT),
                "SQLALCHEMY_DATABASE_URI": url.set(port=relay.port).render_as_string(False),
                "SQLALCHEMY_ENGINE_OPTIONS": {
                    "connect_args": {"options": f"-csearch_path={postgres_schema}"}
                },
                **config,
            },
        )
        with app.app_context():
            db.create_all()
        apps.append(app)
        return app

    apps: list = []
    yield make, relay
    relay.close()
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _learner(app, job_role: str | None = None) -> None:
    from trainer.people.services import create_user

    with app.app_context():
        create_user(
            db.session, email="sam@example.com", name="Sam", password=PASSWORD, job_role=job_role
        )
        db.session.commit()


def _sign_in(client) -> None:
    response = client.post("/login", data={"email": "sam@example.com", "password": PASSWORD})
    assert response.status_code == 302


def _answer(client, n: int):
    page = client.get(f"/lessons/{LESSON}/quiz/{n}")
    return page, lambda: client.post(
        f"/lessons/{LESSON}/quiz/{n}",
        data={"choice": "0", "token": form_token(page.get_data(as_text=True))},
    )


def test_a_conversation_turn_while_the_database_is_down_is_not_lost(relayed_app):
    make, relay = relayed_app
    app = make()
    sync_starter_library(app)
    _learner(app, "teller")
    client = app.test_client()
    _sign_in(client)
    url = f"/lessons/{LESSON}/conversation"

    def press_first_line():
        page = client.get(url).get_data(as_text=True)
        hidden = dict(re.findall(r'name="(run|step)" type="hidden" value="(\d*)"', page))
        data = {"choice": "0", "token": form_token(page), "shown": "0", **hidden}
        return lambda: client.post(url, data=data)

    assert press_first_line()().status_code == 303
    send = press_first_line()
    relay.cut()
    response = send()
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "this was not saved" in page
    assert "The answers you gave before this one are saved." in page
    relay.restore()
    assert send().status_code == 303  # the same turn, sent again, goes in
    with app.app_context():
        run = db.session.scalar(select(ConversationRun))
        assert run.steps == 2
        assert db.session.scalar(select(func.count(Attempt.id))) == 2


def test_a_database_that_goes_down_gives_a_clear_503_and_loses_nothing(relayed_app):
    make, relay = relayed_app
    app = make()
    sync_starter_library(app)
    _learner(app, "teller")
    client = app.test_client()
    _sign_in(client)
    _page, send = _answer(client, 1)
    assert send().status_code == 303
    _page, send = _answer(client, 2)

    relay.cut()
    response = send()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    page = response.get_data(as_text=True)
    assert "We cannot reach our database just now" in page
    assert "this was not saved" in page
    assert "The answers you gave before this one are saved." in page

    today = client.get("/")  # a signed-in page: the error page itself needs no database
    assert today.status_code == 503
    assert "We cannot reach our database" in today.get_data(as_text=True)
    assert "are saved" not in today.get_data(as_text=True)

    relay.restore()
    assert send().status_code == 303  # the same answer, sent again, goes in
    assert client.get("/").status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Attempt)) == 2


def test_a_database_that_never_answers_a_connection_gives_a_503_in_seconds(relayed_app):
    make, relay = relayed_app
    app = make(DATABASE_CONNECT_TIMEOUT=2)
    _learner(app)
    with app.app_context():
        db.engine.dispose()  # no connection left over from setting up
    relay.freeze()
    client = app.test_client()
    started = time.monotonic()
    response = client.post("/login", data={"email": "sam@example.com", "password": PASSWORD})
    waited = time.monotonic() - started
    assert response.status_code == 503
    assert "We cannot reach our database" in response.get_data(as_text=True)
    assert waited < 30, "it answered, rather than hanging until the WSGI server's timeout"

    relay.restore()
    response = client.post("/login", data={"email": "sam@example.com", "password": PASSWORD})
    assert response.status_code == 302


def test_a_frozen_table_gives_a_503_after_the_statement_timeout(
    relayed_app, postgres_engine, postgres_schema
):
    make, _relay = relayed_app
    app = make(DATABASE_STATEMENT_TIMEOUT=1)
    _learner(app)
    client = app.test_client()
    _sign_in(client)
    assert client.get("/account").status_code == 200

    with postgres_engine.connect() as holder:
        lock = f'LOCK TABLE "{postgres_schema}".user_sessions IN ACCESS EXCLUSIVE MODE'
        holder.execute(sa.text(lock))
        response = client.get("/account")
        assert response.status_code == 503
        holder.rollback()
    assert client.get("/account").status_code == 200


def test_jobs_get_the_longer_statement_timeout(relayed_app):
    make, _relay = relayed_app
    app = make(DATABASE_STATEMENT_TIMEOUT=1, JOB_STATEMENT_TIMEOUT=120)
    with app.app_context():
        assert db.session.scalar(sa.text("show statement_timeout")) == "1s"
        db.session.rollback()
        with long_statements(app.config["JOB_STATEMENT_TIMEOUT"]):
            assert db.session.scalar(sa.text("show statement_timeout")) == "2min"
            db.session.execute(sa.text("select pg_sleep(1.2)"))  # longer than a web request's
            db.session.commit()
        assert db.session.scalar(sa.text("show statement_timeout")) == "1s"
        db.session.rollback()


def test_an_unexpected_error_page_needs_nothing_and_promises_nothing(app, make_user):
    make_user()
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/test-only-broken")
    def broken():
        raise RuntimeError("a bug")

    client = app.test_client()
    _sign_in(client)
    response = client.get("/test-only-broken")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong on our side" in page
    assert "saved" not in page


# -- SQLite: a file that was not writable for a while ----------------------------------------

READ_ONLY_SCRIPT = """
import json, os, sys
from trainer import create_app
from trainer.extensions import db
from trainer.people.services import create_user

path = sys.argv[1]
app = create_app("test", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "CONTENT_DIR": "."})
with app.app_context():
    db.create_all()
    create_user(db.session, email="sam@example.com", name="Sam", password="correct horse")
    db.session.commit()
    db.session.remove()
    db.engine.dispose()
files = [path + suffix for suffix in ("", "-wal", "-shm")]
client = app.test_client()
form = {"email": "sam@example.com", "password": "correct horse"}
statuses = []
for mode in (0o444, 0o644):
    for name in files:
        if os.path.exists(name):
            os.chmod(name, mode)
    statuses.append(client.post("/login", data=form).status_code)
print(json.dumps(statuses))
"""


def test_a_read_only_sqlite_file_recovers_without_a_restart(tmp_path):
    """While the file cannot be written, a write gives 503; once its permissions are back the
    next request works, because the connection opened read-only was dropped from the pool."""
    command = [sys.executable, "-c", READ_ONLY_SCRIPT, str(tmp_path / "trainer.sqlite")]
    if os.geteuid() == 0:  # root writes anything: take that power away for this process
        setpriv = shutil.which("setpriv")
        assert setpriv, "setpriv (util-linux) is needed to run this test as root"
        caps = "-dac_override,-dac_read_search"
        command = [setpriv, f"--bounding-set={caps}", f"--inh-caps={caps}", *command]
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [503, 302]


# -- gunicorn.conf.py -----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_shipped_gunicorn_config_serves_the_app(tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "FLASK_CONFIG": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'g.sqlite'}",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "-c", "gunicorn.conf.py", "trainer:create_app()"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as page:
                    assert page.status == 200
                    assert "Sign in" in page.read().decode()
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                assert server.poll() is None, server.stdout.read()
                time.sleep(0.2)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert "Booting worker" in output
    assert server.returncode == 0, output
