"""What a search text asks for (``search.analysis``): terms, their alternatives,
the match ladder, neighbouring words and the corrected text. No index needed."""

from __future__ import annotations

import pytest

from search.analysis import (
    Term,
    agent_variants,
    analyse,
    letters_and_digits_apart,
    query_words,
    reanalysed,
    required_terms,
)
from search.synonyms import DEFAULT_SYNONYMS_FILE, load_synonym_file


@pytest.fixture(scope="module")
def synonyms():
    return load_synonym_file(DEFAULT_SYNONYMS_FILE)


@pytest.mark.parametrize("count, required", [(0, 0), (1, 1), (2, 2), (3, 2), (4, 3), (5, 3),
                                             (6, 4), (10, 6), (20, 12)])
def test_the_ladder_requires_all_of_two_all_but_one_of_four_then_60_percent(count, required):
    assert required_terms(count) == required


def test_stopwords_and_generic_words_are_not_terms():
    plan = analyse("The invoicing app for plumbers")
    assert [term.words for term in plan.terms] == [("invoicing",), ("plumbers",)]
    assert plan.words == ("the", "invoicing", "app", "for", "plumbers")  # exact names see all


def test_a_query_of_stopwords_only_searches_for_them():
    assert [term.words for term in analyse("the who").terms] == [("the",), ("who",)]


def test_a_word_said_twice_is_one_term():
    assert len(analyse("crm CRM Crm").terms) == 1


def test_hyphenated_words_are_found_and_joined():
    words, hyphenated = query_words("e-signature for to-do lists")
    assert words == ["e", "signature", "for", "to", "do", "lists"]
    assert hyphenated == [(0, 2), (3, 5)]
    # "x" alone is no term (a single letter), but the word run together is.
    assert analyse("x-ray scanner").terms[0] == Term(("ray",), (("ray",), ("xray",)))


@pytest.mark.parametrize("text", ["single sign-on", "single sign-on and two-factor login"])
def test_a_hyphenated_word_inside_a_synonym_is_no_term_of_its_own(synonyms, text):
    # "single sign on" (a line of the list) covers "sign-on": the list decides, and
    # no empty term is left behind that no listing could ever match.
    terms = analyse(text, synonyms).terms
    assert all(term.words and all(term.alternatives) for term in terms)
    assert [term.words for term in terms][:2] == [("single",), ("sign",)]


@pytest.mark.parametrize("word, apart", [
    ("k12", ("k", "12")), ("h264", ("h", "264")), ("ledgerly2", ("ledgerly", "2")),
    ("b2b", ("b", "2", "b")), ("3d", ("3", "d")),
    ("crm", None), ("365", None), ("a1b2", None),  # one kind only; a code, not a name
])
def test_letters_and_digits_typed_together_are_also_the_words_apart(word, apart):
    assert letters_and_digits_apart(word) == apart
    plan = analyse(f"{word} sync")
    if apart:
        assert apart in plan.terms[0].alternatives
        # A name that writes them apart is the name asked for ("K-12 Sync").
        assert " ".join((*apart, "sync")) in plan.typed_name_keys
    else:
        assert all(len(alternative) == 1 for alternative in plan.terms[0].alternatives)
    assert plan.typed_name_keys[0] == f"{word} sync"  # the name as typed stays first


@pytest.mark.parametrize("word, expected", [
    ("editor", {"edit"}), ("viewer", {"view"}), ("planner", {"plan"}),
    ("edit", {"editor"}), ("view", {"viewer"}), ("generate", {"generator"}),
    ("schedule", {"scheduler"}),
])
def test_agent_nouns_and_their_verbs(word, expected):
    assert expected <= set(agent_variants(word))


@pytest.mark.parametrize("word", ["form", "teams", "salons", "crm", "pdf", "v2"])
def test_no_agent_forms_for_exceptions_plurals_short_words_and_non_words(word):
    assert agent_variants(word) == ()


def test_forms_the_stemmer_already_joins_are_not_added():
    # "manager" and "manage" share a stem: counting both would double the word.
    assert analyse("clipboard manager").terms[1].alternatives == (("manager",),
                                                                  ("clipboardmanager",))


def joined_alternatives(plan) -> list[tuple[str, str]]:
    """(term's word, alternative) for each alternative that is two neighbours run together."""
    candidates = {a + b for a, b in zip(plan.words, plan.words[1:])}
    return [(term.words[0], alternative[0]) for term in plan.terms
            for alternative in term.alternatives if alternative[0] in candidates]


@pytest.mark.parametrize("text, joined", [
    ("sign right", [("sign", "signright"), ("right", "signright")]),
    ("word press backups", [("word", "wordpress"), ("press", "wordpress"),
                            ("press", "pressbackups"), ("backups", "pressbackups")]),
    ("refer a friend", []),  # not neighbours: a lone letter between them
    ("my sql", [("sql", "mysql")]),  # a stopword is half of a name
    ("tool box", [("box", "toolbox")]), ("in vision", [("vision", "invision")]),
    ("sql my", []),  # names start with the stopword, not end with it
    ("translate my website", []),  # inside a sentence it is the sentence's
    ("ledgerly for salesforce", []),
    ("a friend", []),  # a lone letter
    ("crm crm", []),  # one term
    ("x-ray scanner", [("ray", "xray")]),  # the hyphenated word's own; no "rayscanner"
    ("shipping rates and label printing for stores", []),  # five terms: too long
])
def test_neighbouring_words_run_together_are_an_alternative_of_each(text, joined):
    assert joined_alternatives(analyse(text)) == joined


def test_a_name_key_runs_neighbours_together():
    assert analyse("Word Press Backups").name_keys == [
        "word press backups", "wordpress backups", "word pressbackups"]


def test_synonyms_of_several_words_are_alternatives_of_each_word(synonyms):
    plan = analyse("spread sheet", synonyms)
    assert [term.words for term in plan.terms] == [("spread",), ("sheet",)]
    for term in plan.terms:
        assert ("spreadsheet",) in term.alternatives
    email = analyse("e-mail", synonyms)
    assert [term.words for term in email.terms] == [("mail",)]
    assert {("email",), ("mail",)} <= set(email.terms[0].alternatives)


def test_neighbouring_words_skip_stopwords():
    assert analyse("drag and drop form builder").pairs == [
        ("drag", "drop"), ("drop", "form"), ("form", "builder")]
    assert analyse("crm").pairs == []


def test_the_corrected_text_replaces_only_corrected_words():
    plan = analyse("the calender sync")
    assert plan.corrected_text is None
    fixed = plan.with_terms([term.with_corrections(["calendar"]) if term.words == ("calender",)
                             else term for term in plan.terms])
    assert fixed.corrected_text == "the calendar sync"
    assert ("calender",) in fixed.terms[0].alternatives  # the word as typed stays


def test_the_corrected_text_writes_a_language_as_it_is_written():
    # "c++" is searched as "cplusplus" (fts_text.SYMBOL_WORDS); "Showing results for"
    # says "c++ bindings", not "cplusplus bindings".
    plan = analyse("C++ bindigns")
    assert plan.words == ("cplusplus", "bindigns")
    fixed = plan.with_terms([term.with_corrections(["bindings"]) if term.words == ("bindigns",)
                             else term for term in plan.terms])
    assert fixed.corrected_text == "c++ bindings"


def test_relaxed_lets_any_one_term_match_and_keeps_the_terms():
    plan = analyse("invoice reminder email")
    relaxed = plan.relaxed()
    assert relaxed.required == 1 and relaxed.terms == plan.terms
    assert analyse("crm").relaxed() is None


def test_words_after_for_in_or_across_are_context_the_words_before_the_head(synonyms):
    plan = analyse("comments for blog posts", synonyms)
    assert [(term.words, term.context) for term in plan.terms] == [
        (("comments",), False), (("blog",), True), (("posts",), True)]
    assert plan.required == 2 and plan.head == (0,)  # two of three, or "comments"
    plan = analyse("unify data across channels")
    assert plan.required == 3 and plan.head == (0, 1)  # "across" itself is context too
    assert analyse("chat in my shop").head == (0,)
    # Two head terms of three: required (two) of the terms already take them in.
    assert analyse("appointment booking for salons").head == ()


def test_no_head_without_words_before_a_context_word_or_one_term_enough(synonyms):
    assert analyse("invoice reminder email").head == ()
    assert analyse("invoicing for plumbers").relaxed().head == ()  # any one term will do
    plan = analyse("software for dentists")  # nothing asked for before "for"
    assert not any(term.context for term in plan.terms) and plan.head == ()
    plan = analyse("log in with google", synonyms)  # "in" of "log in" is no context word
    assert not any(term.context for term in plan.terms)


def test_a_term_knows_its_single_word():
    assert Term(("crm",), (("crm",),)).single_word == "crm"
    assert Term(("to", "do"), (("to", "do"),)).single_word is None


def test_corrected_words_are_analysed_again_for_their_synonyms(synonyms):
    plan = analyse("knowlege base", synonyms)
    assert ("wiki",) not in plan.terms[0].alternatives  # the typo hides the synonym
    fixed = plan.with_terms([plan.terms[0].with_corrections(["knowledge"]), *plan.terms[1:]])
    again = reanalysed(fixed, synonyms)
    assert again.corrected_text == "knowledge base"
    assert again.terms[0].words == ("knowlege",)  # the word as typed, and an alternative
    assert {("knowlege",), ("knowledge",), ("wiki",)} <= set(again.terms[0].alternatives)
    assert reanalysed(plan, synonyms) is plan  # nothing corrected: nothing to do


def test_the_last_word_is_being_typed_only_when_nothing_follows_it():
    assert analyse("invoice remind").prefix == "remind"
    assert analyse("node.js").prefix == "js"
    assert analyse("c++").prefix is None
    assert analyse("C#").prefix is None
    assert analyse("invoices?").prefix is None
    assert analyse("invoices?").words == ("invoices",)
