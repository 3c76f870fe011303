"""Content text to safe HTML. Nothing from a file or a learner reaches a page unescaped."""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

# Raw HTML in Markdown is shown as text; the sanitiser is a second wall behind that.
_md = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table")

_ALLOWED_TAGS = {
    "p", "br", "em", "strong", "b", "i", "u", "ul", "ol", "li", "blockquote", "code", "pre",
    "h2", "h3", "h4", "a", "table", "thead", "tbody", "tr", "th", "td", "hr", "span", "sub",
    "sup",
}  # fmt: skip


def _clean(html: str) -> str:
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )


@lru_cache(maxsize=4096)
def render(text: str, text_format: str = "markdown", inline: bool = False) -> Markup:
    """Render `text` written in `text_format` (markdown, html or plain) to safe HTML."""
    if not text:
        return Markup("")
    if text_format == "plain":
        html = str(escape(text)).replace("\n", "<br>\n")
        return Markup(html if inline else f"<p>{html}</p>")
    if text_format == "html":
        return Markup(_clean(text))
    html = _md.renderInline(text) if inline else _md.render(text)
    return Markup(_clean(html))
