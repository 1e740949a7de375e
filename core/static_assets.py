"""Static files (CSS, JavaScript, images) with their content's hash in the URL.

``url_for('static', filename='css/site.css')`` gives ``/static/css/site.css?v=<hash>``.
Asked for with the current hash, a file is sent with ``Cache-Control: public,
max-age=31536000, immutable``: a browser keeps it for a year and never asks
again, and a new deploy changes the hash, so the new file is fetched at once.
Asked for without it (or with an old hash), it must be revalidated (``no-cache``;
Flask sends an ETag and Last-Modified with every file).
https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Cache-Control#caching_static_assets
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable

from flask import Flask, has_request_context, request
from werkzeug.security import safe_join

IMMUTABLE = "public, max-age=31536000, immutable"
HASH_LENGTH = 12


class StaticHashes:
    """Each static file's content hash. While ``watch()`` says so (development, like
    Flask's template reloading), computed once per version of the file (its size and
    modification time), so a file edited while the app runs gets a new one; otherwise
    once per process, as a deploy's files do not change under it (a page links to
    several, so this saves a stat each)."""

    def __init__(self, folder: str, watch: Callable[[], bool] = lambda: True):
        self.folder = folder
        self.watch = watch
        self._known: dict[str, tuple[tuple[int, int], str]] = {}

    def of(self, filename: str) -> str | None:
        """The file's hash, or None when there is no such file."""
        known = self._known.get(filename)
        if known is not None and not self.watch():
            return known[1]
        path = safe_join(self.folder, filename)
        if path is None:
            return None
        try:
            stat = os.stat(path)
        except OSError:
            return None
        version = (stat.st_mtime_ns, stat.st_size)
        if known is None or known[0] != version:
            with open(path, "rb") as handle:
                digest = hashlib.sha256(handle.read()).hexdigest()[:HASH_LENGTH]
            known = self._known[filename] = (version, digest)
        return known[1]


def init_app(app: Flask) -> None:
    hashes = StaticHashes(app.static_folder,
                          watch=lambda: app.debug or app.testing
                          or bool(app.config["TEMPLATES_AUTO_RELOAD"]))

    @app.url_defaults
    def _add_content_hash(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            digest = hashes.of(values["filename"])
            if digest:
                values["v"] = digest

    # A page links to several static files (base.html alone to seven), and each address
    # took 14 µs to build through the routing map, its hash in the query string. While
    # the files cannot change under the process (not watched), the templates' url_for
    # keeps each file's address, per script root (the app's prefix behind a proxy).
    build = app.jinja_env.globals["url_for"]
    addresses: dict[tuple[str, str], str] = {}

    def url_for_in_templates(endpoint: str, **values) -> str:
        if (endpoint != "static" or values.keys() != {"filename"}
                or not has_request_context() or hashes.watch()):
            return build(endpoint, **values)
        key = (request.script_root, values["filename"])
        address = addresses.get(key)
        if address is None:
            address = addresses[key] = build(endpoint, **values)
        return address

    app.jinja_env.globals["url_for"] = url_for_in_templates

    @app.after_request
    def _cache_hashed_files(response):
        if request.endpoint == "static" and response.status_code in (200, 304):
            asked = request.args.get("v")
            current = hashes.of(request.view_args.get("filename", "")) if asked else None
            response.headers["Cache-Control"] = (IMMUTABLE if asked and asked == current
                                                 else "no-cache")
        return response
