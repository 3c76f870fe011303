"""Thin views of the manager's "Remind" buttons (`trainer/notify/nudges.py`)."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select

from trainer.extensions import db
from trainer.languages import gettext as _
from trainer.languages import ngettext
from trainer.manage import bp, team
from trainer.manage.join_forms import ButtonForm
from trainer.manage.scope import manager_required, person_in_scope
from trainer.models import User
from trainer.notify import nudges
from trainer.web import parse_id


def said(outcome: str, name: str) -> str:
    """What the manager is told after pressing Remind for one person."""
    if outcome == "sent":
        return _("Reminder sent to %(name)s.", name=name)
    if outcome == "already":
        return _("%(name)s was already reminded today.", name=name)
    return _(
        "%(name)s cannot be reached: they have no email address or other channel yet.",
        name=name,
    )


def _team_page():
    team_id = parse_id(request.form.get("team"))
    return redirect(url_for("manage.team", **({"team": team_id} if team_id else {})), 303)


@bp.post("/people/<int:person_id>/remind")
@manager_required
def remind(person_id: int):
    person = person_in_scope(db.session, current_user, person_id)
    if ButtonForm().validate_on_submit():
        outcome = nudges.remind(db.session, current_user, person)
        flash(said(outcome, person.name), "success" if outcome == "sent" else "info")
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
    parts = [ngettext("Reminded %(num)d person", "Reminded %(num)d people", len(done.sent))]
    if done.already:
        parts.append(
            ngettext(
                "%(num)d had been reminded today already",
                "%(num)d had been reminded today already",
                len(done.already),
            )
        )
    if done.unreachable:
        names = ", ".join(person.name for person in done.unreachable)
        parts.append(_("no way to reach %(names)s", names=names))
    flash("; ".join(parts) + ".", "success")
    return _team_page()
