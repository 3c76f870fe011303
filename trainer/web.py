"""What every page shares: request guards, security headers, template helpers."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC
from functools import cached_property

from flask import Flask, abort, current_app, g, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from werkzeug.routing import IntegerConverter, UnicodeConverter

from trainer.content import names
from trainer.content.render import render

# No inline script or style anywhere, so the policy can be strict.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


# The largest id a database column holds: anything bigger in a URL or form is "not found",
# never an overflow deep in the driver.
MAX_ID = 2**63 - 1
MAX_PAGE = 100_000
# ASCII digits only: str.isdigit() and \d also accept "²" or "٣", which int() may refuse.
_DIGITS = re.compile(r"[0-9]{1,19}")

# Endpoints that take a bigger body than MAX_CONTENT_LENGTH: the CSV import of people.
LARGE_BODY_ENDPOINTS = frozenset({"admin.import_people", "admin.confirm_import"})


class IdConverter(IntegerConverter):
    """`<int:...>` in routes: ASCII digits, bounded to what a database integer can hold."""

    regex = r"[0-9]+"

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


class SegmentConverter(UnicodeConverter):
    """`<key>` in routes, as Werkzeug's default, but a value made only of characters a URL
    never escapes (a lesson's key: "teller-greeting") goes out as it is, without `quote`: a
    learner's home links a dozen lessons."""

    _PLAIN = re.compile(r"[A-Za-z0-9._~-]+\Z")

    def to_url(self, value) -> str:
        if isinstance(value, str) and self._PLAIN.match(value):
            return value
        return super().to_url(value)


def parse_id(value) -> int | None:
    """An id from a query string or form: digits within range, else None."""
    text = str(value or "").strip()
    if not _DIGITS.fullmatch(text) or int(text) > MAX_ID:
        return None
    return int(text)


def page_number(value) -> int:
    """A page number from a query string: 1 when missing or bad, never absurdly large."""
    number = parse_id(value)
    return min(max(1, number or 1), MAX_PAGE)


def seconds_since(shown) -> float | None:
    """Seconds since a form was shown, from the milliseconds it carried back (`shown`)."""
    try:
        return time.time() - float(shown) / 1000
    except (TypeError, ValueError):
        return None


def shown_now() -> str:
    """The value of a form's `shown` field: now, in milliseconds."""
    return str(int(time.time() * 1000))


def allow_large_body() -> None:
    """The CSV import may send up to IMPORT_MAX_CONTENT_LENGTH (its preview comes back as a
    form field, so that field may be as big). Runs before anything reads the body."""
    if request.endpoint in LARGE_BODY_ENDPOINTS:
        limit = current_app.config["IMPORT_MAX_CONTENT_LENGTH"]
        request.max_content_length = limit
        request.max_form_memory_size = limit


def _has_nul(values) -> bool:
    return any("\x00" in key or any("\x00" in v for v in vals) for key, vals in values.lists())


def refuse_nul_bytes() -> None:
    """A NUL byte cannot be stored by PostgreSQL and has no business in any field: refuse the
    request (400) before it reaches a form or a query."""
    if "\x00" in request.path or _has_nul(request.args):
        abort(400, "nul")
    if request.method in ("POST", "PUT", "PATCH") and (
        _has_nul(request.form) or any("\x00" in (f.filename or "") for f in request.files.values())
    ):
        abort(400, "nul")


_ID_MARK = 918273645  # a number no route of ours holds otherwise


def id_url(endpoint: str, name: str) -> Callable[[int], str]:
    """`url_for(endpoint, name=id)` for many ids, built once and filled in for each: a team
    page links every person two or three times, and each `url_for` walks the URL map."""
    url = url_for(endpoint, **{name: _ID_MARK})
    head, found, tail = url.rpartition(str(_ID_MARK))
    if not found:
        return lambda value: url_for(endpoint, **{name: value})
    return lambda value: f"{head}{int(value)}{tail}"


class ButtonFields:
    """A form that is only a button (sign out, remind, approve), as its template draws it: the
    CSRF field. The token is the request's own; WTForms would build a form and render a field
    for each of the 50 buttons of a team page. The view still checks the post with a form."""

    @cached_property
    def csrf_token(self) -> Markup:
        return Markup('<input name="csrf_token" type="hidden" value="{}">').format(generate_csrf())


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed session cookie, with its signing serializer built once per secret key
    (and fallbacks) instead of on every request."""

    def get_signing_serializer(self, app: Flask):
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        kept = getattr(self, "_kept", None)
        if kept is None or kept[0] != keys:
            kept = self._kept = (keys, super().get_signing_serializer(app))
        return kept[1]


def init_request_guards(app: Flask) -> None:
    """Registered before the extensions' own hooks (CSRF reads the form), so they run first."""
    app.before_request(allow_large_body)
    app.before_request(refuse_nul_bytes)


def init_app(app: Flask) -> None:
    app.session_interface = SessionCookies()
    app.jinja_env.globals["id_url"] = id_url
    security = [
        ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("X-Frame-Options", "DENY"),
    ]
    hsts = app.config.get("HSTS_SECONDS") or 0
    if hsts:
        security.append(("Strict-Transport-Security", f"max-age={int(hsts)}"))

    @app.after_request
    def security_headers(response):
        # Each unless the view set its own (read once: every response goes through here).
        present = {name.lower() for name, _value in response.headers}
        for name, value in security:
            if name.lower() not in present:
                response.headers.add(name, value)
        # A page about a signed-in person must not stay in a shared browser's cache. Only a
        # person already loaded for this request counts: an error page must not load one.
        user = g.get("_login_user")
        if user is not None and user.is_authenticated and request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.template_filter("content")
    def content_filter(text: str, text_format: str = "markdown"):
        return render(text or "", text_format)

    @app.template_filter("content_inline")
    def content_inline_filter(text: str, text_format: str = "markdown"):
        return render(text or "", text_format, inline=True)

    # Skills and job roles by name, in the language of the page (trainer.content.names).
    app.add_template_filter(names.skill_name, "skill_name")
    app.add_template_filter(names.role_name, "role_name")
    app.add_template_filter(names.role_names, "role_names")

    @app.template_filter("local_time")
    def local_time_filter(moment, timezone: str = "UTC") -> str:
        """A stored (naive UTC) time in a person's own zone and language: "29 Nov 2026, 14:05"
        ("29 lis 2026, 14:05" in Polish)."""
        from babel.dates import format_datetime
        from flask_babel import get_locale

        from trainer.review.planning import zone_of

        if moment is None:
            return ""
        local = moment.replace(tzinfo=UTC).astimezone(zone_of(timezone))
        return format_datetime(local, "d MMM y, HH:mm", locale=get_locale() or "en")

    @app.template_filter("long_day")
    def long_day_filter(day) -> str:
        """A day in words, in the reader's language: "Tuesday 1 December" ("martes, 1 de
        diciembre" in Spanish, "wtorek, 1 grudnia" in Polish)."""
        from babel.dates import format_date, format_skeleton
        from flask_babel import get_locale

        locale = get_locale()
        if locale is None or locale.language == "en":
            return format_date(day, "EEEE d MMMM", locale=locale or "en")
        return format_skeleton("MMMMEEEEd", day, locale=locale)

    @app.context_processor
    def forms():
        return {"logout_form": ButtonFields()}
