"""Pages kept for a moment: the pages people reload most (a learner's Today, a question they
have answered, a manager's team page) are kept by each process as it drew them, for the same
person, address, language, day and device, and served again while nothing says they changed.

A kept page is served again only while all of this holds:
- it is younger than PAGE_CACHE_SECONDS (60 by default; 0 keeps no page);
- the person has written nothing since: every transaction of a request that writes (an
  answer, a finished lesson, a reminder sent, a setting saved) moves the signed-in person's
  `page_version` on, in that same transaction, and the version of anyone whose own row it
  changes (an admin's edit of their role or team). That number is read with the session check
  every request makes, so every process sees it at once and no statement is added;
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

from flask import Flask, Response, current_app, g, has_request_context, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import event, update
from sqlalchemy.orm import Session

from trainer.content.live import library_version
from trainer.database import request_wrote, transaction_wrote
from trainer.extensions import db
from trainer.languages import LANGUAGES, select_language
from trainer.models import User, utcnow
from trainer.review.planning import local_date

EXTENSION = "trainer.page_cache"
# Stands for the CSRF token in a kept page; a NUL never reaches a page (trainer.web refuses it).
_TOKEN = f"\x00token-{secrets.token_hex(8)}\x00".encode()


class PageCache:
    """Pages (UTF-8) by key, each with the moment it was drawn; at most `max_bytes` of them,
    the least recently served going first."""

    def __init__(self, seconds: float, max_bytes: int) -> None:
        self.seconds = seconds
        self.max_bytes = max_bytes
        self._pages: OrderedDict[tuple, tuple[float, bytes]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: tuple) -> bytes | None:
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

    def put(self, key: tuple, body: bytes) -> None:
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
                body = body.replace(_TOKEN, generate_csrf().encode())
            return Response(body, mimetype="text/html")
        response = current_app.make_response(view(*args, **kwargs))
        if (
            response.status_code == 200
            and response.mimetype == "text/html"
            and not response.is_streamed
            and not g.get("page_not_kept")
            and not request_wrote()
        ):
            body = response.get_data()
            token = g.get(_token_field_name())
            cache.put(key, body.replace(token.encode(), _TOKEN) if token else body)
        return response

    return wrapper


def move_versions(session: Session) -> None:
    """Before a request's transaction commits, if it wrote: move on the page version of the
    signed-in person and of anyone whose own row it changes, in the same transaction, so the
    pages kept for them are out of date exactly when the change is there to see."""
    if not has_request_context() or EXTENSION not in current_app.extensions:
        return
    if not db.session.registry.has() or session is not db.session():
        return  # a session of a command, a job or the lesson cache: no person's request
    changed = {
        person.id
        for person in (*session.dirty, *session.deleted)
        if isinstance(person, User) and person.id is not None
    }
    user = g.get("_login_user")
    signed_in = user is not None and user.is_authenticated
    if signed_in and (
        session.new or session.dirty or session.deleted or transaction_wrote(session)
    ):
        changed.add(user.id)
    if changed:
        session.execute(
            update(User)
            .where(User.id.in_(sorted(changed)))
            .values(page_version=User.page_version + 1)
            .execution_options(synchronize_session=False)
        )


def init_app(app: Flask) -> None:
    seconds = float(app.config.get("PAGE_CACHE_SECONDS") or 0)
    if seconds > 0:
        megabytes = float(app.config.get("PAGE_CACHE_MB") or 16)
        app.extensions[EXTENSION] = PageCache(seconds, int(megabytes * 1024 * 1024))
        if not event.contains(Session, "before_commit", move_versions):
            event.listen(Session, "before_commit", move_versions)
