"""The storefront's way into search: one primary backend, and the embedded
index as the fallback when the primary is down or slow.

When OpenSearch fails, the service answers from the embedded index (kept up
to date by the same outbox) and says so; it stops asking OpenSearch for a
short cool-down so pages don't wait on timeouts, then tries again by itself.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from sqlmodel import Session

from listings import catalog_cache
from listings.catalog_cache import current_token
from search.interfaces import (
    SearchBackend,
    SearchQuery,
    SearchResult,
    SearchUnavailable,
    Suggestion,
)
from search.synonyms import at_catalog_version

log = logging.getLogger(__name__)

COOL_DOWN_SECONDS = 15.0


@dataclass
class SearchAnswer:
    result: SearchResult
    backend: str
    degraded: bool = False  # answered by the fallback because the primary failed


class SearchService:
    def __init__(self, primary: SearchBackend, fallback: SearchBackend | None = None,
                 cool_down: float = COOL_DOWN_SECONDS):
        self.primary = primary
        self.fallback = fallback if fallback is not primary else None
        self.cool_down = cool_down
        self._primary_down_until = 0.0
        self._lock = threading.Lock()

    def targets(self) -> dict[str, SearchBackend]:
        """Every index the outbox keeps up to date, by name: the fallback first,
        since it is local and quick, so a commit's time budget is not spent on a
        slow primary before the fallback has the change."""
        backends = {self.fallback.name: self.fallback} if self.fallback is not None else {}
        backends[self.primary.name] = self.primary
        return backends

    def _primary_resting(self) -> bool:
        return time.monotonic() < self._primary_down_until

    def _primary_failed(self, error: Exception) -> None:
        with self._lock:
            self._primary_down_until = time.monotonic() + self.cool_down
        log.warning("Search backend %s unavailable, using %s for %.0fs: %s", self.primary.name,
                    self.fallback.name if self.fallback else "nothing", self.cool_down, error)

    def _call(self, method: str, *args):
        if self.fallback is None:
            return getattr(self.primary, method)(*args), self.primary.name, False
        if not self._primary_resting():
            try:
                return getattr(self.primary, method)(*args), self.primary.name, False
            except SearchUnavailable as error:
                self._primary_failed(error)
        return getattr(self.fallback, method)(*args), self.fallback.name, True

    def search(self, query: SearchQuery) -> SearchAnswer:
        """Run ``query``; raises ``SearchUnavailable`` only when no backend can answer."""
        result, backend, degraded = self._call("search", query)
        return SearchAnswer(result, backend, degraded)

    def suggest(self, prefix: str, limit: int = 8) -> list[Suggestion]:
        suggestions, _, _ = self._call("suggest", prefix, limit)
        return suggestions


# --- answers kept per catalog version ---------------------------------------------------
#
# The same searches come again and again (the popular words, each prefix typed into
# the box). An answer depends only on the query, the index and the synonyms in
# force, so it is kept under the catalog's version (which changes when the index
# catches up with any change, and when an editor adds or removes a synonym line:
# listings.catalog_cache) and the synonym file's version (a deploy may change it).
# An answer the fallback gave while the primary was down is never kept.


def kept_search(token: str | None, service: SearchService, synonym_file_version: str,
                query: SearchQuery) -> SearchAnswer:
    """``service.search(query)``, kept for this catalog version (``token``, from
    ``current_token``) and synonym file version."""
    key = f"search:{synonym_file_version}:{query!r}"

    def search() -> SearchAnswer:
        # The editors' lines are asked for once per catalog version, not per search.
        with at_catalog_version(token):
            return service.search(query)

    return catalog_cache.remember(token, key, search, keep=lambda answer: not answer.degraded)


def kept_suggestions(session: Session, service: SearchService, prefix: str,
                     limit: int) -> list[Suggestion]:
    """``service.suggest(prefix, limit)``, kept for this catalog version."""
    return catalog_cache.remember(current_token(session), f"suggest:{limit}:{prefix.lower()}",
                                  lambda: service.suggest(prefix, limit))
