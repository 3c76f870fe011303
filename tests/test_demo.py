"""`flask --app trainer demo`: the accounts the README promises, with history, safe to rerun."""

from __future__ import annotations

from sqlalchemy import func, select

from trainer.extensions import db
from trainer.models import Attempt, LessonRun, RolePlayAnswer, Team, User


def test_demo_creates_the_readme_accounts_with_history(app, runner, client):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "learner@example.com" in result.output

    for email in ("admin@example.com", "manager@example.com", "learner@example.com"):
        response = client.post("/login", data={"email": email, "password": "demo"})
        assert response.status_code == 302, email
        client.post("/logout")

    with app.app_context():
        roles = dict(
            db.session.execute(
                select(User.email, User.role).where(
                    User.email.in_(["admin@example.com", "manager@example.com"])
                )
            ).all()
        )
        assert roles == {"admin@example.com": "admin", "manager@example.com": "manager"}

        learners = db.session.scalars(select(User).where(User.role == "learner")).all()
        assert len(learners) >= 6
        with_history = {
            run.user_id
            for run in db.session.scalars(
                select(LessonRun).where(LessonRun.completed_at.is_not(None))
            )
        }
        assert len(with_history) >= 5
        assert db.session.scalar(select(func.count()).select_from(Attempt)) > 50
        assert db.session.scalar(select(func.count()).select_from(RolePlayAnswer)) > 5

        teams = db.session.scalars(select(Team).order_by(Team.id)).all()
        assert len(teams) == 2
        manager = db.session.scalar(select(User).where(User.email == "manager@example.com"))
        assert [t.name for t in manager.managed_teams] == [teams[0].name]
        assert all(member.role == "learner" for member in teams[0].members)


def test_demo_learner_home_shows_progress(app, runner, client):
    runner.invoke(args=["demo"])
    client.post("/login", data={"email": "learner@example.com", "password": "demo"})
    page = client.get("/").get_data(as_text=True)
    assert "Teller onboarding" in page
    assert "2 of 10 lessons done" in page


def test_demo_runs_twice_without_duplicating_anything(app, runner):
    runner.invoke(args=["demo"])
    with app.app_context():
        before = (
            db.session.scalar(select(func.count()).select_from(User)),
            db.session.scalar(select(func.count()).select_from(Attempt)),
        )
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0
    assert "0 people created" in second.output
    with app.app_context():
        after = (
            db.session.scalar(select(func.count()).select_from(User)),
            db.session.scalar(select(func.count()).select_from(Attempt)),
        )
    assert after == before


def test_demo_loads_on_both_databases(any_db_app):
    result = any_db_app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    with any_db_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 10
        assert db.session.scalar(select(func.count()).select_from(Attempt)) > 50
