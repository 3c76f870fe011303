"""Signing in and changing a password, with every password check counted (`throttle`)."""

from __future__ import annotations

from dataclasses import dataclass

from babel.dates import format_date
from flask_babel import get_locale
from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from trainer.auth import sessions, throttle
from trainer.auth.passwords import hash_password, needs_rehash, password_problem, verify_password
from trainer.languages import gettext as _
from trainer.languages import speaking
from trainer.messages.outbox import queue_message
from trainer.models import User, utcnow

# The English of two refusals, for code that looks for them; a person reads them translated.
BAD_CREDENTIALS = "Those details and that password do not match an active account."
WRONG_CURRENT = "That is not your current password."


@dataclass
class SignIn:
    user: User | None
    error: str | None = None
    retry_after: int | None = None  # seconds, when refused for too many failures


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_person(session: Session, identifier: str) -> User | None:
    """The person an email address, employee number or phone number names, if exactly one."""
    text = (identifier or "").strip()
    if not text:
        return None
    if "@" in text:
        return session.scalar(select(User).where(User.email == normalise_email(text)))
    user = session.scalar(select(User).where(User.employee_number == text))
    if user is not None:
        return user
    from trainer.people.services import default_region, normalise_phone

    phone = normalise_phone(text, default_region())
    if phone is None:
        return None
    found = session.scalars(select(User).where(User.phone == phone).limit(2)).all()
    return found[0] if len(found) == 1 else None  # a shared phone names nobody


def throttle_key(user: User | None, identifier: str) -> str:
    """What the counts of an account are kept under: the person, however they wrote who they
    are; for no one, what was typed (so unknown names are counted too)."""
    return f"#{user.id}" if user is not None else normalise_email(identifier)[:254]


def _address(address: str | None) -> str:
    return (address or "unknown")[:64]


def _known_owner(session: Session, user: User | None, address: str, known_ids: set[int]) -> bool:
    """The account's own browser (it signed in there before) or an address it signed in from."""
    if user is None:
        return False
    return user.id in known_ids or sessions.known_address(session, user.id, address)


def authenticate(
    session: Session,
    identifier: str,
    password: str,
    address: str | None,
    known_ids: set[int] | frozenset[int] = frozenset(),
) -> SignIn:
    """Check credentials: an email, employee number or phone number, and the password. Never
    says whether the account exists; counts every check first, so no limit can be overrun by
    guesses sent at the same moment (see `throttle`).

    `known_ids` are the accounts that signed in before in this browser."""
    address = _address(address)
    user = find_person(session, identifier)
    reserved = throttle.reserve(
        session,
        throttle_key(user, identifier),
        address,
        known_owner=_known_owner(session, user, address, known_ids),
    )
    if isinstance(reserved, throttle.Refusal):
        return SignIn(None, reserved.message, reserved.retry_after)

    ok = verify_password(user.password_hash if user else None, password or "")
    if not ok or user is None or not user.active:
        throttle.failed(session, reserved)
        return SignIn(None, _("Those details and that password do not match an active account."))

    throttle.succeeded(session, reserved)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_seen_at = utcnow()
    session.commit()
    return SignIn(user)


@dataclass
class PasswordChange:
    error: str | None = None  # for the current-password field
    new_error: str | None = None  # for the new-password field
    retry_after: int | None = None


def change_password(
    session: Session,
    user: User,
    current: str,
    new: str,
    address: str | None,
    known_ids: set[int] | frozenset[int] = frozenset(),
) -> PasswordChange:
    """Set a new password once the current one is given, counting wrong ones as sign-in does.

    On success every other session of the person ends and they are told by mail (a stolen
    session cannot quietly take the account over). Committed."""
    address = _address(address)
    problem = password_problem(new)
    if problem:
        return PasswordChange(new_error=problem)
    reserved = throttle.reserve(
        session,
        throttle_key(user, ""),
        address,
        known_owner=_known_owner(session, user, address, known_ids),
    )
    if isinstance(reserved, throttle.Refusal):
        return PasswordChange(error=reserved.message, retry_after=reserved.retry_after)
    if not verify_password(user.password_hash, current or ""):
        throttle.failed(session, reserved)
        return PasswordChange(error=_("That is not your current password."))
    throttle.succeeded(session, reserved)
    user.password_hash = hash_password(new)
    row = sessions.current(session, user)
    tell_password_changed(session, user, row.device if row else "")
    session.commit()
    sessions.end_all(session, user, "password changed", keep_current=True)
    return PasswordChange()


def password_changed_mail(first_name: str, device: str, now) -> tuple[str, str, str]:
    """Subject, text and HTML of the notice, in the current language."""
    when = _(
        "%(day)s at %(time)s UTC",
        day=format_date(now.date(), "long", locale=get_locale() or "en"),
        time=now.strftime("%H:%M"),
    )
    if device and device != sessions.UNKNOWN_DEVICE:
        changed = _(
            "The password of your Frontline Trainer account was changed on %(device)s on %(when)s.",
            device=sessions.device_name(device),
            when=when,
        )
    else:
        changed = _(
            "The password of your Frontline Trainer account was changed on %(when)s.", when=when
        )
    hello = _("Hello %(name)s,", name=first_name)
    others = _("Every other device signed in to your account has been signed out.")
    advice = _(
        "If this was you, there is nothing to do. If it was not, tell your manager or "
        "administrator now so they can lock the account and send you a new link."
    )
    text = f"{hello}\n\n{changed} {others}\n\n{advice}\n"
    html = f"<p>{escape(hello)}</p><p>{escape(changed)} {escape(others)}</p><p>{escape(advice)}</p>"
    return _("Your Frontline Trainer password was changed"), text, html


def tell_password_changed(session: Session, user: User, device: str = "") -> None:
    """Queue the mail that tells a person their password changed (not committed)."""
    if not user.email:
        return
    with speaking(user):
        subject, text, html = password_changed_mail(user.first_name, device, utcnow())
    queue_message(
        session,
        to=user.email,
        subject=subject,
        text=text,
        html=html,
        kind="security",
        user_id=user.id,
    )
