"""User Markdown to safe HTML: the one place user text becomes markup.

markdown-it-py renders (with raw HTML disabled), then bleach keeps only an
allowlist of tags and attributes and marks links rel="nofollow ugc noopener".
Everything else in templates is autoescaped by Jinja2.
"""

from __future__ import annotations

import threading
from functools import lru_cache

import bleach
from bleach.linkifier import Linker
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li",
    "a", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td",
}
ALLOWED_ATTRIBUTES = {"a": ["href", "title", "rel"], "th": ["align"], "td": ["align"]}
ALLOWED_PROTOCOLS = {"http", "https", "mailto"}

_md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def _link_rel(attrs, new=False):
    attrs[(None, "rel")] = "nofollow ugc noopener"
    return attrs


# bleach's Cleaner and Linker keep parser state while they work ("not thread-safe
# ... Create a separate cleaner per thread!"), and gunicorn's gthread workers render
# pages in several threads at once: one pair per thread.
_per_thread = threading.local()


def sanitizers() -> tuple[bleach.Cleaner, Linker]:
    """This thread's cleaner and linker."""
    if not hasattr(_per_thread, "cleaner"):
        _per_thread.cleaner = bleach.Cleaner(tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                                             protocols=ALLOWED_PROTOCOLS, strip=True)
        _per_thread.linker = Linker(callbacks=[_link_rel], skip_tags={"pre", "code"},
                                    parse_email=False)
    return _per_thread.cleaner, _per_thread.linker


def _demote_headings(html: str) -> str:
    # Page structure owns h1/h2; user headings start at h3.
    for level in (2, 1):
        html = html.replace(f"<h{level}>", "<h3>").replace(f"</h{level}>", "</h3>")
    return html


def render_markdown(text: str | None) -> Markup:
    """Render user Markdown to sanitized HTML safe to put in a page."""
    if not text:
        return Markup("")
    return _rendered(text)


# The same descriptions and changelogs are shown again and again, and sanitizing
# them was half of an app page's time; the result depends on the text alone.
@lru_cache(maxsize=2048)
def _rendered(text: str) -> Markup:
    html = _demote_headings(_md.render(text))
    cleaner, linker = sanitizers()
    return Markup(linker.linkify(cleaner.clean(html)))


# Between two blocks of plain text (a heading and a list item, say) a middle dot, unless
# the first ended like a sentence: a search snippet is a window of this text, and
# "What you get Multi-currency invoices Overdue…" would read as one sentence.
BLOCK_SEPARATOR = " · "
SENTENCE_END = (".", "!", "?", ":", ";", "…")


def markdown_to_text(text: str | None) -> str:
    """Plain text of user Markdown (for search documents and meta tags): its blocks
    (``markdown_blocks``) with a middle dot where one ended without punctuation.

    Read straight from markdown-it's tokens: rendering to HTML and stripping it
    again with bleach cost three times as much, which a 100k-listing reindex felt.
    Stored with each listing (``Listing.description_text``): a change here needs a
    migration that renders the stored texts again, as 0019 and 0026 do.
    """
    blocks = markdown_blocks(text)
    pieces: list[str] = []
    for block in blocks:
        if pieces:
            pieces.append(" " if pieces[-1].endswith(SENTENCE_END) else BLOCK_SEPARATOR)
        pieces.append(block)
    return "".join(pieces)


def markdown_blocks(text: str | None) -> tuple[str, ...]:
    """The plain text of each block of user Markdown (heading, paragraph, list
    item, table cell, code block), whitespace collapsed, empty ones left out.

    ``markdown_to_text`` joins them, marking where one ended."""
    if not text:
        return ()
    blocks: list[str] = []
    parts: list[str] = []
    for token in _md.parse(text):
        if token.type == "inline":
            for child in token.children or []:
                if child.type in ("text", "code_inline", "image"):
                    parts.append(child.content)
                elif child.type in ("softbreak", "hardbreak"):
                    parts.append(" ")
        elif token.type in ("code_block", "fence"):
            parts.append(token.content)
        if token.type.endswith("_close") or token.type in ("code_block", "fence"):
            block = " ".join("".join(parts).split())
            if block:
                blocks.append(block)
            parts = []
    block = " ".join("".join(parts).split())
    return tuple(blocks + [block] if block else blocks)
