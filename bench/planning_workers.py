"""Planning every learner's refresher at scale on PostgreSQL: the `plan-refreshers` job in one
process against the same job handed out in shards to 4 `flask worker` processes, at the
issue's size (a million learners, 40 million cards; `--quick`: 20,000 learners)."""

from __future__ import annotations

import os
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from bench.common import Figure, Result, running_workers

POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/0")
ITEMS = 40  # review cards per learner
WORKERS = 4
SHARDS_PER_WORKER = 4  # PLANNING_SHARD_LEARNERS is set so that each worker gets about this many
ZONES = (
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Australia/Sydney",
    "Europe/Warsaw",
)
ASKED = (1_000_000, 40_000_000)  # learners and cards the issue asks for


def _build(app, learners: int, now: datetime) -> None:
    """One learner and one card made through the app, then copied in SQL: `learners` learners
    in six time zones, ITEMS cards each, about half of them due by the learner's midnight."""
    from trainer.database import long_statements
    from trainer.extensions import db
    from trainer.models import Quiz, QuizItem, ReviewCard, User

    with app.app_context(), long_statements(0):
        quiz = Quiz(key="bench", title="Bench", source_path="bench.yaml")
        db.session.add(quiz)
        db.session.flush()
        for n in range(ITEMS):
            db.session.add(
                QuizItem(quiz_id=quiz.id, key=f"i{n}", type="single", prompt="?", choices=[])
            )
        template = User(name="Template", email="template@example.com", role="learner")
        db.session.add(template)
        db.session.flush()
        card = ReviewCard(
            user_id=template.id,
            item_id=db.session.scalar(sa.select(sa.func.min(QuizItem.id))),
            state=2,
            due=now,
            stability=10.0,
            difficulty=5.0,
            last_review=now - timedelta(days=10),
        )
        db.session.add(card)
        db.session.commit()
        conn = db.session.connection()
        conn.execute(sa.text("set local maintenance_work_mem = '1GB'"))  # index builds below
        keys = _drop_keys(conn, ("users", "review_cards"))
        users = [c.name for c in User.__table__.columns if c.name != "id"]
        made = {
            "name": "'Learner ' || g",
            "email": "'learner' || g || '@example.com'",
            "timezone": f"(array[{', '.join(repr(z) for z in ZONES)}])[1 + g % {len(ZONES)}]",
        }
        unique = {
            c.name
            for c in User.__table__.columns
            if c.unique
            or any(c.name in index.columns for index in User.__table__.indexes if index.unique)
        }
        picks = [made.get(c) or ("null" if c in unique else f"t.{c}") for c in users]
        conn.execute(
            sa.text(
                f"insert into users ({', '.join(users)}) select {', '.join(picks)} "
                f"from users t, generate_series(1, {learners}) g where t.id = {template.id}"
            )
        )
        cards = [c.name for c in ReviewCard.__table__.columns if c.name != "id"]
        made = {
            "user_id": "u.id",
            "item_id": "i.id",
            "due": "(:now)::timestamp + (random() * 20 - 10) * interval '1 day'",
            "stability": "2 + random() * 30",
            "last_review": "(:now)::timestamp - (5 + random() * 30) * interval '1 day'",
        }
        picks = [made.get(c, f"t.{c}") for c in cards]
        conn.execute(
            sa.text(
                f"insert into review_cards ({', '.join(cards)}) select {', '.join(picks)} "
                f"from review_cards t, users u, quiz_items i "
                f"where t.id = {card.id} and u.id <> {template.id}"
            ),
            {"now": now},
        )
        conn.execute(sa.text(f"delete from review_cards where user_id = {template.id}"))
        conn.execute(sa.text(f"delete from users where id = {template.id}"))
        for statement in keys:
            conn.execute(sa.text(statement))
        db.session.commit()
    engine = sa.create_engine(
        app.config["SQLALCHEMY_DATABASE_URI"],
        **{"connect_args": app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]},
        isolation_level="AUTOCOMMIT",
    )
    with engine.connect() as conn:
        conn.execute(sa.text("vacuum analyze"))
    engine.dispose()


def _drop_keys(conn, tables: tuple[str, ...]) -> list[str]:
    """Drop the tables' indexes and constraints but their primary keys, and return the
    statements that make them again, exactly as they were: rows copied in bulk go in many times
    faster, and each index is then built in one sort and each foreign key checked in one join
    (the data the job reads, and how, are the same)."""
    found = conn.execute(
        sa.text(
            "select conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype "
            "from pg_constraint where conrelid = any(cast(:tables as regclass[])) "
            "and contype in ('u', 'f', 'c') order by contype desc"
        ),
        {"tables": list(tables)},
    ).all()
    indexes = conn.execute(
        sa.text(
            "select indexrelid::regclass::text, pg_get_indexdef(indexrelid) from pg_index "
            "where indrelid = any(cast(:tables as regclass[])) and not indisprimary "
            "and not exists (select 1 from pg_constraint c where c.conindid = indexrelid)"
        ),
        {"tables": list(tables)},
    ).all()
    for table, name, _definition, _kind in found:
        conn.execute(sa.text(f'alter table {table} drop constraint "{name}"'))
    for name, _definition in indexes:
        conn.execute(sa.text(f"drop index {name}"))
    # Indexes first, then unique constraints, then foreign keys (checked against the former).
    return [definition for _name, definition in indexes] + [
        f'alter table {table} add constraint "{name}" {definition}'
        for table, name, definition, _kind in found
    ]


def _planned(app) -> tuple[int, str]:
    """How many refreshers, and a digest of every (learner, day, items) in order."""
    from trainer.extensions import db

    with app.app_context():
        row = db.session.execute(
            sa.text(
                "select count(*), md5(coalesce(string_agg(user_id || ':' || local_date || ':' "
                "|| item_ids::text, ',' order by user_id), '')) from refreshers"
            )
        ).one()
        db.session.remove()
        return row[0], row[1]


def _done(logs: list[Path]) -> int:
    """Shard tasks the workers have finished, by their log lines."""
    return sum(log.read_bytes().count(b"task plan-refreshers-shard done") for log in logs)


def run(quick: bool = False) -> Result:
    from trainer import create_app
    from trainer.database import long_statements
    from trainer.extensions import db
    from trainer.jobs import queue
    from trainer.review.planning import plan_refreshers

    learners = 20_000 if quick else int(os.environ.get("BENCH_PLANNING_LEARNERS", ASKED[0]))
    cards = learners * ITEMS
    schema = f"bench_planning_{os.getpid()}"
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(sa.text(f'create schema "{schema}"'))
    result = Result(
        "planning-workers",
        f"Planning {learners:,} learners' refreshers ({cards:,} cards) on 1 process and on "
        f"{WORKERS} workers",
    )
    logs: list[Path] = []
    shard = max(1_000, learners // (WORKERS * SHARDS_PER_WORKER))
    try:
        app = create_app(
            "development",
            {
                "SQLALCHEMY_DATABASE_URI": POSTGRES_URL,
                "SQLALCHEMY_ENGINE_OPTIONS": {
                    "connect_args": {"options": f"-csearch_path={schema}"}
                },
                "BROKER_URL": None,
                "BROKER_NAMESPACE": namespace,
                "PLANNING_SHARD_LEARNERS": shard,
            },
        )
        with app.app_context():
            db.create_all()
        now = datetime(2026, 11, 30, 9, 0)
        started = time.perf_counter()
        _build(app, learners, now)
        build_seconds = time.perf_counter() - started

        started = time.perf_counter()
        with app.app_context(), long_statements(0):  # as the job runner gives a job
            one_count = plan_refreshers(db.session, now)
            db.session.remove()
        one_seconds = time.perf_counter() - started
        one = _planned(app)
        with app.app_context():
            db.session.execute(sa.text("truncate refreshers cascade"))
            db.session.commit()

        env = {
            **os.environ,
            "FLASK_CONFIG": "development",
            "DATABASE_URL": POSTGRES_URL,
            "PGOPTIONS": f"-csearch_path={schema}",
            "BROKER_URL": BROKER_URL,
            "BROKER_NAMESPACE": namespace,
            "PYTHONUNBUFFERED": "1",
        }
        logs = [Path(f"/tmp/{namespace}-{n}.log") for n in range(WORKERS)]
        with running_workers(env, logs, "--threads", "1", "--queue", "planning") as workers:
            app.config["BROKER_URL"] = BROKER_URL
            started = time.perf_counter()
            with app.app_context():
                shards = plan_refreshers(db.session, now)
                db.session.remove()
            # Done when each shard task has logged its end (after its commit): reading the
            # logs takes nothing from the workers, where counting a million rows again and
            # again would.
            while _done(logs) < shards.tasks:
                if any(worker.poll() is not None for worker in workers):
                    raise RuntimeError("a worker died: " + logs[0].read_text()[-2000:])
                time.sleep(0.2)
            many_seconds = time.perf_counter() - started
        many = _planned(app)

        same = many == one
        result.figures += [
            Figure(
                "one process (no BROKER_URL)",
                one_seconds,
                "s",
                note=f"{one_count:,} refreshers; {cards / one_seconds:,.0f} cards a second",
            ),
            Figure(
                f"{WORKERS} workers, shards of {shard:,} learners",
                many_seconds,
                "s",
                baseline=one_seconds,
                baseline_name="one process",
                note=f"{shards.tasks} shard tasks; {cards / many_seconds:,.0f} cards a second",
            ),
            Figure(
                "the same refreshers (learner, day, items in order) as one process",
                1.0 if same else 0.0,
                "ok",
                target="yes",
                passed=same,
            ),
        ]
        result.notes.append(
            f"Data: {learners:,} learners × {ITEMS} cards, built in SQL in {build_seconds:.0f} s "
            "(one learner and card made by the app, copied with generate_series, the tables' "
            "indexes and constraints made again afterwards)."
        )
        scale = ASKED[1] / cards
        if scale > 1:
            result.notes.append(
                f"EXTRAPOLATION, not measured: the issue's size is {ASKED[0]:,} learners and "
                f"{ASKED[1]:,} cards, {scale:.0f}× this run (the full run measures it). At "
                f"this run's rates, one process would take about {one_seconds * scale / 60:.0f}"
                f" min and {WORKERS} workers on this 2-core machine about "
                f"{many_seconds * scale / 60:.0f} min."
            )
        result.notes.append(
            f"The workers' time falls with the cores they get, since shards share nothing but "
            f"the database; on this machine's 2 cores, {WORKERS} workers and PostgreSQL share "
            "what one process and PostgreSQL had."
        )
    finally:
        for log in logs:
            log.unlink(missing_ok=True)
        queue.forget_brokers()
        with engine.begin() as conn:
            conn.execute(sa.text(f'drop schema "{schema}" cascade'))
        engine.dispose()
    return result
