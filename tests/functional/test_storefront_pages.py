"""The customer's storefront: home, categories, collections, the listing page,
posting reviews, screenshot files and the error pages."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import func, select

from accounts.devices import start_device_session
from accounts.models import Role, WorkspaceMember
from core.db import utcnow
from installs.models import Install
from listings import catalog_cache
from listings.models import CollectionItem, ListingStatus, Review, ReviewStatus
from listings.plans import add_plan
from listings.review_models import ReviewVote
from tests import factories
from tests.sql_counting import count_queries


def page_of(response) -> str:
    return response.get_data(as_text=True)


def review_count(db) -> int:
    return db.exec(select(func.count()).select_from(Review)).one()


def renders_afresh(db):
    """A new catalog version: the next catalog page is rendered, not the kept one
    (the query counts below are of rendering)."""
    catalog_cache.bump(db)
    db.commit()


# --- home -------------------------------------------------------------------------


def test_home_shows_collections_categories_top_rated_and_newest(client, db):
    tools = factories.make_category(db, name="Sales tools")
    first = factories.make_listing(db, category=tools, name="Pipeline Pro", tagline="Deals at a glance")
    second = factories.make_listing(db, category=tools, name="Call Logger")
    factories.make_listing(db, category=tools, name="Secret Draft", status=ListingStatus.DRAFT)
    factories.make_review(db, first, rating=5)
    factories.make_badge(db, first, kind="staff_pick")
    later = factories.make_collection(db, [second], name="Later shelf")
    earlier = factories.make_collection(db, [second, first], name="Editors love these")
    earlier.position, later.position = 1, 2
    factories.save(db, earlier, later)

    response = client.get("/")
    page = page_of(response)
    assert response.status_code == 200
    assert page.index("Editors love these") < page.index("Later shelf")
    # The collection keeps the editor's order: Call Logger before Pipeline Pro.
    shelf = page[page.index("Editors love these"):page.index("Later shelf")]
    assert shelf.index("Call Logger") < shelf.index("Pipeline Pro")
    assert "Sales tools" in page and "(2 apps)" in page
    assert "Top rated" in page and "Newest" in page
    assert "Deals at a glance" in page and "Staff pick" in page
    assert 'href="/apps/' + first.slug + '"' in page
    assert "Secret Draft" not in page


def test_home_with_an_empty_catalog(client, db):
    response = client.get("/")
    assert response.status_code == 200
    assert "No apps are listed yet." in page_of(response)


def test_home_runs_the_same_number_of_queries_for_more_apps(app, client, db):
    def add_apps(count):
        category = factories.make_category(db)
        listings = [factories.make_listing(db, category=category) for _ in range(count)]
        for listing in listings:
            factories.make_review(db, listing)
            factories.make_badge(db, listing)
        factories.make_collection(db, listings)

    add_apps(1)
    client.get("/")
    renders_afresh(db)
    with count_queries(app) as few:
        client.get("/")
    add_apps(6)
    with count_queries(app) as many:
        client.get("/")
    assert len(many) == len(few)


# --- categories ------------------------------------------------------------------------


def test_categories_page_lists_every_category_with_its_count(client, db):
    crm = factories.make_category(db, name="CRM")
    factories.make_category(db, name="Empty Corner")
    factories.make_listing(db, category=crm)
    factories.make_listing(db, category=crm, status=ListingStatus.DRAFT)
    page = page_of(client.get("/categories"))
    assert "CRM" in page and "(1 app)" in page
    assert "Empty Corner" in page and "(0 apps)" in page
    assert f'href="/categories/{crm.slug}"' in page


def test_categories_page_runs_the_same_number_of_queries_for_more_categories(app, client, db):
    factories.make_listing(db, category=factories.make_category(db))
    client.get("/categories")
    renders_afresh(db)
    with count_queries(app) as few:
        client.get("/categories")
    for _ in range(5):
        factories.make_listing(db, category=factories.make_category(db))
    with count_queries(app) as many:
        client.get("/categories")
    assert len(many) == len(few)


def test_category_pages_through_its_apps(app, client, db):
    app.config["PAGE_SIZE"] = 2
    category = factories.make_category(db, name="Support")
    names = [factories.make_listing(db, category=category, name=f"Helper {n}").name for n in range(3)]
    first = page_of(client.get(f"/categories/{category.slug}"))
    second = page_of(client.get(f"/categories/{category.slug}?page=2"))
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    assert f'href="/categories/{category.slug}?page=2"' in first
    shown = [name for name in names if name in first] + [name for name in names if name in second]
    assert sorted(shown) == sorted(names)  # every app exactly once across the pages
    assert "3 apps" in first


def test_category_page_beyond_the_last_shows_a_way_back(app, client, db):
    app.config["PAGE_SIZE"] = 2
    category = factories.make_category(db)
    for _ in range(3):
        factories.make_listing(db, category=category)
    response = client.get(f"/categories/{category.slug}?page=9")
    page = page_of(response)
    assert response.status_code == 200
    assert "There is no page 9" in page
    assert f'href="/categories/{category.slug}?page=2"' in page
    assert 'class="card' not in page


@pytest.mark.parametrize("raw", ["abc", "0", "-3", "", "1.5", "9" * 5000])
def test_category_bad_page_number_shows_the_first_page(client, db, raw):
    category = factories.make_category(db)
    listing = factories.make_listing(db, category=category, name="Only App")
    response = client.get(f"/categories/{category.slug}?page={raw}")
    assert response.status_code == 200
    assert listing.name in page_of(response)


def test_category_page_runs_the_same_number_of_queries_for_more_apps(app, client, db):
    category = factories.make_category(db)
    factories.make_review(db, factories.make_listing(db, category=category))
    client.get(f"/categories/{category.slug}")
    renders_afresh(db)
    with count_queries(app) as few:
        client.get(f"/categories/{category.slug}")
    for _ in range(5):
        listing = factories.make_listing(db, category=category)
        factories.make_review(db, listing)
        factories.make_badge(db, listing)
    with count_queries(app) as many:
        client.get(f"/categories/{category.slug}")
    assert len(many) == len(few)


def test_unknown_category_is_404(client, db):
    response = client.get("/categories/no-such-thing")
    assert response.status_code == 404
    assert "Page not found" in page_of(response)


# --- collections ---------------------------------------------------------------------------


def test_collection_page_keeps_the_editors_order(client, db):
    a = factories.make_listing(db, name="Alpha App")
    b = factories.make_listing(db, name="Beta App")
    gone = factories.make_listing(db, name="Gone App", status=ListingStatus.DELISTED)
    collection = factories.make_collection(db, [b, gone, a], name="Handpicked")
    collection.description = "Apps our editors use every day."
    factories.save(db, collection)
    page = page_of(client.get(f"/collections/{collection.slug}"))
    assert "Handpicked" in page and "Apps our editors use every day." in page
    assert page.index("Beta App") < page.index("Alpha App")
    assert "Gone App" not in page


def test_collection_page_runs_the_same_number_of_queries_for_more_apps(app, client, db):
    def listing():
        made = factories.make_listing(db)
        factories.make_review(db, made)
        factories.make_badge(db, made)
        return made

    collection = factories.make_collection(db, [listing()])
    client.get(f"/collections/{collection.slug}")
    renders_afresh(db)
    with count_queries(app) as few:
        client.get(f"/collections/{collection.slug}")
    for position in range(1, 7):
        db.add(CollectionItem(collection_id=collection.id, listing_id=listing().id,
                              position=position))
    db.commit()
    with count_queries(app) as many:
        page = page_of(client.get(f"/collections/{collection.slug}"))
    assert page.count('class="card listing-card"') == 7
    assert len(many) == len(few)


def test_unknown_collection_is_404(client, db):
    assert client.get("/collections/nope").status_code == 404


# --- the listing page -------------------------------------------------------------------------


def test_listing_page_shows_what_a_customer_needs(app, client, db):
    partner = factories.make_partner(db, name="Acme Apps")
    listing = factories.make_listing(
        db, partner=partner, name="Acme Sync", tagline="Keep contacts in step",
        description="## Features\n\n**Two-way** sync.", pricing_model="flat_monthly",
        monthly_price=1999, trial_days=14, website_url="https://acme.example.com",
        data_residency=["eu", "uk"],
        scopes=[{"scope": "contacts:read", "justification": "To match people across tools."},
                {"scope": "contacts:write", "justification": "To fix duplicates for you."}])
    factories.make_badge(db, listing, kind="security_reviewed")
    factories.make_screenshot(db, listing, app.config["UPLOAD_FOLDER"], caption="The sync dashboard")
    factories.make_screenshot(db, listing, app.config["UPLOAD_FOLDER"])
    factories.make_review(db, listing, rating=5, title="Saved us hours",
                          author=factories.make_user(db, name="Grace H"),
                          reply_body="Thanks, Grace!")
    factories.make_review(db, listing, rating=4)
    factories.make_review(db, listing, rating=1, title="Hidden pending", status=ReviewStatus.PENDING)
    factories.make_review(db, listing, rating=1, title="Hidden rejected", status=ReviewStatus.REJECTED)

    response = client.get(f"/apps/{listing.slug}")
    page = page_of(response)
    assert response.status_code == 200
    assert "<h1" in page and "Acme Sync" in page and "Acme Apps" in page
    assert "Keep contacts in step" in page and "Security reviewed" in page
    # Screenshots: captions as alt text, a fallback otherwise, sizes for layout.
    assert 'alt="The sync dashboard"' in page
    assert 'alt="Screenshot 2 of Acme Sync"' in page
    assert 'width="64" height="48"' in page
    assert re.search(r'<img src="/media/screenshots/[^"]+\.png"', page)
    # Description is Markdown, with headings demoted below the page's own.
    assert "<strong>Two-way</strong>" in page and "<h3>Features</h3>" in page
    assert "$19.99 / month" in page and "14-day free trial" in page
    # Permissions in plain words, with the partner's reasons and a write marker.
    assert "See your contacts and their details" in page
    assert "Create, change and delete your contacts" in page
    assert "To fix duplicates for you." in page
    assert page.count("Can change data") == 1
    assert "European Union" in page and "United Kingdom" in page
    assert '<a href="https://acme.example.com" rel="noopener">Website</a>' in page
    assert 'href="https://support.example.com" rel="noopener"' in page
    # Ratings: only published reviews count.
    assert "4.5" in page and "from 2 reviews" in page
    assert 'class="w-50"' in page and 'class="w-0"' in page
    assert "Saved us hours" in page and "Grace H" in page and "Thanks, Grace!" in page
    assert "Reply from Acme Apps" in page
    assert "Hidden pending" not in page and "Hidden rejected" not in page
    assert 'style="' not in page  # the CSP forbids inline styles


def test_listing_page_escapes_user_markup(client, db):
    listing = factories.make_listing(db, description="Hi <script>alert('desc')</script> there")
    factories.make_review(db, listing, title="<script>alert('title')</script>",
                          body="<script>alert('body')</script> *fine*",
                          reply_body="<img src=x onerror=alert(1)>")
    page = page_of(client.get(f"/apps/{listing.slug}"))
    assert "<script>alert" not in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in page
    assert "<em>fine</em>" in page


@pytest.mark.parametrize("status", [ListingStatus.DRAFT, ListingStatus.IN_REVIEW,
                                    ListingStatus.ARCHIVED])
def test_hidden_listings_are_404(client, db, status):
    listing = factories.make_listing(db, status=status)
    assert client.get(f"/apps/{listing.slug}").status_code == 404


def test_unknown_listing_is_404(client, db):
    assert client.get("/apps/not-an-app").status_code == 404


def test_delisted_listing_shows_a_notice_and_takes_no_reviews(client, db, login):
    listing = factories.make_listing(db, status=ListingStatus.DELISTED, name="Old Tool",
                                     review_note="The partner stopped supporting it.")
    login(factories.make_user(db))
    response = client.get(f"/apps/{listing.slug}")
    page = page_of(response)
    assert response.status_code == 200
    assert "This app is no longer listed" in page
    assert "The partner stopped supporting it." in page
    assert 'name="rating"' not in page
    response = client.post(f"/apps/{listing.slug}/reviews", data={"rating": "5", "title": "Late"})
    assert response.status_code == 400
    assert "Only published apps can be reviewed." in page_of(response)
    assert review_count(db) == 0


def test_listing_without_reviews_or_scopes(client, db):
    listing = factories.make_listing(db, scopes=[], data_residency=[])
    page = page_of(client.get(f"/apps/{listing.slug}"))
    assert "No reviews yet." in page
    assert "This app asks for no access to your workspace data." in page
    assert "Not stated by the partner" in page


def test_reviews_are_paged(client, db):
    listing = factories.make_listing(db)
    for n in range(12):
        factories.make_review(db, listing, title=f"Review number {n:02d}")
    first = page_of(client.get(f"/apps/{listing.slug}"))
    second = page_of(client.get(f"/apps/{listing.slug}?page=2"))
    assert "Page 1 of 2" in first and "from 12 reviews" in first
    titles = {f"Review number {n:02d}" for n in range(12)}
    assert {t for t in titles if t in first} | {t for t in titles if t in second} == titles
    assert not {t for t in titles if t in first} & {t for t in titles if t in second}


def test_listing_page_queries_do_not_grow_with_reviews(app, client, db):
    listing = factories.make_listing(db)
    factories.make_review(db, listing, reply_body="Thanks")
    client.get(f"/apps/{listing.slug}")
    renders_afresh(db)
    with count_queries(app) as few:
        client.get(f"/apps/{listing.slug}")
    for _ in range(6):
        factories.make_review(db, listing, reply_body="Thanks")
    with count_queries(app) as many:
        client.get(f"/apps/{listing.slug}")
    assert len(many) == len(few)


# What a rendered app page reads, one statement each: the listing, the catalog version,
# its maker, category and active installs (the band), screenshots, the rating summary,
# the page of reviews (with their helpful votes), badges, approved releases (the
# current one and the version history) and the price plans. Each more is paid on every
# first visit of an app page (bench/pages: most of the mix's app pages are).
LISTING_PAGE_STATEMENTS = 9


def test_a_rendered_listing_page_reads_everything_in_nine_statements(app, client, db):
    listing = factories.make_listing(db, pricing_model="flat_monthly", monthly_price=2900)
    add_plan(db, listing, {"name": "Annual", "interval": "year", "price": 29000})
    factories.make_release(db, listing, version="1.1.0")
    factories.make_screenshot(db, listing, app.config["UPLOAD_FOLDER"], caption="Pipeline")
    factories.make_badge(db, listing)
    voter = factories.make_user(db)
    for n in range(3):
        review = factories.make_review(db, listing, title=f"Review {n}")
        factories.save(db, ReviewVote(review_id=review.id, user_id=voter.id))
    factories.make_install(db, factories.make_workspace(db, voter), listing)
    db.commit()
    client.get(f"/apps/{listing.slug}")
    renders_afresh(db)
    with count_queries(app) as statements:
        page = page_of(client.get(f"/apps/{listing.slug}"))
    assert "Version 1.1.0" in page and "1 person found this helpful" in page
    assert "Annual" in page and "Pipeline" in page and "Fewer than 10 installs" in page
    assert len(statements) <= LISTING_PAGE_STATEMENTS, "\n".join(statements)


# --- reviews -------------------------------------------------------------------------------


def test_visitor_is_asked_to_sign_in_before_reviewing(client, db):
    listing = factories.make_listing(db)
    page = page_of(client.get(f"/apps/{listing.slug}"))
    assert "Sign in to write a review" in page and 'name="rating"' not in page
    response = client.post(f"/apps/{listing.slug}/reviews", data={"rating": "5", "title": "Hi"})
    assert response.status_code == 302 and "/account/login" in response.location
    assert review_count(db) == 0


def test_signing_in_after_trying_to_review_leads_back_to_the_form(client, db):
    listing = factories.make_listing(db)
    user = factories.make_installer(db, listing)
    response = client.post(f"/account/login?next=/apps/{listing.slug}/reviews",
                           data={"email": user.email, "password": factories.PASSWORD},
                           follow_redirects=True)
    assert response.status_code == 200
    assert 'name="rating"' in page_of(response)


def test_a_new_customers_review_waits_for_an_editor(client, db, login):
    listing = factories.make_listing(db)
    user = factories.make_installer(db, listing)  # signed up today: held (docs/reviews.md)
    login(user)
    page = page_of(client.get(f"/apps/{listing.slug}"))
    assert 'type="radio"' in page and 'name="title"' in page and 'name="body"' in page
    assert '<legend>Your rating</legend>' in page

    response = client.post(f"/apps/{listing.slug}/reviews", data={
        "rating": "4", "title": "  Solid app  ", "body": "Does **what it says**."},
        follow_redirects=True)
    page = page_of(response)
    assert response.status_code == 200
    assert "Your review is held for a quick check because the account is less than 2 days old." in page
    assert "Solid app" not in page  # still pending
    assert 'name="rating"' not in page  # one review per person
    review = db.exec(select(Review)).one()
    assert (review.rating, review.title, review.status, review.author_id) == (
        4, "Solid app", ReviewStatus.PENDING, user.id)
    install = db.exec(select(Install)).one()
    assert (review.workspace_id, review.install_id) == (install.workspace_id, install.id)


def test_only_a_workspace_that_installed_the_app_may_review_it(client, db, login):
    listing = factories.make_listing(db)
    user = factories.make_user(db)
    factories.make_workspace(db, user)
    login(user)
    page = page_of(client.get(f"/apps/{listing.slug}"))
    assert "Only workspaces that have installed" in page and 'name="rating"' not in page

    response = client.post(f"/apps/{listing.slug}/reviews", data={"rating": "5", "title": "Fake"})
    assert response.status_code == 400
    assert f"Only a workspace that has installed {listing.name} can review it." in page_of(response)
    assert review_count(db) == 0


def test_a_workspace_reviews_an_app_once(client, db, login):
    listing = factories.make_listing(db)
    first = factories.make_installer(db, listing)
    colleague = factories.make_user(db)
    factories.save(db, WorkspaceMember(workspace_id=factories.workspace_of(db, first).id,
                                       user_id=colleague.id))
    login(first)
    client.post(f"/apps/{listing.slug}/reviews", data={"rating": "5", "title": "Great"})
    client.post("/account/logout")
    login(colleague)
    page = page_of(client.get(f"/apps/{listing.slug}"))
    assert "Your workspace reviewed this app on" in page and 'name="rating"' not in page
    response = client.post(f"/apps/{listing.slug}/reviews", data={"rating": "1", "title": "Bad"})
    assert "Your workspace has already reviewed this app." in page_of(response)
    assert review_count(db) == 1


def test_published_review_says_verified_install_and_how_long_it_was_used(client, db):
    listing = factories.make_listing(db)
    user = factories.make_installer(db, listing)
    install = db.exec(select(Install)).one()
    install.created_at = utcnow() - timedelta(days=45)
    factories.save(db, install)
    factories.make_review(db, listing, author=user, workspace_id=install.workspace_id,
                          install_id=install.id, title="From real use")
    factories.make_review(db, listing, title="Imported before verification")

    page = page_of(client.get(f"/apps/{listing.slug}"))
    assert page.count("Verified install") == 1
    assert "used for 45 days" in page


@pytest.mark.parametrize("data,message", [
    ({"rating": "0", "title": "Fine"}, "Choose a rating from 1 to 5 stars."),
    ({"rating": "6", "title": "Fine"}, "Choose a rating from 1 to 5 stars."),
    ({"rating": "abc", "title": "Fine"}, "Choose a rating from 1 to 5 stars."),
    ({"title": "Fine"}, "Choose a rating from 1 to 5 stars."),
    ({"rating": "3", "title": ""}, "Enter a title for your review."),
    ({"rating": "3", "title": "   "}, "Enter a title for your review."),
    ({"rating": "3", "title": "x" * 121}, "The title must be at most 120 characters."),
    ({"rating": "3", "title": "Long", "body": "y" * 5001},
     "Your review must be at most 5,000 characters."),
])
def test_bad_review_input_is_refused_beside_the_field(client, db, login, data, message):
    listing = factories.make_listing(db)
    login(factories.make_installer(db, listing))
    response = client.post(f"/apps/{listing.slug}/reviews", data=data)
    page = page_of(response)
    assert response.status_code == 400
    assert re.search(r'<p class="error" id="(rating|title|body)-error">' + re.escape(message), page)
    assert "There is a problem" in page
    assert review_count(db) == 0


def test_second_review_gets_a_clear_message(client, db, login):
    listing = factories.make_listing(db)
    user = factories.make_installer(db, listing)
    factories.make_review(db, listing, author=user, status=ReviewStatus.PENDING)
    login(user)
    page = page_of(client.get(f"/apps/{listing.slug}"))
    assert "You reviewed this app on" in page and 'name="rating"' not in page
    response = client.post(f"/apps/{listing.slug}/reviews", data={"rating": "1", "title": "Again"})
    assert response.status_code == 400
    assert "You have already reviewed this app." in page_of(response)
    assert review_count(db) == 1


def test_partner_cannot_review_its_own_app(client, db, login):
    partner = factories.make_partner(db, name="Self Raters")
    listing = factories.make_listing(db, partner=partner)
    login(factories.make_user(db, role=Role.PARTNER, partner=partner))
    page = page_of(client.get(f"/apps/{listing.slug}"))
    assert "You are a member of Self Raters" in page and 'name="rating"' not in page
    response = client.post(f"/apps/{listing.slug}/reviews", data={"rating": "5", "title": "Best!"})
    assert response.status_code == 403
    assert review_count(db) == 0


def test_partner_without_an_install_cannot_review_another_partners_app(client, db, login):
    listing = factories.make_listing(db)
    login(factories.make_user(db, role=Role.PARTNER))
    response = client.post(f"/apps/{listing.slug}/reviews", data={"rating": "3", "title": "Okay"})
    assert response.status_code == 400
    assert "can review it" in page_of(response)
    assert review_count(db) == 0


def test_reviewing_a_hidden_app_is_404(client, db, login):
    listing = factories.make_listing(db, status=ListingStatus.DRAFT)
    login(factories.make_user(db))
    response = client.post(f"/apps/{listing.slug}/reviews", data={"rating": "5", "title": "Hi"})
    assert response.status_code == 404
    assert review_count(db) == 0


@pytest.mark.parametrize("app_overrides", [{"WTF_CSRF_ENABLED": True}])
def test_review_without_csrf_token_is_refused(client, db, app_overrides):
    listing = factories.make_listing(db)
    user = factories.make_installer(db, listing)
    token = start_device_session(db, user)  # a signed-in device, without the login form
    db.commit()
    with client.session_transaction() as flask_session:
        flask_session["_user_id"] = token  # what Flask-Login keeps (User.get_id)
        flask_session["_fresh"] = True
    response = client.post(f"/apps/{listing.slug}/reviews", data={"rating": "5", "title": "Hi"})
    assert response.status_code == 400
    assert review_count(db) == 0


# --- screenshot files ---------------------------------------------------------------------------


def test_screenshot_of_a_published_app_is_served_with_long_caching(app, client, db):
    listing = factories.make_listing(db)
    shot = factories.make_screenshot(db, listing, app.config["UPLOAD_FOLDER"])
    response = client.get(f"/media/screenshots/{shot.filename}")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.data.startswith(b"\x89PNG")
    cache = response.headers["Cache-Control"]
    assert "max-age=31536000" in cache and "public" in cache and "immutable" in cache
    response.close()


def test_screenshot_of_a_delisted_app_is_still_served(app, client, db):
    listing = factories.make_listing(db, status=ListingStatus.DELISTED)
    shot = factories.make_screenshot(db, listing, app.config["UPLOAD_FOLDER"])
    response = client.get(f"/media/screenshots/{shot.filename}")
    assert response.status_code == 200
    response.close()


@pytest.mark.parametrize("status", [ListingStatus.DRAFT, ListingStatus.IN_REVIEW,
                                    ListingStatus.ARCHIVED])
def test_screenshot_of_a_hidden_app_is_404(app, client, db, status):
    listing = factories.make_listing(db, status=status)
    shot = factories.make_screenshot(db, listing, app.config["UPLOAD_FOLDER"])
    assert client.get(f"/media/screenshots/{shot.filename}").status_code == 404


@pytest.mark.parametrize("path", [
    "/media/screenshots/not-recorded.png",
    "/media/screenshots/..%2F..%2Fsecret_key",
    "/media/screenshots/../../secret_key",
    "/media/screenshots/%2e%2e%2fsecret_key",
])
def test_unrecorded_or_escaping_screenshot_paths_are_404(app, client, db, path):
    listing = factories.make_listing(db)
    factories.make_screenshot(db, listing, app.config["UPLOAD_FOLDER"])
    # A file on disk that no Screenshot row names must not be served either.
    (Path(app.config["UPLOAD_FOLDER"]) / "screenshots" / "not-recorded.png").write_bytes(
        factories.image_bytes())
    assert client.get(path).status_code == 404


# --- error pages ------------------------------------------------------------------------------------


def test_500_page_hides_internals(app, client, db):
    def explode():
        raise RuntimeError("database password is hunter2")

    app.add_url_rule("/test-explode", "test_explode", explode)
    response = client.get("/test-explode")
    page = page_of(response)
    assert response.status_code == 500
    assert "Something went wrong" in page
    assert "hunter2" not in page and "Traceback" not in page and "RuntimeError" not in page
