"""The languages people read the platform in, and which one each request and message uses.

English is the source; catalogs for the others live in `trainer/translations/` (`make messages`
updates them from the code, `make install` compiles them). A person's own choice wins; someone
not signed in gets the best match for what their browser asks for, else `DEFAULT_LANGUAGE`.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache

from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import Babel, force_locale, get_locale, get_translations
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup
from sqlalchemy import inspect
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

# Code -> the language's own name, as a person looking for it would recognise it.
LANGUAGES = {"en": "English", "es": "Español", "pl": "Polski"}
SOURCE_LANGUAGE = "en"
SESSION_KEY = "language"

babel = Babel()


def _own_choice() -> str | None:
    """The signed-in person's language, read only from what is already loaded (or, before they
    are, from the session cookie): the error page of a database outage must not reach for the
    database to pick its words."""
    if not has_request_context():
        return None  # a command or a job: `speaking` chooses
    user = g.get("_login_user")
    if user is not None and getattr(user, "is_authenticated", False):
        state = inspect(user, raiseerr=False)
        language = state.dict.get("language") if state is not None else None
    else:
        language = session.get(SESSION_KEY) if "_user_id" in session else None
    return language if language in LANGUAGES else None


def remember_language(language: str | None) -> None:
    """Keep the signed-in person's language in their session cookie, for pages that answer
    before (or without) loading them; None forgets it (signing out)."""
    if language in LANGUAGES:
        session[SESSION_KEY] = language
    else:
        session.pop(SESSION_KEY, None)


def browser_language() -> str | None:
    """The best of our languages for what the browser asks for (Accept-Language), if any."""
    if not has_request_context():
        return None
    return _best_match(request.headers.get("Accept-Language", ""))


@lru_cache(maxsize=256)
def _best_match(header: str) -> str | None:
    """Browsers send a few headers over and over: each is read once per process."""
    return parse_accept_header(header, LanguageAccept).best_match(list(LANGUAGES))


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
    """The language this page or mail is written in ("en" outside any request)."""
    try:
        locale = g._flask_babel.babel_locale  # chosen already: most calls on a page
    except (AttributeError, RuntimeError):
        locale = None
    if locale is None:
        locale = get_locale()
    return str(locale.language) if locale else SOURCE_LANGUAGE


def init_app(app: Flask) -> None:
    app.jinja_env.globals["languages"] = LANGUAGES
    default = app.config.setdefault("DEFAULT_LANGUAGE", SOURCE_LANGUAGE)
    if default not in LANGUAGES:
        known = ", ".join(LANGUAGES)
        raise RuntimeError(f"DEFAULT_LANGUAGE={default!r} is not one of {known}")
    babel.init_app(app, default_locale=default, locale_selector=select_language)
    # A sentence in {% trans %} may wrap over lines in the template but is one line to translate.
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.globals["current_language"] = current_language
    app.context_processor(page_gettext)


def catalog():
    """The request's translations (Flask-Babel's), kept beside the locale they were looked up
    for: Flask-Babel's own `gettext` looks the catalog up again through several context
    proxies on every call, which a page of a few hundred strings feels. A `force_locale`
    block (a mail in its reader's language) sets another locale, so it gets its own catalog."""
    try:
        ctx = g._flask_babel
        locale = ctx.babel_locale
    except (AttributeError, RuntimeError):  # locale not chosen yet, or outside any app
        return get_translations()
    kept = getattr(ctx, "kept_catalog", None)
    if kept is None or kept[0] is not locale:
        kept = ctx.kept_catalog = (locale, get_translations())
    return kept[1]


def gettext(string: str, **variables) -> str:
    """Flask-Babel's `gettext`, the same text, without its per-call lookups (`catalog`)."""
    text = catalog().ugettext(string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    """Flask-Babel's `ngettext` (`num` is one of the values), without its per-call lookups."""
    variables.setdefault("num", num)
    return catalog().ungettext(singular, plural, num) % variables


def page_gettext() -> dict:
    """`_()`, `gettext` and `{% trans %}` for one page, with the request's catalog looked up
    once: Flask-Babel's own look it up again for each of the page's strings, which costs more
    than the rest of a short page. They behave as Jinja's "newstyle" gettext: the result is
    always %-formatted with the named values, and marked safe where the page escapes."""
    translations = catalog()
    ugettext, ungettext = translations.ugettext, translations.ungettext

    # Given only the evaluation context (autoescape or not): a function given the whole
    # context makes Jinja copy every variable of the page for each call inside a loop.
    @pass_eval_context
    def gettext(eval_ctx: EvalContext, string: str, **values) -> str:
        text = ugettext(string)
        if not values and "%" not in text:
            return Markup(text) if eval_ctx.autoescape else text  # nothing to fill
        if eval_ctx.autoescape:
            text = Markup(text)
        return text % values

    @pass_eval_context
    def ngettext(eval_ctx: EvalContext, singular: str, plural: str, num: int, **values) -> str:
        values.setdefault("num", num)
        text = ungettext(singular, plural, num)
        if eval_ctx.autoescape:
            text = Markup(text)
        return text % values

    return {"gettext": gettext, "ngettext": ngettext, "_": gettext}
