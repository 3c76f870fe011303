"""Translations beside their sources: held to the source's answer key and structure, and
tracked by the hash of the source they translate.

Each test writes a translation into a copy of the starter library (made from its English source
with words swapped), then reads the library or runs `content check` on it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import make_app
from trainer.content.library import load_library
from trainer.content.translations import source_hash

QUIZ = "quizzes/phone-greeting-first-seconds.yaml"
QUIZ_ES = "quizzes/phone-greeting-first-seconds.es.yaml"
GIFT = "quizzes/warm-handover.gift"
GIFT_ES = "quizzes/warm-handover.es.gift"
LESSON = "lessons/phone-greeting-first-seconds.md"
LESSON_ES = "lessons/phone-greeting-first-seconds.es.md"
TALK = "lessons/conversations/busy-line-greeting.yaml"
TALK_ES = "lessons/conversations/busy-line-greeting.es.yaml"


@pytest.fixture
def library(content_dir):
    """The starter library with its conversations, to write translations into."""
    import shutil

    from trainer import ROOT

    shutil.copytree(
        ROOT / "lessons" / "conversations",
        content_dir / "lessons" / "conversations",
        dirs_exist_ok=True,
    )
    for translation in content_dir.glob("**/*.es.*"):
        translation.unlink()  # each test writes its own
    return content_dir


def source_of(root: Path, rel: str) -> str:
    return (root / rel).read_text(encoding="utf-8")


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the first line containing `needle`."""
    for number, line in enumerate(text.split("\n"), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not found")


def quiz_translation(root: Path, *, with_source: bool = True) -> str:
    text = source_of(root, QUIZ)
    text = text.replace("title: Answering the phone", "title: Contestar al teléfono")
    text = text.replace(
        "prompt: Which of these is the best way to answer the branch phone?",
        "prompt: ¿Cuál es la mejor forma de contestar el teléfono de la sucursal?",
    )
    if with_source:
        text = f"source: {source_hash(source_of(root, QUIZ))}\n" + text
    return text


def write(root: Path, rel: str, text: str) -> None:
    (root / rel).write_text(text, encoding="utf-8")


def test_a_translation_with_the_same_answer_key_loads(library):
    write(library, QUIZ_ES, quiz_translation(library))
    loaded = load_library(library)
    assert loaded.problems == []
    assert loaded.warnings == []
    [translation] = loaded.translations
    assert (translation.kind, translation.key, translation.language) == (
        "quiz",
        "phone-greeting-first-seconds",
        "es",
    )
    assert translation.current
    assert translation.spec.title == "Contestar al teléfono"


def test_a_translation_that_moves_the_right_answer_is_refused_with_its_line(library):
    text = quiz_translation(library)
    # The right answer moves from the second choice to the first.
    text = text.replace(
        "      - text: \"'Hello?'\"\n", "      - text: \"'¿Diga?'\"\n        correct: true\n", 1
    )
    text = text.replace(
        "this is Niall. How can I help?'\"\n        correct: true\n",
        "this is Niall. How can I help?'\"\n",
        1,
    )
    write(library, QUIZ_ES, text)
    loaded = load_library(library)
    item_line = line_of(text, "id: best-opening-line")
    assert [str(p) for p in loaded.problems] == [
        f'{QUIZ_ES}:{item_line}: item "best-opening-line" changes the answer key: choice 1 is '
        f"right here and wrong in {QUIZ}; keep the choices in the same order, right ones right"
    ]
    assert loaded.translations == []


def test_a_flipped_true_false_answer_is_refused(library):
    text = quiz_translation(library).replace("    answer: true\n", "    answer: false\n", 1)
    write(library, QUIZ_ES, text)
    [problem] = load_library(library).problems
    assert problem.path == QUIZ_ES
    assert problem.line == line_of(text, "id: tone-carries")
    assert "changes the answer key" in problem.message


def test_items_added_or_missing_are_refused(library):
    text = quiz_translation(library)
    start = text.index("  - id: tone-carries")
    end = text.index("  - id: after-a-long-wait")
    tone = text[start:end]
    text = text[:start] + text[end:] + tone.replace("tone-carries", "extra-item")
    write(library, QUIZ_ES, text)
    problems = [str(p) for p in load_library(library).problems]
    assert problems == [
        f'{QUIZ_ES}:1: item "tone-carries" of {QUIZ} is missing: translate every item',
        f'{QUIZ_ES}:{line_of(text, "id: extra-item")}: item "extra-item" is not in {QUIZ}: '
        "a translation adds no items",
    ]


def test_a_choice_dropped_is_refused(library):
    text = quiz_translation(library).replace(
        "      - text: \"'Riverside, hold on.'\"\n"
        "        feedback: The caller is put on hold before they have even been greeted.\n",
        "",
    )
    write(library, QUIZ_ES, text)
    [problem] = load_library(library).problems
    assert problem.message == (
        f'item "best-opening-line" has 3 choices here and 4 in {QUIZ}; translate each, in order'
    )


def test_a_gift_translation_keeps_the_weights(library):
    source = source_of(library, GIFT)
    good = f"// source: {source_hash(source)}\n" + source.replace(
        "What do you do **first**?", "¿Qué haces **primero**?"
    )
    write(library, GIFT_ES, good)
    loaded = load_library(library)
    assert loaded.problems == [] and loaded.warnings == []
    assert "¿Qué haces **primero**?" in loaded.translations[0].spec.items[0].prompt

    bad = good.replace("~%-100%How long the call has taken", "~%0%How long the call has taken")
    write(library, GIFT_ES, bad)
    [problem] = load_library(library).problems
    assert problem.path == GIFT_ES
    assert problem.line == line_of(bad, "::brief-the-colleague::")
    assert "choice 3 is wrong here and wrong (-100%)" in problem.message


def lesson_translation(root: Path) -> str:
    text = source_of(root, LESSON)
    text = text.replace("---\n", f"---\nsource: {source_hash(text)}\n", 1)
    return text.replace("## The scenario", "## La situación").replace("title: ", "title: (es) ", 1)


def test_a_lesson_translation_loads_with_its_own_scenario_heading(library):
    write(library, LESSON_ES, lesson_translation(library))
    loaded = load_library(library)
    assert loaded.problems == [] and loaded.warnings == []
    [translation] = loaded.translations
    assert translation.spec.title.startswith("(es) ")
    assert translation.spec.scenario == loaded.lessons["phone-greeting-first-seconds"].scenario


def test_a_lesson_translation_keeps_quiz_roleplays_and_rubric_lengths(library):
    text = lesson_translation(library)
    text = text.replace("quiz: phone-greeting-first-seconds", "quiz: warm-handover")
    first_point = re.search(r"rubric:\n(\s+- .*\n)", text)
    text = text.replace(first_point.group(1), "", 1)
    write(library, LESSON_ES, text)
    problems = [str(p) for p in load_library(library).problems]
    rp_line = line_of(text, "  - id: ")
    assert problems == (
        [
            f'{LESSON_ES}:{line_of(text, "quiz: ")}: "quiz" must stay as in {LESSON} '
            '("phone-greeting-first-seconds"): a translation changes only the words',
            f'{LESSON_ES}:{rp_line}: role-play "{text.split("  - id: ")[1].split()[0]}": the '
            f"rubric has 4 points and {LESSON} has 5; translate each, in order",
        ]
    )


def test_a_conversation_translation_keeps_scores_next_and_nodes(library):
    source = source_of(library, TALK)
    text = f"source: {source_hash(source)}\n" + source.replace(
        "Is that Riverside Bank?", "¿Es el Riverside Bank?"
    )
    write(library, TALK_ES, text)
    loaded = load_library(library)
    assert loaded.problems == [] and loaded.warnings == []
    node = loaded.translations[0].spec.nodes["open"]
    assert "¿Es el Riverside Bank?" in node.customer

    # The second line scores more, and the first two lead to each other's nodes.
    changed = (
        text.replace("        score: 1\n", "        score: 2\n", 1)
        .replace("        next: need\n", "        next: NEED\n", 1)
        .replace("        next: need-cool\n", "        next: need\n", 1)
        .replace("        next: NEED\n", "        next: need-cool\n", 1)
    )
    write(library, TALK_ES, changed)
    problems = [str(p) for p in load_library(library).problems]
    assert problems == [
        f'{TALK_ES}:{line_of(text, "next: need")}: node "open", choice 1: leads to '
        f'"need-cool" here and to "need" in {TALK}',
        f'{TALK_ES}:{line_of(text, "score: 1")}: node "open", choice 2: score 2 here and 1 '
        f"in {TALK}; keep the choices in the same order",
        f'{TALK_ES}:{line_of(text, "next: need-cool")}: node "open", choice 2: leads to '
        f'"need" here and to "need-cool" in {TALK}',
    ]

    start = changed.index("  held:\n")
    missing = changed[:start] + changed[changed.index("  need:\n") :]
    write(library, TALK_ES, missing)
    # A node left out breaks the translation's own graph: refused like any conversation file.
    [problem] = load_library(library).problems
    assert (problem.path, problem.line) == (TALK_ES, line_of(missing, "next: held"))
    assert 'leads to "held", a node that does not exist' in problem.message


def test_a_translation_without_its_source_names_no_source(library):
    write(library, "quizzes/no-such-quiz.es.yaml", quiz_translation(library))
    [problem] = load_library(library).problems
    assert str(problem) == (
        'quizzes/no-such-quiz.es.yaml:1: a translation of "no-such-quiz", '
        'but there is no quiz "no-such-quiz"'
    )


def test_an_unknown_language_is_refused(library):
    write(library, "quizzes/phone-greeting-first-seconds.xx.yaml", quiz_translation(library))
    [problem] = load_library(library).problems
    assert problem.path == "quizzes/phone-greeting-first-seconds.xx.yaml"
    assert '"xx" is not a language' in problem.message


def check(library: Path, tmp_path, request, *args: str):
    app = make_app(tmp_path, "sqlite", request, CONTENT_DIR=str(library))
    return app.test_cli_runner().invoke(args=["content", "check", *args])


def test_check_prints_the_hash_to_paste_and_strict_fails_on_it(library, tmp_path, request):
    write(library, QUIZ_ES, quiz_translation(library, with_source=False))
    expected = source_hash(source_of(library, QUIZ))
    result = check(library, tmp_path, request)
    assert result.exit_code == 0, result.output
    assert (
        f"{QUIZ_ES}:1: warning: no source hash: once it translates {QUIZ} as it is now, "
        f'add "source: {expected}"'
    ) in result.output
    assert "Translations (es): 1 files, 1 to bring up to date" in result.output

    strict = check(library, tmp_path, request, "--strict")
    assert strict.exit_code == 1
    assert "1 warning(s), failing under --strict." in strict.output

    # Pasting the printed hash settles it.
    write(library, QUIZ_ES, f"source: {expected}\n" + source_of(library, QUIZ_ES))
    settled = check(library, tmp_path, request, "--strict")
    assert settled.exit_code == 0, settled.output
    assert "warning" not in settled.output
    assert "Translations (es): 1 files, all current." in settled.output


def test_a_changed_source_is_reported_naming_both_files(library, tmp_path, request):
    translation = quiz_translation(library)
    write(library, QUIZ_ES, translation)
    old = source_hash(source_of(library, QUIZ))
    edited = source_of(library, QUIZ).replace("Riverside, hold on.", "Riverside, hang on.")
    write(library, QUIZ, edited)
    new = source_hash(edited)

    result = check(library, tmp_path, request)
    assert result.exit_code == 0
    assert (
        f"{QUIZ_ES}:1: warning: {QUIZ} changed since this translation was made "
        f"(source {old}, now {new}): bring the translation up to date, then write "
        f'"source: {new}"'
    ) in result.output
    strict = check(library, tmp_path, request, "--strict")
    assert strict.exit_code == 1
    # The learner still reads the old translation: its answer key is the source's.
    loaded = load_library(library)
    assert loaded.problems == [] and not loaded.translations[0].current


def test_a_gift_translation_records_its_source_in_a_comment(library, tmp_path, request):
    source = source_of(library, GIFT)
    write(library, GIFT_ES, "// source: 000000000000\n" + source)
    result = check(library, tmp_path, request)
    assert f"{GIFT_ES}:1: warning: {GIFT} changed since this translation was made" in result.output
    assert f'then write "// source: {source_hash(source)}"' in result.output


def test_the_starter_library_translations_are_current(tmp_path, request):
    from trainer import ROOT

    result = check(Path(ROOT), tmp_path, request, "--strict")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("path_id", ["teller-onboarding", "wait-staff-onboarding"])
def test_the_teller_and_wait_staff_paths_are_complete_in_spanish(path_id):
    """Every lesson of the path, its quiz and its conversation has a current Spanish translation."""
    from trainer import ROOT

    library = load_library(ROOT)
    assert library.problems == [] and library.warnings == []
    spanish = {(t.kind, t.key) for t in library.translations if t.language == "es" and t.current}
    missing = []
    for step in library.paths[path_id].steps:
        lesson = library.lessons[step.lesson]
        wanted = [("lesson", lesson.id), ("quiz", lesson.quiz)]
        if lesson.conversation:
            wanted.append(("conversation", lesson.conversation))
        missing += [f"{kind} {key}" for kind, key in wanted if (kind, key) not in spanish]
    assert missing == []


def test_a_paths_translation_changes_only_the_titles(library):
    from trainer import ROOT

    write(library, "lessons/paths.es.yaml", source_of(ROOT, "lessons/paths.es.yaml"))
    loaded = load_library(library)
    assert loaded.problems == [] and loaded.warnings == []
    paths = next(t for t in loaded.translations if t.kind == "paths")
    assert paths.spec.paths["teller-onboarding"].title == "Primeros pasos en la ventanilla"

    text = source_of(library, "lessons/paths.es.yaml")
    moved = text.replace("due_days: 14", "due_days: 15", 1)
    write(library, "lessons/paths.es.yaml", moved)
    [problem] = load_library(library).problems
    assert str(problem) == (
        f"lessons/paths.es.yaml:{line_of(moved, '- id: teller-onboarding')}: path "
        '"teller-onboarding": its role, lessons and due days must stay as in '
        "lessons/paths.yaml; a translation changes only the titles"
    )


def test_a_translation_the_source_has_outgrown_is_left_out_with_warnings(
    library, tmp_path, request
):
    """The English author is not held up by a translation: it waits, and learners read English."""
    write(library, QUIZ_ES, quiz_translation(library))
    source = source_of(library, QUIZ)
    start = source.index("  - id: tone-carries")
    edited = source[:start] + source[source.index("  - id: after-a-long-wait") :]
    write(library, QUIZ, edited)

    loaded = load_library(library)
    assert loaded.problems == []
    assert loaded.translations == []
    translation = source_of(library, QUIZ_ES)
    assert [str(w) for w in loaded.warnings] == [
        f"{QUIZ_ES}:1: {QUIZ} changed since this translation was made (source "
        f"{source_hash(source)}, now {source_hash(edited)}) and it no longer fits: learners read "
        f'{QUIZ} until the translation is brought up to date and says "source: '
        f'{source_hash(edited)}"',
        f'{QUIZ_ES}:{line_of(translation, "id: tone-carries")}: item "tone-carries" is not in '
        f"{QUIZ}: a translation adds no items",
    ]
    assert check(library, tmp_path, request).exit_code == 0
    assert check(library, tmp_path, request, "--strict").exit_code == 1


def test_a_new_translation_without_a_source_hash_is_still_held_to_the_answer_key(library):
    text = quiz_translation(library, with_source=False).replace(
        "    answer: true\n", "    answer: false\n", 1
    )
    write(library, QUIZ_ES, text)
    [problem] = load_library(library).problems
    assert "changes the answer key" in problem.message
