"""Creating people, teams and job roles."""

from __future__ import annotations

from datetime import date
from zoneinfo import available_timezones

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from trainer.auth.passwords import MIN_LENGTH, hash_password
from trainer.auth.services import normalise_email
from trainer.learn.enrolment import enrol_by_role
from trainer.models import ROLES, JobRole, Team, User


class PersonError(ValueError):
    """A field is wrong; `field` names it."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


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
    try:
        email = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise PersonError("email", str(exc)) from None
    email = normalise_email(email)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise PersonError("email", f"{email} already has an account")
    if not name.strip():
        raise PersonError("name", "a name is needed")
    if role not in ROLES:
        raise PersonError("role", f"must be one of {', '.join(ROLES)}")
    if password is not None and len(password) < MIN_LENGTH:
        raise PersonError("password", f"use at least {MIN_LENGTH} characters")
    if timezone not in available_timezones():
        raise PersonError("timezone", f'"{timezone}" is not a time zone name like Europe/London')
    job = None
    if job_role:
        job = session.scalar(select(JobRole).where(JobRole.key == job_role))
        if job is None:
            raise PersonError("job_role", f'no job role "{job_role}" (sync the content first)')
    user = User(
        email=email,
        name=name.strip(),
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
