"""The page a reminder mail's snooze/unsubscribe link opens. No sign-in: the signed link is
the proof. GET only shows (mail scanners open links); the buttons POST."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from trainer.extensions import db
from trainer.models import User
from trainer.notify import bp
from trainer.notify.mails import day_label
from trainer.notify.services import ACTIONS, change_reminders, reminder_state
from trainer.notify.tokens import read_reminder_token

CONFIRMATIONS = {
    "snooze": "Reminders snoozed. The next one can come on {resumes}.",
    "stop": "Refresher reminders are off. You can still do your refresher any day.",
    "resume": "Refresher reminders are back on.",
}


def _person(token: str) -> User:
    user_id = read_reminder_token(token)
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None or not user.active:
        abort(404)
    return user


@bp.get("/reminders/<token>")
def reminders(token: str):
    user = _person(token)
    return render_template(
        "notify/reminders.html", person=user, state=reminder_state(user), day_label=day_label
    )


@bp.post("/reminders/<token>")
def change(token: str):
    # CSRFProtect has already checked the form's token.
    user = _person(token)
    action = request.form.get("action", "")
    if action not in ACTIONS:
        abort(400)
    state = change_reminders(db.session, user, action)
    resumes = day_label(state.resumes_on) if state.resumes_on else ""
    flash(CONFIRMATIONS[action].format(resumes=resumes), "success")
    return redirect(url_for("notify.reminders", token=token), code=303)
