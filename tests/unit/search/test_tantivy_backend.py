"""The local tantivy index: what the contract suite does not cover (several
processes on one directory, a busy or broken directory, rebuilds, where the
index lives). Search behaviour itself is in tests/contract/test_search_contract.py."""

from __future__ import annotations

import pytest

from app import create_app
from search import index_directory, tantivy_run
from search.fts import EmbeddedBackend
from search.interfaces import SearchQuery, SearchUnavailable
from search.tantivy_backend import TantivyBackend
from search.tantivy_schema import LAYOUT_VERSION, lift_of, text_lifted
from tests.factories import search_document


def names(backend: TantivyBackend, text: str) -> list[int]:
    return [hit.id for hit in backend.search(SearchQuery(text=text)).hits]


def test_a_second_process_sees_each_commit_without_restarting(tmp_path):
    writer, reader = TantivyBackend(tmp_path), TantivyBackend(tmp_path)
    assert names(reader, "ledger") == []
    writer.index([search_document(1, "Ledger", tagline="Invoices")])
    assert names(reader, "ledger") == [1]
    writer.delete([1])
    assert names(reader, "ledger") == []
    assert reader.count() == 0


def test_index_replaces_a_listing_and_keeps_the_last_of_a_repeated_id(tmp_path):
    backend = TantivyBackend(tmp_path)
    backend.index([search_document(7, "Old Name")])
    backend.index([search_document(7, "Ledger"), search_document(7, "Planner")])
    assert backend.count() == 1
    assert names(backend, "planner") == [7]
    assert names(backend, "ledger") == [] and names(backend, "old") == []


def test_rebuild_replaces_everything_and_reports_progress(tmp_path):
    backend = TantivyBackend(tmp_path)
    backend.index([search_document(1, "Gone App")])
    seen: list[int] = []
    documents = (search_document(n, f"Planner {n}") for n in range(2, 2503))
    assert backend.rebuild(documents, total=2501, progress=seen.append) == 2501
    assert seen == [1000, 2000, 2501]
    assert backend.count() == 2501
    assert names(backend, "gone") == []


def test_a_busy_writer_is_reported_not_waited_on(tmp_path):
    backend, other = TantivyBackend(tmp_path), TantivyBackend(tmp_path)
    with backend._writer():
        with pytest.raises(SearchUnavailable, match="local search index .*lock"):
            other.index([search_document(1, "Ledger")])
    other.index([search_document(1, "Ledger")])  # the lock is freed with the writer
    assert names(other, "ledger") == [1]


def test_a_failed_rebuild_keeps_the_old_index_and_frees_the_lock(tmp_path):
    backend = TantivyBackend(tmp_path)
    backend.index([search_document(1, "Ledger")])
    broken = [search_document(2, "Planner"), {"id": 3}]  # no name: not a document
    with pytest.raises(KeyError):
        backend.rebuild(iter(broken), total=2)
    assert names(backend, "ledger") == [1] and names(backend, "planner") == []
    backend.index([search_document(2, "Planner")])
    assert names(backend, "planner") == [2]


def test_an_unusable_directory_is_unavailable_and_pings_false(tmp_path):
    blocker = tmp_path / "index"
    blocker.write_text("not a directory")
    backend = TantivyBackend(blocker)
    with pytest.raises(SearchUnavailable, match="local search index"):
        backend.search(SearchQuery(text="ledger"))
    assert backend.ping() is False


def test_the_layout_version_has_its_own_directory(tmp_path):
    TantivyBackend(tmp_path).index([search_document(1, "Ledger")])
    assert (tmp_path / f"v{LAYOUT_VERSION}" / "meta.json").exists()


@pytest.mark.parametrize("config, expected", [
    ({"DATABASE_URL": "sqlite:////srv/data/bazaar.db"}, "/srv/data/bazaar.db.search"),
    ({"DATABASE_URL": "postgresql+psycopg://u:p@db/bazaar"}, "{instance}/search-index"),
    ({"DATABASE_URL": "sqlite:////srv/data/bazaar.db", "SEARCH_INDEX_DIR": "/var/index"},
     "/var/index"),
])
def test_each_database_has_its_own_index_directory(app, config, expected):
    app.config.pop("SEARCH_INDEX_DIR", None)
    app.config.update(config)
    assert str(index_directory(app)) == expected.format(instance=app.instance_path)


def test_the_local_index_is_the_default_and_the_database_index_a_setting(database_url,
                                                                           tmp_path):
    config = {"TESTING": True, "DATABASE_URL": database_url, "WEBHOOK_SENDER": "off",
              "USAGE_SENDER": "off", "SEARCH_SYNC_SENDER": "off", "MAIL_SENDER": "off",
              "UPLOAD_FOLDER": str(tmp_path / "uploads")}
    for choice, kind in ((None, TantivyBackend), ("database", EmbeddedBackend)):
        app = create_app(dict(config, SEARCH_EMBEDDED_INDEX=choice) if choice else config)
        try:
            assert isinstance(app.extensions["bazaar.search"].primary, kind)
        finally:
            app.extensions["bazaar.engine"].dispose()


def test_a_rare_synonym_does_not_outrank_the_word_itself(tmp_path, app):
    # "picture" is in one listing, "photo" in many: found for "photo", the rare
    # synonym must not score higher just for being rare.
    backend = TantivyBackend(tmp_path, synonyms=app.extensions["bazaar.synonyms"].current)
    backend.index([search_document(1, "Alpha", tagline="Edit photo albums"),
                   search_document(2, "Beta", tagline="Edit picture albums"),
                   *[search_document(n, f"Filler {n}", description="photo " * (n % 3 + 1))
                     for n in range(3, 15)]])
    found = [hit.id for hit in backend.search(SearchQuery(text="photo")).hits]
    assert found[0] == 1 and 2 in found


def test_feedback_reorders_but_never_changes_the_matches(tmp_path, monkeypatch):
    backend = TantivyBackend(tmp_path)
    backend.index([search_document(n, f"App {n}", tagline=f"pdf {'reader ' * (n % 4)}",
                                   description=("annotate documents" if n % 2 else "rss news"))
                   for n in range(1, 41)])

    def every_match() -> tuple[int, set[int]]:
        query = SearchQuery(text="pdf reader", per_page=100)
        result = backend.search(query)
        return result.total, {hit.id for hit in result.hits}

    with_feedback = every_match()
    monkeypatch.setattr(tantivy_run, "FEEDBACK_DOCS", 0)
    assert every_match() == with_feedback


def test_popularity_lifts_the_text_score_and_not_the_tiers():
    def weighted(tiers: float, text: float, boost: float) -> float:
        return (tiers + text) * boost  # what tantivy's weight_by_field gives

    hits = [(weighted(10_000, 5.0, 1.3), "popular"), (weighted(10_000, 20.0, 1.0), "about it"),
            (weighted(0, 30.0, 1.3), "no tier"), (weighted(1_000_000, 1.0, 1.0), "exact"),
            # float rounding a hair below a whole tier is still that tier
            (weighted(20_000, 0.0, 1.2) * (1 - 1e-7), "phrase")]
    lifts = [lift_of(1.3), lift_of(1.0), lift_of(1.3), lift_of(1.0), lift_of(1.2)]
    ranked = text_lifted(hits, lifts, 10_000)
    assert [address for _, address in ranked] == ["exact", "phrase", "about it", "popular",
                                                   "no tier"]
    scores = dict((address, score) for score, address in ranked)
    assert scores["popular"] == pytest.approx(10_000 + 5.0 * 1.3)
    assert scores["no tier"] == pytest.approx(30.0 * 1.3)
