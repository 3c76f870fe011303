"""Write a checked library into the database without losing anyone's history.

Rows are matched by the ids in the files. A changed text updates its row in place, so attempts,
role-play answers and schedules keyed to it carry on; a row whose id left the files is retired,
never deleted; a second sync of the same files changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trainer.content.specs import MAX_CHOICE_SCORE, ChoiceSpec, ConversationSpec, Library
from trainer.models import (
    Conversation,
    JobRole,
    Lesson,
    Path,
    PathStep,
    Quiz,
    QuizItem,
    RolePlay,
    utcnow,
)


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.retired)

    def summary(self) -> str:
        if not self.changed:
            return "Library is up to date: nothing changed."
        parts = [f"{len(self.created)} created", f"{len(self.updated)} updated"]
        parts.append(f"{len(self.retired)} retired")
        return "Library synced: " + ", ".join(parts) + "."


class LibraryNotValid(Exception):
    """Raised instead of loading a library that has problems."""


def _assign(obj: Any, values: dict[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    if changed and hasattr(obj, "updated_at"):
        obj.updated_at = utcnow()
    return changed


def sync_library(session: Session, library: Library) -> SyncReport:
    """Load `library` into the database and commit; nothing is written if it has problems."""
    if not library.ok:
        raise LibraryNotValid(f"{len(library.problems)} problem(s) in the library")
    report = SyncReport()
    roles = _sync_roles(session, library, report)
    quizzes = _sync_quizzes(session, library, report)
    conversations = _sync_conversations(session, library, report)
    lessons = _sync_lessons(session, library, quizzes, conversations, report)
    _sync_paths(session, library, roles, lessons, report)
    session.commit()
    return report


def _upsert(session, model, existing: dict, key: str, values: dict, report, label: str):
    row = existing.get(key)
    if row is None:
        row = model(key=key, **values)
        session.add(row)
        existing[key] = row
        report.created.append(label)
    elif _assign(row, values):
        report.updated.append(label)
    return row


def _sync_roles(session: Session, library: Library, report: SyncReport) -> dict[str, JobRole]:
    existing = {r.key: r for r in session.scalars(select(JobRole))}
    for spec in library.roles.values():
        _upsert(session, JobRole, existing, spec.id, {"name": spec.name}, report, f"role {spec.id}")
    # Roles named by lessons but not listed in paths.yaml still need a row people can hold.
    for lesson in library.lessons.values():
        for key in lesson.roles:
            if key not in existing:
                name = key.replace("-", " ").capitalize()
                _upsert(session, JobRole, existing, key, {"name": name}, report, f"role {key}")
    return existing


def _sync_quizzes(session: Session, library: Library, report: SyncReport) -> dict[str, Quiz]:
    existing = {q.key: q for q in session.scalars(select(Quiz).where(Quiz.kind == "quiz"))}
    for spec in library.quizzes.values():
        quiz = _upsert(
            session,
            Quiz,
            existing,
            spec.id,
            {"title": spec.title, "source_path": spec.path, "retired": False},
            report,
            f"quiz {spec.id}",
        )
        items = {
            item_spec.id: {
                "type": item_spec.type,
                "prompt": item_spec.prompt,
                "text_format": item_spec.text_format,
                "choices": [_choice(c, item_spec.text_format) for c in item_spec.choices],
                "explanation": item_spec.explanation,
                "explanation_format": _own(item_spec.explanation_format, item_spec.text_format),
                "category": item_spec.category,
            }
            for item_spec in spec.items
        }
        _sync_items(session, quiz, items, report, f"item {spec.id}")
    _retire_quizzes(existing, library.quizzes, report, "quiz")
    session.flush()
    return existing


def _sync_items(
    session: Session, quiz: Quiz, wanted: dict[str, dict], report: SyncReport, label: str
) -> None:
    """The quiz's items as `wanted` (id -> columns, in order); items no longer wanted retire."""
    session.flush()
    items = {item.key: item for item in quiz.items}
    for position, (key, values) in enumerate(wanted.items()):
        values = {**values, "position": position, "retired": False}
        row = items.get(key)
        if row is None:
            session.add(QuizItem(quiz=quiz, key=key, **values))
            report.created.append(f"{label}/{key}")
        elif _assign(row, values):
            report.updated.append(f"{label}/{key}")
    for key, row in items.items():
        if key not in wanted and not row.retired:
            row.retired = True
            report.retired.append(f"{label}/{key}")


def _retire_quizzes(existing: dict[str, Quiz], live, report: SyncReport, label: str) -> None:
    for key, quiz in existing.items():
        if key not in live and not quiz.retired:
            quiz.retired = True
            report.retired.append(f"{label} {key}")
            for item in quiz.items:
                item.retired = True


def _sync_conversations(
    session: Session, library: Library, report: SyncReport
) -> dict[str, Conversation]:
    """Each conversation, and its decisions as the items of a quiz of its own (kind
    "conversation", keyed like the conversation), so each comes back in refreshers."""
    existing = {c.key: c for c in session.scalars(select(Conversation))}
    quizzes = {q.key: q for q in session.scalars(select(Quiz).where(Quiz.kind == "conversation"))}
    for spec in library.conversations.values():
        quiz = quizzes.get(spec.id)
        values = {"title": spec.title, "source_path": spec.path, "retired": False}
        if quiz is None:
            quiz = quizzes[spec.id] = Quiz(kind="conversation", key=spec.id, **values)
            session.add(quiz)
        else:
            _assign(quiz, values)  # reported with its conversation
        _sync_items(session, quiz, _decisions(spec), report, f"decision {spec.id}")
        _upsert(
            session,
            Conversation,
            existing,
            spec.id,
            {
                "title": spec.title,
                "skill": spec.skill,
                "setting": spec.setting,
                "start": spec.start,
                "nodes": _nodes(spec),
                "best_score": spec.best.points if spec.best else 0,
                "quiz": quiz,
                "source_path": spec.path,
                "retired": False,
            },
            report,
            f"conversation {spec.id}",
        )
    for key, conversation in existing.items():
        if key not in library.conversations and not conversation.retired:
            conversation.retired = True
            report.retired.append(f"conversation {key}")
    _retire_quizzes(quizzes, library.conversations, report, "decisions of")
    session.flush()
    return existing


def _nodes(spec: ConversationSpec) -> dict[str, dict]:
    nodes: dict[str, dict] = {}
    for node in spec.nodes.values():
        if node.is_ending:
            nodes[node.id] = {"ending": node.ending, "summary": node.summary}
            continue
        nodes[node.id] = {
            "customer": node.customer,
            "cue": node.cue,
            "choices": [
                {"say": c.say, "score": c.score, "feedback": c.feedback, "next": c.next}
                for c in node.choices
            ],
        }
    return nodes


def _decisions(spec: ConversationSpec) -> dict[str, dict]:
    """A review item per node with choices: the customer's line, and the lines to say weighed
    by their score, so the best-scored ones are right."""
    decisions = {}
    for node in spec.nodes.values():
        if node.is_ending:
            continue
        how = f" ({node.cue})" if node.cue else ""
        decisions[node.id] = {
            "type": "single",
            "prompt": f"{spec.title}\n\nThe customer says{how}: “{node.customer}”\n\n"
            "What do you say?",
            "text_format": "plain",
            "choices": [
                {
                    "text": c.say,
                    "weight": round((c.score or 0) / MAX_CHOICE_SCORE, 6),
                    "feedback": c.feedback,
                }
                for c in node.choices
            ],
            "explanation": "",
            "explanation_format": None,
            "category": "",
        }
    return decisions


def _own(text_format: str | None, item_format: str) -> str | None:
    """A part's format, kept only where it differs from its item's, so items written before
    parts had formats of their own store exactly what they did."""
    return text_format if text_format and text_format != item_format else None


def _choice(spec: ChoiceSpec, item_format: str) -> dict[str, Any]:
    choice: dict[str, Any] = {
        "text": spec.text,
        "weight": round(spec.weight, 6),
        "feedback": spec.feedback,
    }
    if own := _own(spec.text_format, item_format):
        choice["format"] = own
    if own := _own(spec.feedback_format, item_format):
        choice["feedback_format"] = own
    return choice


def _sync_lessons(
    session: Session,
    library: Library,
    quizzes: dict[str, Quiz],
    conversations: dict[str, Conversation],
    report: SyncReport,
) -> dict[str, Lesson]:
    existing = {lesson.key: lesson for lesson in session.scalars(select(Lesson))}
    for spec in library.lessons.values():
        lesson = _upsert(
            session,
            Lesson,
            existing,
            spec.id,
            {
                "title": spec.title,
                "skill": spec.skill,
                "roles": list(spec.roles),
                "minutes": spec.minutes,
                "quiz": quizzes[spec.quiz],
                "conversation": conversations.get(spec.conversation),
                "scenario_md": spec.scenario,
                "key_points_md": spec.key_points,
                "source_path": spec.path,
                "retired": False,
            },
            report,
            f"lesson {spec.id}",
        )
        session.flush()
        roleplays = {rp.key: rp for rp in lesson.roleplays}
        seen = set()
        for position, rp_spec in enumerate(spec.roleplays):
            seen.add(rp_spec.id)
            values = {
                "situation": rp_spec.situation,
                "customer": rp_spec.customer,
                "rubric": list(rp_spec.rubric),
                "model_answer": rp_spec.model_answer,
                "position": position,
                "retired": False,
            }
            row = roleplays.get(rp_spec.id)
            if row is None:
                session.add(RolePlay(lesson=lesson, key=rp_spec.id, **values))
                report.created.append(f"role-play {spec.id}/{rp_spec.id}")
            elif _assign(row, values):
                report.updated.append(f"role-play {spec.id}/{rp_spec.id}")
        for key, row in roleplays.items():
            if key not in seen and not row.retired:
                row.retired = True
                report.retired.append(f"role-play {spec.id}/{key}")
    for key, lesson in existing.items():
        if key not in library.lessons and not lesson.retired:
            lesson.retired = True
            report.retired.append(f"lesson {key}")
    session.flush()
    return existing


def _sync_paths(
    session: Session,
    library: Library,
    roles: dict[str, JobRole],
    lessons: dict[str, Lesson],
    report: SyncReport,
) -> None:
    existing = {p.key: p for p in session.scalars(select(Path))}
    for spec in library.paths.values():
        path = _upsert(
            session,
            Path,
            existing,
            spec.id,
            {"title": spec.title, "job_role": roles.get(spec.role), "retired": False},
            report,
            f"path {spec.id}",
        )
        wanted = [(lessons[s.lesson].id, s.due_days) for s in spec.steps]
        current = [(s.lesson_id, s.due_days) for s in path.steps]
        if wanted != current:
            path.steps = [
                PathStep(lesson=lessons[s.lesson], position=i, due_days=s.due_days)
                for i, s in enumerate(spec.steps)
            ]
            if f"path {spec.id}" not in report.created:
                report.updated.append(f"path {spec.id}")
    for key, path in existing.items():
        if key not in library.paths and not path.retired:
            path.retired = True
            report.retired.append(f"path {key}")
