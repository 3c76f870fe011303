"""`flask --app trainer demo`: the accounts the README promises, with history, safe to rerun."""

from __future__ import annotations

from sqlalchemy import func, select

from trainer.extensions import db
from trainer.models import Attempt, LessonRun, RolePlayAnswer, Team, User
from trainer.people.demo import PEOPLE


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
        assert db.session.scalar(select(func.count()).select_from(User)) == len(PEOPLE)
        assert db.session.scalar(select(func.count()).select_from(Attempt)) > 50


def test_the_demo_has_a_learner_without_email_and_a_join_code_for_the_restaurant(app, runner):
    import re

    import sqlalchemy as sa

    from trainer.auth.pins import verify_pin
    from trainer.extensions import db
    from trainer.models import User

    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    code = re.search(r"Join code for The Copper Pot, city centre: (\w{4})-(\w{4})", first.output)
    assert code, first.output
    url = re.search(r"join URL (\S+)", first.output).group(1)
    assert url.endswith(f"/join/{code.group(1)}{code.group(2)}")
    again = runner.invoke(args=["demo"])
    assert f"{code.group(1)}-{code.group(2)}" in again.output  # the same code, still good

    with app.app_context():
        kai = db.session.scalar(sa.select(User).where(User.employee_number == "1001"))
        assert kai.email is None and kai.team.name == "The Copper Pot, city centre"
        assert verify_pin(kai.pin_hash, "246810") and kai.phone == "+447911123456"
    page = app.test_client().get(f"/join/{code.group(1)}{code.group(2)}")
    assert page.status_code == 200 and "Join The Copper Pot, city centre" in page.get_data(True)


def test_the_demo_prints_a_link_that_makes_a_browser_the_restaurants_tablet(app, runner):
    import re

    result = runner.invoke(args=["demo"])
    link = re.search(r"Tablet 'Counter tablet': open http://127\.0\.0\.1:5000(\S+)", result.output)
    assert link, result.output
    tablet = app.test_client()
    page = tablet.get(link.group(1))
    assert page.status_code == 200 and "Use this browser as the team tablet" in page.get_data(True)
    assert tablet.post(link.group(1)).status_code in (302, 303)
    signed_in = tablet.post("/device", data={"employee_number": "1001", "pin": "246810"})
    assert signed_in.status_code in (302, 303)
    assert "Kai" in tablet.get("/").get_data(True)
    again = runner.invoke(args=["demo"])
    assert "Tablet 'Counter tablet' is enrolled" in again.output


def test_the_demos_waiter_without_email_gets_reminders_by_text_into_the_outbox(tmp_path, request):
    from datetime import UTC, datetime, time, timedelta
    from zoneinfo import ZoneInfo

    import sqlalchemy as sa

    from tests.conftest import make_app
    from trainer.models import OutboxMessage, utcnow

    app = make_app(tmp_path, "sqlite", request, SMS_URL="outbox")
    with app.app_context():
        db.create_all()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo"]).exit_code == 0
    day = (utcnow() + timedelta(days=3)).date()  # cards of Kai's first lesson are due by then
    london = datetime.combine(day, time(18, 5), ZoneInfo("Europe/London"))
    at = london.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")
    assert runner.invoke(args=["jobs", "run", "send-reminders", "--now", at]).exit_code == 0
    assert runner.invoke(args=["jobs", "run", "deliver-mail", "--now", at]).exit_code == 0
    with app.app_context():
        texts = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.to == "+447911123456")
        ).all()
        assert [m.channel for m in texts] == ["sms"]
        assert texts[0].kind == "reminder"


def test_the_demo_has_a_learner_who_reads_her_lessons_in_spanish(app, runner, client):
    from trainer.people.demo import SPANISH_LEARNER

    result = runner.invoke(args=["demo"])
    assert f"{SPANISH_LEARNER} (same password) reads her lessons in Spanish" in result.output
    client.post("/login", data={"email": SPANISH_LEARNER, "password": "demo"})
    today = client.get("/").get_data(as_text=True)
    assert "Los primeros diez segundos en la ventanilla" in today
    lesson = client.get("/lessons/teller-red-carpet-service").get_data(as_text=True)
    assert "El único cliente de la sala" in lesson
    assert "Declan Byrne, que pasa de los setenta" in lesson
    assert "Not yet translated" not in lesson
    # Her role-play answers were kept with the rubric she read.
    with app.app_context():
        from sqlalchemy import select

        from trainer.extensions import db
        from trainer.models import RolePlayAnswer, User

        valeria = db.session.scalar(select(User).where(User.email == SPANISH_LEARNER))
        assert valeria.language == "es"
        answers = db.session.scalars(
            select(RolePlayAnswer).where(RolePlayAnswer.user_id == valeria.id)
        ).all()
        assert answers and all(
            "Buenos" in a.text or "Gracias" in a.text or "Entiendo" in a.text for a in answers
        )
        assert any(a.rubric[0].startswith(("Levanta", "Dice", "Le ")) for a in answers)
