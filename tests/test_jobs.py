"""Scheduled jobs: the registry, one run, the `jobs` and `scheduler` commands, the persistent
job store, one scheduler per database, and the in-process scheduler of `make run`."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.events import EVENT_JOB_ERROR
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select

from tests.conftest import make_app, sync_starter_library
from trainer.extensions import db
from trainer.jobs import registry
from trainer.jobs import scheduler as jobs_scheduler
from trainer.jobs.cli import IsoTime
from trainer.jobs.registry import JobSpec, UnknownJob
from trainer.jobs.runner import run_job, use_app
from trainer.jobs.scheduler import (
    AdvisoryLock,
    FileLock,
    build_scheduler,
    format_time,
    locked_scheduler,
    scheduler_lock,
    stored_jobs,
)
from trainer.models import Refresher, User

NAMES = {
    "plan-refreshers",
    "send-reminders",
    "flag-overdue",
    "manager-digest",
    "tidy-sign-ins",
    "deliver-mail",
}

# -- job bodies for tests (module level: the registry holds them by dotted path) -------------

CALLS: list[tuple[str, datetime]] = []


def tick(session, now):
    CALLS.append(("tick", now))
    return "ticked"


def echo_now(session, now):
    return now.isoformat()


def explode(session, now):
    from trainer.people.services import create_user

    CALLS.append(("explode", now))
    create_user(session, email="ghost@example.com", name="Ghost", password="correct horse")
    session.flush()
    raise RuntimeError("the job fell over")


def spec(name: str, body: str, trigger=None) -> JobSpec:
    return JobSpec(
        name,
        f"tests.test_jobs.{body}",
        trigger or IntervalTrigger(hours=1, timezone=UTC),
        "hourly",
        f"test job {name}",
    )


@pytest.fixture
def test_jobs(monkeypatch):
    """Replace the registry with test jobs: test_jobs(spec(...), ...)."""
    CALLS.clear()

    def use(*specs: JobSpec) -> None:
        monkeypatch.setattr(registry, "JOBS", {s.name: s for s in specs})

    return use


@pytest.fixture
def schedulers():
    """Schedulers (and held locks) a test starts: shut down and released afterwards."""
    started: list = []
    yield started
    for thing in started:
        if hasattr(thing, "release"):
            thing.release()
        elif thing.running:
            thing.shutdown(wait=False)
    use_app(None)


# -- the registry and `jobs` commands ---------------------------------------------------------


def test_registry_has_the_jobs_with_triggers():
    assert set(registry.JOBS) == NAMES
    for name, job in registry.JOBS.items():
        assert job.name == name
        assert job.trigger.get_next_fire_time(None, datetime.now(UTC)) is not None
    assert registry.get("plan-refreshers").load().__name__ == "plan_refreshers"


def test_jobs_list_shows_every_job(runner):
    result = runner.invoke(args=["jobs", "list"])
    assert result.exit_code == 0, result.output
    for name in NAMES:
        assert name in result.output
    assert "every 15 minutes" in result.output
    assert "not scheduled yet" in result.output


def test_jobs_run_refuses_an_unknown_name(runner):
    result = runner.invoke(args=["jobs", "run", "plan-refresher"])
    assert result.exit_code != 0
    assert "Unknown job 'plan-refresher'" in result.output
    assert "plan-refreshers" in result.output and "deliver-mail" in result.output


def test_run_job_refuses_an_unknown_name(app):
    with pytest.raises(UnknownJob, match="'nope'.*Known jobs: plan-refreshers"):
        run_job("nope", app=app)


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01T00:00", "23/11/2026 18:05", ""])
def test_jobs_run_refuses_a_bad_time(runner, bad):
    result = runner.invoke(args=["jobs", "run", "plan-refreshers", "--now", bad])
    assert result.exit_code != 0
    assert "is not an ISO time" in result.output


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-23T18:05", datetime(2026, 11, 23, 18, 5)),
        ("2026-11-23T18:05:00+00:00", datetime(2026, 11, 23, 18, 5)),
        ("2026-11-23T19:05:00+01:00", datetime(2026, 11, 23, 18, 5)),
        ("2026-11-23T18:05Z", datetime(2026, 11, 23, 18, 5)),
    ],
)
def test_now_is_read_as_naive_utc(text, expected):
    assert IsoTime().convert(text, None, None) == expected


def test_jobs_run_passes_now_as_naive_utc(runner, test_jobs):
    test_jobs(spec("echo-now", "echo_now"))
    result = runner.invoke(args=["jobs", "run", "echo-now", "--now", "2026-11-23T18:05:00+01:00"])
    assert result.exit_code == 0, result.output
    assert "echo-now: 2026-11-23T17:05:00" in result.output


def answer_some_items(app, answered_at: datetime) -> int:
    from trainer.learn import services
    from trainer.people.services import create_user

    with app.app_context():
        user = create_user(
            db.session, email="sam@example.com", name="Sam", password="correct horse",
            job_role="teller",
        )  # fmt: skip
        db.session.commit()
        lesson = services.live_lesson(db.session, "closing-the-call")
        for n, item in enumerate(lesson.quiz.live_items[:3]):
            right = [i for i, c in enumerate(item.choices) if c["weight"] > 0]
            right = right if item.type == "multiple" else right[:1]
            services.record_answer(
                db.session, user, lesson, item, right, f"t{n}", 6.0,
                answered_at=answered_at + timedelta(seconds=n),
            )  # fmt: skip
        return user.id


def test_jobs_run_plan_refreshers_prints_the_count(app, runner):
    sync_starter_library(app)
    args = ["jobs", "run", "plan-refreshers", "--now", "2026-11-23T12:00"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "plan-refreshers: 0" in result.output

    user_id = answer_some_items(app, datetime(2026, 11, 23, 9, 0))
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "plan-refreshers: 1" in result.output
    with app.app_context():
        planned = db.session.scalars(select(Refresher).where(Refresher.user_id == user_id)).all()
        assert len(planned) == 1 and planned[0].planned_at == datetime(2026, 11, 23, 12, 0)

    again = runner.invoke(args=args)  # safe to run twice: nothing new
    assert "plan-refreshers: 0" in again.output


# -- one run: failures stay in their job ------------------------------------------------------


def test_a_failing_job_is_logged_rolled_back_and_the_next_job_still_runs(app, test_jobs, caplog):
    test_jobs(spec("boom", "explode"), spec("tick", "tick"))
    now = datetime(2026, 11, 23, 18, 5)
    with pytest.raises(RuntimeError, match="fell over"):
        run_job("boom", now, app=app)
    failure = next(r for r in caplog.records if "job boom failed" in r.getMessage())
    assert failure.levelno == logging.ERROR and failure.exc_info is not None
    with app.app_context():  # what the failed job wrote was rolled back
        assert db.session.scalar(select(func.count()).select_from(User)) == 0

    assert run_job("tick", now, app=app) == "ticked"
    assert [("explode", now), ("tick", now)] == CALLS


def test_the_scheduler_carries_on_after_a_job_fails(app, test_jobs, schedulers, caplog):
    fast = IntervalTrigger(seconds=0.2, timezone=UTC)
    test_jobs(spec("boom", "explode", fast), spec("tick", "tick", fast))
    scheduler = build_scheduler(app, blocking=False)
    schedulers.append(scheduler)
    errors = []
    scheduler.add_listener(lambda event: errors.append(event.job_id), EVENT_JOB_ERROR)
    use_app(app)
    scheduler.start()

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if errors.count("boom") >= 2 and [c for c, _ in CALLS].count("tick") >= 2:
            break
        time.sleep(0.05)
    assert errors.count("boom") >= 2, errors
    assert [c for c, _ in CALLS].count("tick") >= 2, CALLS  # ran again after the failures
    assert scheduler.running
    assert "tick" not in errors
    assert any("job boom" in r.getMessage() and "carries on" in r.getMessage()
               for r in caplog.records)  # fmt: skip


# -- the persistent job store -----------------------------------------------------------------


def test_jobs_and_next_run_times_survive_a_restart(app, schedulers, runner):
    first = build_scheduler(app, blocking=False)
    schedulers.append(first)
    first.start(paused=True)
    jobs = {job.id: job for job in first.get_jobs()}
    assert set(jobs) == NAMES
    for name, job in jobs.items():
        assert job.func is run_job and job.args == (name,)
        assert job.coalesce is True and job.max_instances == 1 and job.misfire_grace_time == 300
    # A stored time the trigger would not give shows it comes back from the store.
    odd = datetime.now(UTC).replace(hour=3, minute=21, second=7, microsecond=0) + timedelta(days=2)
    first.modify_job("deliver-mail", next_run_time=odd)
    # A job stored under a name that is no longer in the registry.
    first.add_job(run_job, "interval", hours=1, id="renamed-away", args=["renamed-away"])
    before = {job.id: job.next_run_time for job in first.get_jobs() if job.id in NAMES}
    assert all(before.values())
    first.shutdown(wait=False)

    with app.app_context():
        stored = stored_jobs(db.engine)
    assert set(stored) == NAMES | {"renamed-away"}
    assert stored["deliver-mail"].next_run_time == odd

    listed = runner.invoke(args=["jobs", "list"])
    assert format_time(odd) in listed.output

    second = build_scheduler(app, blocking=False)
    schedulers.append(second)
    second.start(paused=True)
    after = {job.id: job.next_run_time for job in second.get_jobs()}
    assert after == before  # the same jobs, the same times; the stray one removed
    second.shutdown(wait=False)


# -- one scheduler per database ---------------------------------------------------------------


def test_a_second_scheduler_cannot_take_the_sqlite_lock(app, runner, schedulers, tmp_path):
    first = scheduler_lock(app)
    assert isinstance(first, FileLock)
    assert first.path == tmp_path / "test.sqlite.scheduler.lock"
    assert first.acquire()
    schedulers.append(first)

    second = scheduler_lock(app)
    assert not second.acquire()
    assert locked_scheduler(app, blocking=False) is None
    result = runner.invoke(args=["scheduler"])
    assert result.exit_code == 1
    assert "Another scheduler is already running" in result.output

    first.release()
    assert second.acquire()
    second.release()


def test_the_lock_is_released_when_the_scheduler_shuts_down(app, schedulers):
    scheduler = locked_scheduler(app, blocking=False)
    schedulers.append(scheduler)
    scheduler.start(paused=True)
    assert not scheduler_lock(app).acquire()
    scheduler.shutdown(wait=False)
    other = scheduler_lock(app)
    assert other.acquire()
    other.release()


@pytest.mark.postgres
def test_a_second_scheduler_cannot_take_the_postgresql_lock(tmp_path, request, schedulers):
    pg_app = make_app(tmp_path, "postgresql", request)
    try:
        first = scheduler_lock(pg_app)
        assert isinstance(first, AdvisoryLock)
        assert first.acquire()
        schedulers.append(first)
        second = scheduler_lock(pg_app)
        assert not second.acquire()

        # The job store goes to the app's schema (its engine options are passed on).
        scheduler = build_scheduler(pg_app, blocking=False)
        schedulers.append(scheduler)
        scheduler.start(paused=True)
        assert {job.id for job in scheduler.get_jobs()} == NAMES
        scheduler.shutdown(wait=False)
        with pg_app.app_context():
            assert set(stored_jobs(db.engine)) == NAMES

        first.release()
        assert second.acquire()
        second.release()
    finally:
        with pg_app.app_context():
            db.engine.dispose()


# -- the in-process scheduler of `make run` ---------------------------------------------------


@pytest.fixture
def count_builds(monkeypatch):
    built = []
    real = jobs_scheduler.build_scheduler

    def counting(app, blocking):
        scheduler = real(app, blocking)
        built.append(scheduler)
        return scheduler

    monkeypatch.setattr(jobs_scheduler, "build_scheduler", counting)
    return built


def in_process_app(tmp_path, request):
    app = make_app(tmp_path, "sqlite", request, SCHEDULER_IN_PROCESS=True)
    with app.app_context():
        db.create_all()
    return app


def test_in_process_scheduler_starts_once_on_the_first_request(
    tmp_path, request, test_jobs, count_builds, schedulers, caplog
):
    test_jobs(spec("tick", "tick"))
    app = in_process_app(tmp_path, request)
    state = app.extensions["trainer.scheduler"]
    assert state.scheduler is None and not count_builds  # create_app starts nothing

    barrier = threading.Barrier(4)

    def get():
        barrier.wait()
        app.test_client().get("/login")

    threads = [threading.Thread(target=get) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    app.test_client().get("/login")
    schedulers.append(state.scheduler)
    assert len(count_builds) == 1
    assert state.scheduler is count_builds[0] and state.scheduler.running
    assert [job.id for job in state.scheduler.get_jobs()] == ["tick"]

    # Another process on the same database: the lock is taken, it skips with a log line.
    caplog.set_level(logging.INFO, logger="trainer.jobs")
    other = make_app(tmp_path, "sqlite", request, SCHEDULER_IN_PROCESS=True)
    other.test_client().get("/login")
    assert other.extensions["trainer.scheduler"].scheduler is None
    assert len(count_builds) == 1
    assert any("Another scheduler is already running" in r.getMessage() for r in caplog.records)

    state.shutdown()
    assert not count_builds[0].running
    with other.app_context():
        db.engine.dispose()


def test_no_scheduler_in_process_when_the_setting_is_off(app, client, count_builds):
    assert app.config["SCHEDULER_IN_PROCESS"] is False
    assert "trainer.scheduler" not in app.extensions
    client.get("/login")
    client.get("/login")
    assert count_builds == []
