"""The team tablet's pages: enrolling a browser from its one-time link, and signing in there
with employee number and PIN (`trainer.auth.device`)."""

from __future__ import annotations

from flask import (
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from trainer.auth import bp, signin
from trainer.auth import device as devices
from trainer.auth.forms import EnrolForm, PinForm
from trainer.extensions import db
from trainer.languages import gettext as _


@bp.route("/device", methods=["GET", "POST"])
def device():
    if current_user.is_authenticated:
        return redirect(signin.home(current_user))
    here = devices.current(db.session)
    form = PinForm()
    error = retry_after = None
    status = 200
    if form.validate_on_submit():
        result = devices.sign_in_with_pin(
            db.session, here, form.employee_number.data, form.pin.data, request.remote_addr
        )
        if result.user:
            response = signin.finish(result.user, status=303)
            devices.keep_cookie(response)
            return response
        error, retry_after = result.error, result.retry_after
        status = 429 if retry_after else 401
    elif form.is_submitted():
        status = 400
    response = make_response(render_template("auth/device.html", form=form, error=error, here=here))
    response.status_code = status
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    # Whatever was typed here is for this moment only: never from a cache, for anyone.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/device/enrol/<code>", methods=["GET", "POST"])
def enrol_device(code: str):
    """Opening the link shows what it does; the button enrols. (Link previews and scanners
    fetch links: a GET must not use up a one-time link.)"""
    here = devices.current(db.session)
    if here is not None and devices.is_link_of(here, code):
        return redirect(url_for("auth.device"))  # enrolled by this link already (a reload)
    waiting = devices.find_waiting(db.session, code)
    if waiting is None:
        return render_template("auth/enrol.html", waiting=None), 404
    form = EnrolForm()
    if form.validate_on_submit():
        try:
            enrolled, cookie = devices.enrol(db.session, code, replacing=here)
        except devices.LinkInvalid:  # used in another browser a moment ago
            return render_template("auth/enrol.html", waiting=None), 404
        signin.end_here()  # whoever was signed in on this browser: it is everyone's now
        flash(
            _(
                "This browser is now %(team)s’s tablet “%(label)s”. Colleagues sign in here "
                "with their employee number and PIN.",
                team=enrolled.team.name,
                label=enrolled.label,
            ),
            "success",
        )
        response = redirect(url_for("auth.device"), 303)
        devices.set_cookie(response, cookie)
        # No one's own browser any more (trainer/auth/throttle.py spares the owner's browsers).
        response.delete_cookie(current_app.config["KNOWN_BROWSER_COOKIE_NAME"])
        return response
    return render_template("auth/enrol.html", waiting=waiting, form=form)
