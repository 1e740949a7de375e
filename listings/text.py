"""The rules for text a listing stores: URL slugs, tags, and names and descriptions
without control characters, in Unicode's composed form. Shared by the input
models (``listings.models``), the catalog import and the services."""

from __future__ import annotations

import re
from collections.abc import Callable

from slugify import slugify as _slugify

from core.text import composed

MAX_SLUG_LENGTH = 80


def slugify(text: str) -> str:
    """A URL's name for ``text``: lowercase ASCII letters, digits and hyphens, at most
    80 characters; accented letters and other scripts spelt in ASCII ("Café Rota"
    -> "cafe-rota", "Straße" -> "strasse"), by python-slugify.
    https://github.com/un33k/python-slugify"""
    return _slugify(text, max_length=MAX_SLUG_LENGTH).strip("-")


def first_free_slug(base: str, is_taken: Callable[[str], bool]) -> str:
    """``base``, or else ``base-2``, ``base-3``... the first not taken, cut so it still
    fits a slug's length (and never with two hyphens in a row)."""
    slug, number = base, 2
    while is_taken(slug):
        suffix = f"-{number}"
        slug, number = base[:MAX_SLUG_LENGTH - len(suffix)].rstrip("-") + suffix, number + 1
    return slug


def tag_of(text: str) -> str:
    """A tag as listings keep it: lowercase words joined by hyphens, in their own
    letters ("crème brûlée" -> "crème-brûlée", "日本語" stays), since tags are
    searched for as typed, not put in URLs."""
    return _slugify(text, allow_unicode=True)


# Control characters a single line of text may not hold (NUL is not even valid HTML).
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# A description may span lines: tabs, line feeds and carriage returns are allowed.
CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def composed_text(value: str, control: re.Pattern = CONTROL) -> str:
    """``value`` in Unicode's composed form (an accent typed or pasted as a letter
    plus a combining mark is stored as one letter), refused if it holds a control
    character."""
    if control.search(value):
        raise ValueError("must not contain control characters")
    return composed(value)
