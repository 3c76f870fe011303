"""Creating people, teams and job roles.

A person is reached by at least one of: an email address, an employee number (for the branch
tablet), a phone number (for text messages). Many frontline staff have no company email.
"""

from __future__ import annotations

import re
from datetime import date
from zoneinfo import available_timezones

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from trainer.auth.passwords import hash_password, password_problem
from trainer.auth.pins import hash_pin, pin_problem
from trainer.auth.services import normalise_email
from trainer.languages import LANGUAGES
from trainer.languages import gettext as _
from trainer.learn.enrolment import enrol_by_role
from trainer.models import ROLES, JobRole, Team, User


class PersonError(ValueError):
    """A field is wrong; `field` names it."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


MAX_NAME = 120
MAX_EMAIL = 254
MAX_EMPLOYEE_NUMBER = 32
NO_CONTACT = _l("give an email address, an employee number or a phone number")
EMPLOYEE_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")


def check_email(session: Session, email: str, user_id: int | None = None) -> str:
    """A valid, normalised address no one else has (the person `user_id` may keep theirs)."""
    try:
        email = validate_email(email or "", check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise PersonError("email", str(exc)) from None
    email = normalise_email(email)
    if len(email) > MAX_EMAIL:
        raise PersonError(
            "email", _("keep the address under %(count)d characters", count=MAX_EMAIL)
        )
    taken = select(User.id).where(User.email == email)
    if user_id is not None:
        taken = taken.where(User.id != user_id)
    if session.scalar(taken) is not None:
        raise PersonError("email", _("%(email)s already has an account", email=email))
    return email


def check_employee_number(
    session: Session, number: str | None, user_id: int | None = None
) -> str | None:
    """An employee number no one else has, as written (spaces trimmed), or None if blank."""
    number = (number or "").strip()
    if not number:
        return None
    if len(number) > MAX_EMPLOYEE_NUMBER:
        raise PersonError(
            "employee_number",
            _("keep it under %(count)d characters", count=MAX_EMPLOYEE_NUMBER),
        )
    if not EMPLOYEE_NUMBER.match(number):
        raise PersonError(
            "employee_number", _("use letters, digits, dots, dashes and slashes, no spaces")
        )
    taken = select(User.id).where(User.employee_number == number)
    if user_id is not None:
        taken = taken.where(User.id != user_id)
    if session.scalar(taken) is not None:
        raise PersonError(
            "employee_number", _("%(number)s is someone else's employee number", number=number)
        )
    return number


def default_region() -> str | None:
    return current_app.config.get("DEFAULT_PHONE_REGION") if has_app_context() else None


def normalise_phone(phone: str | None, region: str | None = None) -> str | None:
    """The number in E.164 form (+447911123456), or None when it is not a real number.
    Written nationally (07911 123456) it is read in `region` (DEFAULT_PHONE_REGION)."""
    text = (phone or "").strip()
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def check_phone(phone: str | None) -> str | None:
    """A valid phone number in E.164 form, or None if blank."""
    if not (phone or "").strip():
        return None
    normalised = normalise_phone(phone, default_region())
    if normalised is None:
        raise PersonError(
            "phone",
            _(
                "“%(phone)s” is not a phone number; write it like +44 7911 123456",
                phone=phone.strip(),
            ),
        )
    return normalised


def check_contact(email: str | None, employee_number: str | None, phone: str | None) -> None:
    if not (email or employee_number or phone):
        raise PersonError("email", _("give an email address, an employee number or a phone number"))


def check_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise PersonError("name", _("a name is needed"))
    if len(name) > MAX_NAME:
        raise PersonError("name", _("keep the name under %(count)d characters", count=MAX_NAME))
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise PersonError("role", _("must be one of %(roles)s", roles=", ".join(ROLES)))
    return role


def check_timezone(timezone: str) -> str:
    if timezone not in available_timezones():
        raise PersonError(
            "timezone",
            _("“%(zone)s” is not a time zone name like Europe/London", zone=timezone),
        )
    return timezone


def check_job_role(session: Session, key: str | None) -> JobRole | None:
    if not key:
        return None
    job = session.scalar(select(JobRole).where(JobRole.key == key))
    if job is None:
        raise PersonError("job_role", _("no job role “%(key)s” (sync the content first)", key=key))
    return job


def get_or_create_team(session: Session, name: str) -> Team:
    team = session.scalar(select(Team).where(Team.name == name))
    if team is None:
        team = Team(name=name)
        session.add(team)
        session.flush()
    return team


def _field_problem(problem: str) -> str:
    return problem[0].lower() + problem[1:].rstrip(".")


def create_user(
    session: Session,
    *,
    email: str | None = None,
    name: str,
    password: str | None = None,
    role: str = "learner",
    job_role: str | None = None,
    team: str | None = None,
    timezone: str = "Europe/London",
    hire_date: date | None = None,
    employee_number: str | None = None,
    phone: str | None = None,
    pin: str | None = None,
    language: str | None = None,
) -> User:
    """Validate and add a person (not committed), enrolled on their job role's path if they are
    a learner. They need an email, an employee number or a phone number; `language` None means
    the DEFAULT_LANGUAGE setting. Raises `PersonError` naming the bad field."""
    email = check_email(session, email) if (email or "").strip() else None
    employee_number = check_employee_number(session, employee_number)
    phone = check_phone(phone)
    check_contact(email, employee_number, phone)
    name = check_name(name)
    check_role(role)
    problem = password_problem(password) if password is not None else None
    if problem:
        raise PersonError("password", _field_problem(problem))
    problem = pin_problem(pin) if pin is not None else None
    if problem:
        raise PersonError("pin", _field_problem(problem))
    check_timezone(timezone)
    language = check_language(language)
    job = check_job_role(session, job_role)
    user = User(
        email=email,
        employee_number=employee_number,
        phone=phone,
        pin_hash=hash_pin(pin) if pin else None,
        name=name,
        password_hash=hash_password(password) if password else None,
        role=role,
        job_role=job,
        team=get_or_create_team(session, team) if team else None,
        timezone=timezone,
        hire_date=hire_date,
        language=language,
    )
    session.add(user)
    session.flush()
    if role == "learner":
        enrol_by_role(session, user)
    return user


def check_language(language: str | None) -> str | None:
    """One of the platform's languages, or None for the DEFAULT_LANGUAGE setting."""
    if not language:
        return None
    if language not in LANGUAGES:
        raise PersonError(
            "language", _("must be one of %(languages)s", languages=", ".join(LANGUAGES))
        )
    return language


def change_language(session: Session, user: User, language: str) -> None:
    """Set the language `user` reads pages, mail and lessons in, and commit. Their answers,
    cards and streak stay as they are: they belong to no language."""
    user.language = check_language(language) or user.language
    session.commit()
