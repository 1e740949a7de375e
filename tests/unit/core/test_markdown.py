"""User Markdown becomes safe HTML."""

from core.markdown import markdown_to_text, render_markdown


def test_formatting_survives():
    html = render_markdown("**bold** and *em*\n\n- one\n- two")
    assert "<strong>bold</strong>" in html and "<em>em</em>" in html and "<li>one</li>" in html


def test_raw_html_and_scripts_are_escaped():
    html = render_markdown('<script>alert(1)</script><img src=x onerror=alert(1)>')
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html


def test_javascript_links_are_dropped():
    html = render_markdown("[click](javascript:alert(1)) [data](data:text/html,hi)")
    assert "javascript:" not in html.replace("[click](javascript:alert(1))", "")
    assert 'href="javascript' not in html and 'href="data' not in html


def test_links_get_nofollow_ugc_noopener():
    html = render_markdown("[site](https://example.com) and https://bare.example.com")
    assert html.count('rel="nofollow ugc noopener"') == 2


def test_headings_are_demoted_below_the_page_title():
    html = render_markdown("# Title\n\n## Sub")
    assert "<h1>" not in html and "<h2>" not in html and html.count("<h3>") == 2


def test_empty_text_renders_nothing():
    assert render_markdown(None) == "" and render_markdown("") == ""


def test_plain_text_for_search():
    assert markdown_to_text("# Hi\n\n**there** <b>x</b>") == "Hi · there <b>x</b>"


def test_plain_text_keeps_words_of_links_lists_code_and_tables():
    text = "Intro [docs](https://x.example.com)\n\n- one\n- two\n\n```\ncode here\n```\n\n| a | b |\n|---|---|\n| c | d |"
    assert markdown_to_text(text) == "Intro docs · one · two · code here · a · b · c · d"


BLOCKY = """## What you get

- Multi-currency invoices
- Overdue reminders & receipts

Works with every ledger. Set up in minutes.

Questions? Ask us"""


def test_a_dot_goes_where_a_block_ended_without_punctuation():
    """Search snippets are windows of this text (issue 16): "What you get Multi-currency
    invoices Overdue…" read as one sentence. Marked once, when the text is stored."""
    assert markdown_to_text(BLOCKY) == (
        "What you get · Multi-currency invoices · Overdue reminders & receipts · "
        "Works with every ledger. Set up in minutes. Questions? Ask us")
