"""Live server and headless Chromium fixtures shared by the browser tests.

Import the fixtures into a test module (`from tests.browser_support import browser, page, ...`).
"""

from __future__ import annotations

import itertools
import logging
import re
import threading
from functools import partial
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import sync_playwright
from sqlalchemy import func, select
from werkzeug.serving import make_server

from tests.conftest import make_app, sync_starter_library
from trainer import ROOT
from trainer.extensions import db

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
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


# axe-core from npm (tests/axe, installed by `make axe`), run on every page the tests visit.
AXE_SCRIPT = ROOT / "tests" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
_AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
}"""
# Page calls after which the page the test looks at is audited, if it is a new one.
_AUDITED_CALLS = (
    "goto", "go_back", "go_forward", "reload", "locator", "get_by_role", "get_by_label",
    "get_by_text", "get_by_placeholder", "get_by_alt_text", "get_by_title", "get_by_test_id",
    "evaluate", "screenshot", "content", "title", "wait_for_url", "close",
)  # fmt: skip


_LEAVING_CALLS = frozenset({"goto", "go_back", "go_forward", "reload", "close"})


class AxeViolation(AssertionError):
    pass


def audit(page, *, why: str = "") -> None:
    """Run axe on the page as it is now, at a phone's width and a desktop's; fail on any
    violation. Pages are audited by themselves when loaded; call this after a script changed
    a page in place."""
    if not AXE_SCRIPT.exists():
        raise AssertionError(f"{AXE_SCRIPT} is missing: run `make axe`")
    state = page.__dict__.get("_axe") or {}
    target = page
    if state.get("auditor") is not None:
        # axe needs scripts to run; a page without JavaScript is audited as a copy, without
        # its scripts, in a page that runs them.
        target = state["auditor"]()
        html = _SCRIPTS.sub("", state["content"]())
        html = _HEAD.sub(lambda m: f'{m.group(0)}<base href="{page.url}">', html, count=1)
        target.set_content(html, wait_until="load")
    evaluate = state.get("evaluate") if target is page and state else target.evaluate
    size = target.viewport_size or PHONE
    found = []
    try:
        for viewport in (PHONE, DESKTOP):
            target.set_viewport_size(viewport)
            if not evaluate("() => typeof axe !== 'undefined'"):
                evaluate(_axe_source())
            for violation in evaluate(_AXE_RUN):
                found.append((viewport["width"], violation))
    finally:
        target.set_viewport_size(size)
    if found:
        lines = [
            f"  {width}px {v['id']}: {v['help']} at {', '.join(v['nodes'])}" for width, v in found
        ]
        where = f"{page.url}{f' ({why})' if why else ''}"
        raise AxeViolation(f"axe found violations on {where}:\n" + "\n".join(lines))


_SCRIPTS = re.compile(r"<script\b.*?</script\s*>", re.IGNORECASE | re.DOTALL)
_HEAD = re.compile(r"<head\b[^>]*>", re.IGNORECASE)
_AXE_SOURCE: list[str] = []


def _axe_source() -> str:
    if not _AXE_SOURCE:
        _AXE_SOURCE.append(AXE_SCRIPT.read_text(encoding="utf-8"))
    return _AXE_SOURCE[0]


def _audit_if_new(page) -> None:
    """Audit the page the test is looking at if it loaded since the last audit."""
    state = page.__dict__["_axe"]
    if state["busy"] or page.is_closed() or page.url in ("", "about:blank"):
        return
    if state["loads"] == state["audited_loads"] and page.url == state["audited_url"]:
        return
    state["busy"] = True
    try:
        for _ in range(3):
            page.wait_for_load_state("load")
            state["audited_loads"], state["audited_url"] = state["loads"], page.url
            if not page.url.startswith("http"):
                return
            try:
                audit(page)
                return
            except AxeViolation:
                raise
            except Exception as error:  # the page moved on while it was audited: audit that one
                if "context was destroyed" not in str(error) and "navigat" not in str(error):
                    raise
    finally:
        state["busy"] = False


def _watch(page, auditor=None) -> None:
    """Make every page load of `page` audited by axe before the test's next call on it.
    `auditor` gives a page with scripts on, for pages whose context has them off."""
    if "_axe" in page.__dict__:
        return
    state = {"loads": 0, "audited_loads": 0, "audited_url": "", "busy": False}
    state["evaluate"], state["content"], state["auditor"] = page.evaluate, page.content, auditor
    page.__dict__["_axe"] = state

    def loaded(*_):
        state["loads"] += 1

    page.on("load", loaded)
    for name in _AUDITED_CALLS:
        original = getattr(page, name)

        def call(*args, _original=original, _name=name, **kwargs):
            if _name in _LEAVING_CALLS:  # the page being left may not have been audited
                _audit_if_new(page)
            if _name == "close":
                return _original(*args, **kwargs)
            result = _original(*args, **kwargs)
            _audit_if_new(page)
            return result

        setattr(page, name, call)


def _static_from_disk(route) -> None:
    """The copies audited without scripts take the style sheets and images from disk."""
    path = urlsplit(route.request.url).path
    file = (ROOT / path.lstrip("/")).resolve()
    if path.startswith("/static/") and file.is_file() and (ROOT / "static") in file.parents:
        route.fulfill(path=str(file))
    else:
        route.abort()


def _watch_browser(chromium) -> None:
    new_context = chromium.new_context
    auditors = []

    def auditor():
        if not auditors:
            context = new_context(viewport=PHONE)
            context.set_default_timeout(15000)
            context.route("**/*", _static_from_disk)
            auditors.append(context.new_page())
        return auditors[0]

    def watched_context(*args, **kwargs):
        context = new_context(*args, **kwargs)
        scripts_off = kwargs.get("java_script_enabled") is False
        watch = partial(_watch, auditor=auditor if scripts_off else None)
        context.on("page", watch)
        new_page, close = context.new_page, context.close

        def watched_page(*a, **k):
            page = new_page(*a, **k)
            watch(page)
            return page

        def closing(*a, **k):
            for page in context.pages:
                if "_axe" in page.__dict__:
                    _audit_if_new(page)
            return close(*a, **k)

        context.new_page, context.close = watched_page, closing
        return context

    chromium.new_context = watched_context


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        _watch_browser(chromium)
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
