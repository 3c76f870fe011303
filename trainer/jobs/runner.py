"""One run of one job: the function the scheduler calls, and `flask jobs run`.

The job store pickles a reference to `run_job` and its arguments (`args=[name]`), so this must
stay a module-level function taking only the job's name. Each run gets a fresh app context and
so its own database session; a failure is logged and re-raised for APScheduler to record, and
never reaches any other job.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from flask import Flask, current_app, has_app_context

from trainer.jobs import registry
from trainer.jobs.registry import UnknownJob

__all__ = ["UnknownJob", "enable_job_logs", "run_job", "use_app"]

log = logging.getLogger(__name__)

_app: Flask | None = None  # set by the process that runs the scheduler
_app_lock = threading.Lock()


def use_app(app: Flask | None) -> None:
    """The app scheduled jobs run in (None to forget it)."""
    global _app
    _app = app


def scheduled_app() -> Flask | None:
    """The app set with `use_app`, if any."""
    return _app


def get_app() -> Flask:
    """The scheduler's app; else the current one; else one built from the environment."""
    global _app
    if _app is not None:
        return _app
    if has_app_context():
        return current_app._get_current_object()
    with _app_lock:
        if _app is None:
            from trainer import create_app

            _app = create_app()
        return _app


def enable_job_logs(app: Flask) -> None:
    """Job logs at INFO (start, end, duration, result) through the app's logger (stderr unless
    logging is configured otherwise)."""
    app.logger  # noqa: B018 - Flask gives the "trainer" logger a stderr handler if none
    jobs_logger = logging.getLogger("trainer.jobs")
    if jobs_logger.level == logging.NOTSET:
        jobs_logger.setLevel(logging.INFO)


def describe(result: Any) -> str:
    return "done" if result is None else str(result)


@contextmanager
def unit_of_work(app: Flask, what: str) -> Iterator[Any]:
    """The database session of one job run or task (`what` names it in the log), in a fresh
    app context where statements may run as long as a job's may: committed when the block
    ends, rolled back when it raises (the failure logged with its traceback and raised
    again), removed either way."""
    from trainer.database import long_statements
    from trainer.extensions import db

    with app.app_context(), long_statements(app.config["JOB_STATEMENT_TIMEOUT"]):
        started = time.monotonic()
        try:
            yield db.session
            db.session.commit()
        except Exception:
            try:
                db.session.rollback()
            except Exception:  # a lost connection must not hide the work's own error
                log.warning("%s: rollback failed", what, exc_info=True)
            log.exception("%s failed after %.2f s", what, time.monotonic() - started)
            raise
        finally:
            db.session.remove()


def run_job(name: str, now: datetime | None = None, *, app: Flask | None = None) -> Any:
    """Run the job `name` once, at `now` (naive UTC; default: the current time).

    Commits what the body leaves uncommitted, rolls back on failure, and re-raises the failure
    after logging it with its traceback.
    """
    from trainer.models import utcnow

    spec = registry.get(name)
    app = app or get_app()
    now = now or utcnow()
    started = time.monotonic()
    log.info("job %s started (now=%s UTC)", name, now.isoformat(timespec="seconds"))
    with unit_of_work(app, f"job {name}") as session:
        result = spec.load()(session, now)
    log.info("job %s finished in %.2f s: %s", name, time.monotonic() - started, describe(result))
    return result
