"""Conversation files in YAML, `lessons/conversations/<id>.yaml` (see docs/authoring.md).

Twee files (`.twee`, drawn in Twine) are read by `twee.py`; both become a `ConversationSpec`
and keep the same rules, checked by `conversation_checks.py`.
"""

from __future__ import annotations

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

CONVERSATION_FIELDS = {"id", "title", "skill", "setting", "start", "nodes"}
NODE_FIELDS = {"customer", "cue", "choices", "ending", "summary"}
CHOICE_FIELDS = {"say", "score", "feedback", "next"}


def parse_conversation_yaml(text: str, path: str) -> tuple[ConversationSpec | None, list[Problem]]:
    """The conversation in `text`, or None with at least one problem."""
    problems: list[Problem] = []
    try:
        data = yamlines.load(text.lstrip("\ufeff"))
    except yamlines.YamlError as exc:
        return None, [Problem(path, exc.line, exc.message)]
    if not isinstance(data, LineDict):
        return None, [
            Problem(path, 1, "a conversation file is a mapping with id, title, ... and nodes")
        ]

    fields = Fields(data, path, problems, "conversation")
    fields.unknown(CONVERSATION_FIELDS)
    spec = ConversationSpec(
        id=fields.slug("id"),
        title=fields.text("title", max_length=MAX_TITLE_LENGTH),
        skill=fields.slug("skill", max_length=MAX_SKILL_LENGTH),
        setting=fields.slug("setting", max_length=MAX_SETTING_LENGTH),
        start=fields.slug("start"),
        nodes={},
        path=path,
        line=1,
        field_lines=dict(data.key_lines),
    )
    nodes = data.get("nodes")
    if nodes is None:
        fields.problem(data.line, 'conversation has no "nodes"')
    elif not isinstance(nodes, LineDict):
        fields.problem(fields.line("nodes"), '"nodes" must be a mapping of node ids to nodes')
    else:
        for key, value in nodes.items():
            node = _node(key, value, nodes.line_of(key), path, problems)
            if node is not None:
                spec.nodes[node.id] = node
    # The rules of the graph are checked even when a field is wrong: every fault in one pass.
    problems.extend(check_conversation(spec))
    problems.sort()
    return (None if problems else spec), problems


def _node(node_id, value, line: int, path: str, problems: list[Problem]) -> NodeSpec | None:
    if not isinstance(node_id, str) or len(node_id) > MAX_ID_LENGTH or not SLUG.match(node_id):
        problems.append(
            Problem(
                path,
                line,
                f"a node id is lowercase letters, digits and dashes, at most {MAX_ID_LENGTH} "
                f'characters (got "{str(node_id)[:MAX_ID_LENGTH]}")',
            )
        )
        return None
    if not isinstance(value, LineDict):
        problems.append(
            Problem(path, line, f'node "{node_id}" must be a mapping ("customer", "choices", ...)')
        )
        return None
    f = Fields(value, path, problems, f'node "{node_id}"')
    f.unknown(NODE_FIELDS)
    node = NodeSpec(id=node_id, line=line, lines=dict(value.key_lines))
    if "ending" in value or "summary" in value:
        node.ending = f.text("ending")
        node.summary = f.text("summary", required=False)
        for extra in ("customer", "cue"):
            if extra in value:
                f.problem(f.line(extra), f'an ending has an "ending" and a "summary", no "{extra}"')
    else:
        node.customer = f.text("customer", required=False)
        node.cue = f.text("cue", required=False)
    if "choices" in value:
        node.choices = [_choice(Fields(c, path, problems, "choice")) for c in f.mappings("choices")]
    return node


def _choice(c: Fields) -> ReplySpec:
    c.unknown(CHOICE_FIELDS)
    return ReplySpec(
        say=c.text("say"),
        score=c.integer("score"),
        feedback=c.text("feedback"),
        next=c.slug("next"),
        line=c.data.line,
        lines=dict(c.data.key_lines),
    )
