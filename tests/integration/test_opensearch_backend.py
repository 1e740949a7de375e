"""What only the OpenSearch backend does, against a real node.

Needs ``BAZAAR_TEST_OPENSEARCH_URL`` (``scripts/opensearch start``; ``scripts/test``
exports it). With ``CI=true`` a missing URL fails the run (tests/conftest.py);
elsewhere these tests are deselected, with a note.
Every test works under its own random index prefix and drops it afterwards, so
the node can be shared.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from search.interfaces import SearchQuery, SearchUnavailable
from search.opensearch import OpenSearchBackend
from tests.factories import search_document


@pytest.fixture
def backend(opensearch_url):
    backend = OpenSearchBackend(opensearch_url, index_prefix=f"test-{uuid.uuid4().hex[:8]}",
                                timeout=10)
    yield backend
    backend.drop()


def doc(listing_id: int, name: str, **fields) -> dict:
    return search_document(listing_id, name, published_days_ago=listing_id % 30,
                           updated_days_ago=listing_id % 7, **fields)


def ids(result) -> list[int]:
    return [hit.id for hit in result.hits]


def own_indices(backend) -> list[str]:
    return sorted(backend.client.indices.get_alias(index=f"{backend.alias}-*"))


# --- relevance ------------------------------------------------------------------------


def test_typos_in_name_and_tagline_still_find_the_app(backend):
    backend.index([doc(1, "Chatterbox", tagline="Team messaging"),
                   doc(2, "Ledger", tagline="Automatic invoices")])
    assert ids(backend.search(SearchQuery(text="chaterbox"))) == [1]
    assert ids(backend.search(SearchQuery(text="Chatterbx"))) == [1]
    assert ids(backend.search(SearchQuery(text="mesaging"))) == [1]


def test_a_misspelling_too_far_for_fuzziness_is_corrected_and_searched(backend):
    backend.index([doc(1, "Chatterbox", tagline="Team messaging"),
                   doc(2, "Ledger", tagline="Automatic invoices")])
    # A wrong first letter is beyond the fuzzy query (prefix_length 1): the
    # term suggester's correction is searched for instead.
    result = backend.search(SearchQuery(text="xhatterbox"))
    assert ids(result) == [1] and result.corrected_text == "chatterbox"
    exact = backend.search(SearchQuery(text="xhatterbox", correct_spelling=False))
    assert exact.hits == [] and exact.did_you_mean == "chatterbox"
    assert backend.search(SearchQuery(text="qwzxvy")).corrected_text is None


def test_a_filter_that_leaves_few_apps_asks_no_spelling_of_a_text_found_often(
        backend, monkeypatch):
    # "calendar" is in six listings (in no name), one of them in Finance: that it
    # finds one with the filter says nothing of its spelling (few_found in
    # search.correction), so one count without the filter is asked, not the three
    # spelling questions.
    backend.index([doc(n, f"Planner {n}", tagline="Shared calendar", category="Productivity",
                       category_slug="productivity") for n in range(1, 6)]
                  + [doc(6, "Ledger", tagline="Payment calendar", category="Finance",
                         category_slug="finance")])
    asked = []
    search = backend._search
    monkeypatch.setattr(backend, "_search",
                        lambda body, action: asked.append(action) or search(body, action))
    result = backend.search(SearchQuery(text="calendar", categories=("finance",)))
    assert ids(result) == [6] and result.corrected_text is None
    assert asked == ["search", "spelling"]


def test_word_prefixes_find_names_while_typing(backend):
    backend.index([doc(1, "Chatterbox"), doc(2, "Ledger"), doc(3, "Live Chat Desk")])
    assert ids(backend.search(SearchQuery(text="chatterb"))) == [1]
    assert ids(backend.search(SearchQuery(text="ledg"))) == [2]
    assert [s.name for s in backend.suggest("live ch")] == ["Live Chat Desk"]
    assert [s.name for s in backend.suggest("LED")] == ["Ledger"]


def test_exact_name_beats_popularity_and_repetition(backend):
    backend.index([
        doc(1, "Chatterbox Live Chat Pro", tagline="Chatterbox chat for chatterbox fans",
            rating_average=5.0, rating_count=5000, installs=2_000_000),
        doc(2, "Talkative", description="chatterbox " * 20, rating_average=5.0,
            rating_count=900, installs=90_000),
        doc(3, "Chatterbox", tagline="Team chat"),
    ])
    assert ids(backend.search(SearchQuery(text="CHATTERBOX")))[0] == 3
    assert ids(backend.search(SearchQuery(text="chatterbox live chat pro")))[0] == 1


def test_highlights_are_escaped_with_marked_matches(backend):
    backend.index([doc(1, "Mailer", tagline="Bulk <b>email</b> & campaigns",
                       description="Sends email. " + "Filler words here. " * 40)])
    hit = backend.search(SearchQuery(text="emails")).hits[0]
    assert hit.highlights["tagline"] == ("Bulk &lt;b&gt;<mark>email</mark>&lt;/b&gt; "
                                         "&amp; campaigns")
    assert "<mark>email</mark>" in hit.highlights["description"]
    assert len(hit.highlights["description"]) < 400  # a snippet, not the whole text


# --- missing index, paging, bad input ---------------------------------------------------


def test_before_the_first_write_reads_are_empty_and_index_creates_it(backend):
    result = backend.search(SearchQuery(text="anything"))
    assert result.hits == [] and result.total == 0
    assert backend.count() == 0 and backend.suggest("an") == []
    backend.delete([1, 2])  # nothing to delete: no error, and no index made
    assert own_indices(backend) == []
    backend.index([doc(1, "Anything")])
    [physical] = own_indices(backend)
    assert physical.startswith(f"{backend.alias}-")
    assert backend.count() == 1


def test_an_index_made_with_older_settings_says_so_until_rebuilt(backend):
    from search import opensearch_index

    assert backend.settings_outdated() is False  # no index yet: the first is made current
    body = opensearch_index.index_body()
    body["mappings"] = dict(body["mappings"], _meta={"settings_version": 1})
    body["aliases"] = {backend.alias: {}}
    backend.client.indices.create(index=f"{backend.alias}-20260101000000-abcdef", body=body)
    assert backend.settings_outdated() is True
    backend.rebuild(iter([doc(1, "Node.js Monitor")]), 1)
    assert backend.settings_outdated() is False
    # "node" is a word of "Node.js" (not a word no listing has, corrected to another).
    result = backend.search(SearchQuery(text="node"))
    assert ids(result) == [1] and result.corrected_text is None


def test_an_index_made_before_the_spelling_field_kept_positions_still_answers(opensearch_url):
    # Until `flask search reindex` rebuilds it, an index of settings 6 has no positions
    # in the spelling field: the phrase "log in" (a synonym of "login") finds nothing
    # there instead of failing the whole search.
    from search.synonyms import DEFAULT_SYNONYMS_FILE, load_synonym_file

    synonyms = load_synonym_file(DEFAULT_SYNONYMS_FILE)
    backend = OpenSearchBackend(opensearch_url, index_prefix=f"test-{uuid.uuid4().hex[:8]}",
                                timeout=10, synonyms=lambda: synonyms)
    try:
        _settings_6_index_with(backend, [
            doc(1, "Gatekeeper", tagline="Login for every app"),
            doc(2, "Clientdesk", description="Clients log in to see their files.")])
        assert ids(backend.search(SearchQuery(text="login"))) == [1]
    finally:
        backend.drop()


def _settings_6_index_with(backend, documents) -> None:
    """An index as settings 6 made it (no positions in the spelling field, no plain
    tagline), aliased, holding ``documents``."""
    from search import opensearch_index, opensearch_text

    body = opensearch_index.index_body()
    properties = dict(body["mappings"]["properties"])
    properties[opensearch_text.SPELL_FIELD] = dict(
        properties[opensearch_text.SPELL_FIELD], index_options="docs")
    properties["tagline"] = {key: value for key, value in properties["tagline"].items()
                             if key != "fields"}
    body["mappings"] = dict(body["mappings"], properties=properties,
                            _meta={"settings_version": 6})
    body["aliases"] = {backend.alias: {}}
    backend.client.indices.create(index=f"{backend.alias}-20261207000000-abcdef", body=body)
    backend.index(documents)


@pytest.mark.parametrize("text", [
    "Node.js Profiler", "O'Brien’s A/B tests", "pydantic_core", "sales@monday.com",
    "C++ and C# with F#", "(c++) c#, f#.", "path\\to\\file", "12:30 or 9.5",
    "Émile's café"])
def test_the_index_reads_a_listings_words_as_the_embedded_indexes_do(backend, text):
    # The text analyzers' one mapping filter parts words and spells "C++" out as
    # search.fts_text.words_of does (the analyzer here is the unstemmed one, which
    # folds accents as the query's words are folded for it).
    from search.fts_text import words_of
    from search.opensearch_text import fold

    backend.index([doc(1, "Anything")])
    answer = backend.client.indices.analyze(index=backend.alias,
                                            body={"analyzer": "plain_folded", "text": text})
    assert [token["token"] for token in answer["tokens"]] == [fold(w) for w in words_of(text)]


def test_a_page_past_the_result_window_is_empty_not_an_error(backend):
    backend.index([doc(n, f"Widget {n}") for n in range(1, 6)])
    result = backend.search(SearchQuery(text="widget", page=5000, per_page=24))
    assert result.hits == [] and result.total == 5 and result.facets["category"]


@pytest.mark.parametrize("text", [
    '{"query":{"match_all":{}}}', "name:*", "*", "OR NOT", "\\", '"unclosed', "(((", "🚀",
    "x" * 250,
    # Many distinct words, each expanded by fuzziness: must stay under the clause limit.
    " ".join(f"word{n}x" for n in range(40)),
])
def test_hostile_text_never_raises_or_widens(backend, text):
    backend.index([doc(n, name) for n, name in enumerate(
        ["Alpha", "Beta", "Gamma", "Word Counter", "Name Tags"], start=1)])
    assert backend.search(SearchQuery(text=text)).total < 5
    backend.suggest(text)


def test_a_refused_document_is_unavailable_not_a_crash(backend):
    with pytest.raises(SearchUnavailable, match="index"):
        backend.index([doc(1, "Broken", rating_average="not a number")])


def test_replacing_and_deleting_ignore_unknown_ids(backend):
    backend.index([doc(1, "Ledger"), doc(2, "Planner")])
    backend.index([doc(1, "Ledger Two")])
    backend.delete([2, 999])
    assert backend.count() == 1
    assert ids(backend.search(SearchQuery(text="two"))) == [1]


# --- rebuild ------------------------------------------------------------------------------


def test_rebuild_swaps_the_alias_while_searches_keep_answering(backend):
    backend.index([doc(n, f"Old {n}") for n in range(1, 51)])
    [old_index] = own_indices(backend)
    fresh = [doc(n, f"Fresh {n}", tagline="Shiny new app") for n in range(1000, 3500)]
    totals: list[int] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def search_meanwhile():
        while not stop.is_set():
            try:
                totals.append(backend.search(SearchQuery()).total)
            except BaseException as error:  # noqa: BLE001  (any error fails the test)
                errors.append(error)

    reader = threading.Thread(target=search_meanwhile)
    reader.start()
    progress: list[int] = []
    try:
        assert backend.rebuild(iter(fresh), len(fresh), progress.append) == len(fresh)
    finally:
        stop.set()
        reader.join()
    assert not errors
    assert len(totals) > 1 and set(totals) <= {50, 2500}  # never empty, never half-built
    assert progress == [1000, 2000, 2500]
    assert own_indices(backend) != [old_index] and len(own_indices(backend)) == 1
    assert backend.count() == 2500
    assert backend.search(SearchQuery(text="old")).total == 0
    assert backend.search(SearchQuery(text="shiny")).total == 2500


def test_rebuild_of_a_hundred_reports_progress_and_creates_the_alias(backend):
    progress: list[int] = []
    assert backend.rebuild((doc(n, f"App {n}") for n in range(1, 101)), 100,
                           progress.append) == 100
    assert progress == [100]
    assert backend.count() == 100
    backend.index([doc(101, "App 101")])  # later writes go through the new alias
    assert backend.count() == 101


def test_a_failed_rebuild_leaves_the_old_index_serving(backend):
    backend.index([doc(1, "Ledger")])
    before = own_indices(backend)

    def documents():
        yield doc(2, "Fresh")
        yield doc(3, "Broken", installs="many")

    with pytest.raises(SearchUnavailable):
        backend.rebuild(documents(), 2)
    assert own_indices(backend) == before
    assert ids(backend.search(SearchQuery(text="ledger"))) == [1]


def test_drop_removes_every_index_of_the_prefix(backend):
    backend.index([doc(1, "Ledger")])
    backend.rebuild(iter([doc(2, "Planner")]), 1)
    backend.drop()
    assert own_indices(backend) == []
    assert backend.count() == 0


# --- outages --------------------------------------------------------------------------------


def every_call(backend):
    return {
        "search": lambda: backend.search(SearchQuery(text="x")),
        "suggest": lambda: backend.suggest("x"),
        "count": backend.count,
        "index": lambda: backend.index([doc(1, "X")]),
        "delete": lambda: backend.delete([1]),
        "rebuild": lambda: backend.rebuild(iter([doc(1, "X")]), 1),
    }


def test_an_unreachable_node_is_unavailable_fast():
    dead = OpenSearchBackend("http://127.0.0.1:1", index_prefix="nowhere", timeout=1)
    started = time.monotonic()
    assert dead.ping() is False
    for name, call in every_call(dead).items():
        with pytest.raises(SearchUnavailable) as raised:
            call()
        assert "Traceback" not in str(raised.value) and len(str(raised.value)) < 200, name
    assert time.monotonic() - started < 3


def test_a_hung_node_times_out_into_unavailable(hung_server_url):
    slow = OpenSearchBackend(hung_server_url, index_prefix="hung", timeout=0.3)
    started = time.monotonic()
    with pytest.raises(SearchUnavailable, match="search"):
        slow.search(SearchQuery(text="x"))
    assert slow.ping() is False
    assert time.monotonic() - started < 3
