"""Live server and headless Chromium fixtures shared by the browser tests.

Import the fixtures into a test module (`from tests.browser_support import browser, page, ...`).
"""

from __future__ import annotations

import itertools
import logging
import re
import threading

import pytest
from playwright.sync_api import sync_playwright
from sqlalchemy import func, select
from werkzeug.serving import make_server

from tests.conftest import make_app, sync_starter_library
from trainer import ROOT
from trainer.extensions import db

PHONE = {"width": 360, "height": 740}
PASSWORD = "correct horse"
LESSON = "teller-greeting-at-the-counter"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
VERDICT = re.compile(r"Right|Partly right|Not quite")


class LiveServer:
    """The app served over HTTP in a background thread, with learners made on demand."""

    def __init__(self, app):
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._numbers = itertools.count(1)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def learner(self) -> str:
        """A new teller with nothing done yet; returns their email."""
        from trainer.people.services import create_user

        email = f"teller{next(self._numbers)}@example.com"
        with self.app.app_context():
            create_user(
                db.session,
                email=email,
                name=f"Taylor {email[:7].title()}",
                password=PASSWORD,
                job_role="teller",
            )
            db.session.commit()
        return email

    def attempts(self, email: str) -> int:
        from trainer.models import Attempt, User

        with self.app.app_context():
            return db.session.scalar(
                select(func.count())
                .select_from(Attempt)
                .join(User, Attempt.user_id == User.id)
                .where(User.email == email)
            )


@pytest.fixture(scope="module")
def live_server(tmp_path_factory, request):
    app = make_app(
        tmp_path_factory.mktemp("browser"),
        "sqlite",
        request,
        WTF_CSRF_ENABLED=True,
    )
    with app.app_context():
        db.create_all()
    sync_starter_library(app)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = LiveServer(app)
    server.start()
    yield server
    server.stop()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def _page(browser, live_server, javascript: bool):
    context = browser.new_context(
        viewport=PHONE, java_script_enabled=javascript, base_url=live_server.url
    )
    context.set_default_timeout(5000)
    return context, context.new_page()


@pytest.fixture
def page(browser, live_server):
    """A phone with JavaScript off."""
    context, page = _page(browser, live_server, javascript=False)
    yield page
    context.close()


@pytest.fixture
def js_page(browser, live_server):
    """A phone with JavaScript on."""
    context, page = _page(browser, live_server, javascript=True)
    yield page
    context.close()
