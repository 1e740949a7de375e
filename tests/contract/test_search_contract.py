"""The search backend contract: the same behaviours against every backend.

Runs against the local index (tantivy), the database's index (on SQLite and on
PostgreSQL) and a real OpenSearch node (``BAZAAR_TEST_OPENSEARCH_URL``;
required when CI=true).
"""

from __future__ import annotations

import threading
import uuid
from unicodedata import normalize

import pytest

from search.interfaces import SearchBackend, SearchQuery
from tests.factories import search_document

_ids = iter(range(1, 1_000_000))


def doc(name: str, **fields) -> dict:
    """A complete search document with a fresh id."""
    listing_id = fields.pop("id", next(_ids))
    days = fields.pop("age_days", listing_id % 50)
    return search_document(listing_id, name, published_days_ago=days, **fields)


@pytest.fixture
def backend(app, search_backend_name, tmp_path) -> SearchBackend:
    if search_backend_name == "local":
        from search.tantivy_backend import TantivyBackend

        yield TantivyBackend(tmp_path / "contract-index",
                             synonyms=app.extensions["bazaar.synonyms"].current)
        return
    if search_backend_name == "database":
        from search.fts import EmbeddedBackend

        yield EmbeddedBackend(app.extensions["bazaar.engine"],
                              synonyms=app.extensions["bazaar.synonyms"].current)
        return
    from search.opensearch import OpenSearchBackend
    from tests.conftest import OPENSEARCH_URL

    backend = OpenSearchBackend(OPENSEARCH_URL, index_prefix=f"test-{uuid.uuid4().hex[:10]}",
                                timeout=10, synonyms=app.extensions["bazaar.synonyms"].current)
    yield backend
    backend.drop()


def names(result) -> list[str]:
    return [NAMES[hit.id] for hit in result.hits]


NAMES: dict[int, str] = {}


def load(backend, *documents) -> list[dict]:
    for document in documents:
        NAMES[document["id"]] = document["name"]
    backend.index(list(documents))
    return list(documents)


def facet(result, name: str) -> dict[str, int]:
    return {value.value: value.count for value in result.facets.get(name, [])}


# --- finding ------------------------------------------------------------------------


def test_finds_by_words_of_every_text_field_with_stemming(backend):
    load(backend,
         doc("Ledger", tagline="Send invoices automatically"),
         doc("Helpdesk", description="Routes support tickets to the right agent."),
         doc("Planner", tags=["roadmaps"]),
         doc("Dial", category="Telephony", category_slug="telephony"),
         doc("Zed", partner="Northwind Labs"))
    assert names(backend.search(SearchQuery(text="invoicing"))) == ["Ledger"]
    assert names(backend.search(SearchQuery(text="ticket"))) == ["Helpdesk"]
    assert names(backend.search(SearchQuery(text="roadmaps"))) == ["Planner"]
    assert names(backend.search(SearchQuery(text="telephony"))) == ["Dial"]
    assert names(backend.search(SearchQuery(text="northwind"))) == ["Zed"]


def test_exact_name_ranks_first(backend):
    load(backend,
         doc("Chatterbox Live Chat Pro", tagline="Chatterbox chat for chatterbox fans",
             rating_average=5.0, rating_count=900, installs=50_000),
         doc("Talkative", description="chatterbox " * 5, rating_average=4.9, rating_count=400),
         doc("Chatterbox", tagline="Team chat", rating_average=3.0, rating_count=2))
    assert names(backend.search(SearchQuery(text="Chatterbox")))[0] == "Chatterbox"
    assert names(backend.search(SearchQuery(text="chatterbox")))[0] == "Chatterbox"


@pytest.mark.parametrize("name, typed", [
    ("R\u00e9sum\u00e9 Robot", "Re\u0301sume\u0301 Robot"),  # decomposed, as macOS pastes it
    ("Zoe\u0308 Planner", "Zo\u00eb planner"),  # a name stored decomposed, typed composed
    ("Zoe\u0308 Planner", "Zoe\u0308 planner"),
])
def test_accents_match_however_they_are_encoded(backend, name, typed):
    load(backend, doc(name, tagline="Tidy work"), doc("Tidy Work", tagline="Plans and resumes"))
    assert names(backend.search(SearchQuery(text=typed)))[:1] == [name]
    # The names come back composed, as they were indexed.
    assert [s.name for s in backend.suggest(typed[:4])][:1] == [normalize("NFC", name)]


def test_ratings_and_installs_lift_equal_matches(backend):
    load(backend,
         doc("Sync One", tagline="Calendar sync"),
         doc("Sync Two", tagline="Calendar sync", rating_average=4.8, rating_count=300,
             installs=20_000))
    assert names(backend.search(SearchQuery(text="calendar sync")))[0] == "Sync Two"


def test_highlights_mark_matches_and_escape_text(backend):
    load(backend, doc("Mailer", tagline="Bulk <script>alert(1)</script> email campaigns"))
    hit = backend.search(SearchQuery(text="email")).hits[0]
    snippets = " ".join(hit.highlights.values())
    assert "<mark>" in snippets and "</mark>" in snippets
    assert "<script>" not in snippets


def test_highlights_mark_synonyms_corrections_and_the_name_being_typed(backend):
    load(backend, doc("Ledgerly", tagline="Send every bill on time",
                      description="Bills go out on the first. " * 3),
         doc("Chatterbox", tagline="Team messaging"))
    # "invoice" is "bill" by the synonym list; "mesaging" is corrected; "chatt" is
    # the name being typed.
    billed = backend.search(SearchQuery(text="invoice")).hits[0].highlights
    assert "<mark>bill</mark>" in billed["tagline"]
    assert "<mark>Bills</mark>" in billed["description"]
    corrected = backend.search(SearchQuery(text="mesaging")).hits[0].highlights
    assert corrected["tagline"] == "Team <mark>messaging</mark>"
    typed = backend.search(SearchQuery(text="chatt")).hits[0].highlights
    assert typed["name"] == "<mark>Chatterbox</mark>"


# --- filters, facets, sorting, paging -------------------------------------------------


@pytest.fixture
def catalog(backend):
    return load(
        backend,
        doc("Alpha CRM", category="CRM", category_slug="crm", is_free=True, rating_average=4.6,
            rating_count=10, badges=["staff_pick"], regions=["us", "eu"], installs=500),
        doc("Beta CRM", category="CRM", category_slug="crm", is_free=False,
            pricing_model="flat_monthly", has_trial=True, rating_average=3.5, rating_count=4,
            regions=["eu"], scopes=["contacts:write"], write_access=True, installs=900),
        doc("Gamma Analytics", category="Analytics", category_slug="analytics", is_free=False,
            pricing_model="usage", rating_average=4.9, rating_count=30,
            badges=["security_reviewed", "staff_pick"], regions=["us"], installs=100),
        doc("Delta Analytics", category="Analytics", category_slug="analytics", is_free=True,
            rating_average=2.1, rating_count=2, regions=["jp"], installs=50),
    )


def test_each_filter_narrows(backend, catalog):
    def found(**filters) -> set[str]:
        return set(names(backend.search(SearchQuery(**filters))))

    assert found(categories=("crm",)) == {"Alpha CRM", "Beta CRM"}
    assert found(categories=("crm", "analytics")) == {n["name"] for n in catalog}
    assert found(pricing="free") == {"Alpha CRM", "Delta Analytics"}
    assert found(pricing="paid") == {"Beta CRM", "Gamma Analytics"}
    assert found(has_trial=True) == {"Beta CRM"}
    assert found(min_rating=4.0) == {"Alpha CRM", "Gamma Analytics"}
    assert found(badges=("security_reviewed",)) == {"Gamma Analytics"}
    assert found(badges=("staff_pick", "security_reviewed")) == {"Alpha CRM", "Gamma Analytics"}
    assert found(regions=("eu",)) == {"Alpha CRM", "Beta CRM"}
    assert found(read_only=True) == {"Alpha CRM", "Gamma Analytics", "Delta Analytics"}
    assert found(categories=("crm",), pricing="free") == {"Alpha CRM"}
    assert found(text="analytics", min_rating=4.0) == {"Gamma Analytics"}


def test_facets_follow_the_query_and_the_other_filters(backend, catalog):
    result = backend.search(SearchQuery(categories=("crm",)))
    # The category facet ignores its own filter, so other categories stay choosable.
    assert facet(result, "category") == {"crm": 2, "analytics": 2}
    assert facet(result, "pricing") == {"free": 1, "paid": 1}
    assert facet(result, "regions") == {"eu": 2, "us": 1}
    assert facet(result, "badges") == {"staff_pick": 1}
    assert facet(result, "has_trial") == {"true": 1}
    assert facet(result, "read_only") == {"true": 1}
    assert facet(result, "min_rating")["3"] == 2 and facet(result, "min_rating")["4"] == 1
    text = backend.search(SearchQuery(text="analytics"))
    assert facet(text, "category") == {"analytics": 2}
    values = [value.value for value in backend.search(SearchQuery()).facets["regions"]]
    assert values[0] in {"us", "eu"} and values[-1] == "jp"  # by count, then value


def test_sorts(backend, catalog):
    def order(sort: str) -> list[str]:
        return names(backend.search(SearchQuery(sort=sort)))

    assert order("rating") == ["Gamma Analytics", "Alpha CRM", "Beta CRM", "Delta Analytics"]
    assert order("installs") == ["Beta CRM", "Alpha CRM", "Gamma Analytics", "Delta Analytics"]
    newest = sorted(catalog, key=lambda d: (d["published_at"], d["id"]), reverse=True)
    assert order("newest") == [d["name"] for d in newest]
    assert order("relevance") == order("newest")  # no text: browse newest first
    updated = sorted(catalog, key=lambda d: (d["updated_at"], d["id"]), reverse=True)
    assert order("updated") == [d["name"] for d in updated]


def test_rating_sort_is_by_the_bayesian_score_not_the_raw_average(backend):
    # listings/ranking.py: one 5-star review must not lead forty averaging 4.7.
    load(backend,
         doc("Lone Star", rating_average=5.0, rating_count=1),
         doc("Crowd Favourite", rating_average=4.7, rating_count=40),
         doc("Unrated"),
         doc("Few Fans", rating_average=4.9, rating_count=3))
    assert names(backend.search(SearchQuery(sort="rating"))) == [
        "Crowd Favourite", "Few Fans", "Lone Star", "Unrated"]


def test_pagination_and_pages_beyond_the_last(backend):
    load(backend, *[doc(f"Widget {n}", tagline="widget") for n in range(7)])
    first = backend.search(SearchQuery(text="widget", per_page=3, page=1))
    second = backend.search(SearchQuery(text="widget", per_page=3, page=2))
    third = backend.search(SearchQuery(text="widget", per_page=3, page=3))
    beyond = backend.search(SearchQuery(text="widget", per_page=3, page=50))
    assert first.total == second.total == beyond.total == 7
    seen = [h.id for h in first.hits + second.hits + third.hits]
    assert len(seen) == len(set(seen)) == 7
    assert beyond.hits == []


def test_empty_text_browses_everything(backend, catalog):
    result = backend.search(SearchQuery())
    assert result.total == len(catalog) and result.facets["category"]


@pytest.mark.parametrize("text", [
    '"', "\\", "(", "[", "{", '{"query":{"match_all":{}}}', "name:*", "AND", "OR NOT", "*", "-",
    "crm AND NOT", 'Alpha" OR "', "^2", "NEAR(alpha crm)", "🚀 crm", "x" * 250, "a:b:c", "'--",
    " ".join(f"word{n}x" for n in range(40)),  # long, run together too
])
def test_hostile_text_is_taken_literally(backend, catalog, text):
    result = backend.search(SearchQuery(text=text))
    if text in {"name:*", "*", '{"query":{"match_all":{}}}', "OR NOT", "AND", "-"}:
        assert result.total < len(catalog)  # syntax never widens to "everything"
    backend.suggest(text)


# --- suggest and did you mean -----------------------------------------------------------


def test_suggest_completes_names(backend):
    load(backend, doc("Chatterbox"), doc("Live Chat Desk"), doc("Charts Pro"), doc("Ledger"))
    suggestions = backend.suggest("cha", limit=5)
    found = [s.name for s in suggestions]
    assert set(found) == {"Chatterbox", "Live Chat Desk", "Charts Pro"}
    assert found[-1] == "Live Chat Desk"  # names that start with the prefix come first
    assert suggestions[0].slug and suggestions[0].category == "Productivity"
    assert len(backend.suggest("cha", limit=2)) == 2
    assert backend.suggest("") == []


def test_a_misspelling_still_finds_the_app(backend):
    load(backend, doc("Chatterbox", tagline="Team chat"), doc("Ledger", tagline="Invoices"))
    result = backend.search(SearchQuery(text="chaterbox"))
    assert names(result) == ["Chatterbox"]


def test_no_correction_when_results_exist(backend):
    load(backend, doc("Ledger"), doc("Ledgers"), doc("Ledger Pro"))
    result = backend.search(SearchQuery(text="ledger"))
    assert result.did_you_mean is None and result.corrected_text is None


# --- meaning: partial matches, variants, typos (issue 14) ----------------------------------


def test_listings_matching_most_words_come_back_below_full_matches(backend):
    load(backend,
         doc("Dunning", tagline="Invoice reminders sent by email"),
         doc("Nudge", tagline="Payment reminder for every invoice"),
         doc("Mailer", tagline="Email reminders for your team"),
         doc("Books", tagline="Invoice and quote templates"))
    found = names(backend.search(SearchQuery(text="invoice reminder email")))
    assert found[0] == "Dunning"                      # all three words
    assert set(found[1:3]) == {"Nudge", "Mailer"}     # two of the three
    # One of three: only because fewer than ten listings have two of them.
    assert found[3:] == ["Books"]


def test_with_enough_matches_one_word_of_three_is_not_enough(backend):
    load(backend, *[doc(f"Dunning {n}", tagline="Invoice reminders") for n in range(10)],
         doc("Books", tagline="Invoice and quote templates"))
    found = names(backend.search(SearchQuery(text="invoice reminder email")))
    assert len(found) == 10 and "Books" not in found


def test_a_facet_count_is_what_choosing_it_finds(backend):
    # Twelve listings have both words, one of them paid; five paid ones have only
    # "sync". Choosing "paid" must show the one the count promised, not widen to
    # any one word because the filter left fewer than ten full matches.
    load(backend, *[doc(f"Planner {n}", tagline="Calendar sync for teams", is_free=True)
                    for n in range(11)],
         doc("Paid Planner", tagline="Calendar sync for teams", is_free=False),
         *[doc(f"Syncer {n}", tagline="File sync", is_free=False) for n in range(5)])
    result = backend.search(SearchQuery(text="calendar sync"))
    assert result.total == 12 and facet(result, "pricing") == {"free": 11, "paid": 1}
    chosen = backend.search(SearchQuery(text="calendar sync", pricing="paid"))
    assert names(chosen) == ["Paid Planner"] and chosen.total == 1
    # With few full matches for the text itself, the wider results and their
    # counts agree the same way.
    result = backend.search(SearchQuery(text="calendar sync", categories=("nope",)))
    assert result.total == 0
    few = backend.search(SearchQuery(text="paid planner"))
    paid = facet(few, "pricing").get("paid", 0)
    assert backend.search(SearchQuery(text="paid planner", pricing="paid")).total == paid


def test_every_word_before_for_is_enough_whatever_it_is_for(backend):
    # Ten listings have two of the three words, so there are enough matches;
    # a listing that says what is asked for (a comment system) matches too,
    # though it says nothing of blogs or posts; one word after "for" does not.
    load(backend, *[doc(f"Blogger {n}", tagline="Blog posts scheduled") for n in range(10)],
         doc("Remark", tagline="Comments for blog posts"),
         doc("Threadline", tagline="Comments under every article"),
         doc("Postbox", tagline="Posts to your team"))
    found = names(backend.search(SearchQuery(text="comments for blog posts")))
    assert found[0] == "Remark"                       # every word
    assert "Threadline" in found and "Postbox" not in found
    assert len(found) == 12


def test_an_exact_name_is_not_padded_with_one_word_matches(backend):
    load(backend, doc("DriftFlow Scheduler", tagline="Shifts for crews"),
         *[doc(f"Roster {n}", tagline="Shift scheduler") for n in range(3)])
    assert names(backend.search(SearchQuery(text="DriftFlow Scheduler"))) == [
        "DriftFlow Scheduler"]


def test_stopwords_and_generic_words_are_not_required(backend):
    load(backend, doc("Pipefitter", tagline="Invoicing for plumbers"),
         doc("Ledger", tagline="Bookkeeping"))
    assert names(backend.search(SearchQuery(text="the invoicing app for plumbers"))) == [
        "Pipefitter"]


def test_an_exact_name_still_ranks_first_among_partial_matches(backend):
    load(backend,
         doc("Reminder Email", tagline="Simple"),
         doc("Invoice Reminder Email Suite", tagline="Invoice reminder email, email, email"),
         doc("Courier", tagline="Reminder email for every invoice you send"))
    assert names(backend.search(SearchQuery(text="reminder email")))[0] == "Reminder Email"


def test_hyphenated_words_match_run_together_and_apart(backend):
    load(backend, doc("Inksign", tagline="Esignature for contracts"),
         doc("Penstroke", tagline="E-signature workflows"),
         doc("Ledger", tagline="Invoices"))
    assert set(names(backend.search(SearchQuery(text="e-signature")))) == {
        "Inksign", "Penstroke"}


@pytest.mark.parametrize("typed, expected", [
    ("sign right", "SignRight"), ("chatter box", "Chatterbox"),
    ("word press backups", "WordPress Backups"),
    # "my", "in" and "tool" are stopwords, but typed apart from the word after them at
    # the start of the text they are the first half of a name.
    ("my sql", "MySQL Backup"), ("in vision boards", "InVision Boards"),
    ("tool box", "Toolbox Kit"),
])
def test_a_name_run_together_is_found_by_its_words_apart(backend, typed, expected):
    load(backend, doc("SignRight", tagline="E-signatures for contracts"),
         doc("Chatterbox", tagline="Team chat"),
         doc("WordPress Backups", tagline="Nightly copies of your site"),
         doc("MySQL Backup", tagline="Nightly dumps of your database"),
         doc("InVision Boards", tagline="Design feedback"),
         doc("Toolbox Kit", tagline="Everything in one place"),
         *[doc(f"Signer {n}", tagline="Sign contracts the right way") for n in range(12)],
         *[doc(f"Presser {n}", tagline="Press releases, word by word, with backups")
           for n in range(12)],
         *[doc(f"Boxer {n}", tagline="Chatter in a box") for n in range(12)],
         *[doc(f"Query Desk {n}", tagline="Write SQL for my team, boards of boxes")
           for n in range(12)])
    assert names(backend.search(SearchQuery(text=typed)))[0] == expected


def test_a_name_with_a_space_too_many_is_not_corrected(backend):
    # "chatter" is in no listing, "chapters" is one edit away: but the text, run
    # together, is a name.
    load(backend, doc("Chatterbox", tagline="Team chat"),
         *[doc(f"Chapters {n}", tagline="Book chapters in a box") for n in range(5)])
    result = backend.search(SearchQuery(text="chatter box"))
    assert names(result)[0] == "Chatterbox" and result.corrected_text is None


@pytest.mark.parametrize("typed, expected", [
    ("pascal-case", "pascal-case"), ("pascal case", "pascal-case"), ("pascalcase", "pascalcase")])
def test_the_name_as_typed_ranks_above_a_name_that_is_its_words_run_together(backend, typed,
                                                                              expected):
    # Both are the name asked for ("pascal case" run together is "pascalcase"), but
    # one is as typed: it comes first, however much more popular the other is.
    load(backend, doc("pascalcase", tagline="Convert a string to pascal case",
                      rating_average=4.9, rating_count=400, installs=90_000),
         doc("pascal-case", tagline="Transform into a string of capitalized words"),
         doc("camel-case", tagline="Transform into a string with the case of a camel"))
    assert names(backend.search(SearchQuery(text=typed)))[0] == expected


def test_agent_nouns_find_their_verbs_and_back(backend):
    load(backend, doc("Pixelwright", tagline="Edit photos in your browser"),
         doc("Snapshop", tagline="A photo editor for teams"),
         doc("Calendly Clone", tagline="Schedule meetings with customers"),
         doc("Ledger", tagline="Invoices"))
    assert set(names(backend.search(SearchQuery(text="photo editor")))) == {
        "Pixelwright", "Snapshop"}
    assert set(names(backend.search(SearchQuery(text="edit photo")))) == {
        "Pixelwright", "Snapshop"}
    assert names(backend.search(SearchQuery(text="meeting scheduler"))) == ["Calendly Clone"]


@pytest.mark.parametrize("query, expected", [
    ("e-mail", {"Postbox", "Courier"}),
    ("email", {"Postbox", "Courier"}),
    ("spread sheet", {"Gridly"}),
    ("spreadsheet", {"Gridly", "Cellar"}),
    ("picture", {"Snapshop", "Pixelwright"}),
    ("esignature", {"Inksign", "Penstroke"}),
    ("invoices", {"Billbox"}),
    ("o365", {"Addin Works"}),
    ("gsuite", {"Drive Keeper"}),
    ("vscode", {"Snippet Pal"}),
    ("regular expression", {"Pattern Pal"}),
    ("async", {"Loop Kit"}),
    ("object relational mapper", {"Modelry"}),
])
def test_the_synonym_list_finds_other_words_for_the_same_thing(backend, query, expected):
    load(backend,
         doc("Postbox", tagline="Email for small teams"),
         doc("Courier", tagline="Send e-mail campaigns"),
         doc("Gridly", tagline="Spreadsheet formulas for everyone"),
         doc("Cellar", tagline="A spread sheet with a database inside"),
         doc("Snapshop", tagline="Photo retouching"),
         doc("Pixelwright", tagline="Image filters"),
         doc("Inksign", tagline="E-signature for contracts"),
         doc("Penstroke", tagline="Electronic signature workflows"),
         doc("Billbox", tagline="Send a bill in seconds"),
         doc("Addin Works", tagline="Add-ins for Microsoft 365"),
         doc("Drive Keeper", tagline="Backups for Google Workspace"),
         doc("Snippet Pal", tagline="Snippets for Visual Studio Code"),
         doc("Pattern Pal", tagline="Test a regex against sample text"),
         doc("Loop Kit", tagline="Asyncio helpers for Python services"),
         doc("Modelry", tagline="A small ORM for SQLite"))
    assert set(names(backend.search(SearchQuery(text=query)))) >= expected


@pytest.mark.parametrize("query, expected", [
    ("code", ["Gitpal"]),       # "no code, nocode": "no" is no part of "code"
    ("logs", ["Loki Logs"]),    # "login, log in, sign in, signin": nor is "in"
    ("sign", ["Inksign"]),
    ("profit", ["Ledgerly"]),   # "not for profit" is a charity, "profit" is not
])
def test_a_synonym_that_needs_its_small_words_is_not_its_big_word_alone(backend, query,
                                                                         expected):
    load(backend,
         doc("Flowless", tagline="The nocode app builder"),
         doc("Gitpal", tagline="Code review for teams"),
         doc("Loki Logs", tagline="Search your logs"),
         doc("Gatekeeper", tagline="Login for every app"),
         doc("Inksign", tagline="Sign contracts online"),
         doc("Ledgerly", tagline="Profit and loss reports"),
         doc("Givewell", tagline="Donations for every charity"))
    assert names(backend.search(SearchQuery(text=query))) == expected


@pytest.mark.parametrize("query, expected", [
    ("login", {"Gatekeeper", "Clientdesk", "Doorway"}),  # "log in", "sign in": not "logs"
    ("nocode", {"Flowless", "Buildless"}),               # "no code": not every "code"
    ("nonprofit", {"Givewell"}),                         # "not for profit": not "profit"
])
def test_a_synonym_with_small_words_needs_them_to_find_a_listing(backend, query, expected):
    # OpenSearch's English fields and PostgreSQL's 'english' dictionary dropped small
    # words ("in", "no", "not"), so "log in" was "log": every app that mentions logs
    # came back for "login".
    load(backend,
         doc("Gatekeeper", tagline="Login for every app"),
         doc("Clientdesk", tagline="A portal for your clients",
             description="Clients log in to see their files."),
         doc("Doorway", tagline="Sign in with one click"),
         doc("Loki Logs", tagline="Search your logs"),
         doc("Inksign", tagline="Sign contracts online"),
         doc("Flowless", tagline="The nocode app builder"),
         doc("Buildless", tagline="Build apps with no code"),
         doc("Gitpal", tagline="Code review for teams"),
         doc("Givewell", tagline="Donations for any not for profit"),
         doc("Ledgerly", tagline="Profit and loss reports"))
    assert set(names(backend.search(SearchQuery(text=query)))) == expected


@pytest.mark.parametrize("query", ["reservation", "réservation", "RÉSERVATION"])
def test_a_word_typed_with_accents_gets_its_synonyms(backend, query):
    # "appointment, reservation, ...": the accents of "réservation" change nothing.
    load(backend, doc("Réserv'Table", tagline="Table reservations for restaurants"),
         doc("Appointly", tagline="Appointments for salons"),
         doc("Ledger", tagline="Invoices"))
    assert set(names(backend.search(SearchQuery(text=query)))) == {"Réserv'Table", "Appointly"}


@pytest.mark.parametrize("query", ["sso", "ＳＳＯ", "𝐒𝐒𝐎"])
def test_letters_typed_full_width_or_styled_are_the_plain_letters(backend, query):
    # Full-width (as Japanese keyboards type them) and mathematical bold letters
    # (pasted from styled text) are the letters they show, synonyms and all.
    load(backend, doc("Gatekeeper", tagline="SSO for every app"),
         doc("Oneid", tagline="Single sign on for teams"),
         doc("Ledger", tagline="Invoices"))
    assert set(names(backend.search(SearchQuery(text=query)))) == {"Gatekeeper", "Oneid"}


def test_an_editors_synonym_line_takes_effect_at_once(backend, app, db):
    load(backend, doc("Quillmate", tagline="Grant proposals"), doc("Ledger", tagline="Invoices"))
    assert names(backend.search(SearchQuery(text="fundraising letters"))) == []
    app.extensions["bazaar.synonyms"].add(db, "fundraising letters, grant proposals", actor=None)
    db.commit()
    assert names(backend.search(SearchQuery(text="fundraising letters"))) == ["Quillmate"]


@pytest.mark.parametrize("typed", ["is-builtn-module", "is builtn module"])
def test_among_equally_near_corrections_the_one_that_names_a_listing_wins(backend, typed):
    # "builtn" is one edit from "built" (in twelve listings) and from "builtin" (in
    # one): with the other words, "builtin" is a listing's name.
    load(backend, doc("is-builtin-module", tagline="Check if a string matches a core module"),
         *[doc(f"Crafted {n}", tagline="Built for teams that ship a module a day")
           for n in range(12)])
    result = backend.search(SearchQuery(text=typed))
    assert names(result)[0] == "is-builtin-module"
    assert result.corrected_text == "is builtin module"


def test_among_equally_near_corrections_the_more_common_wins_on_every_backend(backend):
    # "presett" is one edit from "preset" (eight listings) and from "present" (one).
    load(backend, *[doc(f"Preset Pack {n}", tagline="A preset for every project")
                    for n in range(8)],
         doc("Showcase", tagline="Present your work"))
    assert backend.search(SearchQuery(text="presett")).corrected_text == "preset"


def test_a_misspelt_topic_finds_descriptions_and_says_what_it_searched(backend):
    load(backend,
         doc("Paybook", tagline="Get paid faster",
             description="Automatic invoicing and payment reminders."),
         doc("Tempo", tagline="Team planning",
             description="Two-way calendar sync with every provider."),
         doc("Ledger", tagline="Bookkeeping"))
    result = backend.search(SearchQuery(text="invocing"))
    assert names(result) == ["Paybook"] and result.corrected_text == "invoicing"
    result = backend.search(SearchQuery(text="calender sync"))
    assert names(result) == ["Tempo"] and result.corrected_text == "calendar sync"


def test_a_typo_a_few_listings_share_is_still_corrected_to_the_common_word(backend):
    # Authors misspell too: one description says "calender", a dozen say "calendar".
    load(backend, *[doc(f"Planner {n}", tagline="Calendar sync for teams") for n in range(12)],
         doc("Sloppy", description="Calender sync, done right."), doc("Ledger"))
    result = backend.search(SearchQuery(text="calender sync", per_page=20))
    assert result.corrected_text == "calendar sync"
    assert "Sloppy" in names(result) and len(names(result)) == 13  # the word as typed stays


@pytest.mark.parametrize("typed", ["fire alarm", "alarm fire"])
def test_words_listings_have_together_are_not_corrected_apart(backend, typed):
    # By the counts alone "fire" (two listings) is a typo of "file" (thirty, one edit
    # away), as "calender" is of "calendar". But a listing says "fire alarm" and none
    # says "file alarm": the words were meant as typed, together.
    load(backend, doc("Blaze Watch", tagline="Fire alarm monitoring"),
         doc("Drill Planner", tagline="Plan fire drills"),
         *[doc(f"Filer {n}", tagline="Share a file with your team") for n in range(30)])
    result = backend.search(SearchQuery(text=typed))
    assert result.corrected_text is None and result.did_you_mean is None
    assert names(result)[0] == "Blaze Watch"
    assert not any(name.startswith("Filer") for name in names(result))


@pytest.mark.parametrize("typed", ["fire", "fire inspections"])
def test_a_common_english_word_some_listings_have_is_no_typo(backend, typed):
    # "fire" is in two listings and "file" in thirty, one edit away: by the counts a
    # typo, as "calender" is. But "fire" is a common English word and "calender" is
    # not: the apps that say fire are what was asked for, with no "Showing results".
    load(backend, doc("Blaze Watch", tagline="Fire alarm monitoring"),
         doc("Drill Planner", tagline="Plan fire drills"),
         doc("Inspecto", tagline="Building inspections on a phone"),
         *[doc(f"Filer {n}", tagline="Share a file with your team") for n in range(30)])
    result = backend.search(SearchQuery(text=typed))
    assert result.corrected_text is None and result.did_you_mean is None
    assert {"Blaze Watch", "Drill Planner"} <= set(names(result))
    assert not any(name.startswith("Filer") for name in names(result))


@pytest.mark.parametrize("typed", ["simple parsiing", "simple-parsiing", "parsiing"])
def test_a_typo_that_shares_a_stem_with_a_rare_word_is_still_corrected(backend, typed):
    # "parsiing" and "parsy" have the same English stem ("parsi"), so a search for
    # the typo finds Parsy; but no listing says "parsiing", and "parsing" is in
    # ten times as many listings, one edit away.
    load(backend, doc("Simple Parsing", tagline="Clean up argument parsing scripts"),
         doc("Parsy", tagline="Parser combinators for Python"),
         *[doc(f"Logline {n}", tagline="Fast parsing of log files") for n in range(10)])
    result = backend.search(SearchQuery(text=typed))
    assert result.corrected_text == typed.replace("parsiing", "parsing").replace("-", " ")
    assert names(result)[0] == ("Simple Parsing" if "simple" in typed else names(result)[0])
    assert "Simple Parsing" in names(result)


@pytest.mark.parametrize("typed", ["refer a friend rewards", "friend"])
def test_a_rare_word_is_not_corrected_to_a_common_one_two_edits_away(backend, typed):
    # "friend" (two listings) is two edits from "brien" (a partner with 25 apps): a
    # real word, not a typo of it. A typo a few authors share is one edit away.
    load(backend, doc("Refer-a-Friend", tagline="Friend referral rewards"),
         doc("Sharely", description="Invite a friend, earn credit."),
         *[doc(f"Oven {n}", tagline="Bakery tools", partner="O'Brien & Sons") for n in range(25)])
    result = backend.search(SearchQuery(text=typed))
    assert result.corrected_text is None
    assert names(result)[0] == "Refer-a-Friend"
    assert not any(name.startswith("Oven") for name in names(result))


def test_a_word_as_typed_ranks_above_its_synonym_and_any_typo(backend):
    # "mfa" is a synonym of "2fa" (and one edit from it): the app that says "2fa" first.
    load(backend, doc("MFA Push", tagline="Push approvals for every login"),
         doc("2FA Enforcer", tagline="Require two-factor login", tags=["2fa"]))
    assert names(backend.search(SearchQuery(text="2fa")))[0] == "2FA Enforcer"


@pytest.mark.parametrize("query, expected", [
    ("shipping", ["ShipStream"]),  # "ship", one edit from "shop", is no typo of it
    ("shops", ["BrightDesk"]),
    ("cake", ["Cakery"]),          # nor "cake" of "café"
])
def test_a_short_word_or_stem_finds_no_other_word_one_edit_away(backend, query, expected):
    load(backend, doc("ShipStream", tagline="Shipping labels and rates"),
         doc("BrightDesk", tagline="Timesheets and rotas for toy shops"),
         doc("Café Rota", tagline="Staff rotas for the café"),
         doc("Cakery", tagline="Cake orders for bakeries"))
    assert names(backend.search(SearchQuery(text=query))) == expected


@pytest.mark.parametrize("typed", ["values yaml", "values.yaml"])
def test_the_word_being_typed_starts_a_name_that_matches_no_other_word(backend, typed):
    # "yaml" is rare and "saml" common, one edit away; but "YAML Lint" starts with it,
    # though no listing has both words.
    load(backend, doc("YAML Lint", tagline="Lint your yaml files"),
         doc("Helm Values Check", tagline="Check chart values files"),
         *[doc(f"SAML SSO {n}", tagline="SAML single sign-on for teams") for n in range(12)])
    result = backend.search(SearchQuery(text=typed))
    assert result.corrected_text is None
    assert set(names(result)) == {"YAML Lint", "Helm Values Check"}


@pytest.mark.parametrize("typed", ["creme brulee", "Crème Brûlée", "CREME BRULEE"])
def test_a_name_typed_without_its_accents_is_that_name(backend, typed):
    load(backend, doc("Creme Brulee Classic", tagline="Dessert orders"),
         doc("Crème Brûlée", tagline="Dessert orders for cafés"),
         doc("Brulee Torch", tagline="Kitchen tools"))
    result = backend.search(SearchQuery(text=typed))
    if getattr(backend, "dialect", None) == "postgresql" and typed.isascii():
        # PostgreSQL's text search ('english') does not fold accents (docs/search.md):
        # there the words typed without them are not in that name at all.
        assert "Crème Brûlée" not in names(result)
        return
    assert names(result)[0] == "Crème Brûlée"
    # The very app named needs no company: nothing with only one of its words.
    assert "Brulee Torch" not in names(result)


@pytest.mark.parametrize("typed", ["réservio", "reservio", "RÉSERVIO"])
def test_autocomplete_ignores_accents_either_way(backend, typed):
    load(backend, doc("Réservio Plus", tagline="Bookings"), doc("Reserva", tagline="Tables"))
    assert [s.name for s in backend.suggest(typed)][:1] == ["Réservio Plus"]


@pytest.mark.parametrize(("typed", "expected"), [
    ("wifi", "Wi-Fi Guest Portal"), ("wifigu", "Wi-Fi Guest Portal"),
    ("wifi gu", "Wi-Fi Guest Portal"), ("k12", "K-12 Gradebook"),
    ("nodejs", "Node.js Profiler"), ("NODEJS PRO", "Node.js Profiler"),
    ("chatter bo", "Chatterbox")])
def test_autocomplete_completes_a_name_typed_without_its_hyphens_or_dots(backend, typed,
                                                                         expected):
    # People type "wifi" for "Wi-Fi" and "k12" for "K-12" (and "chatter box" for
    # "Chatterbox"): names compared without spaces complete them too, after the
    # names that start with the text as typed.
    load(backend, doc("Wi-Fi Guest Portal", tagline="Captive portal"), doc("Chatterbox"),
         doc("K-12 Gradebook", tagline="Grades for schools"),
         doc("Node.js Profiler", tagline="Find slow code"),
         doc("Wiki Finder", tagline="Search wikis"), doc("Kanban 12", tagline="Boards"))
    assert [s.name for s in backend.suggest(typed)] == [expected]


def test_autocomplete_lists_names_as_typed_before_names_run_together(backend):
    load(backend, doc("Node JS Tools", tagline="Utilities"),
         doc("Nodejs Deploy", tagline="Ship"), doc("Node.js Profiler", tagline="Find slow code"))
    found = [s.name for s in backend.suggest("nodejs")]
    assert found[0] == "Nodejs Deploy"
    assert sorted(found[1:]) == ["Node JS Tools", "Node.js Profiler"]


@pytest.mark.parametrize("typed", ["Node.js Profiler", "node js profiler",
                                   "SaaS Metrics (MRR/ARR)", "saas metrics mrr arr"])
def test_a_name_with_punctuation_is_an_exact_name(backend, typed):
    # The very app named needs no company: the search is not widened to apps that
    # have only some of its words, with or without the name's punctuation.
    load(backend, doc("Node.js Profiler", tagline="Find slow code"),
         doc("Python Profiler", tagline="Find slow code"),
         doc("SaaS Metrics (MRR/ARR)", tagline="Revenue dashboards"),
         doc("SaaS Billing", tagline="Invoices and metrics"))
    result = backend.search(SearchQuery(text=typed))
    assert names(result) == ["Node.js Profiler" if "node" in typed.lower()
                             else "SaaS Metrics (MRR/ARR)"]


@pytest.mark.parametrize("typed", ["rum", "rum web vitals"])
def test_a_word_of_three_letters_is_never_corrected(backend, typed):
    # Three letters have too many neighbours to guess from: "rum" (real user
    # monitoring) is no typo of "run", though a dozen listings say "run".
    load(backend, doc("Real User Monitoring", tagline="Web vitals from real browsers",
                      tags=["rum"]),
         *[doc(f"Job Runner {n}", tagline="Run background jobs on a schedule") for n in range(12)])
    result = backend.search(SearchQuery(text=typed))
    assert result.corrected_text is None and result.did_you_mean is None
    assert names(result)[0] == "Real User Monitoring"


def test_a_rare_word_being_typed_is_no_typo_while_it_starts_a_name(backend):
    # "bake" is in one listing and "cake" in a dozen, a single edit away: a typo of
    # it, were it not the start of "Bakehouse", which the visitor may be typing.
    load(backend, doc("Bakehouse Orders", tagline="Orders for bakers"),
         doc("Ovenly", description="Bake bread at home."),
         *[doc(f"Cake {n}", tagline="Cake shop tools") for n in range(12)])
    result = backend.search(SearchQuery(text="bake"))
    assert result.corrected_text is None and result.did_you_mean is None
    assert set(names(result)) == {"Bakehouse Orders", "Ovenly"}


@pytest.mark.parametrize("typed", ["node js", "node"])
def test_a_word_of_a_name_is_no_typo(backend, typed):
    # "node" is in one listing, a word one edit away in a dozen: still no typo,
    # since an app is named with it.
    load(backend, doc("Node.js Monitor", tagline="Watch your services"),
         *[doc(f"Reviewer {n}", tagline="Code review for teams") for n in range(12)])
    result = backend.search(SearchQuery(text=typed))
    assert result.corrected_text is None
    assert names(result)[0] == "Node.js Monitor"


@pytest.mark.parametrize("typed", ["reilly", "o'reilly", "brien", "o'brien sons"])
def test_a_name_with_an_apostrophe_is_found_by_its_parts(backend, typed):
    load(backend, doc("O'Reilly Reader", tagline="Read books offline"),
         doc("Ovenly", tagline="Bakery tools", partner="O'Brien & Sons"),
         *[doc(f"Relay {n}", tagline="Relay messages") for n in range(12)])
    result = backend.search(SearchQuery(text=typed))
    assert result.corrected_text is None
    assert names(result)[:1] == (["O'Reilly Reader"] if "reilly" in typed else ["Ovenly"])


@pytest.mark.parametrize("typed", ["nailed", "nailed it"])
def test_a_word_whose_stem_a_listing_has_is_no_typo_of_another_word(backend, typed):
    # No listing says "nailed", but one says "nail" (and "Nail'd"): a search finds
    # it by its stem, so it is no typo of "failed".
    load(backend, doc("Nail'd It", tagline="Booking for nail technicians"),
         doc("Postcode Lookup", tagline="Address lookup; fewer failed deliveries"))
    result = backend.search(SearchQuery(text=typed))
    assert result.corrected_text is None
    assert names(result) == ["Nail'd It"]


@pytest.mark.parametrize("typed", ["dentist", "dentists", "retail"])
def test_a_word_found_by_its_stem_is_no_typo(backend, typed):
    # No listing says "dentist" or "retail" as such; one says "dentists", "retailers".
    load(backend, doc("Tooth Pro", tagline="Bookings for dentists and retailers"),
         *[doc(f"Dental {n}", tagline="Dental clinics") for n in range(12)])
    result = backend.search(SearchQuery(text=typed))
    assert result.corrected_text is None and result.did_you_mean is None
    assert names(result) == ["Tooth Pro"]
    assert backend.search(SearchQuery(text=typed, correct_spelling=False)).did_you_mean is None


def test_a_short_word_is_corrected_one_edit_away_at_most(backend):
    # "games" is two edits from "gyms": too far for a five-letter word.
    load(backend, *[doc(f"Gym {n}", tagline="Gyms for members") for n in range(12)])
    result = backend.search(SearchQuery(text="games"))
    assert result.corrected_text is None and result.total == 0


def test_a_word_the_synonym_list_knows_is_no_typo(backend):
    # The packaged list says "e-signature, esignature, electronic signature, ...".
    load(backend, doc("Signy", tagline="Electronic signature for contracts"),
         *[doc(f"Sig {n}", tagline="Signature styles") for n in range(12)])
    result = backend.search(SearchQuery(text="esignature"))
    assert result.corrected_text is None
    assert names(result)[0] == "Signy"


def test_a_word_of_a_name_typed_apart_is_no_typo(backend):
    # "flow" is in no listing on its own and "glow" is one edit away in five, but
    # "clinic flow" run together is a word of a name: the people typing it mean
    # ClinicFlow, and "Showing results for clinic glow" would be wrong.
    load(backend, doc("ClinicFlow Scheduling", tagline="Book patients online"),
         *[doc(f"Glow Spa {n}", tagline="Glow facials for your clinic") for n in range(5)])
    result = backend.search(SearchQuery(text="clinic flow"))
    assert result.corrected_text is None and result.did_you_mean is None
    assert names(result)[0] == "ClinicFlow Scheduling"


def test_a_filter_that_leaves_few_apps_is_no_reason_to_correct_the_text(backend):
    # "Few" is the text's to say, not the filters' (as for widening): "fire drill"
    # finds four apps, so "fire" (in two) is no typo of "file" (in six) because
    # the Productivity filter leaves one of them.
    productivity = {"category": "Productivity", "category_slug": "productivity"}
    safety = {"category": "Safety", "category_slug": "safety"}
    load(backend, doc("Evacuation Planner", tagline="Plan the next fire drill", **safety),
         doc("Fire Warden Roster", tagline="Who checks each floor", **productivity),
         doc("Drill Sergeant", tagline="Training plans", **safety),
         doc("Drill Press Tracker", tagline="Workshop machines", **safety),
         *[doc(f"File Drop {n}", tagline="Share files", **productivity) for n in range(6)])
    assert backend.search(SearchQuery(text="fire drill")).corrected_text is None
    result = backend.search(SearchQuery(text="fire drill", categories=("productivity",)))
    assert result.corrected_text is None
    assert names(result) == ["Fire Warden Roster"]


@pytest.mark.parametrize(("typed", "expected"), [
    ("toolbox", "Tool Box"), ("blockchain explorer", "Block Chain Explorer"),
    ("vuejs", "Vue.js Devtools")])
def test_two_listed_words_typed_run_together_are_searched_for_apart(backend, typed, expected):
    # A word no listing has and no correction is near, that is two words listings
    # have run together: what a name written apart is typed as. No typo, so no
    # "Showing results for": the words apart are one more way to match it.
    load(backend, doc("Tool Box", tagline="Handy tools"), doc("Vue.js Devtools"),
         doc("Block Chain Explorer", tagline="Read the ledger"),
         doc("Box Office", tagline="Sell tickets"), doc("Chain Mail", tagline="Newsletters"))
    result = backend.search(SearchQuery(text=typed))
    assert names(result) == [expected]
    assert result.corrected_text is None and result.did_you_mean is None


@pytest.mark.parametrize("typed", ["openstreetmaps", "openstreetmaps export"])
def test_three_listed_words_typed_run_together_are_searched_for_apart(backend, typed):
    # No two words some listings have make "openstreetmaps": three do.
    load(backend, doc("Open Street Maps Export", tagline="Your stores on a map"),
         doc("Street Team", tagline="Promoters"), doc("Open Hours", tagline="Opening times"),
         doc("Maps Embed", tagline="Embed maps"), doc("Export Hub", tagline="Export orders"))
    result = backend.search(SearchQuery(text=typed))
    assert names(result)[0] == "Open Street Maps Export"
    assert result.corrected_text is None and result.did_you_mean is None


def test_a_word_is_not_split_into_words_no_listing_has(backend):
    load(backend, doc("Tool Box", tagline="Handy tools"), doc("Ledger", tagline="Accounts"))
    result = backend.search(SearchQuery(text="toolzbax"))
    assert result.total == 0 and result.corrected_text is None


def test_a_name_with_a_space_too_many_keeps_its_app_when_a_word_is_corrected(backend):
    # "word" is in few listings and "work" one edit away in many: however the
    # words are corrected, the app named "WordPress ..." stays found.
    load(backend, doc("WordPress Backups", tagline="Nightly copies of your site"),
         *[doc(f"Worker {n}", tagline="Work shifts and press kits") for n in range(12)])
    assert "WordPress Backups" in names(backend.search(SearchQuery(text="word press")))


def test_a_name_is_no_typo_though_another_word_is_misspelt(backend):
    load(backend, doc("Node.js Monitor", tagline="Watch your services"),
         *[doc(f"Reviewer {n}", tagline="Code review for teams") for n in range(12)])
    result = backend.search(SearchQuery(text="node js monitr"))
    assert result.corrected_text == "node js monitor"
    assert names(result)[0] == "Node.js Monitor"


def test_equally_near_corrections_keep_the_first_letter(backend):
    # "sinc" is one edit from "sync" and from "inc" (a dozen partners' "Inc."): people
    # seldom mistype the first letter.
    load(backend, doc("CalSync", tagline="Calendar sync"),
         *[doc(f"Acme {n}", tagline="Tools", partner=f"Acme {n} Inc") for n in range(12)])
    result = backend.search(SearchQuery(text="calendar sinc"))
    assert result.corrected_text == "calendar sync"
    assert names(result)[0] == "CalSync"


def test_the_start_of_a_name_being_typed_is_not_corrected(backend):
    load(backend, doc("Chatterbox", tagline="Team chat"),
         *[doc(f"Talk {n}", tagline="Chat with customers") for n in range(5)])
    result = backend.search(SearchQuery(text="chatt"))
    assert names(result)[0] == "Chatterbox"
    assert result.corrected_text is None  # no "Showing results for chat"


def test_a_corrected_word_gets_its_synonyms(backend):
    # The packaged list says "knowledge base, knowledgebase, wiki".
    load(backend, doc("Wikiful", tagline="Team wiki"),
         doc("Brainy", tagline="Knowledge sharing for teams"), doc("Ledger"))
    result = backend.search(SearchQuery(text="knowlege base"))
    assert result.corrected_text == "knowledge base"
    assert "Wikiful" in names(result)


def test_with_correction_off_the_text_is_searched_as_typed(backend):
    load(backend, doc("Tempo", tagline="Calendar sync for teams"), doc("Ledger"))
    result = backend.search(SearchQuery(text="calender sync", correct_spelling=False))
    assert result.corrected_text is None and result.did_you_mean == "calendar sync"


# --- writing ----------------------------------------------------------------------------


def test_index_replaces_and_delete_removes(backend):
    [ledger] = load(backend, doc("Ledger", tagline="Old words"))
    load(backend, {**ledger, "tagline": "Fresh words"})
    assert backend.count() == 1
    assert backend.search(SearchQuery(text="old")).total == 0
    assert backend.search(SearchQuery(text="fresh")).total == 1
    backend.delete([ledger["id"], 987654321])
    assert backend.count() == 0 and backend.search(SearchQuery(text="fresh")).total == 0


def test_rebuild_swaps_atomically_and_reports_progress(backend):
    load(backend, doc("Stale App"))
    fresh = [doc(f"Fresh {n}") for n in range(250)]
    for document in fresh:
        NAMES[document["id"]] = document["name"]
    seen: list[int] = []
    errors: list[Exception] = []
    totals: list[int] = []
    stop = threading.Event()

    def search_meanwhile():
        while not stop.is_set():
            try:
                totals.append(backend.search(SearchQuery()).total)
            except Exception as error:  # noqa: BLE001  (any error fails the test)
                errors.append(error)

    reader = threading.Thread(target=search_meanwhile)
    reader.start()
    try:
        assert backend.rebuild(iter(fresh), len(fresh), seen.append) == 250
    finally:
        stop.set()
        reader.join()
    assert not errors
    assert all(total in (1, 250) for total in totals)  # the old index or the new, never between
    assert seen and seen == sorted(seen) and seen[-1] == 250
    assert backend.count() == 250
    assert backend.search(SearchQuery(text="stale")).total == 0


def test_ping(backend):
    assert backend.ping() is True


# --- what the best matches say: category feedback -------------------------------------------


def games_and_a_blocker(backend) -> None:
    """Three games, and two listings that say nearly the same: a game, and a
    blocker (another category) whose tagline is a word shorter (and a listing
    added later, which wins ties)."""
    games = {"category": "Entertainment", "category_slug": "entertainment"}
    load(backend,
         doc("Star Quest", tagline="Space games for the whole family", **games),
         doc("Puzzle Box", tagline="Puzzle games, a new one every day", **games),
         doc("Card Table", tagline="Card games with friends", **games),
         doc("Tetromino", tagline="Falling blocks and games while you wait",
             description="Blocks fall until your break.", **games),
         doc("Quietude", tagline="Blocks and games while you wait",
             description="Blocks stop until your break.",
             category="Utilities", category_slug="utilities"),
         # A catalog is mostly about other things: "games" is not in every listing.
         *[doc(f"Ledger {n}", tagline="Invoices and quotes") for n in range(20)])


def test_the_category_most_best_matches_share_lifts_its_listings(backend):
    """Four of the five best matches for "games" are games: the game ranks above
    the blocker, which its words alone ranked first."""
    games_and_a_blocker(backend)
    found = names(backend.search(SearchQuery(text="games")))
    assert set(found) == {"Star Quest", "Puzzle Box", "Card Table", "Tetromino", "Quietude"}
    assert found.index("Tetromino") < found.index("Quietude"), found


def test_category_feedback_keeps_the_tiers_and_every_page(backend):
    """An exact name stays first and full matches stay above partial ones, and the
    reordered first matches still page through once each."""
    games_and_a_blocker(backend)
    load(backend, doc("Games", tagline="A directory", category="Utilities",
                      category_slug="utilities"))
    assert names(backend.search(SearchQuery(text="games")))[0] == "Games"
    pages = [names(backend.search(SearchQuery(text="games", per_page=2, page=page)))
             for page in (1, 2, 3, 4)]
    assert pages[3] == [] and sum(len(page) for page in pages) == 6
    assert len({name for page in pages for name in page}) == 6, pages
    assert pages[0][0] == "Games"



@pytest.mark.parametrize(("typed", "expected"), [
    ("serv", "Serve"), ("is symbo", "Is Symbol"), ("is-symbo", "Is Symbol")])
def test_the_name_a_query_completes_ranks_above_longer_names(backend, typed, expected):
    # Enter pressed before the name's last word was finished: the name that the query
    # is, its last word completed, ranks above the longer names that start the same
    # way, however popular they are.
    load(backend, doc("Serve", tagline="Static file serving"),
         doc("Serve Index", tagline="Directory listings", installs=900, active_installs=900,
             rating_average=4.9, rating_count=400),
         doc("Is Symbol", tagline="Is this value a symbol?"),
         *[doc(f"Symbol {word}", tagline="Symbols for JavaScript", installs=900,
               active_installs=900, rating_average=4.9, rating_count=400)
           for word in ("Tree", "Observable", "Description")])
    assert names(backend.search(SearchQuery(text=typed)))[0] == expected


@pytest.mark.parametrize("typed, expected", [
    ("k12", "K-12 Gradebook"), ("k12 grades", "K-12 Gradebook"),
    ("ledgerly2", "Ledgerly 2"), ("ledgerly2 accounting", "Ledgerly 2"),
    ("h264 encoder", "H.264 Encoder"),
])
def test_a_name_of_letters_and_digits_typed_together_is_found(backend, typed, expected):
    # "K-12", "Ledgerly 2", "H.264" typed without their hyphen, space or dot: the
    # letters and the digits are still the name's words, not a typo of another word
    # ("ledgerly2" is no "ledgerly", whose stem is Ledger's).
    load(backend, doc("K-12 Gradebook", tagline="Grades and report cards"),
         doc("Twelve Steps", tagline="12 habits for 12 months"),
         doc("Ledger", tagline="Accounting", installs=900, active_installs=900,
             rating_average=4.9, rating_count=400),
         doc("Ledgerly 2", tagline="Accounting"),
         doc("Ledger Two", tagline="Accounting"),
         doc("H.264 Encoder", tagline="Video encoding"),
         doc("Encoder Pro", tagline="Video encoding"))
    result = backend.search(SearchQuery(text=typed))
    assert names(result)[0] == expected
    assert result.corrected_text is None


def test_a_correction_keeps_the_digits_typed(backend):
    # "throug2" is one edit from "through" (the 2 for an h) and from "through2" (an h
    # left out): people seldom type a digit for a letter, so it is "through2".
    load(backend, doc("through", tagline="Simple way to create a readable writable stream",
                      installs=900, active_installs=900),
         doc("through2", tagline="A tiny wrapper around streams"))
    result = backend.search(SearchQuery(text="throug2"))
    assert result.corrected_text == "through2"
    assert names(result)[0] == "through2"


@pytest.mark.parametrize("typed, expected", [
    ("safer buffers", "safer-buffer"), ("css trees", "css-tree"),
    ("invoice reminder", "Invoice Reminders"),
])
def test_a_name_typed_with_a_plural_slip_ranks_above_names_that_only_share_its_words(
        backend, typed, expected):
    # Not the name exactly (a word's plural added or left out), but every word of it,
    # in its order, in a name: that listing first, above popular ones that say the
    # words elsewhere or apart, and above names that are one of its words.
    popular = {"installs": 900, "active_installs": 900, "rating_average": 4.9,
               "rating_count": 400}
    load(backend, doc("safer-buffer", tagline="Modern Buffer API polyfill without footguns"),
         doc("safe-buffer", tagline="Safer Node.js Buffer API", **popular),
         doc("buffer", tagline="Node.js Buffer API, for the browser", **popular),
         doc("css-tree", tagline="A tool set for CSS: fast detailed parser (CSS to AST)"),
         doc("csstree-patches", tagline="Syntax patches for CSS trees", **popular),
         doc("css-select", tagline="A CSS selector compiler for DOM trees", **popular),
         doc("Invoice Reminders", tagline="Chase late payments by email"),
         doc("Dunning Desk", tagline="Invoice reminder emails that get you paid", **popular),
         doc("Reminder", tagline="Reminders for every invoice", **popular))
    assert names(backend.search(SearchQuery(text=typed)))[0] == expected


_FILLER = ("Projects, tasks, chat, documents, calendars, contacts, time sheets and expenses "
           "for the whole team, with reports and dashboards. ")


@pytest.mark.parametrize("installs, reviews", [(20, 3), (300, 20), (5000, 200)])
def test_popularity_lifts_the_text_score_and_never_the_tiers(backend, installs, reviews):
    # Both match every term (a tier of their own): then the text decides, lifted by
    # popularity by at most a third, so a listing about invoice reminders comes before
    # a popular one that says the two words once in a long description.
    load(backend,
         doc("Dunning Desk", tagline="Invoice reminders that get you paid",
             description="Automatic invoice reminder emails on a schedule you set: every "
                         "overdue invoice gets its reminder."),
         doc("Office Suite", tagline="Everything your office needs",
             description=_FILLER * 3 + "Send an invoice. Set a reminder. " + _FILLER * 3,
             installs=installs, active_installs=installs, rating_average=4.5,
             rating_count=reviews))
    assert names(backend.search(SearchQuery(text="invoice reminder"))) == [
        "Dunning Desk", "Office Suite"]


@pytest.mark.parametrize("per_page", [7, 24, 30, 100])
def test_pages_hold_every_match_once_however_popularity_reorders_the_first(backend, per_page):
    # 80 listings in one tier (every term), their popularity against their text: the
    # first pages are put in order again by text x popularity (the local index), and
    # page after page still shows each listing exactly once.
    load(backend, *[doc(f"Desk {n}", tagline="Invoice reminders " + "and more " * (n % 9),
                        installs=(n * 37) % 500, active_installs=(n * 37) % 500,
                        rating_average=3 + n % 3, rating_count=(n * 11) % 90)
                    for n in range(80)])
    seen = []
    for page in range(1, 80 // per_page + 2):
        seen += names(backend.search(SearchQuery(text="invoice reminder", per_page=per_page,
                                                 page=page)))
    assert sorted(seen) == sorted(f"Desk {n}" for n in range(80))



@pytest.mark.parametrize("typed", ["pydantic", "pydantic core", "pydanitc_core", "pydanitc core"])
def test_a_name_joined_by_underscores_is_found_by_its_words(backend, typed):
    # "pydantic_core" is the words "pydantic" and "core" on every backend, as the
    # query's words are: found by either, typed right or with a slip.
    load(backend, doc("pydantic_core", tagline="The core of a validation library, in Rust"),
         doc("azure-core", tagline="Microsoft Azure Core Library for Python",
             installs=900, active_installs=900),
         doc("sagemaker-core", tagline="A package for SageMaker's core functions"),
         doc("google-api-core", tagline="Google API client core library"))
    assert names(backend.search(SearchQuery(text=typed)))[0] == "pydantic_core"


_README = ("Expense Cloud keeps receipts, mileage and approvals in one place. Snap a receipt "
           "and it is read for you; approvers get one tap. Finance gets reports on every "
           "card, reports by team and reports by project, and exports for the books. ")


def test_every_word_in_what_a_listing_says_it_is_ranks_above_every_word_in_a_long_text(
        backend):
    # Every word of the query in a listing's name, tagline, tags or category says
    # what it is; every word somewhere in a long description says much less (a
    # README mentions a hundred things). The first ranks above, however popular
    # the second and however often its description repeats the words.
    load(backend,
         doc("Expense Cloud", tagline="Receipts, mileage and approvals for finance teams",
             description=_README * 3, installs=5000, active_installs=5000,
             rating_average=4.8, rating_count=300),
         doc("Tally", tagline="Expense reports without the spreadsheet"),
         doc("Ledger Lane", tagline="Bookkeeping for small firms"))
    assert names(backend.search(SearchQuery(text="expense reports")))[:2] == [
        "Tally", "Expense Cloud"]


def test_one_word_in_what_a_listing_says_it_is_ranks_above_the_word_in_passing(backend):
    # As for every word of a longer query: a word a listing's name, tagline, tags or
    # category has says what it is; a description that says it in passing ("reminders
    # by email or chat") says much less, however popular the listing.
    load(backend,
         doc("Scratchpad", tagline="Shared notes with checklists",
             description="Reminders by email or chat. It tells the right person, by email "
                         "or in chat.", installs=5000, active_installs=5000,
             rating_average=4.8, rating_count=300),
         doc("Parley", tagline="A lightweight chat widget for your website",
             description="Visitors ask, your team answers, and every conversation becomes "
                         "a ticket with its transcript saved on the contact record."),
         doc("Ledger Lane", tagline="Bookkeeping for small firms"))
    assert names(backend.search(SearchQuery(text="chat"))) == ["Parley", "Scratchpad"]


@pytest.mark.parametrize("typed", ["is streams", "is-streams"])
def test_a_name_with_a_stopword_typed_with_a_plural_slip_keeps_its_stopword(backend, typed):
    # "is" says nothing about what a listing does, but in a name it is a word of the
    # name: "is streams" asks for "is-stream", not for any name with "stream".
    popular = {"installs": 900, "active_installs": 900, "rating_average": 4.9,
               "rating_count": 400}
    load(backend, doc("is-stream", tagline="Check if something is a Node.js stream"),
         doc("merge-stream", tagline="Merge multiple streams into one interleaved stream",
             **popular),
         doc("stream", tagline="Node.js streams, for every environment", **popular))
    assert names(backend.search(SearchQuery(text=typed)))[0] == "is-stream"


@pytest.mark.parametrize("typed", ["c++", "C#", "f#", "Capacit?"])
def test_a_word_with_a_symbol_after_it_was_finished_not_the_start_of_a_name(backend, typed):
    # The last word of a search may be the one being typed ("capac": Capacity), but a
    # word with anything after it was finished: "c++" asks for C++, not for every app
    # whose name starts with a C.
    load(backend,
         doc("Capacity Planner", tagline="Plan your team's capacity"),
         doc("Collect", tagline="Payments, collected"),
         doc("Forge", tagline="Build anything"),
         doc("Compiler Explorer", description="Runs C and C++ code in the browser."))
    found = names(backend.search(SearchQuery(text=typed)))
    assert not {"Collect", "Forge"} & set(found)
    if typed == "c++":
        assert found == ["Compiler Explorer"]
    elif typed != "Capacit?":
        assert found == []


@pytest.mark.parametrize("typed, meant", [
    ("c++ library", "Boost Kit"),
    ("C++", "Boost Kit"),
    ("c#", "Sharp Tools"),
    ("cpp library", "Boost Kit"),
    ("C# library", "Sharp Tools"),
    ("c sharp", "Sharp Tools"),
    ("F# scripts", "Fable Scripts"),
])
def test_languages_written_with_symbols_are_words_of_their_own(backend, typed, meant, db_backend,
                                                               search_backend_name):
    # "C++", "C#" and "F#" are names of languages; every tokenizer read them as the
    # letter c or f, so "c++ library" found any listing with a lone "C" (C libraries,
    # C# ones) or with "library". Every index spells them out, in listings and in
    # queries alike ("cplusplus"), and the synonym list adds "cpp".
    load(backend,
         doc("Boost Kit", tagline="Portable C++ library for numerics"),
         doc("Sharp Tools", tagline="A C# library for .NET projects"),
         doc("Fable Scripts", tagline="Run F# scripts anywhere"),
         doc("Clay", tagline="A C library for parsing"),
         doc("Libra", tagline="Library of icons"))
    result = backend.search(SearchQuery(text=typed))
    assert names(result)[0] == meant
    if " " not in typed:  # "library" would let in any listing with that word too
        assert names(result) == [meant]
    # PostgreSQL's ts_headline reads the text as written, where "C++" is the letter c.
    postgresql_index = (db_backend, search_backend_name) == ("postgresql", "database")
    if ("+" in typed or "#" in typed) and not postgresql_index:
        symbol = typed.split()[0].upper()
        assert f"<mark>{symbol}</mark>" in result.hits[0].highlights["tagline"]


def test_autocomplete_completes_a_name_that_starts_with_a_language_symbol(backend):
    load(backend, doc("C++ Insights"), doc("Capacity Planner"), doc("C# Formatter"))
    assert [s.name for s in backend.suggest("c++")] == ["C++ Insights"]
    assert [s.name for s in backend.suggest("C#")] == ["C# Formatter"]


@pytest.mark.parametrize("typed, found", [
    ("invoicing for plumbers", "Ledger"),
    ("best crm", "Pipeline"),
])
def test_an_everyday_word_no_listing_has_is_offered_a_correction_not_given_one(backend, typed,
                                                                              found):
    # "plumbers" and "best" are in no listing, and each is an edit or two from a word
    # some listings have ("numbers", "test"). But they are common English words, not
    # typos: what the rest of the text finds is shown as typed (the correction at most
    # offered). A word that is no common word ("calender") is still corrected.
    load(backend, doc("Ledger", tagline="Invoicing for small firms"),
         doc("Pipeline", tagline="A CRM for small teams"),
         *[doc(f"Counter {n}", tagline="Numbers and test reports")
           for n in range(12)])
    result = backend.search(SearchQuery(text=typed))
    assert result.corrected_text is None
    assert names(result)[0] == found


def test_a_common_synonym_does_not_make_the_word_typed_count_for_less(backend):
    # "invoices" has the synonym "bill", which many listings say in passing ("shown on
    # your bill"): the word as typed still counts as the rare word it is, so the apps
    # about invoices rank above those that only send something.
    load(backend,
         doc("Collect", tagline="Reminders for overdue invoices"),
         doc("Paperwork", tagline="Invoices from your orders, automatically"),
         *[doc(f"Courier {n}", tagline="Send documents and forms")
           for n in range(8)],
         *[doc(f"Meter {n}", tagline="Usage analytics",
               description="Usage is shown on your bill each month.") for n in range(12)])
    found = names(backend.search(SearchQuery(text="send invoices")))
    if getattr(backend, "dialect", None) == "postgresql":
        # PostgreSQL's ts_rank weighs no word by its rarity (docs/search.md): there
        # every word counts alike, and the invoice apps are only found.
        assert {"Collect", "Paperwork"} <= set(found)
        return
    assert set(found[:2]) == {"Collect", "Paperwork"}


@pytest.mark.parametrize("typed, expected", [
    ("chaterb", "Chatterbox"), ("chaterbox", "Chatterbox"), ("ledgre", "Ledger Pro"),
    ("ledger porfolio", "Ledger Portfolio"), ("chatterbxo", "Chatterbox"),
])
def test_autocomplete_forgives_a_typo_when_no_name_starts_with_the_text(
        backend, search_backend_name, typed, expected):
    # As search does (none below five letters, one edit to seven, two from eight),
    # only when no name starts with what is typed: "cha" still lists the names that
    # start with it and nothing near them (test_suggest_completes_names).
    load(backend, doc("Chatterbox"), doc("Live Chat Desk"), doc("Charts Pro"),
         doc("Ledger Pro"), doc("Ledger Portfolio"), doc("Ledgerly"))
    found = [s.name for s in backend.suggest(typed)]
    if search_backend_name == "database":
        # The database's index completes names as typed only (docs/search.md).
        assert found == []
        return
    assert expected in found and "Live Chat Desk" not in found
    assert [s.name for s in backend.suggest("charts")] == ["Charts Pro"]


def test_a_widened_search_says_which_words_no_listing_has(backend):
    # "password manager": no listing says "password", so the hits are the listings
    # with "manager" (a page is never left short), and the result says which word
    # none has, for the page to tell the reader why these hits do not have it.
    load(backend,
         doc("Welcome Aboard", tagline="Onboarding checklists for every hire and manager"),
         doc("One on One", tagline="Meeting notes for a manager and each report"),
         doc("Vault Keeper", tagline="Keep your team's secrets in one safe place"))
    result = backend.search(SearchQuery(text="password manager"))
    assert set(names(result)) == {"Welcome Aboard", "One on One"}
    assert result.unmatched == ("password",)
    # With a filter: widened as the text alone would be, and no listing at all has it.
    filtered = backend.search(SearchQuery(text="password manager", regions=("us",)))
    assert filtered.total == 2 and filtered.unmatched == ("password",)
    # Every word some listing has: nothing to say, whether or not it was widened.
    assert backend.search(SearchQuery(text="manager checklists")).unmatched == ()
    assert backend.search(SearchQuery(text="manager")).unmatched == ()
    assert backend.search(SearchQuery(text="c++ secrets")).unmatched == ("c++",)
