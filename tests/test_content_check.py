"""Checking content files: every fault is reported as `path:line: message`, with its real line.

Small inline lessons, quizzes and paths files are parsed directly, or written to a tmp library
and read with `load_library`; the `content check` command is run on such a library and on the
starter library. GIFT parsing itself is covered by test_gift.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import make_app
from trainer import ROOT
from trainer.content import specs, yamlines
from trainer.content.lessons import parse_lesson
from trainer.content.library import load_library
from trainer.content.paths import parse_paths
from trainer.content.quizzes import parse_quiz_yaml
from trainer.extensions import db
from trainer.models import JobRole, Lesson, Quiz, QuizItem, RolePlay
from trainer.models import Path as LearningPath

LESSON_PATH = "lessons/greeting.md"
QUIZ_PATH = "quizzes/greeting.yaml"
PATHS_PATH = "lessons/paths.yaml"

# Line numbers are part of the expected messages: keep these texts as they are.
LESSON = """\
---
id: greeting
title: Greeting at the counter
skill: first-impression
roles: [teller]
minutes: 3
quiz: greeting
roleplay:
  - id: queue-greeting
    situation: A customer has queued for ten minutes.
    customer: "Finally. I've been stood here for ages."
    rubric:
      - Makes eye contact and smiles
      - Thanks them for waiting
      - Asks how to help
    model_answer: "Thanks for waiting. How can I help today?"
---
## The scenario

Ama has queued for ten minutes and the teller does not look up.

## What good looks like

- Look up, smile and greet within five seconds.
"""

QUIZ = """\
id: greeting
title: Greeting at the counter
items:
  - id: first-words
    type: single
    prompt: What do you say first?
    choices:
      - text: Good morning, how can I help?
        correct: true
      - text: Next!
  - id: eye-contact
    type: truefalse
    prompt: Eye contact matters even when you are busy.
    answer: true
  - id: what-helps
    type: multiple
    prompt: Which of these help? (Choose all that apply.)
    choices:
      - text: A smile
        correct: true
      - text: Using their name
        correct: true
      - text: Finishing your typing first
"""

PATHS = """\
roles:
  - id: teller
    name: Bank teller
  - id: wait-staff
    name: Wait staff
paths:
  - id: teller-onboarding
    title: Teller onboarding
    role: teller
    lessons:
      - lesson: greeting
        due_days: 1
"""

WAIT_STAFF_PATH = """\
  - id: wait-staff-onboarding
    title: Wait staff onboarding
    role: wait-staff
    lessons:
      - lesson: greeting
        due_days: 2
"""

GIFT_WITH_UNCLOSED_BRACE = """\
::first-words:: What do you say first? {=Good morning ~Next!}

::eye-contact:: Eye contact matters even when you are busy. {
=True ~False

::what-helps:: Which of these help? {~%50%A smile ~%50%Their name ~%-100%Typing}
"""


def edited(text: str, old: str, new: str) -> str:
    """`text` with `old` (which must occur exactly once) replaced by `new`."""
    assert text.count(old) == 1, f"{old!r} should occur once"
    return text.replace(old, new)


def lesson_problems(text: str) -> list[str]:
    spec, problems = parse_lesson(text, LESSON_PATH)
    if problems:
        assert spec is None  # a lesson with problems is never half-loaded
    return [str(p) for p in problems]


def quiz_problems(text: str) -> list[str]:
    spec, problems = parse_quiz_yaml(text, QUIZ_PATH)
    if problems:
        assert spec is None
    return [str(p) for p in problems]


def paths_problems(text: str) -> list[str]:
    return [str(p) for p in parse_paths(text, PATHS_PATH)[2]]


def write_library(root: Path, files: dict[str, str | bytes | None] | None = None) -> Path:
    """A small valid library under `root`; `files` adds, replaces (or with None removes) files."""
    contents: dict[str, str | bytes | None] = {
        LESSON_PATH: LESSON,
        QUIZ_PATH: QUIZ,
        PATHS_PATH: PATHS,
    }
    contents.update(files or {})
    for name in ("lessons", "quizzes"):
        (root / name).mkdir(parents=True, exist_ok=True)
    for rel, content in contents.items():
        if content is None:
            continue
        if isinstance(content, bytes):
            (root / rel).write_bytes(content)
        else:
            (root / rel).write_text(content, encoding="utf-8")
    return root


def library_problems(root: Path, files: dict[str, str | bytes | None] | None = None) -> list[str]:
    return [str(p) for p in load_library(write_library(root, files)).problems]


# --- the texts above are valid --------------------------------------------------------------


def test_the_sample_lesson_parses_into_its_parts() -> None:
    spec, problems = parse_lesson(LESSON, LESSON_PATH)
    assert problems == []
    assert (spec.id, spec.roles, spec.minutes, spec.quiz) == ("greeting", ["teller"], 3, "greeting")
    assert spec.scenario == "Ama has queued for ten minutes and the teller does not look up."
    assert spec.key_points.startswith("## What good looks like")
    assert [rp.rubric for rp in spec.roleplays] == [
        ["Makes eye contact and smiles", "Thanks them for waiting", "Asks how to help"]
    ]


def test_the_sample_quiz_parses_with_its_right_answers() -> None:
    spec, problems = parse_quiz_yaml(QUIZ, QUIZ_PATH)
    assert problems == []
    assert [(item.id, item.type, item.line) for item in spec.items] == [
        ("first-words", "single", 4),
        ("eye-contact", "truefalse", 11),
        ("what-helps", "multiple", 15),
    ]
    assert [c.correct for c in spec.items[1].choices] == [True, False]


def test_the_sample_library_has_no_problems(tmp_path) -> None:
    library = load_library(write_library(tmp_path))
    assert library.problems == []
    assert list(library.lessons) == ["greeting"]
    assert list(library.quizzes) == ["greeting"]
    assert [s.lesson for s in library.paths["teller-onboarding"].steps] == ["greeting"]


# --- lessons --------------------------------------------------------------------------------


def test_lesson_bad_yaml_names_the_line_of_the_fault() -> None:
    text = edited(LESSON, "title: Greeting at the counter", "title: Greeting: at the counter")
    assert lesson_problems(text) == [
        "lessons/greeting.md:3: bad YAML: mapping values are not allowed here"
    ]


def test_lesson_bad_yaml_deep_in_the_front_matter_counts_file_lines() -> None:
    text = edited(LESSON, "      - Asks how to help", "     - Asks how to help")
    assert lesson_problems(text) == ["lessons/greeting.md:15: bad YAML: did not find expected key"]


def test_lesson_front_matter_never_closed() -> None:
    text = edited(LESSON, "---\n## The scenario", "## The scenario")
    assert lesson_problems(text) == [
        'lessons/greeting.md:1: front matter opened with "---" is never closed'
    ]


def test_lesson_without_front_matter() -> None:
    assert lesson_problems("# Greeting\n\nNo front matter here.\n") == [
        'lessons/greeting.md:1: a lesson starts with "---" and its front matter'
    ]


def test_lesson_missing_required_field() -> None:
    text = edited(LESSON, "title: Greeting at the counter\n", "")
    assert lesson_problems(text) == ['lessons/greeting.md:2: lesson has no "title"']


def test_lesson_unknown_field_names_the_typo_and_the_known_fields() -> None:
    text = edited(LESSON, "minutes: 3", "minuts: 3")
    assert sorted(lesson_problems(text)) == [
        'lessons/greeting.md:2: lesson has no "minutes"',
        'lessons/greeting.md:6: unknown field "minuts" '
        "(known: conversation, id, minutes, quiz, roleplay, roles, skill, title)",
    ]


def test_lesson_over_five_minutes_names_the_minutes_line() -> None:
    text = edited(LESSON, "minutes: 3", "minutes: 6")
    assert lesson_problems(text) == [
        "lessons/greeting.md:6: a lesson takes at most 5 minutes (got 6)"
    ]


def test_lesson_of_exactly_five_minutes_is_fine() -> None:
    assert lesson_problems(edited(LESSON, "minutes: 3", "minutes: 5")) == []


def test_rubric_with_too_few_points_names_the_rubric_line() -> None:
    text = edited(LESSON, "      - Asks how to help\n", "")
    assert lesson_problems(text) == [
        "lessons/greeting.md:12: a rubric lists 3 to 6 observable behaviours (got 2)"
    ]


def test_lesson_without_the_scenario_section() -> None:
    text = edited(LESSON, "## The scenario", "## Background")
    assert lesson_problems(text) == [
        'lessons/greeting.md:18: the lesson body needs a "## The scenario" section'
    ]


def test_lesson_problems_in_several_fields_are_all_reported() -> None:
    text = edited(LESSON, "minutes: 3", "minutes: 9")
    text = edited(text, "      - Asks how to help\n", "")
    assert sorted(lesson_problems(text)) == [
        "lessons/greeting.md:12: a rubric lists 3 to 6 observable behaviours (got 2)",
        "lessons/greeting.md:6: a lesson takes at most 5 minutes (got 9)",
    ]


# --- YAML quizzes ---------------------------------------------------------------------------


def test_quiz_bad_yaml_names_the_line_of_the_fault() -> None:
    text = edited(QUIZ, "prompt: What do you say first?", "prompt: Say: what first?")
    assert quiz_problems(text) == [
        "quizzes/greeting.yaml:6: bad YAML: mapping values are not allowed here"
    ]


def test_quiz_duplicate_item_id_names_the_second_item() -> None:
    text = edited(QUIZ, "id: what-helps", "id: first-words")
    assert quiz_problems(text) == [
        'quizzes/greeting.yaml:15: item id "first-words" is used twice in this quiz'
    ]


def test_quiz_item_with_no_right_answer() -> None:
    text = edited(QUIZ, "        correct: true\n      - text: Next!", "      - text: Next!")
    assert quiz_problems(text) == [
        'quizzes/greeting.yaml:7: this item has no right answer: mark one choice "correct: true"'
    ]


def test_quiz_single_item_with_two_right_answers() -> None:
    text = edited(QUIZ, "      - text: Next!\n", "      - text: Next!\n        correct: true\n")
    assert quiz_problems(text) == [
        'quizzes/greeting.yaml:7: a single item has exactly one right choice; use type "multiple"'
    ]


def test_quiz_unknown_item_type() -> None:
    text = edited(QUIZ, "type: single", "type: essay")
    assert quiz_problems(text) == [
        'quizzes/greeting.yaml:5: unknown item type "essay" (use single, multiple, truefalse)'
    ]


def test_quiz_truefalse_without_answer() -> None:
    text = edited(QUIZ, "    answer: true\n", "")
    assert quiz_problems(text) == ['quizzes/greeting.yaml:11: item has no "answer"']


def test_quiz_unknown_item_field() -> None:
    text = edited(QUIZ, "    answer: true\n", "    answer: true\n    explaination: Because.\n")
    assert quiz_problems(text) == [
        'quizzes/greeting.yaml:15: unknown field "explaination" '
        "(known: answer, choices, explanation, format, id, prompt, type)"
    ]


# --- paths.yaml -----------------------------------------------------------------------------


def test_paths_parse() -> None:
    roles, paths, problems = parse_paths(PATHS, PATHS_PATH)
    assert problems == []
    assert {key: role.name for key, role in roles.items()} == {
        "teller": "Bank teller",
        "wait-staff": "Wait staff",
    }
    steps = paths["teller-onboarding"].steps
    assert [(s.lesson, s.due_days, s.line) for s in steps] == [("greeting", 1, 11)]


def test_paths_bad_yaml_names_the_line_of_the_fault() -> None:
    text = edited(PATHS, "title: Teller onboarding", "title: Teller: onboarding")
    assert paths_problems(text) == [
        "lessons/paths.yaml:8: bad YAML: mapping values are not allowed here"
    ]


def test_paths_missing_required_field() -> None:
    text = edited(PATHS, "    title: Teller onboarding\n", "")
    assert paths_problems(text) == ['lessons/paths.yaml:7: path has no "title"']


def test_paths_unknown_field() -> None:
    text = edited(PATHS, "due_days: 1", "due_day: 1")
    assert sorted(paths_problems(text)) == [
        'lessons/paths.yaml:11: path lesson has no "due_days"',
        'lessons/paths.yaml:12: unknown field "due_day" (known: due_days, lesson)',
    ]


def test_paths_role_not_listed_under_roles() -> None:
    text = edited(PATHS, "role: teller", "role: chef")
    assert paths_problems(text) == [
        'lessons/paths.yaml:9: unknown job role "chef" (list it under "roles")'
    ]


# --- YAML that could hang, hide a value or crash the check ---------------------------------

# About 500 bytes: each list holds nine of the one above, so the last stands for 3 * 9**9
# texts. Built out in full, it never finishes.
ALIAS_BOMB = "".join(
    [f'  - &a0 ["{"x" * 8}", "{"x" * 8}", "{"x" * 8}"]\n']
    + [f"  - &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]\n" for n in range(1, 10)]
)


def test_an_alias_bomb_in_a_lesson_is_refused_at_its_first_anchor() -> None:
    text = edited(LESSON, "roles: [teller]", "roles:\n" + ALIAS_BOMB.rstrip("\n"))
    assert lesson_problems(text) == [
        'lessons/greeting.md:6: anchors and aliases ("&name", "*name") are not allowed; '
        "write the text out in full"
    ]


def test_an_alias_without_an_anchor_of_its_own_is_refused_at_its_line() -> None:
    text = edited(QUIZ, "title: Greeting at the counter", "title: &t Greeting\nname: *t")
    assert quiz_problems(text) == [
        'quizzes/greeting.yaml:2: anchors and aliases ("&name", "*name") are not allowed; '
        "write the text out in full"
    ]


def test_check_and_sync_refuse_an_alias_bomb_and_load_nothing(tmp_path, request) -> None:
    lesson = edited(LESSON, "roles: [teller]", "roles:\n" + ALIAS_BOMB.rstrip("\n"))
    root = write_library(tmp_path / "content", {LESSON_PATH: lesson})
    app = make_app(tmp_path, "sqlite", request, CONTENT_DIR=str(root))
    message = (
        'lessons/greeting.md:6: anchors and aliases ("&name", "*name") are not allowed; '
        "write the text out in full"
    )

    check = app.test_cli_runner().invoke(args=["content", "check"])
    with app.app_context():
        db.create_all()
    sync = app.test_cli_runner().invoke(args=["content", "sync"])

    assert check.exit_code == 1
    assert check.output.splitlines()[0] == message
    assert sync.exit_code == 1
    assert sync.output.splitlines()[0] == message
    assert "nothing was loaded" in sync.output


def test_nesting_60_levels_deep_is_refused_at_the_line_it_goes_too_deep() -> None:
    text = edited(QUIZ, "    answer: true\n", "    answer: true\n    deep:\n" + "      " + "[" * 60)
    assert quiz_problems(text) == ["quizzes/greeting.yaml:16: nested more than 50 levels deep"]


def test_nesting_60_block_levels_deep_is_refused() -> None:
    deep = "".join(f"{'  ' * level}- \n" for level in range(60))
    assert quiz_problems(deep) == ["quizzes/greeting.yaml:51: nested more than 50 levels deep"]


def test_nesting_5000_levels_deep_is_refused_not_a_recursion_error() -> None:
    text = edited(PATHS, "roles:\n", "roles:\n" + "[" * 5000 + "]" * 5000 + "\n")
    assert paths_problems(text) == ["lessons/paths.yaml:2: nested more than 50 levels deep"]


def test_more_than_20000_values_are_refused_at_the_first_value_too_many() -> None:
    text = "id: greeting\nitems:\n" + "  - 1\n" * 25_000
    assert quiz_problems(text) == [
        "quizzes/greeting.yaml:19998: more than 20,000 values; a content file needs far fewer, "
        "so split it into several"
    ]


def test_a_second_id_in_a_quiz_item_is_refused_at_the_second_key() -> None:
    text = edited(QUIZ, "    answer: true\n", "    answer: true\n    id: eye-contact-2\n")
    assert quiz_problems(text) == [
        'quizzes/greeting.yaml:15: "id" is given twice (first on line 11); keep one: '
        "the second would replace the first"
    ]


def test_a_key_given_twice_in_lesson_front_matter_is_refused() -> None:
    text = edited(LESSON, "minutes: 3\n", "minutes: 3\nminutes: 4\n")
    assert lesson_problems(text) == [
        'lessons/greeting.md:7: "minutes" is given twice (first on line 6); keep one: '
        "the second would replace the first"
    ]


def test_a_key_given_twice_in_a_flow_mapping_of_paths_is_refused() -> None:
    text = edited(PATHS, "      - lesson: greeting\n        due_days: 1\n", "")
    text += "      - {lesson: greeting, due_days: 1, lesson: other}\n"
    assert paths_problems(text) == [
        'lessons/paths.yaml:11: "lesson" is given twice (first on line 11); keep one: '
        "the second would replace the first"
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("[a, b]", "a key must be a name, not a list or a mapping"),
        ("{a: b}", "a key must be a name, not a list or a mapping"),
    ],
)
def test_a_list_or_mapping_as_a_key_is_a_problem_not_a_crash(value: str, message: str) -> None:
    text = edited(QUIZ, "    answer: true\n", f"    answer: true\n    ? {value}\n    : x\n")
    assert quiz_problems(text) == [f"quizzes/greeting.yaml:15: {message}"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2024-13-45", 'bad YAML: "2024-13-45" is not a date; put text in quotes'),
        ("9" * 5000, f'bad YAML: "{"9" * 40}" is not a whole number; put text in quotes'),
        (
            "!!python/object:os.system x",
            "bad YAML: could not determine a constructor for the tag "
            "'tag:yaml.org,2002:python/object:os.system'",
        ),
        ("{<<: {id: x}}", 'merge keys ("<<") are not allowed; write the fields out in full'),
    ],
)
def test_values_yaml_cannot_build_are_a_problem_not_a_crash(value: str, message: str) -> None:
    text = edited(LESSON, "minutes: 3", f"minutes: {value}")
    assert lesson_problems(text) == [f"lessons/greeting.md:6: {message}"]


def test_a_tab_in_yaml_is_named_in_the_message() -> None:
    text = edited(QUIZ, "    answer: true", "\tanswer: true")
    assert quiz_problems(text) == [
        "quizzes/greeting.yaml:14: bad YAML: found a tab character that violates indentation"
    ]


def test_a_character_that_cannot_start_yaml_is_named_in_the_message() -> None:
    text = edited(LESSON, "title: Greeting at the counter", "title: @counter")
    assert lesson_problems(text) == [
        "lessons/greeting.md:3: bad YAML: found character '@' that cannot start any token"
    ]


def test_yaml_is_read_by_libyaml() -> None:
    # `content check` of a large library fits its time only with the C parser.
    assert yaml.__with_libyaml__
    assert issubclass(yamlines.Loader, yaml.CSafeLoader)


def test_without_libyaml_the_pure_python_parser_gives_the_same_result(monkeypatch) -> None:
    with_libyaml = parse_quiz_yaml(QUIZ, QUIZ_PATH)[0]
    bomb = edited(LESSON, "roles: [teller]", "roles:\n" + ALIAS_BOMB.rstrip("\n"))
    monkeypatch.setattr(yamlines, "Loader", yamlines.make_loader(yaml.SafeLoader))

    assert parse_quiz_yaml(QUIZ, QUIZ_PATH)[0] == with_libyaml
    assert [item.line for item in with_libyaml.items] == [4, 11, 15]
    assert lesson_problems(bomb) == [
        'lessons/greeting.md:6: anchors and aliases ("&name", "*name") are not allowed; '
        "write the text out in full"
    ]
    assert quiz_problems(edited(QUIZ, "id: what-helps", "id: what-helps\n    id: again")) == [
        'quizzes/greeting.yaml:16: "id" is given twice (first on line 15); keep one: '
        "the second would replace the first"
    ]


# --- characters no page or database should hold --------------------------------------------

FORBIDDEN_CHARACTERS = [
    ("\x00", "control character U+0000 (NUL) is not allowed; delete it"),
    ("\x1b", "control character U+001B (ESC) is not allowed; delete it"),
    ("\x7f", "control character U+007F (DEL) is not allowed; delete it"),
    (
        "\u2028",
        "invisible line break U+2028 (LINE SEPARATOR); use an ordinary line break, or a space",
    ),
    (
        "\u2029",
        "invisible line break U+2029 (PARAGRAPH SEPARATOR); use an ordinary line break, or a space",
    ),
    ("\x85", "invisible line break U+0085 (NEL); use an ordinary line break, or a space"),
]


@pytest.mark.parametrize(("char", "message"), FORBIDDEN_CHARACTERS)
def test_a_forbidden_character_in_a_lesson_body_is_refused_at_its_line(
    tmp_path, char: str, message: str
) -> None:
    lesson = edited(LESSON, "the teller does not look up.", f"the teller{char} does not look up.")
    assert library_problems(tmp_path, {LESSON_PATH: lesson}) == [
        f"lessons/greeting.md:20: {message}"
    ]


@pytest.mark.parametrize(("char", "message"), FORBIDDEN_CHARACTERS)
def test_a_forbidden_character_in_yaml_is_refused_at_its_line(char: str, message: str) -> None:
    # Line 9 is after the character: YAML would count U+2028 and U+0085 as line breaks.
    text = edited(QUIZ, "Next!", f"Next!{char}")
    text = edited(text, "  - id: eye-contact", "  - id: eye-contact\n    type: essay")
    assert quiz_problems(text) == [f"quizzes/greeting.yaml:10: {message}"]


@pytest.mark.parametrize(
    ("escape", "message"),
    [
        ("\\0", "control character U+0000 (NUL) is not allowed; delete it"),
        ("\\e", "control character U+001B (ESC) is not allowed; delete it"),
        ("\\x07", "control character U+0007 is not allowed; delete it"),
        (
            "\\L",
            "invisible line break U+2028 (LINE SEPARATOR); use an ordinary line break, or a space",
        ),
        ("\\N", "invisible line break U+0085 (NEL); use an ordinary line break, or a space"),
    ],
)
def test_a_yaml_escape_making_a_forbidden_character_is_refused_at_its_line(
    escape: str, message: str
) -> None:
    text = edited(QUIZ, "prompt: What do you say first?", f'prompt: "What do you say{escape}?"')
    assert quiz_problems(text) == [
        f"quizzes/greeting.yaml:6: {message} (here made by an escape in double quotes)"
    ]


def test_every_line_with_a_forbidden_character_is_reported_with_its_own_line(tmp_path) -> None:
    # Windows and old Mac line ends count as one line end each, as in an editor.
    gift = (
        "::a:: One\x00 {=x ~y}\r\n\r\n::b:: Two {=x ~y\u2028}\r\r::c:: Three {=x\x85 ~y}\n\n"
    ).encode() + b"::d:: Caf\xe9 {=x ~y}\n"
    assert library_problems(tmp_path, {QUIZ_PATH: None, "quizzes/greeting.gift": gift}) == [
        "quizzes/greeting.gift:1: control character U+0000 (NUL) is not allowed; delete it",
        "quizzes/greeting.gift:3: invisible line break U+2028 (LINE SEPARATOR); use an "
        "ordinary line break, or a space",
        "quizzes/greeting.gift:5: invisible line break U+0085 (NEL); use an ordinary line "
        "break, or a space",
        "quizzes/greeting.gift:7: not UTF-8 text (byte 0xE9); save the file as UTF-8",
    ]


def test_a_file_full_of_control_characters_gets_twenty_lines_of_messages(tmp_path) -> None:
    lesson = LESSON + "\x00\n" * 1000
    problems = library_problems(tmp_path, {LESSON_PATH: lesson})
    assert len(problems) == 21
    assert problems[0] == (
        "lessons/greeting.md:25: control character U+0000 (NUL) is not allowed; delete it"
    )
    assert problems[-1] == (
        "lessons/greeting.md:45: more lines hold such characters; fix the ones above first"
    )


# --- what the database could not store ------------------------------------------------------


def test_a_message_quoting_a_huge_text_keeps_its_start_and_its_advice() -> None:
    text = edited(LESSON, "skill: first-impression", "skill: " + "Big " * 5_000)
    too_long, not_an_id = lesson_problems(text)
    assert too_long == 'lessons/greeting.md:4: "skill" is 19999 characters long; at most 64 fit'
    assert len(not_an_id) < 350
    assert not_an_id.startswith(
        'lessons/greeting.md:4: "skill" must be lowercase letters, digits and dashes (got "Big '
    )
    assert " [...] " in not_an_id
    assert not_an_id.endswith(' Big Big")')


def test_length_limits_are_the_database_columns() -> None:
    def length(column) -> int:
        return column.property.columns[0].type.length

    ids = [Lesson.key, Quiz.key, QuizItem.key, RolePlay.key, LearningPath.key]
    titles = [Lesson.title, Quiz.title, LearningPath.title, QuizItem.category]
    assert {length(column) for column in ids} == {specs.MAX_ID_LENGTH}
    assert {length(column) for column in titles} == {specs.MAX_TITLE_LENGTH}
    assert length(Lesson.skill) == specs.MAX_SKILL_LENGTH
    assert length(JobRole.key) == specs.MAX_ROLE_ID_LENGTH
    assert length(JobRole.name) == specs.MAX_ROLE_NAME_LENGTH


LONG = {n: "a" * n for n in (64, 65, 120, 121, 200, 201)}


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "title: Greeting at the counter",
            f"title: {LONG[201]}",
            '3: "title" is 201 characters long; at most 200 fit',
        ),
        (
            "skill: first-impression",
            f"skill: {LONG[65]}",
            '4: "skill" is 65 characters long; at most 64 fit',
        ),
        (
            "roles: [teller]",
            f"roles: [teller, {LONG[65]}]",
            '5: an entry of "roles" is 65 characters long; at most 64 fit',
        ),
        (
            "quiz: greeting",
            f"quiz: {LONG[121]}",
            '7: "quiz" is 121 characters long; at most 120 fit',
        ),
        (
            "  - id: queue-greeting",
            f"  - id: {LONG[121]}",
            '9: "id" is 121 characters long; at most 120 fit',
        ),
    ],
)
def test_lesson_text_longer_than_its_column_is_refused_at_its_line(
    old: str, new: str, message: str
) -> None:
    assert lesson_problems(edited(LESSON, old, new)) == [f"lessons/greeting.md:{message}"]


def test_lesson_texts_as_long_as_their_columns_are_fine() -> None:
    text = edited(LESSON, "title: Greeting at the counter", f"title: {LONG[200]}")
    text = edited(text, "skill: first-impression", f"skill: {LONG[64]}")
    text = edited(text, "  - id: queue-greeting", f"  - id: {LONG[120]}")
    assert lesson_problems(text) == []


def test_quiz_title_and_item_id_longer_than_their_columns_are_refused() -> None:
    text = edited(QUIZ, "title: Greeting at the counter", f"title: {LONG[201]}")
    text = edited(text, "  - id: eye-contact", f"  - id: {LONG[121]}")
    assert quiz_problems(text) == [
        'quizzes/greeting.yaml:2: "title" is 201 characters long; at most 200 fit',
        'quizzes/greeting.yaml:11: "id" is 121 characters long; at most 120 fit',
    ]


def test_job_role_and_path_texts_longer_than_their_columns_are_refused() -> None:
    text = edited(PATHS, "  - id: wait-staff", f"  - id: {LONG[65]}")
    text = edited(text, "    name: Bank teller", f"    name: {LONG[121]}")
    text = edited(text, "  - id: teller-onboarding", f"  - id: {LONG[121]}")
    text = edited(text, "    title: Teller onboarding", f"    title: {LONG[201]}")
    assert paths_problems(text) == [
        'lessons/paths.yaml:3: "name" is 121 characters long; at most 120 fit',
        'lessons/paths.yaml:4: "id" is 65 characters long; at most 64 fit',
        'lessons/paths.yaml:7: "id" is 121 characters long; at most 120 fit',
        'lessons/paths.yaml:8: "title" is 201 characters long; at most 200 fit',
    ]


@pytest.mark.parametrize("days", [3651, 10_000_000, -1])
def test_due_days_outside_ten_years_is_refused_at_its_line(days: int) -> None:
    text = edited(PATHS, "due_days: 1", f"due_days: {days}")
    assert paths_problems(text) == [
        f"lessons/paths.yaml:12: due_days counts days after the hire date: 0 to 3650 (got {days})"
    ]


@pytest.mark.parametrize("days", [0, 3650])
def test_due_days_from_the_first_day_to_ten_years_is_fine(days: int) -> None:
    assert paths_problems(edited(PATHS, "due_days: 1", f"due_days: {days}")) == []


# --- the library: files checked against each other -----------------------------------------


def test_lesson_naming_an_unknown_quiz_names_the_quiz_line(tmp_path) -> None:
    lesson = edited(LESSON, "quiz: greeting", "quiz: greetings")
    assert library_problems(tmp_path, {LESSON_PATH: lesson}) == [
        'lessons/greeting.md:7: unknown quiz "greetings" '
        "(no quizzes/greetings.yaml or quizzes/greetings.gift)"
    ]


def test_lesson_id_must_match_its_file_name(tmp_path) -> None:
    lesson = edited(LESSON, "id: greeting\n", "id: greeting-at-counter\n")
    assert library_problems(tmp_path, {LESSON_PATH: lesson}) == [
        'lessons/greeting.md:2: lesson id "greeting-at-counter" must match its file name'
    ]


def test_duplicate_quiz_id_in_yaml_and_gift(tmp_path) -> None:
    gift = "::first-words:: What do you say first? {=Good morning ~Next!}\n"
    assert library_problems(tmp_path, {"quizzes/greeting.gift": gift}) == [
        'quizzes/greeting.yaml:1: quiz id "greeting" is already used by quizzes/greeting.gift'
    ]


def test_path_naming_an_unknown_lesson(tmp_path) -> None:
    paths = PATHS + "      - lesson: greeting-by-phone\n        due_days: 2\n"
    assert library_problems(tmp_path, {PATHS_PATH: paths}) == [
        'lessons/paths.yaml:13: path "teller-onboarding": unknown lesson "greeting-by-phone"'
    ]


def test_path_lesson_not_written_for_the_paths_role(tmp_path) -> None:
    paths = PATHS + WAIT_STAFF_PATH
    assert library_problems(tmp_path, {PATHS_PATH: paths}) == [
        'lessons/paths.yaml:17: path "wait-staff-onboarding": lesson "greeting" is not written '
        'for "wait-staff" (its roles: teller)'
    ]


def test_path_lesson_written_for_several_roles_is_fine(tmp_path) -> None:
    lesson = edited(LESSON, "roles: [teller]", "roles: [teller, wait-staff]")
    files = {LESSON_PATH: lesson, PATHS_PATH: PATHS + WAIT_STAFF_PATH}
    assert library_problems(tmp_path, files) == []


def test_lesson_naming_an_unknown_job_role(tmp_path) -> None:
    lesson = edited(LESSON, "roles: [teller]", "roles: [teller, chef]")
    assert library_problems(tmp_path, {LESSON_PATH: lesson}) == [
        'lessons/greeting.md:5: unknown job role "chef" (known: teller, wait-staff)'
    ]


def test_gift_file_with_an_unclosed_brace_is_reported_with_its_line(tmp_path) -> None:
    files = {QUIZ_PATH: None, "quizzes/greeting.gift": GIFT_WITH_UNCLOSED_BRACE}
    # The lesson naming the quiz is not also reported: the quiz file exists, it is broken.
    assert library_problems(tmp_path, files) == [
        'quizzes/greeting.gift:3: unclosed "{": the answer block opened here is never closed'
    ]


def test_non_utf8_quiz_file_names_the_line_of_the_byte(tmp_path) -> None:
    latin1 = QUIZ.replace("Greeting at the counter", "Caf\u00e9 greeting").encode("latin-1")
    assert library_problems(tmp_path, {QUIZ_PATH: latin1}) == [
        "quizzes/greeting.yaml:2: not UTF-8 text (byte 0xE9); save the file as UTF-8"
    ]


def test_non_utf8_lesson_file_names_the_line_of_the_byte(tmp_path) -> None:
    latin1 = LESSON.replace("Ama has", "Ama, n\u00e9e Owusu, has").encode("latin-1")
    # The path naming the lesson is not also reported: the lesson file exists, it is broken.
    assert library_problems(tmp_path, {LESSON_PATH: latin1}) == [
        "lessons/greeting.md:20: not UTF-8 text (byte 0xE9); save the file as UTF-8"
    ]


def test_lesson_with_a_broken_front_matter_is_not_also_an_unknown_lesson(tmp_path) -> None:
    lesson = edited(LESSON, "minutes: 3", "minutes: 10")
    assert library_problems(tmp_path, {LESSON_PATH: lesson}) == [
        "lessons/greeting.md:6: a lesson takes at most 5 minutes (got 10)"
    ]


BROKEN_IN_THREE_FILES = {
    LESSON_PATH: edited(LESSON, "minutes: 3", "minutes: 8"),
    QUIZ_PATH: edited(QUIZ, "id: what-helps", "id: first-words"),
    PATHS_PATH: PATHS + "      - lesson: greeting-by-phone\n        due_days: 2\n",
}
BROKEN_IN_THREE_FILES_PROBLEMS = [
    "lessons/greeting.md:6: a lesson takes at most 5 minutes (got 8)",
    'lessons/paths.yaml:13: path "teller-onboarding": unknown lesson "greeting-by-phone"',
    'quizzes/greeting.yaml:15: item id "first-words" is used twice in this quiz',
]


def test_problems_from_several_files_are_all_reported_in_one_pass(tmp_path) -> None:
    assert library_problems(tmp_path, BROKEN_IN_THREE_FILES) == BROKEN_IN_THREE_FILES_PROBLEMS


# --- flask content check --------------------------------------------------------------------


@pytest.fixture
def check(tmp_path, request):
    """Run `flask content check` on a library written under tmp_path/content."""

    def run(files: dict[str, str | bytes | None] | None = None):
        root = write_library(tmp_path / "content", files)
        app = make_app(tmp_path, "sqlite", request, CONTENT_DIR=str(root))
        return app.test_cli_runner().invoke(args=["content", "check"])

    return run


def test_check_prints_every_problem_and_fails(check) -> None:
    result = check(BROKEN_IN_THREE_FILES)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines == [*BROKEN_IN_THREE_FILES_PROBLEMS, "3 problem(s) found."]
    assert "OK" not in result.output


def test_check_fails_on_a_single_broken_gift_file(check) -> None:
    result = check({QUIZ_PATH: None, "quizzes/greeting.gift": GIFT_WITH_UNCLOSED_BRACE})
    assert result.exit_code == 1
    assert (
        'quizzes/greeting.gift:3: unclosed "{": the answer block opened here is never closed'
        in result.output.splitlines()
    )


def test_check_passes_a_valid_library(check) -> None:
    result = check()
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "OK: 1 lessons, 1 quizzes (3 items), 0 conversations, 1 paths."


def test_check_passes_the_starter_library(runner) -> None:
    result = runner.invoke(args=["content", "check"])
    assert result.exit_code == 0, result.output
    # Sources only: a translation (`<id>.es.md`) is no lesson of its own.
    lessons = len([f for f in (ROOT / "lessons").glob("*.md") if "." not in f.stem])
    quizzes = len(
        [
            f
            for f in (ROOT / "quizzes").iterdir()
            if f.suffix in {".yaml", ".gift"} and "." not in f.stem
        ]
    )
    assert result.output.startswith(f"OK: {lessons} lessons, {quizzes} quizzes (")
    assert "problem" not in result.output
