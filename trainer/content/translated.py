"""The library as a learner reads it: each row's words in the learner's language, over the
same rows.

A translation is only words: `shown(row, language)` lays the words synced from a translation
file over a lesson, role-play, quiz item or conversation, and leaves everything else (ids,
weights, which choices are right, the graph of a conversation) to the row. Answers, review cards
and history point at the rows, so they are shared by every language. Only templates get these
views; services keep working on the rows.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from trainer.content.specs import LANGUAGES
from trainer.languages import language_for

SOURCE_LANGUAGE = "en"
_CHOICE_WORDS = ("text", "feedback", "format", "feedback_format")


def language_of(user: Any) -> str:
    """The language `user` reads lessons in: their own, else the DEFAULT_LANGUAGE setting."""
    return language_for(user)


class Shown:
    """`row` with the words of one translation over it (`words`, field -> text)."""

    def __init__(self, row: Any, words: dict[str, Any], language: str, wanted: str) -> None:
        self._row = row
        self._words = words
        self.shown_language = language  # the language of the words on the page
        # The learner's language when this row has no translation into it; else "".
        self.missing_language = LANGUAGES.get(wanted, "") if language != wanted else ""

    def __getattr__(self, name: str) -> Any:
        words = self.__dict__.get("_words", {})
        if name in words:
            return words[name]
        return getattr(self.__dict__["_row"], name)

    @property
    def row(self) -> Any:
        return self._row


def shown(row: Any, language: str) -> Shown | None:
    """`row` as a learner reading `language` sees it; None stays None."""
    if row is None:
        return None
    words = (getattr(row, "translations", None) or {}).get(language)
    if language == SOURCE_LANGUAGE or not words:
        return Shown(row, {}, SOURCE_LANGUAGE, language)
    if hasattr(row, "choices") and isinstance(row.choices, list):
        words = _item_words(row, words)
    return Shown(row, words, language, language)


def _item_words(item: Any, words: dict[str, Any]) -> dict[str, Any]:
    """A quiz item's words with its choices merged: the translation's words, the row's weights.

    Each choice states its formats, so the row's methods read the translation's, not its own.
    """
    text_format = words.get("text_format") or item.text_format
    choices = []
    translated = words.get("choices") or []
    for index, choice in enumerate(item.choices):
        merged = {key: value for key, value in choice.items() if key not in _CHOICE_WORDS}
        theirs = translated[index] if index < len(translated) else {}
        merged["text"] = theirs.get("text", choice["text"])
        merged["feedback"] = theirs.get("feedback", choice.get("feedback", ""))
        merged["format"] = theirs.get("format") or text_format
        merged["feedback_format"] = theirs.get("feedback_format") or text_format
        choices.append(merged)
    explanation_format = words.get("explanation_format") or text_format
    return {
        **words,
        "text_format": text_format,
        "choices": choices,
        "explanation_text_format": explanation_format,
        "right_choices": [choice for choice in choices if item.is_right(choice)],
    }


def shown_node(conversation: Any, key: str) -> dict | None:
    """A conversation's node with its words in the language `conversation` is shown in."""
    node = conversation.row.node(key) if isinstance(conversation, Shown) else conversation.node(key)
    if node is None or not isinstance(conversation, Shown):
        return node
    words = (conversation._words.get("nodes") or {}).get(key)
    if not words:
        return node
    merged = {**node, **{k: v for k, v in words.items() if k != "choices"}}
    if "choices" in node:
        theirs = words.get("choices") or []
        merged["choices"] = [
            {**choice, **(theirs[i] if i < len(theirs) else {})}
            for i, choice in enumerate(node["choices"])
        ]
    return merged


def shown_position(position: Any, conversation: Shown) -> Any:
    """A conversation `Position` with its node and last turn in the conversation's words."""
    node = shown_node(conversation, position.key) or position.node
    last = shown_turns([position.last], conversation)[0] if position.last else None
    return replace(position, node=node, last=last)


def shown_turns(turns: list[Any], conversation: Shown) -> list[Any]:
    """Conversation `Turn`s in the conversation's words; the line said is found by its text."""
    result = []
    for turn in turns:
        source = conversation.row.node(turn.node) or {}
        node = shown_node(conversation, turn.node) or {}
        lines, words = source.get("choices") or [], node.get("choices") or []
        said = next(
            (words[i]["say"] for i, line in enumerate(lines) if line["say"] == turn.said), turn.said
        )
        better = [words[lines.index(line)] for line in turn.better if line in lines]
        result.append(
            replace(
                turn,
                customer=node.get("customer", turn.customer),
                cue=node.get("cue", turn.cue),
                said=said,
                feedback=next(
                    (
                        words[i]["feedback"]
                        for i, line in enumerate(lines)
                        if line["say"] == turn.said
                    ),
                    turn.feedback,
                ),
                better=better or turn.better,
            )
        )
    return result
