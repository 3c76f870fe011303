"""`lessons/paths.yaml`: the job roles and the onboarding path of each."""

from __future__ import annotations

from trainer.content import yamlines
from trainer.content.fields import Fields
from trainer.content.specs import (
    MAX_DUE_DAYS,
    MAX_ROLE_ID_LENGTH,
    MAX_ROLE_NAME_LENGTH,
    MAX_TITLE_LENGTH,
    JobRoleSpec,
    PathSpec,
    PathStepSpec,
    Problem,
)
from trainer.content.yamlines import LineDict


def parse_paths(
    text: str, path: str
) -> tuple[dict[str, JobRoleSpec], dict[str, PathSpec], list[Problem]]:
    problems: list[Problem] = []
    try:
        data = yamlines.load(text.lstrip("\ufeff"))
    except yamlines.YamlError as exc:
        return {}, {}, [Problem(path, exc.line, exc.message)]
    if not isinstance(data, LineDict):
        return {}, {}, [Problem(path, 1, 'the paths file is a mapping with "roles" and "paths"')]

    top = Fields(data, path, problems, "paths file")
    top.unknown({"roles", "paths"})
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
    return roles, paths, problems
