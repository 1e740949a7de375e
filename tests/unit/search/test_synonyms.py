"""The synonym list: parsing a line, every refusal an editor can meet, loops,
expanding a query's words, the Solr lines for OpenSearch, and the file that
must name its bad line."""

from __future__ import annotations

import pytest

from search.fts_text import words_of
from search.synonyms import (
    DEFAULT_SYNONYMS_FILE,
    SynonymFileError,
    SynonymLineError,
    SynonymSet,
    load_synonym_file,
    parse_line,
)


def synonym_set(*lines: str) -> SynonymSet:
    synonyms = SynonymSet(file_version="test.1")
    for line in lines:
        synonyms.add(parse_line(line))
    return synonyms


def refusal(text: str, *existing: str) -> str:
    with pytest.raises(SynonymLineError) as error:
        synonym_set(*existing).add(parse_line(text))
    return str(error.value)


def searched(synonyms: SynonymSet, query: str) -> list[list[str]]:
    """Each concept of the query as its alternatives, written as text."""
    return [[" ".join(words) for words in concept.alternatives]
            for concept in synonyms.expand(words_of(query))]


# --- parsing -----------------------------------------------------------------------------


def test_a_line_is_tidied_and_split_into_words_like_a_query():
    line = parse_line("  E-Mail ,Email,   electronic   MAIL ")

    assert line.text == "e-mail, email, electronic mail"
    assert [term.words for term in line.terms] == [("e", "mail"), ("email",),
                                                   ("electronic", "mail")]
    assert not line.one_way


def test_a_one_way_line_keeps_its_sides():
    line = parse_line("payslip, pay slip => payroll")

    assert line.one_way
    assert [term.text for term in line.sources] == ["payslip", "pay slip"]
    assert [term.text for term in line.targets] == ["payroll"]
    assert line.text == "payslip, pay slip => payroll"


@pytest.mark.parametrize("text, message", [
    ("", "Type a synonym line, e.g. 'email, e-mail, mail' or 'payslip => payroll'."),
    ("# a comment", "Type a synonym line"),
    ("email, , mail", "There is an empty term"),
    ("email, mail,", "There is an empty term"),
    ("=> email", "There is an empty term"),
    ("a => b => c", "Use '=>' at most once on a line."),
    ("email", "A synonym line needs at least two terms"),
    ("email, !!!", "'!!!' has no letters or digits, so search cannot use it."),
    ("crm, customer relationship management tool suite",
     "'customer relationship management tool suite' has 5 words; a term may have at most 4."),
    (", ".join(f"term{n}" for n in range(21)), "The line has 21 terms; at most 20."),
    ("x" * 300 + ", " + "y" * 250, "The line has 552 characters; at most 500."),
    ("note, notes", "'notes' repeats 'note' on this line (plurals and word endings already match)."),
    ("invoice => invoices",
     "This rule would loop: 'invoice' would be replaced by 'invoices', the same word."),
])
def test_a_malformed_line_is_refused_with_one_clear_sentence(text, message):
    assert refusal(text).startswith(message)


# --- against the other lines ---------------------------------------------------------------


def test_a_term_may_be_in_one_line_only_and_the_message_names_that_line():
    assert refusal("mail, post", "email, e-mail, mail") == \
        "'mail' is already in: email, e-mail, mail"
    # Compared by stem and words, not spelling: "E-Mails" is the term "e-mail".
    assert refusal("E-Mails, letters", "email, e-mail, mail") == \
        "'e-mails' is already in: email, e-mail, mail"


def test_a_one_way_rule_back_to_its_own_source_is_a_loop():
    assert refusal("payroll => payslip", "payslip => payroll") == \
        "This rule would loop: payroll => payslip => payroll."


def test_a_one_way_rule_inside_an_equivalence_is_a_loop():
    assert refusal("picture => photo", "photo, picture, image") == \
        "This rule would loop: picture => photo => picture."


def test_a_chain_of_one_way_rules_is_refused_so_longer_loops_cannot_form():
    # b => c after a => b would chain (and c => a would then close a longer loop).
    assert refusal("bill => receipt", "invoice => bill") == "'bill' is already in: invoice => bill"


# --- expansion --------------------------------------------------------------------------------


def test_each_term_of_an_equivalence_line_searches_the_others_and_keeps_its_own_words():
    synonyms = synonym_set("photo, picture, image")

    assert searched(synonyms, "picture") == [["picture", "photo", "image"]]
    concept = synonyms.expand(["photo"])[0]
    assert concept.start == 0 and concept.words == ("photo",)
    assert concept.alternatives[0] == ("photo",)


def test_hyphenated_and_split_forms_reach_the_joined_word():
    synonyms = synonym_set("email, e-mail, mail", "spreadsheet, spread sheet",
                           "e-signature, esignature, electronic signature")

    assert searched(synonyms, "E-mail") == [["e mail", "email", "mail"]]
    assert searched(synonyms, "spread sheet") == [["spread sheet", "spreadsheet"]]
    assert searched(synonyms, "esignature") == [["esignature", "e signature",
                                                 "electronic signature"]]


def test_plurals_and_endings_use_the_rule_of_their_stem():
    synonyms = synonym_set("invoice, bill")

    assert searched(synonyms, "invoices") == [["invoices", "bill"]]
    assert searched(synonyms, "billing") == [["billing", "invoice"]]


def test_the_longest_term_wins_and_uncovered_words_stand_alone():
    synonyms = synonym_set("email, e-mail, mail", "voicemail, voice mail",
                           "newsletter, mailing list")

    assert searched(synonyms, "voice mail to e-mail") == [
        ["voice mail", "voicemail"], ["to"], ["e mail", "email", "mail"]]
    assert searched(synonyms, "mailing list tool") == [
        ["mailing list", "newsletter"], ["tool"]]
    assert [concept.start for concept in synonyms.expand(words_of("voice mail to e-mail"))] == \
        [0, 2, 3]


def test_one_way_rules_expand_from_the_left_side_only():
    synonyms = synonym_set("payslip, pay slip => payroll, salary")

    assert searched(synonyms, "pay slips") == [["pay slips", "payroll", "salary"]]
    assert searched(synonyms, "payroll") == [["payroll"]]


def test_words_no_rule_covers_are_searched_as_typed():
    assert searched(synonym_set("photo, picture"), "kanban board") == [["kanban"], ["board"]]
    assert synonym_set().expand([]) == []


# --- Solr lines for OpenSearch --------------------------------------------------------------


def test_solr_lines_are_normalised_and_one_way_rules_keep_their_source():
    synonyms = synonym_set("E-Mail, email", "payslip, pay slip => payroll")

    assert synonyms.solr_lines() == ["e mail, email", "payslip => payslip, payroll",
                                     "pay slip => pay slip, payroll"]


def test_the_version_carries_the_editors_stamp():
    synonyms = synonym_set("photo, picture")

    assert synonyms.version == "test.1"
    assert synonyms.copy(editor_stamp="editors.2.9").version == "test.1+editors.2.9"


# --- the file ----------------------------------------------------------------------------------


def test_the_packaged_list_loads_and_covers_the_issues_examples():
    synonyms = load_synonym_file(DEFAULT_SYNONYMS_FILE)

    assert synonyms.file_version
    assert 80 <= len(synonyms.lines) <= 250
    for left, right in [("e-mail", "email"), ("email", "mail"), ("photo", "picture"),
                        ("photo", "image"), ("spread sheet", "spreadsheet"),
                        ("e-signature", "esignature"), ("invoices", "bill"),
                        ("ecommerce", "online store")]:
        alternatives = synonyms.expand(words_of(left))[0].alternatives
        assert tuple(words_of(right)) in alternatives, (left, right)
    # Too broad a word would match half the catalog.
    for broad in ["app", "software", "tool", "account", "book", "free"]:
        assert synonyms.expand([broad])[0].alternatives == ((broad,),), broad


def write(tmp_path, text: str | bytes):
    path = tmp_path / "synonyms.txt"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_gives_its_version_and_skips_comments_and_blank_lines(tmp_path):
    path = write(tmp_path, "# version: 2030-01-02.3\n\n# photos\nphoto, picture\n"
                           "payslip => payroll\n")

    synonyms = load_synonym_file(path)

    assert synonyms.version == "2030-01-02.3"
    assert [line.text for line in synonyms.lines] == ["photo, picture", "payslip => payroll"]


@pytest.mark.parametrize("text, message", [
    ("# version: 1\nphoto, picture\n\nemail, e-mail, mail\nmail, post\n",
     ":5: 'mail' is already in: email, e-mail, mail"),
    ("# version: 1\npayslip => payroll\npayroll => payslip\n",
     ":3: This rule would loop: payroll => payslip => payroll."),
    ("# version: 1\nphoto\n", ":2: A synonym line needs at least two terms"),
    ("photo, picture\n", ":1: no '# version: <version>' header line"),
    (b"# version: 1\nphoto, picture\ncaf\xe9, coffee\n", ":3: not UTF-8 text"),
    (b"# version: 1\n\x00\x00\x00, \x00\n", ":2: '???' has no letters or digits"),
])
def test_a_corrupt_file_is_named_with_its_line_in_one_line(tmp_path, text, message):
    path = write(tmp_path, text)

    with pytest.raises(SynonymFileError) as error:
        load_synonym_file(path)

    assert str(error.value).startswith(f"{path}{message}")
    assert "\n" not in str(error.value)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(SynonymFileError) as error:
        load_synonym_file(tmp_path / "nowhere.txt")

    assert str(error.value) == (f"{tmp_path / 'nowhere.txt'}: the synonym file does not exist "
                                "(SEARCH_SYNONYMS_FILE)")


def test_an_unreadable_file_is_named(tmp_path):
    with pytest.raises(SynonymFileError) as error:
        load_synonym_file(tmp_path)  # a directory

    assert str(error.value).startswith(f"{tmp_path}: the synonym file cannot be read")
