"""Thin views of the manager's people pages: the team, one person, coaching, assigning."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from trainer.extensions import db
from trainer.languages import gettext as _
from trainer.languages import ngettext
from trainer.learn.services import assigned_lessons, path_progress
from trainer.manage import bp, coaching, team
from trainer.manage.charts import line_chart
from trainer.manage.formatting import day_text
from trainer.manage.forms import AssignForm, CommentForm
from trainer.manage.scope import manager_required, visible_teams
from trainer.models import utcnow
from trainer.notify import nudges
from trainer.page_cache import kept
from trainer.review.planning import local_date
from trainer.web import ButtonFields, page_number

ATTEMPTS_PER_PAGE = 20
COACHING_PER_PAGE = 50


def _today():
    """The manager's own calendar day: due dates they pick are theirs."""
    return local_date(current_user.timezone, utcnow())


@bp.get("/", endpoint="team")
@manager_required
@kept
def team_page():
    filters = team.TeamFilters.from_args(request.args)
    view = team.team_view(db.session, current_user, filters)
    chart = line_chart(view.chart, title=_("Path lessons completed")) if view.chart else None
    return render_template(
        "manage/team.html",
        view=view,
        filters=filters,
        teams=visible_teams(db.session, current_user),
        waiting=view.waiting,
        button=ButtonFields(),
        reminded=view.reminded,
        # Read in the manager's language once: each row's cells name their column again.
        columns=[(key, str(label)) for key, label in team.COLUMNS],
        statuses={key: str(label) for key, label in team.STATUSES.items()},
        attention_shown=team.ATTENTION_SHOWN,
        chart=chart,
        points=view.chart,
    )


@bp.get("/team.csv")
@manager_required
def team_csv():
    filters = team.TeamFilters.from_args(request.args)
    view = team.team_view(db.session, current_user, filters)
    filename = f"team-{_today().isoformat()}.csv"
    # A byte-order mark so spreadsheet programs read names with accents as UTF-8.
    body = "\ufeff" + team.csv_text(view.rows)
    return Response(
        body.encode("utf-8"),
        mimetype="text/csv",
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{filename}"',
        },
    )


@bp.get("/people/<int:person_id>")
@manager_required
def person(person_id: int):
    person, facts = team.person_facts(db.session, current_user, person_id)
    attempts = db.paginate(
        team.person_attempts(person),
        page=page_number(request.args.get("page")),
        per_page=ATTEMPTS_PER_PAGE,
        max_per_page=ATTEMPTS_PER_PAGE,
    )
    return render_template(
        "manage/person.html",
        person=person,
        facts=facts,
        progress=path_progress(db.session, person),
        assigned=assigned_lessons(db.session, person),
        attempts=attempts,
        run_lessons=team.run_lessons(db.session, attempts.items),
        today=local_date(person.timezone, utcnow()),
        reminded=person.id in nudges.reminded_today(db.session, [person]),
        can_remind=nudges.can_reach(db.session, person),
        button=ButtonFields(),
    )


@bp.get("/coaching", endpoint="coaching")
@manager_required
def coaching_queue():
    filters = coaching.QueueFilters.from_args(request.args)
    answers = db.paginate(
        coaching.waiting_for_comment(db.session, current_user, filters),
        page=page_number(request.args.get("page")),
        per_page=COACHING_PER_PAGE,
        max_per_page=COACHING_PER_PAGE,
    )
    return render_template(
        "manage/coaching.html",
        answers=answers,
        filters=filters,
        people=coaching.waiting_people(db.session, current_user),
        ages=coaching.AGES,
        now=utcnow(),
    )


def _answer_page(answer, form: CommentForm, filters, status: int = 200):
    place, total = coaching.queue_position(db.session, current_user, answer, filters)
    page = render_template(
        "manage/coaching_answer.html",
        answer=answer,
        form=form,
        filters=filters,
        place=place,
        total=total,
        following=coaching.next_waiting(db.session, current_user, answer, filters),
        now=utcnow(),
    )
    return page, status


def _comment_form(answer_id: int, **kwargs) -> CommentForm:
    # The prefix keeps the field's id tied to its answer, as in links to it.
    return CommentForm(prefix=f"a{answer_id}", **kwargs)


@bp.get("/coaching/<int:answer_id>")
@manager_required
def coach_answer(answer_id: int):
    filters = coaching.QueueFilters.from_args(request.args)
    answer = coaching.answer_in_scope(db.session, current_user, answer_id)
    if answer.coach_comment is not None:
        flash(_("This answer already has a coaching note."), "info")
        return redirect(url_for("manage.coaching", **filters.args()), code=303)
    return _answer_page(answer, _comment_form(answer_id, formdata=None), filters)


@bp.post("/coaching/<int:answer_id>")
@manager_required
def comment(answer_id: int):
    filters = coaching.QueueFilters.from_args(request.args)
    queue = url_for("manage.coaching", **filters.args())
    form = _comment_form(answer_id)
    if form.validate_on_submit():
        try:
            answer = coaching.comment_on(db.session, current_user, answer_id, form.comment.data)
        except coaching.AlreadyCoached as error:
            flash(str(error), "info")
            return redirect(queue, code=303)
        except coaching.CoachingError as error:
            form.comment.errors = [str(error)]
            answer = coaching.answer_in_scope(db.session, current_user, answer_id)
        else:
            flash(_("Coaching note sent to %(name)s.", name=answer.user.name), "success")
            if request.form.get("then") == "next":
                following = coaching.next_waiting(db.session, current_user, answer, filters)
                if following is not None:
                    args = filters.args()
                    target = url_for("manage.coach_answer", answer_id=following.id, **args)
                    return redirect(target, code=303)
                flash(_("That was the last answer waiting."), "info")
            return redirect(queue, code=303)
    else:
        # An answer outside the manager's scope is 404 even when the form is wrong.
        answer = coaching.answer_in_scope(db.session, current_user, answer_id)
        if answer.coach_comment is not None:  # coached meanwhile: its form is not shown
            flash(_("This answer already has a coaching note."), "info")
            return redirect(queue, code=303)
    # The same answer again, keeping what was typed, its error summed up at the top.
    return _answer_page(answer, form, filters, status=400)


@bp.route("/assign", methods=["GET", "POST"])
@manager_required
def assign():
    today = _today()
    form = AssignForm(
        today=today,
        paths=team.live_paths(db.session),
        lessons=team.live_lessons(db.session),
        teams=visible_teams(db.session, current_user),
        people=team.assignable_people(db.session, current_user),
    )
    if request.method == "GET":
        # Ticked already: the people a link came with (a person's page, "Needs attention").
        offered = {value for value, _label in form.who.choices["people"]}
        form.who.data = [
            f"person:{value}"
            for value in request.args.getlist("person")
            if f"person:{value}" in offered
        ]
    if form.validate_on_submit():
        chosen = form.chosen()
        try:
            result = team.assign_work(
                db.session,
                current_user,
                what=form.what.data,
                who=chosen,
                due_date=form.due_date.data,
                today=today,
            )
        except team.AssignError as error:
            getattr(form, error.field).errors = [error.message]
        else:
            count = len(result.people)
            due = day_text(result.due_date, "long")
            if count == 1:
                said = _(
                    "Assigned “%(title)s” to %(name)s, due %(day)s.",
                    title=result.title,
                    name=result.people[0].name,
                    day=due,
                )
            else:
                said = ngettext(
                    "Assigned “%(title)s” to %(num)d person, due %(day)s.",
                    "Assigned “%(title)s” to %(num)d people, due %(day)s.",
                    count,
                    title=result.title,
                    day=due,
                )
            flash(said, "success")
            kind, _sep, chosen_id = chosen[0].partition(":")
            if len(chosen) == 1 and kind == "person":
                return redirect(url_for("manage.person", person_id=result.people[0].id), 303)
            if len(chosen) == 1:
                return redirect(url_for("manage.team", team=int(chosen_id)), 303)
            return redirect(url_for("manage.team"), 303)
    status = 400 if form.errors else 200
    return render_template("manage/assign.html", form=form, today=today), status
