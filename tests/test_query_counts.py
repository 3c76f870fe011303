"""Statements per page do not grow with the data: the learner's Today page, a quiz item (in a
lesson and in a refresher) and the manager's team page, each counted with a little history
and with a lot, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from trainer.extensions import db
from trainer.learn.services import live_lesson
from trainer.models import (
    Attempt,
    Enrolment,
    Lesson,
    LessonRun,
    Path,
    Refresher,
    ReviewCard,
    RolePlayAnswer,
    User,
    utcnow,
)
from trainer.people.services import create_user, get_or_create_team
from trainer.review.planning import local_date

PASSWORD = "correct horse"
TODAY_MAX = 5
QUIZ_ITEM_MAX = 4
TEAM_MAX = 6


@pytest.fixture
def library(any_db_app):
    from tests.conftest import sync_starter_library

    sync_starter_library(any_db_app)
    return any_db_app


@contextmanager
def counted(app):
    """The SQL statements sent while inside, in a list."""
    statements: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", note)


def _count(app, client, url: str) -> int:
    with counted(app) as statements:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(statements)


def _history(session, user: User, *, lessons: int, days: int, manager: User | None = None):
    """`lessons` lessons of the person's path completed with every answer, a review card per
    item, a coached role-play answer, a lesson assigned, one lesson open, and `days` daily
    refreshers (all done but today's, which is planned)."""
    now = utcnow()
    enrolment = session.scalar(
        select(Enrolment).where(Enrolment.user_id == user.id, Enrolment.path_id.is_not(None))
    )
    path = session.get(Path, enrolment.path_id)
    steps = [step.lesson for step in path.steps]
    items = []
    for n, lesson in enumerate(steps[:lessons]):
        at = now - timedelta(days=days + lessons - n)
        run = LessonRun(
            user_id=user.id, lesson_id=lesson.id, started_at=at, completed_at=at, total=4
        )
        session.add(run)
        session.flush()
        for item in lesson.quiz.live_items:
            items.append(item)
            session.add(
                Attempt(
                    user_id=user.id, item_id=item.id, run_id=run.id, context="lesson",
                    chosen=[0], chosen_text=["x"], correct=True, score=1.0, answered_at=at,
                    token=f"l{run.id}-{item.id}",
                )
            )  # fmt: skip
            session.add(
                ReviewCard(
                    user_id=user.id, item_id=item.id, state=2, stability=3.0 + n,
                    difficulty=5.0, due=now - timedelta(days=n % 3), last_review=at, reps=2,
                )
            )  # fmt: skip
        roleplay = lesson.live_roleplays[0]
        session.add(
            RolePlayAnswer(
                user_id=user.id, roleplay_id=roleplay.id, run_id=run.id, text="Hello there",
                rubric=list(roleplay.rubric), ticked=[], token=f"r{run.id}",
                coach_comment="Well said" if manager else None,
                coached_by_id=manager.id if manager else None,
                coached_at=now - timedelta(days=1) if manager else None,
            )
        )  # fmt: skip
    if lessons < len(steps):
        session.add(LessonRun(user_id=user.id, lesson_id=steps[lessons].id, started_at=now))
    extra = session.scalar(
        select(Lesson).where(Lesson.id.not_in([lesson.id for lesson in steps])).limit(1)
    )
    session.add(
        Enrolment(
            user_id=user.id, lesson_id=extra.id, start_date=now.date(),
            due_date=now.date() + timedelta(days=7), source="assigned",
        )
    )  # fmt: skip
    today = local_date(user.timezone, now)
    for back in range(days, -1, -1):
        done = back > 0
        chosen = items[back % max(1, len(items)) :][:3] or items[:3]
        refresher = Refresher(
            user_id=user.id, local_date=today - timedelta(days=back), kind="daily",
            item_ids=[item.id for item in chosen], budget_seconds=300,
            planned_at=now - timedelta(days=back, hours=2),
            completed_at=now - timedelta(days=back, hours=1) if done else None,
            correct=len(chosen) if done else 0, total=len(chosen) if done else 0,
        )  # fmt: skip
        session.add(refresher)
        session.flush()
        answered = chosen if done else chosen[:1]
        for item in answered:
            session.add(
                Attempt(
                    user_id=user.id, item_id=item.id, refresher_id=refresher.id,
                    context="refresher", chosen=[0], chosen_text=["x"], correct=True,
                    score=1.0, answered_at=now - timedelta(days=back, hours=1),
                    token=f"f{refresher.id}-{item.id}",
                )
            )  # fmt: skip
    session.commit()


def _learner(app, email: str, *, lessons: int, days: int, manager_email: str | None = None):
    with app.app_context():
        manager = db.session.scalar(select(User).where(User.email == manager_email))
        user = create_user(
            db.session, email=email, name=email.split("@")[0].title(), password=PASSWORD,
            job_role="teller", team="Riverside branch", hire_date=utcnow().date()
            - timedelta(days=days + lessons + 5),
        )  # fmt: skip
        db.session.commit()
        _history(db.session, user, lessons=lessons, days=days, manager=manager)
        return user.id


def _signed_in(app, email: str):
    client = app.test_client()
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
    return client


def test_today_asks_the_same_few_statements_however_long_the_history(library):
    app = library
    counts = {}
    for email, lessons, days in (("new@example.com", 1, 1), ("old@example.com", 8, 40)):
        _learner(app, email, lessons=lessons, days=days)
        client = _signed_in(app, email)
        page = client.get("/").get_data(as_text=True)  # today's refresher is already planned
        assert "Today's refresher" in page and "Assigned to you" in page
        assert re.search(r"\d+-day streak", page)
        counts[email] = _count(app, client, "/")
    assert counts["new@example.com"] == counts["old@example.com"] <= TODAY_MAX, counts


def test_a_coaching_note_on_today_costs_no_extra_statement(library):
    app = library
    with app.app_context():
        create_user(db.session, email="mia@example.com", name="Mia", role="manager")
        db.session.commit()
    counts = {}
    for email, coach in (("plain@example.com", None), ("coached@example.com", "mia@example.com")):
        _learner(app, email, lessons=3, days=5, manager_email=coach)
        client = _signed_in(app, email)
        page = client.get("/").get_data(as_text=True)
        assert ("New coaching note" in page) == bool(coach)
        counts[email] = _count(app, client, "/")
    assert counts["plain@example.com"] == counts["coached@example.com"] <= TODAY_MAX, counts


def test_a_quiz_item_asks_the_same_few_statements_however_long_the_history(library):
    app = library
    counts = {}
    for email, lessons, days in (("new@example.com", 1, 1), ("old@example.com", 8, 40)):
        _learner(app, email, lessons=lessons, days=days)
        client = _signed_in(app, email)
        with app.app_context():
            user = db.session.scalar(select(User).where(User.email == email))
            run = db.session.scalar(
                select(LessonRun).where(LessonRun.user_id == user.id, LessonRun.is_open)
            )
            lesson = db.session.get(Lesson, run.lesson_id)
            key, first = lesson.key, lesson.quiz.live_items[0]
            db.session.add(
                Attempt(
                    user_id=user.id, item_id=first.id, run_id=run.id, chosen=[0],
                    chosen_text=["x"], correct=False, score=0.0, token=f"q{run.id}",
                )
            )  # fmt: skip
            refresher_id = db.session.scalar(
                select(Refresher.id).where(
                    Refresher.user_id == user.id, Refresher.completed_at.is_(None)
                )
            )
            db.session.commit()
        urls = (f"/lessons/{key}/quiz/1", f"/lessons/{key}/quiz/2", f"/refresher/{refresher_id}/2")
        for url in urls:  # as a learner finds them: the lesson is already in memory
            assert client.get(url).status_code == 200
        # Feedback shown; the form; a question of a refresher.
        answered, unanswered, in_refresher = (_count(app, client, url) for url in urls)
        counts[email] = (answered, unanswered, in_refresher)
    assert counts["new@example.com"] == counts["old@example.com"], counts
    assert max(counts["old@example.com"]) <= QUIZ_ITEM_MAX, counts


def test_a_lesson_step_loads_its_lesson_whole_in_one_statement_then_keeps_it(library):
    with library.app_context(), counted(library) as statements:
        lesson = live_lesson(db.session, "teller-greeting-at-the-counter")
        assert len(lesson.quiz.live_items) >= 4 and lesson.live_roleplays
        assert lesson.live_conversation is not None
        assert [item.prompt for item in lesson.quiz.live_items]
    # The library's version, then the lesson whole.
    assert len(statements) == 2, statements
    with library.app_context(), counted(library) as statements:
        assert live_lesson(db.session, "teller-greeting-at-the-counter") is lesson
    assert statements == []


def _team(app, size: int, name: str, manager_email: str):
    with app.app_context():
        team = get_or_create_team(db.session, name)
        manager = db.session.scalar(select(User).where(User.email == manager_email))
        manager.managed_teams.append(team)
        db.session.commit()
        for n in range(size):
            user = create_user(
                db.session, email=f"{name.lower()}{n}@example.com", name=f"{name} {n:02d}",
                job_role="teller", team=name,
                hire_date=utcnow().date() - timedelta(days=30 + n),
            )  # fmt: skip
            db.session.commit()
            _history(db.session, user, lessons=1 + n % 6, days=n % 12, manager=manager)
        return team.id


def test_the_team_page_asks_the_same_few_statements_for_3_people_or_30(library):
    app = library
    with app.app_context():
        create_user(
            db.session, email="mia@example.com", name="Mia", password=PASSWORD, role="manager"
        )
        db.session.commit()
    small = _team(app, 3, "Small", "mia@example.com")
    large = _team(app, 30, "Large", "mia@example.com")
    client = _signed_in(app, "mia@example.com")
    pages = {}
    for team_id, size in ((small, 3), (large, 30)):
        url = f"/manage/?team={team_id}"
        page = client.get(url).get_data(as_text=True)
        assert f"{size} people" in page, size
        pages[size] = (_count(app, client, url), _count(app, client, url + "&sort=streak"))
    everyone = _count(app, client, "/manage/")
    assert pages[3] == pages[30], pages
    assert max(*pages[30], everyone) <= TEAM_MAX, (pages, everyone)
