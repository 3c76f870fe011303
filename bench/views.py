"""Benchmark 4, `views`: the manager's team view and skill view on a full-size database.

10,000 people in 200 teams of 50 (each with a manager), their role's onboarding path, lesson
runs, about 2,000,000 attempts over the last 180 days, a review card per person and item
answered, and daily refreshers over the last 30 days, on SQLite (a file) and on PostgreSQL (a
fresh schema, dropped at the end). For one 50-person team's manager, `GET /manage/?team=ID`
(the team view) and `GET /manage/skills?team=ID` (the skill view) are timed as full HTTP
requests through Flask's test client, signed in through `/login`, against the bare aggregate
SQL those views need, run through the same engine, alternately. SQL statements are counted per
request for the 50-person team and for a 10-person team of the same manager: they must be
equal.

The data are built with bulk inserts: `executemany` in one transaction on SQLite (secondary
indexes dropped for the load and re-created with the SQL `create_all` gave them), `COPY ...
FROM STDIN` (psycopg's `cursor.copy`) on PostgreSQL, after `db.create_all()` and the starter
library synced by the app's own `load_library` + `sync_library`.
"""

from __future__ import annotations

import cProfile
import csv
import io
import json
import math
import os
import pstats
import random
import statistics
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

from bench.common import (
    SQLITE_DATETIME,
    Figure,
    Result,
    connect_raw,
    secondary_indexes,
)

TEAMS = 200
TEAM_SIZE = 50
SMALL_TEAM = 10  # a second team of the measured team's manager, for the query counts
ATTEMPTS_PER_PERSON = 200  # 10,010 learners x 200 = about 2,000,000 attempts
HISTORY_DAYS = 180
REFRESHER_DAYS = 30
REQUESTS = 200
WARMUP = 10
PROFILED = 20  # requests under cProfile for a view that misses its target
TARGET_P95_MS = 150.0
SEED = 20251123
CHUNK = 500  # learners generated and written per batch
PASSWORD = "bench-manager-password"
MANAGER_EMAIL = "manager1@bench.example"
ZONES = ["Europe/London", "Europe/Berlin", "America/New_York", "America/Chicago", "Asia/Kolkata"]
FIRST = ["Ana", "Ben", "Chloé", "Dev", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jon", "Kai",
         "Lena", "Marc", "Nora", "Omar", "Pia", "Quinn", "Rosa", "Sam", "Tariq", "Uma", "Vik",
         "Wen", "Yara", "Zoé"]  # fmt: skip
LAST = ["Adams", "Berg", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Haas", "Ito",
        "Jansen", "Khan", "Lopez", "Meyer", "Nowak", "Olsen", "Patel", "Rossi", "Silva",
        "Tanaka", "Urban", "Vogel", "Weber", "Young", "Zimmer"]  # fmt: skip
CHECKLISTS = [
    ("greeting-floor", "Greeting at the counter", "first-impression"),
    ("phone-greeting-call", "Answering the phone", "phone-greeting"),
    ("red-carpet-floor", "Red-carpet attention", "red-carpet"),
    ("recovery-call", "Putting a mistake right", "service-recovery"),
]
POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL",
    os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
)

# -- the bare SQL the views need (the baseline) ------------------------------------------------

TEAM_IDS = "SELECT id FROM users WHERE team_id = :team AND active = :yes"
TEAM_SQL = {
    "completed lessons per person": (
        "SELECT user_id, count(DISTINCT lesson_id) FROM lesson_runs "
        f"WHERE user_id IN ({TEAM_IDS}) AND completed_at IS NOT NULL GROUP BY user_id"
    ),
    "latest activity per person": (
        "SELECT user_id, max(at) FROM ("
        f"SELECT user_id, max(answered_at) AS at FROM attempts WHERE user_id IN ({TEAM_IDS}) "
        "GROUP BY user_id UNION ALL "
        f"SELECT user_id, max(completed_at) FROM lesson_runs WHERE user_id IN ({TEAM_IDS}) "
        "GROUP BY user_id UNION ALL "
        f"SELECT user_id, max(completed_at) FROM refreshers WHERE user_id IN ({TEAM_IDS}) "
        "GROUP BY user_id) AS moments GROUP BY user_id"
    ),
    "refreshers planned and done, 30 days": (
        "SELECT user_id, count(*), count(completed_at) FROM refreshers "
        f"WHERE user_id IN ({TEAM_IDS}) AND kind = 'daily' AND local_date >= :since "
        "GROUP BY user_id"
    ),
}
SKILL_SQL = {
    "the team's cards with their skills": (
        "SELECT rc.user_id, coalesce(l.skill, 'general'), rc.stability, rc.last_review "
        "FROM review_cards rc JOIN quiz_items qi ON qi.id = rc.item_id "
        "LEFT JOIN lessons l ON l.quiz_id = qi.quiz_id "
        f"WHERE rc.user_id IN ({TEAM_IDS}) AND qi.retired = :no"
    ),
}

# -- building the data ------------------------------------------------------------------------

COLUMNS = {
    "teams": ("id", "name"),
    "users": (
        "id", "email", "name", "password_hash", "role", "job_role_id", "team_id", "timezone",
        "hire_date", "reminder_time", "reminders_off", "reminders_snoozed_until", "active",
        "created_at", "last_seen_at",
    ),
    "team_managers": ("team_id", "user_id"),
    "observation_checklists": (
        "id", "key", "title", "skill", "points", "builtin", "active", "created_at",
    ),
    "enrolments": (
        "id", "user_id", "path_id", "lesson_id", "start_date", "due_date", "source",
        "assigned_by_id", "created_at",
    ),
    "lesson_runs": ("id", "user_id", "lesson_id", "started_at", "completed_at", "correct", "total"),
    "refreshers": (
        "id", "user_id", "local_date", "kind", "round", "item_ids", "budget_seconds",
        "planned_at", "started_at", "completed_at", "correct", "total", "recall_before",
    ),
    "attempts": (
        "id", "user_id", "item_id", "run_id", "refresher_id", "context", "chosen", "chosen_text",
        "correct", "score", "seconds", "answered_at", "token",
    ),
    "review_cards": (
        "id", "user_id", "item_id", "state", "step", "stability", "difficulty", "due",
        "last_review", "reps", "lapses", "created_at",
    ),
    "observations": (
        "id", "user_id", "observer_id", "checklist_id", "points", "seen", "grade", "note",
        "channel", "observed_at", "token",
    ),
}  # fmt: skip
#: Written batch by batch, in this order (foreign keys first).
PER_PERSON = (
    "enrolments",
    "lesson_runs",
    "refreshers",
    "attempts",
    "review_cards",
    "observations",
)
RIGHT, WRONG = json.dumps(["The right thing"]), json.dumps(["A wrong thing"])
POINTS = json.dumps(["Eye contact", "Uses the name", "Offers more help"])


@dataclass
class Content:
    """What the synced starter library holds, by id."""

    path_of_role: dict[int, int]
    steps: dict[int, list[tuple[int, int]]]  # path -> (lesson, due_days), in order
    items: dict[int, list[int]]  # lesson -> its quiz's live items


@dataclass
class Plan:
    """Who is where: the measured team, the small team, and their manager."""

    now: datetime
    teams: int
    team_size: int = TEAM_SIZE
    team_id: int = 1
    small_team_id: int = 0
    manager_id: int = 1
    learners: int = 0
    rows: dict[str, int] = field(default_factory=dict)


def read_content(session) -> Content:
    from sqlalchemy import select

    from trainer.models import Lesson, Path, PathStep, QuizItem

    path_of_role = {}
    for path_id, role_id in session.execute(
        select(Path.id, Path.job_role_id).where(Path.retired.is_(False)).order_by(Path.id)
    ):
        path_of_role.setdefault(role_id, path_id)
    steps: dict[int, list[tuple[int, int]]] = {}
    for path_id, lesson_id, due_days in session.execute(
        select(PathStep.path_id, PathStep.lesson_id, PathStep.due_days).order_by(
            PathStep.path_id, PathStep.position
        )
    ):
        steps.setdefault(path_id, []).append((lesson_id, due_days))
    items: dict[int, list[int]] = {}
    for lesson_id, item_id in session.execute(
        select(Lesson.id, QuizItem.id)
        .join(QuizItem, QuizItem.quiz_id == Lesson.quiz_id)
        .where(QuizItem.retired.is_(False))
        .order_by(Lesson.id, QuizItem.position, QuizItem.id)
    ):
        items.setdefault(lesson_id, []).append(item_id)
    return Content(path_of_role, steps, items)


class Generator:
    """Every row of the people side, deterministic for a seed. `ts` and `day` turn datetimes
    and dates into what the database's bulk path takes (text for SQLite, objects for COPY)."""

    def __init__(self, content: Content, plan: Plan, ts, day, password_hash: str):
        self.content = content
        self.plan = plan
        self.ts = ts
        self.day = day
        self.password_hash = password_hash
        self.rng = random.Random(SEED)
        self.ids = dict.fromkeys(PER_PERSON, 0)
        self.roles = sorted(content.path_of_role)

    def _next(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def fixed_rows(self) -> dict[str, list[tuple]]:
        """Teams, managers, learners, who manages what, and the observation checklists."""
        plan, ts, day = self.plan, self.ts, self.day
        rng = random.Random(SEED + 1)
        plan.small_team_id = plan.teams + 1
        created = ts(plan.now - timedelta(days=400))
        teams = [(t, f"Team {t:03d}") for t in range(1, plan.teams + 1)]
        teams.append((plan.small_team_id, "Small team"))
        users, managers = [], []
        reminder = day(clock(18))
        for t in range(1, plan.teams + 1):  # manager t has id t and manages team t
            users.append(
                (t, f"manager{t}@bench.example", f"Manager {t:03d}", self.password_hash,
                 "manager", None, None, ZONES[t % len(ZONES)], None, reminder, False, None,
                 True, created, None)
            )  # fmt: skip
            managers.append((t, t))
        managers.append((plan.small_team_id, plan.manager_id))  # the same manager's small team
        self.people: list[tuple] = []  # (id, team, job role, time zone, hire date)
        uid = plan.teams
        sizes = [(t, plan.team_size) for t in range(1, plan.teams + 1)]
        sizes.append((plan.small_team_id, SMALL_TEAM))
        for team, size in sizes:
            role = self.roles[(team - 1) % len(self.roles)] if team <= plan.teams else None
            role = role or self.roles[0]  # the small team does the measured team's job
            for _ in range(size):
                uid += 1
                zone = ZONES[team % len(ZONES)] if rng.random() < 0.8 else rng.choice(ZONES)
                hire = (plan.now - timedelta(days=rng.randint(20, HISTORY_DAYS - 5))).date()
                name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
                users.append(
                    (uid, f"learner{uid}@bench.example", name, None, "learner", role, team,
                     zone, day(hire), reminder, False, None, True,
                     ts(datetime.combine(hire, clock(8))), None)
                )  # fmt: skip
                self.people.append((uid, team, role, zone, hire))
        plan.learners = len(self.people)
        checklists = [
            (n, key, title, skill, POINTS, True, True, created)
            for n, (key, title, skill) in enumerate(CHECKLISTS, 1)
        ]
        return {
            "teams": teams,
            "users": users,
            "team_managers": managers,
            "observation_checklists": checklists,
        }

    def batches(self):
        """Per CHUNK learners, their rows by table."""
        for start in range(0, len(self.people), CHUNK):
            out: dict[str, list[tuple]] = {table: [] for table in PER_PERSON}
            for person in self.people[start : start + CHUNK]:
                self._person(person, out)
            yield out

    def _person(self, person, out) -> None:
        from trainer.review.planning import local_date

        uid, team, role, zone, hire = person
        rng, ts, day, now = self.rng, self.ts, self.day, self.plan.now
        content = self.content
        manager = team if team <= self.plan.teams else self.plan.manager_id
        path_id = content.path_of_role[role]
        out["enrolments"].append(
            (self._next("enrolments"), uid, path_id, None, day(hire), None, "auto", None,
             ts(datetime.combine(hire, clock(8))))
        )  # fmt: skip
        lessons = [lesson for lesson, _d in content.steps[path_id]]
        if rng.random() < 0.1:  # a lesson assigned by the manager, due in a fortnight
            extra = rng.choice([lesson for lesson in content.items if lesson not in lessons])
            out["enrolments"].append(
                (self._next("enrolments"), uid, None, extra, day(now.date()),
                 day(now.date() + timedelta(days=14)), "assigned", manager, ts(now))
            )  # fmt: skip

        attempts = out["attempts"]
        seen: dict[int, list] = {}  # item -> [first, last, reps, lapses, last right]
        learned: list[int] = []
        token = 0

        def answer(item: int, at: datetime, run_id, refresher_id, context: str, p: float):
            nonlocal token
            token += 1
            right = rng.random() < p
            attempts.append(
                (self._next("attempts"), uid, item, run_id, refresher_id, context,
                 "[0]" if right else "[1]", RIGHT if right else WRONG, right,
                 1.0 if right else 0.0, round(rng.uniform(6, 40), 1), ts(at), f"b{uid}-{token}")
            )  # fmt: skip
            state = seen.get(item)
            if state is None:
                seen[item] = [at, at, 1, 0 if right else 1, right]
                learned.append(item)
            else:
                state[1] = max(state[1], at)
                state[2] += 1
                state[3] += not right
                state[4] = right
            return right

        diligence = rng.betavariate(5, 2)
        skip = 0.05 + 0.25 * (1 - diligence)  # the less diligent leave more lessons undone
        for lesson, due_days in content.steps[path_id]:
            items = content.items.get(lesson, [])
            start = datetime.combine(hire, clock(9)) + timedelta(
                days=due_days * rng.uniform(0.4, 1.5), minutes=rng.randint(0, 480)
            )
            if start > now - timedelta(hours=1):
                continue
            if rng.random() < skip:
                if rng.random() < 0.4:  # started, never finished
                    out["lesson_runs"].append(
                        (self._next("lesson_runs"), uid, lesson, ts(start), None, 0, 0)
                    )
                continue
            run_id = self._next("lesson_runs")
            right = sum(
                answer(item, start + timedelta(seconds=40 * (n + 1)), run_id, None, "lesson", 0.8)
                for n, item in enumerate(items)
            )
            done = start + timedelta(seconds=40 * (len(items) + 2))
            out["lesson_runs"].append((run_id, uid, lesson, ts(start), ts(done), right, len(items)))
        if not learned:
            return

        # Daily refreshers over the last 30 days (and today's), on the person's own calendar.
        today = local_date(zone, now)
        for back in range(REFRESHER_DAYS, -1, -1):
            local = today - timedelta(days=back)
            if local <= hire or rng.random() < 0.1:
                continue
            chosen = rng.sample(learned, min(5, len(learned)))
            rid = self._next("refreshers")
            planned = datetime.combine(local, clock(2))
            begun = datetime.combine(local, clock(rng.randint(7, 20), rng.randint(0, 59)))
            finished = begun + timedelta(minutes=4)
            completed = rng.random() < diligence and finished <= now
            right = 0
            if completed:
                right = sum(
                    answer(item, begun + timedelta(seconds=30 * n), None, rid, "refresher", 0.75)
                    for n, item in enumerate(chosen)
                )
            out["refreshers"].append(
                (rid, uid, day(local), "daily", 0, json.dumps(chosen), 300, ts(planned),
                 ts(begun) if completed else None, ts(finished) if completed else None,
                 right, len(chosen) if completed else 0, '{"first-impression": 0.8}')
            )  # fmt: skip

        # Earlier practice, up to ATTEMPTS_PER_PERSON answers in all, spread since the first.
        first = min(state[0] for state in seen.values())
        span = max(60.0, (now - first).total_seconds() - 60)
        for _ in range(ATTEMPTS_PER_PERSON - token):
            at = first + timedelta(seconds=rng.random() * span)
            answer(rng.choice(learned), at, None, None, "refresher", 0.7)

        for item, (first_at, last_at, reps, lapses, right) in seen.items():
            stability = min(365.0, math.exp(rng.gauss(2.0, 0.8)) * (1 + reps / 20))
            out["review_cards"].append(
                (self._next("review_cards"), uid, item, 2 if right else 3, None, stability,
                 rng.uniform(3, 8), ts(last_at + timedelta(days=stability)), ts(last_at), reps,
                 lapses, ts(first_at))
            )  # fmt: skip

        for _ in range(rng.choice((0, 0, 1, 2, 3))):
            checklist = rng.randint(1, len(CHECKLISTS))
            seen_points = json.dumps(["Eye contact"] if rng.random() < 0.5 else [])
            at = now - timedelta(days=rng.uniform(0, (now.date() - hire).days))
            oid = self._next("observations")
            out["observations"].append(
                (oid, uid, manager, checklist, POINTS, seen_points, rng.choice("ABCDEF"), "",
                 "floor", ts(at), f"obs-{oid}")
            )  # fmt: skip


def _sqlite_ts(moment: datetime) -> str:
    return moment.strftime(SQLITE_DATETIME)


def _sqlite_day(value: date | clock) -> str:
    """A date, or a time of day, as SQLAlchemy writes them to SQLite."""
    return value.isoformat() if isinstance(value, date) else value.strftime("%H:%M:%S.%f")


def _quoted(columns) -> str:
    return ", ".join(f'"{c}"' for c in columns)


class SqliteSink:
    """One transaction on a raw connection, the explicit indexes dropped meanwhile."""

    def __init__(self, path: Path):
        self.conn = connect_raw(path)
        self.dropped = secondary_indexes(self.conn, PER_PERSON)
        self.conn.execute("BEGIN")
        for name, _sql in self.dropped:
            self.conn.execute(f'DROP INDEX "{name}"')

    def write(self, table: str, rows: list[tuple]) -> None:
        columns = COLUMNS[table]
        marks = ", ".join("?" for _ in columns)
        self.conn.executemany(f"INSERT INTO {table} ({_quoted(columns)}) VALUES ({marks})", rows)

    def finish(self) -> None:
        for _name, sql in self.dropped:
            self.conn.execute(sql)
        self.conn.execute("COMMIT")
        self.conn.close()


class PostgresSink:
    """COPY ... FROM STDIN per table and batch, in one transaction. The foreign keys, unique
    constraints and secondary indexes of the people's tables are dropped for the load and put
    back afterwards from their own definitions (`pg_get_constraintdef`, `pg_indexes`), which
    checks every key once, in bulk; sequences are moved past the ids written. Then VACUUM
    ANALYZE: the state autovacuum brings a table to after a bulk insert (visibility map and
    statistics)."""

    def __init__(self, schema: str):
        import psycopg

        conninfo = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
        self.conn = psycopg.connect(conninfo, options=f"-csearch_path={schema}")
        tables = list(PER_PERSON)
        self.constraints = self.conn.execute(
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) "
            "FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
            "WHERE n.nspname = %s AND c.contype IN ('f', 'u') "
            "AND c.conrelid::regclass::text = ANY(%s) ORDER BY c.contype DESC",
            (schema, tables),
        ).fetchall()  # unique constraints first, the foreign keys after: so they go back
        self.indexes = self.conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %s "
            "AND tablename = ANY(%s) AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint c JOIN pg_namespace n "
            "ON n.oid = c.connamespace WHERE n.nspname = %s)",
            (schema, tables, schema),
        ).fetchall()
        for table, name, _definition in reversed(self.constraints):
            self.conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _definition in self.indexes:
            self.conn.execute(f'DROP INDEX "{name}"')

    def write(self, table: str, rows: list[tuple]) -> None:
        sql = f"COPY {table} ({_quoted(COLUMNS[table])}) FROM STDIN"
        with self.conn.cursor() as cur, cur.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)

    def finish(self) -> None:
        for _name, definition in self.indexes:
            self.conn.execute(definition)
        for table, name, definition in self.constraints:
            self.conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        for table, columns in COLUMNS.items():
            if columns[0] == "id":
                self.conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 1) FROM {table}))"
                )
        self.conn.commit()
        self.conn.autocommit = True
        self.conn.execute("VACUUM ANALYZE")
        self.conn.close()


def build(
    app, sink_factory, ts, day, teams: int, now: datetime, team_size: int = TEAM_SIZE
) -> Plan:
    """Schema, the starter library, then the people side in bulk."""
    from trainer.auth.passwords import hash_password
    from trainer.content.library import load_library
    from trainer.content.sync import sync_library
    from trainer.extensions import db

    with app.app_context():
        db.create_all()
        library = load_library(app.config["CONTENT_DIR"])
        assert library.ok, library.problems
        sync_library(db.session, library)
        db.session.commit()
        content = read_content(db.session)
        password_hash = hash_password(PASSWORD)
        db.session.remove()
        db.engine.dispose()

    plan = Plan(now=now, teams=teams, team_size=team_size)
    generator = Generator(content, plan, ts, day, password_hash)
    sink = sink_factory()
    for table, rows in generator.fixed_rows().items():
        sink.write(table, rows)
        plan.rows[table] = len(rows)
    for batch in generator.batches():
        for table in PER_PERSON:
            sink.write(table, batch[table])
            plan.rows[table] = plan.rows.get(table, 0) + len(batch[table])
    sink.finish()
    return plan


# -- measuring --------------------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


@dataclass
class Timing:
    p50: float
    p95: float
    n: int

    @classmethod
    def of(cls, seconds: list[float]) -> Timing:
        ms = [1000 * s for s in seconds]
        return cls(statistics.median(ms), _pct(ms, 0.95), len(ms))


def _profile(client, url: str) -> str:
    """Where a view's time goes: the top of cProfile over PROFILED requests."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(PROFILED):
        client.get(url)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    total = stats.total_tt / PROFILED * 1000
    rows = []
    for (filename, line, name), (_cc, _nc, tt, ct, _callers) in stats.stats.items():
        if "/trainer/" in filename or name in ("render", "execute", "fetchall"):
            where = "/".join(Path(filename).parts[-2:])
            rows.append((ct, tt, f"{where}:{line}({name})"))
    rows.sort(reverse=True)
    top = [
        f"{where} {1000 * ct / PROFILED:.1f} ms cumulative, {1000 * tt / PROFILED:.1f} ms own"
        for ct, tt, where in rows[:14]
    ]
    return f"{total:.0f} ms per request under cProfile; " + "; ".join(top)


def measure(app, plan: Plan, label: str, requests: int, problems: list[str]) -> dict:
    from sqlalchemy import event, text

    from trainer.extensions import db

    client = app.test_client()
    response = client.post("/login", data={"email": MANAGER_EMAIL, "password": PASSWORD})
    if response.status_code != 302:
        problems.append(f"{label}: sign-in answered {response.status_code}")
    urls = {
        "team": f"/manage/?team={plan.team_id}",
        "skills": f"/manage/skills?team={plan.team_id}",
    }
    since = (plan.now - timedelta(days=REFRESHER_DAYS + 1)).date()
    params = {"team": plan.team_id, "yes": True, "no": False, "since": since}

    with app.app_context():
        engine = db.engine
        counting = [False, 0]

        def count(*_args):
            if counting[0]:
                counting[1] += 1

        event.listen(engine, "before_cursor_execute", count)

        def statements(url: str) -> int:
            counting[:] = [True, 0]
            response = client.get(url)
            counting[0] = False
            if response.status_code != 200:
                problems.append(f"{label}: {url} answered {response.status_code}")
            return counting[1]

        def bare(sqls: dict[str, str]) -> int:
            rows = 0
            with engine.connect() as conn:
                for sql in sqls.values():
                    rows += len(conn.execute(text(sql), params).fetchall())
            return rows

        # Sanity: every person on both pages, and the team view's lesson counts are the SQL's.
        members = [
            uid
            for (uid,) in db.session.execute(
                text(TEAM_IDS + " ORDER BY id"), {"team": plan.team_id, "yes": True}
            )
        ]
        body = client.get(urls["team"]).get_data(as_text=True)
        if f"{len(members)} people" not in body:
            problems.append(f"{label}: the team view does not show {len(members)} people")
        body = client.get(urls["skills"]).get_data(as_text=True)
        missing = [uid for uid in members if f'/manage/people/{uid}"' not in body]
        if missing:
            problems.append(f"{label}: the skill view leaves out {len(missing)} people")
        # The CSV of the same view (every row, not one page): name and "done of total".
        sheet = client.get(f"/manage/team.csv?team={plan.team_id}").get_data(as_text=True)
        shown = Counter(
            (row[0], int(row[2].split(" of ")[0]) if " of " in row[2] else 0)
            for row in list(csv.reader(io.StringIO(sheet.lstrip("\ufeff"))))[1:]
        )
        with engine.connect() as conn:
            done = dict(conn.execute(text(TEAM_SQL["completed lessons per person"]), params).all())
            names = dict(
                conn.execute(
                    text("SELECT id, name FROM users WHERE team_id = :team"), {"team": plan.team_id}
                ).all()
            )
        expected = Counter((names[uid], done.get(uid, 0)) for uid in members)
        if shown != expected:
            problems.append(
                f"{label}: the team view's (name, lessons done) differ from the bare SQL's for "
                f"{sum((shown - expected).values())} of {len(members)} people"
            )
        db.session.remove()

        counts = {
            (view, size): statements(url.replace(f"={plan.team_id}", f"={team}"))
            for view, url in urls.items()
            for size, team in ((TEAM_SIZE, plan.team_id), (SMALL_TEAM, plan.small_team_id))
        }

        for _ in range(WARMUP):
            for view, url in urls.items():
                client.get(url)
                bare(TEAM_SQL if view == "team" else SKILL_SQL)
        times: dict[str, list[float]] = {key: [] for key in ("team", "skills", "team_sql")}
        times["skills_sql"] = []
        sql_rows = {}
        for _ in range(requests):
            for view, url in urls.items():
                start = time.perf_counter()
                response = client.get(url)
                times[view].append(time.perf_counter() - start)
                if response.status_code != 200:
                    problems.append(f"{label}: {url} answered {response.status_code}")
                sqls = TEAM_SQL if view == "team" else SKILL_SQL
                start = time.perf_counter()
                sql_rows[view] = bare(sqls)
                times[f"{view}_sql"].append(time.perf_counter() - start)
        result = {key: Timing.of(values) for key, values in times.items()}
        profiles = {
            view: _profile(client, url)
            for view, url in urls.items()
            if result[view].p95 >= TARGET_P95_MS
        }
        event.remove(engine, "before_cursor_execute", count)
        db.session.remove()
        db.engine.dispose()
    return {"timing": result, "counts": counts, "sql_rows": sql_rows, "profiles": profiles}


# -- the two databases ------------------------------------------------------------------------


def _sqlite(teams: int, requests: int, now: datetime, workdir: Path, problems: list[str]):
    from trainer import ROOT, create_app

    path = workdir / "views.sqlite"
    app = create_app(
        "test", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "CONTENT_DIR": str(ROOT)}
    )
    start = time.perf_counter()
    plan = build(app, lambda: SqliteSink(path), _sqlite_ts, _sqlite_day, teams, now)
    built = time.perf_counter() - start
    size = path.stat().st_size / 2**20
    print(f"  SQLite: built in {built:.1f} s ({size:,.0f} MB file); {_rows(plan)}", flush=True)
    measured = measure(app, plan, "SQLite", requests, problems)
    return plan, built, measured, f"{size:,.0f} MB file"


def _postgres(teams: int, requests: int, now: datetime, problems: list[str]):
    import sqlalchemy as sa

    from trainer import ROOT, create_app

    schema = f"bench_views_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_URL)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        problems.append(f"PostgreSQL is not reachable at {POSTGRES_URL} ({exc.orig})")
        print(f"  PostgreSQL: not reachable at {POSTGRES_URL}", flush=True)
        return None
    try:
        app = create_app(
            "test",
            {
                "SQLALCHEMY_DATABASE_URI": POSTGRES_URL,
                "SQLALCHEMY_ENGINE_OPTIONS": {
                    "connect_args": {"options": f"-csearch_path={schema}"},
                    "pool_pre_ping": True,
                },
                "CONTENT_DIR": str(ROOT),
            },
        )
        start = time.perf_counter()
        plan = build(app, lambda: PostgresSink(schema), lambda m: m, lambda d: d, teams, now)
        built = time.perf_counter() - start
        with admin.connect() as conn:
            size = conn.execute(
                sa.text(
                    "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = :s AND c.relkind = 'r'"
                ),
                {"s": schema},
            ).scalar()
            version = conn.execute(sa.text("SHOW server_version")).scalar()
        size_mb = (size or 0) / 2**20
        print(f"  PostgreSQL: built in {built:.1f} s ({size_mb:,.0f} MB)", flush=True)
        measured = measure(app, plan, "PostgreSQL", requests, problems)
        return plan, built, measured, f"{size_mb:,.0f} MB in tables and indexes, server {version}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _rows(plan: Plan) -> str:
    return ", ".join(f"{table} {count:,}" for table, count in plan.rows.items())


SHORT_NAMES = {"team": "team view", "skills": "skill view"}
VIEW_NAMES = {
    "team": "team view (GET /manage/?team=ID)",
    "skills": "skill view (GET /manage/skills)",
}


def run(quick: bool = False) -> Result:
    from trainer.models import utcnow

    teams = TEAMS // 10 if quick else TEAMS
    requests = REQUESTS // 4 if quick else REQUESTS
    result = Result("views", "The manager's team and skill views on 10,000 people")
    problems: list[str] = []
    runs = []
    # One moment for both databases, so both hold the same rows.
    now = utcnow().replace(second=0, microsecond=0)
    with tempfile.TemporaryDirectory(prefix="bench-views-") as tmp:
        runs.append(("SQLite", *_sqlite(teams, requests, now, Path(tmp), problems)))
    postgres = _postgres(teams, requests, now, problems)
    if postgres is not None:
        runs.append(("PostgreSQL", *postgres))

    for db_name, plan, built, measured, size in runs:
        timing, counts = measured["timing"], measured["counts"]
        for view in ("team", "skills"):
            t, base = timing[view], timing[f"{view}_sql"]
            print(
                f"  {db_name} {view}: p50 {t.p50:.1f} ms, p95 {t.p95:.1f} ms; bare SQL p50 "
                f"{base.p50:.2f} ms, p95 {base.p95:.2f} ms; statements "
                f"{counts[(view, TEAM_SIZE)]} (50) / {counts[(view, SMALL_TEAM)]} (10)",
                flush=True,
            )
            result.figures.append(
                Figure(
                    f"{db_name}: {VIEW_NAMES[view]} p95",
                    t.p95,
                    "ms",
                    f"< {TARGET_P95_MS:.0f} ms",
                    t.p95 < TARGET_P95_MS,
                    base.p95,
                    "bare SQL p95",
                    note=f"p50 {t.p50:.1f} ms against bare SQL p50 {base.p50:.2f} ms; "
                    f"{t.n} requests; {measured['sql_rows'][view]:,} rows in the bare SQL",
                )
            )
            same = counts[(view, TEAM_SIZE)] == counts[(view, SMALL_TEAM)]
            result.figures.append(
                Figure(
                    f"{db_name}: {SHORT_NAMES[view]} SQL statements per request, 50-person team",
                    counts[(view, TEAM_SIZE)],
                    "statements",
                    "= the 10-person team's",
                    same,
                    counts[(view, SMALL_TEAM)],
                    "10-person team",
                    ratio=None,
                    note="per request, by a before_cursor_execute listener; the signed-in "
                    "user's load included",
                )
            )
        for view, profile in measured["profiles"].items():
            result.notes.append(f"{db_name}, {view} view missed the target; profile: {profile}")
        result.notes.append(
            f"{db_name}: built in {built:.0f} s ({size}); {_rows(plan)} rows written "
            f"in bulk ({plan.learners:,} learners and {plan.teams} managers)."
        )
    result.notes += [
        "Bare SQL, team view: "
        + "; ".join(f"{name}: `{sql}`" for name, sql in TEAM_SQL.items())
        + f" (`:since` = {REFRESHER_DAYS + 1} days ago).",
        "Bare SQL, skill view: "
        + "; ".join(f"{name}: `{sql}`" for name, sql in SKILL_SQL.items())
        + ".",
    ]
    result.figures.append(
        Figure(
            "results correct",
            0 if problems else 1,
            "ok",
            "all checks",
            not problems,
            note="; ".join(problems)
            or "every request 200; all 50 people on both pages; the team view's lessons done "
            "per person (its CSV) equal the bare SQL's",
        )
    )
    return result
