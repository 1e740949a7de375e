"""Spelling on OpenSearch ("did you mean"): what the first search of a text asks
for, and the corrections read from its answer. The same rules as the embedded
indexes' (``search.fts_spelling``): words in no listing corrected within the edits
their length allows, words a few listings have corrected by a far commoner one a
single edit away unless they are common English words, no correction for a word a
search finds by its stem, for a word of a name asked for, or for a word the synonym
list has. No I/O here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rapidfuzz.distance import OSA

from search.analysis import QueryPlan, letters_and_digits_apart
from search.common_words import is_common_word
from search.fts_spelling import (
    MAX_CANDIDATES,
    POPULAR_BELOW,
    POPULAR_EDITS,
    POPULAR_RATIO,
    best_split,
    max_edits,
    splits,
    unlike_typed,
)
from search.opensearch_text import SPELL_FIELD, TEXT_FIELDS, clean_text, fold
from search.synonyms import stem

# Suggestions asked for each word (as many as the embedded indexes weigh).
SUGGESTIONS = MAX_CANDIDATES


def ask_spelling(body: dict, text: str, plan: QueryPlan) -> None:
    """Add to a search ``body`` what its answer needs for spelling: the suggestions
    for words in no listing and for rare ones, whether a name has every word, and
    whether the word being typed starts a name. (How many listings have a rare
    word is asked afterwards, only when there is one: ``counts_body``.)"""
    body["suggest"] = spelling_body(text)["suggest"]
    rare = spelling_body(text, "popular")["suggest"]["words"]
    # A word a few listings have ("calender") and a far commoner one near it:
    # the popular suggestions, and how many listings have each word typed.
    rare["term"]["max_term_freq"] = POPULAR_BELOW - 1
    body["suggest"]["rare"] = rare
    body.setdefault("aggs", {})
    # Among the matches the filters leave, as the hits are (a filtered text search's
    # filters are its post_filter, which aggregations do not see).
    filtered = [body["post_filter"]] if "post_filter" in body else []
    # When some listing's name has every word, a word some listings have is no
    # typo: "node js" asks for "Node.js Monitor" (search.fts_spelling).
    named = dict.fromkeys(fold(" ".join(plan.term_words())).split())
    if named:
        body["aggs"]["spelling_named"] = {"filter": {"bool": {"filter": [
            *({"term": {"name.plain": word}} for word in named), *filtered]}}}
    if plan.prefix:
        # The word being typed is no typo while it starts a word of some name (among
        # the matches here; of all listings, if need be: ``stemmed_counts_body``).
        typing = _starts_a_name(plan.prefix)
        body["aggs"]["spelling_typing"] = {
            "filter": {"bool": {"filter": [typing, *filtered]}} if filtered else typing}


def _starts_a_name(word: str) -> dict:
    return {"match": {"name.edge": {"query": word}}}


def spelling_body(text: str, mode: str = "missing") -> dict:
    """Ask for the closest indexed words of every word of ``text`` that the index
    doesn't hold (``mode`` "missing"), or of every word for which a word more
    listings use is near (``mode`` "popular"); the term suggester on the
    unstemmed ``spell`` field."""
    return {
        "size": 0,
        "suggest": {
            "text": clean_text(text),
            "words": {"term": {
                "field": SPELL_FIELD,
                "suggest_mode": mode,
                "sort": "score",
                # A few, to choose from by the embedded indexes' rule
                # (``_ranked_suggestions``): the suggester's own score prefers a word as
                # long as the typo ("presett": "present", where "preset" is as near and
                # in eight times as many).
                "size": SUGGESTIONS,
                # A word some listings have is a real word unless a commoner one
                # is a single edit away (as in search.fts_spelling).
                "max_edits": POPULAR_EDITS if mode == "popular" else 2,
                "prefix_length": 0,  # a wrong first letter is a typo too
                "min_word_length": 3,
            }},
        },
    }


def corrections(response: dict) -> dict[str, str]:
    """``{misspelt word: its best suggestion}`` from a term suggester's answer,
    within the edits the word's length allows (``fts_spelling.max_edits``: one for
    four or five letters, as the embedded indexes allow; the suggester would take
    two: "games" -> "gyms")."""
    return {word: option["text"] for word, option in _best_suggestions(response, "words").items()
            if OSA.distance(word, option["text"]) <= max_edits(word)}


def _ranked_suggestions(response: dict, name: str) -> dict[str, list[tuple[tuple, dict]]]:
    """``{word: [(rank, option)]}`` from the term suggester ``name``'s answer, best
    first, as ``fts_spelling.Speller.correction`` ranks its candidates: the nearest
    (optimal string alignment), then one with the same first letter and digits
    (``fts_spelling.unlike_typed``), then the one more listings have. ``rank``
    leaves the count out: options of the same rank tie."""
    ranked = {}
    for entry in (response.get("suggest") or {}).get(name) or []:
        word, options = entry.get("text"), entry.get("options")
        if word and options:
            ranked[word] = sorted((((OSA.distance(word, option["text"]),
                                     *unlike_typed(option["text"], word)), option)
                                   for option in options),
                                  key=lambda pair: (pair[0], -pair[1].get("freq", 0)))
    return ranked


def _best_suggestions(response: dict, name: str) -> dict[str, dict]:
    """``{word: its best option}`` (``_ranked_suggestions``)."""
    return {word: ranked[0][1] for word, ranked in _ranked_suggestions(response, name).items()}


def named_where_tied(plan: QueryPlan, fixes: dict[str, str], answer: dict,
                     search: Callable[[dict], dict | None]) -> dict[str, str]:
    """``fixes``, but for a word whose best suggestions tie (``_ranked_suggestions``)
    the one that makes the text a listing's name, if one does ("is builtn module":
    "builtin", not the commoner "built"), as the embedded indexes choose. ``answer``:
    the search's, with the suggestions; asked in one small request (``search``), only
    when there is such a tie."""
    ties = {}
    for name in ("words", "rare"):
        for word, ranked in _ranked_suggestions(answer, name).items():
            tied = [option["text"] for rank, option in ranked if rank == ranked[0][0]]
            if word in fixes and fixes[word] in tied and len(tied) > 1:
                ties[word] = tied
    if not ties:
        return fixes
    words = [fold(word) for word in plan.term_words()]
    counted = _counted(search(_counts_body({f"{word} {candidate}": {"bool": {"filter": [
        {"term": {"name.plain": candidate if other == word else other}} for other in words]}}
        for word, tied in ties.items() for candidate in tied})) or {})
    return {word: next((candidate for candidate in ties.get(word, ())
                        if counted.get(f"{word} {candidate}")), fix)
            for word, fix in fixes.items()}


def stemmed_counts_body(words: Sequence[str], typing: str | None = None) -> dict:
    """A body that counts, for each word, the listings a search for it matches
    (stemmed, with its synonyms), and for one of letters and digits those that
    have them apart, of all; and, given the word being ``typing``,
    those with a word of their name that starts with it (``starts_a_name``)."""
    filters = {word: {"multi_match": {"query": word, "fields": TEXT_FIELDS}}
               for word in words}
    for word in words:
        parts = letters_and_digits_apart(word)
        if parts:  # "k12": does a listing say "K-12"?
            filters[word + _APART] = {"multi_match": {
                "query": " ".join(parts), "fields": TEXT_FIELDS, "type": "phrase"}}
    if typing:
        filters[_TYPING] = _starts_a_name(typing)
    return _counts_body(filters)


# The keys of those counts: a word never has a space.
_TYPING = " typing"
_APART = " apart"


def _counts_body(filters: dict[str, dict]) -> dict:
    """A body that counts, of all listings, those each of ``filters`` matches."""
    return {"size": 0, "track_total_hits": False, "query": {"match_all": {}},
            "aggs": {"found": {"filters": {"filters": filters}}}}


def _counted(response: dict) -> dict[str, int]:
    """``{word: listings}`` from the answer to a counts body."""
    buckets = ((response.get("aggregations") or {}).get("found") or {}).get("buckets") or {}
    return {word: bucket.get("doc_count", 0) for word, bucket in buckets.items()}


def typos_only(fixes: dict[str, str], response: dict, answer: dict) -> dict[str, str]:
    """``fixes`` (of words the index holds nowhere as typed) without the words a
    search finds by their stem (``response``: to ``stemmed_counts_body``): no
    typos ("plumber" where listings say "plumbers", "retail" where "retailers"),
    unless the suggestion is another spelling of the same word ("surveyes":
    "surveys"), or the embedded indexes' rule for a word a few listings have makes it
    one (``_rare_beside``: "parsiing", stemmed as "Parsy" is, beside "parsing").
    Nor letters and digits typed together that some listing has apart ("ledgerly2":
    "Ledgerly 2"). ``answer``: the search's, with the suggestions and how many
    listings have each."""
    found = _counted(response)
    suggested = _suggested_counts(answer)
    kept = {}
    for word, fix in fixes.items():
        if found.get(word + _APART):
            continue  # letters and digits some listing has apart ("k12": "K-12")
        if found.get(word) and (
                stem(fix) != stem(word) or fix.startswith(word) or word.startswith(fix)
        ) and not _rare_beside(word, found[word], suggested.get(word, 0)):
            continue
        kept[word] = fix
    return kept


def _suggested_counts(answer: dict) -> dict[str, int]:
    """``{word: how many listings have its suggestion}`` from a term suggester's answer."""
    return {word: option.get("freq", 0)
            for word, option in _best_suggestions(answer, "words").items()}


def _rare_beside(word: str, found: int, suggested: int) -> bool:
    """Whether ``word``, which ``found`` listings have (by its stem), is a typo of a word
    ``suggested`` listings have, by the embedded indexes' rule (``fts_spelling``): in
    fewer than ``POPULAR_BELOW``, the other ``POPULAR_RATIO`` times as common, and
    ``word`` no common English word."""
    return (found < POPULAR_BELOW and suggested >= found * POPULAR_RATIO
            and not is_common_word(word))


def names_the_query(response: dict) -> bool:
    """Whether some listing's name has every word of the text (``spelling_named``)."""
    return bool(((response.get("aggregations") or {}).get("spelling_named") or {}).get(
        "doc_count"))


def typing_a_name(response: dict) -> bool:
    """Whether the word being typed starts a word of the name of some listing the
    search matched (``ask_spelling``)."""
    typing = (response.get("aggregations") or {}).get("spelling_typing") or {}
    return typing.get("doc_count", 0) > 0


def starts_a_name(response: dict) -> bool:
    """Whether some listing's name has a word that starts with the word being typed
    (``response``: to ``stemmed_counts_body`` given it)."""
    return _counted(response).get(_TYPING, 0) > 0


def rare_words(response: dict) -> dict[str, dict]:
    """``{word: its best suggestion}`` for the words the ``rare`` suggester found
    a more common word near (it only looks at words fewer than ``POPULAR_BELOW``
    listings have), but words too short to correct, numbers ("rum" is no typo
    of "run": ``fts_spelling.max_edits``, as the embedded indexes have it) and common
    English words ("fire" is no typo of "file": ``search.common_words``)."""
    return {word: option for word, option in _best_suggestions(response, "rare").items()
            if max_edits(word) and not word.isdigit() and not is_common_word(word)}


def counts_body(words: Sequence[str]) -> dict:
    """A body that counts, for each word, the listings that have it as typed, of
    all (not only of those that matched the search: "audit" is not rare for being
    in one of the listings that also say "seo")."""
    return _counts_body({word: {"term": {SPELL_FIELD: word}} for word in words})


def apart_counts_body(words: Sequence[str]) -> dict:
    """A ``counts_body`` for ``words`` and every part they split into, in two and
    in three (``fts_spelling.splits``), for ``words_apart``."""
    return counts_body(sorted({*words, *(part for word in words for parts in (2, 3)
                                          for split in splits(word, parts)
                                          for part in split)}))


def words_apart(words: Sequence[str], counted: dict) -> dict[str, tuple[str, ...]]:
    """``{word: (first, second)}`` for the words no listing has that are two words
    some listings have run together ("toolbox": "tool box"), or ``(first, second,
    third)`` when no two are and three are ("openstreetmaps"), by the embedded
    indexes' rule (``fts_spelling.best_split``). ``counted``: the answer to
    ``apart_counts_body``."""
    found = _counted(counted)
    apart = {}
    for word in words:
        if not found.get(word):
            split = best_split(word, lambda part: found.get(part, 0))
            if split:
                apart[word] = split
    return apart


def together_counts_body(words: Sequence[str], fixes: dict[str, str]) -> dict:
    """A body that counts, of all listings, those a search for every one of
    ``words`` matches (stemmed, with synonyms), and the same for ``words`` with
    each word of ``fixes`` corrected, for ``meant_together``."""
    def every(some: Sequence[str]) -> dict:
        return {"bool": {"filter": [{"multi_match": {"query": word, "fields": TEXT_FIELDS}}
                                    for word in some]}}

    filters = {_TOGETHER: every(words)}
    for word, fix in fixes.items():
        filters[word] = every([fix if other == word else other for other in words])
    return _counts_body(filters)


# The key of the count of every word as typed: a word never has a space.
_TOGETHER = " together"


def meant_together(fixes: dict[str, str], counted: dict) -> dict[str, str]:
    """``fixes`` without the words the text has together with the others, as typed,
    in no fewer listings than corrected (``counted``: the answer to
    ``together_counts_body``): what was meant, however rare ("fire alarm": a listing
    says both, none says "file alarm"; the embedded indexes'
    ``fts_spelling.meant_together``)."""
    found = _counted(counted)
    as_typed = found.get(_TOGETHER, 0)
    return {word: fix for word, fix in fixes.items()
            if not as_typed or found.get(word, 0) > as_typed}


def popular_corrections(rare: dict[str, dict], counted: dict) -> dict[str, str]:
    """``{word: a word near it}`` for words fewer than ``POPULAR_BELOW`` listings
    have, when the near word is in ``POPULAR_RATIO`` times as many (the same
    rule as the embedded indexes', ``search.fts_spelling``). ``rare``: from
    ``rare_words``; ``counted``: the answer to ``counts_body``."""
    found = _counted(counted)
    return {word: best["text"] for word, best in rare.items()
            if 0 < found.get(word, 0) < POPULAR_BELOW
            and best["freq"] >= found[word] * POPULAR_RATIO}


def run_together_words(plan: QueryPlan, fixes: dict[str, str]) -> dict[str, list[str]]:
    """For each word of ``fixes``, the words it makes run together with a neighbouring
    word of the text ("clinic flow": "clinicflow"), as ``counts_body`` counts them."""
    joined: dict[str, list[str]] = {}
    for term in plan.terms:
        word = fold(term.single_word or "")
        if word in fixes:
            found = [fold(whole) for whole in plan.run_together_with(term)]
            if found:
                joined[word] = found
    return joined


def parts_of_words_left_alone(fixes: dict[str, str], joined: dict[str, list[str]],
                              counted: dict) -> dict[str, str]:
    """``fixes`` without the words that, run together with a neighbour (``joined``:
    from ``run_together_words``), are a word some listing has (``counted``: the answer
    to ``counts_body``): part of a name typed apart, no typo (as in the embedded
    indexes, ``fts_spelling.Speller.part_of_a_listed_word``)."""
    found = _counted(counted)
    return {word: fix for word, fix in fixes.items()
            if not any(found.get(whole) for whole in joined.get(word, ()))}
