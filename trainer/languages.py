"""The languages people read the platform in, and which one each request and message uses.

English is the source; catalogs for the others live in `trainer/translations/` (`make messages`
updates them from the code, `make install` compiles them). A person's own choice wins; someone
not signed in gets the best match for what their browser asks for, else `DEFAULT_LANGUAGE`.
"""

from __future__ import annotations

from contextlib import contextmanager

from flask import Flask, current_app, g, has_request_context, request
from flask_babel import Babel, force_locale, get_locale
from sqlalchemy import inspect

# Code -> the language's own name, as a person looking for it would recognise it.
LANGUAGES = {"en": "English", "es": "Español", "pl": "Polski"}
SOURCE_LANGUAGE = "en"

babel = Babel()


def _own_choice() -> str | None:
    """The signed-in person's language, read only from what is already loaded: the error page of
    a database outage must not reach for the database to pick its words."""
    user = g.get("_login_user")
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    state = inspect(user, raiseerr=False)
    if state is None:
        return None
    language = state.dict.get("language")
    return language if language in LANGUAGES else None


def browser_language() -> str | None:
    """The best of our languages for what the browser asks for (Accept-Language), if any."""
    if not has_request_context():
        return None
    return request.accept_languages.best_match(list(LANGUAGES))


def select_language() -> str:
    return (
        _own_choice()
        or browser_language()
        or current_app.config.get("DEFAULT_LANGUAGE", SOURCE_LANGUAGE)
    )


def language_for(person) -> str:
    """The language to write to a person in, outside any request (reminders, digests)."""
    language = getattr(person, "language", None)
    if language in LANGUAGES:
        return language
    return current_app.config.get("DEFAULT_LANGUAGE", SOURCE_LANGUAGE)


@contextmanager
def speaking(person_or_language):
    """Write everything inside in a person's language (or the one named)."""
    language = (
        person_or_language
        if isinstance(person_or_language, str)
        else language_for(person_or_language)
    )
    with force_locale(language):
        yield language


def current_language() -> str:
    locale = get_locale()
    return str(locale.language) if locale else SOURCE_LANGUAGE


def init_app(app: Flask) -> None:
    default = app.config.setdefault("DEFAULT_LANGUAGE", SOURCE_LANGUAGE)
    if default not in LANGUAGES:
        known = ", ".join(LANGUAGES)
        raise RuntimeError(f"DEFAULT_LANGUAGE={default!r} is not one of {known}")
    babel.init_app(app, default_locale=default, locale_selector=select_language)
    app.jinja_env.globals["current_language"] = current_language
