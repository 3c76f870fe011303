"""What admins do to people and teams: find, add, edit, deactivate; name teams, pick managers.

Nothing here deletes a person: deactivating keeps every attempt, answer and observation, and
only stops the person signing in. A team is deleted only when nobody is in it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from trainer.admin.invites import cancel_invitations, send_invitation
from trainer.auth import sessions
from trainer.auth.pins import hash_pin, pin_problem
from trainer.languages import gettext as _
from trainer.languages import ngettext
from trainer.learn.enrolment import enrol_by_role
from trainer.models import ROLES, Invitation, JobRole, Team, User, team_managers, utcnow
from trainer.people.services import (
    MAX_NAME,
    PersonError,
    check_contact,
    check_email,
    check_employee_number,
    check_job_role,
    check_language,
    check_name,
    check_phone,
    check_role,
    check_timezone,
    create_user,
)
from trainer.web import page_number, parse_id

STATUSES = {
    "active": _l("Active people"),
    "inactive": _l("Deactivated people"),
    "all": _l("Everyone"),
}
MANAGING_ROLES = ("manager", "admin")


class TeamError(ValueError):
    """A team field is wrong, or the team cannot be deleted; `field` names it."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# -- finding people ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PeopleFilters:
    """What the admin asked to see. Unknown values fall back to the defaults."""

    q: str = ""
    team_id: int | None = None  # 0: people in no team
    role: str = ""
    job_role_id: int | None = None
    status: str = "active"
    page: int = 1

    @classmethod
    def from_args(cls, args) -> PeopleFilters:
        team, job, page = args.get("team", ""), args.get("job_role", ""), args.get("page", "1")
        role, status = args.get("role", ""), args.get("status", "active")
        return cls(
            q=" ".join(args.get("q", "").split())[:120],
            team_id=parse_id(team),
            role=role if role in ROLES else "",
            job_role_id=parse_id(job),
            status=status if status in STATUSES else "active",
            page=page_number(page),
        )

    @property
    def narrowed(self) -> bool:
        return self != PeopleFilters(page=self.page)

    def args(self, **changes) -> dict:
        """Query-string arguments for a link: these filters with `changes`, defaults left out."""
        merged = replace(self, **changes)
        result = {
            "q": merged.q or None,
            "team": merged.team_id,
            "role": merged.role or None,
            "job_role": merged.job_role_id,
            "status": merged.status if merged.status != "active" else None,
            "page": merged.page if merged.page != 1 else None,
        }
        return {key: value for key, value in result.items() if value is not None}


def people_query(filters: PeopleFilters) -> Select:
    """Everyone matching the filters, by name: a query to paginate."""
    query = select(User).order_by(func.lower(User.name), User.id)
    if filters.q:
        # autoescape: a search for "50%" or "a_b" means those characters, not wildcards.
        needle = filters.q.lower()
        query = query.where(
            or_(
                func.lower(User.name).contains(needle, autoescape=True),
                User.email.contains(needle, autoescape=True),
                func.lower(User.employee_number).contains(needle, autoescape=True),
                User.phone.contains(needle, autoescape=True),
            )
        )
    if filters.team_id == 0:
        query = query.where(User.team_id.is_(None))
    elif filters.team_id is not None:
        query = query.where(User.team_id == filters.team_id)
    if filters.role:
        query = query.where(User.role == filters.role)
    if filters.job_role_id is not None:
        query = query.where(User.job_role_id == filters.job_role_id)
    if filters.status != "all":
        query = query.where(User.active.is_(filters.status == "active"))
    return query


def all_teams(session: Session) -> list[Team]:
    return list(session.scalars(select(Team).order_by(func.lower(Team.name), Team.id)))


def all_job_roles(session: Session) -> list[JobRole]:
    return list(session.scalars(select(JobRole).order_by(JobRole.name, JobRole.id)))


# -- adding and editing a person ----------------------------------------------------------------


@dataclass
class PersonFields:
    """A person as the admin's form gives them: job role by key, team by id."""

    name: str
    email: str
    role: str = "learner"
    job_role: str | None = None
    team_id: int | None = None
    hire_date: date | None = None
    timezone: str = "Europe/London"
    reminder_time: time = time(18, 0)
    employee_number: str = ""
    phone: str = ""
    pin: str = ""  # a new PIN; blank keeps the one they have
    language: str | None = None  # None: the DEFAULT_LANGUAGE setting


def _team(session: Session, team_id: int | None) -> Team | None:
    if team_id is None:
        return None
    team = session.get(Team, team_id)
    if team is None:
        raise PersonError("team", _("choose a team from the list"))
    return team


def _commit_person(session: Session, user: User) -> None:
    try:
        session.commit()
    except IntegrityError:  # the same address or number saved by someone else a moment ago
        session.rollback()
        if user.email:
            raise PersonError(
                "email", _("%(email)s already has an account", email=user.email)
            ) from None
        raise PersonError(
            "employee_number",
            _("%(number)s is someone else's employee number", number=user.employee_number),
        ) from None


def create_person(session: Session, fields: PersonFields) -> User:
    """Add a person with no password yet, enrolled as `create_user` does. Someone with an email
    address is sent their link to set a password; someone without one signs in with a PIN on
    the team's tablet or a personal sign-in card. Committed. Raises `PersonError` naming the
    bad field; nothing is saved then."""
    try:
        name = check_name(fields.name)
        team = _team(session, fields.team_id)
        user = create_user(
            session,
            email=fields.email,
            employee_number=fields.employee_number,
            phone=fields.phone,
            pin=fields.pin or None,
            name=name,
            password=None,
            role=fields.role,
            job_role=fields.job_role or None,
            timezone=fields.timezone,
            hire_date=fields.hire_date,
            language=fields.language,
        )
    except PersonError:
        session.rollback()
        raise
    user.team = team
    user.reminder_time = fields.reminder_time
    if user.email:
        send_invitation(session, user)
    _commit_person(session, user)
    return user


def update_user(session: Session, user: User, fields: PersonFields, *, by: User) -> User:
    """Save an admin's edit with the rules of `create_user` (the address stays unique, roles,
    job roles and time zones must exist). A learner with a new job role is enrolled on its path;
    their earlier enrolments and history stay. Someone who is no longer a manager or admin stops
    managing teams. A changed address cancels links sent to the old one. An admin cannot take
    away their own admin role. Committed; raises `PersonError` naming the bad field, with
    nothing changed."""
    try:
        email = check_email(session, fields.email, user.id) if fields.email.strip() else None
        employee_number = check_employee_number(session, fields.employee_number, user.id)
        phone = check_phone(fields.phone)
        check_contact(email, employee_number, phone)
        pin_hash = None
        if fields.pin:
            problem = pin_problem(fields.pin)
            if problem:
                raise PersonError("pin", problem)
            pin_hash = hash_pin(fields.pin)
        name = check_name(fields.name)
        check_role(fields.role)
        if user.id == by.id and fields.role != "admin":
            raise PersonError("role", _("you cannot take away your own admin role"))
        check_timezone(fields.timezone)
        language = check_language(fields.language)
        job = check_job_role(session, fields.job_role)
        team = _team(session, fields.team_id)
    except PersonError:
        session.rollback()
        raise
    if email != user.email:
        cancel_invitations(session, user)
    user.email, user.name, user.role = email, name, fields.role
    user.employee_number, user.phone = employee_number, phone
    if pin_hash:
        user.pin_hash = pin_hash
    user.job_role, user.team = job, team
    user.hire_date, user.timezone = fields.hire_date, fields.timezone
    user.reminder_time = fields.reminder_time
    user.language = language
    if user.role not in MANAGING_ROLES:
        user.managed_teams.clear()
    session.flush()
    if user.role == "learner":
        enrol_by_role(session, user)
    _commit_person(session, user)
    return user


def set_active(session: Session, user: User, active: bool, *, by: User) -> User:
    """Deactivate or reactivate a person. Deactivating deletes nothing: their history stays,
    they cannot sign in, every session they have open ends, and their unused links are
    cancelled. An admin cannot deactivate themselves. Committed; raises
    `PersonError("active", ...)`."""
    if not active and user.id == by.id:
        raise PersonError("active", _("you cannot deactivate your own account"))
    user.active = active
    if not active:
        cancel_invitations(session, user)
    session.commit()
    if not active:
        sessions.end_all(session, user, "deactivated")
    return user


def resend_invitation(session: Session, user: User) -> Invitation:
    """A fresh link for the person; their earlier ones stop working. Committed. Raises
    `PersonError("active", ...)` for a deactivated person: the link could not be used."""
    if not user.active:
        raise PersonError(
            "active", _("%(name)s is deactivated; reactivate them first", name=user.name)
        )
    if not user.email:
        raise PersonError(
            "email",
            _("%(name)s has no email address to send a link to; add one first", name=user.name),
        )
    invitation = send_invitation(session, user)
    session.commit()
    return invitation


@dataclass(frozen=True)
class LinkStatus:
    """Where the person's latest link stands, for the edit page."""

    sent_at: datetime | None
    expires_at: datetime | None
    used_at: datetime | None
    has_password: bool

    @property
    def word(self) -> str:
        if self.sent_at is None:
            return "never sent"
        if self.used_at is not None:
            return "used"
        return "waiting" if self.expires_at > utcnow() else "expired"


def link_status(session: Session, user: User) -> LinkStatus:
    latest = session.scalar(
        select(Invitation)
        .where(Invitation.user_id == user.id)
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    )
    has_password = user.password_hash is not None
    if latest is None:
        return LinkStatus(None, None, None, has_password)
    return LinkStatus(latest.created_at, latest.expires_at, latest.used_at, has_password)


# -- teams -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamRow:
    team: Team
    members: int
    active_members: int
    managers: list[User]


def team_rows(session: Session) -> list[TeamRow]:
    """Every team with how many people are in it (and how many of them are active), and its
    managers, by name."""
    counts = {
        team_id: (total, active or 0)
        for team_id, total, active in session.execute(
            select(
                User.team_id,
                func.count(User.id),
                func.sum(case((User.active.is_(True), 1), else_=0)),
            )
            .where(User.team_id.is_not(None))
            .group_by(User.team_id)
        )
    }
    teams = session.scalars(
        select(Team).options(selectinload(Team.managers)).order_by(func.lower(Team.name), Team.id)
    )
    rows = []
    for team in teams:
        total, active = counts.get(team.id, (0, 0))
        managers = sorted(team.managers, key=lambda u: (u.name.lower(), u.id))
        rows.append(TeamRow(team, total, int(active), managers))
    return rows


def _team_name(session: Session, name: str, team_id: int | None = None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise TeamError("name", _("a team name is needed"))
    if len(name) > MAX_NAME:
        raise TeamError("name", _("keep the name under %(count)d characters", count=MAX_NAME))
    # Case-blind, so "North branch" and "north branch" do not become two teams.
    clash = session.scalar(
        select(Team.id).where(func.lower(Team.name) == name.lower(), Team.id != (team_id or 0))
    )
    if clash is not None:
        raise TeamError("name", _("there is already a team called “%(name)s”", name=name))
    return name


def _commit_team(session: Session, name: str) -> None:
    try:
        session.commit()
    except IntegrityError:  # the same name saved by someone else a moment ago
        session.rollback()
        raise TeamError("name", _("there is already a team called “%(name)s”", name=name)) from None


def create_team(session: Session, name: str) -> Team:
    """Add a team with a unique name. Committed; raises `TeamError("name", ...)`."""
    name = _team_name(session, name)
    team = Team(name=name)
    session.add(team)
    _commit_team(session, name)
    return team


def rename_team(session: Session, team: Team, name: str) -> Team:
    """Rename a team, keeping names unique. Committed; raises `TeamError("name", ...)`."""
    team.name = _team_name(session, name, team.id)
    _commit_team(session, team.name)
    return team


def manager_choices(session: Session, team: Team | None = None) -> list[User]:
    """Who may manage a team: active managers and admins, and anyone already managing it."""
    current = {u.id for u in team.managers} if team is not None else set()
    query = select(User).where(
        User.role.in_(MANAGING_ROLES), or_(User.active.is_(True), User.id.in_(current or {0}))
    )
    return list(session.scalars(query.order_by(func.lower(User.name), User.id)))


def set_managers(session: Session, team: Team, user_ids: list[int]) -> Team:
    """Make exactly these people the team's managers. Each must be one of `manager_choices`.
    Committed; raises `TeamError("managers", ...)` with nothing changed."""
    allowed = {u.id: u for u in manager_choices(session, team)}
    unknown = [i for i in user_ids if i not in allowed]
    if unknown:
        raise TeamError("managers", _("choose managers from the list (managers and admins only)"))
    team.managers = [allowed[i] for i in dict.fromkeys(user_ids)]
    session.commit()
    return team


def delete_team(session: Session, team: Team) -> None:
    """Delete a team nobody is in (deactivated people count: their history names the team).
    Committed; raises `TeamError("team", ...)` while anyone is in it."""
    members = session.scalar(select(func.count(User.id)).where(User.team_id == team.id))
    if members:
        raise TeamError(
            "team",
            ngettext(
                "%(team)s cannot be deleted: %(num)d person is in it. "
                "Move them to another team first.",
                "%(team)s cannot be deleted: %(num)d people are in it. "
                "Move them to another team first.",
                members,
                team=team.name,
            ),
        )
    # The manager links go with the team; nothing else points at it.
    session.execute(team_managers.delete().where(team_managers.c.team_id == team.id))
    session.delete(team)
    session.commit()
