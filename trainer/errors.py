"""Error pages that work when nothing else does.

The pages use their own small layout (`templates/error.html`), rendered without the context
processors, so they touch neither the database nor the signed-in person: an error page must never
need the thing that just failed.
A database that cannot be reached answers 503 with Retry-After, saying plainly that this step
was not saved.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from trainer.database import UNAVAILABLE_ERRORS
from trainer.extensions import db

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 60

# Steps of a lesson, its conversation or a refresher: every earlier answer there was committed
# on its own.
_PRACTICE_ENDPOINTS = frozenset(
    {
        "learn.quiz_item",
        "learn.roleplay",
        "learn.rubric",
        "learn.done",
        "learn.conversation",
        "learn.conversation_end",
        "review.item",
        "review.done",
        "review.practice",
    }
)

MESSAGES = {
    400: (
        _l("This request could not be read"),
        _l("Go back, reload the page and try again."),
    ),
    403: (_l("You do not have access to this page"), ""),
    404: (_l("There is nothing at this address"), _l("Check the link, or start again from Today.")),
    405: (_l("This address does not take that kind of request"), ""),
    410: (_l("This link has expired"), ""),
    413: (
        _l("That is more than can be sent at once"),
        _l(
            "A page takes at most 1 MB and a CSV import at most 5 MB. Go back and send less; "
            "split a big file in two."
        ),
    ),
    500: (
        _l("Something went wrong on our side"),
        _l(
            "This step was not completed. Try again in a minute; if it keeps happening, tell your "
            "manager or administrator."
        ),
    ),
}
NUL_MESSAGE = (
    _l("Something you typed contains a character that cannot be stored"),
    _l(
        "It is an invisible control character (a NUL byte), often pasted by accident. "
        "Go back, retype the text and send it again."
    ),
)
CSRF_MESSAGE = (
    _l("This form expired or was sent twice"),
    _l("Go back, reload the page and try again."),
)
UNAVAILABLE_MESSAGE = (
    _l("We cannot reach our database just now"),
    _l("So this was not saved. Please try again in a minute."),
)
SAVED_BEFORE = _l("The answers you gave before this one are saved.")


def _rollback() -> None:
    try:
        db.session.rollback()
    except Exception:  # the connection may be the thing that failed
        log.debug("rollback after an error failed", exc_info=True)


def _page(code: int, title: str, detail: str, saved_note: bool = False):
    saved = SAVED_BEFORE if saved_note and request.endpoint in _PRACTICE_ENDPOINTS else ""
    # Straight from the Jinja environment: Flask's render_template would run the context
    # processors, and Flask-Login's loads the signed-in person from the database.
    template = current_app.jinja_env.get_template("error.html")
    page = template.render(code=code, title=title, detail=detail, saved=saved)
    return page, code


def database_unavailable(error: Exception):
    _rollback()
    log.warning("database unavailable for %s %s: %s", request.method, request.path, error)
    page, code = _page(503, *UNAVAILABLE_MESSAGE, saved_note=True)
    return page, code, {"Retry-After": str(RETRY_AFTER_SECONDS)}


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(_error):
        return _page(400, *CSRF_MESSAGE)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400 or error.response is not None:
            return error
        if error.code == 400 and error.description == "nul":
            return _page(400, *NUL_MESSAGE)
        title, detail = MESSAGES.get(error.code, (error.name, ""))
        return _page(error.code, title, detail)

    for kind in UNAVAILABLE_ERRORS:
        app.register_error_handler(kind, database_unavailable)

    @app.errorhandler(InternalServerError)
    def server_error(_error):
        # Flask has logged the exception; in tests and the debugger it propagates instead.
        _rollback()
        return _page(500, *MESSAGES[500], saved_note=True)
