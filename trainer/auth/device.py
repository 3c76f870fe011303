"""Signing in on a team's shared tablet: employee number and PIN, on an enrolled device only.

A manager enrols a device for a team they manage with a one-time link (`add_device`, or
`flask --app trainer devices add`); opening it on the tablet and confirming (`enrol`) gives that
browser a signed cookie holding the device's id and a secret whose SHA-256 the device row keeps.
Revoking the device stops the cookie at once and ends every session started on it.

On the device, the people of its team sign in with their employee number and PIN
(`sign_in_with_pin`). Managers and admins do not: their pages show the whole team's records,
which a shared screen must not leave open for the next colleague; they use their password.
A PIN anywhere else (no device cookie, a revoked device, another team's device) is refused in
the same words, with the same status and after the same Argon2 work as a wrong PIN. Sessions
started on the device idle out after DEVICE_IDLE_MINUTES (`sessions.load`) and end when the
lesson or refresher does ("Done — sign out").

Guesses are counted with `throttle`'s atomic counters under keys of their own: per person on
each device, per device, and per person a day. They never touch the counts of passwords, so a
tablet under attack cannot lock anyone out of their own phone.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, g, request
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from trainer.auth import codes, sessions, throttle
from trainer.auth.pins import verify_pin
from trainer.languages import gettext as _
from trainer.models import Device, Team, User, UserSession, utcnow

LINK_LIFETIME = timedelta(hours=48)
MAX_LABEL = 80
COOKIE_SALT = "team-device"
COOKIE_DAYS = 400  # the most a browser keeps a cookie; renewed at every sign-in there
WRONG_PIN = _l("That employee number and PIN do not match. Check both and try again.")


class DeviceError(ValueError):
    """A field of a new device is wrong; `field` names it."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class LinkInvalid(LookupError):
    """The enrolment link is unknown, used, expired or its device revoked."""


# -- enrolling and revoking --------------------------------------------------------------------


def enrolment_link(code: str) -> str:
    return f"{current_app.config['PUBLIC_URL']}/device/enrol/{codes.written(code)}"


def check_label(label: str | None) -> str:
    label = " ".join((label or "").split())
    if not label:
        raise DeviceError("label", _("Give the device a name, like “Counter tablet”."))
    if len(label) > MAX_LABEL:
        raise DeviceError("label", _("Keep the name under %(count)d characters.", count=MAX_LABEL))
    return label


def add_device(
    session: Session, team: Team, label: str, created_by: User | None
) -> tuple[Device, str]:
    """A new device of `team`, waiting to be enrolled, and the code of its one-time link
    (`enrolment_link`), which works for 48 hours. Committed. Raises `DeviceError`."""
    label = check_label(label)
    now = utcnow()
    code = codes.new_code()
    device = Device(
        team_id=team.id,
        label=label,
        created_by_id=created_by.id if created_by else None,
        created_at=now,
        link_hash=codes.code_hash(code),
        link_expires_at=now + LINK_LIFETIME,
    )
    session.add(device)
    session.commit()
    return device, code


def find_waiting(session: Session, text: str) -> Device | None:
    """The device an enrolment link is for, if the link can still be used."""
    code = codes.normalise(text)
    if code is None:
        return None
    device = session.scalar(select(Device).where(Device.link_hash == codes.code_hash(code)))
    if device is None or device.status(utcnow()) != "waiting":
        return None
    return device


def is_link_of(device: Device, text: str) -> bool:
    """`text` is the enrolment link `device` was made with (used or not)."""
    code = codes.normalise(text)
    return code is not None and hmac.compare_digest(device.link_hash, codes.code_hash(code))


def enrol(session: Session, text: str, replacing: Device | None = None) -> tuple[Device, str]:
    """Use up an enrolment link: the device is enrolled, and the value of the cookie that
    marks this browser as it is returned (`set_cookie`). A device this browser was before
    (`replacing`) is revoked. Committed. Raises `LinkInvalid`, also when two browsers open the
    same link at once (only one wins)."""
    device = find_waiting(session, text)
    if device is None:
        raise LinkInvalid(text)
    now = utcnow()
    secret = secrets.token_urlsafe(32)
    claimed = session.execute(
        update(Device)
        .where(
            Device.id == device.id,
            Device.enrolled_at.is_(None),
            Device.revoked_at.is_(None),
            Device.link_expires_at > now,
        )
        .values(enrolled_at=now, last_used_at=now, secret_hash=sessions.secret_hash(secret))
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        session.rollback()
        raise LinkInvalid(text)
    session.commit()
    session.refresh(device)
    if replacing is not None and replacing.id != device.id:
        revoke(session, replacing)
    return device, _serializer().dumps([device.id, secret])


def revoke(session: Session, device: Device) -> int:
    """Stop the device: its cookie no longer works and every session started on it ends now.
    Committed; returns how many sessions ended."""
    session.execute(
        update(Device)
        .where(Device.id == device.id, Device.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.commit()
    session.refresh(device)
    running = session.scalars(
        select(UserSession.id).where(
            UserSession.device_id == device.id, UserSession.ended_at.is_(None)
        )
    )
    return sessions.end_ids(session, list(running), "device revoked")


def devices_of(session: Session, team_ids: list[int]) -> list[Device]:
    """The devices of these teams, the ones in use first, newest first within each."""
    if not team_ids:
        return []
    found = session.scalars(
        select(Device).where(Device.team_id.in_(team_ids)).order_by(Device.created_at.desc())
    )
    order = {"enrolled": 0, "waiting": 1, "expired": 2, "revoked": 3}
    now = utcnow()
    return sorted(found, key=lambda device: order[device.status(now)])


# -- the cookie that makes a browser the team's device ----------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=COOKIE_SALT)


def _from_cookie(session: Session, raw: str) -> Device | None:
    try:
        device_id, secret = _serializer().loads(raw)
    except (BadSignature, TypeError, ValueError):
        return None
    if not isinstance(device_id, int) or isinstance(device_id, bool) or not isinstance(secret, str):
        return None
    device = session.get(Device, device_id)
    if device is None or device.revoked_at is not None or device.secret_hash is None:
        return None
    if not hmac.compare_digest(device.secret_hash, sessions.secret_hash(secret)):
        return None
    return device


def current(session: Session) -> Device | None:
    """The enrolled, unrevoked device this request's browser is, if any (once per request)."""
    if "team_device" not in g:
        raw = request.cookies.get(current_app.config["DEVICE_COOKIE_NAME"], "")
        g.team_device = _from_cookie(session, raw) if raw else None
    return g.team_device


def set_cookie(response, value: str) -> None:
    config = current_app.config
    response.set_cookie(
        config["DEVICE_COOKIE_NAME"],
        value,
        max_age=int(timedelta(days=COOKIE_DAYS).total_seconds()),
        httponly=True,
        secure=config["SESSION_COOKIE_SECURE"],
        samesite="Lax",
    )


def keep_cookie(response) -> None:
    """Renew this browser's device cookie, so a tablet in daily use never loses it."""
    raw = request.cookies.get(current_app.config["DEVICE_COOKIE_NAME"])
    if raw:
        set_cookie(response, raw)


# -- signing in with a PIN ---------------------------------------------------------------------


@dataclass
class PinSignIn:
    user: User | None
    error: str | None = None
    retry_after: int | None = None  # seconds, when refused for too many wrong PINs


def pin_policy() -> throttle.Policy:
    config = current_app.config
    per_day = config["PIN_MAX_CHECKS_PER_PERSON_PER_DAY"]
    return throttle.Policy(
        window_seconds=config["LOGIN_FAILURE_WINDOW_SECONDS"],
        per_address=config["PIN_MAX_FAILURES_PER_DEVICE"],
        per_pair=config["PIN_MAX_FAILURES_PER_PERSON_AND_DEVICE"],
        checks_before_delay=per_day,  # no growing delay: the daily cap is small already
        checks_per_day=per_day,
        too_many_here=_(
            "Too many wrong PINs on this device in a short time. Wait %(wait)s and try again."
        ),
        too_many_pair=_(
            "Too many wrong PINs for this employee number. Wait %(wait)s and try "
            "again, or ask your manager for help."
        ),
        slowed=_("Too many wrong PINs for this employee number today. Try again in %(wait)s."),
        capped=_(
            "Too many wrong PINs for this employee number today. Try again later, or ask "
            "your manager for help."
        ),
    )


def may_sign_in_on(user: User | None, device: Device | None) -> bool:
    """Only on an enrolled device, and only the active learners of its team."""
    return (
        user is not None
        and device is not None
        and user.active
        and user.role == "learner"
        and user.team_id == device.team_id
    )


def sign_in_with_pin(
    session: Session,
    device: Device | None,
    employee_number: str,
    pin: str,
    address: str | None,
    now: datetime | None = None,
) -> PinSignIn:
    """Check an employee number and PIN on `device` (None: this browser is no enrolled
    device). Every refusal reads as a wrong PIN, whatever the reason; every attempt is counted
    before the PIN is checked, so guesses sent at the same moment cannot overrun a limit.
    Committed; the session is started by `signin.finish`, which notes the device's use."""
    number = (employee_number or "").strip()[:64]
    found = session.scalar(select(User).where(User.employee_number == number)) if number else None
    person = found if may_sign_in_on(found, device) else None
    # Someone who may not sign in here is counted under what was typed, like an unknown number,
    # so guesses on another team's tablet use up nothing of theirs.
    account = f"pin:#{person.id}" if person is not None else f"pin:{number}"
    place = f"device:{device.id}" if device is not None else f"browser:{(address or '')[:64]}"
    reserved = throttle.reserve(session, account, place, known_owner=False, policy=pin_policy())
    if isinstance(reserved, throttle.Refusal):
        return PinSignIn(None, reserved.message, reserved.retry_after)

    # The same Argon2 work whether or not anyone may sign in here (a dummy hash for no one).
    ok = verify_pin(person.pin_hash if person is not None else None, pin or "")
    if not ok or person is None:
        throttle.failed(session, reserved)
        return PinSignIn(None, WRONG_PIN)

    throttle.succeeded(session, reserved)
    person.last_seen_at = now or utcnow()
    session.commit()
    return PinSignIn(person)
