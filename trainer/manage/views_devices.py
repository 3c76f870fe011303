"""Thin views of the manager's pages for reaching people without email: the team tablets
(enrol, list, revoke) and personal sign-in cards."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from trainer.auth import cards, device
from trainer.extensions import db
from trainer.languages import gettext as _
from trainer.manage import bp
from trainer.manage.device_forms import CardsForm, DeviceForm, RevokeForm
from trainer.manage.scope import chosen_team, manager_required, team_in_scope, visible_teams
from trainer.models import Device, utcnow
from trainer.qrcodes import qr_svg
from trainer.web import parse_id


@bp.route("/devices", methods=["GET", "POST"])
@manager_required
def devices():
    teams = visible_teams(db.session, current_user)
    form = DeviceForm()
    form.team.choices = [(t.id, t.name) for t in teams]
    if request.method == "GET" and (wanted := parse_id(request.args.get("team"))):
        form.team.data = wanted
    if teams and form.validate_on_submit():
        team = team_in_scope(db.session, current_user, form.team.data)
        try:
            added, code = device.add_device(db.session, team, form.name.data, current_user)
        except device.DeviceError as error:
            form.name.errors.append(error.message)
        else:
            link = device.enrolment_link(code)
            return render_template(
                "manage/device_link.html",
                device=added,
                link=link,
                qr=qr_svg(
                    link, _("QR code of the enrolment link for %(label)s", label=added.label)
                ),
            )
    team_ids = [t.id for t in teams]
    return render_template(
        "manage/devices.html",
        teams=teams,
        form=form,
        devices=device.devices_of(db.session, team_ids),
        revoke_form=RevokeForm(),
        now=utcnow(),
    ), (400 if form.errors else 200)


@bp.post("/devices/<int:device_id>/revoke")
@manager_required
def revoke_device(device_id: int):
    found = db.session.get(Device, device_id)
    if found is None:
        abort(404)
    team_in_scope(db.session, current_user, found.team_id)
    if RevokeForm().validate_on_submit() and found.revoked_at is None:
        ended = device.revoke(db.session, found)
        message = _("“%(label)s” is revoked: no one can sign in on it any more.", label=found.label)
        if ended:
            message += " " + _("Whoever was signed in on it is signed out.")
        flash(message, "success")
    return redirect(url_for("manage.devices"), 303)


@bp.route("/cards", methods=["GET", "POST"])
@manager_required
def sign_in_cards():
    teams, team = chosen_team(db.session, current_user, parse_id(request.args.get("team")))
    people = list(db.session.scalars(cards.people_for_cards(team))) if team else []
    form = CardsForm()
    form.people.choices = [(p.id, p.name) for p in people]
    if request.method == "GET":
        form.people.data = [p.id for p in people]  # everyone, unless the manager unticks
    if team is not None and form.validate_on_submit():
        printed = cards.print_cards(db.session, team, form.people.data, current_user)
        if printed:
            return render_template(
                "manage/cards_sheet.html", team=team, printed=printed, qr_svg=qr_svg
            )
        form.people.errors.append(_("None of them needs a card any more."))
    return render_template(
        "manage/cards.html",
        teams=teams,
        team=team,
        people={p.id: p for p in people},
        out=cards.cards_out(db.session, [p.id for p in people]),
        form=form,
    ), (400 if form.errors else 200)
