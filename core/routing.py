"""URL converters and the rule class shared by every blueprint, and a cheaper
``url_for`` for links a page repeats."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from flask import g, url_for
from werkzeug.routing import IntegerConverter, Rule


class DatabaseIdConverter(IntegerConverter):
    """``<int:...>`` for database ids: a number past a 32-bit id column can't name
    a row, so the route answers 404 instead of a database error."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


class BuiltOnFirstUseRule(Rule):
    """werkzeug's ``Rule``, compiling the function that builds its URLs when one is
    first built instead of when the route is registered.

    werkzeug writes each rule's two URL builders as Python source and compiles them
    as the rule is added: about 0.3 ms a rule, 45 ms of every app made with our 150
    routes (half of ``create_app``). Every worker process, CLI command and test makes
    an app, and most of them build URLs for a few routes only. The builder compiled
    on first use is werkzeug's own (``Rule._compile_builder``), so the URLs are the
    same; two threads building at once may both compile it, harmlessly."""

    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        compile_builder = super()._compile_builder
        compiled: Callable[..., tuple[str, str]] | None = None

        def build(rule: Rule, *args, **values) -> tuple[str, str]:
            nonlocal compiled
            if compiled is None:
                compiled = compile_builder(append_unknown)
            return compiled(rule, *args, **values)

        return build


# A stand-in value: letters and digits only, so building and quoting leave it as it is.
_SLOT = "bazaarurlslot7q"
# What werkzeug's default (string) converter leaves unquoted in a path segment.
_PATH_SAFE = "!$&'()*+,/:;=@"


def _slug_url_parts(endpoint: str) -> tuple[str, str] | None:
    """The URL of ``endpoint`` split where its slug goes, built once per request (kept
    in ``g``); None when the slug is not one segment of the path."""
    templates = g.setdefault("_repeated_url_templates", {})
    parts = templates.get(endpoint)
    if parts is None:
        parts = templates[endpoint] = url_for(endpoint, slug=_SLOT).split(_SLOT)
    if len(parts) != 2 or "?" in parts[0]:  # not one path segment
        return None
    return parts[0], parts[1]


def repeated_url_for(endpoint: str, slug: str) -> str:
    """``url_for(endpoint, slug=slug)``, for the links a page builds once per card.

    Building a URL through werkzeug's routing map costs about 14 µs; a page of 24 cards
    builds four per card (the app, its icon, its category, its badges), a fifth of the
    CPU of a rendered category or results page. The first call in a request builds the
    URL with a stand-in slug through ``url_for`` (so the app's prefix, its url_defaults
    and the route are all honoured) and keeps it, split at the stand-in, in ``g``;
    later calls put the slug in, quoted as the string converter quotes it. A route
    whose slug is not a plain string in the path (the stand-in does not come back once,
    or comes back in the query string) is left to ``url_for`` each time."""
    return slug_urls(endpoint)(slug)


def slug_urls(endpoint: str) -> Callable[[str], str]:
    """``repeated_url_for`` of one endpoint as a function of the slug, for a page that
    builds many such links in one go (a grid's tiles): the split URL is looked up once."""
    parts = _slug_url_parts(endpoint)
    if parts is None:
        return lambda slug: url_for(endpoint, slug=slug)
    prefix, suffix = parts
    return lambda slug: prefix + quote(str(slug), safe=_PATH_SAFE) + suffix
