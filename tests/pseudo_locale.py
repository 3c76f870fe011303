"""A pseudo-language for the tests: every string the code marks for translation comes out between
⟦ and ⟧, so any text a person would see that is still bare English was never marked.

The catalog is built from the code itself (the same extraction as `make messages`), so a string
added tomorrow is covered without anyone remembering to add it to a list.
"""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from trainer import ROOT

PSEUDO = "en_001"  # a real locale, so dates and numbers still format; its words are ours
OPEN, CLOSE = "⟦", "⟧"
_MARKED = re.compile(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}")


def marked(text: str) -> str:
    return f"{OPEN}{text}{CLOSE}"


def extract(directory: Path, locale: str | None = None):
    """Every string the code marks for translation (as `make messages` gathers them)."""
    directory.mkdir(parents=True, exist_ok=True)
    pot = directory / "messages.pot"
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l"]
        + ["-o", str(pot), str(ROOT)]
    )
    with pot.open("rb") as f:
        return read_po(f, locale=locale)


def build_catalog(directory: Path) -> Path:
    """Extract every marked string and write the pseudo catalog under `directory`."""
    catalog = extract(directory, PSEUDO)
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            message.string = tuple(marked(form) for form in message.id)
        else:
            message.string = marked(message.id)
    out = directory / PSEUDO / "LC_MESSAGES"
    out.mkdir(parents=True, exist_ok=True)
    with (out / "messages.mo").open("wb") as f:
        write_mo(f, catalog)
    return directory


def unmarked(text: str, *allowed: str) -> list[str]:
    """The words of `text` outside any marked string, besides the `allowed` ones (data such as
    dates, links and the product's name)."""
    previous = None
    while previous != text:
        previous, text = text, _MARKED.sub(" ", text)
    for value in sorted(allowed, key=len, reverse=True):
        text = text.replace(value, " ")
    text = re.sub(r"https?://\S+", " ", text)
    return re.findall(r"[^\W\d_]{2,}", text)
