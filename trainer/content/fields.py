"""Reading fields out of a loaded YAML mapping, collecting a problem per fault."""

from __future__ import annotations

import re
from typing import Any

from trainer.content.specs import MAX_ID_LENGTH, Problem
from trainer.content.yamlines import LineDict, LineList

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_MISSING = object()


def too_long(what: str, value: str, max_length: int) -> str:
    """The message for a text longer than its database column holds."""
    return f"{what} is {len(value)} characters long; at most {max_length} fit"


class Fields:
    """Typed access to one mapping; every bad or missing field becomes a `Problem`."""

    def __init__(self, data: LineDict, path: str, problems: list[Problem], what: str):
        self.data = data
        self.path = path
        self.problems = problems
        self.what = what

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, message))

    def line(self, key: str) -> int:
        return self.data.line_of(key)

    def _get(self, key: str, required: bool) -> Any:
        value = self.data.get(key, _MISSING)
        if value is _MISSING or value is None or value == "":
            if required:
                self.problem(self.data.line, f'{self.what} has no "{key}"')
            return _MISSING
        return value

    def text(self, key: str, required: bool = True, max_length: int | None = None) -> str:
        """The field as stripped text; longer than `max_length` characters is a problem."""
        value = self._get(key, required)
        if value is _MISSING:
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.problem(self.line(key), f'"{key}" must be text')
            return ""
        value = str(value).strip()
        if max_length is not None and len(value) > max_length:
            self.problem(self.line(key), too_long(f'"{key}"', value, max_length))
        return value

    def slug(self, key: str, required: bool = True, max_length: int = MAX_ID_LENGTH) -> str:
        value = self.text(key, required, max_length)
        if value and not SLUG.match(value):
            self.problem(
                self.line(key),
                f'"{key}" must be lowercase letters, digits and dashes (got "{value}")',
            )
        return value

    def integer(self, key: str, required: bool = True) -> int | None:
        value = self._get(key, required)
        if value is _MISSING:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(self.line(key), f'"{key}" must be a whole number (got "{value}")')
            return None
        return value

    def boolean(self, key: str, required: bool = True) -> bool | None:
        value = self._get(key, required)
        if value is _MISSING:
            return None
        if not isinstance(value, bool):
            self.problem(self.line(key), f'"{key}" must be true or false (got "{value}")')
            return None
        return value

    def mappings(self, key: str, required: bool = True) -> list[LineDict]:
        """A list of mappings; a non-mapping element is reported and skipped."""
        value = self._get(key, required)
        if value is _MISSING:
            return []
        if not isinstance(value, LineList):
            self.problem(self.line(key), f'"{key}" must be a list')
            return []
        result = []
        for index, element in enumerate(value):
            if isinstance(element, LineDict):
                result.append(element)
            else:
                self.problem(value.line_of(index), f'each entry of "{key}" must be a mapping')
        return result

    def strings(self, key: str, required: bool = True, max_length: int | None = None) -> list[str]:
        value = self._get(key, required)
        if value is _MISSING:
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.problem(self.line(key), f'"{key}" must be a list')
            return []
        result = []
        for index, element in enumerate(value):
            line = value.line_of(index) if isinstance(value, LineList) else self.line(key)
            if isinstance(element, str | int | float) and not isinstance(element, bool):
                text = str(element).strip()
                if max_length is not None and len(text) > max_length:
                    self.problem(line, too_long(f'an entry of "{key}"', text, max_length))
                result.append(text)
            else:
                self.problem(line, f'each entry of "{key}" must be text')
        return result

    def unknown(self, allowed: set[str]) -> None:
        for key in self.data:
            if key not in allowed:
                known = ", ".join(sorted(allowed))
                self.problem(self.line(key), f'unknown field "{key}" (known: {known})')
