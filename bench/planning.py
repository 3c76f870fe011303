"""Benchmark 1, `planning`: the nightly job that plans every learner's refresher.

100,000 learners x 40 cards = 4,000,000 review cards in a SQLite file, then
`plan_refreshers(db.session, now)` timed, its memory measured two ways, and the result checked.
The baseline is the bare SQL scan of the same due cards, fetched fully into Python.

The database is built in a child process (`python -m bench.planning build PATH LEARNERS`) so
that the measuring process's peak RSS (ru_maxrss) is not the loader's.
"""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from bench.common import (
    SQLITE_DATETIME,
    Figure,
    Result,
    connect_raw,
    create_schema,
    current_rss_mb,
    make_app,
    max_rss_mb,
    secondary_indexes,
)

CARDS_PER_LEARNER = 40
SKILLS = ["greeting", "phone", "complaints", "upselling", "safety", "cash", "privacy", "recovery"]
ITEMS_PER_SKILL = 5  # 8 skills x 5 = 40 items, one quiz per skill, one lesson linking them
ZONES = [
    "America/Los_Angeles",
    "America/New_York",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Australia/Sydney",
]
#: The moment the job runs: a fixed naive-UTC time, so every run plans the same local days.
NOW = datetime(2025, 3, 12, 5, 0)
BATCH = 50_000
SEED = 20250312
PACE_SHARE = 0.2  # learners with recent answers (the rest fall back to the default pace)

TARGET_SECONDS = 60.0
TARGET_MB = 300.0
TARGET_RATIO = 5.0

BARE_SCAN = (
    "SELECT user_id, item_id, stability, last_review, due FROM review_cards "
    "WHERE due <= :horizon ORDER BY user_id"
)


# -- building the data ------------------------------------------------------------------------


def _stamp(moment: datetime) -> str:
    return moment.strftime(SQLITE_DATETIME)


def build(db_path: Path, learners: int) -> dict:
    """Schema by db.create_all(), then everything bulk-inserted in one transaction."""
    started = time.perf_counter()
    create_schema(db_path)
    rng = random.Random(SEED)
    conn = connect_raw(db_path)
    dropped = secondary_indexes(conn, ("review_cards", "attempts"))
    conn.execute("BEGIN")
    for name, _sql in dropped:
        conn.execute(f'DROP INDEX "{name}"')

    now_s = _stamp(NOW)
    # Content: a quiz per skill with five single-choice items, and a lesson tying it to a skill.
    choices = json.dumps(
        [
            {"text": "The right thing", "weight": 1.0, "feedback": "Yes."},
            {"text": "A wrong thing", "weight": 0.0, "feedback": "No."},
            {"text": "Another wrong thing", "weight": 0.0, "feedback": "No."},
        ]
    )
    conn.executemany(
        "INSERT INTO quizzes (id, key, title, source_path, retired, updated_at) "
        "VALUES (?, ?, ?, ?, 0, ?)",
        [(q, f"q-{s}", f"Quiz {s}", f"quizzes/{s}.gift", now_s) for q, s in enumerate(SKILLS, 1)],
    )
    items = []
    for q, skill in enumerate(SKILLS, 1):
        for k in range(ITEMS_PER_SKILL):
            item_id = (q - 1) * ITEMS_PER_SKILL + k + 1
            items.append(
                (
                    item_id,
                    q,
                    f"{skill}-{k}",
                    "single",
                    f"Question {item_id}?",
                    "markdown",
                    choices,
                    "",
                    skill,
                    k,
                    0,
                    now_s,
                )
            )
    conn.executemany(
        "INSERT INTO quiz_items (id, quiz_id, key, type, prompt, text_format, choices, "
        "explanation, category, position, retired, updated_at) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        items,
    )
    conn.executemany(
        "INSERT INTO lessons (id, key, title, skill, roles, minutes, quiz_id, scenario_md, "
        "key_points_md, source_path, retired, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,0,?)",
        [
            (
                q,
                f"lesson-{s}",
                f"Lesson {s}",
                s,
                '["teller"]',
                5,
                q,
                "A scene.",
                "- a point",
                f"lessons/{s}.md",
                now_s,
            )
            for q, s in enumerate(SKILLS, 1)
        ],
    )

    conn.executemany(
        "INSERT INTO users (id, email, name, password_hash, role, timezone, reminder_time, "
        "reminders_off, active, created_at) VALUES (?, ?, ?, NULL, 'learner', ?, "
        "'18:00:00.000000', 0, 1, ?)",
        (
            (u, f"learner{u}@bench.example", f"Learner {u}", ZONES[u % len(ZONES)], now_s)
            for u in range(1, learners + 1)
        ),
    )

    # Time stamps on an hourly grid relative to NOW, formatted once each.
    stamps: dict[int, str] = {}

    def at_hour(offset_hours: int) -> str:
        text = stamps.get(offset_hours)
        if text is None:
            text = stamps[offset_hours] = _stamp(NOW + timedelta(hours=offset_hours))
        return text

    def cards():
        rand, gauss = rng.random, rng.gauss
        card_id = 0
        for user in range(1, learners + 1):
            # Each learner has their own share of due cards; one in twenty has none today.
            share = 0.0 if rand() < 0.05 else 0.10 + 0.35 * rand()
            for item in range(1, CARDS_PER_LEARNER + 1):
                card_id += 1
                stability = min(365.0, max(0.5, math.exp(gauss(2.3, 0.9))))  # median ~10 days
                interval_h = 24 * max(1, round(stability))  # FSRS at 90 %: interval = stability
                # Overdue by up to 10 days, or due within the next 60.
                due_h = -int(rand() * 240) if rand() < share else 1 + int(rand() * 24 * 60)
                last_h = due_h - interval_h
                learning = rand() < 0.03
                reps = 1 if learning else 2 + int(rand() * 8)
                yield (
                    card_id,
                    user,
                    item,
                    1 if learning else 2,  # state
                    1 if learning else None,  # step
                    stability,
                    3.0 + 5.0 * rand(),  # difficulty
                    at_hour(due_h),
                    at_hour(last_h),
                    reps,
                    int(rand() * 1.4 * (reps > 3)),
                    at_hour(last_h - 24 * 7 * reps),
                )

    conn.executemany("INSERT INTO review_cards VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", cards())

    # A few recent answers, so the pace lookup (average seconds over 30 days) has data.
    def attempts():
        attempt_id = 0
        for user in range(1, learners + 1):
            if rng.random() >= PACE_SHARE:
                continue
            for n in range(3):
                attempt_id += 1
                item = 1 + int(rng.random() * len(items))
                yield (
                    attempt_id,
                    user,
                    item,
                    None,
                    None,
                    "refresher",
                    "[0]",
                    '["The right thing"]',
                    1,
                    1.0,
                    round(math.exp(rng.gauss(2.6, 0.4)), 1),
                    at_hour(-int(rng.random() * 24 * 28)),
                    f"bench-{user}-{n}",
                )

    conn.executemany("INSERT INTO attempts VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", attempts())
    for _name, sql in dropped:
        conn.execute(sql)
    conn.execute("COMMIT")
    conn.close()
    return {"build_seconds": time.perf_counter() - started}


# -- measuring --------------------------------------------------------------------------------


def _expected(session, now: datetime) -> tuple[int, dict[int, int]]:
    """Learners with at least one card due before their own local midnight, straight from SQL,
    and how many cards each of them has due."""
    from sqlalchemy import text

    from trainer.review.planning import end_of_local_day, local_date

    due_count: dict[int, int] = {}
    for tz in ZONES:
        horizon = end_of_local_day(tz, local_date(tz, now))
        rows = session.execute(
            text(
                "SELECT rc.user_id, count(*) FROM review_cards rc "
                "JOIN users u ON u.id = rc.user_id "
                "JOIN quiz_items qi ON qi.id = rc.item_id "
                "WHERE u.timezone = :tz AND u.active = 1 AND u.role = 'learner' "
                "AND qi.retired = 0 AND rc.due <= :horizon GROUP BY rc.user_id"
            ),
            {"tz": tz, "horizon": _stamp(horizon)},
        )
        due_count.update(dict(rows.all()))
    return len(due_count), due_count


def _check(session, now: datetime, planned: int, due_count: dict[int, int]) -> list[str]:
    """What is wrong with the planned refreshers (an empty list when nothing is)."""
    from sqlalchemy import select, text

    from trainer.models import Refresher
    from trainer.review.fsrs_cards import DEFAULT_ANSWER_SECONDS, RecallModel
    from trainer.review.planning import budget_items, end_of_local_day, local_date

    problems = []
    rows = session.execute(
        select(Refresher.user_id, Refresher.local_date, Refresher.item_ids, Refresher.kind)
    ).all()
    if len(rows) != len(due_count):
        problems.append(f"{len(rows)} refreshers for {len(due_count)} learners with due cards")
    if planned != len(due_count):
        problems.append(f"plan_refreshers returned {planned}, expected {len(due_count)}")
    pace = dict(
        session.execute(
            text(
                "SELECT user_id, avg(seconds) FROM attempts WHERE answered_at >= :since "
                "GROUP BY user_id"
            ),
            {"since": _stamp(now - timedelta(days=30))},
        ).all()
    )
    budget = 5 * 60
    bad = Counter()
    for user_id, day, item_ids, kind in rows:
        n = len(item_ids)
        if user_id not in due_count:
            bad["learner with nothing due"] += 1
            continue
        limit = budget_items(budget, float(pace.get(user_id) or DEFAULT_ANSWER_SECONDS))
        if not 1 <= n <= limit or n != min(due_count[user_id], limit):
            bad["item count not min(due, budget)"] += 1
        if len(set(item_ids)) != n:
            bad["repeated item"] += 1
        if kind != "daily" or day != local_date(ZONES[user_id % len(ZONES)], now):
            bad["wrong kind or local day"] += 1

    # A sample in full: the weakest cards chosen, the surest of them last.
    model = RecallModel()
    sample = rows[:: max(1, len(rows) // 300)]
    for user_id, day, item_ids, _kind in sample:
        tz = ZONES[user_id % len(ZONES)]
        cards = session.execute(
            text(
                "SELECT item_id, stability, last_review FROM review_cards "
                "WHERE user_id = :u AND due <= :h"
            ),
            {"u": user_id, "h": _stamp(end_of_local_day(tz, day))},
        ).all()
        recall = {
            i: model.recall(s, datetime.strptime(lr, SQLITE_DATETIME), now) for i, s, lr in cards
        }
        weakest = sorted(recall, key=lambda i: (recall[i], i))[: len(item_ids)]
        if set(item_ids) != set(weakest):
            bad["sample: not the weakest due cards"] += 1
        elif recall[item_ids[-1]] != max(recall[i] for i in item_ids):
            bad["sample: the surest item is not last"] += 1
    problems += [f"{count} refreshers: {why}" for why, count in bad.items()]
    return problems


def measure(learners: int, workdir: Path) -> Result:
    from sqlalchemy import text

    from trainer.extensions import db
    from trainer.review.planning import end_of_local_day, local_date, plan_refreshers

    result = Result("planning", "Planning every learner's daily refresher")
    db_path = workdir / "planning.sqlite"
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "bench.planning", "build", str(db_path), str(learners)],
        check=True,
        capture_output=True,
        text=True,
    )
    build_seconds = time.perf_counter() - t0
    cards = learners * CARDS_PER_LEARNER
    size_mb = db_path.stat().st_size / 2**20
    print(
        f"  built {learners:,} learners x {CARDS_PER_LEARNER} = {cards:,} cards "
        f"({size_mb:,.0f} MB file) in {build_seconds:.1f} s {out.stdout.strip()}",
        flush=True,
    )

    app = make_app(db_path)
    with app.app_context():
        session = db.session
        latest = max(end_of_local_day(tz, local_date(tz, NOW)) for tz in ZONES)
        plan = session.execute(text("EXPLAIN QUERY PLAN " + BARE_SCAN), {"horizon": _stamp(latest)})
        query_plan = "; ".join(row[-1] for row in plan)
        session.rollback()

        # 1. The timed run: nothing instruments it.
        rss_before, rss_now_before = max_rss_mb(), current_rss_mb()
        wall, planned = _timed(lambda: plan_refreshers(session, NOW))
        rss_after = max_rss_mb()
        print(
            f"  plan_refreshers: {planned:,} refreshers in {wall:.1f} s; "
            f"peak RSS {rss_before:.0f} -> {rss_after:.0f} MB",
            flush=True,
        )

        expected, due_count = _expected(session, NOW)
        problems = _check(session, NOW, planned, due_count)
        due_cards = sum(due_count.values())
        session.rollback()

        # 2. Run again: everything is planned, nothing is added.
        rerun_wall, replanned = _timed(lambda: plan_refreshers(session, NOW))
        if replanned != 0:
            problems.append(f"a second run planned {replanned} more")

        # 3. Start over and run under tracemalloc for the Python heap's peak.
        session.execute(text("DELETE FROM refreshers"))
        session.commit()
        tracemalloc.start()
        tracemalloc.reset_peak()
        traced_base = tracemalloc.get_traced_memory()[0]
        traced_wall, traced_planned = _timed(lambda: plan_refreshers(session, NOW))
        traced_peak = (tracemalloc.get_traced_memory()[1] - traced_base) / 2**20
        tracemalloc.stop()
        if traced_planned != planned:
            problems.append(f"the traced run planned {traced_planned}, the first {planned}")
        print(
            f"  under tracemalloc: {traced_wall:.1f} s, Python heap peak {traced_peak:.0f} MB",
            flush=True,
        )

        # 4. Baseline: the bare scan of the due cards, every row fetched into Python.
        session.rollback()

        def scan():
            rows = session.execute(text(BARE_SCAN), {"horizon": _stamp(latest)}).fetchall()
            return len(rows)

        scan_wall, scanned = _timed(scan)
        session.rollback()
        print(f"  bare scan: {scanned:,} rows in {scan_wall:.1f} s", flush=True)
        session.remove()
        db.engine.dispose()

    rss_peak = rss_after
    result.figures += [
        Figure(
            "wall time",
            wall,
            "s",
            f"< {TARGET_SECONDS:.0f} s",
            wall < TARGET_SECONDS,
            scan_wall,
            "bare scan",
            note=f"{planned:,} refreshers planned",
        ),
        Figure(
            "planning / bare scan",
            wall / scan_wall,
            "×",
            f"< {TARGET_RATIO:.0f}",
            wall / scan_wall < TARGET_RATIO,
            ratio=None,
        ),
        Figure(
            "peak RSS of the process (ru_maxrss after)",
            rss_peak,
            "MB",
            f"< {TARGET_MB:.0f} MB",
            rss_peak < TARGET_MB,
            note=f"{rss_before:.0f} MB before the call (interpreter, Flask, SQLAlchemy, app)",
        ),
        Figure(
            "ru_maxrss growth during the call",
            rss_after - rss_before,
            "MB",
            note="after minus before",
        ),
        Figure(
            "tracemalloc peak (Python heap)",
            traced_peak,
            "MB",
            f"< {TARGET_MB:.0f} MB",
            traced_peak < TARGET_MB,
            note=f"separate run, {traced_wall:.1f} s under tracing",
        ),
        Figure(
            "second run (all planned already)",
            rerun_wall,
            "s",
            note="idempotent: planned 0" if replanned == 0 else f"planned {replanned}",
        ),
        Figure(
            "results correct",
            0 if problems else 1,
            "ok",
            "all checks",
            not problems,
            note="; ".join(problems)
            or f"{planned:,} refreshers = learners with due cards; each 1..N items",
        ),
    ]
    result.notes += [
        f"{learners:,} learners × {CARDS_PER_LEARNER} cards = {cards:,} review cards over "
        f"{len(SKILLS) * ITEMS_PER_SKILL} items and {len(SKILLS)} skills, {len(ZONES)} time "
        f"zones; {due_cards:,} cards ({100 * due_cards / cards:.1f} %) due today for "
        f"{expected:,} learners; the scan reads {scanned:,} rows (up to the latest local "
        f"midnight of all zones). Built in {build_seconds:.0f} s; the file is {size_mb:,.0f} MB.",
        f"Job run at {NOW:%Y-%m-%d %H:%M} UTC; RSS was {rss_now_before:.0f} MB resident "
        "just before the call.",
        f"SQLite's plan for the scan: {query_plan}.",
    ]
    return result


def _timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def run(quick: bool = False) -> Result:
    learners = 10_000 if quick else 100_000
    with tempfile.TemporaryDirectory(prefix="bench-planning-") as tmp:
        return measure(learners, Path(tmp))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "build":
        info = build(Path(sys.argv[2]), int(sys.argv[3]))
        print(f"(loader: {info['build_seconds']:.1f} s)")
    else:
        sys.exit("usage: python -m bench.planning build PATH LEARNERS")
