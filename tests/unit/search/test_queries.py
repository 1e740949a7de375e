"""The OpenSearch request bodies built by ``search.queries`` (no cluster needed)."""

from __future__ import annotations

import json

import pytest

from search import opensearch_index, queries
from search import opensearch_spelling as spelling
from search.analysis import analyse
from search.interfaces import DOCUMENT_FIELDS, MAX_QUERY_LENGTH, SearchQuery
from search.opensearch_text import ALL_TERMS_BOOST, COMPLETED_NAME_BOOST, EXACT_NAME_BOOST

HOSTILE = [
    '"', "\\", "(", "[", '{"query":{"match_all":{}}}', "name:*", "AND", "OR NOT", "*", "-",
    'Alpha" OR "', "^2", "🚀 crm", "a:b:c", "'--", "title:(x OR y) AND _exists_:name",
]

# Clause types whose value is taken literally: text goes in, syntax is never parsed.
LITERAL_CLAUSES = {"multi_match", "match", "match_phrase", "match_phrase_prefix", "term",
                   "terms", "prefix", "suggest"}


def walk(node, path=()):
    """Every (path, key, value) in a nested body."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield path, key, value
            yield from walk(value, path + (key,))
    elif isinstance(node, list):
        for item in node:
            yield from walk(item, path)


def places_of(body: dict, text: str) -> list[tuple]:
    """Paths of every string value that contains ``text``."""
    return [path + (key,) for path, key, value in walk(body)
            if isinstance(value, str) and text and text in value]


def assert_text_only_in_literal_clauses(body: dict, text: str) -> None:
    keys = {key for _, key, _ in walk(body)}
    assert not keys & {"query_string", "simple_query_string", "script", "script_score"}
    for place in places_of(body, text):
        assert LITERAL_CLAUSES & set(place), f"user text at {place}"


def document(**fields) -> dict:
    base = {
        "id": 1, "slug": "ledger", "name": "Ledger", "tagline": "", "description": "",
        "category": "Finance", "category_slug": "finance", "tags": [], "partner": "Acme",
        "pricing_model": "free", "is_free": True, "has_trial": False, "badges": [],
        "scopes": [], "write_access": False, "regions": ["us"], "rating_average": 0.0,
        "rating_count": 0, "installs": 0, "active_installs": 0,
        "published_at": "2026-01-01T00:00:00+00:00", "updated_at": "2026-01-01T00:00:00+00:00",
    }
    return {**base, **fields}


# --- user text ------------------------------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_is_a_literal_value_of_match_clauses(text):
    body = queries.search_body(SearchQuery(text=text), spelling=True)
    assert_text_only_in_literal_clauses(body, text)
    # Every word of it reaches the full-text clauses as a literal value.
    for word in analyse(text).words:
        assert any(LITERAL_CLAUSES & set(place) for place in places_of(body, word)), word
    json.dumps(body)  # always serialisable


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_prefix_is_a_literal_value_of_autocomplete_clauses(text):
    body = queries.suggest_body(text, 8)
    if body is not None:
        assert_text_only_in_literal_clauses(body, text)


def test_spelling_and_count_bodies_keep_text_literal():
    text = 'name:* "chaterbox'
    assert_text_only_in_literal_clauses(spelling.spelling_body(text), text)
    assert_text_only_in_literal_clauses(queries.count_body(SearchQuery(text=text)), text)


def test_text_is_trimmed_to_the_maximum_length():
    body = queries.search_body(SearchQuery(text="  ab  " + "xy " * 300), spelling=True)
    assert not places_of(body, "xy " * (MAX_QUERY_LENGTH // 3))
    assert places_of(body, "ab xy")
    # And no word is longer than any real word (the term suggester's limit too).
    assert not places_of(queries.search_body(SearchQuery(text="x" * 500)), "x" * 41)


def test_text_search_scores_exact_name_all_terms_fuzzy_and_popularity():
    body = queries.search_body(SearchQuery(text="Chatterbox"))
    query = body["query"]["bool"]["must"][0]["bool"]
    exact, completed, every_term, name_phrase = query["should"]
    assert exact["constant_score"]["filter"] == {"bool": {"should": [
        {"terms": {"name.key": ["chatterbox"]}}, {"terms": {"name.keyword": ["chatterbox"]}}]}}
    assert exact["constant_score"]["boost"] == EXACT_NAME_BOOST
    # A name the query is with its last word finished ("chatterboxes"), below an exact one.
    assert completed["constant_score"] == {"filter": {"regexp": {"name.keyword": {
        "value": "[^a-z0-9]*chatterbox[a-z0-9]+[^a-z0-9]*"}}}, "boost": COMPLETED_NAME_BOOST}
    assert ALL_TERMS_BOOST < COMPLETED_NAME_BOOST < EXACT_NAME_BOOST
    assert every_term["constant_score"]["boost"] == ALL_TERMS_BOOST
    assert name_phrase["match_phrase"]["name"]["query"] == "chatterbox"
    popularity = query["must"][0]["function_score"]
    assert popularity["boost_mode"] == "multiply"
    assert {"weight": 1} in popularity["functions"]  # popularity only lifts, never zeroes
    terms = popularity["query"]["bool"]
    assert terms["minimum_should_match"] == 1
    [term] = terms["should"]
    exact, *fuzzy = term["bool"]["should"]
    alternatives = exact["dis_max"]["queries"]  # the word, its forms, the name being typed
    assert alternatives[0]["multi_match"]["query"] == "chatterbox"
    assert {"match": {"name.edge": {"query": "chatterbox", "boost": 2}}} in alternatives
    names = next(c["multi_match"] for c in fuzzy if "multi_match" in c)
    assert names["fuzziness"] == "AUTO:5,8" and names["prefix_length"] == 1
    assert "name.plain^4" in names["fields"] and "tags" in names["fields"]
    description = next(c["match"]["description"] for c in fuzzy if "match" in c)
    assert description["fuzziness"] == 1 and description["prefix_length"] == 3
    # No highlighter: it cost OpenSearch a third of its answer's time (about 0.1 ms a
    # hit and field). The hits bring their text, and the words are marked in Python.
    assert "highlight" not in body
    assert body["_source"] == ["name", "tagline", "description"]


def test_most_terms_must_match_and_neighbours_score_more():
    body = queries.search_body(SearchQuery(text="invoice reminder email for plumbers"))
    query = body["query"]["bool"]["must"][0]["bool"]
    terms = query["must"][0]["function_score"]["query"]["bool"]
    assert len(terms["should"]) == 4          # "for" is no term
    assert terms["minimum_should_match"] == 3
    pairs = [c["multi_match"]["query"] for c in query["should"]
             if c.get("multi_match", {}).get("type") == "phrase"]
    assert pairs == ["invoice reminder", "reminder email", "email plumbers"]


def test_every_term_before_for_counts_as_the_terms_still_missing():
    body = queries.search_body(SearchQuery(text="comments for blog posts"))
    query = body["query"]["bool"]["must"][0]["bool"]
    terms = query["must"][0]["function_score"]["query"]["bool"]
    assert terms["minimum_should_match"] == 2  # two of the three terms ...
    *words, together = terms["should"]
    assert len(words) == 3 and together == {"bool": {"filter": words[:1]}}  # ... or "comments"


def test_exact_name_match_ignores_case_and_accents():
    body = queries.search_body(SearchQuery(text=" CAFÉ  Planner "))
    should = body["query"]["bool"]["must"][0]["bool"]["should"]
    # and run together: "cafeplanner" (QueryPlan.name_keys)
    for exact in should[0]["constant_score"]["filter"]["bool"]["should"]:
        assert list(exact["terms"].values()) == [["cafe planner", "cafeplanner"]]


def test_empty_text_browses_everything_newest_first_without_highlights():
    body = queries.search_body(SearchQuery(text="   "))
    assert body["query"] == {"match_all": {}}
    assert body["sort"][0] == {"published_at": {"order": "desc"}}
    assert "highlight" not in body and body["_source"] is False  # ids only
    assert "facets" in body["aggs"]


# --- filters and facets -----------------------------------------------------------------


def test_the_filters_of_a_text_search_are_its_post_filter_and_combine():
    # The hits, the total and the facets under the filters; the text is asked once
    # (the facets count among its matches: see the next test).
    body = queries.search_body(SearchQuery(
        text="crm", categories=("crm", "sales"), pricing="paid", has_trial=True, min_rating=4,
        badges=("staff_pick",), regions=("eu",), read_only=True))
    filters = body["post_filter"]["bool"]["filter"]
    assert {"terms": {"category_slug": ["crm", "sales"]}} in filters
    assert {"term": {"is_free": False}} in filters
    assert {"term": {"has_trial": True}} in filters
    assert {"range": {"rating_average": {"gte": 4.0}}} in filters
    assert {"terms": {"badges": ["staff_pick"]}} in filters
    assert {"terms": {"regions": ["eu"]}} in filters
    assert {"term": {"write_access": False}} in filters
    assert len(filters) == 7
    assert "filter" not in body["query"]["bool"]


def test_without_text_the_filters_go_in_the_bool_filter():
    body = queries.search_body(SearchQuery(categories=("crm",), pricing="paid"))
    assert body["query"]["bool"]["filter"] == [{"terms": {"category_slug": ["crm"]}},
                                              {"term": {"is_free": False}}]
    assert "post_filter" not in body
    # A count (no facets) keeps them in the query too.
    counted = queries.count_body(SearchQuery(text="crm", pricing="paid"))
    assert counted["query"]["bool"]["filter"] == [{"term": {"is_free": False}}]
    assert "post_filter" not in counted


def test_unknown_pricing_is_no_filter():
    body = queries.search_body(SearchQuery(text="x", pricing="gratis"))
    assert "filter" not in body["query"]["bool"] and "post_filter" not in body


def test_a_filtered_text_search_asks_its_text_once():
    # Each facet with its own filter active counted in a global aggregation that asked
    # the text again of every listing: three filters took a 30,000-listing search from
    # 13 to 44 ms. The facets now count among the text's matches.
    body = queries.search_body(SearchQuery(text="dashboard", regions=("eu",), has_trial=True,
                                           read_only=True))
    assert "global" not in json.dumps(body["aggs"])
    assert json.dumps(body).count('"dashboard"') == json.dumps(body["query"]).count('"dashboard"')


def test_a_facet_with_its_own_filter_counts_with_the_other_filters_only():
    body = queries.search_body(SearchQuery(text="crm", categories=("crm",), pricing="free"))
    own_category = body["aggs"]["own_category"]
    assert own_category["filter"] == {"bool": {"filter": [{"term": {"is_free": True}}]}}
    assert own_category["aggs"]["values"]["terms"]["include"] == "category:.*"
    # Every other facet counts under every filter.
    assert body["aggs"]["facets"]["filter"] == body["post_filter"]
    assert "own_badges" not in body["aggs"]  # no badge filter: the filtered counts serve


def test_without_text_a_facet_with_its_own_filter_counts_in_a_global_aggregation():
    body = queries.search_body(SearchQuery(categories=("crm",), pricing="free"))
    own_category = body["aggs"]["own_category"]
    assert own_category["global"] == {}
    scope = own_category["aggs"]["scoped"]["filter"]["bool"]["filter"]
    assert scope == [{"term": {"is_free": True}}]
    assert own_category["aggs"]["scoped"]["aggs"]["values"]["terms"]["include"] == "category:.*"


def test_the_spelling_counts_of_a_filtered_search_stay_among_its_filtered_matches():
    from search.analysis import analyse as analysed
    from search.opensearch_spelling import ask_spelling

    query = SearchQuery(text="node js", pricing="free")
    body = queries.search_body(query)
    ask_spelling(body, query.text, analysed(query.text))
    named = body["aggs"]["spelling_named"]["filter"]["bool"]["filter"]
    assert body["post_filter"] in named
    typing = body["aggs"]["spelling_typing"]["filter"]["bool"]["filter"]
    assert body["post_filter"] in typing and {"match": {"name.edge": {"query": "js"}}} in typing


def test_facet_keys_describe_every_facet_value():
    keys = queries.facet_keys(document(category_slug="crm", is_free=False, has_trial=True,
                                       write_access=True, rating_average=3.5,
                                       badges=["staff_pick"], regions=["eu", "us"]))
    assert sorted(keys) == sorted([
        "category:crm", "pricing:paid", "has_trial:true", "min_rating:3", "min_rating:2",
        "min_rating:1", "badges:staff_pick", "regions:eu", "regions:us"])
    free = queries.facet_keys(document(rating_average=0.0))
    assert "pricing:free" in free and "read_only:true" in free
    assert not [key for key in free if key.startswith("min_rating")]


def test_a_rating_just_under_four_counts_as_the_index_stores_it():
    # 3.99999999 is 4.0 as a 32-bit float: the range filter finds it, so must the facet.
    assert "min_rating:4" in queries.facet_keys(document(rating_average=3.99999999))


def test_facets_from_a_response_follow_other_filters_and_sort_by_count_then_value():
    aggregations = {
        "facets": {"buckets": [
            {"key": "category:crm", "doc_count": 2}, {"key": "regions:us", "doc_count": 2},
            {"key": "regions:eu", "doc_count": 2}, {"key": "regions:jp", "doc_count": 3},
            {"key": "pricing:free", "doc_count": 2},
        ]},
        "own_category": {"doc_count": 9, "scoped": {"doc_count": 5, "values": {"buckets": [
            {"key": "category:analytics", "doc_count": 3},
            {"key": "category:crm", "doc_count": 2},
        ]}}},
    }
    facets = queries.facets_from(aggregations)
    assert facets["category"] == [("analytics", 3), ("crm", 2)]
    assert facets["regions"] == [("jp", 3), ("eu", 2), ("us", 2)]
    assert facets["pricing"] == [("free", 2)]
    assert facets["badges"] == [] and set(facets) == set(queries.FACETS)
    # A text search's facets count under a filter aggregation (its filters are its
    # post_filter): the same answer read from that shape.
    post_filtered = {
        "facets": {"doc_count": 7, "values": aggregations["facets"]},
        "own_category": aggregations["own_category"]["scoped"],
    }
    assert queries.facets_from(post_filtered) == facets


# --- sorting and paging -------------------------------------------------------------------


@pytest.mark.parametrize("sort,first", [
    ("rating", [{"rating_score": {"order": "desc", "unmapped_type": "float"}},
                {"rating_count": {"order": "desc"}}]),
    ("installs", [{"installs": {"order": "desc"}}]),
    ("newest", [{"published_at": {"order": "desc"}}]),
    ("updated", [{"updated_at": {"order": "desc"}}]),
    ("relevance", [{"_score": {"order": "desc"}}]),
])
def test_sorts_end_with_an_id_tie_break(sort, first):
    body = queries.search_body(SearchQuery(text="crm", sort=sort))
    assert body["sort"] == first + [{"id": {"order": "desc"}}]


def test_sorting_by_a_field_needs_no_popularity_scoring():
    body = queries.search_body(SearchQuery(text="crm", sort="installs"))
    assert "function_score" not in json.dumps(body["query"])


def test_pages_and_pages_beyond_the_result_window():
    body = queries.search_body(SearchQuery(page=3, per_page=10))
    assert (body["from"], body["size"], body["track_total_hits"]) == (20, 10, True)
    far = queries.search_body(SearchQuery(text="crm", page=100_000, per_page=24))
    assert (far["from"], far["size"]) == (0, 0)  # total and facets only: no error
    assert "highlight" not in far and far["_source"] is False
    odd = queries.search_body(SearchQuery(page=0, per_page=10_000))
    assert odd["from"] == 0 and odd["size"] == queries.MAX_PER_PAGE


def test_search_returns_ids_and_the_text_it_marks_only():
    # Pages load their rows from the database; a search with text brings only what
    # its highlights are marked in, and a count nothing.
    assert queries.search_body(SearchQuery(text="x"))["_source"] == [
        "name", "tagline", "description"]
    assert queries.search_body(SearchQuery(categories=("crm",)))["_source"] is False
    assert queries.count_body(SearchQuery(text="x"))["_source"] is False


# --- did you mean and autocomplete --------------------------------------------------------


def test_corrections_name_only_misspelt_words():
    response = {"suggest": {"words": [
        {"text": "chaterbox", "offset": 0, "length": 9, "options": [{"text": "chatterbox"}]},
        {"text": "team", "offset": 10, "length": 4, "options": []},
    ]}}
    assert spelling.corrections(response) == {"chaterbox": "chatterbox"}
    nothing = {"suggest": {"words": [{"text": "team", "options": []}]}}
    assert spelling.corrections(nothing) == {}
    assert spelling.corrections({}) == {}


def test_suggest_body_completes_words_of_the_name():
    body = queries.suggest_body("Cha", 5)
    must = body["query"]["function_score"]["query"]["bool"]["must"]
    assert must == [{"bool": {"should": [
        {"match": {"name.edge": {"query": "Cha", "operator": "and"}}},
        # The name run together: "wifi" for "Wi-Fi", whatever comes between.
        {"regexp": {"name.keyword": {"value": "c[^a-z0-9]*h[^a-z0-9]*a.*", "boost": 10}}}]}}]
    should = body["query"]["function_score"]["query"]["bool"]["should"]
    assert {"prefix": {"name.keyword": {"value": "cha", "boost": 20}}} in should
    assert body["size"] == 5 and body["_source"] == ["slug", "name", "category"]


@pytest.mark.parametrize("prefix", ["", "   ", "*", "-", '"'])
def test_suggest_without_a_word_asks_nothing(prefix):
    assert queries.suggest_body(prefix, 8) is None


# --- mapping --------------------------------------------------------------------------------


def test_mapping_covers_every_document_field():
    properties = opensearch_index.MAPPINGS["properties"]
    assert set(DOCUMENT_FIELDS) <= set(properties)
    assert set(properties["name"]["fields"]) == {"keyword", "key", "edge", "plain"}
    settings = opensearch_index.index_body(refresh_interval="-1")["settings"]["index"]
    assert settings["number_of_shards"] == 1 and settings["number_of_replicas"] == 0
    assert settings["refresh_interval"] == "-1"
    assert "refresh_interval" not in opensearch_index.index_body()["settings"]["index"]


def test_the_analyzers_read_text_through_no_regular_expression():
    # Every description goes through the text analyzers twice (its field and the
    # spelling field): three pattern_replace character filters there took a third of
    # a reindex (30,000 listings: 4.9 s, with one mapping filter 3.4 s).
    filters = opensearch_index.ANALYSIS["char_filter"]
    for name, analyzer in opensearch_index.ANALYSIS["analyzer"].items():
        kinds = {filters[used]["type"] for used in analyzer.get("char_filter", [])}
        assert kinds <= {"mapping"}, name


def test_the_text_parts_filter_parts_words_and_spells_out_symbol_languages():
    rules = opensearch_index.ANALYSIS["char_filter"]["text_parts"]["mappings"]
    assert "\\u002e=>\\u0020" in rules and "\\u005f=>\\u0020" in rules  # "." and "_"
    assert {"c++=>cplusplus\\u0020", "C#=>csharp\\u0020", "F#=>fsharp\\u0020"} <= set(rules)


def test_stored_source_adds_facet_keys_without_changing_the_document():
    original = document()
    stored = queries.source_document(original)
    assert stored["facet_keys"] and "facet_keys" not in original


@pytest.mark.parametrize(("text", "words"), [
    ("serv.* [a-z]", ["serv", "a", "z"]), ("café menu", ["cafe", "menu"]),
    ("c (tools)", ["c", "tools"]), ("c++ tools", None), ("データ", None)])
def test_the_completed_name_clause_holds_only_the_words_letters_and_digits(text, words):
    # Only ASCII letters and digits are literal in Lucene's regular expressions: the
    # clause holds the words with nothing of the text's own punctuation, and a word of
    # other letters gets no clause (user text is never parsed as query syntax), nor a
    # language written with a symbol ("c++" is the word "cplusplus", not in the name).
    query = queries.search_body(SearchQuery(text=text))["query"]["bool"]["must"][0]["bool"]
    values = [clause["constant_score"]["filter"]["regexp"]["name.keyword"]["value"]
              for clause in query["should"]
              if "regexp" in clause.get("constant_score", {}).get("filter", {})]
    if words is None:
        assert values == []
        return
    gap = "[^a-z0-9]"
    assert values == [f"{gap}*" + f"{gap}+".join(words) + f"[a-z0-9]+{gap}*"]


def test_the_words_no_listing_has_are_asked_one_search_a_term_stopping_at_a_match():
    plan = analyse("password c++ manager").relaxed()
    lines = queries.unmatched_searches(plan)
    assert len(lines) == 2 * len(plan.terms)
    assert all(body["terminate_after"] == 1 and body["size"] == 0 for body in lines[1::2])
    assert "fuzziness" not in str(lines)  # a typo's near word is not the word
    answer = {"responses": [{"hits": {"total": {"value": 0}}},
                            {"hits": {"total": {"value": 0}}},
                            {"error": {"type": "search_phase_execution_exception"}}]}
    # Written as typed; a term whose search failed is not said to be in no listing.
    assert queries.unmatched_words(plan, answer) == ("password", "c++")
