"""Notification jobs and the reminder link, judged by the mail people get (the outbox)."""

from __future__ import annotations

import logging
import re
import threading
import time as time_module
import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, select

from tests.conftest import make_app, sync_starter_library
from tests.conversation_support import play_lessons_conversation
from trainer.extensions import db
from trainer.learn.services import (
    complete_run,
    open_run,
    record_answer,
    record_roleplay,
    tick_rubric,
)
from trainer.models import Lesson, LessonRun, Notification, OutboxMessage, Team, User, utcnow
from trainer.notify import jobs
from trainer.notify.once import notify_once
from trainer.notify.tokens import read_reminder_token, reminder_token
from trainer.people.services import create_user
from trainer.review.answers import store_attempt
from trainer.review.planning import plan_for_user
from trainer.review.refresher import finish, refresher_items

GREETING = "teller-greeting-at-the-counter"  # teller path, due day 1, skill first-impression
PHONE = "phone-greeting-first-seconds"  # teller path, due day 2, skill phone-greeting
RED_CARPET = "teller-red-carpet-service"  # teller path, due day 3, skill red-carpet
LINK_RE = re.compile(r"http://127\.0\.0\.1:5000(/reminders/[A-Za-z0-9_.\-]+)")


@pytest.fixture
def library(app):
    sync_starter_library(app)
    return app


# -- building people and what they did ------------------------------------------------------


def person(app, email: str, **fields) -> int:
    fields.setdefault("name", email.split("@")[0].replace(".", " ").title())
    fields.setdefault("password", None)
    with app.app_context():
        user = create_user(db.session, email=email, **fields)
        db.session.commit()
        return user.id


def update(app, user_id: int, **fields) -> None:
    with app.app_context():
        user = db.session.get(User, user_id)
        for name, value in fields.items():
            setattr(user, name, value)
        db.session.commit()


def manage(app, manager_id: int, team: str) -> None:
    with app.app_context():
        found = db.session.scalar(select(Team).where(Team.name == team))
        found.managers.append(db.session.get(User, manager_id))
        db.session.commit()


def _choices(item, right: bool) -> list[int]:
    good = [i for i, c in enumerate(item.choices) if c["weight"] > 0]
    if right:
        return (
            good
            if item.type == "multiple"
            else [max(good, key=lambda i: item.choices[i]["weight"])]
        )
    return [next(i for i, c in enumerate(item.choices) if c["weight"] <= 0)]


def answer_lesson(app, user_id: int, key: str, at: datetime, right: bool = True) -> None:
    """Answer every question of a lesson at `at`: the learner now has cards for them."""
    with app.app_context():
        user = db.session.get(User, user_id)
        lesson = db.session.scalar(select(Lesson).where(Lesson.key == key))
        for item in lesson.quiz.live_items:
            record_answer(
                db.session, user, lesson, item, _choices(item, right), uuid.uuid4().hex, None, at
            )


def complete_lesson(app, user_id: int, key: str, at: datetime) -> None:
    answer_lesson(app, user_id, key, at)
    with app.app_context():
        user = db.session.get(User, user_id)
        lesson = db.session.scalar(select(Lesson).where(Lesson.key == key))
        for roleplay in lesson.live_roleplays:
            answer = record_roleplay(
                db.session, user, lesson, roleplay, "Hello, welcome in.", uuid.uuid4().hex
            )
            tick_rubric(db.session, answer, list(range(len(answer.rubric))))
        play_lessons_conversation(db.session, user, lesson, when=at)
        assert complete_run(db.session, open_run(db.session, user, lesson))


def plan_refresher(app, user_id: int, at: datetime) -> int:
    with app.app_context():
        refresher = plan_for_user(db.session, db.session.get(User, user_id), at)
        assert refresher is not None
        return refresher.id


def do_refresher(app, user_id: int, at: datetime) -> None:
    """Plan the day's refresher at `at` and answer all of it right."""
    with app.app_context():
        user = db.session.get(User, user_id)
        refresher = plan_for_user(db.session, user, at)
        for item in refresher_items(db.session, refresher):
            store_attempt(
                db.session,
                user,
                item,
                _choices(item, True),
                uuid.uuid4().hex,
                None,
                refresher_id=refresher.id,
                answered_at=at,
            )
        assert finish(db.session, refresher)


def mails(app, kind: str | None = None) -> list[OutboxMessage]:
    with app.app_context():
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind:
            query = query.where(OutboxMessage.kind == kind)
        rows = list(db.session.scalars(query))
        db.session.expunge_all()
        return rows


def run(app, job, at: datetime) -> int:
    with app.app_context():
        return job(db.session, at)


def utc(year, month, day, hour=0, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute)


def local_to_utc(tz: str, day: date, at: time) -> datetime:
    return datetime.combine(day, at, ZoneInfo(tz)).astimezone(UTC).replace(tzinfo=None)


# -- notify_once ------------------------------------------------------------------------------


def test_notify_once_sends_one_mail_and_records_it(app):
    user_id = person(app, "sam@example.com")
    with app.app_context():
        user = db.session.get(User, user_id)
        mail = {"subject": "Hello", "text": "Hi", "html": "<p>Hi</p>"}
        assert notify_once(db.session, user, "reminder", "2026-07-15", **mail) is True
        assert notify_once(db.session, user, "reminder", "2026-07-15", **mail) is False
        assert notify_once(db.session, user, "reminder", "2026-07-16", **mail) is True
        rows = db.session.execute(select(Notification.key, Notification.message_id)).all()
    sent = mails(app)
    assert [(m.to, m.subject) for m in sent] == [("sam@example.com", "Hello")] * 2
    assert sorted(rows) == [("2026-07-15", sent[0].id), ("2026-07-16", sent[1].id)]


def test_notify_once_losing_the_race_sends_nothing(app, monkeypatch):
    """The cheap check misses a row another process is inserting; the constraint catches it."""
    user_id = person(app, "sam@example.com")
    with app.app_context():
        user = db.session.get(User, user_id)
        mail = {"subject": "Hello", "text": "Hi", "html": None}
        assert notify_once(db.session, user, "digest", "2026-W48", **mail)
        calls = []

        def blind(*args):
            calls.append(args)
            return len(calls) > 1  # blind before the insert only

        monkeypatch.setattr("trainer.notify.once.already_notified", blind)
        assert notify_once(db.session, user, "digest", "2026-W48", **mail) is False
    assert len(calls) == 2  # the IntegrityError was checked against the winner's row
    assert len(mails(app)) == 1


# -- refresher reminders ----------------------------------------------------------------------


SYDNEY, LOS_ANGELES = "Australia/Sydney", "America/Los_Angeles"

# Sydney is UTC+10 and Los Angeles UTC-7 in July, +11 and -8 in January: 18:00 local moves.
SEASONS = {
    "july": (date(2026, 7, 15), utc(2026, 7, 15, 8), utc(2026, 7, 16, 1)),
    "january": (date(2026, 1, 14), utc(2026, 1, 14, 7), utc(2026, 1, 15, 2)),
}


@pytest.mark.parametrize("season", SEASONS)
def test_reminders_go_out_at_each_persons_own_six_pm_once_a_day(library, season):
    day, sydney_six_pm, la_six_pm = SEASONS[season]
    assert local_to_utc(SYDNEY, day, time(18)) == sydney_six_pm
    assert local_to_utc(LOS_ANGELES, day, time(18)) == la_six_pm
    app = library
    sydney = person(app, "sia@example.com", name="Sia Nguyen", timezone=SYDNEY)
    la = person(app, "lou@example.com", name="Lou Park", timezone=LOS_ANGELES)
    for user_id in (sydney, la):
        answer_lesson(
            app, user_id, GREETING, utc(day.year, day.month, day.day) - timedelta(days=10)
        )

    minute, one_day = timedelta(minutes=1), timedelta(days=1)
    expected = [
        # Los Angeles is still on the day before when Sydney's day starts.
        (local_to_utc(LOS_ANGELES, day - one_day, time(17, 59)), []),
        (local_to_utc(LOS_ANGELES, day - one_day, time(18)), ["lou@example.com"]),
        (sydney_six_pm - minute, []),
        (sydney_six_pm, ["sia@example.com"]),
        (sydney_six_pm + minute, []),
        (sydney_six_pm + 3 * minute, []),
        # Sydney's next day starts at its midnight, but no mail until its 18:00.
        (local_to_utc(SYDNEY, day + one_day, time(0)), []),
        (la_six_pm - minute, []),
        (la_six_pm, ["lou@example.com"]),
        (la_six_pm + minute, []),
        (local_to_utc(SYDNEY, day + one_day, time(17, 59)), []),
        (local_to_utc(SYDNEY, day + one_day, time(18)), ["sia@example.com"]),
        (local_to_utc(LOS_ANGELES, day + one_day, time(17, 59)), []),
        (local_to_utc(LOS_ANGELES, day + one_day, time(18)), ["lou@example.com"]),
        (local_to_utc(LOS_ANGELES, day + one_day, time(20)), []),
    ]
    assert [at for at, _ in expected] == sorted(at for at, _ in expected)
    seen = 0
    for at, who in expected:
        assert run(app, jobs.send_reminders, at) == len(who), at
        new = mails(app)[seen:]
        assert [m.to for m in new] == who, at
        seen += len(new)

    assert len(mails(app, "reminder")) == 5
    with app.app_context():
        keys = db.session.execute(
            select(Notification.user_id, Notification.key).order_by(Notification.id)
        ).all()
    assert keys == [
        (la, (day - one_day).isoformat()),
        (sydney, day.isoformat()),
        (la, day.isoformat()),
        (sydney, (day + one_day).isoformat()),
        (la, (day + one_day).isoformat()),
    ]


def test_the_reminder_says_what_is_waiting_and_links_to_it(library):
    app = library
    sam = person(app, "sam@example.com", name="Sam Teller", timezone="Europe/London")
    answer_lesson(app, sam, GREETING, utc(2026, 1, 4, 9))
    complete_lesson(app, sam, PHONE, utc(2026, 1, 13, 9))  # a lesson yesterday: a streak
    with app.app_context():
        # Finishing a lesson stamps the real time; yesterday's lesson is what the streak needs.
        for lesson_run in db.session.scalars(
            select(LessonRun).where(LessonRun.completed_at.is_not(None))
        ):
            lesson_run.completed_at = utc(2026, 1, 13, 9, 30)
        db.session.commit()

    assert run(app, jobs.send_reminders, utc(2026, 1, 14, 18)) == 1
    [mail] = mails(app)
    assert mail.to == "sam@example.com"
    assert mail.subject == "Your 5-minute refresher is ready"
    assert mail.text.startswith("Hi Sam,\n")
    questions = int(re.search(r"ready: (\d+) questions, about 5 minutes\.", mail.text).group(1))
    assert questions >= 3
    assert "You're on a 1-day streak" in mail.text
    assert "Start your refresher: http://127.0.0.1:5000/refresher" in mail.text
    assert "You get this reminder at 18:00" in mail.text
    link = LINK_RE.search(mail.text).group(1)
    assert "Snooze or stop these reminders: http://127.0.0.1:5000" + link in mail.text
    assert f"ready: {questions} questions, about 5 minutes.</strong>" in mail.html
    assert 'href="http://127.0.0.1:5000/refresher"' in mail.html
    assert f'href="http://127.0.0.1:5000{link}"' in mail.html
    with app.app_context():
        token = link.removeprefix("/reminders/")
        assert read_reminder_token(token) == (sam, 0)


def test_no_reminder_when_todays_refresher_is_done(library):
    app = library
    done = person(app, "dana@example.com", timezone="Europe/London")
    waiting = person(app, "wes@example.com", timezone="Europe/London")
    for user_id in (done, waiting):
        answer_lesson(app, user_id, GREETING, utc(2026, 1, 4, 9))
    do_refresher(app, done, utc(2026, 1, 14, 8))

    assert run(app, jobs.send_reminders, utc(2026, 1, 14, 18, 30)) == 1
    assert [m.to for m in mails(app)] == ["wes@example.com"]


def test_a_half_done_refresher_gets_a_nudge_for_the_rest(library):
    app = library
    sam = person(app, "sam@example.com", timezone="Europe/London")
    answer_lesson(app, sam, GREETING, utc(2026, 1, 4, 9))
    with app.app_context():
        user = db.session.get(User, sam)
        refresher = plan_for_user(db.session, user, utc(2026, 1, 14, 8))
        total = len(refresher.item_ids)
        item = refresher_items(db.session, refresher)[0]
        store_attempt(
            db.session, user, item, _choices(item, True), "t1", None,
            refresher_id=refresher.id, answered_at=utc(2026, 1, 14, 8, 1),
        )  # fmt: skip
    assert run(app, jobs.send_reminders, utc(2026, 1, 14, 18)) == 1
    [mail] = mails(app)
    assert mail.subject.endswith("refresher is waiting")
    assert f"part way through today's refresher: {total - 1} question" in mail.text
    assert "Finish your refresher: http://127.0.0.1:5000/refresher" in mail.text


def test_snoozed_and_switched_off_learners_get_no_reminder(library):
    app = library
    off = person(app, "off@example.com", timezone="Europe/London")
    snoozed = person(app, "snoozed@example.com", timezone="Europe/London")
    snooze_over = person(app, "back@example.com", timezone="Europe/London")
    for user_id in (off, snoozed, snooze_over):
        answer_lesson(app, user_id, GREETING, utc(2026, 1, 4, 9))
    update(app, off, reminders_off=True)
    update(app, snoozed, reminders_snoozed_until=date(2026, 1, 14))  # through today
    update(app, snooze_over, reminders_snoozed_until=date(2026, 1, 13))  # ended yesterday

    assert run(app, jobs.send_reminders, utc(2026, 1, 14, 19)) == 1
    assert [m.to for m in mails(app)] == ["back@example.com"]
    assert run(app, jobs.send_reminders, utc(2026, 1, 15, 19)) == 2  # the snooze is over
    assert sorted(m.to for m in mails(app)[1:]) == ["back@example.com", "snoozed@example.com"]


def test_nothing_due_means_no_reminder(library):
    app = library
    person(app, "new@example.com", timezone="Europe/London")  # no answers: no cards at all
    busy = person(app, "busy@example.com", timezone="Europe/London")
    answer_lesson(app, busy, GREETING, utc(2026, 1, 4, 9))
    manager = person(app, "boss@example.com", role="manager", timezone="Europe/London")
    answer_lesson(app, manager, GREETING, utc(2026, 1, 4, 9))  # managers are not reminded

    assert run(app, jobs.send_reminders, utc(2026, 1, 14, 18)) == 1
    assert [m.to for m in mails(app)] == ["busy@example.com"]


def test_a_failure_for_one_learner_does_not_stop_the_others(library, monkeypatch, caplog):
    app = library
    ids = [person(app, f"p{n}@example.com", timezone="Europe/London") for n in range(3)]
    for user_id in ids:
        answer_lesson(app, user_id, GREETING, utc(2026, 1, 4, 9))
    real_plan = jobs.plan_for_user

    def flaky_plan(session, user, now=None):
        if user.id == ids[1]:
            raise RuntimeError("planning broke")
        return real_plan(session, user, now)

    monkeypatch.setattr(jobs, "plan_for_user", flaky_plan)
    with caplog.at_level(logging.ERROR, logger="trainer.notify.jobs"):
        assert run(app, jobs.send_reminders, utc(2026, 1, 14, 18)) == 2
    assert [m.to for m in mails(app)] == ["p0@example.com", "p2@example.com"]
    [record] = [r for r in caplog.records if r.name == "trainer.notify.jobs"]
    assert f"user {ids[1]}" in record.getMessage()
    assert str(record.exc_info[1]) == "planning broke"

    monkeypatch.setattr(jobs, "plan_for_user", real_plan)  # fixed: the next run catches up
    assert run(app, jobs.send_reminders, utc(2026, 1, 14, 18, 15)) == 1
    assert [m.to for m in mails(app)][-1] == "p1@example.com"


def test_two_processes_at_once_send_each_reminder_once(any_db_app, caplog):
    app = any_db_app
    sync_starter_library(app)
    emails = [f"l{n}@example.com" for n in range(5)]
    for email in emails:
        user_id = person(app, email, timezone="Europe/London")
        answer_lesson(app, user_id, GREETING, utc(2026, 1, 4, 9))
    now = utc(2026, 1, 14, 18, 5)
    barrier = threading.Barrier(2)
    counts: list[int] = []
    errors: list[BaseException] = []

    def job():
        try:
            with app.app_context():
                db.session.execute(select(1))  # connect before the start line
                barrier.wait(timeout=30)
                counts.append(jobs.send_reminders(db.session, now))
                db.session.remove()
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    with caplog.at_level(logging.ERROR):
        threads = [threading.Thread(target=job) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert not errors
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert sum(counts) == len(emails)
    assert sorted(m.to for m in mails(app, "reminder")) == emails
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Notification)) == len(emails)


# -- overdue onboarding lessons ---------------------------------------------------------------


def title(app, key: str) -> str:
    with app.app_context():
        return db.session.scalar(select(Lesson.title).where(Lesson.key == key))


def test_overdue_lessons_are_told_to_learner_and_manager_once(library):
    app = library
    ann = person(
        app, "ann@example.com", name="Ann Teller", job_role="teller", team="Millbrook",
        timezone="Europe/London", hire_date=date(2026, 3, 7),
    )  # fmt: skip
    person(
        app, "new@example.com", name="Nico New", job_role="teller", team="Millbrook",
        timezone="Europe/London", hire_date=date(2026, 3, 10),
    )  # fmt: skip
    boss = person(app, "boss@example.com", name="Morgan Boss", role="manager")
    manage(app, boss, "Millbrook")
    complete_lesson(app, ann, GREETING, utc(2026, 3, 8, 9))  # due 8 March, done

    # 10 March: greeting (due 8th) is done, phone (due 9th) is overdue, red carpet due today.
    assert run(app, jobs.flag_overdue, utc(2026, 3, 10, 12)) == 2
    learner_mail, report = mails(app)
    assert learner_mail.to == "ann@example.com"
    assert learner_mail.kind == "overdue"
    assert learner_mail.subject == f"Overdue: {title(app, PHONE)}"
    assert f"- {title(app, PHONE)} (due Mon 9 Mar): http://127.0.0.1:5000/lessons/{PHONE}" in (
        learner_mail.text
    )
    assert title(app, GREETING) not in learner_mail.text
    assert title(app, RED_CARPET) not in learner_mail.text
    assert report.to == "boss@example.com"
    assert report.kind == "overdue-report"
    assert report.subject == "Overdue onboarding: 1 lesson (Ann Teller)"
    assert f"- Ann Teller: {title(app, PHONE)} (due Mon 9 Mar)" in report.text
    assert "Nico" not in report.text
    assert "<td" in report.html and "Ann Teller" in report.html

    assert run(app, jobs.flag_overdue, utc(2026, 3, 10, 18)) == 0  # same day, nothing new
    assert len(mails(app)) == 2

    # 11 March: red carpet joins the overdue list; only it is news. Nico's first lesson is
    # due today, not overdue.
    assert run(app, jobs.flag_overdue, utc(2026, 3, 11, 12)) == 2
    new = mails(app)[2:]
    assert {m.to for m in new} == {"ann@example.com", "boss@example.com"}
    for mail in new:
        if mail.to == "ann@example.com":
            assert mail.subject == f"Overdue: {title(app, RED_CARPET)}"
            assert title(app, PHONE) not in mail.text
        if mail.to == "boss@example.com":
            assert f"- Ann Teller: {title(app, RED_CARPET)} (due Tue 10 Mar)" in mail.text
            assert "Nico" not in mail.text
            assert f"Ann Teller: {title(app, PHONE)}" not in mail.text
    with app.app_context():
        keys = set(db.session.execute(select(Notification.kind, Notification.key)).all())
    assert ("overdue", f"teller-onboarding/{PHONE}") in keys
    assert ("overdue-report", f"{ann}/{PHONE}") in keys
    assert ("overdue-report", f"{ann}/{RED_CARPET}") in keys

    assert run(app, jobs.flag_overdue, utc(2026, 3, 11, 13)) == 0


def test_overdue_turns_at_the_learners_own_midnight(library):
    app = library
    # Sydney is UTC+11 in March: 10 March starts there at 13:00 UTC on the 9th.
    person(
        app, "sia@example.com", name="Sia Nguyen", job_role="teller", timezone=SYDNEY,
        hire_date=date(2026, 3, 8),
    )  # fmt: skip
    assert run(app, jobs.flag_overdue, utc(2026, 3, 9, 12, 59)) == 0  # 23:59 on the 9th, due day
    assert run(app, jobs.flag_overdue, utc(2026, 3, 9, 13, 0)) == 1
    [mail] = mails(app)
    assert mail.subject == f"Overdue: {title(app, GREETING)}"


def test_a_backlog_of_overdue_lessons_comes_in_one_mail_each(library):
    app = library
    person(
        app, "late@example.com", name="Lee Late", job_role="teller", team="Millbrook",
        timezone="Europe/London", hire_date=date(2026, 3, 1),
    )  # fmt: skip
    boss = person(app, "boss@example.com", name="Morgan Boss", role="manager")
    manage(app, boss, "Millbrook")
    assert run(app, jobs.flag_overdue, utc(2026, 3, 6, 12)) == 2
    learner_mail, report = mails(app)
    assert learner_mail.subject == "4 onboarding lessons are overdue"  # due 2nd to 5th
    assert report.subject == "Overdue onboarding: 4 lessons (Lee Late)"
    with app.app_context():
        rows = db.session.execute(
            select(
                Notification.kind,
                func.count(),
                func.count(func.distinct(Notification.message_id)),
            )
            .group_by(Notification.kind)
            .order_by(Notification.kind)
        ).all()  # fmt: skip
    assert rows == [("overdue", 4, 1), ("overdue-report", 4, 1)]


# -- the managers' weekly digest --------------------------------------------------------------


def test_digest_goes_out_monday_after_eight_once_a_week(library):
    app = library
    new_york = "America/New_York"  # UTC-5 in November: Monday 08:00 is 13:00 UTC
    ana = person(
        app, "ana@example.com", name="Ana Alvarez", job_role="teller", team="Millbrook",
        hire_date=date(2026, 11, 1),
    )  # fmt: skip
    ben = person(
        app, "ben@example.com", name="Ben Brown", job_role="teller", team="Millbrook",
        hire_date=date(2026, 11, 16),
    )  # fmt: skip
    person(app, "other@example.com", name="Oona Other", job_role="teller", team="Elsewhere")
    boss = person(app, "boss@example.com", name="Morgan Boss", role="manager", timezone=new_york)
    manage(app, boss, "Millbrook")

    complete_lesson(app, ana, PHONE, utc(2026, 11, 10, 9))
    # Ana plans refreshers on four days and finishes two of them.
    for day in (17, 18, 19, 20):
        plan_refresher(app, ana, utc(2026, 11, day, 12))
    do_refresher(app, ana, utc(2026, 11, 17, 12, 30))
    do_refresher(app, ana, utc(2026, 11, 19, 12, 30))
    answer_lesson(app, ben, GREETING, utc(2026, 10, 20, 9), right=False)  # long ago, wrong
    complete_lesson(app, ben, RED_CARPET, utc(2026, 11, 2, 9))

    assert run(app, jobs.manager_digest, utc(2026, 11, 23, 12, 59)) == 0  # 07:59 in New York
    assert run(app, jobs.manager_digest, utc(2026, 11, 23, 13, 0)) == 1
    [digest] = mails(app)
    assert digest.to == "boss@example.com"
    assert digest.kind == "digest"
    assert digest.subject == "Your team's week in training (2026-W48): Millbrook"
    assert "- Ana Alvarez: path 1/10, 9 overdue, refreshers 2/4 days" in digest.text
    assert "- Ben Brown: path 1/10, 4 overdue, refreshers none planned" in digest.text
    assert "Oona" not in digest.text
    weakest = re.search(r"Weakest skills: (.*)", digest.text).group(1)
    assert weakest.startswith("First impression (")
    assert "http://127.0.0.1:5000/" in digest.text
    assert "<table" in digest.html and "Ana Alvarez" in digest.html
    assert "First impression" in digest.html

    assert run(app, jobs.manager_digest, utc(2026, 11, 23, 18)) == 0
    assert run(app, jobs.manager_digest, utc(2026, 11, 29, 23)) == 0  # Sunday, same week
    assert run(app, jobs.manager_digest, utc(2026, 11, 30, 12, 59)) == 0
    assert run(app, jobs.manager_digest, utc(2026, 11, 30, 13, 0)) == 1
    assert mails(app)[-1].subject.startswith("Your team's week in training (2026-W49)")
    with app.app_context():
        keys = db.session.scalars(select(Notification.key).order_by(Notification.id)).all()
    assert keys == ["2026-W48", "2026-W49"]


def test_no_digest_for_managers_without_a_team_or_switched_off(library):
    app = library
    person(app, "learner@example.com", job_role="teller", team="Millbrook")
    person(app, "idle@example.com", role="manager")  # manages nothing
    gone = person(app, "gone@example.com", role="manager")
    manage(app, gone, "Millbrook")
    update(app, gone, active=False)
    admin = person(app, "admin@example.com", name="Ada Admin", role="admin")
    manage(app, admin, "Millbrook")
    assert run(app, jobs.manager_digest, utc(2026, 11, 23, 9)) == 1
    assert [m.to for m in mails(app)] == ["admin@example.com"]


# -- the snooze / unsubscribe link ------------------------------------------------------------


def _reminder_link(app, user_id: int) -> str:
    with app.app_context():
        return "/reminders/" + reminder_token(db.session.get(User, user_id))


def _settings(app, user_id: int) -> tuple[bool, date | None]:
    with app.app_context():
        user = db.session.get(User, user_id)
        return user.reminders_off, user.reminders_snoozed_until


def test_the_link_page_shows_buttons_and_changes_nothing(app, client):
    sam = person(app, "sam@example.com", name="Sam Teller")
    link = _reminder_link(app, sam)
    for _ in range(2):  # a mail scanner fetching it, then the person
        page = client.get(link)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "Snooze reminders for 7 days" in html
        assert "Stop refresher reminders" in html
        assert "Turn reminders back on" not in html
        assert html.count('method="post"') == 2
    assert _settings(app, sam) == (False, None)


def test_snooze_from_the_mail_link_pauses_reminders_for_seven_days(library):
    app = library
    client = app.test_client()
    sam = person(app, "sam@example.com", timezone="Europe/London")
    start = utcnow()
    answer_lesson(app, sam, GREETING, start - timedelta(days=10))
    today = datetime.now(ZoneInfo("Europe/London")).date()

    response = client.post(_reminder_link(app, sam), data={"action": "snooze"})
    assert response.status_code == 303
    page = client.get(response.location).get_data(as_text=True)
    resumes = today + timedelta(days=7)
    assert f"The next one can come on {resumes:%a} {resumes.day} {resumes:%b}" in page
    assert "Turn reminders back on" in page
    assert _settings(app, sam) == (False, today + timedelta(days=6))

    for days in range(7):
        at = local_to_utc("Europe/London", today + timedelta(days=days), time(18, 30))
        assert run(app, jobs.send_reminders, at) == 0, days
    at = local_to_utc("Europe/London", resumes, time(18, 30))
    assert run(app, jobs.send_reminders, at) == 1
    assert [m.to for m in mails(app)] == ["sam@example.com"]


def test_stop_turns_reminders_off_and_back_on(library):
    app = library
    client = app.test_client()
    sam = person(app, "sam@example.com", timezone="Europe/London")
    answer_lesson(app, sam, GREETING, utc(2026, 1, 4, 9))
    link = _reminder_link(app, sam)

    response = client.post(link, data={"action": "stop"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Refresher reminders are off" in html
    assert "Turn reminders back on" in html
    assert "Stop refresher reminders" not in html
    assert _settings(app, sam)[0] is True
    assert run(app, jobs.send_reminders, utc(2026, 1, 14, 18, 30)) == 0

    # The mail's link has done its job; the page carries on under a fresh one.
    fresh = response.request.path
    assert fresh != link
    expired = client.get(link)
    assert expired.status_code == 410 and "This link has expired" in expired.get_data(True)
    response = client.post(fresh, data={"action": "resume"}, follow_redirects=True)
    assert "Refresher reminders are back on" in response.get_data(as_text=True)
    assert _settings(app, sam) == (False, None)
    assert run(app, jobs.send_reminders, utc(2026, 1, 15, 18, 30)) == 1


def test_a_tampered_or_foreign_token_gets_the_expired_page(app, client):
    sam = person(app, "sam@example.com")
    link = _reminder_link(app, sam)
    tampered = link[:-2] + ("AA" if not link.endswith("AA") else "BB")
    page = client.get(tampered)
    assert page.status_code == 410 and "This link has expired" in page.get_data(as_text=True)
    assert client.post(tampered, data={"action": "stop"}).status_code == 410
    assert client.get("/reminders/not-a-token").status_code == 410
    with app.app_context():
        other_salt = URLSafeSerializer(app.config["SECRET_KEY"], salt="other").dumps(sam)
    assert client.get(f"/reminders/{other_salt}").status_code == 410
    assert client.post(link, data={"action": "explode"}).status_code == 400
    assert _settings(app, sam) == (False, None)


def test_reminder_buttons_need_the_csrf_token(tmp_path, request):
    app = make_app(tmp_path, "sqlite", request, WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.create_all()
    try:
        sam = person(app, "sam@example.com")
        link = _reminder_link(app, sam)
        client = app.test_client()
        assert client.post(link, data={"action": "stop"}).status_code == 400
        assert _settings(app, sam) == (False, None)
        page = client.get(link).get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        response = client.post(link, data={"action": "stop", "csrf_token": token})
        assert response.status_code == 303
        assert _settings(app, sam)[0] is True
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_overdue_follows_the_due_dates_a_manager_set(library):
    """A path assigned with a later due date is not overdue; an assigned lesson past due is."""
    from trainer.learn.enrolment import assign
    from trainer.models import Lesson, Path

    app = library
    ann = person(
        app, "ann@example.com", name="Ann Teller", job_role="teller", team="Millbrook",
        timezone="Europe/London", hire_date=date(2026, 3, 1),
    )  # fmt: skip
    boss = person(app, "boss@example.com", name="Morgan Boss", role="manager")
    manage(app, boss, "Millbrook")
    with app.app_context():
        user, manager = db.session.get(User, ann), db.session.get(User, boss)
        path = db.session.scalar(select(Path).where(Path.key == "teller-onboarding"))
        extra = db.session.scalar(select(Lesson).where(Lesson.key == "table-greeting-first-minute"))
        assign(db.session, manager, [user], path=path, due_date=date(2026, 6, 30))
        assign(db.session, manager, [user], lesson=extra, due_date=date(2026, 3, 5))

    # By the hire date alone most of the path would be overdue on 20 March; the manager's
    # date moved it to June, so only the assigned lesson is late.
    assert run(app, jobs.flag_overdue, utc(2026, 3, 20, 12)) == 2
    learner_mail = next(m for m in mails(app) if m.to == "ann@example.com")
    assert learner_mail.subject == f"Overdue: {title(app, 'table-greeting-first-minute')}"
    assert title(app, PHONE) not in learner_mail.text


def test_a_reminder_link_older_than_60_days_gets_the_expired_page(app, client):
    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    from trainer.notify.tokens import SALT

    class SixtyOneDaysAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time_module.time()) - 61 * 24 * 60 * 60

    sam = person(app, "sam@example.com")
    with app.app_context():
        old = URLSafeTimedSerializer(
            app.config["SECRET_KEY"], salt=SALT, signer=SixtyOneDaysAgo
        ).dumps([sam, 0])
        fresh = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=SALT).dumps([sam, 0])
    page = client.get(f"/reminders/{old}")
    assert page.status_code == 410 and "This link has expired" in page.get_data(as_text=True)
    assert client.post(f"/reminders/{old}", data={"action": "stop"}).status_code == 410
    assert _settings(app, sam) == (False, None)
    assert client.get(f"/reminders/{fresh}").status_code == 200  # the same link, made today
