"""`flask --app trainer db upgrade` builds the schema the models describe, on both databases."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from tests.conftest import make_app
from trainer.extensions import db
from trainer.models import Base


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_app(tmp_path, request):
    """An app whose database has no tables at all."""
    app = make_app(tmp_path, request.param, request)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def schema_diff(app) -> list:
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def test_upgrade_builds_the_current_schema_on_an_empty_database(empty_app):
    runner = empty_app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with empty_app.app_context():
        tables = set(inspect(db.engine).get_table_names())
    assert {"users", "lessons", "quiz_items", "attempts", "roleplay_answers"} <= tables
    assert schema_diff(empty_app) == []


def test_upgrade_twice_changes_nothing_and_downgrade_round_trips(empty_app):
    runner = empty_app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert runner.invoke(args=["db", "downgrade", "base"]).exit_code == 0
    with empty_app.app_context():
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert schema_diff(empty_app) == []


def test_the_models_have_no_change_without_a_migration(empty_app):
    """A model edited without `flask db migrate` would show up here as a difference."""
    runner = empty_app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert schema_diff(empty_app) == []


def test_an_older_database_keeps_its_data_through_upgrade(empty_app):
    """A database made by the first release, with people in it, upgrades without loss."""
    from sqlalchemy import text

    runner = empty_app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0001"]).exit_code == 0
    with empty_app.app_context(), db.engine.begin() as conn:
        conn.execute(
            text(
                "insert into users (email, name, role, timezone, active, created_at)"
                " values ('old@example.com', 'Old Timer', 'learner', 'Europe/London',"
                " true, '2026-01-05 09:00:00')"
            )
        )
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with empty_app.app_context(), db.engine.connect() as conn:
        row = conn.execute(text("select name, reminder_time, reminders_off from users")).one()
    assert row.name == "Old Timer"
    assert str(row.reminder_time).startswith("18:00")
    assert row.reminders_off in (False, 0)
    assert schema_diff(empty_app) == []


def test_unsent_mail_in_an_older_database_stays_unsent_and_not_failed(empty_app):
    """Mail queued before messages could fail or expire is still waiting after the upgrade."""
    from sqlalchemy import text

    from trainer.messages import deliver_pending

    runner = empty_app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0004"]).exit_code == 0
    with empty_app.app_context(), db.engine.begin() as conn:
        conn.execute(
            text(
                'insert into outbox ("to", subject, text, kind, created_at, attempts,'
                " next_attempt_at, last_error) values ('sam@example.com', 'Hello', 'Hi',"
                " 'reminder', '2026-01-05 09:00:00', 2, '2026-01-05 09:06:00', '451 busy')"
            )
        )
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with empty_app.app_context():
        with db.engine.connect() as conn:
            row = conn.execute(
                text("select subject, attempts, last_error, failed_at, expires_at from outbox")
            ).one()
        assert tuple(row) == ("Hello", 2, "451 busy", None, None)
        empty_app.config["MAIL_SERVER"] = None
        assert deliver_pending(db.session).kept == 1
    assert schema_diff(empty_app) == []


@dataclass
class OldLesson:
    """A lesson as the tables of an older revision hold it: today's models may not fit them."""

    id: int
    items: list[int]  # its quiz's live items, in order
    roleplays: list[int]

    @classmethod
    def read(cls, key: str) -> OldLesson:
        from sqlalchemy import text

        with db.engine.connect() as conn:
            lesson_id, quiz_id = conn.execute(
                text("select id, quiz_id from lessons where key = :key"), {"key": key}
            ).one()
            items = conn.scalars(
                text(
                    "select id from quiz_items where quiz_id = :quiz and not retired"
                    " order by position"
                ),
                {"quiz": quiz_id},
            ).all()
            roleplays = conn.scalars(
                text("select id from roleplays where lesson_id = :lesson order by position"),
                {"lesson": lesson_id},
            ).all()
        return cls(lesson_id, list(items), list(roleplays))


def test_duplicate_open_runs_are_resolved_through_upgrade_without_losing_an_answer(empty_app):
    """Two tabs used to start two runs of one lesson. After upgrade each person has one open
    run per lesson, holding every answer it lacked; older runs that still hold an answer of
    their own are set aside, neither open nor completed; nothing answered is lost."""
    from datetime import datetime, timedelta

    from sqlalchemy import insert, select, text

    from tests.conftest import sync_starter_library
    from trainer.learn import services as learn
    from trainer.models import Attempt, Lesson, LessonRun, RolePlayAnswer, User

    runner = empty_app.test_cli_runner()
    # The library is loaded by today's code, then the schema taken back to the last revision
    # before one open run per lesson; from there on it is read and written as tables only.
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    sync_starter_library(empty_app)
    assert runner.invoke(args=["db", "downgrade", "0006"]).exit_code == 0
    nine = datetime(2026, 11, 2, 9, 0)
    with empty_app.app_context():
        with db.engine.begin() as conn:
            for email in ("sam@example.com", "kim@example.com"):
                conn.execute(
                    text(
                        "insert into users (email, name, role, timezone, active, created_at)"
                        " values (:email, 'Old Timer', 'learner', 'Europe/London', true,"
                        " '2026-11-01 09:00:00')"
                    ),
                    {"email": email},
                )
            sam, kim = (
                conn.scalar(text("select id from users where email = :e"), {"e": email})
                for email in ("sam@example.com", "kim@example.com")
            )
        keys = [
            "teller-greeting-at-the-counter",
            "teller-red-carpet-service",
            "teller-last-impression",
        ]
        first, second, third = (OldLesson.read(key) for key in keys)
        users = {"sam": sam, "kim": kim}
        lessons = {"first": first, "second": second, "third": third}
        run_ids: dict[str, int] = {}
        with db.engine.begin() as conn:

            def run(name, who, lesson, minute, completed=False):
                at = nine + timedelta(minutes=minute)
                stored = conn.execute(
                    insert(LessonRun.__table__).values(
                        user_id=users[who],
                        lesson_id=lessons[lesson].id,
                        started_at=at,
                        completed_at=at + timedelta(minutes=5) if completed else None,
                        correct=1 if completed else 0,
                        total=1 if completed else 0,
                    )
                )
                run_ids[name] = stored.inserted_primary_key[0]

            def answer(token, run_name, who, lesson, n):
                conn.execute(
                    insert(Attempt.__table__).values(
                        user_id=users[who],
                        item_id=lessons[lesson].items[n],
                        run_id=run_ids[run_name],
                        context="lesson",
                        chosen=[0],
                        chosen_text=["Hello"],
                        correct=True,
                        score=1.0,
                        seconds=10.0,
                        answered_at=nine,
                        token=token,
                    )
                )

            # Sam, first lesson: two tabs answered question 1; the role-play went to the older.
            run("A", "sam", "first", 0)
            run("B", "sam", "first", 1)
            answer("a1", "A", "sam", "first", 0)
            answer("b1", "B", "sam", "first", 0)
            answer("b2", "B", "sam", "first", 1)
            conn.execute(
                insert(RolePlayAnswer.__table__).values(
                    user_id=sam,
                    roleplay_id=first.roleplays[0],
                    run_id=run_ids["A"],
                    text="Good morning!",
                    rubric=["Greets"],
                    created_at=nine,
                    token="ra",
                )
            )
            # Sam, second lesson: three open runs; D's answers all fit into E, C's clashes.
            run("C", "sam", "second", 10)
            run("D", "sam", "second", 11)
            run("E", "sam", "second", 12)
            answer("c1", "C", "sam", "second", 0)
            answer("d1", "D", "sam", "second", 0)
            answer("d2", "D", "sam", "second", 1)
            answer("e3", "E", "sam", "second", 2)
            # Sam, third lesson: completed once, then started again. Kim: one open run.
            run("F", "sam", "third", 20, completed=True)
            run("G", "sam", "third", 30)
            answer("f1", "F", "sam", "third", 0)
            answer("g1", "G", "sam", "third", 0)
            run("H", "kim", "first", 0)
            answer("h1", "H", "kim", "first", 0)

    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert schema_diff(empty_app) == []
    with empty_app.app_context():
        stored = {r.id: r for r in db.session.scalars(select(LessonRun))}
        name = {run_id: n for n, run_id in run_ids.items()}
        state = {
            name[r.id]: "completed" if r.completed_at else "set aside" if r.abandoned_at else "open"
            for r in stored.values()
        }
        assert state == {
            "A": "set aside",
            "B": "open",
            "C": "set aside",
            "E": "open",
            "F": "completed",
            "G": "open",
            "H": "open",
        }  # D gave everything it held to E
        where = dict(db.session.execute(select(Attempt.token, Attempt.run_id)).all())
        assert {token: name[run_id] for token, run_id in where.items()} == {
            "a1": "A",
            "b1": "B",
            "b2": "B",
            "c1": "C",
            "d1": "E",
            "d2": "E",
            "e3": "E",
            "f1": "F",
            "g1": "G",
            "h1": "H",
        }
        assert name[db.session.scalar(select(RolePlayAnswer.run_id))] == "B"
        # A run that took answers counts as started when the run that gave them started.
        assert stored[run_ids["B"]].started_at == nine
        assert stored[run_ids["E"]].started_at == nine + timedelta(minutes=11)

        # The learner carries on in the run holding their answers; nothing set aside counts.
        sam = db.session.get(User, users["sam"])
        assert learn.completed_lesson_ids(db.session, sam) == {third.id}
        assert learn.open_lesson_ids(db.session, sam) == {first.id, second.id, third.id}
        lesson = {key: db.session.scalar(select(Lesson).where(Lesson.key == key)) for key in keys}
        assert learn.start_run(db.session, sam, lesson[keys[0]]).id == run_ids["B"]
        assert learn.start_run(db.session, sam, lesson[keys[1]]).id == run_ids["E"]


def test_mail_in_an_older_database_keeps_its_state_as_the_email_channel_of_its_route(empty_app):
    """Before channels, every message was email: after the upgrade each has a one-channel
    route (email) that says what happened to it, and an unsent one is still waiting."""
    from sqlalchemy import select, text

    from trainer.messages.delivery import delivery_status, message_status
    from trainer.models import OutboxMessage

    runner = empty_app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0009"]).exit_code == 0
    with empty_app.app_context(), db.engine.begin() as conn:
        for to, sent, failed, expires, error in (
            ("sent@example.com", "'2026-01-05 09:01:00'", "null", "null", "null"),
            ("gone@example.com", "null", "'2026-01-05 09:01:00'", "null", "'550 no such user'"),
            ("late@example.com", "null", "'2026-01-06 00:00:00'", "'2026-01-06 00:00:00'",
             "'expired: not delivered before the end of the learner''s day'"),
            ("wait@example.com", "null", "null", "null", "'451 busy'"),
        ):  # fmt: skip
            conn.execute(
                text(
                    'insert into outbox ("to", subject, text, kind, created_at, attempts,'
                    " next_attempt_at, sent_at, failed_at, expires_at, last_error) values"
                    f" ('{to}', 'Hello', 'Hi', 'reminder', '2026-01-05 09:00:00', 1,"
                    f" '2026-01-05 09:05:00', {sent}, {failed}, {expires}, {error})"
                )
            )
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert schema_diff(empty_app) == []
    with empty_app.app_context():
        config = empty_app.config
        rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        seen = [
            (
                m.to,
                m.channel,
                message_status(m, config).word,
                [(d.channel, d.to, delivery_status(m, d).word) for d in m.deliveries],
            )
            for m in rows
        ]
    assert seen == [
        ("sent@example.com", "email", "sent", [("email", "sent@example.com", "sent")]),
        ("gone@example.com", "email", "failed", [("email", "gone@example.com", "refused")]),
        ("late@example.com", "email", "failed", [("email", "late@example.com", "not used")]),
        ("wait@example.com", "email", "kept", [("email", "wait@example.com", "waiting")]),
    ]


def test_built_in_checklists_of_an_older_database_get_their_job_roles(empty_app):
    """Checklists are for every role until the upgrade; then the built-in ones that fit only
    some roles say so, and the rest (an admin's own included) stay for every role."""
    from sqlalchemy import select, text

    from trainer.models import ObservationChecklist

    runner = empty_app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0014"]).exit_code == 0
    with empty_app.app_context(), db.engine.begin() as conn:
        for key in ("counter-or-table-greeting", "collections-call", "phone-greeting", "bar"):
            conn.execute(
                text(
                    "insert into observation_checklists (key, title, skill, points, builtin,"
                    f" active, created_at) values ('{key}', 'T', 's', '[\"a\", \"b\"]',"
                    " true, true, '2026-01-05 09:00:00')"
                )
            )
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert schema_diff(empty_app) == []
    with empty_app.app_context():
        roles = dict(
            db.session.execute(select(ObservationChecklist.key, ObservationChecklist.roles)).all()
        )
    assert roles == {
        "counter-or-table-greeting": ["teller", "wait-staff"],
        "collections-call": ["contact-centre", "teller"],
        "phone-greeting": [],
        "bar": [],
    }
    # The migration's copy agrees with the checklists new databases get.
    from trainer.manage.observations import BUILTIN_ROLES

    assert {key: roles[key] for key in BUILTIN_ROLES} == BUILTIN_ROLES
