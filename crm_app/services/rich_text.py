"""Formatted text typed in the app: Markdown (bold, italics, lists, links, quotes) turned
into HTML. Raw HTML in the text is shown as text, never passed through; the services that
store the HTML sanitise it as well (`activity.clean_body`), as they do for the API's."""

from __future__ import annotations

from markdown_it import MarkdownIt

LIMIT = 50_000  # characters of Markdown read; the stored HTML is limited by its model

# CommonMark without raw HTML, plus strikethrough and tables off: what a note needs.
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True})


def from_markdown(text: str) -> str:
    """The HTML of `text`; "" for blank text."""
    if not text.strip():
        return ""
    return _MARKDOWN.render(text[:LIMIT]).strip()
