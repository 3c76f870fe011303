"""Signing in by joining a team with the code on its poster (`trainer/people/joining.py`)."""

from __future__ import annotations

from datetime import timedelta

from flask import redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from trainer.auth import bp, signin, throttle
from trainer.auth.forms import JoinForm, JoinLookupForm, LogoutForm
from trainer.extensions import db
from trainer.languages import browser_language
from trainer.people import joining
from trainer.people.services import PersonError

# Wrong codes per address: enough for a whole team scanning one poster on one Wi-Fi with a
# few typos, too few to find a code by trying.
WRONG_CODES = 30
WINDOW = timedelta(minutes=15)
NOT_WORKING = _l(
    "That code does not work: it may be mistyped, expired or used up. "
    "Ask your manager for the one on the poster."
)


def _key() -> str:
    return f"join:{(request.remote_addr or 'unknown')[:64]}"


def _refused():
    refusal = throttle.refused(db.session, _key(), WRONG_CODES, WINDOW)
    if refusal is None:
        return None
    form = JoinLookupForm(formdata=None)
    form.code.errors = [refusal.message]
    page = render_template("auth/join_lookup.html", form=form)
    return page, 429, {"Retry-After": str(refusal.retry_after)}


@bp.route("/join", methods=["GET", "POST"])
def join_lookup():
    """The page a poster's address leads to: type the code."""
    form = JoinLookupForm()
    if form.validate_on_submit():
        refused = _refused()
        if refused:
            return refused
        code = joining.find_usable(db.session, form.code.data)
        if code is not None:
            return redirect(url_for("auth.join", code=code.code), 303)
        throttle.failure(db.session, _key(), WINDOW)
        form.code.errors = [NOT_WORKING]
    status = 400 if form.errors else 200
    return render_template("auth/join_lookup.html", form=form), status


@bp.route("/join/<code>", methods=["GET", "POST"])
def join(code: str):
    """The address in the poster's QR code: who you are, and a PIN or a password."""
    refused = _refused()
    if refused:
        return refused
    found = joining.find_usable(db.session, code)
    if found is None:
        throttle.failure(db.session, _key(), WINDOW)
        form = JoinLookupForm(formdata=None, code=code[:32])
        form.code.errors = [NOT_WORKING]
        return render_template("auth/join_lookup.html", form=form), 404
    if current_user.is_authenticated:
        return render_template("auth/join_signed_in.html", team=found.team)
    form = JoinForm()
    if form.validate_on_submit():
        joiner = joining.Joiner(
            name=form.name.data,
            employee_number=form.employee_number.data or "",
            phone=form.phone.data or "",
            how=form.how.data,
            pin=form.pin.data or "",
            password=form.password.data or "",
            language=browser_language(),
        )
        try:
            user = joining.join(db.session, found.code, joiner)
        except joining.JoinError:  # the last use went to someone else a moment ago
            form = JoinLookupForm(formdata=None, code=found.display)
            form.code.errors = [NOT_WORKING]
            return render_template("auth/join_lookup.html", form=form), 410
        except PersonError as error:
            # "email" is create_user's field for "no way to reach you": the phone, here.
            field = getattr(form, {"email": "phone"}.get(error.field, error.field), form.name)
            field.errors = [*field.errors, error.message[:1].upper() + error.message[1:] + "."]
        else:
            # Their own phone, most likely: keep them signed in.
            return signin.finish(user, remember=True, status=303)
    status = 400 if form.errors else 200
    return render_template("auth/join.html", form=form, code=found, team=found.team), status


@bp.get("/join/waiting")
@login_required
def join_waiting():
    """Where a joiner waits until a manager of their team approves them."""
    if not current_user.awaiting_approval:
        return redirect(url_for("learn.today"))
    return render_template("auth/join_waiting.html", logout=LogoutForm())


def wait_for_approval():
    """Learner pages send a joiner who is not approved yet to the waiting page."""
    if not (request.endpoint or "").startswith(("learn.", "review.")):
        return None  # decided before loading anyone: most requests need no person
    if current_user.is_authenticated and current_user.awaiting_approval:
        return redirect(url_for("auth.join_waiting"))
    return None


def init_app(app) -> None:
    app.before_request(wait_for_approval)
