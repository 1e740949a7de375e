"""`flask search reindex` freezes the objects already loaded while it rebuilds (the
cyclic GC then skips them): whether it succeeds or refuses, the process it ran in
(a test run, a shell) gets its garbage collector back as it was."""

from __future__ import annotations

import gc

from search import sync
from tests import factories


def test_a_reindex_indexes_the_published_listings_and_unfreezes_the_gc(app, db, runner):
    factories.make_listing(db, name="Ledgerly")
    factories.make_listing(db, name="Pipe Sync")
    factories.make_listing(db, name="Draft Only", status="draft")

    result = runner.invoke(args=["search", "reindex", "--target", "embedded"])

    assert result.exit_code == 0, result.output
    assert "embedded: indexed 2 listings" in result.output
    assert gc.get_freeze_count() == 0


def test_a_refused_reindex_unfreezes_the_gc_too(app, db, runner):
    assert sync.claim(db, "embedded")  # a sync, say, is running

    result = runner.invoke(args=["search", "reindex", "--target", "embedded"])

    assert result.exit_code == 1
    assert "embedded: another process is syncing or rebuilding it" in result.output
    assert gc.get_freeze_count() == 0
