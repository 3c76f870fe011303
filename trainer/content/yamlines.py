"""YAML that remembers where things were, so problems can name their line.

Mappings load as `LineDict` and sequences as `LineList`; both know the 1-based line they start
on and the line of each key or element. Scalars load as `yaml.safe_load` would.

Only the plain YAML that content needs is accepted. Anchors and aliases (a few lines of them can
stand for billions of values), nesting deeper than `MAX_DEPTH`, more than `MAX_VALUES` values,
a key given twice (the second would quietly win), a list or mapping as a key and control
characters are refused with their line, so no file can hang the parser, exhaust the stack or
hide a value.

libyaml, the C parser, reads the text: the pure-Python one is about ten times slower and is used
only where libyaml is not installed.
"""

from __future__ import annotations

from typing import Any

import yaml

from trainer.content.characters import FORBIDDEN, describe, forbidden_lines

MAX_DEPTH = 50
TOO_DEEP = f"nested more than {MAX_DEPTH} levels deep"
# The largest starter file holds about 200 values. Building each costs microseconds in Python,
# so a megabyte of "1, 1, 1, ..." would take seconds: it is refused at its 20,001st value.
MAX_VALUES = 20_000
_MERGE_TAG = "tag:yaml.org,2002:merge"


class LineDict(dict):
    line: int = 0
    key_lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list):
    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


class YamlError(Exception):
    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


def make_loader(base: type) -> type:
    """A loader on `base` (`yaml.CSafeLoader` or `yaml.SafeLoader`) building line-aware values."""

    class Loader(base):
        first_line = 1  # the file line the text starts on

        def file_line(self, node: yaml.Node) -> int:
            return node.start_mark.line + self.first_line

        def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
            try:
                return super().construct_object(node, deep=deep)
            except (ValueError, OverflowError) as exc:  # 2024-13-45, an int of 5,000 digits
                kind = _KINDS.get(node.tag, "value")
                message = f'"{str(node.value)[:40]}" is not a {kind}; put text in quotes'
                raise YamlError(self.file_line(node), f"bad YAML: {message}") from exc

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SCALAR_TAG, _construct_text)
    return Loader


def _construct_mapping(loader, node: yaml.MappingNode) -> LineDict:
    result = LineDict()
    result.line = loader.file_line(node)
    result.key_lines = {}
    for key_node, value_node in node.value:
        line = loader.file_line(key_node)
        if key_node.tag == _MERGE_TAG:
            raise YamlError(line, 'merge keys ("<<") are not allowed; write the fields out in full')
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise YamlError(line, "a key must be a name, not a list or a mapping") from None
        if key in result.key_lines:
            raise YamlError(
                line,
                f'"{key}" is given twice (first on line {result.key_lines[key]}); '
                "keep one: the second would replace the first",
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


def _construct_sequence(loader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = loader.file_line(node)
    result.item_lines = [loader.file_line(child) for child in node.value]
    return result


def _construct_text(loader, node: yaml.ScalarNode) -> str:
    # Escapes in double quotes ("\0", "\e", "\L") make characters the file itself may not hold.
    value = loader.construct_scalar(node)
    match = FORBIDDEN.search(value)
    if match:
        message = f"{describe(match.group())} (here made by an escape in double quotes)"
        raise YamlError(loader.file_line(node), message)
    return value


Loader = make_loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader))

_KINDS = {
    "tag:yaml.org,2002:int": "whole number",
    "tag:yaml.org,2002:float": "number",
    "tag:yaml.org,2002:timestamp": "date",
}
# libyaml's wording -> the pure-Python parser's, which docs/authoring.md quotes.
_PLAINER = {"mapping values are not allowed in this context": "mapping values are not allowed here"}
_NO_TOKEN = "found character that cannot start any token"
_LIBYAML_TOO_DEEP = "exceeded maximum nesting depth"  # libyaml's own limit, 1,000 in a flow


def load(text: str, first_line: int = 1) -> Any:
    """Parse YAML text; `first_line` is the file line the text starts on.

    Raises `YamlError` with the file line of the first fault. Takes time in proportion to the
    text, whatever the text holds.
    """
    bad = forbidden_lines(text)
    if bad:
        line, message = bad[0]
        raise YamlError(line + first_line - 1, message)
    try:
        _refuse_what_content_never_needs(text, first_line)
        loader = Loader(text)
        loader.first_line = first_line
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        raise _described(exc, text, first_line) from exc
    except yaml.YAMLError as exc:
        raise YamlError(first_line, f"bad YAML: {exc}") from exc


def _refuse_what_content_never_needs(text: str, first_line: int) -> None:
    """Refuse anchors, aliases, deep nesting and too many values from the parser's events,
    before any value is built: building is where an alias bomb explodes and deep nesting
    recurses."""
    depth = values = 0
    for event in yaml.parse(text, Loader=Loader):
        if isinstance(event, yaml.NodeEvent):
            values += 1
            if values > MAX_VALUES:
                raise YamlError(
                    event.start_mark.line + first_line,
                    f"more than {MAX_VALUES:,} values; a content file needs far fewer, so "
                    "split it into several",
                )
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise YamlError(
                event.start_mark.line + first_line,
                'anchors and aliases ("&name", "*name") are not allowed; write the text out '
                "in full",
            )
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise YamlError(
                    event.start_mark.line + first_line,
                    TOO_DEEP,
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _described(exc: yaml.MarkedYAMLError, text: str, first_line: int) -> YamlError:
    """The parser's fault at its file line, in the words the guide uses."""
    mark = exc.problem_mark or exc.context_mark
    line = (mark.line if mark else 0) + first_line
    problem = exc.problem or exc.context or "not valid YAML"
    if problem == _LIBYAML_TOO_DEEP:
        return YamlError(line, TOO_DEEP)
    if problem in _PLAINER:
        problem = _PLAINER[problem]
    elif problem == _NO_TOKEN and mark:
        # libyaml does not say which character; it is usually a tab.
        char = text.split("\n")[mark.line][mark.column : mark.column + 1]
        problem = f"found character {char!r} that cannot start any token"
    return YamlError(line, f"bad YAML: {problem}")
