"""The search journey in a real browser: a misspelt name still finds the app,
filters and sorts narrow the list, and autocomplete opens an app."""

import re

from playwright.sync_api import expect


def _first_result_name(page) -> str:
    return page.locator(".search-results .card h3").first.inner_text().strip()


def test_misspelt_name_filters_sort_and_autocomplete(page):
    # Learn a real app name from the catalog, then misspell it (drop a middle letter).
    page.goto("/search?sort=rating")
    name = _first_result_name(page)
    word = max(name.split(), key=len)
    typo = word[:2] + word[3:] if len(word) > 4 else word + "x"

    page.goto("/")
    box = page.get_by_role("combobox", name="Search apps")
    box.fill(typo)
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q="))
    results = page.locator(".search-results .card h3")
    # The page searched for the corrected name itself.
    expect(results.filter(has_text=word).first).to_be_visible()

    # Filter by a category and a minimum rating, from a browse of everything.
    page.goto("/search")
    category_filter = page.locator("input[name=category]").first
    category_filter.check()
    page.locator("input[name=min_rating][value='3']").check()
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"category=.*min_rating=3|min_rating=3.*category="))
    expect(results.first).to_be_visible()
    for stars in page.locator(".search-results .stars-value").all_inner_texts():
        assert float(stars) >= 3

    # Sort by most installed, applied on change (the Sort button is for browsers
    # without JavaScript); the filters stay.
    expect(page.get_by_role("button", name="Sort", exact=True)).to_be_hidden()
    page.get_by_label("Sort by").select_option("installs")
    expect(page).to_have_url(re.compile(r"sort=installs"))
    expect(page).to_have_url(re.compile(r"min_rating=3"))
    expect(results.first).to_be_visible()

    # Autocomplete: type a prefix, arrow down to the first suggestion, Enter opens it.
    page.goto("/")
    box = page.get_by_role("combobox", name="Search apps")
    box.press_sequentially(word[:4].lower(), delay=60)
    option = page.get_by_role("option").first
    expect(option).to_be_visible()
    suggested = option.inner_text().split("\n")[0].strip()
    box.press("ArrowDown")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/apps/[a-z0-9-]+"))
    expect(page.get_by_role("heading", level=1)).to_have_text(suggested)


def test_misspelt_topic_on_the_embedded_default_lands_on_the_right_app(embedded_page):
    page = embedded_page
    # Two words, one misspelt, typed as a newcomer would on ./scripts/run's storefront.
    page.goto("/")
    box = page.get_by_role("combobox", name="Search apps")
    box.fill("calender sync")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q=calender"))
    expect(page.locator(".did-you-mean")).to_contain_text("Showing results for calendar sync")
    expect(page.locator(".search-instead")).to_have_text("calender sync")
    first = page.locator(".search-results .card h3 a").first
    expect(first).to_have_text("CalendarBridge")
    first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("CalendarBridge")

    # "Search instead for" the words as typed: the page says what it could mean.
    page.go_back()
    page.locator(".search-instead").click()
    expect(page).to_have_url(re.compile(r"exact=1"))
    expect(page.locator(".did-you-mean a")).to_have_text("calendar sync")

    # Autocomplete takes a name typed apart as the name: "calendar br" is
    # CalendarBridge (and "wifi" would be Wi-Fi), and opens it.
    page.goto("/")
    box = page.get_by_role("combobox", name="Search apps")
    box.press_sequentially("calendar br", delay=40)
    option = page.get_by_role("option").first
    expect(option).to_contain_text("CalendarBridge")
    box.press("ArrowDown")
    box.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("CalendarBridge")


def test_on_a_phone_the_results_come_first_and_the_filters_fold(page):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/search?pricing=free")
    # One search box: the header's is left out on the search page.
    expect(page.get_by_role("combobox", name="Search apps")).to_have_count(1)
    summary = page.locator(".search-filters-details > summary")
    expect(summary).to_have_text("Filters (1)")
    expect(page.get_by_role("button", name="Apply filters")).to_be_hidden()  # folded
    first = page.locator(".search-results .card h3").first
    box = first.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 844, box
    summary.click()
    page.locator("input[name=min_rating][value='3']").check()
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"pricing=free.*min_rating=3|min_rating=3.*pricing=free"))
    expect(summary).to_have_text("Filters (2)")
