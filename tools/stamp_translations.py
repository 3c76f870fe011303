"""Write each translation's `source:` hash for the source as it is now, where it has none.

Run after translating: `python tools/stamp_translations.py` (a translation that already names
a source is left alone; `content check` says when one is behind).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from trainer.content.characters import normalise_newlines  # noqa: E402
from trainer.content.translations import source_hash, take_source  # noqa: E402

FOLDERS = ("lessons", "quizzes", "lessons/conversations")


def main() -> None:
    for folder in FOLDERS:
        for file in sorted((ROOT / folder).glob("*.*.*")):
            match = re.match(r"^([a-z0-9-]+)\.([a-z]{2})$", file.stem)
            if not match:
                continue
            sources = [s for s in (ROOT / folder).glob(f"{match.group(1)}.*") if "." not in s.stem]
            if len(sources) != 1:
                print(f"{file.relative_to(ROOT)}: no single source", file=sys.stderr)
                continue
            text = normalise_newlines(file.read_text(encoding="utf-8"))
            if take_source(text, file.suffix)[1]:
                continue
            value = source_hash(normalise_newlines(sources[0].read_text(encoding="utf-8")))
            file.write_text(_stamped(text, file.suffix, value), encoding="utf-8")
            print(f"{file.relative_to(ROOT)}: source {value}")


def _stamped(text: str, suffix: str, value: str) -> str:
    if suffix == ".gift":
        return f"// source: {value}\n{text}"
    if suffix == ".md":
        return text.replace("---\n", f"---\nsource: {value}\n", 1)
    if suffix == ".twee":
        return re.sub(r"(?m)^(::\s*Conversation\b.*\n)", rf"\1source: {value}\n", text, count=1)
    return f"source: {value}\n{text}"


if __name__ == "__main__":
    main()
