"""Benchmark 5, `content-check`: `content check` of a library twenty times the starter's size.

The starter's lessons and quizzes are copied under new ids (`<id>-1` to `<id>-20`) into a
temporary folder, with a paths.yaml giving every copy of every path, so the library holds 480
lessons, 480 quizzes and 60 paths (for the starter's 24 and 3), all valid. `load_library`, the
whole of `content check` and the first step of `content sync`, is timed on it against two
baselines measured in the same run: the same check on PyYAML's pure-Python parser (the fallback
where libyaml is missing; the check used it until now) and a bare read of every file (open,
read, decode; nothing parsed).

A second figure times the check of a library of hostile files, each of which once hung or
crashed it or would fill the memory: an alias bomb, nesting 5,000 deep, a 2 MB file, a named
pipe, a link to /dev/zero, a megabyte of NUL, a 0.9 MB YAML list and a 0.9 MB GIFT question.
"""

from __future__ import annotations

import os
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from bench.common import Figure, Result
from trainer import ROOT
from trainer.content import yamlines
from trainer.content.library import load_library

COPIES = 20
TARGET_SECONDS = 5.0
RUNS = 5
_TOP_LEVEL_ID = re.compile(r"^(id|quiz): (\S+)$", re.MULTILINE)


def build_library(root: Path, copies: int) -> None:
    """`copies` renamed copies of the starter's lessons, quizzes and paths under `root`."""
    (root / "lessons").mkdir(parents=True)
    (root / "quizzes").mkdir()
    for n in range(1, copies + 1):
        for source in sorted((ROOT / "lessons").glob("*.md")):
            text = _TOP_LEVEL_ID.sub(rf"\1: \2-{n}", source.read_text(encoding="utf-8"))
            (root / "lessons" / f"{source.stem}-{n}.md").write_text(text, encoding="utf-8")
        for source in sorted((ROOT / "quizzes").iterdir()):
            text = source.read_text(encoding="utf-8")
            if source.suffix != ".gift":
                text = _TOP_LEVEL_ID.sub(rf"\1: \2-{n}", text, count=1)
            target = root / "quizzes" / f"{source.stem}-{n}{source.suffix}"
            target.write_text(text, encoding="utf-8")
    starter = yaml.safe_load((ROOT / "lessons" / "paths.yaml").read_text(encoding="utf-8"))
    paths = [
        {
            **path,
            "id": f"{path['id']}-{n}",
            "lessons": [
                {"lesson": f"{step['lesson']}-{n}", "due_days": step["due_days"]}
                for step in path["lessons"]
            ],
        }
        for n in range(1, copies + 1)
        for path in starter["paths"]
    ]
    (root / "lessons" / "paths.yaml").write_text(
        yaml.safe_dump({"roles": starter["roles"], "paths": paths}, sort_keys=False)
    )


def build_hostile_library(root: Path) -> int:
    """Files that once hung or crashed the check; returns how many there are."""
    lessons, quizzes = root / "lessons", root / "quizzes"
    lessons.mkdir(parents=True)
    quizzes.mkdir()
    bomb = "".join(
        ['id: bomb\nroles:\n  - &a0 ["xxxxxxxx", "xxxxxxxx", "xxxxxxxx"]\n']
        + [f"  - &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]\n" for n in range(1, 10)]
    )
    (lessons / "bomb.md").write_text(f"---\n{bomb}---\n## The scenario\n\nBoom.\n")
    (quizzes / "deep.yaml").write_text("id: deep\nitems: " + "[" * 5000 + "]" * 5000 + "\n")
    (quizzes / "huge.gift").write_text("// padding\n" * 200_000)
    (quizzes / "nul.gift").write_text("\x00" * 999_999)
    (quizzes / "long-list.yaml").write_text("id: long-list\nitems: [" + "1, " * 300_000 + "1]\n")
    answers = "".join(f"~wrong answer number {n}\n" for n in range(35_000))  # and no right one
    (quizzes / "many.gift").write_text(f"::many:: Pick the right one {{\n{answers}}}\n")
    os.mkfifo(quizzes / "pipe.gift")
    (quizzes / "zero.yaml").symlink_to("/dev/zero")
    return 8


def _median_seconds(fn: Callable[[], object], runs: int) -> tuple[float, object]:
    times, value = [], None
    for _ in range(runs):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), value


def _bare_read(root: Path) -> int:
    total = 0
    for folder in ("lessons", "quizzes"):
        for file in (root / folder).iterdir():
            total += len(file.read_bytes().decode("utf-8"))
    return total


def _pure_python_check(root: Path):
    c_loader = yamlines.Loader
    yamlines.Loader = yamlines.make_loader(yaml.SafeLoader)
    try:
        return load_library(root)
    finally:
        yamlines.Loader = c_loader


def measure(copies: int, tmp: Path) -> Result:
    root = tmp / "library"
    build_library(root, copies)
    check_seconds, library = _median_seconds(lambda: load_library(root), RUNS)
    lessons, quizzes, paths = len(library.lessons), len(library.quizzes), len(library.paths)
    items = sum(len(q.items) for q in library.quizzes.values())
    starter = load_library(ROOT)
    valid = (
        not library.problems
        and lessons == len(starter.lessons) * copies
        and paths == len(starter.paths) * copies
    )
    read_seconds, chars = _median_seconds(lambda: _bare_read(root), RUNS)
    pure_seconds, pure = _median_seconds(lambda: _pure_python_check(root), 3)
    same = pure.problems == [] and pure.lessons == library.lessons
    print(
        f"  {lessons} lessons, {quizzes} quizzes ({items} items), {paths} paths, "
        f"{chars / 1e6:.1f} M characters: check {check_seconds:.2f} s, pure-Python YAML "
        f"{pure_seconds:.2f} s, bare read {read_seconds:.3f} s",
        flush=True,
    )

    hostile = tmp / "hostile"
    files = build_hostile_library(hostile)
    hostile_seconds, refused = _median_seconds(lambda: load_library(hostile), 3)
    files_refused = len({p.path for p in refused.problems})

    target = f"< {TARGET_SECONDS:.0f} s"
    result = Result("content-check", f"`content check` of a library of {lessons} lessons")
    result.figures += [
        Figure(
            f"check, {lessons} lessons and their quizzes",
            check_seconds,
            "s",
            target,
            check_seconds < TARGET_SECONDS and valid,
            pure_seconds,
            "the same check on pure-Python YAML",
            note=f"{quizzes} quizzes, {items} items, {paths} paths; no problems: {valid}",
        ),
        Figure(
            "check / a bare read of the files",
            check_seconds,
            "s",
            "",
            None,
            read_seconds,
            f"open, read and decode {chars / 1e6:.1f} M characters",
        ),
        Figure(
            "hostile files refused",
            hostile_seconds,
            "s",
            target,
            hostile_seconds < TARGET_SECONDS and files_refused == files,
            note=f"{files_refused} of {files} files refused, {len(refused.problems)} problems",
        ),
    ]
    result.notes += [
        f"Median of {RUNS} runs for the check and the bare read, of 3 for the pure-Python "
        "check and the hostile library. The pure-Python check found the same lessons: "
        f"{same}.",
    ]
    return result


def run(quick: bool = False) -> Result:
    with tempfile.TemporaryDirectory(prefix="bench-content-") as tmp:
        return measure(2 if quick else COPIES, Path(tmp))
