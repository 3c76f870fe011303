"""Forgotten passwords: a one-time link by mail to choose a new one.

The answer to a request never says whether the address has an account, and requests are
counted per client address and per address asked about, so the form can be used neither to
find out who works here nor to flood someone's inbox. The link is an invitation row (see
trainer/admin/invites.py): only its SHA-256 is stored, it works once, for an hour, and only
the newest link of a person works.
"""

from __future__ import annotations

from datetime import timedelta

from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from trainer.auth import throttle
from trainer.auth.services import normalise_email
from trainer.languages import gettext as _
from trainer.languages import speaking
from trainer.messages.outbox import queue_message
from trainer.models import Invitation, User

LIFETIME = timedelta(hours=1)
KIND = "password-reset"
WINDOW = timedelta(hours=1)
PER_CLIENT = 10  # requests from one client address in WINDOW
PER_EMAIL = 3  # links sent to one address in WINDOW


def reset_link(token: str) -> str:
    from flask import current_app

    return f"{current_app.config['PUBLIC_URL']}/password/reset/{token}"


def _mail(user: User, link: str) -> tuple[str, str, str]:
    """Subject, text and HTML of the reset mail, in the person's language."""
    hello = _("Hello %(name)s,", name=user.first_name)
    asked = _(
        "Someone asked to reset the password of your Frontline Trainer account. If it was you, "
        "open this link to choose a new password:"
    )
    lasts = _(
        "The link works once, for one hour. If you did not ask, ignore this mail: your "
        "password stays as it is."
    )
    text = f"{hello}\n\n{asked}\n\n{link}\n\n{lasts}\n"
    button = _("Choose a new password")
    copy = _("Or copy this address into your browser:")
    html = (
        f"<p>{escape(hello)}</p><p>{escape(asked)}</p>"
        f'<p><a href="{escape(link)}">{escape(button)}</a></p>'
        f"<p>{escape(copy)} {escape(link)}</p><p>{escape(lasts)}</p>"
    )
    return _("Reset your Frontline Trainer password"), text, html


def request_reset(session: Session, email: str, client: str) -> throttle.Refusal | None:
    """Send a reset link to the active person with this email, if there is one. Returns a
    refusal only when this client has asked too often (whoever it asked about); a person who
    has been sent enough links this hour quietly gets no more. Committed."""
    client_key = f"reset-client:{(client or 'unknown')[:64]}"
    refusal = throttle.refused(session, client_key, PER_CLIENT, WINDOW)
    if refusal is not None:
        return refusal
    throttle.failure(session, client_key, WINDOW)
    address = normalise_email(email)[:254]
    email_key = f"reset-email:{address}"
    if throttle.refused(session, email_key, PER_EMAIL, WINDOW) is not None:
        return None
    throttle.failure(session, email_key, WINDOW)
    user = session.scalar(select(User).where(User.email == address)) if address else None
    if user is None or not user.active:
        return None
    _send(session, user)
    session.commit()
    return None


def _send(session: Session, user: User) -> Invitation:
    # Imported here: trainer.admin imports auth, as the welcome view notes.
    from trainer.admin.invites import new_link

    link, token = new_link(session, user, LIFETIME)
    with speaking(user):
        subject, text, html = _mail(user, reset_link(token))
    queue_message(
        session,
        to=user.email,
        subject=subject,
        text=text,
        html=html,
        kind=KIND,
        user_id=user.id,
        expires_at=link.expires_at,
    )
    return link
