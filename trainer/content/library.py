"""Read the whole library from disk and check that its files agree with each other."""

from __future__ import annotations

import os
from pathlib import Path

from trainer.content.conversations import parse_conversation_yaml
from trainer.content.files import LibraryFiles
from trainer.content.gift import parse_gift
from trainer.content.lessons import parse_lesson
from trainer.content.paths import read_paths
from trainer.content.quizzes import parse_quiz_yaml
from trainer.content.specs import Library, Problem, QuizSpec
from trainer.content.translations import (
    load_paths_translations,
    load_translations,
    source_hash,
)
from trainer.content.twee import parse_twee

PATHS_FILE = "lessons/paths.yaml"
QUIZ_SUFFIXES = {".yaml", ".yml", ".gift"}
CONVERSATIONS = "lessons/conversations"
CONVERSATION_SUFFIXES = {".yaml", ".yml", ".twee"}


def load_library(root: str | Path) -> Library:
    """Parse every lesson, quiz and path under `root`; `library.problems` lists all faults.

    Paths in problems are relative to `root`, as a trainer sees them in git.
    """
    root = Path(root)
    library = Library()
    problems = library.problems
    files = LibraryFiles(root, problems)
    hashes: dict[str, str] = {}  # source path -> the hash its translations record

    for file in files.listing("quizzes", QUIZ_SUFFIXES):
        rel = files.rel(file)
        text = files.read(file)
        if text is None:
            library.quizzes.setdefault(file.stem, QuizSpec(file.stem, file.stem, [], rel))
            continue
        hashes[rel] = source_hash(text)
        quiz: QuizSpec | None
        if file.suffix == ".gift":
            quiz, found = parse_gift(text, rel, file.stem)
        else:
            quiz, found = parse_quiz_yaml(text, rel)
        problems.extend(found)
        if quiz is None or found:
            # Keep the id known so lessons naming it are not also reported as broken.
            library.quizzes.setdefault(file.stem, QuizSpec(file.stem, file.stem, [], rel))
            continue
        if quiz.id != file.stem:
            problems.append(Problem(rel, 1, f'quiz id "{quiz.id}" must match its file name'))
        elif quiz.id in library.quizzes:
            first = library.quizzes[quiz.id].path
            problems.append(Problem(rel, 1, f'quiz id "{quiz.id}" is already used by {first}'))
        else:
            library.quizzes[quiz.id] = quiz

    # Conversation files that exist but could not be loaded: lessons naming them are not also
    # reported as naming an unknown one.
    broken_conversations: set[str] = set()
    for file in files.listing(CONVERSATIONS, CONVERSATION_SUFFIXES):
        rel = files.rel(file)
        text = files.read(file)
        if text is None:
            broken_conversations.add(file.stem)
            continue
        hashes[rel] = source_hash(text)
        if file.suffix == ".twee":
            conversation, found = parse_twee(text, rel, file.stem)
        else:
            conversation, found = parse_conversation_yaml(text, rel)
        problems.extend(found)
        if conversation is None:
            broken_conversations.add(file.stem)
            continue
        if conversation.id != file.stem:
            line = conversation.field_lines.get("id", 1)
            problems.append(
                Problem(rel, line, f'conversation id "{conversation.id}" must match its file name')
            )
            broken_conversations.add(file.stem)
        elif conversation.id in library.conversations:
            first = library.conversations[conversation.id].path
            problems.append(
                Problem(rel, 1, f'conversation id "{conversation.id}" is already used by {first}')
            )
        else:
            library.conversations[conversation.id] = conversation

    # Lesson files that exist but could not be loaded: paths naming them are not also broken.
    broken_lessons: set[str] = set()
    for file in files.listing("lessons", {".md"}):
        rel = files.rel(file)
        text = files.read(file)
        if text is None:
            broken_lessons.add(file.stem)
            continue
        hashes[rel] = source_hash(text)
        lesson, found = parse_lesson(text, rel)
        problems.extend(found)
        if lesson is None:
            broken_lessons.add(file.stem)
            continue
        if lesson.id != file.stem:
            line = lesson.field_lines.get("id", 2)
            problems.append(Problem(rel, line, f'lesson id "{lesson.id}" must match its file name'))
            broken_lessons.add(file.stem)
            continue
        library.lessons[lesson.id] = lesson

    paths_file = root / PATHS_FILE
    if os.path.lexists(paths_file):
        text = files.read(paths_file)
        if text is not None:
            spec, found = read_paths(text, PATHS_FILE)
            library.skills, library.roles, library.paths = spec.skills, spec.roles, spec.paths
            problems.extend(found)
            if not found:
                hashes[PATHS_FILE] = source_hash(text)

    _cross_check(library, broken_lessons, broken_conversations)
    _unnamed_skills(library)
    broken_quizzes = {key for key, quiz in library.quizzes.items() if not quiz.items}
    load_translations(
        files,
        library,
        hashes,
        {"lesson": broken_lessons, "quiz": broken_quizzes, "conversation": broken_conversations},
    )
    load_paths_translations(files, library, PATHS_FILE, hashes)
    problems.sort()
    library.warnings.sort()
    return library


def _unnamed_skills(library: Library) -> None:
    """Once the paths file names skills, a skill used without a name there is a warning (once,
    where it is first used): it still works, shown as its id reads ("first-impression" as
    "First impression"), in English for every reader."""
    if not library.skills:
        return
    first: dict[str, tuple[str, int]] = {}
    for spec in (*library.lessons.values(), *library.conversations.values()):
        where = (spec.path, spec.field_lines.get("skill", spec.line))
        if spec.skill and spec.skill not in library.skills:
            first[spec.skill] = min(first.get(spec.skill, where), where)
    for skill, (path, line) in sorted(first.items()):
        library.warnings.append(
            Problem(
                path,
                line,
                f'skill "{skill}" has no name in {PATHS_FILE}: add it under "skills" '
                f'(until then it reads "{skill.replace("-", " ").capitalize()}" in every language)',
            )
        )


def _cross_check(
    library: Library, broken_lessons: set[str], broken_conversations: set[str]
) -> None:
    problems = library.problems
    for lesson in library.lessons.values():
        named = lesson.conversation
        if named and named not in library.conversations and named not in broken_conversations:
            problems.append(
                Problem(
                    lesson.path,
                    lesson.field_lines.get("conversation", 2),
                    f'unknown conversation "{named}" (no {CONVERSATIONS}/{named}.yaml '
                    f"or {CONVERSATIONS}/{named}.twee)",
                )
            )
        if lesson.quiz not in library.quizzes:
            problems.append(
                Problem(
                    lesson.path,
                    lesson.field_lines.get("quiz", 2),
                    f'unknown quiz "{lesson.quiz}" (no quizzes/{lesson.quiz}.yaml '
                    f"or quizzes/{lesson.quiz}.gift)",
                )
            )
        if library.roles:
            for role in lesson.roles:
                if role not in library.roles:
                    problems.append(
                        Problem(
                            lesson.path,
                            lesson.field_lines.get("roles", 2),
                            f'unknown job role "{role}" (known: {", ".join(library.roles)})',
                        )
                    )

    for spec in library.paths.values():
        seen: set[str] = set()
        for step in spec.steps:
            lesson = library.lessons.get(step.lesson)
            if lesson is None and step.lesson in broken_lessons:
                pass  # its own file's problem is already reported
            elif lesson is None:
                problems.append(
                    Problem(
                        PATHS_FILE, step.line, f'path "{spec.id}": unknown lesson "{step.lesson}"'
                    )
                )
            elif spec.role and spec.role not in lesson.roles:
                problems.append(
                    Problem(
                        PATHS_FILE,
                        step.line,
                        f'path "{spec.id}": lesson "{step.lesson}" is not written for '
                        f'"{spec.role}" (its roles: {", ".join(lesson.roles)})',
                    )
                )
            if step.lesson in seen:
                problems.append(
                    Problem(PATHS_FILE, step.line, f'path "{spec.id}" lists "{step.lesson}" twice')
                )
            seen.add(step.lesson)
