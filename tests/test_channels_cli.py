"""Done when: a learner without email gets their reminder once, by text message (Apprise to a
local server), through the commands an operator runs: `flask --app trainer jobs run
send-reminders --now ...` then `flask --app trainer jobs run deliver-mail --now ...`."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime

from sqlalchemy import select

from tests.test_notify import GREETING, answer_lesson
from trainer import ROOT, create_app
from trainer.extensions import db
from trainer.models import User


def test_a_learner_without_email_gets_the_reminder_once_by_text_through_the_cli(
    tmp_path, sms_service
):
    database = f"sqlite:///{tmp_path / 'trainer.sqlite'}"
    env = {
        **os.environ,
        "FLASK_CONFIG": "development",
        "DATABASE_URL": database,
        "CONTENT_DIR": str(ROOT),
        "PUBLIC_URL": "https://trainer.example",
        "SMS_URL": sms_service.sms_url(),
        "MAIL_SERVER": "",
        "VAPID_PUBLIC_KEY": "",
        "SCHEDULER_IN_PROCESS": "0",
    }

    def flask(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "trainer", *args],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    flask("db", "upgrade")
    flask("content", "sync")
    created = flask(
        "users", "create", "--name", "Kai Server", "--role", "learner", "--job-role", "teller",
        "--employee-number", "1001", "--phone", "07911 123456", "--pin", "246810",
    )  # fmt: skip
    assert "Created learner employee no. 1001." in created
    # Kai did the first lesson ten days ago, so some of its questions are due today.
    app = create_app("test", {"SQLALCHEMY_DATABASE_URI": database, "CONTENT_DIR": str(ROOT)})
    with app.app_context():
        kai = db.session.scalar(select(User.id).where(User.employee_number == "1001"))
    answer_lesson(app, kai, GREETING, datetime(2026, 1, 4, 9))
    with app.app_context():
        db.engine.dispose()

    # 18:05 in London on 14 January: Kai's reminder time (18:00) has passed.
    assert "send-reminders: 1" in flask(
        "jobs", "run", "send-reminders", "--now", "2026-01-14T18:05"
    )
    delivered = flask("jobs", "run", "deliver-mail", "--now", "2026-01-14T18:06")
    assert "deliver-mail: Sent 1 (1 by text message) via text messages through json://." in (
        delivered
    )
    # Run again, as the scheduler would every few minutes: nothing more.
    assert "send-reminders: 0" in flask(
        "jobs", "run", "send-reminders", "--now", "2026-01-14T18:10"
    )
    assert "Nothing due" in flask("jobs", "run", "deliver-mail", "--now", "2026-01-14T18:11")

    [text] = sms_service.taken()
    assert text["to"] == "+447911123456"
    assert text["message"].startswith(
        "Frontline Trainer: Hi Kai, your refresher for today is ready"
    )
    assert text["message"].endswith(" https://trainer.example/refresher")
    assert len(sms_service.posts) == 1
