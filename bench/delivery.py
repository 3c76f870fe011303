"""Delivering the outbox: today's in-process job against `flask worker` processes on Redis and
PostgreSQL, to an SMTP server that answers each message after 20 ms, every message counted at
the server by its Message-ID."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from bench.common import Figure, Result, running_workers

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/0")
SENDER = "Frontline Trainer <no-reply@trainer.example>"
SERVER_DELAY = 0.02
THREADS = 8  # per worker process (WORKER_THREADS)
BATCH = 50  # DELIVERY_BATCH (its default)
WORKER_COUNTS = (1, 2, 4)
TARGET_RATE = 300.0  # messages a second with 4 workers: a million within the hour
TARGET_RATIO = 10.0  # times the in-process job


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Sink:
    """bench/smtp_sink.py in a process of its own (not sharing a GIL with what it measures)."""

    def __init__(self, workdir: Path):
        self.port = _free_port()
        self.counts = workdir / f"counts-{self.port}.json"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.smtp_sink", "--port", str(self.port),
             "--delay", str(SERVER_DELAY), "--counts", str(self.counts)],
            cwd=ROOT, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.process.stdout.readline().strip() == "ready"

    def finish(self) -> dict:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        return json.loads(self.counts.read_text())


def _settings(schema: str, namespace: str, port: int) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": POSTGRES_URL,
        "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": f"-csearch_path={schema}"}},
        "BROKER_NAMESPACE": namespace,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": port,
        "MAIL_DEFAULT_SENDER": SENDER,
        "DELIVERY_BATCH": BATCH,
    }


def _fill(app, count: int) -> None:
    """`count` due emails, as `queue_message` leaves them, written in bulk."""
    from trainer.extensions import db
    from trainer.models import Delivery, OutboxMessage, utcnow

    with app.app_context():
        conn = db.session.connection()
        conn.execute(sa.text("truncate outbox, outbox_deliveries restart identity cascade"))
        now = utcnow() - timedelta(seconds=1)
        rows = [
            {
                "to": f"person{n}@example.com",
                "subject": "Your refresher is ready",
                "text": "Three questions are waiting for you. It takes five minutes.",
                "channel": "email",
                "kind": "reminder",
                "created_at": now,
                "next_attempt_at": now,
                "attempts": 0,
            }
            for n in range(count)
        ]
        conn.execute(sa.insert(OutboxMessage.__table__), rows)
        conn.execute(
            sa.insert(Delivery.__table__).from_select(
                ["message_id", "position", "channel", "attempts"],
                sa.select(OutboxMessage.id, sa.literal(0), sa.literal("email"), sa.literal(0)),
            )
        )
        db.session.commit()


def _sent(app) -> int:
    from trainer.extensions import db
    from trainer.models import OutboxMessage

    with app.app_context():
        found = db.session.scalar(
            sa.select(sa.func.count()).where(OutboxMessage.sent_at.is_not(None))
        )
        db.session.remove()
        return found


def _in_process(app, count: int, workdir: Path) -> tuple[float, dict]:
    """Today's design: the `deliver-mail` job (200 a run, one SMTP connection), run back to
    back in one process; messages a second."""
    from trainer.extensions import db
    from trainer.messages import deliver_pending

    sink = Sink(workdir)
    app.config.update(MAIL_PORT=sink.port, BROKER_URL=None)
    _fill(app, count)
    started = time.perf_counter()
    with app.app_context():
        while _sent(app) < count:
            deliver_pending(db.session)
        db.session.remove()
    elapsed = time.perf_counter() - started
    return count / elapsed, sink.finish()


def _workers(app, schema: str, count: int, processes: int, workdir: Path) -> tuple[float, dict]:
    from trainer.extensions import db
    from trainer.jobs import queue
    from trainer.messages import deliver_pending

    sink = Sink(workdir)
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    app.config.update(MAIL_PORT=sink.port, BROKER_URL=BROKER_URL, BROKER_NAMESPACE=namespace)
    _fill(app, count)
    env = {
        **os.environ,
        "FLASK_CONFIG": "development",
        "DATABASE_URL": POSTGRES_URL,
        "PGOPTIONS": f"-csearch_path={schema}",
        "BROKER_URL": BROKER_URL,
        "BROKER_NAMESPACE": namespace,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(sink.port),
        "MAIL_DEFAULT_SENDER": SENDER,
        "DELIVERY_BATCH": str(BATCH),
        "PYTHONUNBUFFERED": "1",
    }
    logs = [workdir / f"worker-{processes}-{n}.log" for n in range(processes)]
    try:
        with running_workers(env, logs, "--threads", str(THREADS)):
            load = os.getloadavg()[0]
            started = time.perf_counter()
            with app.app_context():
                deliver_pending(db.session)  # the scheduler's run: hands out the tasks
                db.session.remove()
            deadline = time.monotonic() + 900
            while _sent(app) < count:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"only {_sent(app)} of {count} sent in 900 s")
                time.sleep(0.1)
            elapsed = time.perf_counter() - started
            counts_load = (load, os.getloadavg()[0])
    finally:
        with app.app_context():
            client = queue.broker(app.config).client
            keys = list(client.scan_iter(f"{namespace}:*"))
            if keys:
                client.delete(*keys)
        queue.forget_brokers()
    counts = sink.finish()
    counts["load"] = counts_load
    return count / elapsed, counts


def _once(counts: dict, count: int) -> bool:
    return counts["accepted"] == counts["distinct"] == count and counts["twice"] == 0


def run(quick: bool = False) -> Result:
    from trainer import create_app
    from trainer.extensions import db

    count = 2_000 if quick else 20_000
    baseline_count = 300 if quick else 2_000
    schema = f"bench_delivery_{os.getpid()}"
    engine = sa.create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(sa.text(f'create schema "{schema}"'))
    result = Result("delivery", "Delivering 20,000 queued emails, in process and on workers")
    try:
        app = create_app("development", _settings(schema, "bench", 0))
        with app.app_context():
            db.create_all()
        with tempfile.TemporaryDirectory(prefix="bench-delivery-") as tmp:
            workdir = Path(tmp)
            base_rate, base_counts = _in_process(app, baseline_count, workdir)
            result.figures.append(
                Figure(
                    "in process (today's deliver-mail job, back to back)",
                    base_rate,
                    "msg/s",
                    note=f"{baseline_count:,} messages; exactly once at the server: "
                    f"{'yes' if _once(base_counts, baseline_count) else 'NO'}; "
                    f"{base_counts['connections']} SMTP connections",
                )
            )
            for processes in WORKER_COUNTS:
                rate, counts = _workers(app, schema, count, processes, workdir)
                once = _once(counts, count)
                target = processes == max(WORKER_COUNTS)
                result.figures.append(
                    Figure(
                        f"{processes} worker{'s' if processes > 1 else ''} × {THREADS} threads",
                        rate,
                        "msg/s",
                        target=f"≥ {TARGET_RATE:.0f} msg/s" if target else "",
                        passed=(rate >= TARGET_RATE) if target else None,
                        baseline=base_rate,
                        baseline_name="in process",
                        note=f"{count:,} messages; accepted {counts['accepted']:,}, distinct "
                        f"{counts['distinct']:,}, twice {counts['twice']}; "
                        f"{counts['connections']} SMTP connections; load average "
                        f"{counts['load'][0]:.1f} at the start, {counts['load'][1]:.1f} at the end",
                    )
                )
                result.figures.append(
                    Figure(
                        f"{processes} worker{'s' if processes > 1 else ''}: every message "
                        "exactly once at the server",
                        1.0 if once else 0.0,
                        "ok",
                        target="yes",
                        passed=once,
                    )
                )
                if target:
                    result.figures.append(
                        Figure(
                            f"{processes} workers / in process",
                            rate / base_rate,
                            "×",
                            target=f"≥ {TARGET_RATIO:.0f}",
                            passed=rate / base_rate >= TARGET_RATIO,
                        )
                    )
                    hour = rate * 3600
                    result.notes.append(
                        f"At {rate:,.0f} messages a second, {processes} workers send "
                        f"{hour:,.0f} an hour; the in-process job, run back to back, "
                        f"{base_rate * 3600:,.0f}, and as scheduled today (200 a minute) 12,000."
                    )
    finally:
        from trainer.jobs import queue

        queue.forget_brokers()
        with engine.begin() as conn:
            conn.execute(sa.text(f'drop schema "{schema}" cascade'))
        engine.dispose()
    return result
