"""Signed-in sessions as rows: started at sign-in, checked on every request, ended for good.

The browser's session (and remember-me) cookie holds `<row id>.<secret>`; only the secret's
SHA-256 is stored. A session ends when its person signs out, changes their password, is
deactivated, signs it out from another device, or leaves it idle (remember-me sessions last
`REMEMBER_DAYS` instead, and no session outlives that). A session started on a team's shared
tablet (`device_id`) idles out after DEVICE_IDLE_MINUTES and ends when the tablet is revoked.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from trainer.database import UNSEEN_WRITE
from trainer.languages import gettext as _
from trainer.models import User, UserSession, utcnow
from trainer.web import parse_id

# A busy person's session is written at most this often just to say "still here".
TOUCH_EVERY = timedelta(seconds=60)
# On a shared tablet, whose sessions idle out after minutes, closer to the truth.
DEVICE_TOUCH_EVERY = timedelta(seconds=10)
KNOWN_ADDRESS_DAYS = 90


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _limits(device_id: int | None = None) -> tuple[timedelta, timedelta]:
    """How long a session (started on the shared device `device_id`, if any) may idle, and
    the longest it may last."""
    config = current_app.config
    minutes = config["SESSION_IDLE_MINUTES"]
    if device_id is not None:
        minutes = config["DEVICE_IDLE_MINUTES"]
    return timedelta(minutes=minutes), timedelta(days=config["REMEMBER_DAYS"])


def start(
    session: Session,
    user: User,
    *,
    remember: bool,
    user_agent: str,
    address: str,
    device_id: int | None = None,
) -> UserSession:
    """A new session for `user` (not committed); `user.session_token` is set to its cookie
    value, ready for `flask_login.login_user`. On a team's shared device (`device_id`) it is
    never remembered and idles out after DEVICE_IDLE_MINUTES."""
    _idle, longest = _limits()
    now = utcnow()
    secret = secrets.token_urlsafe(32)
    row = UserSession(
        user_id=user.id,
        secret_hash=secret_hash(secret),
        device=device_label(user_agent),
        address=(address or "")[:64],
        remember=remember and device_id is None,
        device_id=device_id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + longest,
    )
    session.add(row)
    session.flush()
    user.session_token = f"{row.id}.{secret}"
    user.session_device_id = device_id
    return row


# The person and what the check needs of their session, in one statement built once: this
# runs on every request, so the session's own row is not built as an object.
_LOAD = (
    select(
        User,
        UserSession.secret_hash,
        UserSession.ended_at,
        UserSession.expires_at,
        UserSession.last_seen_at,
        UserSession.remember,
        UserSession.device_id,
    )
    .join(User, User.id == UserSession.user_id)
    .where(UserSession.id == bindparam("row_id"))
)


def load(session: Session, token: str) -> User | None:
    """The person a cookie's session belongs to, if it is still going; ends it if it idled or
    expired. Notes the time it was last used (at most once a minute)."""
    row_id, _sep, secret = (token or "").partition(".")
    row_id = parse_id(row_id)
    if row_id is None:
        return None
    found = session.execute(_LOAD, {"row_id": row_id}).first()
    if found is None:
        return None
    user, hashed, ended_at, expires_at, last_seen_at, remember, device_id = found
    if ended_at is not None:
        return None
    if not hmac.compare_digest(hashed, secret_hash(secret)):
        return None
    if not user.active:
        return None
    now = utcnow()
    idle, _longest = _limits(device_id)
    reason = None
    if now >= expires_at:
        reason = "expired"
    elif not remember and now - last_seen_at >= idle:
        reason = "idle"
    if reason:
        end_ids(session, [row_id], reason, now)
        return None
    touch_every = TOUCH_EVERY if device_id is None else DEVICE_TOUCH_EVERY
    if now - last_seen_at >= touch_every and not (session.new or session.dirty):
        # Writes no kept page shows: they do not make the person's pages out of date.
        unseen = {UNSEEN_WRITE: True, "synchronize_session": False}
        session.execute(
            update(UserSession).where(UserSession.id == row_id).values(last_seen_at=now),
            execution_options=unseen,
        )
        session.execute(
            update(User).where(User.id == user.id).values(last_seen_at=now),
            execution_options=unseen,
        )
        set_committed_value(user, "last_seen_at", now)
        session.commit()
    user.session_token = token
    user.session_device_id = device_id
    return user


def current(session: Session, user: User) -> UserSession | None:
    """The session row `user` was loaded with in this request."""
    row_id = parse_id((user.session_token or "").partition(".")[0])
    return session.get(UserSession, row_id) if row_id else None


def end_ids(session: Session, ids: list[int], reason: str, now: datetime | None = None) -> int:
    """End the sessions `ids` that are still going. Committed; returns how many ended."""
    if not ids:
        return 0
    result = session.execute(
        update(UserSession)
        .where(UserSession.id.in_(ids), UserSession.ended_at.is_(None))
        .values(ended_at=now or utcnow(), end_reason=reason)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount or 0


def end(session: Session, user: User, reason: str = "signed out") -> None:
    """End the session `user` was loaded with. Committed."""
    row = current(session, user)
    if row is not None:
        end_ids(session, [row.id], reason)


def end_all(session: Session, user: User, reason: str, *, keep_current: bool = False) -> int:
    """End every session of `user` (but the current one, with `keep_current`). Committed;
    returns how many ended."""
    query = select(UserSession.id).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None)
    )
    if keep_current and (row := current(session, user)) is not None:
        query = query.where(UserSession.id != row.id)
    return end_ids(session, list(session.scalars(query)), reason)


def active(session: Session, user: User) -> list[UserSession]:
    """The person's sessions still going, most recently used first."""
    return list(
        session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        )
    )


def known_address(session: Session, user_id: int, address: str) -> bool:
    """True when the person signed in from `address` in the last 90 days."""
    since = utcnow() - timedelta(days=KNOWN_ADDRESS_DAYS)
    found = session.scalar(
        select(UserSession.id)
        .where(UserSession.user_id == user_id, UserSession.address == address)
        .where(UserSession.created_at >= since)
        .limit(1)
    )
    return found is not None


def forget_old(session: Session, now: datetime) -> int:
    """Delete sessions that ended (or expired) more than 90 days ago. Not committed."""
    cutoff = now - timedelta(days=KNOWN_ADDRESS_DAYS)
    result = session.execute(
        delete(UserSession).where(
            or_(UserSession.ended_at < cutoff, UserSession.expires_at < cutoff)
        )
    )
    return result.rowcount or 0


# -- naming a device the way its owner would ---------------------------------------------------

UNKNOWN_DEVICE = "Unknown browser"

_BROWSERS = (
    ("Edge", re.compile(r"Edg(e|A|iOS)?/")),
    ("Samsung Internet", re.compile(r"SamsungBrowser/")),
    ("Opera", re.compile(r"OPR/|Opera")),
    ("Firefox", re.compile(r"Firefox/|FxiOS/")),
    ("Chrome", re.compile(r"Chrome/|CriOS/|Chromium/")),
    ("Safari", re.compile(r"Safari/")),
)
_SYSTEMS = (
    ("iPhone", re.compile(r"iPhone")),
    ("iPad", re.compile(r"iPad")),
    ("Android", re.compile(r"Android")),
    ("Windows", re.compile(r"Windows")),
    ("ChromeOS", re.compile(r"CrOS")),
    ("Mac", re.compile(r"Macintosh|Mac OS X")),
    ("Linux", re.compile(r"Linux")),
)


def device_label(user_agent: str | None) -> str:
    """ "Chrome on Android", "Safari on iPhone", or "Unknown browser"."""
    agent = user_agent or ""
    browser = next((name for name, pattern in _BROWSERS if pattern.search(agent)), None)
    system = next((name for name, pattern in _SYSTEMS if pattern.search(agent)), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or UNKNOWN_DEVICE


def device_name(label: str | None) -> str:
    """A stored device label (`device_label`, kept in English) in the reader's language:
    "Chrome on Android" is "Chrome en Android" in Spanish; browser and system names stay."""
    if not label or label == UNKNOWN_DEVICE:
        return _("Unknown browser")
    browser, on, system = label.partition(" on ")
    if not on:
        return label
    return _("%(browser)s on %(system)s", browser=browser, system=system)
