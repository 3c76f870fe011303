"""The scheduler: APScheduler with its jobs kept in the app's database, and one per database.

Jobs live in the `apscheduler_jobs` table, so a restarted scheduler carries on where the last
one stopped: a job whose schedule has not changed keeps its stored next run time, and a run
missed by less than `misfire_grace_time` while no scheduler was up runs once (coalesced) on
start. Exactly one scheduler may run against a database: it holds a lock for its lifetime
(a PostgreSQL advisory lock on a connection kept open, or an exclusive `flock` on a file next
to the SQLite database), and a second one that cannot take it does not start.

Holding it once is not enough: a PostgreSQL restart (or a killed backend) ends the session and
its lock while the scheduler carries on, and a second scheduler could then take it. So before
each round of due jobs the scheduler confirms it still holds the lock; if not it takes it again
on a fresh connection, or, when another scheduler has it now, runs nothing and stops.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import pickle
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MISSED,
    EVENT_SCHEDULER_SHUTDOWN,
    EVENT_SCHEDULER_STARTED,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_RUNNING, BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.util import utc_timestamp_to_datetime
from flask import Flask
from sqlalchemy.engine import URL
from sqlalchemy.pool import StaticPool

from trainer.jobs import registry, runner
from trainer.jobs.runner import enable_job_logs, run_job, use_app

log = logging.getLogger(__name__)

JOB_TABLE = "apscheduler_jobs"
JOB_DEFAULTS = {
    "coalesce": True,  # runs missed while down (or while a run overran) happen once
    "max_instances": 1,  # a run still going when the next is due makes that one wait/skip
    "misfire_grace_time": 300,  # seconds late a run may still start
}
# pg_try_advisory_lock key: any constant bigint, the same in every process of this product
# (mixed with the schema for installations outside `public`, see `advisory_key`).
ADVISORY_LOCK_KEY = 0x46_54_52_4E_53_43_48_44  # "FTRNSCHD"
LOCK_FILE_SUFFIX = ".scheduler.lock"
WAIT_SECONDS = 30  # `flask scheduler --wait` tries the lock again this often
LOCK_RETRY_SECONDS = 10  # the lock could not be confirmed (database down): run nothing, ask again


# -- the database ----------------------------------------------------------------------------


def database_url(app: Flask) -> URL:
    """The app's database URL as Flask-SQLAlchemy resolved it (a relative SQLite path is in the
    instance folder). Builds no connection."""
    from trainer.extensions import db

    with app.app_context():
        return db.engine.url


def _in_memory(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def _jobstore_engine_options(app: Flask, url: URL) -> dict:
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    # The job store's connections lie idle for minutes between checks: test each before use.
    options["pool_pre_ping"] = True
    if _in_memory(url):  # one database shared by the scheduler's threads (tests only)
        options.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
        options.pop("pool_pre_ping", None)
    return options


class _JobStore(SQLAlchemyJobStore):
    """The SQLAlchemy job store, answering nothing once shut down.

    After `shutdown()` APScheduler's loop looks for due jobs once more; on the disposed engine
    that would open a fresh connection pool nobody closes (and could start a due job).
    """

    _closed = False

    def start(self, scheduler, alias):
        self._closed = False
        super().start(scheduler, alias)

    def shutdown(self):
        self._closed = True
        super().shutdown()

    def get_due_jobs(self, now):
        return [] if self._closed else super().get_due_jobs(now)

    def get_next_run_time(self):
        return None if self._closed else super().get_next_run_time()


@dataclass(frozen=True)
class StoredJob:
    id: str
    next_run_time: datetime | None  # aware UTC; None when paused
    schedule: str | None  # `trigger_key` of the stored trigger, None if it cannot be read


def trigger_key(trigger: BaseTrigger) -> str:
    """What must match for a stored job to keep its next run time: the kind and the schedule."""
    return f"{type(trigger).__name__}:{trigger}"


def stored_jobs(engine: sa.Engine, tablename: str = JOB_TABLE) -> dict[str, StoredJob]:
    """The jobs a scheduler stored in the database (empty if none ever ran)."""
    if not sa.inspect(engine).has_table(tablename):
        return {}
    table = sa.table(tablename, sa.column("id"), sa.column("next_run_time"), sa.column("job_state"))
    jobs = {}
    with engine.connect() as conn:
        for job_id, next_run, state in conn.execute(sa.select(table)):
            try:
                schedule = trigger_key(pickle.loads(state)["trigger"])
            except Exception:  # written by another version: it will be replaced
                schedule = None
            jobs[job_id] = StoredJob(job_id, utc_timestamp_to_datetime(next_run), schedule)
    return jobs


# -- the scheduler ---------------------------------------------------------------------------


class _RunsWhileLocked:
    """A scheduler that runs jobs only while it holds `lock` (None: no lock, tests only).

    Each round of due jobs starts with `lock.confirm()`, before anything is run or the job
    store is touched (another scheduler may be using it). When another scheduler holds the lock
    now, this one runs nothing, sets `lost_lock` and shuts down (its lock listener still runs).
    """

    lock: SchedulerLock | None = None
    lost_lock = False

    def _process_jobs(self):
        if self.lock is not None and self.state == STATE_RUNNING:
            try:
                held = self.lock.confirm()
            except Exception as error:  # the database is down: nothing could run anyway
                log.warning(
                    "Cannot confirm the scheduler lock (%s: %s); no job runs until it can be, "
                    "trying again in %s s",
                    type(error).__name__,
                    error,
                    LOCK_RETRY_SECONDS,
                )
                return LOCK_RETRY_SECONDS
            if not held:
                self.lost_lock = True
                log.error(
                    "This scheduler (pid %s) lost %s and another scheduler holds it now: "
                    "it runs no more jobs and stops",
                    os.getpid(),
                    self.lock.where,
                )
                # From inside its own loop: nothing to join or wake up; the loop ends on return.
                BaseScheduler.shutdown(self, wait=False)
                return None
        return super()._process_jobs()


class LockedBlockingScheduler(_RunsWhileLocked, BlockingScheduler):
    """`flask scheduler`: the loop runs in the calling thread."""


class LockedBackgroundScheduler(_RunsWhileLocked, BackgroundScheduler):
    """The in-process scheduler of `make run`: the loop runs in a thread of its own."""


def build_scheduler(
    app: Flask, blocking: bool
) -> LockedBlockingScheduler | LockedBackgroundScheduler:
    """A scheduler, not started, holding every job of the registry (ids = job names), with no
    lock yet (`locked_scheduler` gives it one).

    Reads the job table (if any) so a job whose schedule is unchanged keeps its stored next run
    time; writes nothing until started. Take the lock (`scheduler_lock`) before starting it.
    """
    url = database_url(app)
    jobstore = _JobStore(
        url=url,
        engine_options=_jobstore_engine_options(app, url),
        tablename=JOB_TABLE,
    )
    scheduler_class = LockedBlockingScheduler if blocking else LockedBackgroundScheduler
    scheduler = scheduler_class(
        jobstores={"default": jobstore},
        executors={"default": ThreadPoolExecutor(max_workers=max(1, len(registry.JOBS)))},
        job_defaults=dict(JOB_DEFAULTS),
        timezone=UTC,
    )
    scheduler.add_listener(_log_job_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    scheduler.add_listener(lambda event: _drop_unknown_jobs(scheduler), EVENT_SCHEDULER_STARTED)

    stored = stored_jobs(jobstore.engine)
    for spec in registry.JOBS.values():
        keep = {}
        old = stored.get(spec.name)
        if old and old.next_run_time and old.schedule == trigger_key(spec.trigger):
            keep["next_run_time"] = old.next_run_time
        scheduler.add_job(
            run_job,  # by reference: the store keeps "trainer.jobs.runner:run_job"
            trigger=spec.trigger,
            args=[spec.name],
            id=spec.name,
            name=spec.name,
            replace_existing=True,
            **keep,
        )
    return scheduler


def _log_job_event(event) -> None:
    if event.code == EVENT_JOB_ERROR:
        log.error(
            "job %s (run due %s) failed: %r; the scheduler carries on",
            event.job_id,
            event.scheduled_run_time,
            event.exception,
        )
    elif event.code == EVENT_JOB_MISSED:
        log.warning(
            "job %s missed its run due %s (more than %s s late); it runs at its next time",
            event.job_id,
            event.scheduled_run_time,
            JOB_DEFAULTS["misfire_grace_time"],
        )


def _drop_unknown_jobs(scheduler: BaseScheduler) -> None:
    """A job stored under a name no longer in the registry (renamed, removed) would fail every
    run: remove it."""
    for job in scheduler.get_jobs():
        if job.id not in registry.JOBS:
            scheduler.remove_job(job.id)
            log.info("removed stored job %s: no job of that name any more", job.id)


def describe_jobs(scheduler: BaseScheduler) -> list[str]:
    """One line per job: name, schedule, next run time (for the start of `flask scheduler`)."""
    lines = []
    for job in sorted(scheduler.get_jobs(), key=lambda j: j.id):
        spec = registry.JOBS.get(job.id)
        schedule = spec.schedule if spec else str(job.trigger)
        lines.append(f"  {job.id:<16} {schedule:<18} next run {format_time(job.next_run_time)}")
    return lines


def format_time(when: datetime | None) -> str:
    if when is None:
        return "-"
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


# -- one scheduler per database --------------------------------------------------------------


class SchedulerLock:
    """What the two locks share: take, release, check, and `confirm` before each round of jobs.

    Subclasses implement `_acquire`, `_release` and `_check`; the public methods serialise them,
    since the scheduler's loop may confirm while another thread shuts it down."""

    def __init__(self):
        self._mutex = threading.RLock()

    @property
    def where(self) -> str:
        raise NotImplementedError

    def acquire(self) -> bool:
        """Take the lock if it is free (True), or say another process holds it (False)."""
        with self._mutex:
            return self._acquire()

    def release(self) -> None:
        with self._mutex:
            self._release()

    def check(self) -> bool:
        """True if this process holds the lock right now."""
        with self._mutex:
            return self._check()

    def confirm(self) -> bool:
        """True if this process holds the lock now: it still did, or it had lost it and took it
        again (logged). False when another process holds it now. Raises when that cannot be
        known (the database cannot be reached); the lock is then not held."""
        with self._mutex:
            if self._check():
                return True
            self._release()  # whatever is left of the lost one
            if not self._acquire():
                return False
            log.warning(
                "The scheduler (pid %s) had lost %s and has taken it again", os.getpid(), self.where
            )
            return True

    def _acquire(self) -> bool:
        raise NotImplementedError

    def _release(self) -> None:
        raise NotImplementedError

    def _check(self) -> bool:
        raise NotImplementedError


class FileLock(SchedulerLock):
    """An exclusive, non-blocking `flock` on a file, held until released or the process ends."""

    def __init__(self, path: Path):
        super().__init__()
        self.path = path
        self._fd: int | None = None

    @property
    def where(self) -> str:
        return f"the lock file {self.path}"

    @property
    def held(self) -> bool:
        return self._fd is not None

    def _acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held by another open file: another scheduler
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())  # for a human wondering who holds it
        self._fd = fd
        return True

    def _release(self) -> None:
        # The file stays: removing it would let a newcomer lock a fresh file while an old
        # process still holds the unlinked one.
        fd, self._fd = self._fd, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _check(self) -> bool:
        """Held, on the file that is at `path` now. A flock cannot be lost while the process
        lives, but if someone deletes or replaces the file, a newcomer locks the new one."""
        if self._fd is None:
            return False
        try:
            there = os.stat(self.path)
        except FileNotFoundError:
            return False
        ours = os.fstat(self._fd)
        return (there.st_dev, there.st_ino) == (ours.st_dev, ours.st_ino)


def advisory_key(schema: str | None) -> int:
    """The advisory lock key of the installation whose tables are in `schema`: one scheduler
    per schema, so installations sharing a database (or tests, each in its own schema) do not
    stop each other's scheduler. `public` keeps the key earlier versions used, so an old and a
    new scheduler on one database still exclude each other."""
    if schema in (None, "public"):
        return ADVISORY_LOCK_KEY
    digest = hashlib.sha256(f"{ADVISORY_LOCK_KEY}:{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


# Whether this session holds the bigint advisory lock `key` (pg_locks splits it in two halves).
_HOLDS_LOCK = sa.text(
    "select exists (select 1 from pg_locks where locktype = 'advisory' and granted"
    " and pid = pg_backend_pid() and objsubid = 1"
    " and classid::bigint = :high and objid::bigint = :low)"
)


class AdvisoryLock(SchedulerLock):
    """A PostgreSQL session advisory lock, on a connection of its own kept open while held.

    The key is `key`, or the one for the schema the connection's tables are in (`advisory_key`).
    The server ends the lock with the session: a restart, a killed backend or a dropped
    connection loses it, and `check` finds out."""

    def __init__(self, url: URL, engine_options: dict, key: int | None = None):
        super().__init__()
        self.url = url
        self.engine_options = engine_options
        self.key = key
        self._engine: sa.Engine | None = None
        self._conn: sa.Connection | None = None

    @property
    def where(self) -> str:
        key = "" if self.key is None else f" {self.key}"
        return f"PostgreSQL advisory lock{key} on {self.url.render_as_string()}"

    @property
    def held(self) -> bool:
        return self._conn is not None

    def _acquire(self) -> bool:
        if self._conn is not None:
            return True
        engine = sa.create_engine(self.url, **self.engine_options)
        try:
            # Autocommit: the lock belongs to the session, and the connection must not sit
            # "idle in transaction" for the scheduler's lifetime.
            conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            if self.key is None:
                self.key = advisory_key(conn.scalar(sa.text("select current_schema()")))
            got = conn.scalar(sa.text("select pg_try_advisory_lock(:key)"), {"key": self.key})
        except Exception:
            engine.dispose()
            raise
        if not got:
            conn.close()
            engine.dispose()
            return False
        self._engine, self._conn = engine, conn
        return True

    def _release(self) -> None:
        conn, engine = self._conn, self._engine
        self._conn = self._engine = None
        if conn is None:
            return
        try:
            conn.scalar(sa.text("select pg_advisory_unlock(:key)"), {"key": self.key})
        except sa.exc.DBAPIError:  # connection gone: the server has released the lock already
            log.warning("could not release the scheduler lock cleanly", exc_info=True)
        finally:
            conn.close()
            engine.dispose()

    def _check(self) -> bool:
        """Asks the server, on the lock's own connection. A connection that cannot answer has
        lost the lock (the server ends a session's locks with it): it is closed here."""
        if self._conn is None:
            return False
        try:
            return bool(
                self._conn.scalar(
                    _HOLDS_LOCK,
                    {"high": (self.key >> 32) & 0xFFFFFFFF, "low": self.key & 0xFFFFFFFF},
                )
            )
        except sa.exc.SQLAlchemyError as error:
            cause = getattr(error, "orig", None) or error
            log.warning(
                "The scheduler lock's connection is gone (%s: %s): the lock went with it",
                type(cause).__name__,
                str(cause).strip(),
            )
            conn, engine = self._conn, self._engine
            self._conn = self._engine = None
            conn.invalidate()
            conn.close()
            engine.dispose()
            return False


def scheduler_lock(app: Flask) -> SchedulerLock:
    """The lock a scheduler for this app's database must hold (not yet taken)."""
    url = database_url(app)
    backend = url.get_backend_name()
    if backend == "postgresql":
        return AdvisoryLock(url, dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}))
    if backend == "sqlite":
        if _in_memory(url):
            return FileLock(Path(app.instance_path) / "scheduler.lock")
        database = Path(url.database)
        return FileLock(database.with_name(database.name + LOCK_FILE_SUFFIX))
    raise RuntimeError(f"The scheduler supports SQLite and PostgreSQL, not {backend}.")


def locked_scheduler(
    app: Flask, blocking: bool, lock: SchedulerLock | None = None
) -> LockedBlockingScheduler | LockedBackgroundScheduler | None:
    """Take the lock (or use `lock`, already held) and build a scheduler that runs jobs only
    while it holds it and releases it when shut down, with the runner set to this app; None if
    another scheduler holds the lock."""
    lock = lock or scheduler_lock(app)
    if not lock.acquire():
        return None
    try:
        scheduler = build_scheduler(app, blocking)
    except BaseException:
        lock.release()
        raise
    scheduler.lock = lock
    scheduler.add_listener(lambda event: lock.release(), EVENT_SCHEDULER_SHUTDOWN)
    use_app(app)
    return scheduler


# -- in the development server (SCHEDULER_IN_PROCESS) ----------------------------------------


class InProcessScheduler:
    """Starts a BackgroundScheduler once per process, on the first request.

    Only a process that serves requests ever starts one: with the debug reloader on, that is
    the reloader's child (WERKZEUG_RUN_MAIN=true), never its watcher, which serves nothing.
    A second process on the same database finds the lock taken and carries on without one.
    """

    def __init__(self, app: Flask):
        self.app = app
        self.scheduler: BaseScheduler | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    def ensure_started(self) -> None:
        pid = os.getpid()
        if self._pid == pid:  # the usual case, without taking the lock
            return
        with self._lock:
            if self._pid == pid:
                return
            self._pid = pid  # tried once per process, whatever happens
            self.scheduler = None  # a forked child has the parent's object but not its thread
            try:
                self.scheduler = self._start()
            except Exception:
                log.exception("the in-process scheduler could not start; serving without it")

    def _start(self) -> BaseScheduler | None:
        from werkzeug.serving import is_running_from_reloader

        enable_job_logs(self.app)
        lock = scheduler_lock(self.app)
        scheduler = locked_scheduler(self.app, blocking=False, lock=lock)
        if scheduler is None:
            log.info(
                "Another scheduler is already running (%s); this process (pid %s) "
                "does not start one",
                lock.where,
                os.getpid(),
            )
            return None
        try:
            scheduler.start()
        except BaseException:
            lock.release()
            raise
        log.info(
            "in-process scheduler started (pid %s%s); jobs:\n%s",
            os.getpid(),
            ", reloader child" if is_running_from_reloader() else "",
            "\n".join(describe_jobs(scheduler)),
        )
        return scheduler

    def shutdown(self) -> None:
        scheduler, self.scheduler = self.scheduler, None
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)
        if runner.scheduled_app() is self.app:
            use_app(None)


def init_in_process(app: Flask) -> InProcessScheduler:
    state = InProcessScheduler(app)
    app.extensions["trainer.scheduler"] = state
    app.before_request(state.ensure_started)
    return state
