from __future__ import annotations

from babel.dates import get_day_names
from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_login import current_user, login_required

from trainer.auth import bp, company_accounts, oidc, reset, sessions, signin
from trainer.auth.forms import (
    EndSessionForm,
    EndSessionsForm,
    ForgotPasswordForm,
    LanguageForm,
    LoginForm,
    LogoutForm,
    PasswordForm,
    SetPasswordForm,
)
from trainer.auth.passwords import MIN_LENGTH
from trainer.auth.services import authenticate, change_password
from trainer.auth.sessions import device_name
from trainer.content.translated import language_of
from trainer.extensions import db
from trainer.languages import gettext as _
from trainer.languages import ngettext, remember_language
from trainer.messages import push
from trainer.models import User, UserSession
from trainer.notify.forms import RemindersForm
from trainer.notify.mails import day_label
from trainer.notify.services import (
    WEEKDAYS,
    ReminderSettingsError,
    change_reminder_settings,
    channel_choices,
    days_off,
    reminder_channel,
    reminder_state,
)
from trainer.people.services import PersonError, change_language
from trainer.people.zones import timezone_names


@bp.app_template_filter("device_name")
def device_name_filter(label: str | None) -> str:
    return device_name(label)


def _with_retry_after(page: str, status: int, retry_after: int | None):
    response = make_response(page, status)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(signin.home(current_user))
    form = LoginForm()
    error = retry_after = None
    status = 200
    if form.validate_on_submit():
        result = authenticate(
            db.session,
            form.email.data,
            form.password.data,
            request.remote_addr,
            signin.known_ids(),
        )
        if result.user:
            return signin.finish(
                result.user, remember=form.remember.data, to=request.args.get("next")
            )
        error, retry_after = result.error, result.retry_after
        status = 429 if retry_after else 401
    elif form.is_submitted():
        status = 400
    page = render_template(
        "auth/login.html", form=form, error=error, company=oidc.settings() is not None
    )
    return _with_retry_after(page, status, retry_after)


@bp.post("/logout")
def logout():
    if LogoutForm().validate_on_submit():
        return signin.sign_out()
    return redirect(url_for("auth.login"))


def _reminders_form(formdata=None) -> RemindersForm:
    """The Reminders form: as posted, or filled from the person's settings."""
    user, config = current_user, current_app.config
    return RemindersForm(
        formdata=formdata,
        choices=channel_choices(db.session, user, config),
        zones=timezone_names(),
        zone=user.timezone,
        data={
            "on": not user.reminders_off,
            "channel": reminder_channel(db.session, user, config),
            "reminder_time": user.reminder_time,
            "timezone": user.timezone,
            "days_off": [str(day) for day in days_off(user)],
        },
    )


def _weekdays() -> list[tuple[int, str]]:
    """(ISO weekday, its name in the reader's language), Monday first."""
    names = get_day_names("wide", locale=get_locale() or "en")
    return [(number, names[number - 1]) for number in range(1, len(WEEKDAYS) + 1)]


def _account_page(
    form: PasswordForm | None = None,
    status: int = 200,
    retry_after=None,
    reminders: RemindersForm | None = None,
    language: LanguageForm | None = None,
):
    me = sessions.current(db.session, current_user)
    config = current_app.config
    push_offered = push.mode(config) == "send"
    page = render_template(
        "auth/account.html",
        form=form or PasswordForm(formdata=None),
        sessions=sessions.active(db.session, current_user),
        this_session=me.id if me else None,
        end_others=EndSessionsForm(),
        end_one=EndSessionForm(),
        min_length=MIN_LENGTH,
        reminders=reminders or _reminders_form(),
        language=language or LanguageForm(formdata=None, language=language_of(current_user)),
        reminder_state=reminder_state(current_user),
        weekdays=_weekdays(),
        day_label=day_label,
        push_offered=push_offered,
        push_key=config["VAPID_PUBLIC_KEY"].strip() if push_offered else "",
        browsers=push.subscriptions(db.session, current_user.id) if push_offered else [],
    )
    return _with_retry_after(page, status, retry_after)


@bp.get("/account")
@login_required
def account():
    return _account_page()


@bp.post("/account/reminders")
@login_required
def reminders():
    form = _reminders_form(request.form)
    if form.validate_on_submit():
        try:
            change_reminder_settings(
                db.session,
                current_user,
                current_app.config,
                on=form.on.data,
                channel=form.channel.data or None,
                reminder_time=form.reminder_time.data,
                timezone=form.timezone.data,
                days=form.days(),
            )
        except ReminderSettingsError as error:
            getattr(form, error.field).errors.append(error.message)
        else:
            flash(_("Your reminder settings are saved."), "success")
            return redirect(url_for("auth.account", _anchor="reminders"), 303)
    return _account_page(reminders=form, status=400)


@bp.post("/account/language")
@login_required
def language():
    form = LanguageForm()
    if form.validate_on_submit():
        try:
            change_language(db.session, current_user, form.language.data)
        except PersonError as error:
            form.language.errors = [error.message]
        else:
            remember_language(current_user.language)
            flash(_("Your language is saved."), "success")
            return redirect(url_for("auth.account", _anchor="language-settings"), 303)
    return _account_page(language=form, status=400)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    if request.method == "GET":
        return _account_page(form)
    if not form.validate_on_submit():
        return _account_page(form, 400)
    result = change_password(
        db.session,
        current_user,
        form.current.data,
        form.new.data,
        request.remote_addr,
        signin.known_ids(),
    )
    if result.error or result.new_error:
        (form.current if result.error else form.new).errors.append(result.error or result.new_error)
        return _account_page(form, 429 if result.retry_after else 400, result.retry_after)
    flash(_("Your password is changed. Every other device is signed out."), "success")
    return redirect(url_for("auth.account"), 303)


@bp.post("/account/sessions/others")
@login_required
def end_other_sessions():
    if EndSessionsForm().validate_on_submit():
        count = sessions.end_all(
            db.session, current_user, "signed out elsewhere", keep_current=True
        )
        signed_out = ngettext(
            "Signed out on %(num)d other device.", "Signed out on %(num)d other devices.", count
        )
        flash(signed_out, "success")
    return redirect(url_for("auth.account"), 303)


@bp.post("/account/sessions/<int:session_id>/end")
@login_required
def end_session(session_id: int):
    row = db.session.get(UserSession, session_id)
    if row is None or row.user_id != current_user.id:
        abort(404)
    if EndSessionForm().validate_on_submit() and row.ended_at is None:
        me = sessions.current(db.session, current_user)
        if me is not None and me.id == row.id:
            return signin.sign_out()
        sessions.end_ids(db.session, [row.id], "signed out elsewhere")
        flash(_("Signed out on %(device)s.", device=device_name(row.device)), "success")
    return redirect(url_for("auth.account"), 303)


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
            flash(_("Your password is set. Welcome to Frontline Trainer."), "success")
            return signin.finish(user, status=303)
    status = 400 if form.errors else 200
    person = db.session.get(User, invitation.user_id)
    page = render_template(
        "auth/set_password.html", form=form, person=person, min_length=MIN_LENGTH
    )
    return page, status


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    """Ask for a link to choose a new password; the answer is the same for any address."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        refusal = reset.request_reset(db.session, form.email.data, request.remote_addr)
        if refusal is not None:
            page = render_template("auth/forgot.html", form=form, error=refusal.message)
            return _with_retry_after(page, 429, refusal.retry_after)
        return render_template("auth/forgot.html", form=None, sent_to=form.email.data.strip())
    status = 400 if form.errors else 200
    return render_template("auth/forgot.html", form=form, error=None), status


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """The link from a reset mail: choose a new password, then straight in."""
    from trainer.admin import invites

    link = invites.find_invitation(db.session, token)
    if link is None:
        return render_template("auth/set_password.html", form=None, resetting=True), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = invites.accept_invitation(db.session, token, form.new.data)
        except invites.InvitationInvalid:
            return render_template("auth/set_password.html", form=None, resetting=True), 404
        except ValueError as error:
            form.new.errors.append(str(error))
        else:
            flash(_("Your new password is set."), "success")
            return signin.finish(user, status=303)
    page = render_template(
        "auth/set_password.html",
        form=form,
        person=db.session.get(User, link.user_id),
        min_length=MIN_LENGTH,
        resetting=True,
    )
    return page, 400 if form.errors else 200


# -- Company sign-in (OpenID Connect, trainer/auth/oidc.py) --------------------------------------


def _company_callback_url() -> str:
    # The address registered at the provider: PUBLIC_URL, not whatever Host a request names.
    return current_app.config["PUBLIC_URL"] + url_for("auth.company_callback")


def _company_problem(error: oidc.CompanySignInError):
    log = current_app.logger.warning if error.status >= 500 else current_app.logger.info
    log("company sign-in refused: %s", error)
    page = render_template("auth/company_problem.html", problem=error)
    return _with_retry_after(page, error.status, 60 if error.status == 503 else None)


@bp.get("/login/company")
def company_sign_in():
    """The "Sign in with your company account" button: off to the company's provider."""
    if current_user.is_authenticated:
        return redirect(signin.home(current_user))
    settings = oidc.settings()
    if settings is None:
        abort(404)
    try:
        url, pending = oidc.begin(settings, _company_callback_url(), request.args.get("next"))
    except oidc.CompanySignInError as error:
        return _company_problem(error)
    oidc.remember_pending(session, pending)
    return redirect(url, 303)


@bp.get("/login/company/callback")
def company_callback():
    """Back from the company's provider: check its answer, find the person, sign them in."""
    settings = oidc.settings()
    if settings is None:
        abort(404)
    pending = oidc.take_pending(session, request.args.get("state"))
    try:
        identity = oidc.complete(settings, _company_callback_url(), pending, request.args)
        user = company_accounts.person_for(db.session, settings, identity)
    except oidc.CompanySignInError as error:
        return _company_problem(error)
    return signin.finish(user, to=pending["next"])
