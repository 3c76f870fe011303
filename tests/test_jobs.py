"""Scheduled jobs: the registry, one run, the `jobs` and `scheduler` commands, the persistent
job store, one scheduler per database, and the in-process scheduler of `make run`."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_SUBMITTED
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select

from tests.conftest import POSTGRES_URL, make_app, sync_starter_library
from trainer import ROOT
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


# -- a lock lost while running (a database restart ends the PostgreSQL session) ---------------


def wait_until(condition, what: str, limit: float = 60):
    """Poll `condition` until true; fail (not hang) if it never is."""
    deadline = time.monotonic() + limit
    while not (result := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.02)
    return result


def lock_backend(lock: AdvisoryLock) -> int | None:
    """The server process holding `lock`'s key, if any."""
    engine = sa.create_engine(POSTGRES_URL)
    try:
        with engine.connect() as conn:
            return conn.scalar(
                sa.text(
                    "select pid from pg_locks where locktype = 'advisory' and granted"
                    " and objsubid = 1 and classid::bigint = :high and objid::bigint = :low"
                ),
                {"high": (lock.key >> 32) & 0xFFFFFFFF, "low": lock.key & 0xFFFFFFFF},
            )
    finally:
        engine.dispose()


def terminate(where: str, **params) -> None:
    """pg_terminate_backend on the server processes `where` selects from pg_stat_activity,
    waiting until they are gone: what a database restart does to their sessions."""
    engine = sa.create_engine(POSTGRES_URL)
    try:
        with engine.connect() as conn:
            ended = conn.scalars(
                sa.text(
                    "select pg_terminate_backend(pid, 10000) from pg_stat_activity"
                    f" where pid <> pg_backend_pid() and {where}"
                ),
                params,
            ).all()
            conn.commit()
    finally:
        engine.dispose()
    assert ended and all(ended), ended


def lose(lock) -> None:
    """Take the lock away from its holder without telling it."""
    if isinstance(lock, AdvisoryLock):
        terminate("pid = :pid", pid=lock_backend(lock))
    else:  # a lock file deleted: the next scheduler locks a new file of that name
        lock.path.unlink()


@pytest.fixture(params=["sqlite", "postgresql"])
def lock_app(tmp_path, request):
    app = make_app(tmp_path, request.param, request)
    yield app
    with app.app_context():
        db.engine.dispose()


def test_a_lock_check_notices_the_lock_is_gone_and_takes_it_again(lock_app, schedulers):
    lock = scheduler_lock(lock_app)
    assert lock.acquire()
    schedulers.append(lock)
    assert lock.check() and lock.confirm()
    if isinstance(lock, AdvisoryLock):
        first_backend = lock_backend(lock)

    lose(lock)
    assert not lock.check()
    assert lock.confirm()  # nobody else had it: taken again
    assert lock.check()
    if isinstance(lock, AdvisoryLock):
        assert lock_backend(lock) not in (None, first_backend)  # on a fresh connection
    assert not scheduler_lock(lock_app).acquire()  # and it excludes others again


def test_a_lock_check_says_so_when_another_scheduler_took_it(lock_app, schedulers):
    lock = scheduler_lock(lock_app)
    assert lock.acquire()
    schedulers.append(lock)
    lose(lock)
    other = scheduler_lock(lock_app)
    assert other.acquire()
    schedulers.append(other)

    assert not lock.confirm()
    assert not lock.check()
    assert other.check()
    other.release()
    assert lock.confirm()  # free again: taken


def test_postgresql_lock_keys_differ_by_schema_only():
    assert jobs_scheduler.advisory_key("public") == jobs_scheduler.ADVISORY_LOCK_KEY
    assert jobs_scheduler.advisory_key(None) == jobs_scheduler.ADVISORY_LOCK_KEY
    one, two = jobs_scheduler.advisory_key("t_one"), jobs_scheduler.advisory_key("t_two")
    assert one == jobs_scheduler.advisory_key("t_one")
    assert len({one, two, jobs_scheduler.ADVISORY_LOCK_KEY}) == 3
    assert all(-(2**63) <= key < 2**63 for key in (one, two))


class JobCounts:
    """Submitted and finished runs of a scheduler, from its events."""

    def __init__(self, scheduler):
        self.submitted = self.finished = 0
        scheduler.add_listener(self._submitted, EVENT_JOB_SUBMITTED)
        scheduler.add_listener(self._finished, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)

    def _submitted(self, event):
        self.submitted += 1

    def _finished(self, event):
        self.finished += 1


def test_a_scheduler_that_lost_its_lock_to_another_runs_nothing_and_stops(
    lock_app, test_jobs, schedulers, caplog
):
    test_jobs(spec("tick", "tick", IntervalTrigger(seconds=0.2, timezone=UTC)))
    scheduler = locked_scheduler(lock_app, blocking=False)
    schedulers.append(scheduler)
    counts = JobCounts(scheduler)
    scheduler.start()
    wait_until(lambda: len(CALLS) >= 2, "two runs")

    # Between two rounds, with no run under way, the lock goes and another scheduler takes it.
    scheduler.pause()
    scheduler.get_jobs()  # waits for a round being submitted to finish submitting
    wait_until(lambda: counts.finished == counts.submitted, "the runs under way to finish")
    lose(scheduler.lock)
    other = scheduler_lock(lock_app)
    assert other.acquire()
    schedulers.append(other)
    runs = len(CALLS)
    with lock_app.app_context():
        due = stored_jobs(db.engine)["tick"].next_run_time

    scheduler.resume()
    wait_until(lambda: not scheduler.running, "the scheduler to stop")

    assert scheduler.lost_lock
    assert len(CALLS) == runs and counts.submitted == counts.finished
    with lock_app.app_context():  # the job's next run is left to the scheduler that holds it
        assert stored_jobs(db.engine)["tick"].next_run_time == due
    assert other.check()
    assert any(
        "lost" in r.getMessage() and "another scheduler holds it now" in r.getMessage()
        and r.levelno == logging.ERROR
        for r in caplog.records
    )  # fmt: skip


def test_a_scheduler_that_lost_its_lock_takes_it_again_and_carries_on(
    lock_app, test_jobs, schedulers, caplog
):
    test_jobs(spec("tick", "tick", IntervalTrigger(seconds=0.2, timezone=UTC)))
    scheduler = locked_scheduler(lock_app, blocking=False)
    schedulers.append(scheduler)
    scheduler.start()
    wait_until(lambda: len(CALLS) >= 2, "two runs")

    lose(scheduler.lock)
    runs = len(CALLS)
    wait_until(lambda: len(CALLS) >= runs + 2, "two more runs")

    assert scheduler.running and not scheduler.lost_lock
    assert scheduler.lock.check()
    assert not scheduler_lock(lock_app).acquire()
    assert any("has taken it again" in r.getMessage() for r in caplog.records)


# -- two real `flask scheduler` processes on one PostgreSQL schema ----------------------------


class SchedulerProcess:
    """`flask --app trainer scheduler` (tests/scheduler_process.py: one job recording its runs
    in `scheduler_runs`), its server sessions named `scheduler-NAME`, its stderr in a file."""

    def __init__(self, name: str, schema: str, tmp_path, *args: str):
        self.name = name
        self.log = tmp_path / f"scheduler-{name}.log"
        env = {
            **os.environ,
            "FLASK_CONFIG": "test",
            "TEST_DATABASE_URL": POSTGRES_URL,
            "PGOPTIONS": f"-csearch_path={schema}",
            "PGAPPNAME": f"scheduler-{name}",
            "SCHEDULER_NAME": name,
            "RUN_EVERY": "0.5",
            "PYTHONUNBUFFERED": "1",
        }
        with open(self.log, "wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.scheduler_process", "--app", "trainer",
                 "scheduler", *args],
                cwd=ROOT, env=env, stdout=err, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def output(self) -> str:
        return self.log.read_text()

    def count(self, text: str) -> int:
        return self.output().count(text)

    def stopped(self) -> bool:
        """True once the process is stopped by SIGSTOP (state T in /proc)."""
        stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        return stat.rpartition(")")[2].split()[0] == "T"

    def pause_between_runs(self) -> None:
        """SIGSTOP the process just after a run has finished, with no other run under way."""
        while True:
            done = self.count("job record-run finished")
            wait_until(
                lambda done=done: self.count("job record-run finished") > done, "a run to finish"
            )
            self.process.send_signal(signal.SIGSTOP)
            wait_until(self.stopped, "the process to stop")
            if self.count("job record-run started") == self.count("job record-run finished"):
                return
            self.process.send_signal(signal.SIGCONT)  # stopped mid-run: try again

    def end(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
        return self.process.wait(timeout=60)


@pytest.mark.postgres
@pytest.mark.parametrize("wait", [False, True], ids=["exits", "waits"])
def test_a_scheduler_whose_lock_was_lost_never_runs_jobs_beside_the_one_that_took_it(
    tmp_path, postgres_engine, postgres_schema, wait
):
    with postgres_engine.begin() as conn:
        conn.execute(
            sa.text(
                f'create table "{postgres_schema}".scheduler_runs (id serial primary key,'
                " scheduler text not null, at timestamp not null default clock_timestamp())"
            )
        )

    def runs(name: str | None = None) -> list[tuple[str, datetime]]:
        with postgres_engine.connect() as conn:
            rows = conn.execute(
                sa.text(f'select scheduler, at from "{postgres_schema}".scheduler_runs order by id')
            ).all()
        return [(who, at) for who, at in rows if name in (None, who)]

    first = SchedulerProcess("a", postgres_schema, tmp_path, *(["--wait"] if wait else []))
    second = None
    try:
        wait_until(lambda: len(runs("a")) >= 2, "the first scheduler's runs")
        # The first scheduler stalls between two runs while the database drops its sessions
        # (as a restart does), and a second scheduler starts and takes the lock.
        first.pause_between_runs()
        terminate("application_name = 'scheduler-a'")
        with postgres_engine.connect() as conn:
            lost_at = conn.scalar(sa.text("select localtimestamp"))
        second = SchedulerProcess("b", postgres_schema, tmp_path)
        wait_until(lambda: len(runs("b")) >= 2, "the second scheduler's runs")

        first.process.send_signal(signal.SIGCONT)
        if wait:
            wait_until(lambda: "Waiting for the lock to be free again." in first.output(),
                       "the first scheduler to go back to waiting")  # fmt: skip
            assert first.process.poll() is None
        else:
            assert first.process.wait(timeout=60) == 1
        settled = len(runs())
        wait_until(lambda: len(runs()) >= settled + 2, "two more runs")
    finally:
        first_status = first.end()
        second_status = second.end() if second else None

    output = first.output()
    assert "lost its lock and another scheduler holds it now" in output
    assert "PostgreSQL advisory lock" in output
    if wait:
        assert first_status == 0 and output.rstrip().endswith("Scheduler stopped.")
    else:
        assert first_status == 1
    assert second_status == 0 and "Scheduler started" in second.output()
    # Every run of the first came before its sessions were dropped; every one after, from the
    # second; and the first started none once it found its lock gone.
    everything = runs()
    assert [at for who, at in everything if who == "a"][-1] < lost_at
    assert {who for who, at in everything if at > lost_at} == {"b"}
    after_loss = output[output.index("another scheduler holds it now") :]
    assert "job record-run started" not in after_loss


@pytest.mark.postgres
def test_a_scheduler_that_cannot_reach_its_database_runs_nothing_until_it_can(
    tmp_path, request, postgres_schema, test_jobs, schedulers, caplog, monkeypatch
):
    # postgres_schema before schedulers: the scheduler stops before its schema is dropped.
    monkeypatch.setattr(jobs_scheduler, "LOCK_RETRY_SECONDS", 0.1)
    pg_app = make_app(tmp_path, "postgresql", request)
    test_jobs(spec("tick", "tick", IntervalTrigger(seconds=0.2, timezone=UTC)))
    scheduler = locked_scheduler(pg_app, blocking=False)
    schedulers.append(scheduler)
    counts = JobCounts(scheduler)
    scheduler.start()
    wait_until(lambda: len(CALLS) >= 2, "two runs")
    scheduler.pause()
    scheduler.get_jobs()
    wait_until(lambda: counts.finished == counts.submitted, "the runs under way to finish")

    # The lock's session ends and the server cannot be reached for a while (a port where
    # nothing listens stands for the server restarting).
    lock = scheduler.lock
    real_url = lock.url
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    lock.url = real_url.set(port=closed.getsockname()[1])
    lose(lock)
    runs = len(CALLS)
    scheduler.resume()

    def refusals() -> int:
        return sum("Cannot confirm the scheduler lock" in r.getMessage() for r in caplog.records)

    wait_until(lambda: refusals() >= 2, "two failed confirmations")
    assert len(CALLS) == runs and scheduler.running

    lock.url = real_url  # the server is back
    closed.close()
    wait_until(lambda: len(CALLS) >= runs + 2, "runs again")
    assert scheduler.running and not scheduler.lost_lock
    assert any("has taken it again" in r.getMessage() for r in caplog.records)
    with pg_app.app_context():
        db.engine.dispose()
