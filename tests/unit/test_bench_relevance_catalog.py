"""bench/relevance --catalog: a catalog of one's own, judged on its names, and on
topical queries by the labels its lines carry (taken out before the import)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

from _relevance import (  # noqa: E402  (bench/ is no package)
    CatalogError,
    build_queries,
    imported_items,
    read_query_file,
    without_labels,
)


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
    (["--catalog", __file__, "--queries-file", "no-such-queries.json"], "no such file"),
    (["--queries-file", __file__], "not a queries file"),
    (["--names", "0"], "--names takes 1 to 1000"),
    (["--names", "50", "--write-doc"], "--names changes the figures"),
])
def test_bad_arguments_are_refused_before_anything_runs(arguments, message):
    done = subprocess.run([sys.executable, str(BENCH / "relevance"), *arguments],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and message in done.stderr, done.stderr


def write_lines(path: Path, lines: list) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n"
                            for line in lines), encoding="utf-8")
    return path


def test_labels_are_taken_out_before_the_import_and_kept_by_name(tmp_path):
    source = write_lines(tmp_path / "mine.jsonl", [
        {"name": "Marked", "tagline": "A markdown parser", "labels": ["Markdown", " parser "]},
        {"name": "Plain", "tagline": "No labels here"},
        "not json at all",
        {"name": "Empty", "tagline": "Labels, but none", "labels": []},
    ])
    labels = without_labels(source, tmp_path / "import.jsonl")
    assert labels == {"Marked": frozenset({"markdown", "parser"})}
    written = (tmp_path / "import.jsonl").read_text(encoding="utf-8").splitlines()
    assert written[2] == "not json at all"  # the importer counts it as invalid
    assert [json.loads(line) for line in written[:2] + written[3:]] == [
        {"name": "Marked", "tagline": "A markdown parser"},
        {"name": "Plain", "tagline": "No labels here"},
        {"name": "Empty", "tagline": "Labels, but none"}]


@pytest.mark.parametrize("labels", ["markdown", [1, 2], {"markdown": True}])
def test_labels_that_are_no_list_of_words_are_refused_naming_the_line(tmp_path, labels):
    source = write_lines(tmp_path / "mine.jsonl", [
        {"name": "Fine", "labels": ["ok"]}, {"name": "Bad", "labels": labels}])
    with pytest.raises(CatalogError, match="mine.jsonl line 2: labels must be a list"):
        without_labels(source, tmp_path / "import.jsonl")


def test_topical_queries_are_judged_by_the_labels_of_the_imported_listings(tmp_path):
    database = tmp_path / "bazaar.db"
    with sqlite3.connect(database) as db:
        db.execute("CREATE TABLE listings (slug TEXT, name TEXT, description TEXT, status TEXT)")
        db.executemany("INSERT INTO listings VALUES (?, ?, ?, ?)", [
            ("marked", "Marked", "A markdown parser", "published"),
            ("chalk", "Chalk", "Terminal string styling", "published")])
    items = imported_items(database, {"Marked": frozenset({"markdown", "parser"}),
                                      "Gone": frozenset({"markdown"})})
    queries = build_queries({
        "topical": [{"q": "markdown to html", "targets": {"keywords": ["Markdown"]}},
                    {"q": "pdf reader", "targets": {"keywords": ["pdf"]}}],
        "topical_typo": [{"q": "markdwn to html", "typo_of": "markdown to html"}],
        "names": {"count": 1}}, items, seed=14)
    assert [(q.kind, q.text, sorted(q.relevant)) for q in queries.queries
            if not q.is_name] == [("topical", "markdown to html", ["marked"]),
                                  ("topical_typo", "markdwn to html", ["marked"])]
    assert queries.skipped == ["pdf reader"]


def test_topical_queries_for_a_catalog_without_labels_are_refused(tmp_path):
    catalog = write_lines(tmp_path / "mine.jsonl", [{"name": "Plain", "tagline": "None"}])
    queries = tmp_path / "mine.json"
    queries.write_text(json.dumps({"topical": [{"q": "x", "targets": {"keywords": ["x"]}}],
                                   "topical_typo": [], "names": {"count": 1}}))
    done = subprocess.run([sys.executable, str(BENCH / "relevance"), "--catalog", str(catalog),
                           "--queries-file", str(queries), "--backends", "embedded"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "no line of" in done.stderr and "has any" in done.stderr, done.stderr[-2000:]


@pytest.mark.parametrize("name", ["relevance_queries_npm.json", "relevance_queries_pypi.json"])
def test_the_queries_files_of_catalogs_of_ones_own_are_judged_by_labels_alone(name):
    """Their catalogs have no source categories: only keywords can judge."""
    data = read_query_file(BENCH / name)
    assert len(data["topical"]) >= 30 and data["topical_typo"]
    for query in data["topical"]:
        assert set(query["targets"]) == {"keywords"} and query["targets"]["keywords"], query
    for typo in data["topical_typo"]:
        assert typo["q"] != typo["typo_of"], typo
