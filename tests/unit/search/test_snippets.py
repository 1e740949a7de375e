"""Snippets of a description keep its Markdown blocks apart (search.snippets)."""

from __future__ import annotations

from core.markdown import markdown_blocks, markdown_to_text
from search.snippets import separate_blocks

DESCRIPTION = """## What you get

- Multi-currency invoices
- Overdue reminders & receipts

Works with every ledger. Set up in minutes"""


def test_blocks_join_into_the_search_documents_text_unchanged():
    blocks = markdown_blocks(DESCRIPTION)
    assert blocks == ("What you get", "Multi-currency invoices", "Overdue reminders & receipts",
                      "Works with every ledger. Set up in minutes")
    assert " ".join(blocks) == markdown_to_text(DESCRIPTION)


def test_a_dot_goes_where_a_heading_or_list_item_ended():
    snippet = "What you get Multi-currency <mark>invoices</mark> Overdue reminders"
    assert separate_blocks(snippet, markdown_blocks(DESCRIPTION)) == (
        "What you get · Multi-currency <mark>invoices</mark> · Overdue reminders")


def test_a_window_cut_mid_word_with_ellipses_and_escaped_text_is_placed():
    snippet = "…ency invoices Overdue <mark>reminders</mark> &amp; receipts Works with…"
    assert separate_blocks(snippet, markdown_blocks(DESCRIPTION)) == (
        "…ency invoices · Overdue <mark>reminders</mark> &amp; receipts · Works with…")


def test_a_sentence_already_ends_a_block_and_words_inside_a_block_stay_joined():
    blocks = ["Sync calendars.", "Two-way, every provider"]
    assert separate_blocks("Sync <mark>calendars</mark>. Two-way, every", blocks) == (
        "Sync <mark>calendars</mark>. Two-way, every")


def test_a_snippet_that_is_not_in_the_text_is_left_as_it_is():
    assert separate_blocks("Something <mark>else</mark> entirely", markdown_blocks(DESCRIPTION)) == (
        "Something <mark>else</mark> entirely")
    assert separate_blocks("one <mark>block</mark>", ["one block"]) == "one <mark>block</mark>"
