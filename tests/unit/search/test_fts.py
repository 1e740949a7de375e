"""The embedded search backend's own behaviour: how it reads user text, its
highlights, "did you mean", ranking tiers and the atomic rebuild.

The behaviours every backend shares are in tests/contract; these are the ones
that depend on how ``search.fts`` works (FTS5 / PostgreSQL text search).
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from search.fts import EmbeddedBackend
from search.fts_text import (
    MAX_WORD_LENGTH,
    MAX_WORDS,
    fts5_query,
    mark,
    symbol_words_spelt,
    tsquery,
    window,
    words_of,
)
from search.interfaces import SearchQuery, SearchUnavailable
from tests.factories import SEARCH_NOW, search_document

NOW = SEARCH_NOW


def make_doc(listing_id: int, name: str, **fields) -> dict:
    return search_document(listing_id, name, **fields)


@pytest.fixture
def backend(app) -> EmbeddedBackend:
    backend = EmbeddedBackend(app.extensions["bazaar.engine"])
    backend.rebuild([], 0)  # an empty index whatever the database held
    return backend


def ids(result) -> list[int]:
    return [hit.id for hit in result.hits]


# --- reading the user's text ---------------------------------------------------------


def test_text_becomes_lowercase_words_and_nothing_else():
    assert words_of('Name:* AND "Chat"(bot) -x ^2 🚀 café_au_lait') == [
        "name", "and", "chat", "bot", "x", "2", "café", "au", "lait"]
    assert words_of("") == [] and words_of("*** \\ {}") == []
    assert len(words_of("word " * 100)) == MAX_WORDS
    assert words_of("y" * 300) == ["y" * MAX_WORD_LENGTH]


def test_languages_written_with_a_symbol_are_words_of_their_own():
    # Every tokenizer reads "C++" as the letter c: spelt out, it is a word to find.
    assert words_of("C++ and c# or F#, C++17; abc++ x#") == [
        "cplusplus", "and", "csharp", "or", "fsharp", "cplusplus", "17", "abc", "x"]
    assert symbol_words_spelt("dc++ _c# (C++)") == "dc++ _c# (cplusplus )"
    assert symbol_words_spelt("no symbols") == "no symbols"


def test_every_word_is_quoted_and_only_the_last_is_a_prefix():
    assert fts5_query(["team", "chat"]) == '"team" AND ("chat" OR name : "chat" *)'
    assert fts5_query(['a"b'], prefix_column=None) == '"a""b" *'  # a quote never closes it
    assert tsquery(["team", "chat"]) == "'team' & ('chat' | 'chat':*A)"
    assert tsquery(["it's"], prefix_weight=None) == "'it''s':*"


@pytest.mark.parametrize("text", [
    'crm"', '"crm', "crm*", "*crm", "name:crm", "name : crm", "NEAR(crm alpha)", "NEAR/near",
    "-crm", "^crm", "(crm)", "crm)", "crm OR NOT", "{crm}", "crm + alpha", "crm AND", "alpha:",
])
def test_fts_syntax_characters_are_taken_literally(backend, text):
    backend.index([make_doc(1, "Alpha CRM", tagline="Name and contacts near you, or not"),
                   make_doc(2, "Beta Mail", tagline="Email campaigns")])
    result = backend.search(SearchQuery(text=text))
    # Every variant is only words of Alpha CRM's text: they find it, never Beta Mail.
    assert ids(result) == [1]


def test_syntax_words_are_searched_as_words(backend):
    backend.index([make_doc(1, "Stores Near You"), make_doc(2, "Ledger"),
                   make_doc(3, "Not Another Todo", tagline="And or not")])
    assert ids(backend.search(SearchQuery(text="near"))) == [1]
    assert ids(backend.search(SearchQuery(text="todo AND"))) == [3]
    # Only stop words: PostgreSQL's English config drops them, FTS5 searches them;
    # either way they never mean "everything".
    assert backend.search(SearchQuery(text="OR NOT")).total < 3
    assert backend.search(SearchQuery(text="name:*")).total == 0
    assert backend.search(SearchQuery(text="* - ^")).total == 0  # symbols alone find nothing


def test_the_last_word_may_start_a_word_of_the_name(backend):
    backend.index([make_doc(1, "Chatterbox", tagline="Send invoices"),
                   make_doc(2, "Ledger", description="Chatterboxes welcome")])
    assert ids(backend.search(SearchQuery(text="chatt"))) == [1]  # a prefix: names only
    assert ids(backend.search(SearchQuery(text="invo"))) == []
    assert ids(backend.search(SearchQuery(text="invoicing chatterbox")))[0] == 1  # stemmed
    # One of two words is enough (a listing with both would rank first).
    assert set(ids(backend.search(SearchQuery(text="ledger chatt")))) == {1, 2}


# --- ranking ------------------------------------------------------------------------------


def test_exact_name_then_name_start_then_relevance(backend):
    backend.index([
        make_doc(1, "Chat Tools", tagline="chat chat chat", rating_count=900, installs=90_000),
        make_doc(2, "Team Chat", description="chat " * 20),
        make_doc(3, "Chat"),
        make_doc(4, "Chatterbox"),
    ])
    assert ids(backend.search(SearchQuery(text="chat")))[:2] == [3, 1]
    assert ids(backend.search(SearchQuery(text="CHAT!")))[0] == 3  # case and punctuation ignored


def test_popularity_cannot_overtake_a_clearly_better_match(backend):
    backend.index([
        make_doc(1, "Notes", description="Keeps notes about invoices.",
                 rating_average=5.0, rating_count=5000, installs=1_000_000),
        make_doc(2, "Paper", tagline="Invoices for freelancers"),
    ])
    result = backend.search(SearchQuery(text="invoices"))
    assert ids(result) == [2, 1]
    assert result.hits[0].score > result.hits[1].score > 0


# --- highlights ---------------------------------------------------------------------------


def test_highlights_escape_the_text_before_marking(backend):
    backend.index([make_doc(1, "Mailer <b>", tagline="Bulk email & <script>alert(1)</script>",
                            description="Long text. " * 30 + "Sends email to customers. "
                                        + "More text. " * 30)])
    [hit] = backend.search(SearchQuery(text="email")).hits
    assert hit.highlights["tagline"] == (
        "Bulk <mark>email</mark> &amp; &lt;script&gt;alert(1)&lt;/script&gt;")
    description = hit.highlights["description"]
    assert "<mark>email</mark>" in description and len(description) < 300  # a snippet
    assert "name" not in hit.highlights  # only fields that matched


def test_control_characters_in_documents_cannot_forge_marks(backend):
    backend.index([make_doc(1, "Evil\x02 App\x03", tagline="evil\x00 tagline")])
    [hit] = backend.search(SearchQuery(text="evil")).hits
    assert hit.highlights["name"] == "<mark>Evil</mark>  App "
    assert hit.highlights["tagline"].count("<mark>") == 1


def test_oversized_fields_are_cut_not_refused(backend):
    backend.index([make_doc(1, "N" * 300, tagline="long " * 200, tags=["t" * 300])])
    [hit] = backend.search(SearchQuery(text="long")).hits
    assert hit.id == 1 and backend.count() == 1


def test_mark_and_window_helpers():
    assert mark("a \x02<b>\x03 'q'") == "a <mark>&lt;b&gt;</mark> &#x27;q&#x27;"
    words = " ".join(f"w{n}" for n in range(100)) + " \x02hit\x03 " + "tail " * 100
    snippet = window(words, size=10)
    assert snippet.startswith("\u2026") and snippet.endswith("\u2026") and "\x02hit\x03" in snippet


def test_browsing_has_no_highlights_or_scores(backend):
    backend.index([make_doc(1, "Ledger")])
    [hit] = backend.search(SearchQuery()).hits
    assert hit.highlights == {} and hit.score is None


# --- spelling ------------------------------------------------------------------------------


def test_unknown_words_are_corrected_and_the_corrected_text_is_searched(backend):
    backend.index([make_doc(1, "Chatterbox", tagline="Team messaging"),
                   make_doc(2, "Ledger", tagline="Invoices")])
    result = backend.search(SearchQuery(text="chaterbox"))
    assert [hit.id for hit in result.hits] == [1]
    assert result.corrected_text == "chatterbox" and result.did_you_mean is None
    assert backend.search(SearchQuery(text="team chaterbox")).corrected_text == "team chatterbox"
    assert backend.search(SearchQuery(text="team messagng")).corrected_text == "team messaging"


def test_with_correction_off_the_text_is_searched_as_typed_and_did_you_mean_offered(backend):
    backend.index([make_doc(1, "Chatterbox", tagline="Team messaging")])
    result = backend.search(SearchQuery(text="chaterbox", correct_spelling=False))
    assert result.total == 0 and result.corrected_text is None
    assert result.did_you_mean == "chatterbox"


def test_no_correction_when_the_corrected_text_finds_nothing_either(backend):
    backend.index([make_doc(1, "Chatterbox", is_free=True), make_doc(2, "Ledger")])
    result = backend.search(SearchQuery(text="chaterbox", pricing="paid"))
    assert result.total == 0 and result.corrected_text is None
    assert backend.search(SearchQuery(text="zzqqxx")).corrected_text is None
    assert backend.search(SearchQuery(text="zzqqxx", correct_spelling=False)).did_you_mean is None


def test_a_word_found_only_in_descriptions_is_not_corrected(backend):
    # "remittance" is a real word of the index (in a description); only the
    # misspelt "ledgerz" is corrected.
    backend.index([make_doc(3, "Ledgers", description="Handles remittance."),
                   make_doc(4, "Remittal")])
    result = backend.search(SearchQuery(text="remittance ledgerz"))
    assert result.corrected_text == "remittance ledgers"
    assert [hit.id for hit in result.hits][0] == 3


def test_descriptions_words_are_corrected_too(backend):
    backend.index([make_doc(5, "Paybook", description="Automatic invoicing for plumbers.")])
    result = backend.search(SearchQuery(text="invocing"))
    assert [hit.id for hit in result.hits] == [5] and result.corrected_text == "invoicing"


def test_rebuild_forgets_the_words_of_dropped_listings(backend):
    backend.index([make_doc(1, "Chatterbox")])
    backend.rebuild([make_doc(2, "Ledger")], 1)
    result = backend.search(SearchQuery(text="chaterbox"))
    assert result.total == 0 and result.corrected_text is None


# --- writing --------------------------------------------------------------------------------


def test_listings_without_dates_sort_last(backend):
    backend.index([make_doc(1, "Undated", published_at="", updated_at=""),
                   make_doc(2, "Older"), make_doc(3, "Oldest")])
    assert ids(backend.search(SearchQuery(sort="newest"))) == [2, 3, 1]
    assert ids(backend.search(SearchQuery(sort="updated"))) == [2, 3, 1]


def test_ties_go_to_the_highest_id_so_pages_are_stable(backend):
    same = {"published_at": NOW.isoformat(), "updated_at": NOW.isoformat(),
            "rating_average": 4.0, "rating_count": 3, "installs": 7}
    backend.index([make_doc(n, f"Twin {n}", **same) for n in range(1, 6)])
    for sort in ("newest", "updated", "rating", "installs", "relevance"):
        first = backend.search(SearchQuery(sort=sort, per_page=3))
        second = backend.search(SearchQuery(sort=sort, per_page=3, page=2))
        assert ids(first) + ids(second) == [5, 4, 3, 2, 1]


def test_reindexing_replaces_terms_and_text(backend):
    backend.index([make_doc(1, "Ledger", badges=["staff_pick"], regions=["us"])])
    backend.index([make_doc(1, "Ledger Pro", badges=[], regions=["eu", "eu"])])
    result = backend.search(SearchQuery())
    assert result.facets["badges"] == [] and [f.value for f in result.facets["regions"]] == ["eu"]
    assert backend.search(SearchQuery(text="pro")).total == 1
    assert backend.count() == 1


def test_index_accepts_thousands_and_repeated_ids(backend):
    docs = [make_doc(n, f"App {n}", tags=["bulk"], badges=["staff_pick"]) for n in range(1, 2501)]
    backend.index(docs + [make_doc(7, "Seven Renamed")])
    assert backend.count() == 2500
    # The repeated id's last version wins: it has neither the tag nor the badge.
    assert backend.search(SearchQuery(text="bulk", badges=("staff_pick",))).total == 2499
    assert ids(backend.search(SearchQuery(text="renamed"))) == [7]
    backend.delete(list(range(1, 2001)) + [99_999])
    assert backend.count() == 500


def test_rebuild_is_atomic_for_readers(backend, app):
    backend.index([make_doc(n, "Stale App") for n in range(1, 4)])
    reader = EmbeddedBackend(create_engine(app.config["DATABASE_URL"]))
    seen = []

    def progress(done: int) -> None:
        # Another connection, mid-rebuild: still the old index, whole.
        seen.append((done, reader.count(), reader.search(SearchQuery(text="stale")).total))

    fresh = [make_doc(n, f"Fresh {n}") for n in range(10, 2510)]
    assert backend.rebuild(iter(fresh), len(fresh), progress) == 2500
    assert seen == [(1000, 3, 3), (2000, 3, 3), (2500, 3, 3)]
    assert reader.count() == 2500 and reader.search(SearchQuery(text="stale")).total == 0
    reader.engine.dispose()


def test_a_failed_rebuild_leaves_the_old_index(backend):
    backend.index([make_doc(1, "Ledger")])

    def fail(_done: int) -> None:
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        backend.rebuild([make_doc(n, "New") for n in range(2, 1500)], 1498, fail)
    assert backend.count() == 1 and ids(backend.search(SearchQuery(text="ledger"))) == [1]


# --- suggest and failures -------------------------------------------------------------------


def test_suggest_matches_name_starts_then_word_starts(backend):
    backend.index([make_doc(1, "Live Chat Desk"), make_doc(2, "Chatterbox"),
                   make_doc(3, "Chat"), make_doc(4, "Ledger"), make_doc(5, "Team Chatter Box")])
    assert [s.name for s in backend.suggest("chat")] == [
        "Chat", "Chatterbox", "Live Chat Desk", "Team Chatter Box"]
    # Typed apart, "Chatterbox" starts with it too once the spaces are left out.
    assert [s.name for s in backend.suggest("chatter b")] == ["Chatterbox", "Team Chatter Box"]
    assert [s.name for s in backend.suggest("Team Chatter B")] == ["Team Chatter Box"]
    for hostile in ['"', "*", "name:*", "NEAR(", "%", "_", "' OR 1=1 --", "🚀", "\\"]:
        assert backend.suggest(hostile) == []
    assert backend.suggest("chat", limit=0) == []


def test_database_errors_become_search_unavailable(tmp_path):
    backend = EmbeddedBackend(create_engine(f"sqlite:///{tmp_path / 'empty.db'}"))
    assert backend.ping() is False
    with pytest.raises(SearchUnavailable):
        backend.search(SearchQuery(text="x"))
    with pytest.raises(SearchUnavailable):
        backend.suggest("x")
    with pytest.raises(SearchUnavailable):
        backend.index([make_doc(1, "Ledger")])
    backend.engine.dispose()
