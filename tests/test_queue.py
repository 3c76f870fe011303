"""The task queue with its real parts: `flask worker` processes, Redis, PostgreSQL, and an SMTP
server that counts every message it accepts. Whatever happens to a worker or the broker, each
message arrives exactly once."""

from __future__ import annotations

import re
import threading
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import make_app
from tests.queue_support import (
    REDIS_URL,
    SENDER,
    CountingSMTP,
    RedisServer,
    WorkerProcess,
    drop_namespace,
    machine_redis,
    wait_until,
)
from trainer import ROOT
from trainer.extensions import db
from trainer.jobs import queue
from trainer.messages import deliver_pending, queue_message
from trainer.messages.delivery import HandOut, claim_batch
from trainer.models import EMAIL, OutboxMessage, utcnow

pytestmark = pytest.mark.postgres


@pytest.fixture
def namespace():
    name = f"test-{uuid.uuid4().hex[:10]}"
    yield name
    queue.forget_brokers()
    drop_namespace(REDIS_URL, name)


@pytest.fixture
def smtp():
    with CountingSMTP(delay=0.02) as server:
        yield server


def settings(namespace: str, smtp: CountingSMTP, broker_url: str = REDIS_URL, **more) -> dict:
    return {
        "BROKER_URL": broker_url,
        "BROKER_NAMESPACE": namespace,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp.port,
        "MAIL_TIMEOUT": 10,
        "MAIL_DEFAULT_SENDER": SENDER,
        "DELIVERY_BATCH": 10,
        "DELIVERY_LEASE_SECONDS": 10,
        **more,
    }


@pytest.fixture
def make_queue_app(tmp_path, request, postgres_schema, namespace):
    """An app on a fresh PostgreSQL schema using the broker, and workers on the same (stopped
    before the namespace's keys are dropped)."""
    made = []
    workers: list[WorkerProcess] = []

    def make(config: dict):
        app = make_app(tmp_path, "postgresql", request, **config)
        with app.app_context():
            db.create_all()
        made.append(app)
        return app

    def start_worker(config: dict, threads: int = 4) -> WorkerProcess:
        worker = WorkerProcess(tmp_path, postgres_schema, config, threads, name=str(len(workers)))
        workers.append(worker)
        return worker

    make.worker = start_worker
    yield make
    for worker in workers:
        worker.stop()
        print(f"--- {worker.log.name}\n{worker.output()[-4000:]}")  # shown when a test fails
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def fill_outbox(app, count: int) -> list[int]:
    with app.app_context():
        now = utcnow() - timedelta(seconds=1)
        ids = [
            queue_message(
                db.session,
                to=f"person{n}@example.com",
                subject="Your refresher is ready",
                text="Three questions are waiting for you.",
                now=now,
            ).id
            for n in range(count)
        ]
        db.session.commit()
        return ids


def hand_out(app) -> HandOut:
    """What the scheduler's `deliver-mail` run does with a broker."""
    with app.app_context():
        result = deliver_pending(db.session)
        db.session.remove()
        return result


def sent_count(app) -> int:
    with app.app_context():
        count = db.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.sent_at.is_not(None))
        )
        unsent = db.session.execute(
            select(OutboxMessage.attempts, OutboxMessage.last_error, func.count())
            .where(OutboxMessage.sent_at.is_(None))
            .group_by(OutboxMessage.attempts, OutboxMessage.last_error)
        ).all()
        print(f"sent {count}; unsent by (attempts, last error): {unsent}")  # on a failure
        db.session.remove()
        return count


def message_ids(app, ids: list[int]) -> set[str]:
    from trainer.messages.email import message_id

    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))).all()
        found = {message_id(row, app.config) for row in rows}
        db.session.remove()
        return found


def test_several_workers_send_every_message_once_on_a_few_reused_connections_at_once(
    make_queue_app, namespace, smtp
):
    machine_redis()
    config = settings(namespace, smtp)
    app = make_queue_app(config)
    ids = fill_outbox(app, 300)
    result = hand_out(app)
    assert (result.due, result.queued) == (300, 30)
    assert (
        str(result)
        == "300 messages due: 30 delivery tasks queued for the workers (0 already waiting)."
    )
    make_queue_app.worker(config, threads=3)
    make_queue_app.worker(config, threads=3)

    wait_until(lambda: sent_count(app) == 300, "every message sent")

    assert set(smtp.handler.ids) == message_ids(app, ids)
    assert smtp.handler.total() == 300 and smtp.handler.twice() == {}
    # One SMTP session per worker thread, kept from task to task, several at once.
    assert smtp.handler.connections <= 6
    assert smtp.handler.most_at_once >= 2


def test_the_same_tasks_enqueued_twice_send_nothing_twice(make_queue_app, namespace, smtp):
    machine_redis()
    config = settings(namespace, smtp)
    app = make_queue_app(config)
    ids = fill_outbox(app, 200)
    with app.app_context():
        # Every delivery task twice over, and the scheduler's own run besides.
        assert queue.enqueue("deliver-messages", 20) == 20
        assert queue.enqueue("deliver-messages", 20) == 20
    assert hand_out(app).waiting == 40
    make_queue_app.worker(config, threads=4)
    make_queue_app.worker(config, threads=4)

    wait_until(lambda: sent_count(app) == 200, "every message sent")
    with app.app_context():
        wait_until(lambda: queue.waiting(queue.MESSAGES) == 0, "the queue to empty")

    assert set(smtp.handler.ids) == message_ids(app, ids)
    assert smtp.handler.total() == 200 and smtp.handler.twice() == {}


def test_claims_of_two_workers_at_the_same_moment_never_overlap(make_queue_app, namespace, smtp):
    config = settings(namespace, smtp)
    app = make_queue_app(config)
    fill_outbox(app, 400)
    claims: list[list[int]] = []
    start = threading.Barrier(8)

    def claim():
        with app.app_context():
            start.wait()
            now = utcnow()
            for _ in range(5):
                claims.append(claim_batch(db.session, now, 10, [EMAIL], timedelta(minutes=5)))
            db.session.remove()

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    every = [outbox_id for batch in claims for outbox_id in batch]
    assert len(every) == len(set(every)) == 400
    with app.app_context():
        assert set(db.session.scalars(select(OutboxMessage.attempts))) == {1}


def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(
    make_queue_app, namespace, smtp
):
    machine_redis()
    config = settings(namespace, smtp)
    app = make_queue_app(config)
    ids = fill_outbox(app, 200)
    hand_out(app)
    doomed = make_queue_app.worker(config, threads=4)
    wait_until(lambda: smtp.handler.total() >= 40, "the first messages to arrive")
    # Every thread of the worker stops inside a send, its batch claimed and half sent.
    smtp.handler.hold()
    wait_until(lambda: smtp.handler.held == 4, "each of the worker's threads to be in a send")
    before = smtp.handler.total()
    doomed.kill()
    smtp.handler.release()
    assert 40 <= before < 200 and sent_count(app) == before

    make_queue_app.worker(config, threads=4)

    def delivered():
        hand_out(app)  # as the scheduler does every minute
        return sent_count(app) == 200

    wait_until(delivered, "the rest sent by the other worker", every=0.5)
    assert set(smtp.handler.ids) == message_ids(app, ids)
    assert smtp.handler.total() == 200 and smtp.handler.twice() == {}
    with app.app_context():
        tried_twice = db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.attempts == 2)
        )
    assert tried_twice >= 4  # the dead worker's claims lapsed and were taken again


def test_a_batch_claimed_by_a_killed_worker_goes_out_once_when_its_claim_lapses(
    make_queue_app, namespace, smtp
):
    machine_redis()
    config = settings(namespace, smtp, DELIVERY_BATCH=20)
    app = make_queue_app(config)
    ids = fill_outbox(app, 60)
    smtp.handler.hold()  # every send waits at its first recipient
    hand_out(app)
    doomed = make_queue_app.worker(config, threads=2)
    wait_until(lambda: smtp.handler.held == 2, "both threads to be in their first send")
    doomed.kill()  # each thread held a claimed batch of 20, none of it sent
    smtp.handler.release()
    with app.app_context():
        claimed = db.session.execute(
            select(OutboxMessage.id, OutboxMessage.next_attempt_at)
            .where(OutboxMessage.attempts == 1)
            .order_by(OutboxMessage.id)
        ).all()
        db.session.remove()
    assert len(claimed) == 40 and sent_count(app) == 0 and smtp.handler.total() == 0
    lapses = min(until for _id, until in claimed)
    held_ids = message_ids(app, [outbox_id for outbox_id, _until in claimed])

    make_queue_app.worker(config, threads=2)

    def arrived(wanted: set[str]):
        def check():
            hand_out(app)  # as the scheduler does every minute
            return wanted <= set(smtp.handler.ids)

        return check

    wait_until(arrived(message_ids(app, ids) - held_ids), "the 20 nobody held", every=0.5)
    seen, now = set(smtp.handler.ids), utcnow()
    if now < lapses:  # the claims still stood: nothing they cover was sent
        assert not held_ids & seen
    wait_until(arrived(held_ids), "the held batches, once their claims lapse", every=0.5)
    assert set(smtp.handler.ids) == message_ids(app, ids)
    assert smtp.handler.total() == 60 and smtp.handler.twice() == {}
    with app.app_context():
        tries = dict(db.session.execute(select(OutboxMessage.id, OutboxMessage.attempts)).all())
        db.session.remove()
    assert sorted(tries[outbox_id] for outbox_id, _until in claimed) == [2] * 40
    assert sorted(tries.values()) == [1] * 20 + [2] * 40


def test_a_broker_restart_mid_run_loses_nothing_and_sends_nothing_twice(
    make_queue_app, namespace, smtp, tmp_path
):
    broker = RedisServer(tmp_path)
    broker.start()
    try:
        config = settings(namespace, smtp, broker.url)
        app = make_queue_app(config)
        ids = fill_outbox(app, 300)
        hand_out(app)
        make_queue_app.worker(config, threads=3)
        make_queue_app.worker(config, threads=3)
        wait_until(lambda: smtp.handler.total() >= 60, "the first messages to arrive")

        broker.shutdown()  # the waiting tasks are gone with it
        assert sent_count(app) < 300
        broker.start()
        queue.forget_brokers()

        def delivered():
            hand_out(app)  # as the scheduler does every minute
            return sent_count(app) == 300

        wait_until(delivered, "every message sent after the restart", every=0.5)
        assert set(smtp.handler.ids) == message_ids(app, ids)
        assert smtp.handler.total() == 300 and smtp.handler.twice() == {}
    finally:
        broker.stop()


def test_workers_text_at_once_refuse_for_good_on_5xx_and_back_off_on_4xx(
    make_queue_app, namespace, smtp
):
    from tests.queue_support import SlowTextService
    from trainer.messages.delivery import BACKOFF
    from trainer.models import SMS
    from trainer.people.services import create_user

    machine_redis()
    smtp.handler.refuse.add("gone@example.com")
    smtp.handler.defer.add("busy@example.com")
    with SlowTextService(delay=0.1) as texts:
        config = settings(namespace, smtp, SMS_URL=texts.service.sms_url())
        app = make_queue_app(config)
        with app.app_context():
            now = utcnow() - timedelta(seconds=1)
            for n in range(24):
                person = create_user(db.session, name=f"Kai {n}", phone=f"+4479111234{n:02d}")
                db.session.flush()
                queue_message(
                    db.session, to=person.phone, subject="Refresher", text="Five minutes.",
                    short="Your refresher is ready", channels=(SMS,), user_id=person.id, now=now,
                )  # fmt: skip
            for address in ("gone@example.com", "busy@example.com", "fine@example.com"):
                queue_message(db.session, to=address, subject="Hello", text="Hi.", now=now)
            db.session.commit()
        assert hand_out(app).due == 27
        make_queue_app.worker(config, threads=4)

        def settled():
            with app.app_context():
                rows = db.session.scalars(select(OutboxMessage)).all()
                db.session.remove()
            return all(r.sent_at or r.failed_at or r.last_error for r in rows) and rows

        rows = {row.to: row for row in wait_until(settled, "every message tried")}
        assert len(texts.service.taken()) == 24
        assert texts.most_at_once >= 2  # text messages went out side by side
        assert rows["gone@example.com"].failed_at is not None
        assert "550" in rows["gone@example.com"].last_error
        busy = rows["busy@example.com"]
        assert busy.sent_at is None and busy.failed_at is None and "451" in busy.last_error
        assert rows["fine@example.com"].sent_at is not None
        with app.app_context():
            busy = db.session.get(OutboxMessage, busy.id)
            tried_at = busy.next_attempt_at - BACKOFF[0]
            assert abs((utcnow() - tried_at).total_seconds()) < 60  # due again a minute after
            db.session.remove()


def test_planning_in_shards_on_workers_plans_what_one_process_plans_and_nothing_twice(
    make_queue_app, namespace, smtp
):
    from tests.conftest import sync_starter_library
    from tests.test_review import make_learner, take_quiz
    from trainer.models import Refresher
    from trainer.review.planning import Shards, plan_refreshers

    machine_redis()
    config = settings(namespace, smtp, PLANNING_SHARD_LEARNERS=3, CONTENT_DIR=str(ROOT))
    app = make_queue_app(config)
    sync_starter_library(app)
    zones = ["America/Los_Angeles", "Europe/London", "Australia/Sydney"]
    with app.app_context():
        for n in range(12):
            learner = make_learner(f"learner{n}@example.com", zones[n % 3])
            if n != 7:  # one has no cards: nothing to plan for them
                take_quiz(learner, when=utcnow() - timedelta(days=15))
        now = datetime.combine(utcnow().date(), datetime.min.time()) + timedelta(hours=7)
        shards = plan_refreshers(db.session, now)
        again = plan_refreshers(db.session, now)  # the same shards handed out twice
        db.session.remove()
    # At 07:00 UTC London and Sydney are in one day (8 learners: 3 shards of at most 3), Los
    # Angeles still in the day before (4 learners: 2 shards).
    assert shards == again and isinstance(shards, Shards)
    assert (shards.learners, shards.days, shards.tasks) == (12, 2, 5)
    assert str(shards) == "Planning for 12 learners handed out as 5 shard tasks (2 local days)."
    make_queue_app.worker(config, threads=2)
    make_queue_app.worker(config, threads=2)

    def planned():
        with app.app_context():
            rows = db.session.execute(
                select(Refresher.user_id, Refresher.local_date, Refresher.item_ids)
            ).all()
            db.session.remove()
            return sorted(rows)

    def settled():
        with app.app_context():
            done = queue.waiting(queue.PLANNING) == 0 and len(planned()) == 11
        return done

    wait_until(settled, "the shards to be planned")
    by_workers = planned()
    with app.app_context():
        db.session.execute(Refresher.__table__.delete())
        db.session.commit()
        app.config["BROKER_URL"] = None
        assert plan_refreshers(db.session, now) == 11
        db.session.remove()
    assert planned() == by_workers


def test_managers_digests_are_written_by_workers_once_each(make_queue_app, namespace, smtp):
    from tests.conftest import sync_starter_library
    from tests.test_notify import manage, person
    from trainer.notify import jobs

    machine_redis()
    config = settings(namespace, smtp, CONTENT_DIR=str(ROOT))
    app = make_queue_app(config)
    sync_starter_library(app)
    for n, team in enumerate(("Millbrook", "Riverside", "Harbour")):
        person(app, f"staff{n}@example.com", job_role="teller", team=team)
        boss = person(app, f"boss{n}@example.com", role="manager", timezone="UTC")
        manage(app, boss, team)
    monday = datetime(2026, 11, 23, 9, 0)
    with app.app_context():
        said = jobs.manager_digest(db.session, monday)
        assert jobs.manager_digest(db.session, monday) == said  # handed out twice
        db.session.remove()
    assert said == "Digests for 3 managers handed out as 1 tasks."
    make_queue_app.worker(config, threads=2)

    def digests():
        with app.app_context():
            rows = db.session.scalars(
                select(OutboxMessage.to).where(OutboxMessage.kind == "digest")
            ).all()
            waiting = queue.waiting(queue.PLANNING)
            db.session.remove()
        return sorted(rows) if waiting == 0 and len(rows) >= 3 else None

    assert wait_until(digests, "the digests") == [f"boss{n}@example.com" for n in range(3)]
    with app.app_context():
        assert jobs.manager_digest(db.session, monday) == 0  # this week's are all written


def test_jobs_list_and_the_admin_outbox_show_what_waits_and_how_fast_it_goes(
    make_queue_app, namespace, smtp
):
    import re

    from trainer.people.services import create_user

    machine_redis()
    config = settings(namespace, smtp)
    app = make_queue_app(config)
    with app.app_context():
        create_user(db.session, email="admin@example.com", name="Ada", password="correct horse",
                    role="admin")  # fmt: skip
        db.session.commit()
    fill_outbox(app, 120)
    hand_out(app)

    listing = app.test_cli_runner().invoke(args=["jobs", "list"])
    assert listing.exit_code == 0, listing.output
    assert f"Task queue: redis://127.0.0.1:6379/0 (keys {namespace}:*)" in listing.output
    waiting = re.search(
        r"messages +12 tasks waiting; the oldest enqueued (\S+ \S+) UTC", listing.output
    )
    assert waiting, listing.output
    assert re.search(r"planning +0 tasks waiting\n", listing.output)
    assert re.search(
        r"Outbox: 120 messages waiting \(120 due now\), the oldest queued \d+ s ago; "
        r"0 sent in the last hour \(0\.0 a minute\)\.", listing.output
    ), listing.output  # fmt: skip

    client = app.test_client()
    client.post("/login", data={"email": "admin@example.com", "password": "correct horse"})
    before = client.get("/admin/outbox").get_data(as_text=True)
    assert (
        "<strong>120</strong> messages waiting to be sent (120 due now, the oldest queued" in before
    )
    assert "Delivered in the last hour: <strong>0</strong> (0.0 a minute)." in before
    assert "Delivery tasks waiting for a worker: 12." in before

    make_queue_app.worker(config, threads=4)
    wait_until(lambda: sent_count(app) == 120, "every message sent")
    after = client.get("/admin/outbox").get_data(as_text=True)
    assert "<strong>0</strong> messages waiting to be sent (0 due now)." in after
    assert "Delivered in the last hour: <strong>120</strong> (2.0 a minute)." in after
    listing = app.test_cli_runner().invoke(args=["jobs", "list"])
    assert "Outbox: 0 messages waiting (0 due now); 120 sent in the last hour (2.0 a minute)." in (
        listing.output
    )


def test_worker_without_a_broker_says_what_to_set(runner):
    result = runner.invoke(args=["worker"])
    assert result.exit_code == 2
    assert "No BROKER_URL set" in result.output
    assert "redis://127.0.0.1:6379/0" in result.output


def test_a_worker_of_several_processes_starts_again_one_that_dies_and_stops_them_all(
    tmp_path, postgres_schema, namespace
):
    import os
    import signal
    import subprocess
    import sys

    from tests.conftest import POSTGRES_URL

    machine_redis()
    log = tmp_path / "supervisor.log"
    env = {
        **os.environ,
        "FLASK_CONFIG": "development",
        "DATABASE_URL": POSTGRES_URL,
        "PGOPTIONS": f"-csearch_path={postgres_schema}",
        "BROKER_URL": REDIS_URL,
        "BROKER_NAMESPACE": namespace,
        "PYTHONUNBUFFERED": "1",
    }
    with open(log, "wb") as out:
        supervisor = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "trainer", "worker", "--processes", "2",
             "--threads", "1"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        text = lambda: log.read_text(errors="replace")  # noqa: E731
        wait_until(lambda: text().count("Worker ready") == 2, "two worker processes")
        pids = [int(pid) for pid in re.findall(r"Worker ready \(pid (\d+)", text())]
        os.kill(pids[0], signal.SIGKILL)
        wait_until(lambda: text().count("Worker ready") == 3, "the dead one started again")
        assert f"Worker process {pids[0]} ended (status -9); starting another." in text()
        supervisor.terminate()
        assert supervisor.wait(timeout=90) == 0
        assert text().count("Worker stopped.") == 2
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
