"""Company sign-in in a real headless Chromium on a phone: the button on the sign-in page, the
company's provider (node-oidc-provider, tests/oidc_support.py), and back, signed in on Today."""

from __future__ import annotations

import logging

import pytest
from playwright.sync_api import Page, expect

from tests.browser_support import PHONE, LiveServer
from tests.conftest import make_app, sync_starter_library
from tests.oidc_support import CALLBACK_PATH, Provider, password_of
from trainer.extensions import db

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_server(tmp_path_factory, request):
    """The app served over HTTP with company sign-in set up against a provider that knows this
    server's callback address (so the provider starts once the server has its port)."""
    folder = tmp_path_factory.mktemp("company")
    app = make_app(folder, "sqlite", request, WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.create_all()
    sync_starter_library(app)
    with app.app_context():
        from trainer.people.services import create_user

        create_user(db.session, email="sam@example.com", name="Sam Teller", job_role="teller")
        db.session.commit()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = LiveServer(app)
    provider = Provider(
        folder / "accounts.json", [server.url + CALLBACK_PATH], folder / "provider.log"
    )
    app.config.update(provider.config(PUBLIC_URL=server.url))  # read at each request
    server.start()
    yield server
    server.stop()
    provider.stop()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def assert_fits(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide"


def test_company_sign_in_from_the_button_to_today(page: Page, live_server):
    page.goto("/login")
    assert_fits(page)
    page.get_by_role("link", name="Sign in with your company account").click()

    # At the company's provider.
    expect(page.get_by_role("heading", name="Company sign-in")).to_be_visible()
    assert page.url.startswith("http://127.0.0.1:") and not page.url.startswith(live_server.url)
    page.get_by_label("Username").fill("sam")
    page.get_by_label("Password").fill(password_of("sam"))
    page.get_by_role("button", name="Sign in").click()

    # Back, signed in, on Today with the teller path.
    expect(page.get_by_role("heading", name="Teller onboarding")).to_be_visible()
    assert page.url == live_server.url + "/"
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert_fits(page)


def test_cancelling_at_the_company_comes_back_to_a_plain_page(page: Page, live_server):
    page.goto("/login")
    page.get_by_role("link", name="Sign in with your company account").click()
    page.get_by_role("button", name="Cancel").click()

    expect(page.get_by_role("heading", name="Company sign-in was cancelled")).to_be_visible()
    assert_fits(page)
    # By keyboard, back to the sign-in page.
    back = page.get_by_role("link", name="Back to sign-in")
    for _ in range(10):
        page.keyboard.press("Tab")
        if back.evaluate("el => el === document.activeElement"):
            break
    expect(back).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_label("Email")).to_be_visible()
