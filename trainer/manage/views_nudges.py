"""Thin views of the manager's "Remind" buttons (`trainer/notify/nudges.py`)."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select

from trainer.extensions import db
from trainer.manage import bp, team
from trainer.manage.join_forms import ButtonForm
from trainer.manage.scope import manager_required, person_in_scope
from trainer.models import User
from trainer.notify import nudges
from trainer.web import parse_id

SAID = {
    "sent": "Reminder sent to {name}.",
    "already": "{name} was already reminded today.",
    "unreachable": "{name} cannot be reached: they have no email address or other channel yet.",
}


def _team_page():
    team_id = parse_id(request.form.get("team"))
    return redirect(url_for("manage.team", **({"team": team_id} if team_id else {})), 303)


@bp.post("/people/<int:person_id>/remind")
@manager_required
def remind(person_id: int):
    person = person_in_scope(db.session, current_user, person_id)
    if ButtonForm().validate_on_submit():
        outcome = nudges.remind(db.session, current_user, person)
        flash(SAID[outcome].format(name=person.name), "success" if outcome == "sent" else "info")
    if request.form.get("back") == "person":
        return redirect(url_for("manage.person", person_id=person.id), 303)
    return _team_page()


@bp.post("/remind-overdue")
@manager_required
def remind_overdue():
    if not ButtonForm().validate_on_submit():
        return _team_page()
    filters = team.TeamFilters.from_args(
        {"team": request.form.get("team", ""), "status": "overdue"}
    )
    view = team.team_view(db.session, current_user, filters)
    ids = [row.user_id for row in view.rows if row.overdue]
    people = list(db.session.scalars(select(User).where(User.id.in_(ids)).order_by(User.name)))
    done = nudges.remind_all(db.session, current_user, people)
    parts = [f"Reminded {len(done.sent)} {'person' if len(done.sent) == 1 else 'people'}"]
    if done.already:
        parts.append(f"{len(done.already)} had been reminded today already")
    if done.unreachable:
        names = ", ".join(person.name for person in done.unreachable)
        parts.append(f"no way to reach {names}")
    flash("; ".join(parts) + ".", "success")
    return _team_page()
