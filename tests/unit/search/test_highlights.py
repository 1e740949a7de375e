"""search.highlights: the words a search matched, marked in a hit's own text (the local
index's and OpenSearch's highlights)."""

from __future__ import annotations

from search.analysis import analyse
from search.highlights import StemHighlighter, marked, plan_highlighter, shown
from search.synonyms import DEFAULT_SYNONYMS_FILE, load_synonym_file


def test_words_are_marked_by_their_stems_and_the_text_is_escaped():
    marker = StemHighlighter(["invoices", "reminder"])
    found = marker.highlights({"name": "Dunning <Desk>",
                               "tagline": "Invoice reminders & more",
                               "description": "Sends an invoice. Reminds you."})
    assert found == {"tagline": "<mark>Invoice</mark> <mark>reminders</mark> &amp; more",
                     "description": "Sends an <mark>invoice</mark>. <mark>Reminds</mark> you."}


def test_the_word_being_typed_marks_the_name_only():
    marker = StemHighlighter(["chatt"], typing="chatt")
    found = marker.highlights({"name": "Chatterbox Desk", "tagline": "Chatterbox for teams"})
    assert found == {"name": "<mark>Chatterbox</mark> Desk"}


def test_accents_and_case_aside():
    marker = StemHighlighter(["resume"])
    assert marker.highlights({"tagline": "Your RÉSUMÉ, reviewed"}) == {
        "tagline": "Your <mark>RÉSUMÉ</mark>, reviewed"}


def test_a_long_description_is_marked_as_far_as_its_snippet_shows():
    # A README of thousands of words: the snippet around the first match is the same
    # as if the whole text had been marked, and reading stops soon after it.
    text = ("Filler words about nothing. " * 300 + "It parses YAML files quickly. "
            + "More filler and yaml again. " * 2000)
    marker = StemHighlighter(["yaml"])
    whole = marked(text, marker._wanted, marker.spans(text))
    snippet = marker.highlights({"description": text})["description"]
    assert snippet == shown("description", whole)
    assert snippet.startswith("…") and snippet.endswith("…")
    assert "<mark>YAML</mark>" in snippet and len(snippet) < 400


def test_no_word_to_mark_marks_nothing():
    assert StemHighlighter([]).highlights({"name": "Anything", "tagline": "at all"}) == {}
    assert StemHighlighter(["zebra"]).highlights({"tagline": "Horses only"}) == {}


def test_words_are_found_where_they_start_whether_or_not_the_text_has_accents():
    # Plain text is searched with str.find, text with accented letters by the regular
    # expression: both find the same words, each from where it starts.
    marker = StemHighlighter(["invoices", "happy", "api", "résumé"])
    texts = ["Invoices, invoicing and INVOICE_ids; reinvoice is another word",
             "snake_case_invoices and api2 or APIs: happiness, happily, unhappy",
             "Happy ☺ 請求 invoices — résumés, RÉSUMÉ, Ínvoice",
             "İnvoice: a capital I with a dot, whose lowercase is two letters",
             "", "api"]
    for text in texts:
        by_expression = (found.span() for found in marker.candidates.finditer(text))
        assert (marked(text, marker._wanted, marker.spans(text))
                == marked(text, marker._wanted, by_expression))
    found = marker.highlights({"tagline": texts[0]})["tagline"]
    assert found == ("<mark>Invoices</mark>, <mark>invoicing</mark> and <mark>INVOICE</mark>_ids; "
                     "reinvoice is another word")
    assert marker.highlights({"tagline": texts[1]})["tagline"] == (
        "snake_case_<mark>invoices</mark> and api2 or <mark>APIs</mark>: "
        "<mark>happiness</mark>, happily, unhappy")  # happi, happili and unhappi


def test_the_words_of_a_phrase_are_marked_only_where_they_stand_together():
    marker = StemHighlighter(["gdpr"], phrases=[("general", "data", "protection", "regulation")])
    assert marker.highlights({"tagline": "Stream your data to BigQuery"}) == {}
    assert marker.highlights(
        {"tagline": "For the General Data Protection Regulation (GDPR), not general data."}
    ) == {"tagline": "For the <mark>General</mark> <mark>Data</mark> <mark>Protection</mark> "
                     "<mark>Regulation</mark> (<mark>GDPR</mark>), not general data."}


def test_a_search_marks_its_synonyms_of_several_words_where_they_stand_together():
    # "sso" is also "single sign on": "Sign" alone is no match of it.
    marker = plan_highlighter(analyse("sso", load_synonym_file(DEFAULT_SYNONYMS_FILE)))
    found = marker.highlights({"tagline": "Sign documents; single sign-on for teams"})
    assert found == {"tagline": "Sign documents; "
                                "<mark>single</mark> <mark>sign</mark>-<mark>on</mark> for teams"}


def test_a_language_written_with_a_symbol_is_marked_whole():
    # "c++" is searched as the word "cplusplus" (fts_text.SYMBOL_WORDS): the text shows
    # "C++", marked whole, and no lone "C"; the same with accented text about it.
    marker = plan_highlighter(analyse("c++ and c# parsers", load_synonym_file(
        DEFAULT_SYNONYMS_FILE)))
    found = marker.highlights({"name": "C++ Parser", "tagline": "A C parser, not C++; C#: yes",
                               "description": "Écrit en C++ (abc++ is no C++) and C#."})
    assert found == {
        "name": "<mark>C++</mark> <mark>Parser</mark>",
        "tagline": "A C <mark>parser</mark>, not <mark>C++</mark>; <mark>C#</mark>: yes",
        "description": "Écrit en <mark>C++</mark> (abc++ is no <mark>C++</mark>) and "
                       "<mark>C#</mark>."}
    for text in ["A C parser, not C++; C#: yes", "Écrit en C++ (abc++) and C#", "_c++ c#"]:
        by_expression = (found.span() for found in marker.candidates.finditer(text))
        assert (marked(text, marker._wanted, marker.spans(text))
                == marked(text, marker._wanted, by_expression))
