"""The app's cache (Flask-Caching): rendered catalog pages and other answers that
are costly to compute and change only when the catalog does.

``CACHE_URL`` chooses where it lives: ``memory://`` (the default) keeps a cache in
each process, of at most ``CACHE_MEMORY_MB``; ``redis://...`` shares one between every
worker and host, so a page is rendered once for all of them.
``CATALOG_CACHE_SECONDS=0`` turns it off.

Entries are keyed by what they depend on (``listings.catalog_cache`` puts the
catalog's version in the key), so nothing here has to invalidate anything: a
change makes new keys, and old entries expire or are pushed out.
https://flask-caching.readthedocs.io/en/latest/#configuring-flask-caching
"""

from __future__ import annotations

import logging
import pickle
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from cachetools import LRUCache
from flask import Flask, current_app
from flask_caching import Cache
from flask_caching.backends.base import BaseCache

log = logging.getLogger(__name__)

EXTENSION_KEY = "bazaar.cache"
T = TypeVar("T")


class MemoryCache(BaseCache):
    """A cache in this process, bounded by the bytes it holds; when full, what was
    used least recently goes first.

    Flask-Caching's own memory cache (``SimpleCache``) counts entries, whatever their
    size, and when full drops the oldest *written*, sorting every entry to find it, on
    every write. A popular page (the home page, asked for every few requests) was
    dropped as soon as enough pages seen once had been written after it, and at
    100,000 listings the pages a visitor mix touches outnumbered the entries, so
    nearly every page was rendered again (bench/pages).

    Strings and bytes (pages) are kept as they are, since nobody can change them;
    anything else is kept pickled, so a caller that changes what it read changes
    only its own copy. One lock: gunicorn's gthread workers read from several
    threads."""

    def __init__(self, max_bytes: int, default_timeout: int = 300):
        super().__init__(default_timeout=default_timeout)
        self._entries: LRUCache = LRUCache(maxsize=max_bytes, getsizeof=_entry_size)
        self._lock = threading.Lock()
        self._clock = time.monotonic

    @classmethod
    def factory(cls, app: Flask, config: dict[str, Any], args: list[Any],
                kwargs: dict[str, Any]) -> MemoryCache:
        return cls(config["CACHE_MEMORY_BYTES"], kwargs["default_timeout"])

    def get(self, key: str) -> Any:
        with self._lock:
            entry = self._entries.get(key)
        if entry is None:
            return None
        expires, pickled, payload = entry
        if expires and expires <= self._clock():
            return None
        return pickle.loads(payload) if pickled else payload

    def set(self, key: str, value: Any, timeout: int | None = None) -> bool:
        timeout = self._normalize_timeout(timeout)
        expires = self._clock() + timeout if timeout else 0
        if isinstance(value, (str, bytes)):
            entry = (expires, False, value)
        else:
            entry = (expires, True, pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
        with self._lock:
            try:
                self._entries[key] = entry
            except ValueError:  # bigger than the whole cache: computed each time
                self._entries.pop(key, None)
                return False
        return True

    def add(self, key: str, value: Any, timeout: int | None = None) -> bool:
        if self.has(key):
            return False
        return self.set(key, value, timeout)

    def has(self, key: str) -> bool:
        return self.get(key) is not None

    def delete(self, key: str) -> bool:
        with self._lock:
            return self._entries.pop(key, None) is not None

    def clear(self) -> bool:
        with self._lock:
            self._entries.clear()
        return True


def _entry_size(entry: tuple[float, bool, str | bytes]) -> int:
    return sys.getsizeof(entry[2])


def init_app(app: Flask) -> None:
    seconds = app.config["CATALOG_CACHE_SECONDS"]
    url = app.config["CACHE_URL"]
    if seconds == 0:
        config = {"CACHE_TYPE": "NullCache", "CACHE_NO_NULL_WARNING": True}
    elif url.startswith("memory://"):
        config = {"CACHE_TYPE": "core.cache.MemoryCache",
                  "CACHE_MEMORY_BYTES": app.config["CACHE_MEMORY_MB"] * 1024 * 1024}
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
