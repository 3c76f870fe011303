"""The page a reminder mail's snooze/unsubscribe link opens. No sign-in: the signed link is
the proof. GET only shows (mail scanners open links); the buttons POST. A change made through a
link retires every earlier link, and the page carries on under a fresh one."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from trainer.extensions import db
from trainer.models import User
from trainer.notify import bp
from trainer.notify.mails import day_label
from trainer.notify.services import ACTIONS, change_reminders, reminder_state
from trainer.notify.tokens import link_user, reminder_token

CONFIRMATIONS = {
    "snooze": _l("Reminders snoozed. The next one can come on %(resumes)s."),
    "stop": _l("Refresher reminders are off. You can still do your refresher any day."),
    "resume": _l("Refresher reminders are back on."),
}


def _expired():
    return render_template("notify/link_expired.html"), 410


@bp.get("/reminders/<token>")
def reminders(token: str):
    user = link_user(db.session, token)
    if user is None:
        return _expired()
    return render_template(
        "notify/reminders.html", person=user, state=reminder_state(user), day_label=day_label
    )


@bp.post("/reminders/<token>")
def change(token: str):
    # CSRFProtect has already checked the form's token.
    user = link_user(db.session, token)
    if user is None:
        return _expired()
    action = request.form.get("action", "")
    if action not in ACTIONS:
        abort(400)
    # Only one request per link can retire it: a double click finds the version moved on.
    retired = db.session.execute(
        update(User)
        .where(User.id == user.id, User.reminder_links_version == user.reminder_links_version)
        .values(reminder_links_version=User.reminder_links_version + 1)
        .execution_options(synchronize_session="fetch")
    )
    if retired.rowcount != 1:
        db.session.rollback()
        return _expired()
    state = change_reminders(db.session, user, action)
    resumes = day_label(state.resumes_on) if state.resumes_on else ""
    flash(str(CONFIRMATIONS[action]) % {"resumes": resumes}, "success")
    return redirect(url_for("notify.reminders", token=reminder_token(user)), code=303)
