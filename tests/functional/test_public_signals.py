"""Honest ranking and public signals (issue 16, item 4): the "Top rated" shelf and
sort by a Bayesian score, the derived "Top rated" badge, a page per badge,
install count bands, "Last updated" and the version history on a listing page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from accounts.models import Role
from core.db import utcnow
from listings import catalog_cache
from listings.browsing import top_rated_listings
from listings.models import Badge, ReleaseStatus
from tests import factories
from tests.sql_counting import count_queries


def page_of(response) -> str:
    return response.get_data(as_text=True)


def rated(db, name: str, ratings: list[int], **fields):
    listing = factories.make_listing(db, name=name, **fields)
    for rating in ratings:
        factories.make_review(db, listing, rating=rating)
    return listing


def forty_at_4_7() -> list[int]:
    return [5] * 28 + [4] * 12  # 188 / 40 = 4.7


def section(page: str, heading_id: str) -> str:
    start = page.index(f'id="{heading_id}"')
    end = page.find("</section>", start)
    return page[start:end]


def badge_links(html: str) -> list[str]:
    return re.findall(r'<a class="badge" href="([^"]+)"', html)


# --- the "Top rated" shelf and sort ------------------------------------------------------


@pytest.fixture
def ranked(db):
    crowd = rated(db, "Crowd Favourite", forty_at_4_7())
    lone = rated(db, "Lone Star", [5])
    few = rated(db, "Small Fan Club", [5, 5, 5])
    return crowd, lone, few


def test_top_rated_shelf_puts_forty_reviews_at_4_7_before_few_five_star_ones(client, db, ranked):
    shelf = section(page_of(client.get("/")), "top-rated-heading")
    assert shelf.index("Crowd Favourite") < shelf.index("Small Fan Club")
    # One review is not enough to be put in front of every visitor.
    assert "Lone Star" not in shelf


def test_top_rated_without_search_ranks_the_same_way(db, ranked):
    crowd, _lone, few = ranked
    assert [card.listing.id for card in top_rated_listings(db)] == [crowd.id, few.id]


def test_search_sorted_by_rating_ranks_by_the_bayesian_score(client, db, ranked):
    page = page_of(client.get("/search?sort=rating"))
    assert page.index("Crowd Favourite") < page.index("Small Fan Club") < page.index("Lone Star")


# --- the derived "Top rated" badge ------------------------------------------------------


def test_top_rated_badge_is_earned_from_reviews_and_shown_on_cards_and_the_page(client, db):
    crowd = rated(db, "Crowd Favourite", forty_at_4_7())
    rated(db, "Nearly There", [5] * 9)
    home = page_of(client.get("/"))
    crowd_card = home[home.index("Crowd Favourite"):]
    crowd_card = crowd_card[:crowd_card.index("</li>")]
    assert "/badges/top-rated" in badge_links(crowd_card)
    nearly = home[home.index("Nearly There"):]
    assert "/badges/top-rated" not in badge_links(nearly[:nearly.index("</li>")])
    listing_page = page_of(client.get(f"/apps/{crowd.slug}"))
    start = listing_page.index('class="listing-header"')
    header = listing_page[start:listing_page.index("</header>", start)]
    assert "/badges/top-rated" in badge_links(header) and "Top rated" in header


def test_an_app_without_reviews_never_wears_top_rated_even_if_a_badge_row_says_so(client, db):
    listing = factories.make_listing(db, name="Unreviewed")
    factories.make_badge(db, listing, kind="top_rated")  # an old hand-awarded one
    page = page_of(client.get(f"/apps/{listing.slug}"))
    start = page.index('class="listing-header"')
    header = page[start:page.index("</header>", start)]
    assert "No reviews yet" in header
    assert "Top rated" not in header and "/badges/top-rated" not in badge_links(page)


def test_editors_cannot_award_top_rated_by_hand(client, db, login):
    login(factories.make_user(db, role=Role.EDITOR))
    listing = factories.make_listing(db)
    response = client.post(f"/editor/listings/{listing.id}/badges", data={"kind": "top_rated"})
    assert response.status_code == 400
    assert "earned from customers’ reviews" in page_of(response)
    assert db.exec(select(Badge).where(Badge.listing_id == listing.id)).all() == []
    # The form offers only the badges editors decide.
    form = page_of(client.get(f"/editor/listings/{listing.id}"))
    assert 'value="staff_pick"' in form and 'value="top_rated"' not in form


# --- badge pages ------------------------------------------------------------------------------


def test_badges_index_lists_every_badge_with_who_decides(client, db):
    page = page_of(client.get("/badges"))
    for slug, label in (("staff-pick", "Staff pick"), ("security-reviewed", "Security reviewed"),
                        ("built-for-bazaar", "Built for Bazaar"), ("top-rated", "Top rated")):
        assert f'href="/badges/{slug}"' in page and label in page
    assert "Awarded by our editors" in page and "Earned from reviews" in page


def test_badge_page_gives_criteria_and_pages_through_its_apps(app, client, db):
    app.config["PAGE_SIZE"] = 2
    picked = [factories.make_listing(db, name=f"Picked {n}") for n in range(3)]
    for listing in picked:
        factories.make_badge(db, listing, kind="staff_pick")
    factories.make_listing(db, name="Not Picked")
    expired = factories.make_listing(db, name="Expired Pick")
    factories.make_badge(db, expired, kind="staff_pick", expires_at=utcnow() - timedelta(days=1))
    first = page_of(client.get("/badges/staff-pick"))
    second = page_of(client.get("/badges/staff-pick?page=2"))
    assert "Awarded by our editors" in first and "Page 1 of 2" in first
    shown = [listing.name for listing in picked if listing.name in first + second]
    assert len(shown) == 3
    assert "Not Picked" not in first + second and "Expired Pick" not in first + second
    # The badge on each card links to this page.
    assert "/badges/staff-pick" in badge_links(first)


def test_top_rated_badge_page_lists_the_apps_that_earn_it(client, db):
    rated(db, "Crowd Favourite", forty_at_4_7())
    rated(db, "Lone Star", [5])
    page = page_of(client.get("/badges/top-rated"))
    assert "Earned from reviews" in page and "At least 10 published reviews" in page
    assert "Crowd Favourite" in page and "Lone Star" not in page


def test_unknown_badge_page_is_404(client, db):
    assert client.get("/badges/best-ever").status_code == 404


def test_badge_page_runs_the_same_number_of_queries_for_more_apps(app, client, db):
    def add(count):
        for _ in range(count):
            factories.make_badge(db, factories.make_listing(db), kind="staff_pick")

    add(1)
    catalog_cache.bump(db)  # a new catalog version: the page is rendered, not the kept one
    db.commit()
    with count_queries(app) as few:
        assert client.get("/badges/staff-pick").status_code == 200
    add(5)
    with count_queries(app) as many:
        page = page_of(client.get("/badges/staff-pick"))
    assert "6 apps wear it" in page
    assert len(many) == len(few)


# --- installs, last updated, version history -----------------------------------------------


def installed_in(db, listing, workspaces: int, status: str = "active") -> None:
    for _ in range(workspaces):
        owner = factories.make_user(db)
        factories.make_install(db, factories.make_workspace(db, owner), listing, status=status)


def listing_aside(page: str) -> str:
    return page[page.index('class="listing-aside"'):page.index("</aside>")]


def test_listing_page_shows_an_install_band_of_active_installs(client, db):
    listing = factories.make_listing(db, name="Counted")
    installed_in(db, listing, 9)
    installed_in(db, listing, 3, status="uninstalled")
    assert "Fewer than 10 installs" in listing_aside(page_of(client.get(f"/apps/{listing.slug}")))
    installed_in(db, listing, 1)
    catalog_cache.bump(db)  # bands follow the catalog version (docs/caching.md)
    db.commit()
    assert "10+ installs" in listing_aside(page_of(client.get(f"/apps/{listing.slug}")))


def test_listing_page_shows_last_updated_and_the_version_history(client, db):
    listing = factories.make_listing(db, name="Versioned", with_release=False,
                                     published_at=datetime(2026, 1, 10, tzinfo=UTC))
    old = factories.make_release(db, listing, version="1.0.0")
    new = factories.make_release(db, listing, version="1.1.0")
    pending = factories.make_release(db, listing, version="2.0.0",
                                     review_status=ReleaseStatus.PENDING)
    old.created_at, old.reviewed_at, old.changelog = datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 2, 2, tzinfo=UTC), \
        "First **public** release."
    new.created_at, new.reviewed_at, new.changelog = datetime(2026, 3, 4, tzinfo=UTC), datetime(2026, 3, 5, tzinfo=UTC), \
        "- Faster sync\n- Fewer clicks"
    pending.changelog = "Not out yet."
    factories.save(db, old, new, pending)
    page = page_of(client.get(f"/apps/{listing.slug}"))
    aside = listing_aside(page)
    assert re.search(r"<dt>Last updated</dt>\s*<dd>5 Mar 2026</dd>", aside)
    history = section(page, "versions-heading")
    assert history.index("1.1.0") < history.index("1.0.0")
    assert "<li>Faster sync</li>" in history and "<strong>public</strong>" in history
    assert "2 Feb 2026" in history
    assert "2.0.0" not in history and "Not out yet." not in history


def test_last_updated_is_the_published_date_without_an_approved_release(client, db):
    listing = factories.make_listing(db, with_release=False, published_at=datetime(2026, 1, 10, tzinfo=UTC))
    aside = listing_aside(page_of(client.get(f"/apps/{listing.slug}")))
    assert re.search(r"<dt>Last updated</dt>\s*<dd>10 Jan 2026</dd>", aside)
