"""The app's cache (Flask-Caching): rendered catalog pages and other answers that
are costly to compute and change only when the catalog does.

``CACHE_URL`` chooses where it lives: ``memory://`` (the default) keeps a cache in
each process; ``redis://...`` shares one between every worker and host, so a page
is rendered once for all of them. ``CATALOG_CACHE_SECONDS=0`` turns it off.

Entries are keyed by what they depend on (``listings.catalog_cache`` puts the
catalog's version in the key), so nothing here has to invalidate anything: a
change makes new keys, and old entries expire or are pushed out.
https://flask-caching.readthedocs.io/en/latest/#configuring-flask-caching
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app
from flask_caching import Cache

log = logging.getLogger(__name__)

EXTENSION_KEY = "bazaar.cache"
# Per-process entries kept at most; beyond it the memory cache drops the oldest. A kept
# page takes up to three (plain, brotli, gzip: core/http_caching.py).
MEMORY_ENTRIES = 3000
T = TypeVar("T")


def init_app(app: Flask) -> None:
    seconds = app.config["CATALOG_CACHE_SECONDS"]
    url = app.config["CACHE_URL"]
    if seconds == 0:
        config = {"CACHE_TYPE": "NullCache", "CACHE_NO_NULL_WARNING": True}
    elif url.startswith("memory://"):
        config = {"CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": MEMORY_ENTRIES}
    else:
        config = {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": url,
                  "CACHE_KEY_PREFIX": "bazaar:"}
    config["CACHE_DEFAULT_TIMEOUT"] = seconds
    app.extensions[EXTENSION_KEY] = Cache(app, config=config)


def remember(key: str, compute: Callable[[], T],
             keep: Callable[[T], bool] = lambda value: True) -> T:
    """The value cached under ``key``, else ``compute()``, cached for next time
    when ``keep(value)`` says so.

    A cache that cannot be reached (Redis down) costs speed, never the page: the
    value is computed and the failure logged."""
    cache: Cache = current_app.extensions[EXTENSION_KEY]
    try:
        value = cache.get(key)
    except Exception as error:  # noqa: BLE001  (any storage failure is a miss)
        log.warning("Cache unavailable (%s); computing %s", type(error).__name__, key)
        return compute()
    if value is None:
        value = compute()
        if not keep(value):
            return value
        try:
            cache.set(key, value)
        except Exception as error:  # noqa: BLE001
            log.warning("Cache unavailable (%s); %s not kept", type(error).__name__, key)
    return value
