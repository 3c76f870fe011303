"""`flask --app trainer db upgrade` builds the schema the models describe, on both databases."""

from __future__ import annotations

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

    from trainer.mail import deliver_pending

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
