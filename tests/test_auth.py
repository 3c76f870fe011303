"""Signing in and out, throttling, password changes, cookies, headers and the users CLI."""

from __future__ import annotations

import importlib
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from tests.conftest import make_app
from trainer import ROOT, create_app
from trainer.auth.services import BAD_CREDENTIALS
from trainer.extensions import db
from trainer.models import User

PASSWORD = "correct horse"
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


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


@pytest.mark.parametrize(
    "role, home, heading",
    [("manager", "/manage/", "Your team"), ("admin", "/admin/people", "People")],
)
def test_managers_land_on_their_team_and_admins_on_people(make_user, client, role, home, heading):
    make_user("boss@example.com", role=role)
    response = login(client, "boss@example.com")
    assert location(response) == home
    page = text(client.get(home))
    assert f"<h1>{heading}" in page
    # Their own learning is one tab away, and the brand leads home.
    assert '<a href="/" >My learning</a>' in page
    assert f'<a class="brand" href="{home}">' in page
    assert "Today" in text(client.get("/"))
    # Already signed in: the sign-in page sends them home too; a "next" still wins.
    assert location(client.get("/login")) == home
    client.post("/logout")
    assert location(login(client, "boss@example.com", next_="/lessons")) == "/lessons"


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


def _user_on(app, email="sam@example.com", password=PASSWORD) -> int:
    from trainer.people.services import create_user

    with app.app_context():
        user = create_user(db.session, email=email, name="Sam", password=password)
        db.session.commit()
        return user.id


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
    assert response.status_code == 303
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
    assert response.status_code == 303
    assert client.get("/").status_code == 302


# --- changing password ----------------------------------------------------------------------


NEW_PASSWORD = "a brand new secret"


def change(client, current=PASSWORD, new=NEW_PASSWORD, confirm=None):
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
    assert response.status_code == 400
    page = text(response)
    assert 'id="current-error"' in page
    assert "That is not your current password." in page
    client.post("/logout")
    assert login(client).status_code == 302  # old password still works


def test_change_password_with_mismatched_confirmation(make_user, client):
    make_user()
    login(client)
    response = change(client, new=NEW_PASSWORD, confirm="another secret")
    assert 'id="confirm-error"' in text(response)
    assert "The two new passwords differ." in text(response)
    client.post("/logout")
    assert login(client, password=NEW_PASSWORD).status_code == 401
    assert login(client).status_code == 302


def test_change_password_too_short(make_user, client):
    make_user()
    login(client)
    response = change(client, new="short")
    assert 'id="new-error"' in text(response)
    assert "Use at least 12 characters." in text(response)
    client.post("/logout")
    assert login(client, password="short").status_code == 401
    assert login(client).status_code == 302


def test_change_password_success(app, make_user, client):
    user_id = make_user()
    login(client)
    response = change(client)
    assert response.status_code == 303
    assert location(response) == "/account"
    assert "Your password is changed." in text(client.get("/account"))
    with app.app_context():
        assert db.session.get(User, user_id).password_hash.startswith("$argon2id$")

    client.post("/logout")
    old = login(client)
    assert old.status_code == 401
    assert BAD_CREDENTIALS in text(old)
    new = login(client, password=NEW_PASSWORD)
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
        # "__Host-": browsers take it only over HTTPS, for this host, from path "/".
        cookie = set_cookie(response, "__Host-session")
        assert "Secure" in cookie
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie
        assert "Path=/" in cookie and "Domain" not in cookie
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
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
    assert location(response) == "/admin/people"  # an admin lands on the people list


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
    page = client.get("/account").get_data(as_text=True)
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
        data={"current": "correct horse", "new": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 303
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
