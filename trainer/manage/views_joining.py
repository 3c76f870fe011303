"""Thin views of joining: a team's codes and posters, and newcomers waiting for approval."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from trainer.extensions import db
from trainer.languages import gettext as _
from trainer.manage import bp
from trainer.manage.join_forms import ButtonForm, JoinCodeForm, JoinSettingsForm
from trainer.manage.scope import manager_required, person_in_scope, team_in_scope, visible_teams
from trainer.models import JobRole, JoinCode, utcnow
from trainer.people import joining
from trainer.people.services import PersonError
from trainer.qrcodes import qr_svg
from trainer.web import ButtonFields


def _job_roles() -> list[JobRole]:
    return list(db.session.scalars(select(JobRole).order_by(JobRole.name, JobRole.id)))


def _code_in_scope(code_id: int) -> JoinCode:
    code = db.session.get(JoinCode, code_id)
    if code is None:
        abort(404)
    team_in_scope(db.session, current_user, code.team_id)
    return code


def _page(form: JoinCodeForm | None = None, status: int = 200):
    teams = visible_teams(db.session, current_user)
    form = form or JoinCodeForm(teams=teams, job_roles=_job_roles(), formdata=None)
    settings = {
        team.id: JoinSettingsForm(
            formdata=None,
            need_employee_number=team.joiners_need_employee_number,
            need_approval=team.joiners_need_approval,
            prefix=f"t{team.id}",
        )
        for team in teams
    }
    page = render_template(
        "manage/join_codes.html",
        teams=teams,
        form=form,
        settings=settings,
        codes=joining.codes_of(db.session, [team.id for team in teams]),
        button=ButtonFields(),
        now=utcnow(),
        join_url=joining.join_url,
    )
    return page, status


@bp.route("/join-codes", methods=["GET", "POST"])
@manager_required
def join_codes():
    if request.method == "GET":
        return _page()
    teams = visible_teams(db.session, current_user)
    form = JoinCodeForm(teams=teams, job_roles=_job_roles())
    if not form.validate_on_submit():
        return _page(form, 400)
    team = team_in_scope(db.session, current_user, int(form.team.data))
    role = None
    if form.job_role.data:
        role = db.session.scalar(select(JobRole).where(JobRole.key == form.job_role.data))
    try:
        code = joining.create_code(
            db.session, team, by=current_user, days=form.days.data, uses=form.uses.data,
            job_role=role,
        )  # fmt: skip
    except PersonError as error:
        getattr(form, error.field).errors = [error.message[:1].upper() + error.message[1:] + "."]
        return _page(form, 400)
    flash(
        _(
            "Code %(code)s made for %(team)s. Print its poster below.",
            code=code.display,
            team=team.name,
        ),
        "success",
    )
    return redirect(url_for("manage.join_codes") + f"#code-{code.id}", 303)


@bp.post("/join-codes/<int:code_id>/revoke")
@manager_required
def revoke_join_code(code_id: int):
    code = _code_in_scope(code_id)
    if ButtonForm().validate_on_submit():
        joining.revoke(db.session, code)
        flash(
            _("Code %(code)s no longer works. People who joined with it stay.", code=code.display),
            "success",
        )
    return redirect(url_for("manage.join_codes"), 303)


@bp.get("/join-codes/<int:code_id>/poster")
@manager_required
def join_poster(code_id: int):
    code = _code_in_scope(code_id)
    url = joining.join_url(code)
    return render_template(
        "manage/join_poster.html",
        code=code,
        url=url,
        lookup_url=url.rsplit("/", 1)[0],
        qr=qr_svg(url, _("QR code: %(url)s", url=url)),
    )


@bp.post("/teams/<int:team_id>/joining")
@manager_required
def join_settings(team_id: int):
    team = team_in_scope(db.session, current_user, team_id)
    form = JoinSettingsForm(prefix=f"t{team.id}")
    if form.validate_on_submit():
        team.joiners_need_employee_number = form.need_employee_number.data
        team.joiners_need_approval = form.need_approval.data
        db.session.commit()
        flash(_("Saved what newcomers to %(team)s need.", team=team.name), "success")
    return redirect(url_for("manage.join_codes"), 303)


def _decide(person_id: int, approve: bool):
    person = person_in_scope(db.session, current_user, person_id)
    if ButtonForm().validate_on_submit() and person.awaiting_approval:
        if approve:
            joining.approve(db.session, person)
            flash(
                _("%(name)s is in: their first lesson is waiting for them.", name=person.name),
                "success",
            )
        else:
            joining.decline(db.session, person)
            flash(_("%(name)s was turned away and cannot sign in.", name=person.name), "success")
    return redirect(url_for("manage.team", team=person.team_id), 303)


@bp.post("/joiners/<int:person_id>/approve")
@manager_required
def approve_joiner(person_id: int):
    return _decide(person_id, approve=True)


@bp.post("/joiners/<int:person_id>/decline")
@manager_required
def decline_joiner(person_id: int):
    return _decide(person_id, approve=False)
