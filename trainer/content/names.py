"""Skills and job roles as people read them, in the language of the page or mail being written.

Lessons, conversations, checklists and review cards name a skill by its key
("first-impression"), people and paths a job role by its row. Their names come from the
library (`skills:` and `roles:` in `lessons/paths.yaml`, translated in
`lessons/paths.<language>.yaml`), synced into the `skills` and `job_roles` tables. Each
process keeps them in memory beside its live lessons (`trainer.content.live`) until the
library's version moves on, so naming a skill costs no statement of its own.

The language is the one the words around the name are written in: the reader's own on their
pages (Flask-Babel's locale), the recipient's in a mail written inside `speaking(person)`. A
skill the library gives no name is named after its key ("first impression" -> "First
impression"); questions whose skill is unknown are "General", translated like any interface
word.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import literal, select, union_all
from sqlalchemy.orm import Session

from trainer.languages import SOURCE_LANGUAGE, current_language
from trainer.languages import gettext as _
from trainer.models import JobRole, Skill

NO_SKILL = "general"  # the skill of a question no lesson or conversation gives one

# One statement for both: (kind, key, name, translations).
_NAMES = union_all(
    select(literal("skill"), Skill.key, Skill.name, Skill.translations).where(
        Skill.retired.is_(False)
    ),
    select(literal("role"), JobRole.key, JobRole.name, JobRole.translations),
)


@dataclass(frozen=True)
class Names:
    """The library's names by key, each {language: name} with the English under "en"."""

    skills: dict[str, dict[str, str]] = field(default_factory=dict)
    roles: dict[str, dict[str, str]] = field(default_factory=dict)


def load_names(session: Session) -> Names:
    """Every live skill's name and every job role's, in each language they are written in."""
    names = Names()
    for kind, key, name, translations in session.execute(_NAMES):
        target = names.skills if kind == "skill" else names.roles
        target[key] = _in_each_language(name, translations)
    return names


def _in_each_language(name: str, translations: dict | None) -> dict[str, str]:
    found = {SOURCE_LANGUAGE: name}
    for language, words in (translations or {}).items():
        if isinstance(words, dict) and words.get("name"):
            found[language] = words["name"]
    return found


def library_names() -> Names:
    """This process's names as of the library's version (none outside an app)."""
    if not has_app_context() or "trainer.live_lessons" not in current_app.extensions:
        return Names()
    from trainer.extensions import db

    return current_app.extensions["trainer.live_lessons"].names(db.session)


def _language(language: str | None) -> str:
    return language or (current_language() if has_app_context() else SOURCE_LANGUAGE)


def named_after(key: str) -> str:
    """A name made from a key: "first-impression" -> "First impression"."""
    return key.replace("-", " ").capitalize()


def skill_name(key: str | None, language: str | None = None) -> str:
    """The skill `key` as a reader of `language` (by default, the page's or mail's) reads it."""
    key = key or NO_SKILL
    language = _language(language)
    names = library_names().skills.get(key)
    if names:
        return names.get(language) or names[SOURCE_LANGUAGE]
    if key == NO_SKILL:
        return _("General")
    return named_after(key)


def role_name(role: Any, language: str | None = None) -> str:
    """A job role (its row, or its key) as a reader of `language` reads it; "" for None."""
    if role is None or role == "":
        return ""
    language = _language(language)
    if isinstance(role, str):
        names = library_names().roles.get(role)
        if names:
            return names.get(language) or names[SOURCE_LANGUAGE]
        return named_after(role)
    words = (getattr(role, "translations", None) or {}).get(language) or {}
    return words.get("name") or role.name


def role_names(keys, language: str | None = None) -> list[str]:
    """Several job roles' names, in the order of `keys`."""
    return [role_name(key, language) for key in keys]
