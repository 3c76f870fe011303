"""Content and learner text reach pages only as safe HTML.

`render` is checked on hostile strings in each text format, then end to end: hostile text in
a synced lesson file, and in a learner's role-play answer, is shown escaped on the page.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from tests.conftest import form_token, sync_starter_library
from trainer.content.gift import parse_gift
from trainer.content.render import render

SCRIPT = "<script>alert(1)</script>"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
SAFE_SCHEMES = {"", "http", "https", "mailto"}  # "" is a link within the site


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs) -> None:
        self.elements.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    """Every element a browser would build from `html`: (tag, attributes)."""
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser.elements


def tags(html: str) -> list[str]:
    return [tag for tag, _ in elements(html)]


def without_own_scripts(page: str) -> str:
    """A page without the app's own script files (static/), the only scripts it may carry."""
    return re.sub(r'<script src="/static/[^"<>]+" defer></script>', "", page)


def assert_harmless(html: str) -> None:
    """No script or embedded content, no event handler, no javascript: (or other) URL."""
    for tag, attrs in elements(html):
        assert tag not in {"script", "iframe", "img", "svg", "style", "object", "embed"}, html
        for name, value in attrs.items():
            assert not name.startswith("on"), f"{name} on <{tag}>"
            if name in {"href", "src", "action", "formaction"}:
                scheme = urlsplit((value or "").strip()).scheme.lower()
                assert scheme in SAFE_SCHEMES, f'{name}="{value}" on <{tag}>'


# --- markdown (the default) -----------------------------------------------------------------

HOSTILE_MARKDOWN = [
    SCRIPT,
    f"Welcome the customer. {SCRIPT}",
    '<img src="x" onerror="alert(1)">',
    '<a href="https://example.com" onclick="alert(1)">site</a>',
    "[call us](javascript:alert(1))",
    "[call us](JavaScript:alert(1))",
    "[call us](javascript&#58;alert(1))",
    "![photo](javascript:alert(1))",
    "[call us][ref]\n\n[ref]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<div onmouseover="alert(1)">hover</div>',
    "<iframe src='https://evil.example'></iframe>",
    "<!-- hidden --><script>alert(1)</script>",
    '[site](https://example.com "x\\" onmouseover=\\"alert(1)")',
]


@pytest.mark.parametrize("text", HOSTILE_MARKDOWN)
@pytest.mark.parametrize("inline", [False, True])
def test_hostile_markdown_renders_harmless(text: str, inline: bool) -> None:
    html = render(text, "markdown", inline)
    assert_harmless(html)
    assert "<script" not in html.lower()


def test_script_in_markdown_is_shown_as_text() -> None:
    html = render(f"Say hello. {SCRIPT}")
    assert tags(html) == ["p"]
    assert ESCAPED_SCRIPT in html


def test_raw_html_in_markdown_is_shown_as_text_not_markup() -> None:
    html = render('<b onclick="alert(1)">Be quick</b> and <em>polite</em>')
    assert tags(html) == ["p"]
    assert "&lt;b onclick=" in html
    assert "&lt;em&gt;polite&lt;/em&gt;" in html


def test_html_block_in_markdown_is_shown_as_text() -> None:
    html = render('<div class="x">\n<script>alert(1)</script>\n</div>\n\nAfter.')
    assert "script" not in tags(html)
    assert "div" not in tags(html)
    assert ESCAPED_SCRIPT in html


def test_javascript_link_in_markdown_is_not_a_link() -> None:
    html = render("[Open the account](javascript:alert(1))")
    assert "a" not in tags(html)


def test_markdown_still_renders_ordinary_formatting_and_safe_links() -> None:
    html = render("**Smile**, *then* speak.\n\n- one\n- two\n\n[Guide](https://example.com/guide)")
    assert tags(html) == ["p", "strong", "em", "ul", "li", "li", "p", "a"]
    link = dict(elements(html))["a"]
    assert link["href"] == "https://example.com/guide"
    assert link["rel"] == "noopener noreferrer"


def test_code_in_markdown_shows_tags_as_text() -> None:
    html = render(f"```\n{SCRIPT}\n```")
    assert tags(html) == ["pre", "code"]
    assert ESCAPED_SCRIPT in html


# --- [html] ---------------------------------------------------------------------------------


def test_html_format_keeps_emphasis_and_drops_scripts_and_handlers() -> None:
    html = render(
        f'What is the <em>best</em> way?{SCRIPT}<b onclick="alert(1)">Now</b>'
        '<img src="x" onerror="alert(1)"><a href="javascript:alert(1)">go</a>',
        "html",
    )
    assert_harmless(html)
    assert "<em>best</em>" in html
    assert "<b>Now</b>" in html
    assert "alert(1)" not in html
    assert "script" not in tags(html)


def test_html_format_drops_unsafe_link_schemes_but_keeps_safe_ones() -> None:
    html = render(
        '<a href="JAVASCRIPT:alert(1)">bad</a> <a href="https://example.com">good</a>', "html"
    )
    links = [attrs for tag, attrs in elements(html) if tag == "a"]
    assert [link.get("href") for link in links] == [None, "https://example.com"]


@pytest.mark.parametrize(
    "text",
    [
        "<svg onload=alert(1)></svg>",
        "<iframe src=https://evil.example></iframe>",
        "<style>body{display:none}</style>",
        '<p style="background:url(javascript:alert(1))">x</p>',
        '<form action="https://evil.example"><button formaction="javascript:alert(1)">',
    ],
)
def test_html_format_drops_other_active_content(text: str) -> None:
    html = render(text, "html")
    assert_harmless(html)
    assert "style=" not in html
    assert "form" not in tags(html)


# --- [plain] --------------------------------------------------------------------------------


def test_plain_format_escapes_everything() -> None:
    html = render(f'<em>not emphasis</em> & {SCRIPT} <a href="javascript:x">', "plain")
    assert tags(html) == ["p"]
    assert "&lt;em&gt;not emphasis&lt;/em&gt; &amp; " in html
    assert ESCAPED_SCRIPT in html


def test_plain_format_keeps_line_breaks_and_no_markdown() -> None:
    html = render("**not bold**\nsecond line", "plain", inline=True)
    assert html == "**not bold**<br>\nsecond line"


def test_unknown_format_text_is_rendered_safely() -> None:
    assert_harmless(render(SCRIPT + '<img src=x onerror="alert(1)">', "moodle"))


# --- a backslash written in GIFT -----------------------------------------------------------


def visible(html: str) -> str:
    """The text a reader sees in `html`."""
    return unescape(re.sub(r"<[^>]*>", "", str(html)))


@pytest.mark.parametrize("tag", ["", "[markdown]", "[html]", "[plain]", "[moodle]"])
def test_an_escaped_backslash_in_gift_shows_as_one_backslash_in_every_format(tag: str) -> None:
    quiz, problems = parse_gift(
        f"::q::{tag} Save it as C\\:\\\\*.txt {{=a\\\\*b#c\\\\-d ~e ####f\\\\[g]}}",
        "quizzes/q.gift",
        "q",
    )
    assert problems == []
    item = quiz.items[0]
    right = item.choices[0]
    assert visible(render(item.prompt, item.text_format)).strip() == "Save it as C:\\*.txt"
    assert visible(render(right.text, item.text_format, inline=True)) == "a\\*b"
    assert visible(render(right.feedback, item.text_format, inline=True)) == "c\\-d"
    assert visible(render(item.explanation, item.text_format)).strip() == "f\\[g]"


# --- end to end -----------------------------------------------------------------------------


def page_text(response) -> str:
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_script_in_a_lesson_file_is_shown_escaped(
    app, content_dir, make_user, auth, client
) -> None:
    lesson_file = content_dir / "lessons" / "closing-the-call.md"
    text = lesson_file.read_text(encoding="utf-8")
    text = text.replace(
        "## The scenario\n",
        f'## The scenario\n\nWatch out: {SCRIPT} <img src="x" onerror="alert(2)">\n'
        "[call back](javascript:alert(3))\n",
    )
    text = text.replace(
        "## What good looks like\n", f"## What good looks like\n\n<div>{SCRIPT}</div>\n"
    )
    text = text.replace("title: Closing the call", "title: Closing <b>the</b> call")
    lesson_file.write_text(text, encoding="utf-8")
    app.config["CONTENT_DIR"] = str(content_dir)
    sync_starter_library(app)
    make_user(job_role="contact-centre")
    auth.login()

    for url in ("/lessons/closing-the-call", "/lessons/closing-the-call/key-points"):
        page = page_text(client.get(url))
        assert "<script" not in without_own_scripts(page).lower()
        assert ESCAPED_SCRIPT in page
        assert_harmless(without_own_scripts(page))
    scenario = page_text(client.get("/lessons/closing-the-call"))
    assert "Watch out:" in scenario
    assert "&lt;img src=" in scenario
    assert "Closing &lt;b&gt;the&lt;/b&gt; call" in scenario
    assert "[call back](javascript:alert(3))" in scenario  # left as text, not made a link


def test_html_quiz_item_keeps_emphasis_but_not_script_on_the_page(
    app, content_dir, make_user, auth, client
) -> None:
    gift = content_dir / "quizzes" / "warm-handover.gift"
    text = gift.read_text(encoding="utf-8")
    old = "What is the <em>best</em> way to hand over?"
    assert old in text
    gift.write_text(
        text.replace(old, f'What is the <em>best</em> way<img src=x onerror="alert(1)">{SCRIPT}?'),
        encoding="utf-8",
    )
    app.config["CONTENT_DIR"] = str(content_dir)
    sync_starter_library(app)
    make_user(job_role="teller")
    auth.login()

    page = page_text(client.get("/lessons/warm-handover/quiz/4"))  # ::counter-introduction::
    assert "What is the <em>best</em> way" in page
    assert all(
        tag.startswith('<script src="/static/') for tag in re.findall(r"<script[^>]*>", page, re.I)
    )
    assert "alert(1)" not in page
    assert_harmless(without_own_scripts(page))


def test_script_in_a_roleplay_answer_is_shown_escaped(library_app, make_user, auth, client):
    make_user(job_role="contact-centre")
    auth.login()
    url = "/lessons/closing-the-call/roleplay/1"
    token = form_token(page_text(client.get(url)))
    said = f'Thanks, Jade. {SCRIPT}<img src="x" onerror="alert(2)">'

    response = client.post(url, data={"text": said, "token": token})
    assert response.status_code == 303
    page = page_text(client.get(url))

    assert "You said" in page
    assert f"Thanks, Jade. {ESCAPED_SCRIPT}&lt;img src=" in page
    assert "<script" not in without_own_scripts(page).lower()
    assert_harmless(without_own_scripts(page))


def test_an_answer_in_html_of_its_own_shows_as_html_without_its_script(
    app, content_dir, make_user, auth, client
) -> None:
    gift = content_dir / "quizzes" / "warm-handover.gift"
    text = gift.read_text(encoding="utf-8")
    edits = {
        "~Press transfer straight away to save them time#A cold transfer": (
            f"~[html]Press <b>transfer</b> straight away{SCRIPT}#[plain]A *cold* transfer"
        ),
        "####A warm handover": "####[html]A <em>warm</em> handover",
    }
    for old, new in edits.items():
        assert text.count(old) == 1
        text = text.replace(old, new)
    gift.write_text(text, encoding="utf-8")
    app.config["CONTENT_DIR"] = str(content_dir)
    sync_starter_library(app)
    make_user(job_role="teller")
    auth.login()
    url = "/lessons/warm-handover/quiz/1"  # ::transfer-first-step::, a markdown item

    page = page_text(client.get(url))
    assert "What do you do <strong>first</strong>?" in page
    assert "Press <b>transfer</b> straight away" in page
    assert "<script" not in without_own_scripts(page).lower()
    assert_harmless(without_own_scripts(page))

    response = client.post(url, data={"choice": "1", "token": form_token(page), "shown": "0"})
    feedback = page_text(client.get(response.location))
    assert "Press <b>transfer</b> straight away" in feedback
    assert "A *cold* transfer usually means" in feedback  # [plain]: shown as typed
    assert "A <em>warm</em> handover starts with telling" in feedback
    assert "<script" not in without_own_scripts(feedback).lower()
    assert_harmless(without_own_scripts(feedback))
