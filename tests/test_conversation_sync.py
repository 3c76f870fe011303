"""`flask content sync` of conversations, on SQLite and PostgreSQL: each conversation and its
decisions as review items; a second sync changes nothing; edits keep history by ids."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conversation_samples import CONVERSATION, TWEE, TWEE_PATH, YAML_PATH
from tests.test_content_check import LESSON_PATH, QUIZ, edited
from tests.test_conversation_files import LESSON_WITH_CONVERSATION, conversation_library
from trainer.extensions import db
from trainer.models import Conversation, Lesson, Quiz, QuizItem

UP_TO_DATE = "Library is up to date: nothing changed."


@pytest.fixture
def library_root(tmp_path) -> Path:
    return conversation_library(
        tmp_path / "content", {LESSON_PATH: LESSON_WITH_CONVERSATION, YAML_PATH: CONVERSATION}
    )


@pytest.fixture
def app(any_db_app, library_root):
    any_db_app.config["CONTENT_DIR"] = str(library_root)
    return any_db_app


def synced(app) -> list[str]:
    result = app.test_cli_runner().invoke(args=["content", "sync", "--verbose"])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def rewrite(root: Path, rel: str, text: str | None) -> None:
    if text is None:
        (root / rel).unlink()
    else:
        (root / rel).write_text(text, encoding="utf-8")


def decisions(app) -> dict[str, QuizItem]:
    with app.app_context():
        conversation = db.session.scalar(select(Conversation))
        items = {item.key: item for item in conversation.quiz.items}
        for item in items.values():
            db.session.expunge(item)
        return items


def test_a_conversation_and_its_decisions_are_loaded(app):
    lines = synced(app)
    assert "  + conversation third-late-payment" in lines
    assert "  + decision third-late-payment/open" in lines
    assert not any("decision third-late-payment/saved" in line for line in lines)
    with app.app_context():
        conversation = db.session.scalar(select(Conversation))
        assert (conversation.title, conversation.skill, conversation.setting) == (
            "The third call about a late payment",
            "collections-call",
            "contact-centre",
        )
        assert conversation.start == "open"
        assert conversation.best_score == 6
        assert conversation.nodes["open"]["choices"][1] == {
            "say": "You are 45 days past due. We need a payment today.",
            "score": 0,
            "feedback": "The facts are right, but opening with them starts a fight.",
            "next": "angry",
        }
        assert conversation.nodes["lost"] == {
            "ending": "poor",
            "summary": "He hangs up. The account goes to collections.",
        }
        lesson = db.session.scalar(select(Lesson))
        assert lesson.conversation == conversation
        # The decisions are a quiz of their own, keyed like the conversation.
        assert (conversation.quiz.kind, conversation.quiz.key) == (
            "conversation",
            "third-late-payment",
        )
        items = conversation.quiz.items
        assert [item.key for item in items] == ["open", "listen", "angry", "plan"]
        listen = items[1]
        assert listen.type == "single"
        assert listen.prompt == (
            "The third call about a late payment\n\nThe customer says: “Go on, then. But I "
            "can't pay it all.”\n\nWhat do you say?"
        )
        assert "The customer says (defensive):" in items[0].prompt
        assert [(c["text"], c["weight"]) for c in listen.choices] == [
            ("Thanks. What's made this month hard?", 1.0),
            ("How much can you pay today?", 0.5),
        ]
        # The best-scored line is the right answer.
        assert [listen.is_right(c) for c in listen.choices] == [True, False]


def test_a_second_sync_changes_nothing(app):
    synced(app)
    assert synced(app) == [UP_TO_DATE]


def test_a_conversation_may_share_its_id_with_a_quiz(app, library_root):
    rewrite(
        library_root,
        "quizzes/third-late-payment.yaml",
        edited(QUIZ, "id: greeting", "id: third-late-payment"),
    )
    synced(app)
    with app.app_context():
        kinds = sorted(
            db.session.execute(
                select(Quiz.kind, Quiz.key).where(Quiz.key == "third-late-payment")
            ).all()
        )
    assert kinds == [("conversation", "third-late-payment"), ("quiz", "third-late-payment")]
    assert synced(app) == [UP_TO_DATE]


def test_editing_a_line_keeps_its_decision_and_history(app, library_root):
    synced(app)
    before = decisions(app)
    rewrite(
        library_root,
        YAML_PATH,
        edited(CONVERSATION, "How much can you pay today?", "How much could you manage today?"),
    )
    lines = synced(app)
    assert lines == [
        "  ~ decision third-late-payment/listen",
        "  ~ conversation third-late-payment",
        "Library synced: 0 created, 2 updated, 0 retired.",
    ]
    after = decisions(app)
    assert after["listen"].id == before["listen"].id
    assert after["listen"].choices[1]["text"] == "How much could you manage today?"


def test_a_node_taken_out_is_retired_and_a_conversation_taken_out_too(app, library_root):
    synced(app)
    without_angry = edited(CONVERSATION, "        next: angry\n", "        next: plan\n")
    start = without_angry.index("  angry:\n")
    end = without_angry.index("  plan:\n")
    without_angry = without_angry[:start] + without_angry[end:]
    without_angry = without_angry[: without_angry.index("  lost:\n")]
    rewrite(library_root, YAML_PATH, without_angry)
    lines = synced(app)
    assert "  - decision third-late-payment/angry (retired; its history is kept)" in lines
    assert decisions(app)["angry"].retired

    rewrite(library_root, YAML_PATH, None)
    rewrite(
        library_root,
        LESSON_PATH,
        LESSON_WITH_CONVERSATION.replace("conversation: third-late-payment\n", ""),
    )
    lines = synced(app)
    assert "  - conversation third-late-payment (retired; its history is kept)" in lines
    assert "  - decisions of third-late-payment (retired; its history is kept)" in lines
    with app.app_context():
        conversation = db.session.scalar(select(Conversation))
        assert conversation.retired and conversation.quiz.retired
        assert all(item.retired for item in conversation.quiz.items)
        assert db.session.scalar(select(Lesson)).conversation is None


def test_the_same_conversation_from_twine_loads_the_same_rows(app, library_root):
    synced(app)
    with app.app_context():
        from_yaml = db.session.scalar(select(Conversation)).nodes
    rewrite(library_root, YAML_PATH, None)
    rewrite(library_root, TWEE_PATH, TWEE)
    lines = synced(app)
    assert lines == [
        "  ~ conversation third-late-payment",
        "Library synced: 0 created, 1 updated, 0 retired.",
    ]  # only its source file changed
    with app.app_context():
        conversation = db.session.scalar(select(Conversation))
        assert conversation.nodes == from_yaml
        assert conversation.source_path == TWEE_PATH
