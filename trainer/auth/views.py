from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from trainer.auth import bp
from trainer.auth.forms import LoginForm, LogoutForm, PasswordForm
from trainer.auth.services import authenticate, change_password
from trainer.extensions import db


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
            flash("Your password is changed.", "success")
            return redirect(url_for("learn.today"))
    return render_template("auth/password.html", form=form)
