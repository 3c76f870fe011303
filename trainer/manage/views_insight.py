"""Thin views of the manager's insight pages: skills, the questions missed most, observing."""

from __future__ import annotations

import uuid
from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from trainer.extensions import db
from trainer.languages import gettext as _
from trainer.manage import bp, insight, observations
from trainer.manage.charts import heat_grid, line_chart
from trainer.manage.observe_forms import ChooseForm, ObservationForm
from trainer.manage.scope import chosen_team, manager_required, people_query, person_in_scope
from trainer.models import ObservationChecklist, Team, User, utcnow
from trainer.web import page_number, parse_id


def person_url(person_id: int) -> str:
    """The person page (views_people), the one place that knows its URL's argument."""
    return url_for("manage.person", person_id=person_id)


def _chosen_team() -> tuple[list[Team], Team | None]:
    """The viewer's teams and the one asked for (`?team=`), else their first; 404 for a team
    that is not theirs."""
    return chosen_team(db.session, current_user, parse_id(request.args.get("team")))


@bp.get("/skills")
@manager_required
def skills():
    teams, team = _chosen_team()
    later = request.args.get("when") == "30"
    grid = heat = curve = None
    if team is not None:
        grid = insight.skill_grid(db.session, people_query(db.session, current_user, team.id))
        names, values = grid.chart_values(later)
        if later:
            title = _("Predicted recall in 30 days with no refresher, by person and skill")
        else:
            title = _("Predicted recall today, by person and skill")
        heat = heat_grid(names, [insight.skill_label(s) for s in grid.skills], values, title=title)
        if grid.curve:
            curve = line_chart(grid.curve, title=_("The team's recall if no one reviews"))
    return render_template(
        "manage/skills.html",
        teams=teams,
        team=team,
        grid=grid,
        later=later,
        heat=heat,
        curve=curve,
        label=insight.skill_label,
        ending_word=insight.ending_word,
        person_url=person_url,
        weak_below=insight.WEAK_BELOW,
        fair_below=insight.FAIR_BELOW,
    )


@bp.get("/questions")
@manager_required
def questions():
    teams, team = _chosen_team()
    days = insight.window_days(request.args.get("days", type=int))
    page = None
    turns = []
    if team is not None:
        people = people_query(db.session, current_user, team.id)
        since = utcnow() - timedelta(days=days)
        page = insight.missed_questions(
            db.session, people, since=since, page=page_number(request.args.get("page"))
        )
        turns = insight.weak_turns(db.session, people, since=since)
    return render_template(
        "manage/questions.html",
        teams=teams,
        team=team,
        days=days,
        windows=insight.WINDOWS,
        page=page,
        turns=turns,
        min_attempts=insight.MIN_ATTEMPTS,
    )


def _person(value) -> User:
    """A person the viewer may see, from a form or URL value; 404 otherwise."""
    person_id = parse_id(value)
    if person_id is None:
        abort(404)
    return person_in_scope(db.session, current_user, person_id)


def _checklist(value) -> ObservationChecklist | None:
    checklist_id = parse_id(value)
    if checklist_id is None:
        return None
    checklist = db.session.get(ObservationChecklist, checklist_id)
    return checklist if checklist is not None and checklist.active else None


@bp.route("/observe", methods=["GET", "POST"])
@manager_required
def observe():
    people = list(
        db.session.scalars(
            insight.active_people(people_query(db.session, current_user)).order_by(
                User.name, User.id
            )
        )
    )
    checklists = observations.active_checklists(db.session)
    form = ObservationForm() if request.method == "POST" else None
    problem = None

    if form is not None:
        person = _person(form.person.data)
        checklist = _checklist(form.checklist.data)
        if checklist is None:  # retired while the form was open, or tampered with
            form = None
            problem = _("That checklist is no longer in use. Choose another one.")
        elif form.validate_on_submit():
            try:
                observations.record_observation(
                    db.session,
                    current_user,
                    person,
                    checklist,
                    seen=form.seen.data or [],
                    grade=form.grade.data,
                    note=form.note.data or "",
                    channel=form.channel.data,
                    token=form.token.data,
                )
            except observations.OutOfScope:
                abort(404)
            except observations.ObservationError as error:
                field = getattr(form, error.field, None)
                if error.field in ("seen", "grade", "channel", "note") and field is not None:
                    field.errors = [error.message]
                else:
                    problem = error.message
            else:
                flash(_("Observation recorded"), "success")
                return redirect(person_url(person.id), code=303)
        elif form.token.errors or form.person.errors or form.checklist.errors:
            problem = _("This form is incomplete. Choose the person and checklist again.")
    else:
        person = _person(request.args["person"]) if request.args.get("person") else None
        checklist = _checklist(request.args.get("checklist"))
        if person is not None and checklist is not None:
            form = ObservationForm(
                formdata=None,
                person=person.id,
                checklist=checklist.id,
                channel=observations.default_channel(checklist),
                token=uuid.uuid4().hex,
            )

    # With a person chosen, only the checklists of their job role, unless asked for all.
    everything = request.values.get("all") == "1"
    offered = checklists
    if person is not None and not everything:
        offered = observations.checklists_for(person, checklists)
        if checklist is not None and checklist not in offered:
            offered = [*offered, checklist]
    choose = ChooseForm(
        people=people,
        checklists=offered,
        data={
            "person": str(person.id) if person else "",
            "checklist": str(checklist.id) if checklist else "",
        },
    )
    status = 400 if request.method == "POST" else 200
    return render_template(
        "manage/observe.html",
        choose=choose,
        form=form,
        person=person,
        checklist=checklist,
        problem=problem,
        filtered=len(offered) < len(checklists),
        everything=everything,
        # The choose form was sent (it always sends `checklist`) but did not pick both.
        asked=request.method == "GET" and "checklist" in request.args,
        label=insight.skill_label,
    ), status
