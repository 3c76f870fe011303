"""How the app talks to its database: engine options, timeouts, and faults that say so.

- PostgreSQL gets a connect timeout and a statement timeout, so a frozen server gives quick 503s
  instead of hanging every web worker. Jobs and long commands raise the statement timeout for
  their own transactions (`long_statements`).
- SQLite runs in WAL mode with a busy timeout, and a connection that opened the file read-only
  (the file was not writable at that moment) is dropped from the pool when a write fails, so the
  app recovers by itself once the permission is back.
- A request whose transaction only read ends it with COMMIT, not ROLLBACK (`end_reads`): the
  two are the same to the database, but psycopg forgets its prepared statements on every
  ROLLBACK, so without this no page's statements would ever be prepared, and PostgreSQL would
  parse and plan each of them again on every request.
- `UNAVAILABLE_ERRORS` tell a database that cannot be reached from a bug in a query.
"""

from __future__ import annotations

import contextvars
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

import orjson
from flask import g, has_request_context
from sqlalchemy import event, exc
from sqlalchemy.engine import Engine, make_url

# Seconds a job's statement may run (None: the web limit applies), for this thread or task.
_long_statements: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "long_statements", default=None
)


def engine_options(config: dict) -> dict:
    """SQLALCHEMY_ENGINE_OPTIONS completed with the timeouts for the configured database.

    Options a deployment (or a test) set itself win over these defaults.
    """
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    url = make_url(config["SQLALCHEMY_DATABASE_URI"])
    # PostgreSQL connections are checked when they have been idle (`ping_when_idle`); the
    # others, and a deployment that asks for it, by SQLAlchemy before every use.
    options.setdefault("pool_pre_ping", not _pings_when_idle(config))
    # Lessons, quiz items and their translations are JSON columns read on every lesson page:
    # orjson reads them several times faster than the standard library, to the same values.
    options.setdefault("json_deserializer", orjson.loads)
    if url.get_backend_name() == "postgresql":
        options.setdefault("pool_timeout", config["DATABASE_POOL_TIMEOUT"])
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("connect_timeout", config["DATABASE_CONNECT_TIMEOUT"])
        if not config.get("DATABASE_PREPARED_STATEMENTS", True):
            connect_args.setdefault("prepare_threshold", None)
        timeout_ms = int(config["DATABASE_STATEMENT_TIMEOUT"] * 1000)
        # libpq reads PGOPTIONS only when no `options` are given: keep them, after ours, so
        # that a deployment's own settings (its own statement_timeout too) still win.
        parts = [f"-c statement_timeout={timeout_ms}", os.environ.get("PGOPTIONS")]
        connect_args["options"] = " ".join(filter(None, [*parts, connect_args.get("options")]))
        options["connect_args"] = connect_args
    return options


NO_ANSWER = "the database did not answer on this connection"


def _pings_when_idle(config: dict) -> bool:
    url = make_url(config["SQLALCHEMY_DATABASE_URI"])
    options = config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}
    return (
        url.get_backend_name() == "postgresql"
        and not options.get("pool_pre_ping")
        and float(config.get("DATABASE_PING_IDLE_SECONDS") or 0) > 0
    )


def ping_when_idle(engine: Engine, config: dict) -> None:
    """Before a pooled PostgreSQL connection is used, if it has been idle for
    DATABASE_PING_IDLE_SECONDS or more, check that the server still answers on it; if not, the
    pool drops it and opens another. One handed back more recently is used as it is: checking
    it on every request (SQLAlchemy's `pool_pre_ping`) costs a round trip each. So if the
    server restarts, a worker whose connection was in use within that second gives one 503
    page for it, and the pool then replaces every connection older than that failure."""
    if not _pings_when_idle(config):
        return
    seconds = float(config["DATABASE_PING_IDLE_SECONDS"])

    def on_checkout(dbapi_connection, record, _proxy) -> None:
        returned = record.info.get("returned_at")
        if returned is not None and time.monotonic() - returned < seconds:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError(NO_ANSWER) from error
        if not alive:
            raise exc.DisconnectionError(NO_ANSWER)

    def on_returned(_dbapi_connection, record) -> None:
        if record is not None:
            record.info["returned_at"] = time.monotonic()

    event.listen(engine, "checkout", on_checkout)
    event.listen(engine, "checkin", on_returned)
    event.listen(engine, "connect", on_returned)  # a new connection needs no check


@contextmanager
def long_statements(seconds: float | None) -> Iterator[None]:
    """Within this block, each PostgreSQL transaction this thread opens may run statements
    for `seconds` (0: no limit) instead of the web requests' limit (None: back to that limit,
    for many short transactions that a SET each would slow down)."""
    token = _long_statements.set(None if seconds is None else int(seconds * 1000))
    try:
        yield
    finally:
        _long_statements.reset(token)


def _on_begin(connection) -> None:
    connection.info["reads_only"] = True
    timeout_ms = _long_statements.get()
    if timeout_ms is not None and connection.dialect.name == "postgresql":
        # SET LOCAL ends with the transaction: the pooled connection goes back unchanged.
        connection.exec_driver_sql(f"SET LOCAL statement_timeout = {int(timeout_ms)}")


# An execution option for a write no page shows (a session's "last seen" time): it neither
# counts as the request writing nor moves anyone's page version (trainer/page_cache.py).
UNSEEN_WRITE = "unseen_write"


def _on_execute(connection, _cursor, statement: str, _params, context, _many) -> None:
    """Note a transaction that sent anything but a SELECT (conservatively: by its first word)."""
    if statement[:6].upper() != "SELECT" and connection.info.get("reads_only"):
        if context is not None and context.execution_options.get(UNSEEN_WRITE):
            return
        connection.info["reads_only"] = False


def transaction_wrote(session) -> bool:
    """The session's transaction (begun) has sent a write, an unseen one aside; a connection
    lost meanwhile counts as written to, so nothing is taken for granted about it."""
    if session.get_transaction() is None:
        return False
    connection = session.connection()
    return connection.invalidated or not connection.info.get("reads_only", True)


def _on_commit(connection) -> None:
    """Note, for this request, that it committed a write (`request_wrote`)."""
    if not connection.info.get("reads_only", True) and has_request_context():
        g.committed_writes = True


def request_wrote() -> bool:
    """This request committed a write (anything but SELECTs) to the database."""
    return bool(g.get("committed_writes"))


def end_reads(error: BaseException | None = None) -> None:
    """At the end of a request (`teardown_request`), COMMIT the session's transaction if it
    succeeded and sent only SELECTs; anything else is left to the usual ROLLBACK.

    psycopg prepares a statement on a connection once it has run five times, and forgets
    every prepared statement on ROLLBACK: committing the reads keeps them, so PostgreSQL no
    longer parses and plans the same few statements on every request."""
    from trainer.extensions import db

    if error is not None or not db.session.registry.has():
        return
    session = db.session()
    transaction = session.get_transaction()
    if transaction is None or not transaction.is_active:
        return
    try:
        if session.new or session.dirty or session.deleted or transaction_wrote(session):
            return
        session.commit()
    except exc.SQLAlchemyError:
        session.rollback()


def _on_connect(dbapi_connection, _record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    # WAL lets readers go on while one writer commits, and with synchronous=NORMAL a commit
    # no longer waits for the disk twice; a power cut can lose the last commits, never corrupt.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _on_error(context) -> None:
    """SQLite opens a file it may not write read-only, and the connection stays read-only after
    the permission comes back: treat the failed write as a lost connection so the pool drops it.
    A transaction in which a statement failed is never committed by `end_reads`."""
    if context.connection is not None and not context.connection.invalidated:
        context.connection.info["reads_only"] = False
    original = context.original_exception
    if isinstance(original, sqlite3.OperationalError) and "readonly" in str(original):
        context.is_disconnect = True


def install() -> None:
    """Apply the settings to every engine; idempotent."""
    for name, listener in (
        ("connect", _on_connect),
        ("begin", _on_begin),
        ("before_cursor_execute", _on_execute),
        ("commit", _on_commit),
    ):
        if not event.contains(Engine, name, listener):
            event.listen(Engine, name, listener)
    if not event.contains(Engine, "handle_error", _on_error):
        event.listen(Engine, "handle_error", _on_error)


# Errors meaning the database cannot be reached or answer in time (down, frozen, restarting,
# pool exhausted, file locked or not writable), as opposed to a fault in a query.
UNAVAILABLE_ERRORS = (
    exc.OperationalError,
    exc.InterfaceError,
    exc.TimeoutError,
    exc.DisconnectionError,
)
