"""`lessons/paths.yaml`: the skills' names, the job roles and the onboarding path of each."""

from __future__ import annotations

from trainer.content import yamlines
from trainer.content.fields import Fields
from trainer.content.specs import (
    MAX_DUE_DAYS,
    MAX_ROLE_ID_LENGTH,
    MAX_ROLE_NAME_LENGTH,
    MAX_SKILL_LENGTH,
    MAX_SKILL_NAME_LENGTH,
    MAX_TITLE_LENGTH,
    JobRoleSpec,
    PathSpec,
    PathsSpec,
    PathStepSpec,
    Problem,
    SkillSpec,
)
from trainer.content.yamlines import LineDict


def parse_paths(
    text: str, path: str
) -> tuple[dict[str, JobRoleSpec], dict[str, PathSpec], list[Problem]]:
    """The job roles and paths of a paths file, and its problems (see `read_paths`)."""
    spec, problems = read_paths(text, path)
    return spec.roles, spec.paths, problems


def read_paths(text: str, path: str) -> tuple[PathsSpec, list[Problem]]:
    """Everything a paths file says: the skills' names (optional), the job roles and the
    paths, with a problem per fault."""
    problems: list[Problem] = []
    empty = PathsSpec({}, {}, path)
    try:
        data = yamlines.load(text.lstrip("\ufeff"))
    except yamlines.YamlError as exc:
        return empty, [Problem(path, exc.line, exc.message)]
    if not isinstance(data, LineDict):
        message = 'the paths file is a mapping with "skills", "roles" and "paths"'
        return empty, [Problem(path, 1, message)]

    top = Fields(data, path, problems, "paths file")
    top.unknown({"skills", "roles", "paths"})
    skills = _skills(top, path, problems)
    roles: dict[str, JobRoleSpec] = {}
    for entry in top.mappings("roles"):
        f = Fields(entry, path, problems, "job role")
        f.unknown({"id", "name"})
        role = JobRoleSpec(
            f.slug("id", max_length=MAX_ROLE_ID_LENGTH),
            f.text("name", max_length=MAX_ROLE_NAME_LENGTH),
            entry.line,
        )
        if role.id in roles:
            f.problem(entry.line, f'job role "{role.id}" is listed twice')
        roles[role.id] = role

    paths: dict[str, PathSpec] = {}
    for entry in top.mappings("paths"):
        f = Fields(entry, path, problems, "path")
        f.unknown({"id", "title", "role", "lessons"})
        spec = PathSpec(
            f.slug("id"),
            f.text("title", max_length=MAX_TITLE_LENGTH),
            f.slug("role", max_length=MAX_ROLE_ID_LENGTH),
            [],
            entry.line,
        )
        if spec.role and spec.role not in roles:
            f.problem(f.line("role"), f'unknown job role "{spec.role}" (list it under "roles")')
        for step_entry in f.mappings("lessons"):
            s = Fields(step_entry, path, problems, "path lesson")
            s.unknown({"lesson", "due_days"})
            due = s.integer("due_days")
            if due is not None and not 0 <= due <= MAX_DUE_DAYS:
                s.problem(
                    s.line("due_days"),
                    f"due_days counts days after the hire date: 0 to {MAX_DUE_DAYS} (got {due})",
                )
            spec.steps.append(PathStepSpec(s.slug("lesson"), due or 0, step_entry.line))
        if "lessons" in entry and not spec.steps:
            f.problem(f.line("lessons"), "a path needs at least one lesson")
        if spec.id in paths:
            f.problem(entry.line, f'path id "{spec.id}" is used twice')
        paths[spec.id] = spec
    skills_line = top.line("skills") if "skills" in data else 1
    return PathsSpec(roles, paths, path, skills, skills_line), problems


def _skills(top: Fields, path: str, problems: list[Problem]) -> dict[str, SkillSpec]:
    """The `skills:` list: each skill's id (as lessons and conversations name it) and the name
    people read. A skill without an entry is still a skill, named after its id."""
    skills: dict[str, SkillSpec] = {}
    for entry in top.mappings("skills", required=False):
        f = Fields(entry, path, problems, "skill")
        f.unknown({"id", "name"})
        skill = SkillSpec(
            f.slug("id", max_length=MAX_SKILL_LENGTH),
            f.text("name", max_length=MAX_SKILL_NAME_LENGTH),
            entry.line,
        )
        if skill.id in skills:
            f.problem(entry.line, f'skill "{skill.id}" is listed twice')
            continue
        if skill.id:
            skills[skill.id] = skill
    return skills
