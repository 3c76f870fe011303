"""`flask --app trainer scheduler` and `flask --app trainer jobs list|run`."""

from __future__ import annotations

import logging
import signal
import sys
import time
from datetime import UTC, datetime

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from trainer.jobs.queue import QUEUES

log = logging.getLogger("trainer.jobs")

jobs = AppGroup("jobs", help="The scheduled jobs: list them, or run one now.")


class IsoTime(click.ParamType):
    """An ISO 8601 time, with or without an offset (none means UTC), as naive UTC."""

    name = "ISO-TIME"

    def convert(self, value, param, ctx) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            when = datetime.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(
                f"{value!r} is not an ISO time. Use e.g. 2026-11-23T18:05 (read as UTC) "
                "or 2026-11-23T18:05:00+00:00.",
                param,
                ctx,
            )
        if when.tzinfo is not None:
            when = when.astimezone(UTC).replace(tzinfo=None)
        return when


def _log_to_stderr(app: Flask) -> None:
    """Job logs (start, end, duration, result, failures) at INFO on stderr, with the time."""
    from flask.logging import default_handler

    from trainer.jobs.runner import enable_job_logs

    root = logging.getLogger()
    if not root.handlers:  # nobody configured logging: do it here, once, for everything
        logging.basicConfig(
            stream=sys.stderr,
            level=logging.WARNING,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        app.logger.removeHandler(default_handler)  # else app logs would print twice
    enable_job_logs(app)


@jobs.command("list")
def list_command() -> None:
    """Each job: name, schedule, next run time (as stored by the scheduler), description."""
    from trainer.extensions import db
    from trainer.jobs import registry
    from trainer.jobs.scheduler import format_time, stored_jobs

    try:
        stored = stored_jobs(db.engine)
    except Exception as error:  # still list the jobs when the database is not there
        click.echo(f"(next run times unknown: {error.__class__.__name__}: {error})", err=True)
        stored = {}
    for spec in registry.JOBS.values():
        job = stored.get(spec.name)
        if job is None:
            when = "not scheduled yet (no scheduler has run)"
        elif job.next_run_time is None:
            when = "paused"
        else:
            when = format_time(job.next_run_time)
        click.echo(f"{spec.name:<16} {spec.schedule:<18} next run {when}")
        click.echo(f"{'':<16} {spec.description}")
    for line in _queue_lines(current_app.config) + _outbox_lines(db):
        click.echo(line)


def _queue_lines(config) -> list[str]:
    """The task queue: where, and each queue's depth and oldest waiting task."""
    from trainer.jobs import queue
    from trainer.jobs.scheduler import format_time
    from trainer.models import utcnow

    if not queue.enabled(config):
        return ["Task queue: none (no BROKER_URL): the scheduler does all the work itself."]
    lines = [f"Task queue: {queue.describe_broker(config)}"]
    try:
        depths = queue.depths(config)
    except Exception as error:  # the broker is down: say so, and still list the rest
        return [*lines, f"  (queue depth unknown: {error.__class__.__name__}: {error})"]
    now = utcnow()
    for depth in depths:
        line = f"  {depth.queue:<10} {depth.waiting:>7,} tasks waiting"
        if depth.delayed:
            line += f", {depth.delayed:,} waiting to be retried"
        if depth.oldest is not None:
            age = int((now - depth.oldest).total_seconds())
            line += f"; the oldest enqueued {format_time(depth.oldest)} ({max(age, 0)} s ago)"
        lines.append(line)
    return lines


def _outbox_lines(db) -> list[str]:
    from trainer.messages.backlog import backlog
    from trainer.models import utcnow

    try:
        found = backlog(db.session, current_app.config)
    except Exception as error:  # no database yet: the jobs are listed all the same
        return [f"Outbox: unknown ({error.__class__.__name__})"]
    finally:
        db.session.remove()
    return [f"Outbox: {found.describe(utcnow())}."]


@jobs.command("run")
@click.argument("name")
@click.option(
    "--now",
    type=IsoTime(),
    default=None,
    help="Run as if it were this time (ISO, e.g. 2026-11-23T18:05; no offset means UTC).",
)
def run_command(name: str, now: datetime | None) -> None:
    """Run the job NAME once, now, and print its result."""
    from trainer.jobs import registry
    from trainer.jobs.runner import describe, run_job

    if name not in registry.JOBS:
        raise click.BadParameter(str(registry.UnknownJob(name)), param_hint="NAME")
    app = current_app._get_current_object()
    _log_to_stderr(app)
    try:
        result = run_job(name, now, app=app)
    except Exception as error:
        click.echo(f"{name} failed: {error.__class__.__name__}: {error}", err=True)
        raise SystemExit(1) from None
    click.echo(f"{name}: {describe(result)}")


def _stop(signum, frame):
    raise KeyboardInterrupt


@click.command("scheduler")
@click.option(
    "--wait",
    is_flag=True,
    help="If another scheduler is running, try again every 30 s instead of exiting "
    "(also after losing the lock to another one).",
)
@with_appcontext
def scheduler_command(wait: bool) -> None:
    """Run the scheduled jobs in the foreground until Ctrl-C or SIGTERM (one per database).

    Exits with status 1 if another scheduler holds the lock: at start, or later, when this one
    lost it (a database restart ends it) and another took it before this one could again."""
    app = current_app._get_current_object()
    _log_to_stderr(app)
    previous = signal.signal(signal.SIGTERM, _stop)  # stop as Ctrl-C does
    try:
        while True:
            lock = _take_lock(app, wait)
            if not _run_scheduler(app, lock):
                break
            click.echo(
                f"This scheduler lost its lock and another scheduler holds it now ({lock.where}). "
                "No job ran here after that.",
                err=True,
            )
            if not wait:
                click.echo("Scheduler stopped.", err=True)
                raise SystemExit(1)
            click.echo("Waiting for the lock to be free again.", err=True)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    click.echo("Scheduler stopped.", err=True)


def _take_lock(app: Flask, wait: bool):
    """The scheduler lock, taken; exits with status 1 if it is held (unless waiting)."""
    from trainer.jobs import scheduler as jobs_scheduler

    lock = jobs_scheduler.scheduler_lock(app)
    while not lock.acquire():
        if not wait:
            click.echo(f"Another scheduler is already running (it holds {lock.where}).", err=True)
            raise SystemExit(1)
        log.info(
            "Another scheduler is already running; trying again in %s s",
            jobs_scheduler.WAIT_SECONDS,
        )
        time.sleep(jobs_scheduler.WAIT_SECONDS)
    return lock


def _run_scheduler(app: Flask, lock) -> bool:
    """Run the jobs while `lock` (taken) is held, until stopped; True if it stopped because
    another scheduler took the lock. Releases the lock in any case."""
    from apscheduler.events import EVENT_SCHEDULER_STARTED

    from trainer.jobs import scheduler as jobs_scheduler
    from trainer.jobs.runner import use_app

    try:
        scheduler = jobs_scheduler.locked_scheduler(app, blocking=True, lock=lock)

        def started(event) -> None:
            click.echo("Scheduler started (times in UTC). Jobs:")
            for line in jobs_scheduler.describe_jobs(scheduler):
                click.echo(line)
            click.echo("Press Ctrl-C to stop.")

        scheduler.add_listener(started, EVENT_SCHEDULER_STARTED)
        try:
            scheduler.start()  # blocks until stopped
        finally:
            if scheduler.running:
                click.echo("Stopping: waiting for running jobs to finish...", err=True)
                scheduler.shutdown(wait=True)
            use_app(None)
    finally:
        lock.release()
    return scheduler.lost_lock


@click.command("worker")
@click.option(
    "--processes",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes to run (default: the WORKER_PROCESSES setting, 1).",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    help="Tasks each process runs at once (default: the WORKER_THREADS setting, 8).",
)
@click.option(
    "--queue",
    "queues",
    multiple=True,
    type=click.Choice(list(QUEUES)),
    help="Take tasks from this queue only (repeat for several; default: all).",
)
@with_appcontext
def worker_command(processes: int | None, threads: int | None, queues: tuple[str, ...]) -> None:
    """Do the tasks the scheduler hands out (BROKER_URL), until Ctrl-C or SIGTERM.

    Run as many as the work needs, on any machines that reach the database and the broker.
    A worker that stops finishes the tasks it has started; one that dies leaves its messages
    claimed until DELIVERY_LEASE_SECONDS pass, then they go out from another."""
    from trainer.jobs import worker

    app = current_app._get_current_object()
    if not app.config.get("BROKER_URL"):
        click.echo(
            "No BROKER_URL set: there is no task queue, and the scheduler does all the work "
            "itself. Set BROKER_URL (e.g. redis://127.0.0.1:6379/0) for the scheduler and "
            "the workers alike.",
            err=True,
        )
        raise SystemExit(2)
    _log_to_stderr(app)
    processes = processes or app.config["WORKER_PROCESSES"]
    threads = threads or app.config["WORKER_THREADS"]
    if processes > 1:
        raise SystemExit(worker.supervise(processes, threads, queues))
    raise SystemExit(worker.serve(app, threads, queues))


def init_app(app: Flask) -> None:
    app.cli.add_command(jobs)
    app.cli.add_command(scheduler_command)
    app.cli.add_command(worker_command)
    if app.config.get("SCHEDULER_IN_PROCESS"):
        from trainer.jobs.scheduler import init_in_process

        init_in_process(app)
