"""Formatted text: Markdown typed in the app turned into HTML (raw HTML in it shows as text),
and any HTML (the API's too) sanitised before it is stored (`sanitize`)."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

LIMIT = 50_000  # characters of Markdown read; the stored HTML is limited by its model

# CommonMark without raw HTML, plus strikethrough and tables off: what a note needs.
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True})


def from_markdown(text: str) -> str:
    """The HTML of `text`; "" for blank text."""
    if not text.strip():
        return ""
    return _MARKDOWN.render(text[:LIMIT]).strip()


_TEXT_TAGS = {"p", "br", "b", "strong", "i", "em", "u", "s", "blockquote", "code", "pre"}
_ALLOWED_TAGS = _TEXT_TAGS | {"ul", "ol", "li", "a", "h3", "h4"}
_LINK_SCHEMES = ("http://", "https://", "mailto:")


def _only_absolute_links(tag: str, attribute: str, value: str) -> str | None:
    # nh3 drops unknown schemes (javascript:) but keeps relative URLs; a link in a note must
    # leave the app, so keep only absolute http(s) and mailto links.
    if attribute == "href" and not value.strip().lower().startswith(_LINK_SCHEMES):
        return None
    return value


_CLEANER = nh3.Cleaner(
    tags=_ALLOWED_TAGS,
    attributes={"a": {"href"}},
    url_schemes={"http", "https", "mailto"},
    link_rel="noopener",
    attribute_filter=_only_absolute_links,
)


def sanitize(html: str | None) -> str:
    """The HTML with only basic formatting and http(s)/mailto links kept; scripts, event
    handlers and styles go."""
    return _CLEANER.clean(html or "")
