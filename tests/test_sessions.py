"""Sessions are rows: signing out really ends them, copied cookies die with them, idle and
remembered sessions end on time, and a person sees and ends their own sessions."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from http.cookies import SimpleCookie

import pytest
import sqlalchemy as sa

from tests.conftest import make_app
from trainer import ROOT, create_app
from trainer.auth.passwords import MAX_LENGTH, hash_password, password_problem, verify_password
from trainer.extensions import db
from trainer.models import OutboxMessage, User, UserSession

PASSWORD = "correct horse"
NEW_PASSWORD = "a brand new secret"
PHONE = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/131.0 Mobile Safari"
LAPTOP = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.1 Safari/605.1.15"
)
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def text(response) -> str:
    return response.get_data(as_text=True)


def login(client, remember=False, agent=PHONE, password=PASSWORD, email="sam@example.com"):
    data = {"email": email, "password": password}
    if remember:
        data["remember"] = "y"
    return client.post("/login", data=data, headers={"User-Agent": agent})


def cookies_of(response) -> dict[str, str]:
    jar = SimpleCookie()
    for header in response.headers.getlist("Set-Cookie"):
        jar.load(header)
    return {name: morsel.value for name, morsel in jar.items()}


def session_rows(app) -> list[UserSession]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(UserSession).order_by(UserSession.id)))
        db.session.expunge_all()
        return rows


def shift_sessions(app, **delta) -> None:
    """Make every session look as if it started and was last used `delta` earlier."""
    with app.app_context():
        for row in db.session.scalars(sa.select(UserSession)):
            row.created_at -= timedelta(**delta)
            row.last_seen_at -= timedelta(**delta)
            row.expires_at -= timedelta(**delta)
        db.session.commit()


# -- signing out ends the session on the server ----------------------------------------------


def test_a_cookie_copied_before_sign_out_is_dead_after_it(app, make_user):
    make_user()
    browser = app.test_client()
    copied = cookies_of(login(browser))["session"]

    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/").status_code == 200  # a copied cookie works while the session lives

    browser.post("/logout")
    assert thief.get("/").status_code == 302
    [row] = session_rows(app)
    assert row.end_reason == "signed out"


def test_a_remember_me_cookie_lasts_thirty_days_and_dies_at_sign_out(app, make_user):
    make_user()
    browser = app.test_client()
    response = login(browser, remember=True)
    [remember] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_")]
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", remember).group(1))
    lasts = expires - datetime.now(UTC)
    assert timedelta(days=29, hours=23) < lasts <= timedelta(days=30)  # 30 days, not a year
    token = cookies_of(response)["remember_token"]

    later = app.test_client()  # the browser was closed: only the remember-me cookie is left
    later.set_cookie("remember_token", token)
    assert later.get("/").status_code == 200

    browser.post("/logout")
    stale = app.test_client()
    stale.set_cookie("remember_token", token)
    assert stale.get("/").status_code == 302


def test_a_remembered_session_ends_after_remember_days(app, make_user):
    make_user()
    browser = app.test_client()
    login(browser, remember=True)
    shift_sessions(app, days=29, hours=23)
    assert browser.get("/").status_code == 200  # used every day: still signed in
    shift_sessions(app, hours=2)
    assert browser.get("/").status_code == 302
    assert session_rows(app)[0].end_reason == "expired"


def test_an_idle_session_ends_after_session_idle_minutes(app, make_user):
    make_user()
    idle = app.config["SESSION_IDLE_MINUTES"]
    assert idle == 480
    browser = app.test_client()
    login(browser)
    shift_sessions(app, minutes=idle - 5)
    assert browser.get("/").status_code == 200  # and this request counts as activity

    shift_sessions(app, minutes=idle - 5)
    assert browser.get("/").status_code == 200
    shift_sessions(app, minutes=idle + 1)
    response = browser.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert session_rows(app)[0].end_reason == "idle"


def test_a_remembered_session_does_not_end_for_idling(app, make_user):
    make_user()
    browser = app.test_client()
    login(browser, remember=True)
    shift_sessions(app, days=3)
    assert browser.get("/").status_code == 200


def test_deactivating_a_person_ends_every_session(app, make_user, runner):
    make_user("boss@example.com", role="admin")
    person = make_user()
    phone, laptop = app.test_client(), app.test_client()
    login(phone)
    login(laptop, agent=LAPTOP)
    admin = app.test_client()
    login(admin, email="boss@example.com")
    assert admin.post(f"/admin/people/{person}/deactivate").status_code in (302, 303)

    assert phone.get("/").status_code == 302 and laptop.get("/").status_code == 302
    ended = [row for row in session_rows(app) if row.user_id == person]
    assert {row.end_reason for row in ended} == {"deactivated"}


# -- the Account page -----------------------------------------------------------------------


def test_the_account_page_lists_sessions_and_signs_out_the_others(app, make_user):
    make_user()
    phone, laptop = app.test_client(), app.test_client()
    login(phone)
    login(laptop, agent=LAPTOP, remember=True)

    page = text(phone.get("/account"))
    assert "Where you are signed in" in page
    assert "Chrome on Android" in page and "this device" in page
    assert "Safari on Mac" in page and "kept signed in" in page

    response = phone.post("/account/sessions/others")
    assert response.status_code == 303
    assert "Signed out on 1 other device." in text(phone.get("/account"))
    assert laptop.get("/").status_code == 302
    assert phone.get("/").status_code == 200
    assert "Safari on Mac" not in text(phone.get("/account"))


def test_one_other_session_can_be_signed_out_but_not_someone_elses(app, make_user):
    make_user()
    make_user("ana@example.com")
    phone, laptop, ana = app.test_client(), app.test_client(), app.test_client()
    login(phone)
    login(laptop, agent=LAPTOP)
    login(ana, email="ana@example.com")
    rows = session_rows(app)
    laptop_row = next(r for r in rows if r.device == "Safari on Mac")
    ana_row = next(r for r in rows if r.user_id != laptop_row.user_id)

    assert phone.post(f"/account/sessions/{ana_row.id}/end").status_code == 404
    assert ana.get("/").status_code == 200
    assert phone.post(f"/account/sessions/{laptop_row.id}/end").status_code == 303
    assert laptop.get("/").status_code == 302 and phone.get("/").status_code == 200


# -- passwords -------------------------------------------------------------------------------


def test_a_password_change_ends_other_sessions_and_tells_the_person(app, make_user):
    make_user()
    phone, laptop = app.test_client(), app.test_client()
    login(phone)
    login(laptop, agent=LAPTOP)
    response = phone.post(
        "/account/password",
        data={"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 303
    assert laptop.get("/").status_code == 302 and phone.get("/").status_code == 200
    with app.app_context():
        [mail] = db.session.scalars(sa.select(OutboxMessage).filter_by(kind="security")).all()
        assert mail.to == "sam@example.com"
        assert mail.subject == "Your Frontline Trainer password was changed"
        assert "on Chrome on Android" in mail.text and "signed out" in mail.text


def test_wrong_current_passwords_are_counted_like_sign_ins(app, make_user):
    make_user()
    browser = app.test_client()
    login(browser)
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS"]):
        response = browser.post(
            "/account/password",
            data={"current": "a guess at it", "new": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        )
        assert "That is not your current password." in text(response)
    refused = browser.post(
        "/account/password",
        data={"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert refused.status_code == 429 and "Too many failed sign-ins" in text(refused)
    assert "Retry-After" in refused.headers
    browser.post("/logout")
    assert login(browser, password=NEW_PASSWORD).status_code == 429  # not changed, and counted


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("eleven char", "Use at least 12 characters."),
        ("x" * 257, "Use at most 256 characters."),
        ("qwerty123456", "one of the most common passwords"),
        ("LeaveMeAlone", "one of the most common passwords"),
    ],
)
def test_new_passwords_follow_the_rules(app, make_user, password, problem):
    make_user()
    browser = app.test_client()
    login(browser)
    response = browser.post(
        "/account/password", data={"current": PASSWORD, "new": password, "confirm": password}
    )
    assert response.status_code == 400 and problem in text(response)
    assert password_problem("twelve chars") is None


def test_a_password_over_256_characters_is_never_hashed(app):
    with app.app_context():
        long = "y" * (MAX_LENGTH + 1)
        stored = hash_password(long)  # as if it had been allowed once
        assert not verify_password(stored, long)
        assert verify_password(hash_password("y" * MAX_LENGTH), "y" * MAX_LENGTH)


def test_an_older_short_password_keeps_working_until_changed(app, make_user):
    user_id = make_user()
    with app.app_context():
        db.session.get(User, user_id).password_hash = hash_password("short1")
        db.session.commit()
    assert login(app.test_client(), password="short1").status_code == 302


# -- CSRF, cookies, headers -------------------------------------------------------------------


@pytest.fixture
def csrf_app(tmp_path, request):
    app = make_app(tmp_path, "sqlite", request, WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _token(response) -> str:
    match = CSRF_RE.search(text(response))
    assert match, "no csrf_token on the page"
    return match.group(1)


def test_the_csrf_secret_is_renewed_at_sign_in_and_sign_out(csrf_app, make_user):
    from trainer.people.services import create_user

    with csrf_app.app_context():
        create_user(db.session, email="sam@example.com", name="Sam", password=PASSWORD)
        db.session.commit()
    browser = csrf_app.test_client()
    before = _token(browser.get("/login"))
    data = {"email": "sam@example.com", "password": PASSWORD, "csrf_token": before}
    assert browser.post("/login", data=data).status_code == 302

    # A token seen before signing in (say, planted by someone else) no longer works.
    assert browser.post("/logout", data={"csrf_token": before}).status_code == 400
    signed_in = _token(browser.get("/"))
    assert signed_in != before
    assert browser.post("/logout", data={"csrf_token": signed_in}).status_code == 303

    after = _token(browser.get("/login"))
    assert after != signed_in
    data["csrf_token"] = signed_in
    assert browser.post("/login", data=data).status_code == 400


def test_signed_in_pages_are_not_stored_by_the_browser(app, make_user):
    make_user()
    browser = app.test_client()
    assert "no-store" not in browser.get("/login").headers.get("Cache-Control", "")
    login(browser)
    assert browser.get("/").headers["Cache-Control"] == "no-store"
    assert browser.get("/account").headers["Cache-Control"] == "no-store"
    static = browser.get("/static/style.css")
    static.close()
    assert "no-store" not in static.headers.get("Cache-Control", "")


def test_hsts_can_be_turned_off_and_is_off_in_development(tmp_path, monkeypatch):
    config = {
        "SECRET_KEY": "k" * 64,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.sqlite'}",
        "CONTENT_DIR": str(ROOT),
    }
    production = create_app("production", {**config, "HSTS_SECONDS": 0})
    assert "Strict-Transport-Security" not in production.test_client().get("/login").headers
    development = create_app("development", config)
    assert "Strict-Transport-Security" not in development.test_client().get("/login").headers
