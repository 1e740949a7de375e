"""The per-process memory cache (``CACHE_URL=memory://``, core/cache.py): bounded by
the bytes it holds, and what is asked for often stays while what was asked once
passes through (least recently used goes first)."""

from __future__ import annotations

import pytest

from app import create_app
from core.cache import EXTENSION_KEY, remember


@pytest.fixture
def memory_app(tmp_path):
    def make(**config):
        app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}",
                          "UPLOAD_FOLDER": str(tmp_path), **config})
        return app
    return make


def test_a_page_asked_for_often_stays_while_many_asked_once_pass_through(memory_app):
    app = memory_app()
    computed = []
    with app.test_request_context():
        for n in range(5000):
            remember("popular", lambda: computed.append(1) or "the home page")
            remember(f"once-{n}", lambda: "an app's page")
    assert len(computed) == 1


def test_the_memory_cache_holds_what_fits_in_its_budget(memory_app):
    app = memory_app(CACHE_MEMORY_MB=1)
    cache = app.extensions[EXTENSION_KEY].cache
    page = b"x" * 100_000
    with app.test_request_context():
        for n in range(30):
            remember(f"page-{n}", lambda: page)
        kept = [n for n in range(30) if cache.get(f"page-{n}") is not None]
    # About ten 100 KB pages fit in 1 MB: the newest are kept, the oldest went.
    assert 8 <= len(kept) <= 10
    assert kept == list(range(30 - len(kept), 30))


def test_a_value_bigger_than_the_whole_budget_is_computed_and_not_kept(memory_app):
    app = memory_app(CACHE_MEMORY_MB=1)
    computed = []
    with app.test_request_context():
        for _ in range(2):
            remember("huge", lambda: computed.append(1) or b"x" * 2_000_000)
    assert len(computed) == 2


def test_a_kept_value_cannot_be_changed_by_whoever_read_it(memory_app):
    app = memory_app()
    with app.test_request_context():
        first = remember("shelf", lambda: ["a", "b"])
        first.append("changed by a caller")
        assert remember("shelf", lambda: []) == ["a", "b"]


def test_an_entry_expires_after_the_catalog_cache_seconds(memory_app, monkeypatch):
    app = memory_app(CATALOG_CACHE_SECONDS=60)
    cache = app.extensions[EXTENSION_KEY].cache
    now = [1000.0]
    monkeypatch.setattr(cache, "_clock", lambda: now[0])
    computed = []
    with app.test_request_context():
        remember("page", lambda: computed.append(1) or "v1")
        now[0] += 59
        remember("page", lambda: computed.append(1) or "v1")
        now[0] += 2
        remember("page", lambda: computed.append(1) or "v1")
    assert len(computed) == 2
