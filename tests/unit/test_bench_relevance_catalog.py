"""bench/relevance --catalog: a catalog of one's own, judged on its names."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

from _relevance import imported_items  # noqa: E402  (bench/ is no package)


def test_the_published_listings_of_the_import_are_the_items_in_slug_order(tmp_path):
    database = tmp_path / "bazaar.db"
    with sqlite3.connect(database) as db:
        db.execute("CREATE TABLE listings (slug TEXT, name TEXT, description TEXT, status TEXT)")
        db.executemany("INSERT INTO listings VALUES (?, ?, ?, ?)", [
            ("zeta", "Zeta", "Last", "published"), ("alpha", "Alpha", None, "published"),
            ("draft", "Draft", "Not out", "draft")])
    items = imported_items(database)
    assert [(item.slug, item.name, item.description) for item in items] == [
        ("alpha", "Alpha", ""), ("zeta", "Zeta", "Last")]
    assert all(not item.categories and not item.keywords for item in items)


@pytest.mark.parametrize("arguments, message", [
    (["--catalog", "no-such-catalog.jsonl"], "no such file"),
    (["--catalog", __file__, "--size", "400"], "takes no --size"),
    (["--catalog", __file__, "--record"], "takes no --size, --record"),
    (["--names", "0"], "--names takes 1 to 1000"),
    (["--names", "50", "--write-doc"], "--names changes the figures"),
])
def test_bad_arguments_are_refused_before_anything_runs(arguments, message):
    done = subprocess.run([sys.executable, str(BENCH / "relevance"), *arguments],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and message in done.stderr, done.stderr
