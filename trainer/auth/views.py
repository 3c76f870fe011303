from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from trainer.auth import bp
from trainer.auth.forms import LoginForm, LogoutForm, PasswordForm, SetPasswordForm
from trainer.auth.passwords import MIN_LENGTH
from trainer.auth.services import authenticate, change_password
from trainer.extensions import db
from trainer.models import User


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect."""
    if target:
        parts = urlsplit(target)
        # "///host" has no netloc for urlsplit, but browsers read it as "//host".
        local = target.startswith("/") and not target.startswith("//") and "\\" not in target
        if local and not parts.scheme and not parts.netloc:
            return target
    return url_for("learn.today")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("learn.today"))
    form = LoginForm()
    error = None
    status = 200
    if form.validate_on_submit():
        result = authenticate(db.session, form.email.data, form.password.data, request.remote_addr)
        if result.user:
            login_user(result.user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")))
        error = result.error
        status = 429 if error and error.startswith("Too many") else 401
    elif form.is_submitted():
        status = 400
    return render_template("auth/login.html", form=form, error=error), status


@bp.post("/logout")
def logout():
    form = LogoutForm()
    if form.validate_on_submit():
        logout_user()
        flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        error = change_password(db.session, current_user, form.current.data, form.new.data)
        if error:
            form.current.errors.append(error)
        else:
            # Other sessions end with the old password; this one carries on under the new one.
            login_user(current_user._get_current_object())
            flash(
                "Your password is changed. Other devices signed in with it are signed out.",
                "success",
            )
            return redirect(url_for("learn.today"))
    return render_template("auth/password.html", form=form)


@bp.route("/welcome/<token>", methods=["GET", "POST"])
def welcome(token: str):
    """The link from an invitation mail: choose a password, then straight in."""
    # Imported here: trainer.admin imports auth (passwords), and auth imports its views.
    from trainer.admin import invites

    invitation = invites.find_invitation(db.session, token)
    if invitation is None:
        return render_template("auth/set_password.html", form=None), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = invites.accept_invitation(db.session, token, form.new.data)
        except invites.InvitationInvalid:  # used in another tab a moment ago
            return render_template("auth/set_password.html", form=None), 404
        except ValueError as error:
            form.new.errors.append(str(error))
        else:
            login_user(user)
            flash("Your password is set. Welcome to Frontline Trainer.", "success")
            return redirect(url_for("learn.today"), 303)
    status = 400 if form.errors else 200
    person = db.session.get(User, invitation.user_id)
    page = render_template(
        "auth/set_password.html", form=form, person=person, min_length=MIN_LENGTH
    )
    return page, status
