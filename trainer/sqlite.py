"""SQLite settings for a database that several threads and the scheduler share."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine


def _on_connect(dbapi_connection, _record) -> None:
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    cursor = dbapi_connection.cursor()
    # WAL lets readers go on while one writer commits, and with synchronous=NORMAL a commit
    # no longer waits for the disk twice; a power cut can lose the last commits, never corrupt.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def install() -> None:
    """Apply the settings to every SQLite connection; idempotent."""
    if not event.contains(Engine, "connect", _on_connect):
        event.listen(Engine, "connect", _on_connect)
