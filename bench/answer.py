"""Benchmark 2, `answer`: recording one answer on a database that already holds a million.

`store_attempt` grades the choice, inserts the attempt, finds the learner's usual pace, updates
the review card with FSRS, logs the review and commits. Its latency is compared with the bare
single-row INSERT + COMMIT into the same table, timed alternately in the same run so both see
the same disk.
"""

from __future__ import annotations

import json
import math
import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from bench.common import SQLITE_DATETIME, Figure, Result, connect_raw, create_schema, make_app
from bench.common import secondary_indexes as _indexes

USERS = 2_000
ITEMS = 200
FRESH_ITEMS = 50  # items nobody has answered yet: a first answer creates the card
ATTEMPTS = 1_000_000
ANSWERS = 500
SEED = 7
NOW = datetime(2025, 3, 12, 9, 0)
TARGET_MEDIAN_MS = 5.0
CHOICES = [
    {"text": "The right thing", "weight": 1.0, "feedback": "Yes."},
    {"text": "A wrong thing", "weight": 0.0, "feedback": "No."},
    {"text": "Another wrong thing", "weight": 0.0, "feedback": "No."},
]


def build(db_path: Path, users: int, items: int, attempts: int) -> None:
    create_schema(db_path)
    rng = random.Random(SEED)
    conn = connect_raw(db_path)
    dropped = _indexes(conn, ("attempts", "review_cards"))
    conn.execute("BEGIN")
    for name, _sql in dropped:
        conn.execute(f'DROP INDEX "{name}"')
    now_s = NOW.strftime(SQLITE_DATETIME)
    quizzes = max(1, items // 10)
    conn.executemany(
        "INSERT INTO quizzes (id, key, title, source_path, retired, updated_at) "
        "VALUES (?, ?, ?, ?, 0, ?)",
        [(q, f"quiz-{q}", f"Quiz {q}", f"quizzes/{q}.gift", now_s) for q in range(1, quizzes + 1)],
    )
    choices = json.dumps(CHOICES)
    conn.executemany(
        "INSERT INTO quiz_items (id, quiz_id, key, type, prompt, text_format, choices, "
        "explanation, category, position, retired, updated_at) "
        "VALUES (?,?,?,'single',?,'markdown',?,'','',?,0,?)",
        [
            (i, 1 + (i - 1) % quizzes, f"item-{i}", f"Question {i}?", choices, i, now_s)
            for i in range(1, items + FRESH_ITEMS + 1)
        ],
    )
    conn.executemany(
        "INSERT INTO lessons (id, key, title, skill, roles, minutes, quiz_id, scenario_md, "
        "key_points_md, source_path, retired, updated_at) "
        "VALUES (?,?,?,?,'[]',5,?,'A scene.','- a point',?,0,?)",
        [
            (q, f"lesson-{q}", f"Lesson {q}", f"skill-{q % 8}", q, f"lessons/{q}.md", now_s)
            for q in range(1, quizzes + 1)
        ],
    )
    conn.executemany(
        "INSERT INTO users (id, email, name, role, timezone, reminder_time, reminders_off, "
        "active, created_at) VALUES (?, ?, ?, 'learner', 'Europe/London', '18:00:00.000000', "
        "0, 1, ?)",
        [(u, f"learner{u}@bench.example", f"Learner {u}", now_s) for u in range(1, users + 1)],
    )

    # Each learner's answers spread over the last 180 days on a minute grid.
    stamps: dict[int, str] = {}

    def ago(minutes: int) -> str:
        text = stamps.get(minutes)
        if text is None:
            text = stamps[minutes] = (NOW - timedelta(minutes=minutes)).strftime(SQLITE_DATETIME)
        return text

    per_user = attempts // users
    right_text, wrong_text = json.dumps(["The right thing"]), json.dumps(["A wrong thing"])

    def rows():
        attempt_id = 0
        rand = rng.random
        for user in range(1, users + 1):
            pace = math.exp(rng.gauss(2.6, 0.3))
            for n in range(per_user):
                attempt_id += 1
                correct = rand() < 0.8
                yield (
                    attempt_id,
                    user,
                    1 + int(rand() * items),
                    None,
                    None,
                    "refresher",
                    "[0]" if correct else "[1]",
                    right_text if correct else wrong_text,
                    int(correct),
                    1.0 if correct else 0.0,
                    round(pace * (0.5 + rand()), 1),
                    ago(int(rand() * 180 * 24 * 60)),
                    f"bench-{user}-{n}",
                )

    conn.executemany("INSERT INTO attempts VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows())

    def cards():
        card_id = 0
        for user in range(1, users + 1):
            for item in range(1, items + 1):
                card_id += 1
                stability = min(365.0, math.exp(rng.gauss(2.3, 0.9)))
                last = int(rng.random() * 60 * 24 * 60)
                due = last - int(stability * 24 * 60)
                yield (
                    card_id,
                    user,
                    item,
                    2,
                    None,
                    stability,
                    3 + 5 * rng.random(),
                    ago(due),
                    ago(last),
                    4,
                    0,
                    ago(last + 90 * 24 * 60),
                )

    conn.executemany("INSERT INTO review_cards VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", cards())
    for _name, sql in dropped:
        conn.execute(sql)
    conn.execute("COMMIT")
    conn.close()


def _ms(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    return statistics.median(ordered) * 1000, p95 * 1000


BARE_SQL = (
    "INSERT INTO attempts (user_id, item_id, context, chosen, chosen_text, correct, "
    "score, seconds, answered_at, token) VALUES (?, ?, 'refresher', '[0]', "
    "'[\"The right thing\"]', 1, 1.0, ?, ?, ?)"
)
#: How SQLite syncs commits in each pass: the app's default first (the measured figure), then
#: two for context: WAL with synchronous=NORMAL, and no syncing at all (the CPU cost alone).
MODES = {
    "default": None,
    "wal": ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL"),
    "nosync": ("PRAGMA journal_mode=DELETE", "PRAGMA synchronous=OFF"),
}


def _pass(
    app, mode: str, users: int, calls: int, warmup: int, rng: random.Random, fresh: bool = False
):
    """Alternate one bare INSERT + COMMIT and one store_attempt, `calls` times after `warmup`;
    with `fresh`, each answer is the learner's first to its item (no card yet).
    Returns (store_attempt seconds, bare seconds)."""
    from sqlalchemy import event

    from trainer.extensions import db
    from trainer.models import QuizItem, User, utcnow
    from trainer.review.answers import store_attempt

    tag = f"{mode}-first" if fresh else mode
    store_times: list[float] = []
    bare_times: list[float] = []
    with app.app_context():
        engine = db.engine
        engine.dispose()
        pragmas = MODES[mode]

        def on_connect(dbapi_conn, _record):
            for pragma in pragmas:
                dbapi_conn.execute(pragma)

        if pragmas:
            event.listen(engine, "connect", on_connect)
        session = db.session
        raw = engine.raw_connection()  # the same driver and file, no ORM
        cursor = raw.cursor()
        seen: set[tuple[int, int]] = set()
        for n in range(warmup + calls):
            while True:
                user_id = 1 + int(rng.random() * users)
                item_id = (
                    (ITEMS if fresh else 0)
                    + 1
                    + int(rng.random() * (FRESH_ITEMS if fresh else ITEMS))
                )
                if not fresh or (user_id, item_id) not in seen:
                    seen.add((user_id, item_id))
                    break
            user = session.get(User, user_id)
            item = session.get(QuizItem, item_id)
            # Loaded before the clock starts, as a request has the learner (from the login)
            # and the item (from the form) before it records the answer.
            _ = (user.id, user.timezone, item.choices)
            chosen = [0] if rng.random() < 0.8 else [1 + int(rng.random() * 2)]
            seconds = round(rng.uniform(4, 40), 1)
            params = (
                user.id,
                item.id,
                seconds,
                utcnow().strftime(SQLITE_DATETIME),
                f"bare-{tag}-{n}",
            )

            start = time.perf_counter()
            cursor.execute(BARE_SQL, params)
            raw.commit()
            bare = time.perf_counter() - start

            start = time.perf_counter()
            store_attempt(session, user, item, chosen, f"timed-{tag}-{n}", seconds)
            stored = time.perf_counter() - start
            if n >= warmup:
                bare_times.append(bare)
                store_times.append(stored)
            session.close()  # as at the end of a request: the next one starts afresh
        cursor.close()
        raw.close()
        session.remove()
        if pragmas:
            event.remove(engine, "connect", on_connect)
        engine.dispose()
    return store_times, bare_times


def measure(scale: float, workdir: Path) -> Result:
    from sqlalchemy import func, select

    from trainer.extensions import db
    from trainer.models import Attempt, ReviewLog

    users, attempts = int(USERS * scale), int(ATTEMPTS * scale)
    db_path = workdir / "answer.sqlite"
    t0 = time.perf_counter()
    build(db_path, users, ITEMS, attempts)
    build_seconds = time.perf_counter() - t0
    print(
        f"  built {attempts:,} attempts for {users:,} learners over {ITEMS} items "
        f"in {build_seconds:.1f} s",
        flush=True,
    )

    rng = random.Random(SEED + 1)
    app = make_app(db_path)
    warmup = 20
    store_times, bare_times = _pass(app, "default", users, ANSWERS, warmup, rng)
    median, p95 = _ms(store_times)
    bare_median, bare_p95 = _ms(bare_times)
    print(
        f"  store_attempt median {median:.2f} ms, p95 {p95:.2f} ms; "
        f"bare INSERT + COMMIT median {bare_median:.2f} ms",
        flush=True,
    )
    context = {}
    for mode in ("wal", "nosync"):
        s_times, b_times = _pass(app, mode, users, ANSWERS // 2, warmup, rng)
        context[mode] = (*_ms(s_times), *_ms(b_times))
    s_times, b_times = _pass(app, "nosync", users, ANSWERS // 2, warmup, rng, fresh=True)
    context["first"] = (*_ms(s_times), *_ms(b_times))
    with app.app_context():
        session = db.session
        stored_rows = session.scalar(
            select(func.count()).select_from(Attempt).where(Attempt.token.like("timed-default-%"))
        )
        logs = session.scalar(select(func.count()).select_from(ReviewLog))
        total = session.scalar(select(func.count()).select_from(Attempt))
        session.remove()
        db.engine.dispose()

    calls = warmup + ANSWERS + 3 * (warmup + ANSWERS // 2)
    ok = stored_rows == warmup + ANSWERS and logs == calls
    wal, nosync, first = context["wal"], context["nosync"], context["first"]
    result = Result("answer", "Recording an answer (store_attempt)")
    result.figures += [
        Figure(
            "store_attempt median",
            median,
            "ms",
            f"< {TARGET_MEDIAN_MS:.0f} ms",
            median < TARGET_MEDIAN_MS,
            bare_median,
            "bare INSERT + COMMIT median",
        ),
        Figure("store_attempt p95", p95, "ms", "", None, bare_p95, "bare INSERT + COMMIT p95"),
        Figure(
            "answers stored and cards reviewed",
            1 if ok else 0,
            "ok",
            "all",
            ok,
            note=f"{stored_rows} timed attempts; {logs} review logs for {calls} calls",
        ),
        Figure(
            "context: median in WAL, synchronous=NORMAL",
            wal[0],
            "ms",
            "",
            None,
            wal[2],
            "bare INSERT + COMMIT, same mode",
            note=f"p95 {wal[1]:.2f} ms",
        ),
        Figure(
            "context: median with no fsync (CPU only)",
            nosync[0],
            "ms",
            "",
            None,
            nosync[2],
            "bare INSERT + COMMIT, same mode",
            note=f"p95 {nosync[1]:.2f} ms",
        ),
        Figure(
            "context: first answer to an item, no fsync",
            first[0],
            "ms",
            "",
            None,
            nosync[0],
            "a repeat answer, no fsync",
            note=f"p95 {first[1]:.2f} ms; the first answer also creates the card",
        ),
    ]
    result.notes += [
        f"{total:,} attempts in the table at the end; {users:,} learners × {ITEMS} items = "
        f"{users * ITEMS:,} review cards. {ANSWERS} timed calls after {warmup} warm-up calls, "
        "each alternating with one bare INSERT + COMMIT through the same SQLite driver; the "
        "session is closed after each call, as at the end of a request.",
        "The measured figures use SQLite as the app opens it (trainer/sqlite.py): WAL journal, "
        f"synchronous=NORMAL, in both figures. The context rows ({ANSWERS // 2} calls each, "
        "same database) show the "
        "same call in WAL mode with synchronous=NORMAL; with syncing off, which leaves the CPU "
        "cost of grading, the pace query, FSRS and the ORM; and, also without syncing, a "
        f"learner's first answer to an item (one of {FRESH_ITEMS} items nobody has answered), "
        "where `review` creates the card.",
        f"Built in {build_seconds:.0f} s.",
    ]
    return result


def run(quick: bool = False) -> Result:
    with tempfile.TemporaryDirectory(prefix="bench-answer-") as tmp:
        return measure(0.1 if quick else 1.0, Path(tmp))
