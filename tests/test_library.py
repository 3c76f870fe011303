"""The starter library itself: complete, consistent and in the shape the product promises."""

from __future__ import annotations

import pytest

from trainer import ROOT
from trainer.content.library import load_library

LIBRARY = load_library(ROOT)
SKILLS = {
    "first-impression",
    "phone-greeting",
    "red-carpet",
    "collections-call",
    "service-recovery",
    "last-impression",
    "touchpoints",
    "internal-customers",
}


def test_the_library_has_no_problems():
    assert [str(p) for p in LIBRARY.problems] == []


def test_there_are_at_least_18_lessons_over_the_skills():
    assert len(LIBRARY.lessons) >= 18
    skills = {lesson.skill for lesson in LIBRARY.lessons.values()}
    assert skills == SKILLS


@pytest.mark.parametrize("lesson_id", sorted(LIBRARY.lessons))
def test_each_lesson_is_complete(lesson_id):
    lesson = LIBRARY.lessons[lesson_id]
    assert 1 <= lesson.minutes <= 5
    quiz = LIBRARY.quizzes[lesson.quiz]
    assert len(quiz.items) >= 4, "a quiz of at least 4 items"
    for item in quiz.items:
        assert item.explanation, f"{quiz.id}/{item.id} has no explanation"
        if item.type != "truefalse":
            assert all(c.feedback for c in item.choices), f"{quiz.id}/{item.id} feedback"
    assert lesson.roleplays
    for rp in lesson.roleplays:
        assert 3 <= len(rp.rubric) <= 6
        assert rp.situation and rp.customer and rp.model_answer
    assert "What good looks like" in lesson.key_points
    assert "What it costs" in lesson.key_points


def test_each_role_has_its_own_lessons_and_a_path_of_8_to_12():
    roles = {"teller", "wait-staff", "contact-centre"}
    assert {p.role for p in LIBRARY.paths.values()} == roles
    for path in LIBRARY.paths.values():
        assert 8 <= len(path.steps) <= 12, path.id
        lessons = [LIBRARY.lessons[s.lesson] for s in path.steps]
        assert all(path.role in lesson.roles for lesson in lessons)
        own = [lesson for lesson in lessons if lesson.roles == [path.role]]
        assert len(own) >= 6, f"{path.id} needs lessons written for its own setting"
        assert len({lesson.skill for lesson in lessons}) >= 6, "varied skills on each path"
        due = [s.due_days for s in path.steps]
        assert due == sorted(due), "due days follow the path's order"


def test_ids_are_unique_across_the_library():
    lesson_ids = list(LIBRARY.lessons)
    assert len(lesson_ids) == len(set(lesson_ids))
    for quiz in LIBRARY.quizzes.values():
        item_ids = [item.id for item in quiz.items]
        assert len(item_ids) == len(set(item_ids)), quiz.id


def test_a_gift_bank_with_several_features_is_used_by_a_lesson():
    gift = [q for q in LIBRARY.quizzes.values() if q.path.endswith(".gift")]
    assert gift, "a GIFT question bank in quizzes/"
    bank = gift[0]
    assert len(bank.items) >= 10
    assert {item.type for item in bank.items} == {"single", "multiple", "truefalse"}
    assert {item.text_format for item in bank.items} >= {"markdown", "plain", "html"}
    assert any(c.weight < 0 for item in bank.items for c in item.choices)
    assert all(item.category for item in bank.items)
    assert any(lesson.quiz == bank.id for lesson in LIBRARY.lessons.values())


# -- conversations ------------------------------------------------------------------------------

# The moments of truth the starter conversations cover, and the lesson each is played in.
MOMENTS = {
    "a phone greeting on a busy line": "phone-greeting-first-seconds",
    "the first seconds at the counter": "teller-greeting-at-the-counter",
    "a red-carpet welcome for a customer who was once let down": "teller-red-carpet-service",
    "a third call about a late payment": "broken-payment-promise",
    "a double charge put right": "billing-error-recovery",
    "a cold dish at a table": "wrong-dish-recovery",
    "a transfer to another department": "warm-handover",
    "closing a call so the last impression is good": "closing-the-call",
}


def test_at_least_8_conversations_one_drawn_in_twine_each_played_in_its_moments_lesson():
    conversations = LIBRARY.conversations
    assert len(conversations) >= 8
    assert any(c.path.endswith(".twee") for c in conversations.values())
    named = [LIBRARY.lessons[key].conversation for key in MOMENTS.values()]
    assert all(named) and len(set(named)) == len(MOMENTS)
    for key in MOMENTS.values():
        lesson = LIBRARY.lessons[key]
        assert conversations[lesson.conversation].skill == lesson.skill


@pytest.mark.parametrize("conversation_id", sorted(LIBRARY.conversations))
def test_each_conversation_has_6_decisions_and_an_ending_of_each_kind(conversation_id):
    conversation = LIBRARY.conversations[conversation_id]
    nodes = conversation.nodes.values()
    assert sum(1 for node in nodes if node.choices) >= 6
    endings = [node.ending for node in nodes if node.is_ending]
    assert len(endings) >= 3
    assert set(endings) == {"good", "mixed", "poor"}
    for node in nodes:
        assert all(choice.feedback for choice in node.choices)


@pytest.mark.parametrize("conversation_id", sorted(LIBRARY.conversations))
def test_the_best_score_is_won_by_saying_the_best_line_every_time(conversation_id):
    """A weak line followed by a recovery never outscores the best lines: what the learner
    sees as their share of the best way through is fair."""
    conversation = LIBRARY.conversations[conversation_id]
    way = [conversation.start]
    while not conversation.nodes[way[-1]].is_ending:
        choices = conversation.nodes[way[-1]].choices
        way.append(max(choices, key=lambda choice: choice.score).next)
    assert conversation.nodes[way[-1]].ending == "good"
    assert conversation.best.nodes == way
