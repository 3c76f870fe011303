"""Lesson files: Markdown with YAML front matter (see docs/authoring.md)."""

from __future__ import annotations

import re

from trainer.content import yamlines
from trainer.content.characters import normalise_newlines
from trainer.content.fields import Fields
from trainer.content.specs import (
    MAX_LESSON_MINUTES,
    MAX_ROLE_ID_LENGTH,
    MAX_SKILL_LENGTH,
    MAX_TITLE_LENGTH,
    LessonSpec,
    Problem,
    RolePlaySpec,
)
from trainer.content.yamlines import LineDict

LESSON_FIELDS = {"id", "title", "skill", "roles", "minutes", "quiz", "roleplay", "conversation"}
ROLEPLAY_FIELDS = {"id", "situation", "customer", "rubric", "model_answer"}
RUBRIC_MIN, RUBRIC_MAX = 3, 6
SCENARIO_HEADING = re.compile(r"^##\s+the scenario\b", re.IGNORECASE)
SECTION_HEADING = re.compile(r"^##\s+\S")


def parse_lesson(
    text: str, path: str, scenario_heading: str = ""
) -> tuple[LessonSpec | None, list[Problem]]:
    """The lesson in `text`; a translation may head its scenario `scenario_heading`, in its
    own language, instead of "The scenario"."""
    problems: list[Problem] = []
    text = normalise_newlines(text.lstrip("\ufeff"))
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return None, [Problem(path, 1, 'a lesson starts with "---" and its front matter')]
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        return None, [Problem(path, 1, 'front matter opened with "---" is never closed')]

    try:
        data = yamlines.load("\n".join(lines[1:end]), first_line=2)
    except yamlines.YamlError as exc:
        return None, [Problem(path, exc.line, exc.message)]
    if not isinstance(data, LineDict):
        return None, [Problem(path, 2, "front matter must be a mapping of fields")]

    fields = Fields(data, path, problems, "lesson")
    fields.unknown(LESSON_FIELDS)
    lesson_id = fields.slug("id")
    title = fields.text("title", max_length=MAX_TITLE_LENGTH)
    skill = fields.slug("skill", max_length=MAX_SKILL_LENGTH)
    roles = fields.strings("roles", max_length=MAX_ROLE_ID_LENGTH)
    if "roles" in data and not roles:
        fields.problem(fields.line("roles"), "a lesson needs at least one job role")
    minutes = fields.integer("minutes")
    if minutes is not None and not 1 <= minutes <= MAX_LESSON_MINUTES:
        fields.problem(
            fields.line("minutes"),
            f"a lesson takes at most {MAX_LESSON_MINUTES} minutes (got {minutes})",
        )
    quiz = fields.slug("quiz")
    conversation = fields.slug("conversation", required=False)
    roleplays = _roleplays(fields, path, problems)

    scenario, key_points = _split_body(lines, end + 1, path, problems, scenario_heading)
    if problems:
        return None, problems
    spec = LessonSpec(
        id=lesson_id,
        title=title,
        skill=skill,
        roles=roles,
        minutes=minutes or 0,
        quiz=quiz,
        roleplays=roleplays,
        scenario=scenario,
        key_points=key_points,
        path=path,
        line=1,
        field_lines=dict(data.key_lines),
        conversation=conversation,
    )
    return spec, problems


def _roleplays(fields: Fields, path: str, problems: list[Problem]) -> list[RolePlaySpec]:
    entries = fields.mappings("roleplay")
    if "roleplay" in fields.data and not entries and not problems:
        fields.problem(fields.line("roleplay"), "a lesson needs at least one role-play")
    result: list[RolePlaySpec] = []
    seen: set[str] = set()
    for entry in entries:
        rp = Fields(entry, path, problems, "role-play")
        rp.unknown(ROLEPLAY_FIELDS)
        rp_id = rp.slug("id")
        if rp_id in seen:
            rp.problem(rp.line("id"), f'role-play id "{rp_id}" is used twice in this lesson')
        seen.add(rp_id)
        rubric = rp.strings("rubric")
        if "rubric" in entry and not RUBRIC_MIN <= len(rubric) <= RUBRIC_MAX:
            rp.problem(
                rp.line("rubric"),
                f"a rubric lists {RUBRIC_MIN} to {RUBRIC_MAX} observable behaviours "
                f"(got {len(rubric)})",
            )
        result.append(
            RolePlaySpec(
                id=rp_id,
                situation=rp.text("situation"),
                customer=rp.text("customer"),
                rubric=rubric,
                model_answer=rp.text("model_answer"),
                line=entry.line,
            )
        )
    return result


def _split_body(
    lines: list[str], start: int, path: str, problems: list[Problem], own_heading: str = ""
) -> tuple[str, str]:
    """The "## The scenario" section is one screen; every other section is the key points."""
    scenario: list[str] = []
    rest: list[str] = []
    target = rest
    found = False
    own = re.compile(rf"^##\s+{re.escape(own_heading)}\s*$", re.IGNORECASE) if own_heading else None
    for line in lines[start:]:
        if SCENARIO_HEADING.match(line) or (own and own.match(line)):
            found = True
            target = scenario
            continue
        if SECTION_HEADING.match(line):
            target = rest
        target.append(line)
    if not found:
        heading = (
            f'"## {own_heading}" (or "## The scenario")' if own_heading else ('"## The scenario"')
        )
        problems.append(Problem(path, start + 1, f"the lesson body needs a {heading} section"))
    elif not "\n".join(scenario).strip():
        problems.append(Problem(path, start + 1, 'the "## The scenario" section is empty'))
    if found and not "\n".join(rest).strip():
        problems.append(
            Problem(
                path,
                start + 1,
                "after the scenario, the lesson needs its key points"
                ' (e.g. "## What good looks like")',
            )
        )
    return "\n".join(scenario).strip(), "\n".join(rest).strip()
