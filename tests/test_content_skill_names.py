"""Skills have names in the content: the `skills:` list of `lessons/paths.yaml`, translated in
`lessons/paths.<language>.yaml`. `content check` holds both to the usual rules and reports each
fault as `path:line: message`; a skill without a name still works, named after its id."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import make_app
from tests.test_content_check import LONG, PATHS, edited, write_library
from trainer.content import specs
from trainer.content.library import load_library
from trainer.content.paths import read_paths
from trainer.content.translations import source_hash
from trainer.models import Skill

PATHS_PATH = "lessons/paths.yaml"
PATHS_ES = "lessons/paths.es.yaml"

SKILLS = """\
skills:
  - id: first-impression
    name: First impression
  - id: phone-greeting
    name: Phone greeting
"""
NAMED = SKILLS + PATHS  # the small library's lesson is on first-impression

SPANISH = """\
skills:
  - id: first-impression
    name: Primera impresión
  - id: phone-greeting
    name: Atender el teléfono
roles:
  - id: teller
    name: Cajero o cajera de banco
  - id: wait-staff
    name: Camarero o camarera
paths:
  - id: teller-onboarding
    title: Primeros pasos en la ventanilla
    role: teller
    lessons:
      - lesson: greeting
        due_days: 1
"""


def problems_of(text: str) -> list[str]:
    return [str(p) for p in sorted(read_paths(text, PATHS_PATH)[1])]


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.split("\n"), start=1) if needle in line)


def spanish(text: str = SPANISH, source: str = NAMED) -> str:
    return f"source: {source_hash(source)}\n{text}"


# -- the source ----------------------------------------------------------------------------------


def test_skills_are_read_with_their_names_and_lines():
    spec, problems = read_paths(NAMED, PATHS_PATH)
    assert problems == []
    assert {key: (s.name, s.line) for key, s in spec.skills.items()} == {
        "first-impression": ("First impression", 2),
        "phone-greeting": ("Phone greeting", 4),
    }
    assert spec.skills_line == 1
    assert set(spec.roles) == {"teller", "wait-staff"}  # the rest reads as before


def test_a_paths_file_without_skills_is_still_good():
    spec, problems = read_paths(PATHS, PATHS_PATH)
    assert problems == [] and spec.skills == {}


def test_a_skill_listed_twice_is_refused_at_its_second_entry():
    again = "  - id: first-impression\n    name: Again\n"
    text = NAMED.replace("  - id: phone-greeting\n", again + "  - id: phone-greeting\n")
    line = line_of(text, "name: Again") - 1
    assert problems_of(text) == [f'{PATHS_PATH}:{line}: skill "first-impression" is listed twice']


def test_a_skill_without_a_name_or_an_id_is_refused():
    text = edited(NAMED, "    name: Phone greeting\n", "")
    assert problems_of(text) == [f'{PATHS_PATH}:4: skill has no "name"']
    text = edited(NAMED, "  - id: phone-greeting\n", "  - name: Phone greeting\n").replace(
        "    name: Phone greeting\n", "", 1
    )
    assert problems_of(text) == [f'{PATHS_PATH}:4: skill has no "id"']


def test_a_skills_bad_id_long_name_and_unknown_field_are_refused():
    text = edited(NAMED, "  - id: phone-greeting", "  - id: Phone Greeting")
    text = edited(text, "    name: First impression", f"    name: {LONG[121]}")
    text = edited(text, "    name: Phone greeting", "    name: Phone greeting\n    colour: red")
    assert problems_of(text) == [
        f'{PATHS_PATH}:3: "name" is 121 characters long; at most 120 fit',
        f'{PATHS_PATH}:4: "id" must be lowercase letters, digits and dashes (got "Phone Greeting")',
        f'{PATHS_PATH}:6: unknown field "colour" (known: id, name)',
    ]


def test_skills_must_be_a_list_of_mappings():
    assert problems_of("skills: first-impression\n" + PATHS) == [
        f'{PATHS_PATH}:1: "skills" must be a list'
    ]
    assert problems_of("skills:\n  - first-impression\n" + PATHS) == [
        f'{PATHS_PATH}:2: each entry of "skills" must be a mapping'
    ]


def test_the_name_columns_hold_what_content_check_lets_through():
    assert Skill.__table__.c.key.type.length == specs.MAX_SKILL_LENGTH
    assert Skill.__table__.c.name.type.length == specs.MAX_SKILL_NAME_LENGTH


# -- lessons whose skill has no name -------------------------------------------------------------


def test_a_lessons_skill_without_a_name_is_a_warning_once_skills_are_named(tmp_path):
    text = NAMED.replace("  - id: first-impression\n    name: First impression\n", "")
    root = write_library(tmp_path, {PATHS_PATH: text})
    library = load_library(root)
    assert library.ok  # it still loads: the skill is named after its id
    assert [str(w) for w in library.warnings] == [
        'lessons/greeting.md:4: skill "first-impression" has no name in lessons/paths.yaml: '
        'add it under "skills" (until then it reads "First impression" in every language)'
    ]


def test_a_library_that_names_no_skill_has_no_such_warning(tmp_path):
    library = load_library(write_library(tmp_path))
    assert library.ok and library.warnings == [] and library.skills == {}


# -- translations ------------------------------------------------------------------------------


def test_a_translation_names_the_skills_in_its_language(tmp_path):
    root = write_library(tmp_path, {PATHS_PATH: NAMED, PATHS_ES: spanish()})
    library = load_library(root)
    assert library.problems == [] and library.warnings == []
    [paths] = [t for t in library.translations if t.kind == "paths"]
    assert paths.current
    assert {key: s.name for key, s in paths.spec.skills.items()} == {
        "first-impression": "Primera impresión",
        "phone-greeting": "Atender el teléfono",
    }


def test_a_translation_naming_a_skill_the_source_lacks_is_refused(tmp_path):
    text = spanish(SPANISH.replace("phone-greeting", "phone-manner"))
    root = write_library(tmp_path, {PATHS_PATH: NAMED, PATHS_ES: text})
    library = load_library(root)
    assert [str(p) for p in library.problems] == [
        f'{PATHS_ES}:{line_of(text, "- id: phone-manner")}: skill "phone-manner" is not in '
        "lessons/paths.yaml: a translation names only the skills listed there"
    ]
    assert library.translations == []


def test_a_skill_listed_twice_in_a_translation_is_refused(tmp_path):
    again = "  - id: first-impression\n    name: Otra\n"
    doubled = spanish(
        SPANISH.replace("  - id: phone-greeting\n", again + "  - id: phone-greeting\n")
    )
    root = write_library(tmp_path, {PATHS_PATH: NAMED, PATHS_ES: doubled})
    line = line_of(doubled, "name: Otra") - 1
    assert [str(p) for p in load_library(root).problems] == [
        f'{PATHS_ES}:{line}: skill "first-impression" is listed twice'
    ]


def test_a_skill_the_translation_leaves_unnamed_is_a_warning(tmp_path, request):
    text = spanish(SPANISH.replace("  - id: phone-greeting\n    name: Atender el teléfono\n", ""))
    root = write_library(tmp_path, {PATHS_PATH: NAMED, PATHS_ES: text})
    library = load_library(root)
    assert library.problems == []
    assert [str(w) for w in library.warnings] == [
        f'{PATHS_ES}:2: skill "phone-greeting" of lessons/paths.yaml has no name here: readers of '
        'Español see "Phone greeting" until it has'
    ]
    assert [t.kind for t in library.translations] == ["paths"]  # the rest of it is used

    app = make_app(tmp_path, "sqlite", request, CONTENT_DIR=str(root))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["content", "check"])
    assert result.exit_code == 0
    assert f'{PATHS_ES}:2: warning: skill "phone-greeting" of lessons/paths.yaml' in result.output
    assert runner.invoke(args=["content", "check", "--strict"]).exit_code == 1


def test_adding_a_skill_to_the_source_puts_the_translation_behind(tmp_path):
    root = write_library(tmp_path, {PATHS_PATH: NAMED, PATHS_ES: spanish()})
    grown = NAMED.replace("roles:", "  - id: red-carpet\n    name: Red carpet treatment\nroles:", 1)
    (root / PATHS_PATH).write_text(grown, encoding="utf-8")
    library = load_library(root)
    assert library.problems == []
    messages = [w.message for w in library.warnings]
    assert messages[0].startswith("lessons/paths.yaml changed since this translation was made")
    assert 'skill "red-carpet" of lessons/paths.yaml has no name here' in messages[1]


@pytest.mark.parametrize("language", ["es", "pl"])
def test_the_starter_library_names_every_skill_in_each_language(language):
    from trainer import ROOT

    library = load_library(Path(ROOT))
    assert library.problems == [] and library.warnings == []
    used = {s.skill for s in (*library.lessons.values(), *library.conversations.values())}
    assert used <= set(library.skills)
    [paths] = [t for t in library.translations if t.kind == "paths" and t.language == language]
    assert paths.current
    assert set(paths.spec.skills) == set(library.skills)
    assert set(paths.spec.roles) == set(library.roles)
    for key, skill in paths.spec.skills.items():
        assert skill.name and skill.name != library.skills[key].name, key
