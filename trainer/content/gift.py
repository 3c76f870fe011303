"""Moodle GIFT quiz files -> `QuizSpec`.

GIFT is Moodle's plain-text question format. The trainer runs three kinds of item (single
choice, multiple answers, true/false), so this parser reads exactly those. Every other GIFT
construct (short answer, matching, numerical, essay, description) is reported as a `Problem`
with its line, never dropped quietly: a question either becomes an item or yields at least one
problem. Bad input never raises; all problems in the file are collected in one pass.

Text formats are read as Moodle writes them: `[html]` after the title sets the question's, and
an answer, a feedback or the general feedback may carry its own (`~[html]...`, `#[plain]...`,
`####[html]...`); without one it is in the question's.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

from trainer.content.fields import too_long
from trainer.content.specs import (
    MAX_ID_LENGTH,
    MAX_TITLE_LENGTH,
    ChoiceSpec,
    ItemSpec,
    Problem,
    QuizSpec,
)

SUPPORTED = "supported types are single choice, multiple answers and true/false"

# Escaped characters become private-use code points while parsing, so they can never be taken
# for syntax; `_unescape` turns them back into the literal characters at the very end.
_ESCAPES = {
    "~": "\ue000",
    "=": "\ue001",
    "#": "\ue002",
    "{": "\ue003",
    "}": "\ue004",
    ":": "\ue005",
    "\\": "\ue006",
    "n": "\ue007",  # `\n` is a newline, the only way to put a blank line inside a question
}
_LITERALS = str.maketrans({code: ("\n" if ch == "n" else ch) for ch, code in _ESCAPES.items()})
# Markdown reads a backslash as an escape itself, so `\\` stays `\\` there to show one backslash.
_MARKDOWN_LITERALS = {**_LITERALS, ord(_ESCAPES["\\"]): "\\\\"}

_FORMATS = {"markdown": "markdown", "html": "html", "plain": "plain", "moodle": "plain"}
_FORMAT_TAG = re.compile(r"\[([A-Za-z]+)\]")
# Moodle 4 writes `// [id:...] [tag:...]` above exported questions: metadata for Moodle's bank,
# in a comment line here. Written into the question text, they are not text either. The
# ::title:: stays the id. Moodle escapes a "]" inside them as "\]".
_MOODLE_MARKERS = re.compile(r"\[(?:id|tag):(?:\\\]|[^\]\n])*\]\s*", re.IGNORECASE)
_TRUE_FALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False}
_WEIGHT = re.compile(r"\s*%([^%\n]*)%")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_CATEGORY = "$CATEGORY:"
_BLANK = "_____"  # where a missing-word question's answer block stood
_TOLERANCE = 0.01  # positive weights of a multiple-answer item must sum to 100% +/- 1%
MAX_ANSWERS = 100


def parse_gift(text: str, path: str, quiz_id: str) -> tuple[QuizSpec, list[Problem]]:
    """Parse one GIFT file; `quiz_id` is the file's stem, `path` is used in problems."""
    parser = _Parser(path)
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    category = ""
    block: list[tuple[int, str]] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        stripped = raw.strip()
        if stripped.startswith("//"):
            continue  # comment lines neither belong to nor end a question
        if not stripped:
            parser.question(block, category)
            block = []
        elif stripped.startswith(_CATEGORY):
            parser.question(block, category)
            block = []
            category = stripped[len(_CATEGORY) :].strip()
            if not category:
                parser.problem(number, f'"{_CATEGORY}" has no category path after it')
            elif len(category) > MAX_TITLE_LENGTH:
                parser.problem(number, too_long("the category path", category, MAX_TITLE_LENGTH))
        else:
            block.append((number, raw))
    parser.question(block, category)

    if not parser.items and not parser.problems:
        parser.problem(1, "the file has no questions")
    quiz = QuizSpec(
        id=quiz_id,
        title=_category_title(category) or _title_from_id(quiz_id),
        items=parser.items,
        path=path,
        line=1,
    )
    return quiz, sorted(parser.problems, key=lambda p: p.line)


@dataclass
class _Answer:
    marker: str  # "=" or "~"
    raw: str  # text still escaped, to look for syntax such as "->"
    text: str
    feedback: str
    weight: float
    line: int
    text_format: str | None = None  # its own [format] tag, if it has one
    feedback_format: str | None = None

    def choice(self) -> ChoiceSpec:
        return ChoiceSpec(
            self.text, self.weight, self.feedback, self.text_format, self.feedback_format
        )


@dataclass
class _Block:
    """What an answer block holds."""

    type: str
    choices: list[ChoiceSpec]
    explanation: str = ""
    explanation_format: str | None = None


class _Text:
    """One question's text with escapes coded, and the source line of every character."""

    def __init__(self, lines: list[tuple[int, str]]) -> None:
        chars: list[str] = []
        self.lines: list[int] = []
        for number, raw in lines:
            i = 0
            while i < len(raw):
                if raw[i] == "\\" and raw[i + 1 : i + 2] in _ESCAPES:  # "" is not a key
                    chars.append(_ESCAPES[raw[i + 1]])
                    i += 2
                else:
                    chars.append(raw[i])
                    i += 1
                self.lines.append(number)
            chars.append("\n")
            self.lines.append(number)
        self.s = "".join(chars)

    def line(self, index: int) -> int:
        return self.lines[max(0, min(index, len(self.lines) - 1))]

    def skip_space(self, index: int) -> int:
        while index < len(self.s) and self.s[index].isspace():
            index += 1
        return index


class _Parser:
    def __init__(self, path: str) -> None:
        self.path = path
        self.items: list[ItemSpec] = []
        self.problems: list[Problem] = []
        self.ids: dict[str, int] = {}

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, message))

    def question(self, lines: list[tuple[int, str]], category: str) -> None:
        """Parse one blank-line-separated question; add an item only if it has no problem."""
        if not lines:
            return
        text = _Text(lines)
        s = text.s
        start_line = lines[0][0]
        before = len(self.problems)

        pos = text.skip_space(0)
        item_id = self._title(text, pos, start_line)
        if item_id is not None:
            pos = s.index("::", pos + 2) + 2
        if item_id:
            # Registered even if the rest of the question is broken, so duplicates still show.
            if item_id in self.ids:
                self.problem(
                    start_line,
                    f'duplicate id "{item_id}": the question on line {self.ids[item_id]} '
                    "already has this title",
                )
            else:
                self.ids[item_id] = start_line
        text_format, pos = self._format(text, pos)

        opening = s.find("{", pos)
        stray = s.find("}", pos, opening if opening >= 0 else len(s))
        if stray >= 0:
            self.problem(text.line(stray), 'stray "}": there is no "{" before it to close')
        if opening < 0:
            self.problem(
                start_line,
                "question has no answer block {...}; text without answers is a GIFT "
                f'"description", which is not supported; {SUPPORTED}',
            )
            return
        closing = s.find("}", opening + 1)
        reopening = s.find("{", opening + 1)
        if closing < 0 or 0 <= reopening < closing:
            self.problem(
                text.line(opening), 'unclosed "{": the answer block opened here is never closed'
            )
            return
        self._after_block(text, closing + 1)

        # Text after the block makes a missing-word question: the blank shows where it was.
        head, tail = s[pos:opening], s[closing + 1 :]
        prompt = _clean(
            _MOODLE_MARKERS.sub("", head + _BLANK + tail if tail.strip() else head), text_format
        )
        if not prompt:
            self.problem(start_line, "question has no text, only an answer block")

        block = self._answers(text, opening, closing, text_format)
        if block is None or len(self.problems) > before or not item_id:
            return
        self.items.append(
            ItemSpec(
                id=item_id,
                type=block.type,
                prompt=prompt,
                choices=block.choices,
                explanation=block.explanation,
                text_format=text_format,
                explanation_format=block.explanation_format,
                category=category,
                line=start_line,
            )
        )

    def _title(self, text: _Text, pos: int, start_line: int) -> str | None:
        """The item id from `::title::`, "" if unusable, None if there is no title."""
        if not text.s.startswith("::", pos):
            self.problem(
                start_line,
                "question has no ::title::; the title is the item's id and keeps learners' history",
            )
            return None
        end = text.s.find("::", pos + 2)
        if end < 0:
            self.problem(start_line, 'the title opened with "::" is never closed with "::"')
            return None
        title = _clean(text.s[pos + 2 : end])
        item_id = _normalise_id(title)
        if not item_id:
            self.problem(start_line, f'title "{title}" has no letters or digits to make an id from')
        elif len(item_id) > MAX_ID_LENGTH:
            message = too_long("the id made from this title", item_id, MAX_ID_LENGTH)
            self.problem(start_line, message)
        return item_id

    def _format(self, text: _Text, pos: int) -> tuple[str, int]:
        """Read an optional `[format]` tag at `pos`; return the format and where text starts."""
        match = _FORMAT_TAG.match(text.s, text.skip_space(pos))
        if not match:
            return "markdown", pos
        tag = match.group(1)
        if tag.lower() not in _FORMATS:
            self.problem(
                text.line(match.start()),
                f'unknown format tag "[{tag}]"; use [markdown], [html], [plain] or [moodle]',
            )
            return "markdown", match.end()
        return _FORMATS[tag.lower()], match.end()

    def _after_block(self, text: _Text, pos: int) -> None:
        """Only one answer block per question; anything brace-like after it is an error."""
        s = text.s
        extra_open, extra_close = s.find("{", pos), s.find("}", pos)
        if extra_close >= 0 and (extra_open < 0 or extra_close < extra_open):
            self.problem(text.line(extra_close), 'stray "}": there is no "{" before it to close')
        if extra_open >= 0:
            self.problem(
                text.line(extra_open),
                'a second answer block "{": a question may have only one',
            )

    def _answers(self, text: _Text, opening: int, closing: int, text_format: str) -> _Block | None:
        """Read the block between `opening` and `closing`; `text_format` is the question's."""
        s = text.s
        block_line = text.line(opening)
        end = closing
        explanation, explanation_format = "", None
        general = s.find("####", opening + 1, closing)
        if general >= 0:
            end = general
            rest = s[general + 4 : closing]
            explanation, explanation_format = _part(rest, text_format)
            if "=" in rest or "~" in rest:
                self.problem(
                    text.line(general),
                    'general feedback "####" must come after all the answers',
                )
                return None  # the answers are on the wrong side; reading them would mislead
        content = s[opening + 1 : end].strip()

        if not content:
            self.problem(
                block_line, f'GIFT essay questions ("{{}}") are not supported; {SUPPORTED}'
            )
            return None
        if content.startswith("#"):
            self.problem(
                block_line,
                f'GIFT numerical questions ("{{#...}}") are not supported; {SUPPORTED}',
            )
            return None
        word, *feedbacks = content.split("#")
        if word.strip().upper() in _TRUE_FALSE:
            choices = self._true_false(
                _TRUE_FALSE[word.strip().upper()], feedbacks, block_line, text_format
            )
            return _Block("truefalse", choices, explanation, explanation_format)
        answers = self._split_answers(text, opening + 1, end, text_format)
        if answers is None:
            return None

        for answer in answers:
            if answer.marker == "=" and "->" in answer.raw:
                item = _clean(answer.raw.split("->", 1)[0])
                self.problem(
                    answer.line,
                    f'GIFT matching questions are not supported (item "{item}"); {SUPPORTED}',
                )
                return None
        if all(answer.marker == "=" for answer in answers):
            self.problem(
                block_line,
                'GIFT short answer questions (only "=" answers, no "~") are not supported; '
                f"{SUPPORTED}",
            )
            return None
        item_type = self._choice_type(answers, block_line)
        choices = [answer.choice() for answer in answers]
        return _Block(item_type, choices, explanation, explanation_format)

    def _true_false(
        self, truth: bool, feedbacks: list[str], line: int, text_format: str
    ) -> list[ChoiceSpec]:
        # Moodle's GIFT docs write it `{TRUE #Wrong #Right}`: the first feedback is shown when
        # the learner answers wrong, the second when they answer right.
        if len(feedbacks) > 2:
            self.problem(
                line,
                'a true/false answer takes at most two "#" feedbacks (first for a wrong '
                f"answer, second for a right one); this one has {len(feedbacks)}",
            )
        wrong = _part(feedbacks[0], text_format) if feedbacks else ("", None)
        right = _part(feedbacks[1], text_format) if len(feedbacks) > 1 else ("", None)
        on_true, on_false = (right, wrong) if truth else (wrong, right)
        return [
            ChoiceSpec("True", 1.0 if truth else 0.0, on_true[0], feedback_format=on_true[1]),
            ChoiceSpec("False", 0.0 if truth else 1.0, on_false[0], feedback_format=on_false[1]),
        ]

    def _split_answers(
        self, text: _Text, start: int, end: int, text_format: str
    ) -> list[_Answer] | None:
        """Cut the block at every unescaped `=` and `~` into answers with weight and feedback."""
        s = text.s
        marks = [i for i in range(start, end) if s[i] in "=~"]
        if not marks:
            self.problem(
                text.line(start - 1),
                'cannot read the answer block: answers start with "=" (right) or "~" (wrong), '
                "and true/false is written {T} or {F}",
            )
            return None
        if len(marks) > MAX_ANSWERS:  # each costs time to read; no learner reads this many
            self.problem(
                text.line(start - 1),
                f"a question may have at most {MAX_ANSWERS} answers; this one has {len(marks)}",
            )
            return None
        lead = s[start : marks[0]]
        if lead.strip():
            self.problem(
                text.line(text.skip_space(start)),
                f'unexpected text "{_clean(lead)}" before the first answer; answers start '
                'with "=" or "~"',
            )
        answers: list[_Answer] = []
        for k, mark in enumerate(marks):
            line = text.line(mark)
            raw, _, feedback = s[mark + 1 : marks[k + 1] if k + 1 < len(marks) else end].partition(
                "#"
            )
            weight = 1.0 if s[mark] == "=" else 0.0
            match = _WEIGHT.match(raw)
            if match:
                number = match.group(1).strip()
                if _NUMBER.fullmatch(number):
                    weight = float(number) / 100
                    if not -1.0 <= weight <= 1.0:
                        self.problem(line, f"weight %{number}% is outside -100% to 100%")
                else:
                    self.problem(line, f'weight "%{match.group(1)}%" is not a number')
                raw = raw[match.end() :]
            raw, own_format = _own_format(raw)
            feedback_text, feedback_format = _part(feedback, text_format)
            answer = _Answer(
                marker=s[mark],
                raw=raw,
                text=_clean(raw, own_format or text_format),
                feedback=feedback_text,
                weight=weight,
                line=line,
                text_format=own_format,
                feedback_format=feedback_format,
            )
            if not answer.text:
                self.problem(line, f'empty answer after "{answer.marker}"')
            answers.append(answer)
        return answers

    def _choice_type(self, answers: list[_Answer], line: int) -> str:
        """Decide single vs multiple from the weights and check they make sense."""
        if len(answers) < 2:
            self.problem(
                line, f"a multiple-choice question needs at least 2 answers; it has {len(answers)}"
            )
        right = [a for a in answers if a.weight > 0]
        full = [a for a in answers if math.isclose(a.weight, 1.0)]
        if not right:
            self.problem(
                line, 'no right answer: mark one with "=" or give answers positive weights'
            )
            return "single"
        if len(right) == 1:
            if right[0].weight < 1.0 and not full:  # above 100% was reported with the weight
                self.problem(
                    right[0].line,
                    f"the only right answer is worth {_percent(right[0].weight)}; a "
                    "single-answer question needs it at 100%",
                )
            return "single"
        if len(full) == 1:
            return "single"  # one full answer, others partial credit
        total = sum(a.weight for a in right)
        if abs(total - 1.0) > _TOLERANCE:
            self.problem(
                line,
                f"the right answers' weights add up to {_percent(total)}, not 100%; for "
                "several right answers give each a share, like ~%50% and ~%50%",
            )
        return "multiple"


def _own_format(raw: str) -> tuple[str, str | None]:
    """An answer's or feedback's own `[format]` tag, as Moodle writes one where it differs
    from the question's: (the text after it, its format), or (`raw`, None) without one.

    Unlike the question's tag, an unknown name here is text, as in Moodle: `~[Says nothing]`.
    """
    stripped = raw.lstrip()
    match = _FORMAT_TAG.match(stripped)
    if match and match.group(1).lower() in _FORMATS:
        return stripped[match.end() :], _FORMATS[match.group(1).lower()]
    return raw, None


def _part(raw: str, text_format: str) -> tuple[str, str | None]:
    """A feedback's text, unescaped for its format, and its own format if it has a tag;
    `text_format` is the question's."""
    rest, own = _own_format(raw)
    return _clean(rest, own or text_format), own


def _clean(raw: str, text_format: str = "plain") -> str:
    """Strip surrounding whitespace, then turn escapes back into the characters they stand for
    in `text_format`."""
    return raw.strip().translate(_MARKDOWN_LITERALS if text_format == "markdown" else _LITERALS)


def _normalise_id(title: str) -> str:
    """`Warm Handover_2` -> `warm-handover-2`: lowercase ASCII letters, digits and dashes."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[\s_]+", "-", ascii_title.lower())
    slug = re.sub(r"[^a-z0-9-]", "", slug)
    return re.sub(r"-{2,}", "-", slug).strip("-")


def _category_title(category: str) -> str:
    """The last real segment of a category path; Moodle's `$course$` tokens are not names."""
    segments = [seg.strip() for seg in category.split("/") if seg.strip()]
    segments = [seg for seg in segments if not (seg.startswith("$") and seg.endswith("$"))]
    return segments[-1] if segments else ""


def _title_from_id(quiz_id: str) -> str:
    words = quiz_id.replace("-", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _percent(weight: float) -> str:
    return f"{weight * 100:g}%"
