"""The search page as a phone user meets it: one search box, the filters folded
under "Filters (N)" with a single Apply, sort applied on change (with a button
for browsers without JavaScript), snippets whose Markdown blocks stay apart, and
after a typo the facets of the corrected results, never a column of zeros."""

from __future__ import annotations

import re
import uuid

import pytest
import requests

from tests import factories
from tests.functional.test_search_page import facet_count, page_of, result_slugs, search

BLOCKY = """## What you get

- Multi-currency invoices
- Overdue reminders

Works with every ledger."""


def filters_form(page: str) -> str:
    start = page.index('<details class="search-filters-details"')
    return page[start:page.index("</details>", start)]


def test_the_search_page_has_one_search_box_and_keeps_the_skip_link(client, db):
    page = search(client, q="lark")
    assert page.count('type="search"') == 1
    assert 'id="site-search-q"' not in page  # the header's box is left out here...
    assert 'id="search-page-q"' in page and 'data-suggest-url="/search/suggest"' in page
    assert '<a class="skip-link" href="#main">' in page and 'id="main"' in page
    # ...and kept everywhere else.
    assert 'id="site-search-q"' in page_of(client.get("/categories"))


def test_filters_fold_under_a_summary_counting_the_active_ones(client, db):
    crm = factories.make_category(db, name="CRM")
    factories.make_listing(db, category=crm, name="Lark Contacts", tagline="Address books")
    page = search(client, q="lark")
    assert re.search(r"<summary[^>]*>\s*Filters\s*</summary>", filters_form(page))
    page = search(client, q="lark", category=crm.slug, pricing="free")
    assert re.search(r"<summary[^>]*>\s*Filters \(2\)\s*</summary>", filters_form(page))


def test_every_filter_is_applied_by_one_button(client, db):
    factories.make_listing(db, name="Lark Contacts", tagline="Address books")
    page = search(client, q="lark")
    form = filters_form(page)
    assert form.count("<form") == 1 and form.count('type="submit"') == 1
    assert "Apply filters" in form
    assert len(re.findall(r"<fieldset", form)) >= 3  # every group in that one form


def test_sort_applies_on_change_with_a_button_for_browsers_without_javascript(client, db):
    factories.make_listing(db, name="Lark Contacts", tagline="Address books")
    page = search(client, q="lark", sort="rating")
    sort_form = re.search(r'<form class="search-sort".*?</form>', page, re.DOTALL).group()
    assert '<select id="search-sort" name="sort"' in sort_form
    assert 'type="submit"' in sort_form  # no JavaScript: the button sorts
    assert "js/search-page.js" in page  # with it, the change does


def test_result_snippets_keep_markdown_blocks_apart(client, db):
    listing = factories.make_listing(db, name="Quokka Books", tagline="Bookkeeping",
                                     description=BLOCKY)
    page = search(client, q="reminders")
    assert result_slugs(page) == [listing.slug]
    snippet = re.search(r'<p class="search-snippet">(.*?)</p>', page, re.DOTALL).group(1)
    assert "What you get · Multi-currency invoices · Overdue <mark>reminders</mark> · Works" \
        in snippet, snippet


def typo_shows_the_facets_of_the_corrected_results(client, db, refresh=lambda: None):
    planning = factories.make_category(db, name="Planning")
    factories.make_listing(db, category=planning, name="Tempo", tagline="Team planning",
                           description="Two-way calendar sync with every provider.")
    factories.make_listing(db, name="Ledger", tagline="Bookkeeping")
    refresh()
    page = search(client, q="calender")
    assert "Showing results for" in page
    assert facet_count(page, "category", planning.slug) == 1
    assert facet_count(page, "pricing", "free") == 1
    return page


def test_a_typo_shows_the_facets_of_the_corrected_results(client, db):
    typo_shows_the_facets_of_the_corrected_results(client, db)


class TestOnOpenSearch:
    @pytest.fixture
    def app_overrides(self, opensearch_url):
        return {"OPENSEARCH_URL": opensearch_url,
                "OPENSEARCH_INDEX": f"test-layout-{uuid.uuid4().hex[:10]}"}

    @pytest.fixture(autouse=True)
    def drop_index(self, app, opensearch_url):
        yield
        requests.delete(f"{opensearch_url}/{app.config['OPENSEARCH_INDEX']}*", timeout=10)

    def test_a_typo_shows_the_facets_of_the_corrected_results(self, app, client, db):
        opensearch = app.extensions["bazaar.search"].primary
        page = typo_shows_the_facets_of_the_corrected_results(client, db, opensearch.refresh)
        assert "reduced mode" not in page  # OpenSearch answered, not the fallback


def test_filter_choices_without_results_are_hidden_unless_chosen(client, db):
    factories.make_listing(db, name="Lark Contacts", tagline="Address books")
    page = search(client, q="lark")
    # One free app without a trial: "Paid" and "Has a free trial" would find nothing.
    assert facet_count(page, "pricing", "free") == 1
    assert facet_count(page, "pricing", "paid") is None
    assert facet_count(page, "trial", "1") is None
    page = search(client, q="lark", pricing="paid")
    assert facet_count(page, "pricing", "paid") == 0  # chosen: kept, to be unticked
