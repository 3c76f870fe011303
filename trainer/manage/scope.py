"""Who a manager may see. Every manager route goes through here; nothing else decides scope.

A manager sees the people of the teams they manage; an admin sees everyone. Anything keyed by a
person (attempts, role-play answers, observations, exports) is in scope exactly when its person
is. Out of scope is answered with 404, so a URL does not even confirm that a person exists.
"""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, scoped_session

from trainer.models import Team, User, team_managers


def manager_required(view):
    """Signed in, and a manager or an admin; learners get 403."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if current_user.role not in ("manager", "admin"):
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def visible_teams(session: Session, viewer: User) -> list[Team]:
    """The teams the viewer sees, by name; read once per transaction (a page's scope checks
    and its team picker both ask)."""
    if isinstance(session, scoped_session):
        session = session()
    key = ("visible_teams", viewer.id)
    transaction = session.get_transaction()
    known = session.info.get(key)
    if known is not None and transaction is not None and known[0] is transaction:
        return list(known[1])
    query = select(Team).order_by(Team.name)
    if viewer.role != "admin":
        query = query.join(team_managers, team_managers.c.team_id == Team.id).where(
            team_managers.c.user_id == viewer.id
        )
    teams = list(session.scalars(query))
    session.info[key] = (session.get_transaction(), teams)
    return list(teams)


def visible_team_ids(session: Session, viewer: User) -> list[int]:
    return [team.id for team in visible_teams(session, viewer)]


def people_query(session: Session, viewer: User, team_id: int | None = None) -> Select:
    """People the viewer may see (optionally one of their teams), as a query to build on."""
    team_ids = visible_team_ids(session, viewer)
    if team_id is not None:
        if team_id not in team_ids:
            abort(404)
        team_ids = [team_id]
    return select(User).where(User.team_id.in_(team_ids))


def person_in_scope(session: Session, viewer: User, user_id: int) -> User:
    """The person, if the viewer may see them; 404 otherwise."""
    person = session.get(User, user_id)
    if person is None:
        abort(404)
    if viewer.role == "admin":
        return person
    if person.team_id is None or person.team_id not in visible_team_ids(session, viewer):
        abort(404)
    return person


def team_in_scope(session: Session, viewer: User, team_id: int) -> Team:
    if team_id not in visible_team_ids(session, viewer):
        abort(404)
    return session.get(Team, team_id)


def chosen_team(
    session: Session, viewer: User, team_id: int | None
) -> tuple[list[Team], Team | None]:
    """The viewer's teams and the one asked for (`team_id`), else their first; 404 for a team
    that is not theirs."""
    teams = visible_teams(session, viewer)
    if team_id is None:
        return teams, teams[0] if teams else None
    team = next((t for t in teams if t.id == team_id), None)
    if team is None:
        abort(404)
    return teams, team
