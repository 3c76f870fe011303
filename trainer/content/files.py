"""Finding and reading the library's files without trusting them.

A content file is a regular file inside the library (a link is followed only to a file inside
it), named by an id, at most `MAX_FILE_BYTES` long, holding UTF-8 text without control
characters. Anything else is reported with its path and never read: a named pipe would block
the read for ever, a link to /dev/zero would fill the memory, a folder named `x.md` cannot be
read at all.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from trainer.content.characters import forbidden_lines, normalise_newlines
from trainer.content.fields import SLUG
from trainer.content.specs import LANGUAGES, MAX_ID_LENGTH, Problem

MAX_FILE_BYTES = 1_000_000
# Shown escaped in messages: a file name may hold anything but "/", and a terminal obeys some.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
# `<id>.<language>`: a translation's name, its source's id and a two-letter language code.
_TRANSLATION = re.compile(r"^([a-z0-9]+(?:-[a-z0-9]+)*)\.([a-z]{2})$")
_KINDS = {
    stat.S_IFDIR: "a folder",
    stat.S_IFIFO: "a named pipe",
    stat.S_IFCHR: "a device",
    stat.S_IFBLK: "a device",
    stat.S_IFSOCK: "a socket",
}


def shown(path: str) -> str:
    """`path` safe to print: control characters and undecodable bytes as escapes."""

    def escape(match: re.Match) -> str:
        code = ord(match.group())
        return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"

    return _UNPRINTABLE.sub(escape, path)


class LibraryFiles:
    """The files under one library root; every refusal is added to `problems`."""

    def __init__(self, root: str | Path, problems: list[Problem]) -> None:
        self.root = Path(root)
        self.real_root = self.root.resolve()
        self.problems = problems

    def rel(self, file: Path) -> str:
        """The path a trainer sees in git, as problems name it."""
        return shown(file.relative_to(self.root).as_posix())

    def listing(self, folder: str, suffixes: set[str]) -> list[Path]:
        """The files in `folder` ending in one of `suffixes` whose names are ids, sorted.

        Names starting with a dot are skipped: editors keep their lock and swap files there.
        Translations (`<id>.<language><suffix>`) are left to `translations`.
        """
        found = []
        for file in sorted((self.root / folder).glob("*")):
            if file.name.startswith(".") or file.suffix not in suffixes:
                continue
            if _TRANSLATION.match(file.stem):
                continue
            if len(file.stem) > MAX_ID_LENGTH or not SLUG.match(file.stem):
                self._refuse(
                    file,
                    f'the file name "{shown(file.stem)}" is not an id: use lowercase letters, '
                    f"digits and dashes, at most {MAX_ID_LENGTH} characters",
                )
                continue
            found.append(file)
        return found

    def translations(self, folder: str, suffixes: set[str]) -> list[tuple[Path, str, str]]:
        """(file, source id, language) of each translation in `folder`, sorted; a language
        that is not one of `LANGUAGES` is refused."""
        found = []
        for file in sorted((self.root / folder).glob("*")):
            if file.name.startswith(".") or file.suffix not in suffixes:
                continue
            match = _TRANSLATION.match(file.stem)
            if match is None:
                continue
            key, language = match.group(1), match.group(2)
            if language not in LANGUAGES:
                self._refuse(
                    file,
                    f'"{language}" is not a language lessons are translated into '
                    f"(use {', '.join(LANGUAGES)}: {shown(key)}.es{file.suffix})",
                )
                continue
            found.append((file, key, language))
        return found

    def read(self, file: Path) -> str | None:
        """The text of `file` with newlines as `\\n`, or None when it is refused."""
        target = self._target(file)
        if target is None:
            return None
        try:
            data = self._bytes(file, target)
        except OSError as exc:
            self._refuse(file, f"cannot be read ({exc.strerror or exc})")
            return None
        if data is None:
            return None
        text = normalise_newlines(data.decode("utf-8", "surrogateescape"))
        bad = forbidden_lines(text)
        for line, message in bad:
            self.problems.append(Problem(self.rel(file), line, message))
        return None if bad else text

    def _target(self, file: Path) -> Path | None:
        """The real file behind `file`, if it is a regular file inside the library."""
        try:
            target = file.resolve(strict=True)
        except (OSError, RuntimeError) as exc:  # RuntimeError: a loop of links (Python 3.11)
            if file.is_symlink():
                self._refuse(file, "a link that leads nowhere (to a missing file, or in a loop)")
            else:
                self._refuse(file, f"cannot be read ({getattr(exc, 'strerror', None) or exc})")
            return None
        if not target.is_relative_to(self.real_root):
            self._refuse(
                file,
                f"a link to {shown(str(target))}, outside the library; copy the file in instead",
            )
            return None
        return target

    def _bytes(self, file: Path, target: Path) -> bytes | None:
        # Checked again on the open file, which cannot be swapped for a pipe under us;
        # O_NONBLOCK keeps the open itself from waiting on a pipe put there meanwhile.
        if not self._is_small_regular_file(file, target.stat()):
            return None
        fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as handle:
            if not self._is_small_regular_file(file, os.fstat(handle.fileno())):
                return None
            data = handle.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:  # it grew, or says it is smaller than it is
            self._refuse(file, _too_big())
            return None
        return data

    def _is_small_regular_file(self, file: Path, status: os.stat_result) -> bool:
        if not stat.S_ISREG(status.st_mode):
            kind = _KINDS.get(stat.S_IFMT(status.st_mode), "not a regular file")
            self._refuse(file, f"this is {kind}, not a text file; content files are text files")
            return False
        if status.st_size > MAX_FILE_BYTES:
            self._refuse(file, _too_big())
            return False
        return True

    def _refuse(self, file: Path, message: str) -> None:
        self.problems.append(Problem(self.rel(file), 1, message))


def _too_big() -> str:
    return (
        f"the file is larger than {MAX_FILE_BYTES // 1_000_000} MB, the most a content file may "
        "be; split it into several"
    )
