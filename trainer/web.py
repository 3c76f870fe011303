"""What every page shares: who is signed in, security headers, errors, template helpers."""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.routing import IntegerConverter

from trainer.content.render import render
from trainer.extensions import db, login_manager

# No inline script or style anywhere, so the policy can be strict.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


# The largest id a database column holds: anything bigger in a URL or form is "not found",
# never an overflow deep in the driver.
MAX_ID = 2**63 - 1
MAX_PAGE = 100_000


class IdConverter(IntegerConverter):
    """`<int:...>` in routes, bounded to what a database integer can hold."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def parse_id(value) -> int | None:
    """An id from a query string or form: digits within range, else None."""
    text = str(value or "").strip()
    if not text.isdigit() or len(text) > 19 or int(text) > MAX_ID:
        return None
    return int(text)


def page_number(value) -> int:
    """A page number from a query string: 1 when missing or bad, never absurdly large."""
    number = parse_id(value)
    return min(max(1, number or 1), MAX_PAGE)


def init_app(app: Flask) -> None:
    from trainer.models import User

    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(session_id: str) -> User | None:
        user_id, _sep, key = session_id.partition(":")
        user = db.session.get(User, parse_id(user_id)) if parse_id(user_id) else None
        if user is None or not user.active or key != user.session_key:
            return None  # unknown, switched off, or signed in before a password change
        return user

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    @app.template_filter("content")
    def content_filter(text: str, text_format: str = "markdown"):
        return render(text or "", text_format)

    @app.template_filter("content_inline")
    def content_inline_filter(text: str, text_format: str = "markdown"):
        return render(text or "", text_format, inline=True)

    @app.context_processor
    def forms():
        from trainer.auth.forms import LogoutForm

        return {"logout_form": LogoutForm()}

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        message = "This form expired or was sent twice. Go back, reload the page and try again."
        return render_template("error.html", code=400, message=message), 400

    for code, message in (
        (403, "You do not have access to this page."),
        (404, "There is nothing at this address."),
        (500, "Something went wrong on our side. Your answers so far are saved."),
    ):

        def handler(error, code=code, message=message):
            return render_template("error.html", code=code, message=message), code

        app.register_error_handler(code, handler)
