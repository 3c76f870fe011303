"""What the benchmarks share: a figure with its target and baseline, the machine, a timer,
and an app on a throwaway SQLite file."""

from __future__ import annotations

import os
import platform
import resource
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

#: SQLAlchemy's text form of a naive datetime in SQLite, as the app writes it.
SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"


@dataclass
class Figure:
    """One measured figure, what it should be, and the same-run baseline it is compared with."""

    name: str
    value: float
    unit: str
    target: str = ""
    #: True/False when the figure has a target, None when it is shown for context only.
    passed: bool | None = None
    baseline: float | None = None
    baseline_name: str = ""
    #: value / baseline unless the benchmark says otherwise
    ratio: float | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if self.ratio is None and self.baseline:
            self.ratio = self.value / self.baseline


@dataclass
class Result:
    name: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: further Markdown tables, shown after the figures
    tables: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return all(f.passed is not False for f in self.figures)


def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    if unit == "ok":
        return "yes" if value else "no"
    if unit == "%":
        return f"{value:.1f} %"
    if unit == "statements":
        return f"{value:,.0f} statements"
    if abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    elif abs(value) >= 1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3f}"
    return f"{text} {unit}".strip()


def verdict(passed: bool | None) -> str:
    return {True: "pass", False: "FAIL", None: "—"}[passed]


def max_rss_mb() -> float:
    """The process's peak resident memory so far (Linux reports ru_maxrss in KiB)."""
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib / 1024 if sys.platform != "darwin" else kib / 1024 / 1024


def current_rss_mb() -> float:
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:  # pragma: no cover - not Linux
        return float("nan")


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def machine() -> dict[str, str]:
    cores = os.cpu_count() or 0
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        usable = cores
    memory = "unknown"
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    memory = f"{int(line.split()[1]) / 2**20:.1f} GiB"
                    break
    except OSError:  # pragma: no cover - not Linux
        pass
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:  # pragma: no cover - not Linux
        pass
    return {
        "cores": f"{usable} usable ({cores} online)",
        "cpu": cpu,
        "memory": memory,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "sqlite": sqlite3.sqlite_version,
        "os": f"{platform.system()} {platform.release()}",
    }


def make_app(db_path: Path):
    """The app in its test configuration on a SQLite file; the schema is created by the caller
    with db.create_all() inside an app context."""
    from trainer import create_app

    return create_app("test", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}"})


def create_schema(db_path: Path) -> None:
    from trainer.extensions import db

    app = make_app(db_path)
    with app.app_context():
        db.create_all()
        db.session.remove()
        db.engine.dispose()


def connect_raw(db_path: Path) -> sqlite3.Connection:
    """A bulk-loading connection: one big transaction, no fsync, large page cache."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-262144")  # 256 MiB while loading
    conn.execute("PRAGMA temp_store=MEMORY")
    return conn


def secondary_indexes(conn: sqlite3.Connection, tables: tuple[str, ...]) -> list[tuple[str, str]]:
    """(name, CREATE INDEX sql) of the explicit indexes on `tables`, as create_all made them.
    Dropping them before a bulk load and re-running the same SQL afterwards keeps the schema
    identical and makes the load several times faster."""
    marks = ",".join("?" for _ in tables)
    return list(
        conn.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({marks})",
            tables,
        )
    )


@contextmanager
def running_workers(env: dict, logs: list[Path], *options: str) -> Iterator[list]:
    """`flask --app trainer worker OPTIONS`, one process per log file in `logs` (each writes
    its output there), started and ready (each has logged "Worker ready") when the block
    begins, and stopped when it ends."""
    command = [sys.executable, "-m", "flask", "--app", "trainer", "worker", *options]
    root = Path(__file__).resolve().parent.parent
    workers = []
    try:
        for log in logs:
            with open(log, "wb") as out:
                workers.append(
                    subprocess.Popen(
                        command, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT
                    )
                )
        for log, worker in zip(logs, workers, strict=True):
            deadline = time.monotonic() + 60
            while b"Worker ready" not in log.read_bytes():
                if time.monotonic() > deadline or worker.poll() is not None:
                    raise RuntimeError(f"worker did not start: {log.read_text()[-2000:]}")
                time.sleep(0.1)
        yield workers
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=120)
