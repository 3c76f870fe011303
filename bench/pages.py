"""Benchmark 6, `pages`: requests per second of the pages people use most, under load.

gunicorn (the production `gunicorn.conf.py`, 4 sync workers) serves the app on PostgreSQL (a
fresh schema, dropped at the end) and, in the same processes, a bare Flask route that renders
a template after one query (`bench/pages_app.py`): the baseline. Debian's `wrk` (installed by
`make wrk`) loads one URL at a time, signed in with a real session cookie, in rounds that take
every URL in turn, so each page and the baseline see the same machine; requests per second are
the median over the rounds. The targets are for the app as production runs it, with kept pages
(`trainer/page_cache.py`: a page reloaded while nothing changed is served as drawn). A second
gunicorn, with PAGE_CACHE_SECONDS=0, serves the same pages drawn on every request, measured in
the same rounds: what a page costs after any change. The statements each page sends are
counted with the app's own engine (a `before_cursor_execute` listener), drawn, for the
measured team of 30 and a team of 10.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

from bench.common import Figure, Result

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 4
TEAM = 30
TARGETS = {"today": 0.50, "quiz": 0.60, "team": 0.30}  # share of the bare route's rps
MAX_STATEMENTS = {"today": 5, "quiz": 4, "team": 6}
NAMES = {
    "bare": "bare Flask route (one query, a template)",
    "today": "learner's Today (GET /)",
    "quiz": "a quiz item, answered (GET /lessons/KEY/quiz/1)",
    "team": "manager's team page, 30 people (GET /manage/?team=ID)",
}
PAGES = ("today", "quiz", "team")
DRAWN = " drawn"  # the same page from the server that keeps none
PASSWORD = "bench-learner-password"
SEED = 20261129
RPS_RE = re.compile(r"Requests/sec:\s+([0-9.]+)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is not installed: run `make wrk` (Debian's wrk, through apt-get)")
    return found


def _load(wrk: str, url: str, cookie: str, seconds: int) -> tuple[float, str]:
    """Requests per second wrk gets from `url`, and its report."""
    cmd = [wrk, "-t2", "-c8", f"-d{seconds}s", "--latency", url]
    if cookie:
        cmd[1:1] = ["-H", f"Cookie: {cookie}"]
    report = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    if "Non-2xx or 3xx responses" in report:
        raise RuntimeError(f"{url} answered errors under load:\n{report}")
    match = RPS_RE.search(report)
    if match is None:
        raise RuntimeError(f"no requests/sec in wrk's report for {url}:\n{report}")
    return float(match.group(1)), report


def _build(schema: str, url: str, teams: int):
    """The data of the `views` benchmark, with 30-person teams; returns the app (test config,
    same schema), the plan, and the measured learner's id and e-mail."""
    import sqlalchemy as sa

    from bench.views import PostgresSink, build
    from trainer import create_app
    from trainer.auth.passwords import hash_password
    from trainer.extensions import db

    app = create_app(
        "test",
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": f"-csearch_path={schema}"}},
            "CONTENT_DIR": str(ROOT),
        },
    )
    now = datetime.utcnow()  # noqa: DTZ003 - the app keeps naive UTC
    plan = build(app, lambda: PostgresSink(schema), lambda m: m, lambda d: d, teams, now, TEAM)
    with app.app_context():
        learner_id, email = db.session.execute(
            sa.text(
                "SELECT id, email FROM users WHERE team_id = :team AND role = 'learner' "
                "ORDER BY id LIMIT 1"
            ),
            {"team": plan.team_id},
        ).one()
        db.session.execute(
            sa.text("UPDATE users SET password_hash = :hash WHERE id = :id"),
            {"hash": hash_password(PASSWORD), "id": learner_id},
        )
        db.session.commit()
        db.session.remove()
    return app, plan, learner_id, email


def _next_lesson(app, learner_id: int) -> str:
    """The first lesson of the learner's path they have not completed (else the first)."""
    import sqlalchemy as sa

    from trainer.extensions import db

    with app.app_context():
        keys = db.session.execute(
            sa.text(
                "SELECT l.key, EXISTS (SELECT 1 FROM lesson_runs r WHERE r.user_id = :u "
                "AND r.lesson_id = l.id AND r.completed_at IS NOT NULL) "
                "FROM enrolments e JOIN path_steps s ON s.path_id = e.path_id "
                "JOIN lessons l ON l.id = s.lesson_id WHERE e.user_id = :u ORDER BY s.position"
            ),
            {"u": learner_id},
        ).all()
        db.session.remove()
    return next((key for key, done in keys if not done), keys[0][0])


def _count_statements(app, plan, email: str, manager_email: str, urls: dict) -> dict:
    """Statements per request, through the test client, for each page (the team page also for
    the 10-person team, which must ask as many)."""
    from sqlalchemy import event

    from trainer.extensions import db

    def signed_in(address: str, password: str):
        client = app.test_client()
        answer = client.post("/login", data={"email": address, "password": password})
        assert answer.status_code == 302, answer.status_code
        return client

    from bench.views import PASSWORD as MANAGER_PASSWORD

    learner = signed_in(email, PASSWORD)
    manager = signed_in(manager_email, MANAGER_PASSWORD)
    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        seen.append(statement)

    def count(client, url: str) -> int:
        client.get(url)  # warm: today's refresher planned, caches filled
        seen.clear()
        event.listen(engine, "before_cursor_execute", note)
        try:
            response = client.get(url)
        finally:
            event.remove(engine, "before_cursor_execute", note)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
        return len(seen)

    counts = {
        "today": count(learner, urls["today"]),
        "quiz": count(learner, urls["quiz"]),
        "team": count(manager, urls["team"]),
        "team_small": count(manager, f"/manage/?team={plan.small_team_id}"),
    }
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return counts


def _answer_first_item(base: str, session, key: str) -> None:
    """Answer question 1 of the lesson as a browser would, so its page shows the feedback."""
    url = f"{base}/lessons/{key}/quiz/1"
    page = session.get(url).text
    fields = dict(
        re.findall(r'name="(csrf_token|token|shown)" type="hidden" value="([^"]*)"', page)
    )
    choice = re.search(r'name="choice" type="(?:radio|checkbox)" value="(\d+)"', page)
    if choice is None:
        choice = re.search(r'name="choice"[^>]*value="(\d+)"', page)
    data = {**fields, "choice": choice.group(1)}
    answer = session.post(url, data=data, allow_redirects=False)
    if answer.status_code != 303:
        raise RuntimeError(f"answering {url} gave {answer.status_code}")


def _sign_in(base: str, email: str, password: str):
    import requests

    session = requests.Session()
    page = session.get(f"{base}/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    answer = session.post(
        f"{base}/login",
        data={"csrf_token": token, "email": email, "password": password},
        allow_redirects=False,
    )
    if answer.status_code != 302:
        raise RuntimeError(f"signing in {email} gave {answer.status_code}")
    return session


def _cookie(session) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


def _wait_for(base: str, process: subprocess.Popen, seconds: float = 60) -> None:
    import requests

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            if requests.get(f"{base}/bare/", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer within a minute")


def _serve(env: dict, port: int, logs) -> subprocess.Popen:
    """gunicorn with the production settings and WORKERS workers, on `port`, started."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(WORKERS),
            "--access-logfile",
            "/dev/null",
            "--max-requests",
            "0",
            "bench.pages_app:app",
        ],  # fmt: skip
        cwd=ROOT,
        env=env,
        stdout=logs,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}", process)
    except RuntimeError:
        logs.seek(0)
        print(logs.read().decode(errors="replace")[-4000:], flush=True)
        raise
    return process


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def run(quick: bool = False) -> Result:
    import sqlalchemy as sa

    from bench.views import MANAGER_EMAIL, POSTGRES_URL
    from bench.views import PASSWORD as MANAGER_PASSWORD

    wrk = _wrk()
    teams = 3 if quick else 20
    seconds = 3 if quick else 8
    rounds = 1 if quick else 3
    schema = f"bench_pages_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    result = Result(name="pages", title="Pages under load: gunicorn, 4 workers, PostgreSQL")
    servers: list[subprocess.Popen] = []
    try:
        start = time.perf_counter()
        app, plan, learner_id, email = _build(schema, POSTGRES_URL, teams)
        built = time.perf_counter() - start
        lesson = _next_lesson(app, learner_id)
        paths = {
            "bare": "/bare/",
            "today": "/",
            "quiz": f"/lessons/{lesson}/quiz/1",
            "team": f"/manage/?team={plan.team_id}",
        }
        env = {
            **os.environ,
            "FLASK_CONFIG": "production",
            "SECRET_KEY": secrets.token_hex(32),
            "DATABASE_URL": POSTGRES_URL,
            "PGOPTIONS": f"-c search_path={schema}",
            "SESSION_COOKIE_SECURE": "0",
            "HSTS_SECONDS": "0",
            "WEB_CONCURRENCY": str(WORKERS),
            "BENCH_PERSON": str(learner_id),
            "SMS_URL": "",
        }
        kept_port, drawn_port = _free_port(), _free_port()
        logs = tempfile.TemporaryFile()  # noqa: SIM115 - gunicorn writes it until stopped
        servers.append(_serve(env, kept_port, logs))
        servers.append(_serve({**env, "PAGE_CACHE_SECONDS": "0"}, drawn_port, logs))
        base = f"http://127.0.0.1:{kept_port}"
        drawn = f"http://127.0.0.1:{drawn_port}"
        learner = _sign_in(base, email, PASSWORD)
        learner.get(f"{base}/")  # today's refresher, planned if the job has not yet
        _answer_first_item(base, learner, lesson)
        manager = _sign_in(base, MANAGER_EMAIL, MANAGER_PASSWORD)
        cookies = {"bare": "", "today": _cookie(learner), "quiz": _cookie(learner)}
        cookies["team"] = _cookie(manager)
        # Both servers share the secret key and the database: the same cookies sign in to both.
        urls = {key: base + path for key, path in paths.items()}
        urls.update({key + DRAWN: drawn + paths[key] for key in PAGES})
        cookies.update({key + DRAWN: cookies[key] for key in PAGES})
        for key, url in urls.items():  # each page as a browser gets it, once, before the load
            who = manager if key.startswith("team") else learner
            answer = who.get(url, allow_redirects=False)
            if answer.status_code != 200:
                raise RuntimeError(f"{url} answered {answer.status_code}")
        for key, url in urls.items():  # warm every worker
            _load(wrk, url, cookies[key], 1)
        rps: dict[str, list[float]] = {key: [] for key in urls}
        ratios: dict[str, list[float]] = {key: [] for key in urls if key != "bare"}
        for n in range(rounds):
            got = {key: _load(wrk, url, cookies[key], seconds)[0] for key, url in urls.items()}
            for key, value in got.items():
                rps[key].append(value)
                if key != "bare":
                    ratios[key].append(value / got["bare"])
            print(
                f"  round {n + 1}: "
                + ", ".join(f"{key} {value:,.0f} req/s" for key, value in got.items()),
                flush=True,
            )
        counts = _count_statements(app, plan, email, MANAGER_EMAIL, paths)
    finally:
        for process in servers:
            _stop(process)
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    bare = statistics.median(rps["bare"])
    result.figures.append(
        Figure(
            NAMES["bare"],
            bare,
            "req/s",
            note=f"rounds: {', '.join(f'{v:,.0f}' for v in rps['bare'])}",
        )
    )
    for key in PAGES:
        value = statistics.median(rps[key])
        ratio = statistics.median(ratios[key])
        result.figures.append(
            Figure(
                NAMES[key],
                value,
                "req/s",
                target=f"≥ {TARGETS[key]:.0%} of the bare route",
                passed=ratio >= TARGETS[key],
                baseline=bare,
                baseline_name="bare route",
                ratio=ratio,
                note=f"{ratio:.0%} of the bare route (median of the rounds' ratios); rounds: "
                + ", ".join(f"{v:,.0f}" for v in rps[key]),
            )
        )
    for key in PAGES:
        value = statistics.median(rps[key + DRAWN])
        ratio = statistics.median(ratios[key + DRAWN])
        result.figures.append(
            Figure(
                f"{NAMES[key]}, drawn on every request (no kept pages)",
                value,
                "req/s",
                baseline=bare,
                baseline_name="bare route",
                ratio=ratio,
                note=f"{ratio:.0%} of the bare route; what the page costs after any change; "
                "rounds: " + ", ".join(f"{v:,.0f}" for v in rps[key + DRAWN]),
            )
        )
    for key in ("today", "quiz", "team"):
        result.figures.append(
            Figure(
                f"statements per request: {key}",
                counts[key],
                "statements",
                target=f"≤ {MAX_STATEMENTS[key]}",
                passed=counts[key] <= MAX_STATEMENTS[key],
            )
        )
    result.figures.append(
        Figure(
            "statements per request: team page, 10 people",
            counts["team_small"],
            "statements",
            target="as many as for 30",
            passed=counts["team_small"] == counts["team"],
        )
    )
    result.notes += [
        f"Data: {plan.learners:,} learners in {teams} teams of {TEAM} and one of 10, built in "
        f"{built:.0f} s; {', '.join(f'{t} {n:,}' for t, n in plan.rows.items())}.",
        f"Load: wrk with 2 threads and 8 connections, {seconds} s per URL, {rounds} round(s); "
        f"gunicorn with {WORKERS} sync workers, no access log, no worker recycling; "
        "PostgreSQL on the same machine.",
        "The targets are for the production settings, which keep pages (PAGE_CACHE_SECONDS, "
        "60 s): wrk reloads one page with nothing changing, so after the first request each "
        "worker serves it as kept, checking the session and the person's page version. The "
        "'drawn' figures come from a second gunicorn with PAGE_CACHE_SECONDS=0 in the same "
        "rounds: every request reads and renders the page, as the first view after any "
        "change does.",
    ]
    if quick:
        result.notes.append("Quick run: 3 teams, one 3-second round per URL.")
    return result
