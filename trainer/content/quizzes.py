"""YAML quiz files (see docs/authoring.md); GIFT files are read by `gift.py`."""

from __future__ import annotations

from trainer.content import yamlines
from trainer.content.fields import Fields
from trainer.content.specs import (
    ITEM_TYPES,
    MAX_TITLE_LENGTH,
    TEXT_FORMATS,
    ChoiceSpec,
    ItemSpec,
    Problem,
    QuizSpec,
)
from trainer.content.yamlines import LineDict

QUIZ_FIELDS = {"id", "title", "items"}
ITEM_FIELDS = {"id", "type", "prompt", "choices", "answer", "explanation", "format"}
CHOICE_FIELDS = {"text", "correct", "feedback"}


def parse_quiz_yaml(text: str, path: str) -> tuple[QuizSpec | None, list[Problem]]:
    problems: list[Problem] = []
    try:
        data = yamlines.load(text.lstrip("\ufeff"))
    except yamlines.YamlError as exc:
        return None, [Problem(path, exc.line, exc.message)]
    if not isinstance(data, LineDict):
        return None, [Problem(path, 1, "a quiz file is a mapping with id, title and items")]

    fields = Fields(data, path, problems, "quiz")
    fields.unknown(QUIZ_FIELDS)
    quiz_id = fields.slug("id")
    title = fields.text("title", max_length=MAX_TITLE_LENGTH)
    entries = fields.mappings("items")
    if "items" in data and not entries and not problems:
        fields.problem(fields.line("items"), "a quiz needs at least one item")

    items: list[ItemSpec] = []
    seen: dict[str, int] = {}
    for entry in entries:
        item = _item(Fields(entry, path, problems, "item"))
        if item is None:
            continue
        if item.id in seen:
            problems.append(
                Problem(path, item.line, f'item id "{item.id}" is used twice in this quiz')
            )
        seen[item.id] = item.line
        items.append(item)
    if problems:
        return None, problems
    return QuizSpec(id=quiz_id, title=title, items=items, path=path, line=1), problems


def _item(f: Fields) -> ItemSpec | None:
    f.unknown(ITEM_FIELDS)
    item_id = f.slug("id")
    item_type = f.text("type")
    prompt = f.text("prompt")
    explanation = f.text("explanation", required=False)
    text_format = f.text("format", required=False) or "markdown"
    if text_format not in TEXT_FORMATS:
        f.problem(
            f.line("format"), f'unknown format "{text_format}" (use {", ".join(TEXT_FORMATS)})'
        )
    if item_type and item_type not in ITEM_TYPES:
        f.problem(
            f.line("type"),
            f'unknown item type "{item_type}" (use {", ".join(ITEM_TYPES)})',
        )
        return None

    if item_type == "truefalse":
        if "choices" in f.data:
            f.problem(f.line("choices"), "a truefalse item takes an answer, not choices")
        answer = f.boolean("answer")
        if answer is None:
            return None
        choices = [
            ChoiceSpec("True", 1.0 if answer else 0.0),
            ChoiceSpec("False", 0.0 if answer else 1.0),
        ]
    else:
        if "answer" in f.data:
            f.problem(
                f.line("answer"),
                f'a {item_type or "choice"} item marks choices correct, not "answer"',
            )
        choices = []
        for entry in f.mappings("choices"):
            c = Fields(entry, f.path, f.problems, "choice")
            c.unknown(CHOICE_FIELDS)
            correct = c.boolean("correct", required=False) or False
            choices.append(
                ChoiceSpec(
                    c.text("text"), 1.0 if correct else 0.0, c.text("feedback", required=False)
                )
            )
        if not _check_choices(f, item_type, choices):
            return None
    return ItemSpec(
        id=item_id,
        type=item_type,
        prompt=prompt,
        choices=choices,
        explanation=explanation,
        text_format=text_format,
        line=f.data.line,
    )


def _check_choices(f: Fields, item_type: str, choices: list[ChoiceSpec]) -> bool:
    line = f.line("choices")
    right = [c for c in choices if c.correct]
    if "choices" in f.data and len(choices) < 2:
        f.problem(line, "an item needs at least two choices")
        return False
    if choices and not right:
        f.problem(line, 'this item has no right answer: mark one choice "correct: true"')
        return False
    if item_type == "single" and len(right) > 1:
        f.problem(line, 'a single item has exactly one right choice; use type "multiple"')
        return False
    if item_type == "multiple":
        if len(right) == len(choices):
            f.problem(line, "a multiple item needs at least one wrong choice")
            return False
        # Right choices share the credit; each wrong one takes a share away.
        for choice in choices:
            choice.weight = 1 / len(right) if choice.correct else -1 / len(right)
    texts = [c.text for c in choices]
    if len(set(texts)) != len(texts):
        f.problem(line, "two choices have the same text")
        return False
    return True
