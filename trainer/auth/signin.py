"""What every way of signing in ends with (password, PIN on an enrolled tablet, join code,
personal card, company sign-in): a server-side session for the person, a fresh CSRF secret, the
browser remembered as theirs, and a redirect to where they were going.

Each way of signing in is a module of `trainer.auth` that checks its own credentials and then
calls `finish(user, ...)`; signing out is `sign_out()` whichever way was used.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user
from itsdangerous import BadSignature, URLSafeSerializer

from trainer.auth import device, sessions
from trainer.extensions import db
from trainer.languages import gettext as _
from trainer.languages import remember_language
from trainer.models import User, utcnow

# A browser remembers which accounts signed in on it, so their owners are not slowed down
# by guesses made elsewhere (trainer/auth/throttle.py). Signed; holds ids only.
KNOWN_BROWSER_SALT = "known-browser"
KNOWN_BROWSER_DAYS = 365
KNOWN_BROWSER_MAX = 10


# Where each role lands after signing in: a manager's work is their team, an admin's the people
# list. Their own learning stays one tab away ("My learning").
HOMES = {"manager": "manage.team", "admin": "admin.people"}


def home(user: User | None) -> str:
    """The page a person starts on: by their role, Today for a learner."""
    role = getattr(user, "role", None)
    return url_for(HOMES.get(role, "learn.today"))


def safe_next(target: str | None, user: User | None = None) -> str:
    """Only a path on this site: never an open redirect. With none, `user`'s home."""
    if target:
        parts = urlsplit(target)
        # "///host" has no netloc for urlsplit, but browsers read it as "//host".
        local = target.startswith("/") and not target.startswith("//") and "\\" not in target
        if local and not parts.scheme and not parts.netloc:
            return target
    return home(user)


def _known_browser() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=KNOWN_BROWSER_SALT)


def known_ids() -> set[int]:
    """The accounts that signed in before in this browser (none on a team's shared tablet:
    it is no one's own)."""
    if on_team_device():
        return set()
    raw = request.cookies.get(current_app.config["KNOWN_BROWSER_COOKIE_NAME"], "")
    try:
        ids = _known_browser().loads(raw) if raw else []
    except BadSignature:
        return set()
    if not isinstance(ids, list):
        return set()
    return {i for i in ids if isinstance(i, int) and not isinstance(i, bool)}


def remember_browser(response, user_id: int) -> None:
    ids = [user_id] + [i for i in known_ids() if i != user_id][: KNOWN_BROWSER_MAX - 1]
    config = current_app.config
    response.set_cookie(
        config["KNOWN_BROWSER_COOKIE_NAME"],
        _known_browser().dumps(ids),
        max_age=int(timedelta(days=KNOWN_BROWSER_DAYS).total_seconds()),
        httponly=True,
        secure=config["SESSION_COOKIE_SECURE"],
        samesite="Lax",
    )


def renew_csrf() -> None:
    """A new CSRF secret at sign-in and sign-out: a token seen before no longer works."""
    session.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    g.pop("csrf_token", None)


def _team_device():
    return device.current(db.session)


def start(user: User, *, remember: bool = False) -> None:
    """Start a server-side session for `user` in this browser (committed). In a browser
    enrolled as a team's shared tablet, whichever way they signed in, the session is the
    tablet's: never remembered, and short (`sessions.start`)."""
    shared = _team_device()
    remember = remember and shared is None
    if shared is not None:
        shared.last_used_at = utcnow()
    sessions.start(
        db.session,
        user,
        remember=remember,
        user_agent=request.user_agent.string,
        address=request.remote_addr,
        device_id=shared.id if shared is not None else None,
    )
    db.session.commit()
    renew_csrf()
    days = current_app.config["REMEMBER_DAYS"]
    login_user(user, remember=remember, duration=timedelta(days=days))
    remember_language(user.language)


def finish(user: User, *, remember: bool = False, to: str | None = None, status: int = 302):
    """Sign `user` in and return the redirect to `to` (a path on this site; their home if none),
    with this browser remembered as theirs (unless it is a shared tablet: everyone's)."""
    start(user, remember=remember)
    response = redirect(safe_next(to, user), status)
    if _team_device() is None:
        remember_browser(response, user.id)
    return response


def end_here() -> None:
    """End this browser's session on the server and in the cookie."""
    if current_user.is_authenticated:
        sessions.end(db.session, current_user)
    logout_user()
    remember_language(None)
    renew_csrf()


def on_team_device() -> bool:
    """This browser is enrolled as a team's shared tablet."""
    return _team_device() is not None


def sign_in_page() -> str:
    """Where this browser signs in: a shared tablet's PIN page, else the sign-in page."""
    return url_for("auth.device" if on_team_device() else "auth.login")


def sign_out(message: str | None = None):
    """End this browser's session on the server and in the cookie; back to where this browser
    signs in (`sign_in_page`)."""
    # Worded before the session ends, in the language of the person signing out.
    message = message or _("You are signed out.")
    end_here()
    flash(message, "info")
    return redirect(sign_in_page(), 303)
