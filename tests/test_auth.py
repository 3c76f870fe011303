"""Signing in and out, throttling, password changes, cookies, headers and the users CLI."""

from __future__ import annotations

import importlib
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from tests.conftest import make_app
from trainer import ROOT, create_app
from trainer.auth.services import BAD_CREDENTIALS
from trainer.extensions import db
from trainer.models import LoginFailure, User

PASSWORD = "correct horse"
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
TOO_MANY = "Too many failed sign-ins"


def login(client, email="sam@example.com", password=PASSWORD, address=None, next_=None):
    url = "/login" if next_ is None else f"/login?next={next_}"
    kwargs = {"environ_base": {"REMOTE_ADDR": address}} if address else {}
    return client.post(url, data={"email": email, "password": password}, **kwargs)


def text(response) -> str:
    return response.get_data(as_text=True)


def location(response) -> str:
    return urlsplit(response.headers["Location"]).path


def set_cookie(response, name: str) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(f"{name}=")]
    assert cookies, f"no {name} cookie set"
    return cookies[-1]


# --- signing in -----------------------------------------------------------------------------


def test_right_password_lands_on_today(make_user, client):
    make_user()
    response = login(client)
    assert response.status_code == 302
    assert location(response) == "/"
    today = client.get("/")
    assert today.status_code == 200
    assert "Sign out" in text(today)


def test_wrong_password_and_unknown_email_look_the_same(make_user, client):
    make_user()
    wrong = login(client, password="not my password")
    unknown = login(client, email="nobody@example.com")
    for response in (wrong, unknown):
        assert not 200 <= response.status_code < 300
        assert BAD_CREDENTIALS in text(response)
    assert wrong.status_code == unknown.status_code
    # Nothing else on the page tells the two apart (besides the echoed email).
    assert text(wrong).replace("sam@example.com", "") == text(unknown).replace(
        "nobody@example.com", ""
    )
    assert client.get("/").status_code == 302  # still signed out


def test_email_is_case_insensitive(make_user, client):
    make_user("Sam.Jones@Example.com")
    response = login(client, email="  SAM.JONES@example.COM ")
    assert response.status_code == 302
    assert location(response) == "/"


def test_empty_form_is_refused(client):
    response = client.post("/login", data={"email": "", "password": ""})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_password_is_stored_as_argon2id_hash(app, make_user):
    user_id = make_user(password=PASSWORD)
    with app.app_context():
        stored = db.session.get(User, user_id).password_hash
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


# --- throttling (both databases) ------------------------------------------------------------


def _user_on(app, email="sam@example.com", password=PASSWORD) -> int:
    from trainer.people.services import create_user

    with app.app_context():
        user = create_user(db.session, email=email, name="Sam", password=password)
        db.session.commit()
        return user.id


def _failures(app, **where) -> int:
    with app.app_context():
        query = sa.select(sa.func.count()).select_from(LoginFailure).filter_by(**where)
        return db.session.scalar(query)


def _move_failures_back(app, seconds: int) -> None:
    """Age every recorded failure (row by row: SQLite has no datetime arithmetic)."""
    with app.app_context():
        for failure in db.session.scalars(sa.select(LoginFailure)):
            failure.at -= timedelta(seconds=seconds)
        db.session.commit()


def test_account_is_throttled_across_addresses(any_db_app):
    _user_on(any_db_app)
    client = any_db_app.test_client()
    limit = any_db_app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    for n in range(limit):
        response = login(client, password="wrong guess", address=f"10.0.0.{n + 1}")
        assert response.status_code == 401
        assert BAD_CREDENTIALS in text(response)

    refused = login(client, address="10.0.1.1")  # the right password, from yet another address
    assert refused.status_code == 429
    assert TOO_MANY in text(refused)
    assert "Wait 15 minutes" in text(refused)
    assert client.get("/").status_code == 302  # not signed in

    # The same goes for the email written differently.
    refused = login(client, email="SAM@EXAMPLE.COM", address="10.0.1.2")
    assert refused.status_code == 429


def test_address_is_throttled_across_emails(any_db_app):
    _user_on(any_db_app)
    # Lower than the default 20 (it is an env setting): each unknown email costs a full-strength
    # Argon2 check against the dummy hash, so 20 of them make a slow test.
    limit = any_db_app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 8
    assert limit > any_db_app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    attacker = any_db_app.test_client()
    for n in range(limit):
        response = login(attacker, email=f"guess{n}@example.com", address="192.0.2.7")
        assert response.status_code == 401

    refused = login(attacker, address="192.0.2.7")  # a real account, the right password
    assert refused.status_code == 429
    assert TOO_MANY in text(refused)

    colleague = any_db_app.test_client()
    response = login(colleague, address="198.51.100.3")
    assert response.status_code == 302
    assert location(response) == "/"


def test_failures_older_than_the_window_no_longer_count(any_db_app):
    _user_on(any_db_app)
    client = any_db_app.test_client()
    limit = any_db_app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    for _ in range(limit):
        login(client, password="wrong guess", address="10.0.0.1")
    assert login(client, address="10.0.0.1").status_code == 429

    _move_failures_back(any_db_app, any_db_app.config["LOGIN_FAILURE_WINDOW_SECONDS"] + 1)

    response = login(client, address="10.0.0.1")
    assert response.status_code == 302
    assert location(response) == "/"


def test_failures_just_inside_the_window_still_count(any_db_app):
    _user_on(any_db_app)
    client = any_db_app.test_client()
    limit = any_db_app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    for _ in range(limit):
        login(client, password="wrong guess", address="10.0.0.1")
    _move_failures_back(any_db_app, any_db_app.config["LOGIN_FAILURE_WINDOW_SECONDS"] - 90)

    refused = login(client, address="10.0.0.1")
    assert refused.status_code == 429
    assert "Wait 2 minutes" in text(refused)


def test_success_clears_the_account_failures(any_db_app):
    _user_on(any_db_app)
    limit = any_db_app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    client = any_db_app.test_client()
    for _ in range(limit - 1):
        assert login(client, password="wrong guess", address="10.0.0.1").status_code == 401
    assert _failures(any_db_app, email="sam@example.com") == limit - 1

    assert login(client, address="10.0.0.1").status_code == 302
    assert _failures(any_db_app, email="sam@example.com") == 0

    other = any_db_app.test_client()
    for _ in range(limit - 1):
        assert login(other, password="wrong guess", address="10.0.0.2").status_code == 401
    # Without the clear-out there would now be 2 * (limit - 1) >= limit failures.
    assert login(other, address="10.0.0.2").status_code == 302


# --- deactivated people ---------------------------------------------------------------------


def _deactivate(app, user_id):
    with app.app_context():
        db.session.get(User, user_id).active = False
        db.session.commit()


def test_deactivated_person_cannot_sign_in(app, make_user, client):
    _deactivate(app, make_user())
    response = login(client)
    assert response.status_code == 401
    assert BAD_CREDENTIALS in text(response)
    assert client.get("/").status_code == 302


def test_deactivated_person_is_signed_out_on_next_request(app, make_user, client):
    user_id = make_user()
    assert login(client).status_code == 302
    assert client.get("/").status_code == 200

    _deactivate(app, user_id)
    response = client.get("/")
    assert response.status_code == 302
    assert location(response) == "/login"
    assert client.get("/lessons").status_code == 302


# --- signing out ----------------------------------------------------------------------------


def test_sign_out_is_post_only_and_works(make_user, client):
    make_user()
    login(client)
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200  # the GET did not sign anyone out

    response = client.post("/logout")
    assert response.status_code == 302
    assert location(response) == "/login"
    assert "You are signed out." in text(client.get("/login"))
    assert client.get("/").status_code == 302


# --- pages need sign-in and `next` ----------------------------------------------------------


def test_pages_redirect_to_login_with_next(client):
    response = client.get("/")
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert target.path == "/login"
    assert parse_qs(target.query)["next"] == ["/"]

    response = client.get("/lessons")
    assert parse_qs(urlsplit(response.headers["Location"]).query)["next"] == ["/lessons"]


def test_login_follows_next_to_a_page_on_this_site(make_user, client):
    make_user()
    response = login(client, next_="/lessons")
    assert response.status_code == 302
    assert location(response) == "/lessons"
    assert client.get("/lessons").status_code == 200


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "///evil.example/",
        "////evil.example/",
        "/\\evil.example/",
        "/\t/evil.example/",
        "javascript:alert(1)",
    ],
)
def test_login_ignores_next_off_this_site(make_user, client, target):
    from urllib.parse import quote

    make_user()
    response = login(client, next_=quote(target, safe=""))
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_signed_in_person_visiting_login_goes_to_today(make_user, client):
    make_user()
    login(client)
    response = client.get("/login")
    assert response.status_code == 302
    assert location(response) == "/"


# --- CSRF -----------------------------------------------------------------------------------


@pytest.fixture
def csrf_app(tmp_path, request):
    app = make_app(tmp_path, "sqlite", request, WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no csrf_token on the page"
    return match.group(1)


def test_login_without_csrf_token_is_refused(csrf_app):
    _user_on(csrf_app)
    client = csrf_app.test_client()
    response = login(client)
    assert response.status_code == 400
    assert "This form expired" in text(response)
    assert client.get("/").status_code == 302

    token = _csrf_token(text(client.get("/login")))
    response = client.post(
        "/login", data={"email": "sam@example.com", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    assert location(response) == "/"


def test_logout_without_csrf_token_does_not_sign_out(csrf_app):
    _user_on(csrf_app)
    client = csrf_app.test_client()
    token = _csrf_token(text(client.get("/login")))
    client.post(
        "/login", data={"email": "sam@example.com", "password": PASSWORD, "csrf_token": token}
    )
    today = text(client.get("/"))
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200

    response = client.post("/logout", data={"csrf_token": _csrf_token(today)})
    assert response.status_code == 302
    assert client.get("/").status_code == 302


# --- changing password ----------------------------------------------------------------------


def change(client, current=PASSWORD, new="a new secret", confirm=None):
    data = {"current": current, "new": new, "confirm": new if confirm is None else confirm}
    return client.post("/account/password", data=data)


def test_password_page_needs_sign_in(client):
    response = client.get("/account/password")
    assert response.status_code == 302
    assert location(response) == "/login"


def test_change_password_with_wrong_current_password(make_user, client):
    make_user()
    login(client)
    response = change(client, current="not my password")
    assert response.status_code == 200
    page = text(response)
    assert 'id="current-error"' in page
    assert "That is not your current password." in page
    client.post("/logout")
    assert login(client).status_code == 302  # old password still works


def test_change_password_with_mismatched_confirmation(make_user, client):
    make_user()
    login(client)
    response = change(client, new="a new secret", confirm="another secret")
    assert 'id="confirm-error"' in text(response)
    assert "The two new passwords differ." in text(response)
    client.post("/logout")
    assert login(client, password="a new secret").status_code == 401
    assert login(client).status_code == 302


def test_change_password_too_short(make_user, client):
    make_user()
    login(client)
    response = change(client, new="short")
    assert 'id="new-error"' in text(response)
    assert "Use at least 8 characters." in text(response)
    client.post("/logout")
    assert login(client, password="short").status_code == 401
    assert login(client).status_code == 302


def test_change_password_success(app, make_user, client):
    user_id = make_user()
    login(client)
    response = change(client, new="a new secret")
    assert response.status_code == 302
    assert location(response) == "/"
    assert "Your password is changed." in text(client.get("/"))
    with app.app_context():
        assert db.session.get(User, user_id).password_hash.startswith("$argon2id$")

    client.post("/logout")
    old = login(client)
    assert old.status_code == 401
    assert BAD_CREDENTIALS in text(old)
    new = login(client, password="a new secret")
    assert new.status_code == 302
    assert location(new) == "/"


# --- cookies and production settings --------------------------------------------------------


def test_session_cookie_is_httponly_and_lax(make_user, client):
    make_user()
    cookie = set_cookie(login(client), "session")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_production_session_cookie_is_secure(tmp_path):
    app = create_app(
        "production",
        {
            "SECRET_KEY": "k" * 64,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'prod.sqlite'}",
            "CONTENT_DIR": str(ROOT),
        },
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    with app.app_context():
        db.create_all()
    try:
        response = app.test_client().get("/login")  # the CSRF token starts a session
        assert response.status_code == 200
        cookie = set_cookie(response, "session")
        assert "Secure" in cookie
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def environment(monkeypatch):
    """Set env vars, then re-read config.py as a fresh process would; restore both afterwards."""
    import config

    def apply(**env):
        for name, value in env.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        importlib.reload(config)

    yield apply
    monkeypatch.undo()
    importlib.reload(config)


def test_production_refuses_to_start_without_a_real_secret_key(environment):
    environment(SECRET_KEY=None, DATABASE_URL="sqlite://")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production")

    environment(SECRET_KEY="too-short", DATABASE_URL="sqlite://")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production")

    environment(SECRET_KEY="dev-only-not-secret", DATABASE_URL="sqlite://")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production")


def test_production_starts_with_a_secret_key_from_the_environment(environment):
    environment(SECRET_KEY="s" * 64, DATABASE_URL="sqlite://")
    app = create_app("production")
    assert app.config["SECRET_KEY"] == "s" * 64
    assert app.config["SESSION_COOKIE_SECURE"] is True


# --- security headers -----------------------------------------------------------------------


def test_security_headers(client):
    response = client.get("/login")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # Also on redirects and error pages.
    assert "Content-Security-Policy" in client.get("/").headers
    assert client.get("/no-such-page").headers["X-Frame-Options"] == "DENY"


# --- `flask users create` -------------------------------------------------------------------


def create_args(email="Ada@Example.com", name="Ada Admin", password="admin password"):
    return ["users", "create", "--email", email, "--name", name, "--password", password]


def test_cli_creates_an_admin_who_can_sign_in(app, runner, client):
    result = runner.invoke(args=create_args())
    assert result.exit_code == 0, result.output
    assert "Created admin ada@example.com." in result.output
    with app.app_context():
        user = db.session.scalar(sa.select(User).filter_by(email="ada@example.com"))
        assert user.role == "admin"
        assert user.password_hash.startswith("$argon2id$")

    response = login(client, email="ada@example.com", password="admin password")
    assert response.status_code == 302
    assert location(response) == "/"


def test_cli_refuses_a_duplicate_email(app, runner):
    assert runner.invoke(args=create_args()).exit_code == 0
    result = runner.invoke(args=create_args(email="ADA@example.com", name="Another Ada"))
    assert result.exit_code != 0
    assert "ada@example.com already has an account" in result.output
    assert "--email" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_cli_refuses_a_bad_email(app, runner):
    result = runner.invoke(args=create_args(email="not-an-email"))
    assert result.exit_code != 0
    assert "--email" in result.output
    assert "Created" not in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_cli_refuses_a_short_password(runner):
    result = runner.invoke(args=create_args(password="short"))
    assert result.exit_code != 0
    assert "--password" in result.output


def test_password_boxes_hide_what_is_typed(client, auth, make_user):
    """Every password field is a real password input, never a text box."""
    login = client.get("/login").get_data(as_text=True)
    assert 'type="password"' in login
    assert 'type="None"' not in login
    make_user()
    auth.login()
    page = client.get("/account/password").get_data(as_text=True)
    assert page.count('type="password"') == 3
    assert 'type="None"' not in page


def test_changing_the_password_signs_out_other_devices(app, make_user):
    make_user()
    phone, laptop = app.test_client(), app.test_client()
    for device in (phone, laptop):
        device.post("/login", data={"email": "sam@example.com", "password": "correct horse"})
        assert device.get("/").status_code == 200
    response = phone.post(
        "/account/password",
        data={"current": "correct horse", "new": "battery staple", "confirm": "battery staple"},
    )
    assert response.status_code == 302
    assert phone.get("/").status_code == 200, "the device that changed it stays signed in"
    assert laptop.get("/").status_code == 302, "the other device must sign in again"


def test_behind_a_proxy_each_client_address_counts_on_its_own(tmp_path, request):
    from tests.conftest import make_app
    from trainer.extensions import db

    proxied = make_app(tmp_path, "sqlite", request, PROXY_FIX_HOPS=1)
    proxied.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 3
    with proxied.app_context():
        db.create_all()
        from trainer.people.services import create_user

        create_user(db.session, email="amy@example.com", name="Amy", password="correct horse")
        db.session.commit()
    client = proxied.test_client()
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for n in range(3):
        client.post(
            "/login",
            data={"email": f"nobody{n}@example.com", "password": "x"},
            environ_base=proxy,
            headers={"X-Forwarded-For": "203.0.113.9"},
        )
    refused = client.post(
        "/login",
        data={"email": "amy@example.com", "password": "correct horse"},
        environ_base=proxy,
        headers={"X-Forwarded-For": "203.0.113.9"},
    )
    assert refused.status_code == 429
    allowed = client.post(
        "/login",
        data={"email": "amy@example.com", "password": "correct horse"},
        environ_base=proxy,
        headers={"X-Forwarded-For": "198.51.100.7"},
    )
    assert allowed.status_code == 302
