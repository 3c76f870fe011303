"""Pages kept for a moment: the pages people reload most (a learner's Today, a question they
have answered, a manager's team page) are kept by each process as it drew them, for the same
person, address, language, day and device, and served again while nothing says they changed.

A kept page is served again only while all of this holds:
- it is younger than PAGE_CACHE_SECONDS (60 by default; 0 keeps no page);
- the person has written nothing since: every request that commits a write (an answer, a
  finished lesson, a reminder sent, a setting saved, a sign-in) moves their `page_version` on,
  before its response leaves. That number is read with the session check every request makes,
  so every process sees it at once and no statement is added;
- the library's version is the same (`trainer.content.live`);
- it is the same day in the person's own time zone, and the same language;
- no message (a flash) waits to be shown, and the page holds no one-time form (`dont_keep`).

So people always see their own changes at once. What others did (a lesson a manager assigned,
a colleague's answers on the team page, a note from a coach) shows within PAGE_CACHE_SECONDS.
The CSRF token is never kept: each response carries the request's own.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps

from flask import Flask, Response, current_app, g, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError

from trainer.database import request_wrote
from trainer.extensions import db
from trainer.languages import LANGUAGES, select_language
from trainer.models import User, utcnow

EXTENSION = "trainer.page_cache"
# Stands for the CSRF token in a kept page; a NUL never reaches a page (trainer.web refuses it).
_TOKEN = f"\x00token-{secrets.token_hex(8)}\x00"


class PageCache:
    """Pages by key, each with the moment it was drawn; at most `max_bytes` of them, the least
    recently served going first."""

    def __init__(self, seconds: float, max_bytes: int) -> None:
        self.seconds = seconds
        self.max_bytes = max_bytes
        self._pages: OrderedDict[tuple, tuple[float, str]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: tuple) -> str | None:
        with self._lock:
            found = self._pages.get(key)
            if found is None:
                return None
            drawn, body = found
            if time.monotonic() - drawn >= self.seconds:
                self._drop(key)
                return None
            self._pages.move_to_end(key)
            return body

    def put(self, key: tuple, body: str) -> None:
        size = len(body)
        if size > self.max_bytes:
            return
        with self._lock:
            if key in self._pages:
                self._drop(key)
            self._pages[key] = (time.monotonic(), body)
            self._size += size
            while self._size > self.max_bytes:
                self._drop(next(iter(self._pages)))

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._size = 0

    def __len__(self) -> int:
        return len(self._pages)

    def _drop(self, key: tuple) -> None:
        _drawn, body = self._pages.pop(key)
        self._size -= len(body)


def dont_keep() -> None:
    """This response is not to be kept: it holds a one-time form (a question's answer token
    and the moment it was shown)."""
    g.page_not_kept = True


def _key() -> tuple | None:
    """What a kept page must match, or None when this request may not use one."""
    if request.method != "GET" or "_flashes" in session or not current_user.is_authenticated:
        return None
    from trainer.content.live import library_version
    from trainer.review.planning import local_date

    user = current_user._get_current_object()
    # The language the page is drawn in (`select_language`), without building its Locale.
    language = user.language if user.language in LANGUAGES else select_language()
    return (
        request.full_path,
        user.id,
        user.page_version,
        user.session_device_id,
        language,
        local_date(user.timezone, utcnow()),
        library_version(db.session),
    )


def _token_field_name() -> str:
    return current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")


def kept(view: Callable) -> Callable:
    """Serve the view's page from this process's PageCache while it may be (module doc)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        cache: PageCache | None = current_app.extensions.get(EXTENSION)
        key = _key() if cache is not None else None
        if key is None:
            return view(*args, **kwargs)
        body = cache.get(key)
        if body is not None:
            if _TOKEN in body:
                body = body.replace(_TOKEN, generate_csrf())
            return Response(body, mimetype="text/html")
        response = current_app.make_response(view(*args, **kwargs))
        if (
            response.status_code == 200
            and response.mimetype == "text/html"
            and not response.is_streamed
            and not g.get("page_not_kept")
            and not request_wrote()
        ):
            body = response.get_data(as_text=True)
            token = g.get(_token_field_name())
            cache.put(key, body.replace(token, _TOKEN) if token else body)
        return response

    return wrapper


def move_version(response):
    """After a request that committed a write: the signed-in person's pages are out of date,
    in every process (their `page_version` moves on before the response leaves)."""
    if not request_wrote():
        return response
    user = g.get("_login_user")
    if user is None or not user.is_authenticated:
        return response
    try:
        db.session.execute(
            update(User)
            .where(User.id == user.id)
            .values(page_version=User.page_version + 1)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    except SQLAlchemyError:
        # What the request wrote stands; kept pages may show the person the state before it
        # for up to PAGE_CACHE_SECONDS.
        db.session.rollback()
        current_app.logger.warning("could not move the page version of person %s", user.id)
    return response


def init_app(app: Flask) -> None:
    seconds = float(app.config.get("PAGE_CACHE_SECONDS") or 0)
    if seconds > 0:
        megabytes = float(app.config.get("PAGE_CACHE_MB") or 16)
        app.extensions[EXTENSION] = PageCache(seconds, int(megabytes * 1024 * 1024))
    app.after_request(move_version)
