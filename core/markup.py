"""Markdown that staff and members write, rendered to HTML safe to put in a page.

The text is rendered with markdown-it-py (CommonMark, tables, strikethrough;
raw HTML in the text is not rendered but shown as text), then sanitised with nh3
(ammonia) against an allow-list: no script or style, no inline event handlers,
no ``javascript:`` links; every link gets ``rel="nofollow noopener"``; an image
is kept only when it comes from the site's own upload store (a path under one of
``image_prefixes``), so a post cannot make readers' browsers fetch another site.
"""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

MAX_CHARS = 100_000
"""The longest text rendered; a longer one is refused where it is written (a 1 MB body is an error, not a page)."""

TAGS = {
    "p",
    "br",
    "hr",
    "h2",
    "h3",
    "h4",
    "strong",
    "em",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "img",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"align"}, "td": {"align"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}
DEFAULT_IMAGE_PREFIXES = ("/media/",)


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
        ["table", "strikethrough"]
    )


def render(text: str, *, image_prefixes: tuple[str, ...] = DEFAULT_IMAGE_PREFIXES) -> Markup:
    """``text`` (Markdown) as sanitised HTML, marked safe for templates (``${structure: …}`` or ``${…}``)."""
    html = _parser().render((text or "")[:MAX_CHARS])

    def keep(tag: str, attribute: str, value: str) -> str | None:
        if tag == "img" and attribute == "src":
            own = value.startswith(image_prefixes) and not value.startswith("//")
            return value if own else None
        if tag == "h1":
            return None
        return value

    cleaned = nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener",
        attribute_filter=keep,
        strip_comments=True,
    )
    return Markup(cleaned)


def plain(text: str, limit: int = 200) -> str:
    """The first ``limit`` characters of ``text`` without its Markdown, for summaries, feeds and meta tags."""
    html = _parser().render((text or "")[:MAX_CHARS])
    words = " ".join(nh3.clean(html, tags=set()).split())
    return words if len(words) <= limit else words[: limit - 1].rstrip() + "…"
