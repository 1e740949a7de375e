"""The HTML part of a message, made safe to show inside an admin page.

The page's Content-Security-Policy (core/security.py) allows no inline style or
script, and a message's HTML is ours but built from user text; so it is shown
through bleach's allowlist, like user Markdown (core/markdown.py): structure,
text and links stay (the links clickable, opening in a new tab), everything else
goes. The exact HTML sent is shown beside it as source.
"""

from __future__ import annotations

import re
import threading

import bleach
from bleach.linkifier import Linker
from markupsafe import Markup

ALLOWED_TAGS = {
    "p", "br", "strong", "b", "em", "i", "u", "code", "pre", "blockquote", "ul", "ol", "li",
    "a", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td",
    "div", "span",
}
ALLOWED_ATTRIBUTES = {"a": ["href", "title"]}
ALLOWED_PROTOCOLS = {"http", "https", "mailto"}
BODY = re.compile(r"<body[^>]*>(.*)</body>", re.IGNORECASE | re.DOTALL)
# Whole elements whose text must not show up as page text once the tags are gone.
HIDDEN = re.compile(r"<(head|style|script|title)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)



def _new_tab(attrs, new=False):
    attrs[(None, "target")] = "_blank"
    attrs[(None, "rel")] = "noopener noreferrer"
    return attrs


# bleach's Cleaner and Linker are not thread-safe: one pair per thread (core/markdown.py).
_per_thread = threading.local()


def sanitizers() -> tuple[bleach.Cleaner, Linker]:
    """This thread's cleaner and linker."""
    if not hasattr(_per_thread, "cleaner"):
        _per_thread.cleaner = bleach.Cleaner(tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                                             protocols=ALLOWED_PROTOCOLS, strip=True)
        _per_thread.linker = Linker(callbacks=[_new_tab], parse_email=False)
    return _per_thread.cleaner, _per_thread.linker


def safe_preview(html: str) -> Markup:
    """The body of ``html`` with only harmless tags and http(s)/mailto links left."""
    found = BODY.search(html or "")
    body = HIDDEN.sub("", found.group(1) if found else html or "")
    cleaner, linker = sanitizers()
    return Markup(linker.linkify(cleaner.clean(body)))
