"""`flask --app trainer scheduler` as a process of its own, with one test job in place of the
product's five: `record-run`, every RUN_EVERY seconds (default 0.5), which adds a row naming this
scheduler (SCHEDULER_NAME) to the `scheduler_runs` table the test made.

    python -m tests.scheduler_process --app trainer scheduler [--wait]

Everything after the module name is the `flask` command line, run by Flask's own CLI.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC

import sqlalchemy as sa
from apscheduler.triggers.interval import IntervalTrigger


def record_run(session, now):
    session.execute(
        sa.text("insert into scheduler_runs (scheduler) values (:name)"),
        {"name": os.environ["SCHEDULER_NAME"]},
    )
    return "recorded"


def main() -> None:
    from flask.cli import main as flask_main

    from trainer.jobs import registry

    every = float(os.environ.get("RUN_EVERY", "0.5"))
    job = registry.JobSpec(
        "record-run",
        "tests.scheduler_process.record_run",
        IntervalTrigger(seconds=every, timezone=UTC),
        f"every {every} s",
        "Record that this scheduler ran a job.",
    )
    registry.JOBS = {job.name: job}
    sys.exit(flask_main())


if __name__ == "__main__":
    main()
