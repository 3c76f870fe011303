"""Conversations drawn in Twine and saved as Twee 3 (`lessons/conversations/<id>.twee`).

Twee 3 is Twine's text format: passages, each starting with a header line
`:: Name [tags] {"position": ...}`, whose text may hold links `[[what you say->Target]]`.
A conversation maps onto it like this (docs/authoring.md shows a whole one):

- `:: StoryTitle` holds the title; `:: StoryData` (JSON, written by Twine) names the `start`;
  `:: Conversation` holds `skill:` and `setting:` lines.
- A passage whose name is an id is a node. Its text is what the customer says, and a tag
  `cue-<how>` says how they sound (`cue-close-to-tears`). Each of its links is a choice: the
  link's text is what the learner says, and it leads to a reply passage.
- A reply passage is tagged `score-0`, `score-1` or `score-2`. Its text is the feedback, and its
  one link leads to the node the customer answers with.
- A passage tagged `ending-good`, `ending-mixed` or `ending-poor` is an ending; its text is the
  summary.

Passages tagged `script` or `stylesheet` (Twine's story JavaScript and stylesheet) are left
out; other tags are the author's own and mean nothing here. Every fault is a `Problem` with its
line, and bad input never raises.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from trainer.content import yamlines
from trainer.content.conversation_checks import check_conversation
from trainer.content.fields import SLUG, Fields
from trainer.content.specs import (
    MAX_ID_LENGTH,
    MAX_SETTING_LENGTH,
    MAX_SKILL_LENGTH,
    MAX_TITLE_LENGTH,
    ConversationSpec,
    NodeSpec,
    Problem,
    ReplySpec,
)
from trainer.content.yamlines import LineDict

TITLE, DATA, SETTINGS = "StoryTitle", "StoryData", "Conversation"
SETTINGS_FIELDS = {"skill", "setting"}
LEFT_OUT = {"script", "stylesheet"}
_LINK = re.compile(r"\[\[(.*?)\]\]")
_SCORE_TAG = "score-"
_ENDING_TAG = "ending-"
_CUE_TAG = "cue-"
_NAME_ESCAPE = re.compile(r"\\(.)")


@dataclass
class Passage:
    name: str
    tags: list[str]
    line: int  # of its header
    lines: list[tuple[int, str]] = field(default_factory=list)  # (file line, text)

    @property
    def text(self) -> str:
        return "\n".join(text for _line, text in self.lines).strip()

    def links(self) -> list[tuple[int, str, str]]:
        """(line, text, target) of each link, in order."""
        found = []
        for line, text in self.lines:
            for match in _LINK.finditer(text):
                said, target = _link_parts(match.group(1))
                found.append((line, said.strip(), target.strip()))
        return found

    def words(self) -> str:
        """The passage's text without its links, on one line."""
        return " ".join(_LINK.sub(" ", self.text).split())

    def tagged(self, prefix: str) -> list[str]:
        return [tag[len(prefix) :] for tag in self.tags if tag.startswith(prefix)]


def _link_parts(inner: str) -> tuple[str, str]:
    """(text, target) of a link, read as Twine reads it: the rightmost "->", the leftmost
    "<-", then "|"; a bare link is its own target."""
    if "->" in inner:
        text, target = inner.rsplit("->", 1)
    elif "<-" in inner:
        target, text = inner.split("<-", 1)
    elif "|" in inner:
        text, target = inner.split("|", 1)
    else:
        text = target = inner
    return text, target


def parse_twee(text: str, path: str, conversation_id: str) -> tuple[ConversationSpec | None, list]:
    """The conversation in a Twee 3 file; `conversation_id` is the file's name without `.twee`."""
    problems: list[Problem] = []
    passages = _passages(text.lstrip("\ufeff"), path, problems)
    by_name: dict[str, Passage] = {}
    for passage in passages:
        if passage.name in by_name:
            problems.append(
                Problem(
                    path,
                    passage.line,
                    f'the passage name "{passage.name}" is used twice (first on line '
                    f"{by_name[passage.name].line}); give each passage its own",
                )
            )
            continue
        by_name[passage.name] = passage

    spec = ConversationSpec(
        id=conversation_id, title="", skill="", setting="", start="", nodes={}, path=path
    )
    _story(by_name, spec, problems)
    replies = []
    for passage in by_name.values():
        if passage.name in (TITLE, DATA, SETTINGS) or LEFT_OUT & set(passage.tags):
            continue
        if passage.tagged(_SCORE_TAG):
            replies.append(passage)  # read with the choice that leads to it
            continue
        node = _node(passage, by_name, path, problems)
        if node is not None:
            spec.nodes[node.id] = node
    answered = {
        target
        for passage in by_name.values()
        if not passage.tagged(_SCORE_TAG)
        for _line, _text, target in passage.links()
    }
    for reply in replies:
        if reply.name not in answered:
            problems.append(
                Problem(
                    path,
                    reply.line,
                    f'no choice leads to the reply "{reply.name}": link a choice to it, or '
                    "delete it",
                )
            )
    problems.extend(check_conversation(spec))
    problems.sort()
    return (None if problems else spec), problems


def _passages(text: str, path: str, problems: list[Problem]) -> list[Passage]:
    passages: list[Passage] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if line.startswith("::"):
            passages.append(_header(line[2:], number, path, problems))
        elif passages:
            if line.startswith("\\::"):  # Twee's escape for a text line starting "::"
                line = line[1:]
            passages[-1].lines.append((number, line))
        elif line.strip():
            problems.append(
                Problem(path, number, 'text before the first passage (":: name") belongs to none')
            )
    return passages


def _header(header: str, line: int, path: str, problems: list[Problem]) -> Passage:
    """`Name [tags] {metadata}`: the name with Twee's escapes, and the tags."""
    name_chars: list[str] = []
    rest = ""
    i = 0
    while i < len(header):
        char = header[i]
        if char == "\\" and i + 1 < len(header):
            name_chars.append(header[i + 1])
            i += 2
            continue
        if char in "[{":
            rest = header[i:]
            break
        name_chars.append(char)
        i += 1
    tags: list[str] = []
    if rest.startswith("["):
        end = rest.find("]")
        if end < 0:
            problems.append(Problem(path, line, 'the tags opened by "[" are never closed by "]"'))
        else:
            tags = rest[1:end].split()
    return Passage("".join(name_chars).strip(), tags, line)


def _story(by_name: dict[str, Passage], spec: ConversationSpec, problems: list[Problem]) -> None:
    """Title, start, skill and setting, from the passages that hold them."""
    path = spec.path
    title = by_name.get(TITLE)
    if title is None or not title.text:
        problems.append(Problem(path, 1, f'no "{TITLE}" passage with the conversation\'s title'))
    else:
        spec.title = title.text
        if len(spec.title) > MAX_TITLE_LENGTH:
            problems.append(
                Problem(path, title.line, f"the title is longer than {MAX_TITLE_LENGTH} characters")
            )

    data = by_name.get(DATA)
    if data is None:
        problems.append(Problem(path, 1, f'no "{DATA}" passage naming the start passage'))
    else:
        spec.field_lines["start"] = data.line
        try:
            story = json.loads(data.text or "null")
        except (ValueError, RecursionError):
            story = None
        start = story.get("start") if isinstance(story, dict) else None
        if not isinstance(start, str) or not start.strip():
            problems.append(
                Problem(
                    path,
                    data.line,
                    f'"{DATA}" must be JSON naming the "start" passage, as Twine writes it',
                )
            )
        else:
            spec.start = start.strip()

    settings = by_name.get(SETTINGS)
    if settings is None:
        problems.append(
            Problem(path, 1, f'no "{SETTINGS}" passage with the "skill:" and "setting:" lines')
        )
        return
    first = settings.lines[0][0] if settings.lines else settings.line + 1
    try:
        values = yamlines.load("\n".join(text for _n, text in settings.lines), first_line=first)
    except yamlines.YamlError as exc:
        problems.append(Problem(path, exc.line, exc.message))
        return
    if not isinstance(values, LineDict):
        problems.append(Problem(path, settings.line, 'write "skill: ..." and "setting: ..."'))
        return
    fields = Fields(values, path, problems, f'the "{SETTINGS}" passage')
    fields.data.line = settings.line
    fields.unknown(SETTINGS_FIELDS)
    spec.skill = fields.slug("skill", max_length=MAX_SKILL_LENGTH)
    spec.setting = fields.slug("setting", max_length=MAX_SETTING_LENGTH)


def _node(
    passage: Passage, by_name: dict[str, Passage], path: str, problems: list[Problem]
) -> NodeSpec | None:
    name = passage.name
    if len(name) > MAX_ID_LENGTH or not SLUG.match(name):
        problems.append(
            Problem(
                path,
                passage.line,
                f'the passage name "{name[:MAX_ID_LENGTH]}" is not an id: name each node with '
                f"lowercase letters, digits and dashes, at most {MAX_ID_LENGTH} characters",
            )
        )
        return None
    node = NodeSpec(id=name, line=passage.line)
    links = passage.links()
    endings = passage.tagged(_ENDING_TAG)
    if endings:
        node.ending, node.summary = endings[0], passage.words()
        if links:
            problems.append(
                Problem(path, links[0][0], f'"{name}" is an ending, so it has no links')
            )
        return node
    cues = passage.tagged(_CUE_TAG)
    node.cue = cues[0].replace("-", " ") if cues else ""
    node.customer = passage.words()
    if links:
        node.lines["choices"] = links[0][0]
    for line, said, target in links:
        choice = _choice(line, said, target, by_name, path, problems)
        if choice is not None:
            node.choices.append(choice)
    return node


def _choice(
    line: int, said: str, target: str, by_name: dict[str, Passage], path: str, problems: list
) -> ReplySpec | None:
    reply = by_name.get(target)
    kinds = f"{_SCORE_TAG}0, {_SCORE_TAG}1 or {_SCORE_TAG}2"
    if reply is None:
        problems.append(
            Problem(path, line, f'the choice leads to "{target}", a passage that does not exist')
        )
        return None
    scores = reply.tagged(_SCORE_TAG)
    if not scores:
        problems.append(
            Problem(
                path,
                line,
                f"a choice leads to a reply passage, tagged {kinds}, whose text is the feedback; "
                f'"{target}" has no score tag',
            )
        )
        return None
    try:
        score = int(scores[0])
    except ValueError:
        problems.append(Problem(path, reply.line, f'"{_SCORE_TAG}{scores[0]}": tag it {kinds}'))
        score = None
    onward = reply.links()
    if len(onward) != 1:
        problems.append(
            Problem(
                path,
                reply.line,
                f'the reply "{target}" has {len(onward)} links; it has one, to what the '
                "customer says next",
            )
        )
        if not onward:
            return None
    next_line, _text, next_key = onward[0]
    if next_key in by_name and by_name[next_key].tagged(_SCORE_TAG):
        problems.append(
            Problem(
                path,
                next_line,
                f'the reply leads to "{next_key}", another reply; it leads to what the '
                "customer says next",
            )
        )
        return None
    feedback = " ".join(_LINK.sub(" ", reply.text).split())
    if not said:
        problems.append(Problem(path, line, "the link has no text: what does the learner say?"))
    if not feedback:
        problems.append(
            Problem(path, reply.line, f'the reply "{target}" has no feedback: say how it lands')
        )
    return ReplySpec(
        say=said,
        score=score,
        feedback=feedback,
        next=next_key,
        line=line,
        lines={"score": reply.line, "next": next_line},
    )
