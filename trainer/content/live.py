"""Live lessons as the lesson player reads them, and the names of the skills and job roles,
kept in memory until the library changes.

Every step of a lesson (its scenario, each question and role-play, the key points, its
conversation) needs the lesson with its quiz items, role-plays and conversation, and those only
change when the library does; so do the names of the skills and job roles that many pages
print (`trainer.content.names`). Each process keeps the lessons it has shown and the names,
detached from any database session and never written to, and forgets them all when the
library's version moves on. Any flush that writes a lesson, quiz, item, role-play,
conversation, path, skill or job role moves the version in the same transaction (so `content
sync`, whichever process runs it, always does); the process that wrote forgets at once, the
others notice within LIBRARY_CHECK_SECONDS.
"""

from __future__ import annotations

import threading
import time
import weakref

from flask import Flask, current_app
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session, joinedload

from trainer.content.names import Names, load_names
from trainer.models import (
    Conversation,
    JobRole,
    Lesson,
    LibraryState,
    Path,
    PathStep,
    Quiz,
    QuizItem,
    RolePlay,
    Skill,
)
from trainer.models.base import insert_skipping_duplicates

CONTENT = (Lesson, Quiz, QuizItem, RolePlay, Conversation, Path, PathStep, Skill, JobRole)
_CHANGED = "library_changed"
_caches: weakref.WeakSet[LiveLessons] = weakref.WeakSet()
_UNKNOWN = object()  # no version read yet (a library never synced has none: None)


class LiveLessons:
    """One app's lessons by key (None: no live lesson by that key), the library's names and
    each quiz item's skill, as of the library's version."""

    def __init__(self, check_seconds: float) -> None:
        self.check_seconds = check_seconds
        self._lock = threading.Lock()
        self._kept: dict = {}  # ("lesson", key) | "names" | "item skills" -> what was read
        self._version: object = _UNKNOWN
        self._checked = 0.0
        _caches.add(self)

    def forget(self) -> None:
        with self._lock:
            self._kept = {}
            self._version = _UNKNOWN

    def get(self, session: Session, key: str) -> Lesson | None:
        return self._keep(session, ("lesson", key), lambda: _load(session, key))

    def names(self, session: Session) -> Names:
        """The skills' and job roles' names, read in one statement once per version."""
        return self._keep(session, "names", lambda: load_names(session))

    def item_skills(self, session: Session) -> dict[int, str]:
        """Quiz item id -> its skill (`trainer.review.planning.item_skills`), once per version:
        the learner's home names the skill of each of their cards."""
        from trainer.review.planning import item_skills

        return self._keep(session, "item skills", lambda: item_skills(session))

    def version(self, session: Session) -> object:
        """The library's version as this process last checked it (at most LIBRARY_CHECK_SECONDS
        ago; at once after this process's own change)."""
        self._check(session)
        return self._version

    def _keep(self, session: Session, what, read):
        self._check(session)
        kept = self._kept
        if what in kept:
            return kept[what]
        found = read()
        with self._lock:
            if self._kept is kept:  # not forgotten meanwhile
                kept[what] = found
        return found

    def _check(self, session: Session) -> None:
        now = time.monotonic()
        if self._version is not _UNKNOWN and now - self._checked < self.check_seconds:
            return
        version = session.scalar(select(LibraryState.version).where(LibraryState.id == 1))
        with self._lock:
            if version != self._version:
                self._kept = {}
                self._version = version
            self._checked = now


def _load(session: Session, key: str) -> Lesson | None:
    """The lesson with everything the player shows, read on the request's connection but into
    a session of its own, and detached: no request's session ever holds these objects."""
    with Session(bind=session.connection()) as own:
        lesson = (
            own.execute(
                select(Lesson)
                .where(Lesson.key == key, Lesson.retired.is_(False))
                .options(
                    joinedload(Lesson.quiz).joinedload(Quiz.items),
                    joinedload(Lesson.roleplays),
                    joinedload(Lesson.conversation),
                )
            )
            .unique()
            .scalar_one_or_none()
        )
        own.expunge_all()
    return lesson


def live_lesson(session: Session, key: str) -> Lesson | None:
    """The live lesson `key` with its items, role-plays and conversation (read-only)."""
    return current_app.extensions["trainer.live_lessons"].get(session, key)


def library_version(session: Session) -> object:
    """The library's version, as this process keeps it."""
    return current_app.extensions["trainer.live_lessons"].version(session)


def item_skills(session: Session) -> dict[int, str]:
    """Each quiz item's skill, as this process keeps it (read-only)."""
    return current_app.extensions["trainer.live_lessons"].item_skills(session)


def _note_changes(session: Session, _context) -> None:
    """After a flush: if it wrote any of the library, move the version on, in the same
    transaction, so every process sees the change together with the version."""
    if session.info.get(_CHANGED):
        return
    touched = (*session.new, *session.dirty, *session.deleted)
    if not any(isinstance(obj, CONTENT) for obj in touched):
        return
    session.info[_CHANGED] = True
    conn = session.connection()
    moved = conn.execute(
        update(LibraryState).where(LibraryState.id == 1).values(version=LibraryState.version + 1)
    )
    if not moved.rowcount:
        conn.execute(
            insert_skipping_duplicates(session, LibraryState.__table__), {"id": 1, "version": 1}
        )


def _after_commit(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        for cache in list(_caches):
            cache.forget()


def _after_rollback(session: Session) -> None:
    session.info.pop(_CHANGED, None)


def init_app(app: Flask) -> None:
    app.extensions["trainer.live_lessons"] = LiveLessons(app.config["LIBRARY_CHECK_SECONDS"])
    for name, listener in (
        ("after_flush", _note_changes),
        ("after_commit", _after_commit),
        ("after_rollback", _after_rollback),
    ):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
