"""`flask content sync` on SQLite and PostgreSQL: loading, editing, retiring, paths.

Each test points the app at a writable copy of the starter library (`content_dir`), edits files
there as a trainer would in git, and runs the sync command as a trainer would.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path as FilePath

import pytest
import yaml
from sqlalchemy import func, select

from tests.conversation_support import play_lessons_conversation
from trainer.extensions import db
from trainer.learn import services
from trainer.learn.steps import lesson_steps
from trainer.models import (
    Attempt,
    Conversation,
    JobRole,
    Lesson,
    LessonRun,
    Path,
    PathStep,
    Quiz,
    QuizItem,
    RolePlay,
    RolePlayAnswer,
    Skill,
    User,
)
from trainer.people.services import create_user

LESSON = "closing-the-call"
QUIZ_FILE = "quizzes/closing-the-call.yaml"
LESSON_FILE = "lessons/closing-the-call.md"
PATHS_FILE = "lessons/paths.yaml"
EMAIL, PASSWORD = "sam@example.com", "correct horse"
UP_TO_DATE = "Library is up to date: nothing changed."


@pytest.fixture
def content_app(any_db_app, content_dir):
    """The app (SQLite, then PostgreSQL) reading its content from the writable copy."""
    any_db_app.config["CONTENT_DIR"] = str(content_dir)
    return any_db_app


def sync(app, *options: str):
    return app.test_cli_runner().invoke(args=["content", "sync", *options])


def synced(app) -> list[str]:
    """Run `content sync --verbose`, assert it succeeded, and return its output lines."""
    result = sync(app, "--verbose")
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def edit(root: FilePath, rel: str, old: str, new: str) -> None:
    file = root / rel
    text = file.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} should occur once in {rel}"
    file.write_text(text.replace(old, new), encoding="utf-8")


def without_item(quiz_yaml: str, key: str) -> str:
    """The YAML quiz text with the item `key` cut out."""
    start = quiz_yaml.index(f"  - id: {key}\n")
    end = quiz_yaml.find("\n  - id: ", start)
    return quiz_yaml[:start] + ("" if end == -1 else quiz_yaml[end + 1 :])


def snapshot(app) -> dict[str, list[tuple]]:
    """Every content row, every column a sync may write (updated_at included)."""

    def rows(model, *columns: str) -> list[tuple]:
        found = db.session.scalars(select(model)).all()
        return sorted(tuple(getattr(row, c) for c in columns) for row in found)

    with app.app_context():
        return {
            "roles": rows(JobRole, "id", "key", "name"),
            "quizzes": rows(Quiz, "id", "key", "title", "source_path", "retired", "updated_at"),
            "items": rows(
                QuizItem,
                *("id", "quiz_id", "key", "type", "prompt", "text_format", "choices"),
                *("explanation", "explanation_format", "category", "position", "retired"),
                "updated_at",
            ),
            "lessons": rows(
                Lesson,
                *("id", "key", "title", "skill", "roles", "minutes", "quiz_id"),
                *("scenario_md", "key_points_md", "source_path", "retired", "updated_at"),
            ),
            "roleplays": rows(
                RolePlay,
                *("id", "lesson_id", "key", "situation", "customer", "rubric"),
                *("model_answer", "position", "retired"),
            ),
            "paths": rows(Path, "id", "key", "title", "job_role_id", "retired"),
            "steps": rows(PathStep, "id", "path_id", "lesson_id", "position", "due_days"),
        }


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def quiz_items(app) -> int:
    """Items of quiz files, not the decisions of conversations."""
    with app.app_context():
        return db.session.scalar(
            select(func.count(QuizItem.id)).join(Quiz).where(Quiz.kind == "quiz")
        )


def item_row(key: str, quiz: str = LESSON) -> QuizItem:
    return db.session.scalar(
        select(QuizItem).join(Quiz).where(Quiz.key == quiz, QuizItem.key == key)
    )


def lesson_row(key: str = LESSON) -> Lesson:
    return db.session.scalar(select(Lesson).where(Lesson.key == key))


def make_learner(app, job_role: str = "contact-centre", hire_date: date | None = None) -> int:
    with app.app_context():
        user = create_user(
            db.session,
            email=EMAIL,
            name="Sam Learner",
            password=PASSWORD,
            job_role=job_role,
            hire_date=hire_date,
        )
        db.session.commit()
        return user.id


def signed_in(app):
    client = app.test_client()
    response = client.post("/login", data={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 302
    return client


def right_choices(item: QuizItem) -> list[int]:
    right = [i for i, choice in enumerate(item.choices) if choice["weight"] > 0]
    return right if item.type == "multiple" else right[:1]


def answer(app, user_id: int, item_key: str, token: str) -> int:
    """The learner answers one item of the lesson, rightly; returns the attempt id."""
    with app.app_context():
        user = db.session.get(User, user_id)
        lesson = services.live_lesson(db.session, LESSON)
        item = item_row(item_key)
        attempt = services.record_answer(
            db.session, user, lesson, item, right_choices(item), token, 4.0
        )
        return attempt.id


def complete_lesson(app, user_id: int) -> None:
    """The learner answers every item, the conversation and role-play of the lesson and
    finishes it."""
    with app.app_context():
        session = db.session
        user = session.get(User, user_id)
        lesson = services.live_lesson(session, LESSON)
        for n, item in enumerate(lesson.quiz.live_items):
            services.record_answer(session, user, lesson, item, right_choices(item), f"q{n}", 5.0)
        run = services.open_run(session, user, lesson)
        for n, roleplay in enumerate(lesson.live_roleplays):
            said = services.record_roleplay(
                session, user, lesson, roleplay, "Thanks, Jade. Enjoy your weekend.", f"rp{n}"
            )
            services.tick_rubric(session, said, [0, 1, 2])
        play_lessons_conversation(session, user, lesson)
        assert services.complete_run(session, run)
        assert lesson.id in services.completed_lesson_ids(session, user)


def files_in(root: FilePath) -> tuple[int, int, int]:
    """(lessons, quizzes, items) as counted straight from the source files (a translation,
    `<id>.es.yaml`, adds no rows)."""
    lessons = len([f for f in (root / "lessons").glob("*.md") if "." not in f.stem])
    quizzes = items = 0
    for file in (root / "quizzes").iterdir():
        if "." in file.stem:
            continue
        text = file.read_text(encoding="utf-8")
        if file.suffix == ".yaml":
            items += len(yaml.safe_load(text)["items"])
        elif file.suffix == ".gift":
            items += len(re.findall(r"^::", text, flags=re.MULTILINE))
        else:
            continue
        quizzes += 1
    return lessons, quizzes, items


def steps_in_file(root: FilePath) -> dict[str, list[tuple[str, int]]]:
    data = yaml.safe_load((root / PATHS_FILE).read_text(encoding="utf-8"))
    return {
        path["id"]: [(step["lesson"], step["due_days"]) for step in path["lessons"]]
        for path in data["paths"]
    }


def steps_in_db(app) -> dict[str, list[tuple[str, int]]]:
    with app.app_context():
        return {
            path.key: [(step.lesson.key, step.due_days) for step in path.steps]
            for path in db.session.scalars(select(Path))
        }


# --- loading and re-loading -----------------------------------------------------------------


def test_sync_loads_the_whole_library_and_says_so(content_app, content_dir) -> None:
    result = sync(content_app)

    assert result.exit_code == 0, result.output
    lessons, quizzes, items = files_in(content_dir)
    assert count(content_app, Lesson) == lessons
    assert count(content_app, Quiz, Quiz.kind == "quiz") == quizzes
    assert quiz_items(content_app) == items
    assert count(content_app, Path) == len(steps_in_file(content_dir))
    conversations = len(
        [f for f in (content_dir / "lessons" / "conversations").iterdir() if "." not in f.stem]
    )
    assert count(content_app, Conversation) == conversations
    # Each conversation's decisions are counted as items; the quiz holding them is not a row
    # of its own in the report.
    rows = sum(
        count(content_app, m)
        for m in (Skill, JobRole, QuizItem, Lesson, RolePlay, Path, Conversation)
    ) + count(content_app, Quiz, Quiz.kind == "quiz")
    assert result.output.splitlines() == [f"Library synced: {rows} created, 0 updated, 0 retired."]
    with content_app.app_context():
        assert db.session.scalar(select(func.count()).where(QuizItem.retired.is_(True))) == 0
        quiz = lesson_row().quiz
        assert (quiz.key, len(quiz.live_items)) == (LESSON, 5)
        assert [rp.key for rp in lesson_row().roleplays] == ["payment-plan-wrap-up"]


def test_verbose_sync_lists_each_created_row(content_app) -> None:
    lines = synced(content_app)

    created = [line for line in lines if line.startswith("  + ")]
    assert "  + lesson closing-the-call" in created
    assert "  + item closing-the-call/best-summary" in created
    assert "  + item warm-handover/transfer-first-step" in created  # from the GIFT file
    assert "  + role-play closing-the-call/payment-plan-wrap-up" in created
    assert "  + path teller-onboarding" in created
    assert "  + role teller" in created
    assert lines == [*created, f"Library synced: {len(created)} created, 0 updated, 0 retired."]


def test_second_sync_says_nothing_changed_and_changes_no_row(content_app) -> None:
    synced(content_app)
    before = snapshot(content_app)

    result = sync(content_app)

    assert result.exit_code == 0
    assert result.output.splitlines() == [UP_TO_DATE]
    assert snapshot(content_app) == before
    assert synced(content_app) == [UP_TO_DATE]
    assert snapshot(content_app) == before


def test_broken_file_loads_nothing_into_an_empty_database(content_app, content_dir) -> None:
    edit(content_dir, LESSON_FILE, "minutes: 4", "minutes: 9")

    result = sync(content_app)

    assert result.exit_code == 1
    assert "lessons/closing-the-call.md:6: a lesson takes at most 5 minutes (got 9)" in (
        result.output.splitlines()
    )
    assert "nothing was loaded" in result.output
    for model in (JobRole, Quiz, QuizItem, Lesson, RolePlay, Path, PathStep):
        assert count(content_app, model) == 0, model.__name__


def test_what_the_database_cannot_store_is_refused_before_anything_is_loaded(
    content_app, content_dir
) -> None:
    # PostgreSQL refuses NUL and over-long titles mid-load; a due date 27,000 years after
    # hire overflows the learner's Today and the manager's team page.
    edit(
        content_dir,
        QUIZ_FILE,
        "prompt: You've arranged Mr Mehta's move-out. Which summary is best?",
        "prompt: \"You've arranged Mr Mehta's move-out.\\0 Which summary is best?\"",
    )
    edit(
        content_dir,
        LESSON_FILE,
        "title: Closing the call so nothing is left hanging",
        "title: Closing the call" + " and more" * 30,
    )
    paths = content_dir / PATHS_FILE
    paths.write_text(
        paths.read_text(encoding="utf-8").replace("due_days: 1\n", "due_days: 10000000\n", 1)
    )
    due_line = 1 + paths.read_text().splitlines().index("        due_days: 10000000")

    result = sync(content_app)

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        'lessons/closing-the-call.md:3: "title" is 286 characters long; at most 200 fit',
        f"lessons/paths.yaml:{due_line}: due_days counts days after the hire date: 0 to 3650 "
        "(got 10000000)",
        "quizzes/closing-the-call.yaml:6: control character U+0000 (NUL) is not allowed; "
        "delete it (here made by an escape in double quotes)",
        "3 problem(s) found; nothing was loaded. Fix them and run the sync again.",
    ]
    for model in (JobRole, Quiz, QuizItem, Lesson, RolePlay, Path, PathStep):
        assert count(content_app, model) == 0, model.__name__


def test_broken_file_leaves_a_loaded_library_exactly_as_it_was(content_app, content_dir) -> None:
    synced(content_app)
    before = snapshot(content_app)
    quiz_file = content_dir / QUIZ_FILE
    good_quiz = quiz_file.read_text(encoding="utf-8")
    # A valid edit in one file, a broken one in another: neither may be loaded.
    edit(content_dir, "quizzes/warm-handover.gift", "What do you do **first**?", "First step?")
    edit(content_dir, QUIZ_FILE, "  - id: the-goodbye", "  - id: best-summary")
    line = 1 + quiz_file.read_text().splitlines().index("  - id: best-summary", 5)

    result = sync(content_app)

    assert result.exit_code == 1
    assert (
        f'quizzes/closing-the-call.yaml:{line}: item id "best-summary" is used twice in this quiz'
        in result.output.splitlines()
    )
    assert "nothing was loaded" in result.output
    assert snapshot(content_app) == before

    # Once the broken file is fixed, the valid edit goes through.
    quiz_file.write_text(good_quiz, encoding="utf-8")
    assert synced(content_app) == [
        "  ~ item warm-handover/transfer-first-step",
        "Library synced: 0 created, 1 updated, 0 retired.",
    ]


# --- formats of their own ------------------------------------------------------------------

GIFT_FILE = "quizzes/warm-handover.gift"
PRESS_TRANSFER = (
    "~Press transfer straight away to save them time#A cold transfer usually means they start "
    "their story again with someone new."
)


def test_answers_with_formats_of_their_own_keep_them_in_the_database(
    content_app, content_dir
) -> None:
    synced(content_app)
    edit(
        content_dir,
        GIFT_FILE,
        PRESS_TRANSFER,
        "~[html]Press <b>transfer</b> straight away#[markdown]A *cold* transfer starts over.",
    )
    edit(
        content_dir,
        GIFT_FILE,
        "####A warm handover starts with telling the customer what will happen",
        "####[plain]A warm handover starts with telling the customer what will happen",
    )

    assert synced(content_app) == [
        "  ~ item warm-handover/transfer-first-step",
        "Library synced: 0 created, 1 updated, 0 retired.",
    ]
    with content_app.app_context():
        item = item_row("transfer-first-step", quiz="warm-handover")
        assert item.text_format == "markdown"
        # [markdown] is the item's own format: nothing extra is stored for it.
        assert item.choices[1] == {
            "text": "Press <b>transfer</b> straight away",
            "weight": 0.0,
            "feedback": "A *cold* transfer starts over.",
            "format": "html",
        }
        assert item.explanation_format == "plain"
    assert synced(content_app) == [UP_TO_DATE]


def test_items_without_formats_of_their_own_store_what_they_always_did(content_app) -> None:
    synced(content_app)
    with content_app.app_context():
        items = db.session.scalars(select(QuizItem)).all()
        assert {key for item in items for c in item.choices for key in c} == {
            "text",
            "weight",
            "feedback",
        }
        assert {item.explanation_format for item in items} == {None}


# --- editing keeps history ------------------------------------------------------------------


def test_editing_texts_keeps_row_ids_attempts_and_completion(content_app, content_dir) -> None:
    synced(content_app)
    user_id = make_learner(content_app)
    complete_lesson(content_app, user_id)
    with content_app.app_context():
        item_id = item_row("best-summary").id
        lesson_id = lesson_row().id
        attempt = db.session.scalar(select(Attempt).where(Attempt.item_id == item_id))
        attempt_id, chosen_text = attempt.id, attempt.chosen_text
        attempts = count(content_app, Attempt)

    new_prompt = "Mr Mehta's move is booked. Which summary should you give him?"
    new_feedback = "Reassuring, but there is nothing in it he can act on."
    edit(
        content_dir,
        QUIZ_FILE,
        "prompt: You've arranged Mr Mehta's move-out. Which summary is best?",
        f"prompt: {new_prompt}",
    )
    edit(
        content_dir,
        QUIZ_FILE,
        "feedback: It sounds reassuring but tells him nothing he can act on.",
        f"feedback: {new_feedback}",
    )
    edit(content_dir, LESSON_FILE, "Friday, 15:50. Arjun Mehta", "Thursday, 16:10. Arjun Mehta")

    lines = synced(content_app)

    assert "  ~ item closing-the-call/best-summary" in lines
    assert "  ~ lesson closing-the-call" in lines
    assert lines[-1] == "Library synced: 0 created, 2 updated, 0 retired."
    with content_app.app_context():
        item = item_row("best-summary")
        assert item.id == item_id
        assert item.prompt == new_prompt
        assert item.choices[0]["feedback"] == new_feedback
        lesson = lesson_row()
        assert lesson.id == lesson_id
        assert lesson.scenario_md.startswith("Thursday, 16:10. Arjun Mehta")
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.item_id == item_id
        assert attempt.item.prompt == new_prompt
        assert attempt.chosen_text == chosen_text  # what the learner saw, as answered
        assert count(content_app, Attempt) == attempts
        user = db.session.get(User, user_id)
        assert services.completed_lesson_ids(db.session, user) == {lesson_id}
        progress = services.path_progress(db.session, user)
        done = {pl.lesson.key for pl in progress.lessons if pl.completed}
        assert done == {LESSON}
        assert progress.done == 1


# --- retiring -------------------------------------------------------------------------------


def test_removed_item_is_retired_and_comes_back_with_its_id(content_app, content_dir) -> None:
    quiz_file = content_dir / QUIZ_FILE
    original = quiz_file.read_text(encoding="utf-8")
    synced(content_app)
    user_id = make_learner(content_app)
    attempt_id = answer(content_app, user_id, "anything-else", "tok-1")
    with content_app.app_context():
        item_id = item_row("anything-else").id

    quiz_file.write_text(without_item(original, "anything-else"), encoding="utf-8")
    lines = synced(content_app)

    assert "  - item closing-the-call/anything-else (retired; its history is kept)" in lines
    assert lines[-1] == "Library synced: 0 created, 3 updated, 1 retired."  # 3 moved up
    with content_app.app_context():
        item = item_row("anything-else")
        assert (item.id, item.retired) == (item_id, True)
        attempt = db.session.get(Attempt, attempt_id)
        assert attempt.item_id == item_id
        lesson = lesson_row()
        assert "anything-else" not in [i.key for i in lesson.quiz.live_items]
        quiz_steps = [s.label for s in lesson_steps(lesson) if s.kind == "quiz"]
        assert quiz_steps == [f"Question {n} of 4" for n in range(1, 5)]

    client = signed_in(content_app)
    pages = [client.get(f"/lessons/{LESSON}/quiz/{n}") for n in range(1, 5)]
    assert all(page.status_code == 200 for page in pages)
    assert not any("just makes calls longer" in page.get_data(as_text=True) for page in pages)
    assert "Question 1 of 4" in pages[0].get_data(as_text=True)
    assert client.get(f"/lessons/{LESSON}/quiz/5").status_code == 404

    quiz_file.write_text(original, encoding="utf-8")
    lines = synced(content_app)

    assert "  ~ item closing-the-call/anything-else" in lines
    with content_app.app_context():
        item = item_row("anything-else")
        assert (item.id, item.retired, item.position) == (item_id, False, 1)
        assert quiz_items(content_app) == files_in(content_dir)[2]
        lesson = lesson_row()
        assert len([s for s in lesson_steps(lesson) if s.kind == "quiz"]) == 5
    page = client.get(f"/lessons/{LESSON}/quiz/2").get_data(as_text=True)
    assert "just makes calls longer" in page
    assert synced(content_app) == [UP_TO_DATE]


def test_removed_lesson_is_retired_and_its_history_kept(content_app, content_dir) -> None:
    synced(content_app)
    user_id = make_learner(content_app)
    attempt_id = answer(content_app, user_id, "best-summary", "tok-1")
    with content_app.app_context():
        lesson_id = lesson_row().id
    (content_dir / LESSON_FILE).unlink()

    # The contact-centre path still names it: refused, with the line of the path step.
    refused = sync(content_app)
    assert refused.exit_code == 1
    paths_lines = (content_dir / PATHS_FILE).read_text().splitlines()
    line = 1 + paths_lines.index(f"      - lesson: {LESSON}")
    assert (
        f'lessons/paths.yaml:{line}: path "contact-centre-onboarding": unknown lesson "{LESSON}"'
        in refused.output.splitlines()
    )
    with content_app.app_context():
        assert services.live_lesson(db.session, LESSON) is not None

    edit(content_dir, PATHS_FILE, f"      - lesson: {LESSON}\n        due_days: 5\n", "")
    lines = synced(content_app)

    assert f"  - lesson {LESSON} (retired; its history is kept)" in lines
    assert "  ~ path contact-centre-onboarding" in lines
    with content_app.app_context():
        lesson = lesson_row()
        assert (lesson.id, lesson.retired) == (lesson_id, True)
        assert db.session.get(Attempt, attempt_id).item.quiz.key == LESSON
        assert count(content_app, LessonRun) == 1
        user = db.session.get(User, user_id)
        assert LESSON not in [x.key for x in services.library_for(db.session, user)]
        path_lessons = [pl.lesson.key for pl in services.path_progress(db.session, user).lessons]
        assert LESSON not in path_lessons
        assert "warm-handover" in path_lessons
    client = signed_in(content_app)
    assert client.get(f"/lessons/{LESSON}").status_code == 404
    assert client.get("/lessons/warm-handover").status_code == 200


def test_removed_roleplay_keeps_its_answers(content_app, content_dir) -> None:
    synced(content_app)
    user_id = make_learner(content_app)
    complete_lesson(content_app, user_id)
    text = (content_dir / LESSON_FILE).read_text(encoding="utf-8")
    start = text.index("  - id: payment-plan-wrap-up")
    second = text[start : text.index("\n---\n")].replace("payment-plan-wrap-up", "second-call")
    (content_dir / LESSON_FILE).write_text(
        text.replace(text[start : text.index("\n---\n")], second), encoding="utf-8"
    )

    lines = synced(content_app)

    assert "  + role-play closing-the-call/second-call" in lines
    assert "  - role-play closing-the-call/payment-plan-wrap-up (retired; its history is kept)" in (
        lines
    )
    with content_app.app_context():
        answer_row = db.session.scalar(select(RolePlayAnswer))
        assert answer_row.roleplay.key == "payment-plan-wrap-up"
        assert answer_row.roleplay.retired is True
        assert [rp.key for rp in lesson_row().live_roleplays] == ["second-call"]


# --- onboarding paths -----------------------------------------------------------------------


def test_path_steps_follow_paths_yaml_order_and_due_days(content_app, content_dir) -> None:
    synced(content_app)

    assert steps_in_db(content_app) == steps_in_file(content_dir)
    hired = date(2025, 3, 3)
    user_id = make_learner(content_app, job_role="teller", hire_date=hired)
    with content_app.app_context():
        path = db.session.scalar(select(Path).where(Path.key == "teller-onboarding"))
        assert path.job_role.key == "teller"
        progress = services.path_progress(db.session, db.session.get(User, user_id))
        assert progress.path.key == "teller-onboarding"
        shown = [(pl.lesson.key, pl.due) for pl in progress.lessons]
    expected = steps_in_file(content_dir)["teller-onboarding"]
    assert shown == [(key, hired + timedelta(days=days)) for key, days in expected]


def test_reordering_a_path_updates_its_steps(content_app, content_dir) -> None:
    synced(content_app)
    hired = date(2025, 3, 3)
    user_id = make_learner(content_app, job_role="teller", hire_date=hired)
    edit(
        content_dir,
        PATHS_FILE,
        "      - lesson: teller-greeting-at-the-counter\n        due_days: 1\n"
        "      - lesson: phone-greeting-first-seconds\n        due_days: 2\n",
        "      - lesson: phone-greeting-first-seconds\n        due_days: 1\n"
        "      - lesson: teller-greeting-at-the-counter\n        due_days: 3\n",
    )
    edit(
        content_dir,
        PATHS_FILE,
        "      - lesson: teller-overdrawn-account\n        due_days: 14\n",
        "      - lesson: teller-overdrawn-account\n        due_days: 15\n",
    )

    lines = synced(content_app)

    assert lines == [
        "  ~ path teller-onboarding",
        "Library synced: 0 created, 1 updated, 0 retired.",
    ]
    teller = steps_in_db(content_app)["teller-onboarding"]
    assert teller == steps_in_file(content_dir)["teller-onboarding"]
    assert teller[:2] == [
        ("phone-greeting-first-seconds", 1),
        ("teller-greeting-at-the-counter", 3),
    ]
    assert teller[-1] == ("teller-overdrawn-account", 15)
    with content_app.app_context():
        progress = services.path_progress(db.session, db.session.get(User, user_id))
        shown = [(pl.lesson.key, pl.due) for pl in progress.lessons]
    assert shown[:2] == [
        ("phone-greeting-first-seconds", hired + timedelta(days=1)),
        ("teller-greeting-at-the-counter", hired + timedelta(days=3)),
    ]
    assert shown[-1] == ("teller-overdrawn-account", hired + timedelta(days=15))
    assert synced(content_app) == [UP_TO_DATE]
