"""The browser's side of Web Push: the installed app's manifest, its service worker, and the
endpoints that store or forget a browser's push subscription (from the Account page)."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    request,
    send_from_directory,
    url_for,
)
from flask_login import current_user, login_required

from trainer.auth.sessions import device_label, device_name
from trainer.extensions import db
from trainer.languages import gettext as _
from trainer.messages import push

bp = Blueprint("messages", __name__)


@bp.get("/manifest.webmanifest")
def manifest():
    response = send_from_directory(current_app.static_folder, "manifest.webmanifest")
    response.mimetype = "application/manifest+json"
    return response


@bp.get("/service-worker.js")
def service_worker():
    """Served from the root so that it may show notifications for the whole site. Checked for
    a new version on every visit: an old worker must not linger."""
    response = send_from_directory(current_app.static_folder, "service-worker.js", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response


def _push_offered() -> None:
    if push.mode(current_app.config) != "send":
        abort(404)


@bp.post("/account/push")
@login_required
def subscribe():
    """The subscription `static/push.js` got from the browser, as JSON."""
    _push_offered()
    try:
        browser = push.subscribe(
            db.session,
            current_user,
            request.get_json(silent=True),
            device_label(request.user_agent.string),
            current_app.config,
        )
    except push.SubscriptionError as error:
        return jsonify(error=str(error)), 400
    flash(_("Notifications are on in %(device)s.", device=device_name(browser.device)), "success")
    return jsonify(device=browser.device), 201


@bp.post("/account/push/<int:subscription_id>/stop")
@login_required
def stop(subscription_id: int):
    # CSRFProtect has already checked the form's token.
    browser = push.unsubscribe(db.session, current_user, subscription_id)
    if browser is not None:
        stopped = _("No more notifications in %(device)s.", device=device_name(browser.device))
        flash(stopped, "success")
    return redirect(url_for("auth.account", _anchor="reminders"), 303)
