"""Files in `lessons/` and `quizzes/` that are not plain text files inside the library.

Each is refused with its path and never opened: a folder, a dangling link, a link to /dev/zero
or outside the library, a named pipe, a file over 1 MB, a name that is not an id. A link to a
file inside the library is read as the file.
"""

from __future__ import annotations

import os

import pytest

from tests.conftest import make_app
from tests.test_content_check import LESSON, QUIZ, library_problems, write_library
from trainer.content.files import MAX_FILE_BYTES
from trainer.content.library import load_library

NOT_AN_ID = "use lowercase letters, digits and dashes, at most 120 characters"


def test_a_folder_named_like_a_lesson_is_refused_with_its_path(tmp_path) -> None:
    (tmp_path / "lessons" / "x.md").mkdir(parents=True)
    assert library_problems(tmp_path) == [
        "lessons/x.md:1: this is a folder, not a text file; content files are text files"
    ]


def test_a_dangling_link_is_refused_with_its_path(tmp_path) -> None:
    write_library(tmp_path)
    (tmp_path / "quizzes" / "gone.yaml").symlink_to("deleted.yaml")
    assert library_problems(tmp_path) == [
        "quizzes/gone.yaml:1: a link that leads nowhere (to a missing file, or in a loop)"
    ]


def test_a_loop_of_links_is_refused_with_its_path(tmp_path) -> None:
    write_library(tmp_path)
    (tmp_path / "lessons" / "a.md").symlink_to("b.md")
    (tmp_path / "lessons" / "b.md").symlink_to("a.md")
    assert library_problems(tmp_path) == [
        "lessons/a.md:1: a link that leads nowhere (to a missing file, or in a loop)",
        "lessons/b.md:1: a link that leads nowhere (to a missing file, or in a loop)",
    ]


def test_a_link_to_dev_zero_is_refused_without_being_read(tmp_path) -> None:
    write_library(tmp_path)
    (tmp_path / "quizzes" / "zero.gift").symlink_to("/dev/zero")
    assert library_problems(tmp_path) == [
        "quizzes/zero.gift:1: a link to /dev/zero, outside the library; copy the file in instead"
    ]


def test_a_link_to_a_file_outside_the_library_is_refused(tmp_path) -> None:
    outside = tmp_path / "elsewhere" / "greeting.yaml"
    outside.parent.mkdir()
    outside.write_text(QUIZ, encoding="utf-8")
    root = write_library(tmp_path / "content", {"quizzes/greeting.yaml": None})
    (root / "quizzes" / "greeting.yaml").symlink_to(outside)
    assert [str(p) for p in load_library(root).problems] == [
        f"quizzes/greeting.yaml:1: a link to {outside}, outside the library; "
        "copy the file in instead"
    ]


def test_a_link_to_a_file_inside_the_library_is_read_as_that_file(tmp_path) -> None:
    root = write_library(tmp_path, {"lessons/greeting.md": None})
    (root / "drafts").mkdir()
    (root / "drafts" / "greeting.md").write_text(LESSON, encoding="utf-8")
    (root / "lessons" / "greeting.md").symlink_to("../drafts/greeting.md")
    library = load_library(root)
    assert library.problems == []
    assert library.lessons["greeting"].title == "Greeting at the counter"


def test_a_named_pipe_is_refused_without_being_opened(tmp_path) -> None:
    # Opening a pipe nobody writes to waits for ever.
    write_library(tmp_path)
    os.mkfifo(tmp_path / "quizzes" / "pipe.gift")
    assert library_problems(tmp_path) == [
        "quizzes/pipe.gift:1: this is a named pipe, not a text file; content files are text files"
    ]


def test_a_file_over_1_mb_is_refused_unread(tmp_path) -> None:
    huge = "// a comment line\n" * (MAX_FILE_BYTES // 18 + 1)
    assert library_problems(tmp_path, {"quizzes/bank.gift": huge}) == [
        "quizzes/bank.gift:1: the file is larger than 1 MB, the most a content file may be; "
        "split it into several"
    ]


def test_a_file_of_exactly_1_mb_is_read(tmp_path) -> None:
    question = "::q:: Pick one {=a ~b}\n"
    gift = question + "// padding\n" * ((MAX_FILE_BYTES - len(question)) // 11)
    gift += "/" * (MAX_FILE_BYTES - len(gift))
    assert len(gift) == MAX_FILE_BYTES
    assert library_problems(tmp_path, {"quizzes/bank.gift": gift}) == []


@pytest.mark.parametrize("name", ["Bad Name.gift", "bank_1.gift", "Warm-Handover.gift"])
def test_a_gift_file_name_that_is_not_an_id_is_refused(tmp_path, name: str) -> None:
    gift = "::q:: Pick one {=a ~b}\n"
    stem = name.removesuffix(".gift")
    assert library_problems(tmp_path, {f"quizzes/{name}": gift}) == [
        f'quizzes/{name}:1: the file name "{stem}" is not an id: {NOT_AN_ID}'
    ]


def test_a_file_name_longer_than_an_id_is_refused(tmp_path) -> None:
    name = "a" * 121
    assert library_problems(tmp_path, {f"quizzes/{name}.gift": "::q:: Pick {=a ~b}\n"}) == [
        f'quizzes/{name}.gift:1: the file name "{name}" is not an id: {NOT_AN_ID}'
    ]


def test_a_file_name_with_control_characters_and_bad_bytes_is_shown_escaped(
    tmp_path, request
) -> None:
    root = write_library(tmp_path / "content")
    with open(os.fsencode(root / "lessons") + b"/\xff\x1b[2J.md", "w") as handle:
        handle.write(LESSON)
    app = make_app(tmp_path, "sqlite", request, CONTENT_DIR=str(root))

    result = app.test_cli_runner().invoke(args=["content", "check"])

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f'lessons/\\xff\\u001b[2J.md:1: the file name "\\xff\\u001b[2J" is not an id: {NOT_AN_ID}',
        "1 problem(s) found.",
    ]


def test_files_whose_names_start_with_a_dot_are_skipped(tmp_path) -> None:
    # Emacs keeps a dangling link `.#name` while a file is edited; vim keeps `.name.swp`.
    write_library(tmp_path)
    (tmp_path / "lessons" / ".#greeting.md").symlink_to("sam@laptop.1234:1700000000")
    (tmp_path / "quizzes" / ".greeting.yaml").write_text("not: [a quiz", encoding="utf-8")
    library = load_library(tmp_path)
    assert library.problems == []
    assert list(library.lessons) == ["greeting"]


def test_a_broken_paths_file_is_refused_like_any_other(tmp_path) -> None:
    root = write_library(tmp_path, {"lessons/paths.yaml": None})
    (root / "lessons" / "paths.yaml").mkdir()
    assert [str(p) for p in load_library(root).problems] == [
        "lessons/paths.yaml:1: this is a folder, not a text file; content files are text files"
    ]


def test_check_and_sync_refuse_every_such_file_and_load_nothing(tmp_path, request) -> None:
    root = write_library(tmp_path / "content")
    (root / "lessons" / "x.md").mkdir()
    (root / "quizzes" / "zero.yaml").symlink_to("/dev/zero")
    os.mkfifo(root / "quizzes" / "pipe.gift")
    app = make_app(tmp_path, "sqlite", request, CONTENT_DIR=str(root))
    expected = [
        "lessons/x.md:1: this is a folder, not a text file; content files are text files",
        "quizzes/pipe.gift:1: this is a named pipe, not a text file; content files are text files",
        "quizzes/zero.yaml:1: a link to /dev/zero, outside the library; copy the file in instead",
    ]

    check = app.test_cli_runner().invoke(args=["content", "check"])
    sync = app.test_cli_runner().invoke(args=["content", "sync"])

    assert check.exit_code == 1
    assert check.output.splitlines() == [*expected, "3 problem(s) found."]
    assert sync.exit_code == 1
    assert sync.output.splitlines()[:3] == expected
    assert "nothing was loaded" in sync.output
