"""Creating people, teams and job roles."""

from __future__ import annotations

from datetime import date
from zoneinfo import available_timezones

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from trainer.auth.passwords import hash_password, password_problem
from trainer.auth.services import normalise_email
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


def check_email(session: Session, email: str, user_id: int | None = None) -> str:
    """A valid, normalised address no one else has (the person `user_id` may keep theirs)."""
    try:
        email = validate_email(email or "", check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise PersonError("email", str(exc)) from None
    email = normalise_email(email)
    if len(email) > MAX_EMAIL:
        raise PersonError("email", f"keep the address under {MAX_EMAIL} characters")
    taken = select(User.id).where(User.email == email)
    if user_id is not None:
        taken = taken.where(User.id != user_id)
    if session.scalar(taken) is not None:
        raise PersonError("email", f"{email} already has an account")
    return email


def check_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise PersonError("name", "a name is needed")
    if len(name) > MAX_NAME:
        raise PersonError("name", f"keep the name under {MAX_NAME} characters")
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise PersonError("role", f"must be one of {', '.join(ROLES)}")
    return role


def check_timezone(timezone: str) -> str:
    if timezone not in available_timezones():
        raise PersonError("timezone", f'"{timezone}" is not a time zone name like Europe/London')
    return timezone


def check_job_role(session: Session, key: str | None) -> JobRole | None:
    if not key:
        return None
    job = session.scalar(select(JobRole).where(JobRole.key == key))
    if job is None:
        raise PersonError("job_role", f'no job role "{key}" (sync the content first)')
    return job


def get_or_create_team(session: Session, name: str) -> Team:
    team = session.scalar(select(Team).where(Team.name == name))
    if team is None:
        team = Team(name=name)
        session.add(team)
        session.flush()
    return team


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    password: str | None,
    role: str = "learner",
    job_role: str | None = None,
    team: str | None = None,
    timezone: str = "Europe/London",
    hire_date: date | None = None,
) -> User:
    """Validate and add a person (not committed), enrolled on their job role's path if they are
    a learner. Raises `PersonError` naming the bad field."""
    email = check_email(session, email)
    name = check_name(name)
    check_role(role)
    problem = password_problem(password) if password is not None else None
    if problem:
        raise PersonError("password", problem[0].lower() + problem[1:].rstrip("."))
    check_timezone(timezone)
    job = check_job_role(session, job_role)
    user = User(
        email=email,
        name=name,
        password_hash=hash_password(password) if password else None,
        role=role,
        job_role=job,
        team=get_or_create_team(session, team) if team else None,
        timezone=timezone,
        hire_date=hire_date,
    )
    session.add(user)
    session.flush()
    if role == "learner":
        enrol_by_role(session, user)
    return user
