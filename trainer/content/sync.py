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

from trainer.content.specs import (
    MAX_CHOICE_SCORE,
    ChoiceSpec,
    ConversationSpec,
    ItemSpec,
    LessonSpec,
    Library,
    PathsSpec,
    QuizSpec,
)
from trainer.models import (
    Conversation,
    JobRole,
    Lesson,
    Path,
    PathStep,
    Quiz,
    QuizItem,
    RolePlay,
    Skill,
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
    words = _Translations(library)
    _sync_skills(session, library, words, report)
    roles = _sync_roles(session, library, words, report)
    quizzes = _sync_quizzes(session, library, words, report)
    conversations = _sync_conversations(session, library, words, report)
    lessons = _sync_lessons(session, library, quizzes, conversations, words, report)
    _sync_paths(session, library, roles, lessons, words, report)
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


def _names(words: _Translations, kind: str, key: str) -> dict[str, dict] | None:
    """A skill's or job role's name in each language of the paths translations
    (`kind` "skills" or "roles")."""
    translated: dict[str, PathsSpec] = words.of("paths", "paths")
    return words.stored(
        {
            language: {"name": getattr(t, kind)[key].name}
            for language, t in translated.items()
            if key in getattr(t, kind)
        }
    )


def _sync_skills(
    session: Session, library: Library, words: _Translations, report: SyncReport
) -> None:
    existing = {s.key: s for s in session.scalars(select(Skill))}
    for spec in library.skills.values():
        values = {
            "name": spec.name,
            "translations": _names(words, "skills", spec.id),
            "retired": False,
        }
        _upsert(session, Skill, existing, spec.id, values, report, f"skill {spec.id}")
    for key, skill in existing.items():
        if key not in library.skills and not skill.retired:
            skill.retired = True
            report.retired.append(f"skill {key}")


def _sync_roles(
    session: Session, library: Library, words: _Translations, report: SyncReport
) -> dict[str, JobRole]:
    existing = {r.key: r for r in session.scalars(select(JobRole))}
    for spec in library.roles.values():
        values = {"name": spec.name, "translations": _names(words, "roles", spec.id)}
        _upsert(session, JobRole, existing, spec.id, values, report, f"role {spec.id}")
    # Roles named by lessons but not listed in paths.yaml still need a row people can hold.
    for lesson in library.lessons.values():
        for key in lesson.roles:
            if key not in existing:
                name = key.replace("-", " ").capitalize()
                _upsert(session, JobRole, existing, key, {"name": name}, report, f"role {key}")
    return existing


class _Translations:
    """The library's translations by what they translate: (kind, id) -> {language: spec}."""

    def __init__(self, library: Library) -> None:
        self.specs: dict[tuple[str, str], dict[str, Any]] = {}
        for translation in sorted(library.translations, key=lambda t: t.language):
            self.specs.setdefault((translation.kind, translation.key), {})[translation.language] = (
                translation.spec
            )

    def of(self, kind: str, key: str) -> dict[str, Any]:
        return self.specs.get((kind, key), {})

    @staticmethod
    def stored(words: dict[str, dict]) -> dict[str, dict] | None:
        """A `translations` column's value: None rather than empty, as rows without any hold."""
        return {language: value for language, value in words.items() if value} or None


def _item_words(spec: ItemSpec) -> dict[str, Any]:
    return {
        "prompt": spec.prompt,
        "text_format": spec.text_format,
        "choices": [
            {key: value for key, value in _choice(c, spec.text_format).items() if key != "weight"}
            for c in spec.choices
        ],
        "explanation": spec.explanation,
        "explanation_format": _own(spec.explanation_format, spec.text_format),
    }


def _sync_quizzes(
    session: Session, library: Library, words: _Translations, report: SyncReport
) -> dict[str, Quiz]:
    existing = {q.key: q for q in session.scalars(select(Quiz).where(Quiz.kind == "quiz"))}
    for spec in library.quizzes.values():
        translated: dict[str, QuizSpec] = words.of("quiz", spec.id)
        quiz = _upsert(
            session,
            Quiz,
            existing,
            spec.id,
            {
                "title": spec.title,
                "source_path": spec.path,
                "retired": False,
                "translations": words.stored(
                    {language: {"title": t.title} for language, t in translated.items()}
                ),
            },
            report,
            f"quiz {spec.id}",
        )
        by_item = {
            language: {item.id: _item_words(item) for item in t.items}
            for language, t in translated.items()
        }
        items = {
            item_spec.id: {
                "type": item_spec.type,
                "prompt": item_spec.prompt,
                "text_format": item_spec.text_format,
                "choices": [_choice(c, item_spec.text_format) for c in item_spec.choices],
                "explanation": item_spec.explanation,
                "explanation_format": _own(item_spec.explanation_format, item_spec.text_format),
                "category": item_spec.category,
                "translations": words.stored(
                    {language: found.get(item_spec.id) for language, found in by_item.items()}
                ),
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
    session: Session, library: Library, words: _Translations, report: SyncReport
) -> dict[str, Conversation]:
    """Each conversation, and its decisions as the items of a quiz of its own (kind
    "conversation", keyed like the conversation), so each comes back in refreshers."""
    existing = {c.key: c for c in session.scalars(select(Conversation))}
    quizzes = {q.key: q for q in session.scalars(select(Quiz).where(Quiz.kind == "conversation"))}
    for spec in library.conversations.values():
        translated: dict[str, ConversationSpec] = words.of("conversation", spec.id)
        quiz = quizzes.get(spec.id)
        values = {
            "title": spec.title,
            "source_path": spec.path,
            "retired": False,
            "translations": words.stored(
                {language: {"title": t.title} for language, t in translated.items()}
            ),
        }
        if quiz is None:
            quiz = quizzes[spec.id] = Quiz(kind="conversation", key=spec.id, **values)
            session.add(quiz)
        else:
            _assign(quiz, values)  # reported with its conversation
        decisions = _decisions(spec)
        for language, t in translated.items():
            for key, words_of_decision in _decisions(t, language).items():
                decision = decisions[key]
                decision["translations"] = {
                    **(decision["translations"] or {}),
                    language: {
                        "prompt": words_of_decision["prompt"],
                        "text_format": "plain",
                        "choices": [
                            {"text": c["text"], "feedback": c["feedback"]}
                            for c in words_of_decision["choices"]
                        ],
                    },
                }
        _sync_items(session, quiz, decisions, report, f"decision {spec.id}")
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
                "translations": words.stored(
                    {
                        language: {"title": t.title, "nodes": _nodes(t, words_only=True)}
                        for language, t in translated.items()
                    }
                ),
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


def _nodes(spec: ConversationSpec, words_only: bool = False) -> dict[str, dict]:
    """The graph as stored; `words_only`: just what a translation says at each node."""
    nodes: dict[str, dict] = {}
    for node in spec.nodes.values():
        if node.is_ending:
            nodes[node.id] = {"summary": node.summary}
            if not words_only:
                nodes[node.id]["ending"] = node.ending
            continue
        nodes[node.id] = {
            "customer": node.customer,
            "cue": node.cue,
            "choices": [
                {"say": c.say, "feedback": c.feedback}
                if words_only
                else {"say": c.say, "score": c.score, "feedback": c.feedback, "next": c.next}
                for c in node.choices
            ],
        }
    return nodes


# How a decision asks in a refresher, in each language a conversation is written in.
_DECISION_PROMPTS = {
    "en": "{title}\n\nThe customer says{how}: “{customer}”\n\nWhat do you say?",
    "es": "{title}\n\nEl cliente dice{how}: «{customer}»\n\n¿Qué le respondes?",
    "pl": "{title}\n\nKlient mówi{how}: „{customer}”\n\nCo odpowiadasz?",
}


def _decisions(spec: ConversationSpec, language: str = "en") -> dict[str, dict]:
    """A review item per node with choices: the customer's line, and the lines to say weighed
    by their score, so the best-scored ones are right."""
    decisions = {}
    for node in spec.nodes.values():
        if node.is_ending:
            continue
        how = f" ({node.cue})" if node.cue else ""
        decisions[node.id] = {
            "type": "single",
            "prompt": _DECISION_PROMPTS[language].format(
                title=spec.title, how=how, customer=node.customer
            ),
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
            "translations": None,
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
    words: _Translations,
    report: SyncReport,
) -> dict[str, Lesson]:
    existing = {lesson.key: lesson for lesson in session.scalars(select(Lesson))}
    for spec in library.lessons.values():
        translated: dict[str, LessonSpec] = words.of("lesson", spec.id)
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
                "translations": words.stored(
                    {
                        language: {
                            "title": t.title,
                            "scenario_md": t.scenario,
                            "key_points_md": t.key_points,
                        }
                        for language, t in translated.items()
                    }
                ),
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
                "translations": words.stored(
                    {
                        language: {
                            "situation": rp.situation,
                            "customer": rp.customer,
                            "rubric": list(rp.rubric),
                            "model_answer": rp.model_answer,
                        }
                        for language, t in translated.items()
                        for rp in t.roleplays
                        if rp.id == rp_spec.id
                    }
                ),
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
    words: _Translations,
    report: SyncReport,
) -> None:
    existing = {p.key: p for p in session.scalars(select(Path))}
    translated: dict[str, PathsSpec] = words.of("paths", "paths")
    for spec in library.paths.values():
        titles = {
            language: {"title": t.paths[spec.id].title}
            for language, t in translated.items()
            if spec.id in t.paths
        }
        path = _upsert(
            session,
            Path,
            existing,
            spec.id,
            {
                "title": spec.title,
                "job_role": roles.get(spec.role),
                "retired": False,
                "translations": words.stored(titles),
            },
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
