"""Translations beside their sources (see docs/authoring.md).

`lessons/<id>.es.md`, `quizzes/<id>.es.yaml` (or `.es.gift`) and
`lessons/conversations/<id>.es.yaml` (or `.es.twee`) are read by the same parsers as their
English sources, then held to them: a translation changes the words a learner reads and nothing
that grades or steers (item ids, the choices and which are right, role-play ids and the length
of their rubrics, a conversation's nodes, scores, next nodes and endings). Such a change is a
problem, and nothing loads until it is fixed.

Each translation names the version of its source it translates with `source: <hash>` (in a GIFT
file, a `// source: <hash>` comment). A translation without one, or behind its source, is a
warning that names both files and gives the hash to paste; `content check --strict` fails on it.
"""

from __future__ import annotations

import hashlib
import re

from trainer.content.conversations import parse_conversation_yaml
from trainer.content.files import LibraryFiles
from trainer.content.gift import parse_gift
from trainer.content.lessons import parse_lesson
from trainer.content.paths import read_paths
from trainer.content.quizzes import parse_quiz_yaml
from trainer.content.specs import (
    LANGUAGES,
    ConversationSpec,
    LessonSpec,
    Library,
    PathsSpec,
    Problem,
    QuizSpec,
    TranslationSpec,
)
from trainer.content.twee import parse_twee

HASH_LENGTH = 12
# What a translated lesson may call its scenario section instead of "The scenario".
SCENARIO_HEADINGS = {"es": "La situación", "pl": "Sytuacja"}
_FRONT_SOURCE = re.compile(r"^source:\s*(.*?)\s*$")
_GIFT_SOURCE = re.compile(r"^\s*//\s*source:\s*(.*?)\s*$")
_TWEE_HEADER = re.compile(r"^::")
_TWEE_SETTINGS = re.compile(r"^::\s*Conversation\s*(?:[\[{]|$)")


def source_hash(text: str) -> str:
    """The hash a translation records of the source text it translates."""
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:HASH_LENGTH]


def take_source(text: str, suffix: str) -> tuple[str, str, int]:
    """(text without its `source:` line, the hash written there or "", its line).

    The line is blanked rather than removed, so the parsers report every other line where it is.
    """
    lines = text.split("\n")
    if suffix == ".gift":
        for number, line in enumerate(lines, start=1):
            if match := _GIFT_SOURCE.match(line):
                return text, _unquoted(match.group(1)), number
        return text, "", 1
    if suffix == ".md":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), 0)
        candidates = range(1, end) if lines and lines[0].strip() == "---" else range(0)
    elif suffix == ".twee":
        candidates = _twee_settings_lines(lines)
    else:  # YAML: a top-level key starts at the margin
        candidates = range(len(lines))
    for index in candidates:
        if match := _FRONT_SOURCE.match(lines[index]):
            lines[index] = ""
            return "\n".join(lines), _unquoted(match.group(1)), index + 1
    return text, "", 2 if suffix == ".md" else 1


def _twee_settings_lines(lines: list[str]) -> list[int]:
    inside, found = False, []
    for index, line in enumerate(lines):
        if _TWEE_HEADER.match(line):
            inside = bool(_TWEE_SETTINGS.match(line))
        elif inside:
            found.append(index)
    return found


def _unquoted(value: str) -> str:
    return value.strip().strip("'\"").strip()


def load_translations(
    files: LibraryFiles,
    library: Library,
    hashes: dict[str, str],
    broken: dict[str, set[str]],
) -> None:
    """Read every translation under the library, hold each to its source, and add the good ones
    to `library.translations`. `hashes` maps each source path read to its hash; `broken` lists,
    per kind, the ids whose source files could not be loaded (their problems are reported)."""
    folders = (
        ("lesson", "lessons", {".md"}, library.lessons),
        ("quiz", "quizzes", {".yaml", ".yml", ".gift"}, library.quizzes),
        (
            "conversation",
            "lessons/conversations",
            {".yaml", ".yml", ".twee"},
            library.conversations,
        ),
    )
    seen: dict[tuple[str, str, str], str] = {}
    for kind, folder, suffixes, sources in folders:
        for file, key, language in files.translations(folder, suffixes):
            rel = files.rel(file)
            if key in broken[kind]:
                continue  # its source's problems are reported; it is checked once they are fixed
            source = sources.get(key)
            if source is None:
                library.problems.append(
                    Problem(rel, 1, f'a translation of "{key}", but there is no {kind} "{key}"')
                )
                continue
            first = seen.get((kind, key, language))
            if first is not None:
                library.problems.append(
                    Problem(rel, 1, f"{first} already translates {source.path} into {language}")
                )
                continue
            seen[(kind, key, language)] = rel
            text = files.read(file)
            if text is None:
                continue
            translation = _parse(kind, text, rel, key, language, file.suffix, library.problems)
            if translation is None:
                continue
            current = hashes.get(source.path, "")
            found = compare(source, translation.spec)
            if found and _behind(translation, current):
                _left_out(library, translation, source.path, current, file.suffix, found)
                continue
            if found:
                library.problems.extend(found)
                continue
            _check_source(library, translation, source.path, current, file.suffix)
            library.translations.append(translation)


def _behind(translation: TranslationSpec, current: str) -> bool:
    """Whether `translation` names an older version of its source than the one there now."""
    return bool(translation.source) and translation.source != current


def _left_out(
    library: Library,
    translation: TranslationSpec,
    source: str,
    current: str,
    suffix: str,
    differences: list[Problem],
) -> None:
    """A translation of an older source that no longer fits it is left out, with warnings: the
    source's author is not held up, and learners read the source until it is brought up to
    date."""
    library.warnings.append(
        Problem(
            translation.path,
            translation.source_line,
            f"{source} changed since this translation was made (source {translation.source}, "
            f"now {current}) and it no longer fits: learners read {source} until the "
            f'translation is brought up to date and says "{_source_line(suffix, current)}"',
        )
    )
    library.warnings.extend(differences)


def load_paths_translations(
    files: LibraryFiles, library: Library, source: str, hashes: dict[str, str]
) -> None:
    """Read `lessons/paths.<language>.yaml` beside the paths file `source`: the skill names,
    job role names and path titles a reader sees in their language, over the same skills,
    roles, paths and steps."""
    if source not in hashes:
        return  # no paths file, or a broken one whose problems are reported
    stem = source.removesuffix(".yaml")
    theirs = PathsSpec(library.roles, library.paths, source, library.skills)
    for language in LANGUAGES:
        rel = f"{stem}.{language}.yaml"
        file = files.root / rel
        if not file.exists() and not file.is_symlink():
            continue
        text = files.read(file)
        if text is None:
            continue
        text, written, line = take_source(text, ".yaml")
        ours, found = read_paths(text, rel)
        if found:
            library.problems.extend(found)
            continue
        translation = TranslationSpec("paths", "paths", language, rel, ours, written, line)
        found = _compare_paths(theirs, ours)
        if found and _behind(translation, hashes[source]):
            _left_out(library, translation, source, hashes[source], ".yaml", found)
            continue
        if found:
            library.problems.extend(found)
            continue
        _check_source(library, translation, source, hashes[source], ".yaml")
        _unnamed_in(library, theirs, ours, language)
        library.translations.append(translation)


def _unnamed_in(library: Library, source: PathsSpec, translation: PathsSpec, language: str) -> None:
    """A warning for each skill of the source the translation gives no name: its readers see
    the English one until it does."""
    for skill in source.skills.values():
        if skill.id not in translation.skills:
            library.warnings.append(
                Problem(
                    translation.path,
                    translation.skills_line,
                    f'skill "{skill.id}" of {source.path} has no name here: readers of '
                    f'{LANGUAGES[language]} see "{skill.name}" until it has',
                )
            )


def _compare_paths(source: PathsSpec, translation: PathsSpec) -> list[Problem]:
    problems: list[Problem] = []
    path = translation.path
    for skill in translation.skills.values():
        if skill.id not in source.skills:
            problems.append(
                Problem(
                    path,
                    skill.line,
                    f'skill "{skill.id}" is not in {source.path}: a translation names only '
                    "the skills listed there",
                )
            )
    if list(source.roles) != list(translation.roles):
        line = next(iter(translation.roles.values())).line if translation.roles else 1
        problems.append(
            Problem(path, line, f"the job roles must be those of {source.path}, in its order")
        )
    for path_id in [p for p in source.paths if p not in translation.paths]:
        problems.append(Problem(path, 1, f'path "{path_id}" of {source.path} is missing'))
    for spec in translation.paths.values():
        original = source.paths.get(spec.id)
        if original is None:
            problems.append(Problem(path, spec.line, f'path "{spec.id}" is not in {source.path}'))
        elif spec.role != original.role or [(s.lesson, s.due_days) for s in spec.steps] != [
            (s.lesson, s.due_days) for s in original.steps
        ]:
            problems.append(
                Problem(
                    path,
                    spec.line,
                    f'path "{spec.id}": its role, lessons and due days must stay as in '
                    f"{source.path}; a translation changes only the titles",
                )
            )
    return problems


def _check_source(
    library: Library, translation: TranslationSpec, source: str, current: str, suffix: str
) -> None:
    """Warn when `translation` names no source hash, or not the hash of `source` now."""
    translation.current = translation.source == current
    if not translation.source:
        library.warnings.append(
            Problem(
                translation.path,
                translation.source_line,
                f"no source hash: once it translates {source} as it is now, "
                f'add "{_source_line(suffix, current)}"',
            )
        )
    elif not translation.current:
        library.warnings.append(
            Problem(
                translation.path,
                translation.source_line,
                f"{source} changed since this translation was made (source "
                f"{translation.source}, now {current}): bring the translation up to "
                f'date, then write "{_source_line(suffix, current)}"',
            )
        )


def _source_line(suffix: str, value: str) -> str:
    return f"// source: {value}" if suffix == ".gift" else f"source: {value}"


def _parse(
    kind: str,
    text: str,
    rel: str,
    key: str,
    language: str,
    suffix: str,
    problems: list[Problem],
) -> TranslationSpec | None:
    text, written, line = take_source(text, suffix)
    spec: LessonSpec | QuizSpec | ConversationSpec | None
    if kind == "lesson":
        spec, found = parse_lesson(text, rel, SCENARIO_HEADINGS.get(language, ""))
    elif kind == "quiz" and suffix == ".gift":
        spec, found = parse_gift(text, rel, key)
    elif kind == "quiz":
        spec, found = parse_quiz_yaml(text, rel)
    elif suffix == ".twee":
        spec, found = parse_twee(text, rel, key)
    else:
        spec, found = parse_conversation_yaml(text, rel)
    problems.extend(found)
    if spec is None or found:
        return None
    if spec.id != key:
        id_line = getattr(spec, "field_lines", {}).get("id", 1)
        problems.append(
            Problem(rel, id_line, f'{kind} id "{spec.id}" must be "{key}", as in its source')
        )
        return None
    return TranslationSpec(kind, key, language, rel, spec, written, line)


def compare(
    source: LessonSpec | QuizSpec | ConversationSpec,
    translation: LessonSpec | QuizSpec | ConversationSpec,
) -> list[Problem]:
    """Every way `translation` differs from `source` in more than its words."""
    if isinstance(source, LessonSpec):
        return _compare_lessons(source, translation)
    if isinstance(source, QuizSpec):
        return _compare_quizzes(source, translation)
    return _compare_conversations(source, translation)


def _same_fields(source, translation, names: tuple[str, ...], problems: list[Problem]) -> None:
    for name in names:
        theirs, ours = getattr(source, name), getattr(translation, name)
        if (sorted(theirs) if isinstance(theirs, list) else theirs) != (
            sorted(ours) if isinstance(ours, list) else ours
        ):
            shown = ", ".join(theirs) if isinstance(theirs, list) else theirs
            problems.append(
                Problem(
                    translation.path,
                    translation.field_lines.get(name, 1),
                    f'"{name}" must stay as in {source.path} ("{shown}"): '
                    "a translation changes only the words",
                )
            )


def _compare_lessons(source: LessonSpec, translation: LessonSpec) -> list[Problem]:
    problems: list[Problem] = []
    _same_fields(
        source, translation, ("skill", "roles", "minutes", "quiz", "conversation"), problems
    )
    theirs = {rp.id: rp for rp in source.roleplays}
    ours = {rp.id: rp for rp in translation.roleplays}
    roleplay_line = translation.field_lines.get("roleplay", 1)
    for rp_id in theirs.keys() - ours.keys():
        problems.append(
            Problem(
                translation.path,
                roleplay_line,
                f'role-play "{rp_id}" of {source.path} is missing: translate every role-play',
            )
        )
    for rp in translation.roleplays:
        original = theirs.get(rp.id)
        if original is None:
            problems.append(
                Problem(
                    translation.path,
                    rp.line,
                    f'role-play "{rp.id}" is not in {source.path}: a translation adds none',
                )
            )
        elif len(rp.rubric) != len(original.rubric):
            problems.append(
                Problem(
                    translation.path,
                    rp.line,
                    f'role-play "{rp.id}": the rubric has {len(rp.rubric)} points and '
                    f"{source.path} has {len(original.rubric)}; translate each, in order",
                )
            )
    return problems


def _compare_quizzes(source: QuizSpec, translation: QuizSpec) -> list[Problem]:
    problems: list[Problem] = []
    path = translation.path
    theirs = {item.id: item for item in source.items}
    ours = {item.id for item in translation.items}
    for item_id in [i.id for i in source.items if i.id not in ours]:
        problems.append(
            Problem(
                path,
                translation.line,
                f'item "{item_id}" of {source.path} is missing: translate every item',
            )
        )
    for item in translation.items:
        original = theirs.get(item.id)
        if original is None:
            problems.append(
                Problem(
                    path,
                    item.line,
                    f'item "{item.id}" is not in {source.path}: a translation adds no items',
                )
            )
            continue
        if item.type != original.type:
            problems.append(
                Problem(
                    path,
                    item.line,
                    f'item "{item.id}" is {item.type} here and {original.type} in {source.path}',
                )
            )
            continue
        if len(item.choices) != len(original.choices):
            problems.append(
                Problem(
                    path,
                    item.line,
                    f'item "{item.id}" has {len(item.choices)} choices here and '
                    f"{len(original.choices)} in {source.path}; translate each, in order",
                )
            )
            continue
        for number, (mine, other) in enumerate(
            zip(item.choices, original.choices, strict=True), start=1
        ):
            if round(mine.weight, 6) != round(other.weight, 6):
                problems.append(
                    Problem(path, item.line, _changed_key(item.id, number, mine, other, source))
                )
                break
    return problems


def _changed_key(item_id: str, number: int, mine, other, source: QuizSpec) -> str:
    def said(choice) -> str:
        if choice.weight > 0:
            return "right" if choice.weight >= 1 else f"right ({choice.weight:.0%})"
        return "wrong" if choice.weight == 0 else f"wrong ({choice.weight:.0%})"

    return (
        f'item "{item_id}" changes the answer key: choice {number} is {said(mine)} here and '
        f"{said(other)} in {source.path}; keep the choices in the same order, right ones right"
    )


def _compare_conversations(
    source: ConversationSpec, translation: ConversationSpec
) -> list[Problem]:
    problems: list[Problem] = []
    path = translation.path
    _same_fields(source, translation, ("skill", "setting", "start"), problems)
    nodes_line = translation.field_lines.get("nodes", 1)
    for node_id in [n for n in source.nodes if n not in translation.nodes]:
        problems.append(Problem(path, nodes_line, f'node "{node_id}" of {source.path} is missing'))
    for node in translation.nodes.values():
        original = source.nodes.get(node.id)
        if original is None:
            problems.append(
                Problem(
                    path,
                    node.line,
                    f'node "{node.id}" is not in {source.path}: a translation adds no nodes',
                )
            )
            continue
        if node.ending != original.ending:
            problems.append(
                Problem(
                    path,
                    node.lines.get("ending", node.line),
                    f'node "{node.id}" ends "{node.ending or "not"}" here and '
                    f'"{original.ending or "not"}" in {source.path}',
                )
            )
            continue
        if len(node.choices) != len(original.choices):
            problems.append(
                Problem(
                    path,
                    node.lines.get("choices", node.line),
                    f'node "{node.id}" has {len(node.choices)} choices here and '
                    f"{len(original.choices)} in {source.path}; translate each, in order",
                )
            )
            continue
        for number, (mine, other) in enumerate(
            zip(node.choices, original.choices, strict=True), start=1
        ):
            if mine.score != other.score:
                problems.append(
                    Problem(
                        path,
                        mine.lines.get("score", mine.line),
                        f'node "{node.id}", choice {number}: score {mine.score} here and '
                        f"{other.score} in {source.path}; keep the choices in the same order",
                    )
                )
            if mine.next != other.next:
                problems.append(
                    Problem(
                        path,
                        mine.lines.get("next", mine.line),
                        f'node "{node.id}", choice {number}: leads to "{mine.next}" here and '
                        f'to "{other.next}" in {source.path}',
                    )
                )
    return problems
