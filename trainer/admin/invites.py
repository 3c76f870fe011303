"""One-time links to set a password, for people an admin has added.

The link carries a random token; only its SHA-256 is stored, so a copy of the database cannot be
used to sign in. A link works once, for seven days, and only the newest one a person was sent.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from markupsafe import escape
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from trainer.auth import sessions
from trainer.auth.passwords import hash_password, password_problem
from trainer.languages import gettext as _
from trainer.languages import speaking
from trainer.messages.outbox import queue_message
from trainer.models import Invitation, User, utcnow
from trainer.models.base import use_once

LIFETIME = timedelta(days=7)
KIND = "invitation"


class InvitationInvalid(LookupError):
    """The link is unknown, used, expired, or its person can no longer sign in."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def invitation_link(token: str) -> str:
    return f"{current_app.config['PUBLIC_URL']}/welcome/{token}"


def _mail(user: User, link: str) -> tuple[str, str, str]:
    """Subject, text and HTML of the invitation, in the person's language."""
    days = LIFETIME.days
    hello = _("Hello %(name)s,", name=user.first_name)
    ready = _(
        "An account on Frontline Trainer is ready for you. Open this link to choose your "
        "password and sign in:"
    )
    lasts = _(
        "The link works once and for %(days)d days. If it has expired, ask your admin for a "
        "new one.",
        days=days,
    )
    text = f"{hello}\n\n{ready}\n\n{link}\n\n{lasts}\n"
    button = _("Set your password")
    copy = _("Or copy this address into your browser:")
    html = (
        f"<p>{escape(hello)}</p><p>{escape(ready)}</p>"
        f'<p><a href="{escape(link)}">{escape(button)}</a></p>'
        f"<p>{escape(copy)} {escape(link)}</p><p>{escape(lasts)}</p>"
    )
    return _("Set your Frontline Trainer password"), text, html


def cancel_invitations(session: Session, user: User) -> None:
    """Make the person's unused links stop working (they are kept, as expired). Not committed."""
    now = utcnow()
    session.execute(
        update(Invitation)
        .where(
            Invitation.user_id == user.id,
            Invitation.used_at.is_(None),
            Invitation.expires_at > now,
        )
        .values(expires_at=now)
        .execution_options(synchronize_session="fetch")
    )


def new_link(session: Session, user: User, lifetime: timedelta) -> tuple[Invitation, str]:
    """A new one-time link row for the person, good for `lifetime`, and its token (only its hash
    is stored). Their earlier unused links stop working. Not committed."""
    cancel_invitations(session, user)
    now = utcnow()
    token = secrets.token_urlsafe(32)
    link = Invitation(
        user_id=user.id, token_hash=token_hash(token), created_at=now, expires_at=now + lifetime
    )
    session.add(link)
    return link, token


def send_invitation(session: Session, user: User) -> Invitation:
    """Make a new link for the person and queue the mail that carries it. Any earlier link of
    theirs that is still unused stops working, so a forwarded old mail cannot set the password.
    Not committed: the caller commits it with its cause (the new person, the admin's "Send a
    new link", an import)."""
    invitation, token = new_link(session, user, LIFETIME)
    with speaking(user):
        subject, text, html = _mail(user, invitation_link(token))
    queue_message(
        session,
        to=user.email,
        subject=subject,
        text=text,
        html=html,
        kind=KIND,
        user_id=user.id,
        expires_at=invitation.expires_at,  # a mail whose link no longer works helps no one
    )
    return invitation


def find_invitation(session: Session, token: str) -> Invitation | None:
    """The invitation a link is for, if it can still be used."""
    if not token or len(token) > 128:
        return None
    invitation = session.scalar(
        select(Invitation).where(Invitation.token_hash == token_hash(token))
    )
    if invitation is None or invitation.used_at is not None or invitation.expires_at <= utcnow():
        return None
    user = session.get(User, invitation.user_id)
    if user is None or not user.active:
        return None
    return invitation


def accept_invitation(session: Session, token: str, password: str) -> User:
    """Set the person's password from their link and use the link up. Committed. Raises
    `InvitationInvalid` when the link cannot be used (also when two tabs send it at once: only
    one wins), `ValueError` when the password does not meet the rules."""
    invitation = find_invitation(session, token)
    if invitation is None:
        raise InvitationInvalid(token)
    problem = password_problem(password)
    if problem:
        raise ValueError(problem)
    now = utcnow()
    if not use_once(session, Invitation, invitation.id, now):
        session.rollback()
        raise InvitationInvalid(token)
    user = session.get(User, invitation.user_id)
    user.password_hash = hash_password(password)
    user.last_seen_at = now
    session.commit()
    # Whoever was signed in with the old password is not any more.
    sessions.end_all(session, user, "password changed")
    return user
