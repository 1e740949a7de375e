"""HTTP caching of pages that are the same for every anonymous visitor.

Such a page gets a weak ETag made from what it depends on (the catalog's version
and the URL), ``Cache-Control: public, no-cache`` (a browser or proxy may keep
it but asks again each time) and ``Vary: Cookie`` (a signed-in visitor's page
differs). Asked again with that ETag in ``If-None-Match``, the answer is a 304
without rendering anything. Weak, because the same page goes out gzipped,
brotli'd or plain (Flask-Compress leaves weak ETags as they are).
https://developer.mozilla.org/en-US/docs/Web/HTTP/Caching#etagif-none-match

A signed-in visitor, or one with a message waiting to be shown (a flash), gets
the page rendered for them, marked ``private``.

A kept page is kept compressed, once per encoding asked for (brotli, gzip, or
plain), at Flask-Compress's levels: compressing the home page costs more than
sending it from the cache (bench/pages). A page that is seldom asked for twice
(search results: endless combinations of words, filters and pages) is compressed
at the fastest level instead, since it pays for its compression on nearly every
visit: for a results page, brotli's quality 1 took a fifth of quality 4's time
(0.04 against 0.19 ms) for 16% more bytes (5.7 against 4.9 KB of 37 KB).

Flask-Compress leaves a response that already has a ``Content-Encoding`` as it is,
and still adds ``Vary: Accept-Encoding``.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable

import brotli
from flask import Response, current_app, make_response, request, session
from flask_login import current_user

from core.cache import remember
from core.money import request_locale


def same_for_every_visitor() -> bool:
    """True when this visitor sees what any anonymous visitor sees."""
    return not current_user.is_authenticated and not session.get("_flashes")


def public_page(version: str | None, render: Callable[[], str], keep_as: str,
                seldom_repeated: bool = False) -> Response:
    """The page ``render`` makes, with the headers above; a 304 when the visitor's
    copy is still this ``version`` of it.

    For anonymous visitors the rendered page is also kept in the app's cache
    under ``version`` and ``keep_as``, which must name everything the page shows
    (e.g. the app and the page of its reviews); compressed at the fastest level when
    it is ``seldom_repeated``."""
    if version is None or not same_for_every_visitor():
        response = make_response(render())
        response.headers["Cache-Control"] = "private, no-cache"
        return response
    # Prices are written in the visitor's locale (core.money): one copy per locale.
    locale = request_locale()
    etag = hashlib.sha256(f"{version} {locale} {request.full_path}".encode()).hexdigest()[:32]
    if request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    else:
        key = f"page:{version}:{locale}:{keep_as}"
        encoding = kept_encoding()
        if encoding is None:
            response = make_response(remember(key, render))
        else:
            # Only the encoded copy is kept: nearly every browser asks for the same
            # encoding, and a plain copy beside it would take five times the room.
            response = make_response(remember(f"{key}:{encoding}", lambda: compressed(
                render().encode(), encoding, fastest=seldom_repeated)))
            response.headers["Content-Encoding"] = encoding
            response.vary.add("Accept-Encoding")
    response.set_etag(etag, weak=True)
    response.headers["Cache-Control"] = "public, no-cache"
    response.vary.add("Cookie")
    response.vary.add("Accept-Language")
    return response


def kept_encoding() -> str | None:
    """The encoding a kept page goes out in: brotli, else gzip, when the client takes
    it and responses are compressed at all (``COMPRESS_RESPONSES``); else None."""
    if not current_app.config["COMPRESS_RESPONSES"]:
        return None
    accepted = request.accept_encodings
    return next((coding for coding in ("br", "gzip") if accepted[coding]), None)


def compressed(body: bytes, encoding: str, fastest: bool = False) -> bytes:
    """``body`` compressed as Flask-Compress would (its configured levels), or at the
    ``fastest`` level (1, for brotli and gzip alike)."""
    config = current_app.config
    if encoding == "br":
        return brotli.compress(body, quality=1 if fastest else config["COMPRESS_BR_LEVEL"])
    return gzip.compress(body, compresslevel=1 if fastest else config["COMPRESS_LEVEL"])
