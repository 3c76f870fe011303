"""Thin views of the admin pages: people, teams, the CSV import, checklists, the outbox."""

from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from trainer.admin import bp, importing
from trainer.admin import people as people_service
from trainer.admin.access import admin_required
from trainer.admin.forms import (
    ActionForm,
    ChecklistForm,
    ConfirmImportForm,
    ManagersForm,
    PersonForm,
    TeamForm,
    UploadForm,
    role_labels,
)
from trainer.content.names import role_name
from trainer.extensions import db
from trainer.jobs import queue
from trainer.languages import gettext as _
from trainer.languages import ngettext
from trainer.manage.insight import skill_label
from trainer.manage.observations import ChecklistError, create_checklist, known_skills
from trainer.messages import sms
from trainer.messages.backlog import backlog
from trainer.messages.channels import CHANNELS, label, setup_lines
from trainer.messages.delivery import delivery_status, message_status
from trainer.messages.email import message_id
from trainer.messages.outbox import one_time_link
from trainer.models import ObservationChecklist, OutboxMessage, Team, User, utcnow
from trainer.people.services import PersonError
from trainer.people.zones import timezone_names
from trainer.web import page_number

PER_PAGE = 50


@bp.before_request
@admin_required
def require_admin():
    """Every admin page needs a signed-in admin."""


@bp.get("/outbox")
def outbox():
    page = db.paginate(
        select(OutboxMessage).order_by(OutboxMessage.id.desc()),
        page=page_number(request.args.get("page")),
        per_page=PER_PAGE,
        max_per_page=PER_PAGE,
    )
    config = current_app.config
    rows = [(message, message_status(message, config)) for message in page.items]
    now = utcnow()
    return render_template(
        "admin/outbox.html",
        links={message.id: one_time_link(message) for message in page.items},
        page=page,
        rows=rows,
        backlog=backlog(db.session, config, now),
        tasks=_delivery_tasks_waiting(config),
        now=now,
        server=config.get("MAIL_SERVER"),
        setup=setup_lines(config),
        labels=_channel_names(),
        status_words=_status_words(),
    )


def _delivery_tasks_waiting(config) -> int | str | None:
    """Delivery tasks in the task queue; None without one; a sentence when it cannot be read."""
    if not queue.enabled(config):
        return None
    try:
        return queue.waiting(queue.MESSAGES, config)
    except Exception as error:  # the page still shows the outbox when the broker is down
        return _(
            "unknown (the task queue cannot be reached: %(error)s)",
            error=error.__class__.__name__,
        )


@bp.get("/outbox/<int:outbox_id>")
def message(outbox_id: int):
    message = db.session.get(OutboxMessage, outbox_id)
    if message is None:
        abort(404)
    config = current_app.config
    return render_template(
        "admin/message.html",
        message=message,
        sender=config["MAIL_DEFAULT_SENDER"],
        message_id=message_id(message, config),
        status=message_status(message, config),
        deliveries=[(d, delivery_status(message, d)) for d in message.deliveries],
        labels=_channel_names(),
        status_words=_status_words(),
        kind_names=_kind_names(),
        short_text=sms.text(message) if message.short else "",
        link=one_time_link(message),
    )


def _channel_names() -> dict[str, str]:
    return {channel: label(channel) for channel in CHANNELS}


def _status_words() -> dict[str, str]:
    """MessageStatus.word (kept in English for code and styles) as the admin reads it."""
    return {
        "sent": _("sent"),
        "failed": _("failed"),
        "waiting": _("waiting"),
        "kept": _("kept"),
        "refused": _("refused"),
        "not used": _("not used"),
        "next": _("next"),
    }


def _kind_names() -> dict[str, str]:
    """What each kind of message is, for its page (an unknown kind shows as stored)."""
    return {
        "reminder": _("refresher reminder"),
        "overdue": _("overdue lessons notice"),
        "overdue-report": _("overdue lessons report to a manager"),
        "digest": _("weekly team digest"),
        "nudge": _("reminder from a manager"),
        "invitation": _("invitation"),
        "password-reset": _("password reset"),
        "security": _("security notice"),
    }


# -- helpers -----------------------------------------------------------------------------------


def _sentence(message: str) -> str:
    """A service's message ("a name is needed") as shown to people: "A name is needed."."""
    message = message.strip()
    if not message:
        return message
    if message.split()[0].isalpha():  # not an address or a quoted value, kept as typed
        message = message[0].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."


def _field_error(form, error) -> None:
    """Put a service's error under its field, or above the form when no field matches."""
    target = form._fields.get(error.field)
    if target is not None and error.field not in ("submit", "csrf_token"):
        target.errors = [*target.errors, _sentence(error.message)]
    else:
        form.form_errors.append(_sentence(error.message))


def _status(form) -> int:
    return 400 if form.errors else 200


def _link_note() -> str:
    """Where a password link went: out by mail, or into the outbox for an admin to pass on."""
    if current_app.config.get("MAIL_SERVER"):
        return _("it is on its way by email")
    return _("no mail server is set up, so it is in the Outbox")


def _get_or_404(model, item_id: int):
    item = db.session.get(model, item_id)
    if item is None:
        abort(404)
    return item


# -- the admin home ----------------------------------------------------------------------------


@bp.get("/")
def index():
    return render_template("admin/index.html")


# -- people ------------------------------------------------------------------------------------


@bp.get("/people")
def people():
    filters = people_service.PeopleFilters.from_args(request.args)
    page = db.paginate(
        people_service.people_query(filters),
        page=filters.page,
        per_page=PER_PAGE,
        max_per_page=PER_PAGE,
        error_out=False,
    )
    return render_template(
        "admin/people.html",
        page=page,
        filters=filters,
        teams=people_service.all_teams(db.session),
        job_roles=people_service.all_job_roles(db.session),
        roles=role_labels(),
        statuses=people_service.STATUSES,
    )


def _person_form(person: User | None = None, **kwargs) -> PersonForm:
    """The form, filled from the request when one was sent, else from the person (or the
    defaults for someone new)."""
    if person is None:
        data = {
            "timezone": current_app.config["DEFAULT_TIMEZONE"],
            "reminder_time": people_service.PersonFields("", "").reminder_time,
        }
    else:
        data = {
            "name": person.name,
            "email": person.email or "",
            "employee_number": person.employee_number or "",
            "phone": person.phone or "",
            "role": person.role,
            "job_role": person.job_role.key if person.job_role else "",
            "team": str(person.team_id) if person.team_id else "",
            "hire_date": person.hire_date,
            "timezone": person.timezone,
            "reminder_time": person.reminder_time,
            "language": person.language or "",
        }
    return PersonForm(
        job_roles=people_service.all_job_roles(db.session),
        teams=people_service.all_teams(db.session),
        zones=timezone_names(),
        keep_zone=person.timezone if person is not None else data["timezone"],
        data=data,
        **kwargs,
    )


@bp.route("/people/new", methods=["GET", "POST"])
def new_person():
    form = _person_form()
    if form.validate_on_submit():
        try:
            person = people_service.create_person(db.session, form.fields())
        except PersonError as error:
            _field_error(form, error)
        else:
            if person.email:
                note = _link_note()
                flash(
                    _(
                        "%(name)s is added. Their link to set a password: %(note)s.",
                        name=person.name,
                        note=note,
                    ),
                    "success",
                )
            else:
                flash(
                    _(
                        "%(name)s is added. With no email address, they sign in on the team's "
                        "tablet with their employee number and PIN, or with a personal sign-in "
                        "card from their team's page.",
                        name=person.name,
                    ),
                    "success",
                )
            return redirect(url_for("admin.edit_person", person_id=person.id), 303)
    return render_template("admin/person_form.html", form=form, person=None), _status(form)


def _edit_page(person: User, form: PersonForm, status: int = 200, action_error: str = ""):
    return (
        render_template(
            "admin/person_form.html",
            form=form,
            person=person,
            action_form=ActionForm(formdata=None),
            link=people_service.link_status(db.session, person),
            action_error=action_error,
        ),
        status,
    )


@bp.route("/people/<int:person_id>/edit", methods=["GET", "POST"])
def edit_person(person_id: int):
    person = _get_or_404(User, person_id)
    form = _person_form(person)
    if form.validate_on_submit():
        try:
            people_service.update_user(db.session, person, form.fields(), by=current_user)
        except PersonError as error:
            _field_error(form, error)
        else:
            flash(_("Changes to %(name)s are saved.", name=person.name), "success")
            return redirect(url_for("admin.edit_person", person_id=person.id), 303)
    return _edit_page(person, form, _status(form))


def _person_button(person_id: int, action) -> Response | tuple:
    """A button on the person's page: run `action(person)` (a service call returning what to
    tell the admin), then back to the page, with the error above the buttons if it failed."""
    person = _get_or_404(User, person_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        message = action(person)
    except PersonError as error:
        form = _person_form(person, formdata=None)
        return _edit_page(person, form, 400, _sentence(error.message))
    flash(message, "success")
    return redirect(url_for("admin.edit_person", person_id=person.id), 303)


@bp.post("/people/<int:person_id>/deactivate")
def deactivate_person(person_id: int):
    def action(person: User) -> str:
        people_service.set_active(db.session, person, False, by=current_user)
        return _(
            "%(name)s is deactivated: they cannot sign in. Their history is kept.",
            name=person.name,
        )

    return _person_button(person_id, action)


@bp.post("/people/<int:person_id>/reactivate")
def reactivate_person(person_id: int):
    def action(person: User) -> str:
        people_service.set_active(db.session, person, True, by=current_user)
        return _("%(name)s is active again and can sign in.", name=person.name)

    return _person_button(person_id, action)


@bp.post("/people/<int:person_id>/invite")
def send_link(person_id: int):
    def action(person: User) -> str:
        people_service.resend_invitation(db.session, person)
        return _(
            "A new link for %(name)s: %(note)s. Earlier links no longer work.",
            name=person.name,
            note=_link_note(),
        )

    return _person_button(person_id, action)


# -- importing people from a CSV file ----------------------------------------------------------


def _preview_page(
    raw_rows: list[dict], preview, message: str = "", status: int = 200, payload: str = ""
):
    payload = payload or importing.sign_rows(current_app.config["SECRET_KEY"], raw_rows)
    confirm = ConfirmImportForm(
        formdata=None, data={"payload": payload, "expected": len(preview.valid_rows)}
    )
    return (
        render_template(
            "admin/import_preview.html",
            preview=preview,
            form=confirm,
            message=message,
            columns=importing.COLUMNS,
            field_names=importing.FIELD_NAMES,
            roles=role_labels(),
        ),
        status,
    )


def _upload_page(form: UploadForm, status: int | None = None):
    page = render_template(
        "admin/import.html",
        form=form,
        columns=importing.COLUMNS,
        default_timezone=current_app.config["DEFAULT_TIMEZONE"],
        phone_region=current_app.config["DEFAULT_PHONE_REGION"],
    )
    return page, status if status is not None else _status(form)


@bp.route("/people/import", methods=["GET", "POST"])
def import_people():
    form = UploadForm()
    if form.validate_on_submit():
        try:
            limit = current_app.config["IMPORT_MAX_CONTENT_LENGTH"]
            raw = importing.read_csv(form.file.data.read(limit + 1), limit)
        except importing.ImportFileError as error:
            form.file.errors = [str(error)]
        else:
            payload = importing.sign_rows(current_app.config["SECRET_KEY"], raw)
            # The rows come back in a form post, capped like the upload (trainer/web.py).
            if len(payload) > limit - 10_000:
                form.file.errors = [_("This file is too big to import at once. Split it in two.")]
            else:
                tz = current_app.config["DEFAULT_TIMEZONE"]
                preview = importing.check_rows(db.session, raw, tz)
                return _preview_page(raw, preview, payload=payload)
    return _upload_page(form)


@bp.post("/people/import/confirm")
def confirm_import():
    form = ConfirmImportForm()
    try:
        if not form.validate_on_submit():
            raise importing.ImportFileError(
                _("This import could not be checked. Upload the file again.")
            )
        raw = importing.unsign_rows(current_app.config["SECRET_KEY"], form.payload.data)
    except importing.ImportFileError as error:
        upload = UploadForm(formdata=None)
        upload.form_errors.append(str(error))
        return _upload_page(upload, 400)
    try:
        result = importing.import_people(
            db.session,
            raw,
            default_timezone=current_app.config["DEFAULT_TIMEZONE"],
            only_valid=form.choice.data == "valid",
            expected=form.expected.data,
        )
    except importing.ImportBlocked as blocked:
        return _preview_page(raw, blocked.preview, blocked.message, 400)
    count = len(result.people)
    if result.skipped:
        # "leaving out" counts rows, "imported" people: two numbers, one sentence.
        leaving_out = ngettext(
            "leaving out %(num)d row", "leaving out %(num)d rows", result.skipped
        )
        message = ngettext(
            "Imported %(num)d person, %(skipped)s.",
            "Imported %(num)d people, %(skipped)s.",
            count,
            skipped=leaving_out,
        )
    else:
        message = ngettext("Imported %(num)d person.", "Imported %(num)d people.", count)
    message += " " + _("Each has a link to set a password: %(note)s.", note=_link_note())
    if result.new_teams:
        message += " " + ngettext(
            "New team: %(teams)s.",
            "New teams: %(teams)s.",
            len(result.new_teams),
            teams=", ".join(result.new_teams),
        )
    flash(message, "success")
    return redirect(url_for("admin.people"), 303)


# -- teams -------------------------------------------------------------------------------------


@bp.route("/teams", methods=["GET", "POST"])
def teams():
    form = TeamForm()
    if form.validate_on_submit():
        try:
            team = people_service.create_team(db.session, form.name.data)
        except people_service.TeamError as error:
            _field_error(form, error)
        else:
            flash(
                _("Team %(team)s is added. Choose its managers below.", team=team.name), "success"
            )
            return redirect(url_for("admin.team", team_id=team.id), 303)
    rows = people_service.team_rows(db.session)
    return render_template("admin/teams.html", rows=rows, form=form), _status(form)


def _team_page(team: Team, *, rename=None, managers=None, delete_error="", status=200):
    people = people_service.manager_choices(db.session, team)
    if managers is None:
        managers = ManagersForm(
            formdata=None, people=people, data={"managers": [m.id for m in team.managers]}
        )
    members = db.session.scalar(select(db.func.count(User.id)).where(User.team_id == team.id))
    return (
        render_template(
            "admin/team.html",
            team=team,
            members=members,
            rename=rename or TeamForm(formdata=None, data={"name": team.name}),
            managers=managers,
            people=people,
            delete_form=ActionForm(formdata=None),
            delete_error=delete_error,
        ),
        status,
    )


@bp.route("/teams/<int:team_id>", methods=["GET", "POST"])
def team(team_id: int):
    team = _get_or_404(Team, team_id)
    form = TeamForm(data={"name": team.name})
    if form.validate_on_submit():
        try:
            people_service.rename_team(db.session, team, form.name.data)
        except people_service.TeamError as error:
            _field_error(form, error)
        else:
            flash(_("The team is now called %(team)s.", team=team.name), "success")
            return redirect(url_for("admin.team", team_id=team.id), 303)
    return _team_page(team, rename=form, status=_status(form))


@bp.post("/teams/<int:team_id>/managers")
def team_managers(team_id: int):
    team = _get_or_404(Team, team_id)
    form = ManagersForm(people=people_service.manager_choices(db.session, team))
    if form.validate_on_submit():
        try:
            people_service.set_managers(db.session, team, form.managers.data or [])
        except people_service.TeamError as error:
            _field_error(form, error)
        else:
            names = ", ".join(m.name for m in team.managers) or _("nobody")
            flash(_("Managers of %(team)s: %(names)s.", team=team.name, names=names), "success")
            return redirect(url_for("admin.team", team_id=team.id), 303)
    return _team_page(team, managers=form, status=400)


@bp.post("/teams/<int:team_id>/delete")
def delete_team(team_id: int):
    team = _get_or_404(Team, team_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    name = team.name
    try:
        people_service.delete_team(db.session, team)
    except people_service.TeamError as error:
        return _team_page(team, delete_error=_sentence(error.message), status=400)
    flash(_("Team %(team)s is deleted.", team=name), "success")
    return redirect(url_for("admin.teams"), 303)


# -- observation checklists --------------------------------------------------------------------


@bp.route("/checklists", methods=["GET", "POST"])
def checklists():
    job_roles = people_service.all_job_roles(db.session)
    form = ChecklistForm(
        skills=[(skill, skill_label(skill)) for skill in known_skills(db.session)],
        job_roles=job_roles,
    )
    if form.validate_on_submit():
        try:
            checklist = create_checklist(
                db.session,
                form.key.data,
                form.title.data,
                form.skill.data,
                form.points.data.splitlines(),
                roles=[key for key in form.roles.data or [] if key],
            )
        except ChecklistError as error:
            _field_error(form, error)
        else:
            title = checklist.title
            flash(
                _("Checklist “%(title)s” is added: managers can observe with it.", title=title),
                "success",
            )
            return redirect(url_for("admin.checklists"), 303)
    rows = db.session.scalars(
        select(ObservationChecklist).order_by(
            ObservationChecklist.active.desc(), ObservationChecklist.title
        )
    ).all()
    return render_template(
        "admin/checklists.html",
        rows=rows,
        form=form,
        role_names={j.key: role_name(j) for j in job_roles},
        label=skill_label,
    ), _status(form)
