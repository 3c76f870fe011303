"""Joining a team with a code from a poster: no email, no admin, no paperwork.

A manager makes a code for one of their teams, with an expiry and a number of uses, and puts
the poster up. Whoever scans it gives their name (and employee number, when the team asks for
one) and chooses a PIN or a password; they are then a learner of that team, on the onboarding
path of the code's job role. Uses are counted by one conditional update, so ten people joining
at once on a five-use code make exactly five accounts. A team may ask a manager to approve each
joiner first; until then the joiner sees a waiting page and is on no path.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from trainer.auth.codes import ALPHABET
from trainer.languages import gettext as _
from trainer.models import JobRole, JoinCode, Team, User, utcnow
from trainer.people.services import PersonError, create_user

# The typed codes' alphabet (no 0/O, 1/I/L): a code read off a wall must survive retyping.
# Eight characters, not hashed: a poster's code is shared on purpose, and shown to managers.
LENGTH = 8
DEFAULT_DAYS = 14
DEFAULT_USES = 50
MAX_DAYS = 365
MAX_USES = 10_000
HOW = ("pin", "password")


class JoinError(ValueError):
    """The code cannot be used (unknown, expired, used up, revoked)."""


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def clean_code(text: str | None) -> str:
    """What someone typed, as stored: upper case, without spaces or dashes."""
    return "".join(ch for ch in (text or "").upper() if ch.isalnum())[:16]


def join_url(code: JoinCode | str) -> str:
    value = code.code if isinstance(code, JoinCode) else code
    return f"{current_app.config['PUBLIC_URL']}/join/{value}"


def team_job_role(session: Session, team: Team) -> JobRole | None:
    """The job role most of the team's active learners have: the path a newcomer starts on."""
    roles = Counter(
        session.scalars(
            select(User.job_role_id).where(
                User.team_id == team.id,
                User.active.is_(True),
                User.role == "learner",
                User.job_role_id.is_not(None),
            )
        )
    )
    if not roles:
        return None
    return session.get(JobRole, roles.most_common(1)[0][0])


def create_code(
    session: Session,
    team: Team,
    *,
    by: User | None,
    days: int = DEFAULT_DAYS,
    uses: int = DEFAULT_USES,
    job_role: JobRole | None = None,
) -> JoinCode:
    """A new code for `team`, good for `days` days and `uses` joiners, starting them on
    `job_role`'s path (default: the team's usual job role). Committed."""
    if not 1 <= days <= MAX_DAYS:
        raise PersonError("days", _("a code lasts 1 to %(most)d days", most=MAX_DAYS))
    if not 1 <= uses <= MAX_USES:
        raise PersonError("uses", _("a code takes 1 to %(most)d people", most=MAX_USES))
    now = utcnow()
    role = job_role or team_job_role(session, team)
    code = JoinCode(
        code=new_code(),
        team_id=team.id,
        job_role_id=role.id if role else None,
        created_by_id=by.id if by else None,
        created_at=now,
        expires_at=now + timedelta(days=days),
        max_uses=uses,
    )
    session.add(code)
    session.commit()
    return code


def codes_of(session: Session, team_ids: list[int]) -> list[JoinCode]:
    """The codes of these teams, newest first."""
    return list(
        session.scalars(
            select(JoinCode)
            .where(JoinCode.team_id.in_(team_ids))
            .order_by(JoinCode.created_at.desc(), JoinCode.id.desc())
        )
    )


def revoke(session: Session, code: JoinCode) -> None:
    """The code stops working at once; people who joined with it stay. Committed."""
    if code.revoked_at is None:
        code.revoked_at = utcnow()
        session.commit()


def find_usable(session: Session, text: str, now: datetime | None = None) -> JoinCode | None:
    """The code someone typed or scanned, if it can still be used."""
    code = clean_code(text)
    if len(code) < LENGTH:
        return None
    found = session.scalar(select(JoinCode).where(JoinCode.code == code))
    if found is None or not found.usable(now or utcnow()):
        return None
    return found


@dataclass
class Joiner:
    """What a newcomer gives on the join page."""

    name: str
    employee_number: str = ""
    phone: str = ""
    how: str = "pin"  # pin | password
    pin: str = ""
    password: str = ""
    timezone: str = ""
    language: str | None = None  # what their browser asks for; None: DEFAULT_LANGUAGE


def join(session: Session, code_text: str, joiner: Joiner) -> User:
    """Make the newcomer a learner of the code's team and use the code up by one, in one
    commit. Raises `JoinError` when the code cannot be used (also when the last use went to
    someone else a moment ago) and `PersonError` naming a field of the form; nothing is saved
    then."""
    code = find_usable(session, code_text)
    if code is None:
        raise JoinError(code_text)
    team = code.team
    _check_joiner(team, joiner)
    claimed = session.execute(
        update(JoinCode)
        .where(
            JoinCode.id == code.id,
            JoinCode.uses < JoinCode.max_uses,
            JoinCode.revoked_at.is_(None),
            JoinCode.expires_at > utcnow(),
        )
        .values(uses=JoinCode.uses + 1)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        session.rollback()
        raise JoinError(code_text)
    try:
        user = create_user(
            session,
            name=joiner.name,
            employee_number=joiner.employee_number or None,
            phone=joiner.phone or None,
            pin=joiner.pin if joiner.how == "pin" else None,
            password=joiner.password if joiner.how == "password" else None,
            role="learner",
            timezone=joiner.timezone or current_app.config["DEFAULT_TIMEZONE"],
            hire_date=utcnow().date(),
            language=joiner.language,
        )
    except PersonError:
        session.rollback()
        raise
    user.team_id = team.id
    user.job_role_id = code.job_role_id
    user.joined_with_code = code.code
    user.awaiting_approval = team.joiners_need_approval
    session.flush()
    if not user.awaiting_approval:
        _enrol(session, user)
    session.commit()
    return user


def _check_joiner(team: Team, joiner: Joiner) -> None:
    if joiner.how not in HOW:
        raise PersonError("how", _("choose a PIN or a password"))
    if team.joiners_need_employee_number and not joiner.employee_number.strip():
        raise PersonError("employee_number", _("this team asks for your employee number"))
    if joiner.how == "pin" and not joiner.employee_number.strip():
        raise PersonError(
            "employee_number",
            _(
                "a PIN works with your employee number on the branch tablet: give it, or "
                "choose a password instead"
            ),
        )
    if joiner.how == "password" and not (joiner.employee_number.strip() or joiner.phone.strip()):
        raise PersonError(
            "phone",
            _("give your mobile number or your employee number: you sign in with it next time"),
        )


def _enrol(session: Session, user: User) -> None:
    # Imported here: importing trainer.learn registers its views, which reach back here.
    from trainer.learn.enrolment import enrol_by_role

    enrol_by_role(session, user)


def waiting(session: Session, team_ids: list[int]) -> list[User]:
    """Joiners of these teams waiting for approval, earliest first."""
    return list(
        session.scalars(
            select(User)
            .where(
                User.team_id.in_(team_ids),
                User.awaiting_approval.is_(True),
                User.active.is_(True),
            )
            .order_by(User.created_at, User.id)
        )
    )


def approve(session: Session, user: User) -> None:
    """The joiner starts their path, counted from today. Committed."""
    if user.awaiting_approval:
        user.awaiting_approval = False
        user.hire_date = utcnow().date()
        session.flush()
        _enrol(session, user)
        session.commit()


def decline(session: Session, user: User) -> None:
    """Not one of ours: deactivated (nothing deleted) and signed out. Committed."""
    from trainer.auth import sessions

    if user.awaiting_approval:
        user.awaiting_approval = False
        user.active = False
        session.commit()
        sessions.end_all(session, user, "deactivated")
