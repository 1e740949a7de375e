"""Findable pages: the sitemap (split into an index past the limit), robots.txt,
canonical links, Open Graph and Twitter cards on every public page, the favicon,
and a listing's structured data (JSON-LD ``SoftwareApplication``), read back with
extruct the way a search engine's parser would."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.robotparser import RobotFileParser

import extruct
import lxml.html
import pytest

from core.db import as_utc
from listings.models import ListingStatus, ReviewStatus
from tests import factories
from tests.sql_counting import count_queries

BASE = "https://bazaar.example.com"
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
HOSTILE = "</script><script>alert(1)</script>"

# The vocabulary a search engine reads, written out here because the tests have no
# internet to fetch schema.org's context. Each type's own properties plus those it
# inherits, as listed on its schema.org page; only the ones Bazaar could use.
SOFTWARE_APPLICATION_PROPERTIES = {
    "@context", "@type", "@id",
    # https://schema.org/SoftwareApplication
    "applicationCategory", "applicationSubCategory", "operatingSystem", "offers",
    "screenshot", "softwareVersion", "softwareHelp", "permissions", "releaseNotes",
    "downloadUrl", "installUrl", "featureList", "applicationSuite",
    # https://schema.org/CreativeWork (inherited)
    "aggregateRating", "author", "publisher", "dateModified", "datePublished", "keywords",
    "review", "provider",
    # https://schema.org/Thing (inherited)
    "name", "description", "url", "image", "sameAs", "identifier",
}
# https://schema.org/Offer
OFFER_PROPERTIES = {"@type", "price", "priceCurrency", "priceSpecification", "description",
                    "url", "availability", "category", "eligibleDuration", "name"}
# https://schema.org/UnitPriceSpecification (with PriceSpecification's and Thing's)
UNIT_PRICE_PROPERTIES = {"@type", "price", "priceCurrency", "unitText", "unitCode",
                         "billingDuration", "referenceQuantity", "priceType", "description",
                         "name"}
# https://schema.org/AggregateRating (with Rating's)
AGGREGATE_RATING_PROPERTIES = {"@type", "ratingValue", "ratingCount", "reviewCount",
                               "bestRating", "worstRating"}
# https://schema.org/Organization (with Thing's)
ORGANIZATION_PROPERTIES = {"@type", "name", "url", "logo", "sameAs"}


@pytest.fixture
def app_overrides():
    # The site's public address: what every absolute URL starts with, whatever
    # Host header a request (or an attacker) sends.
    return {"BAZAAR_BASE_URL": BASE}


def text_of(response) -> str:
    return response.get_data(as_text=True)


def sitemap_entries(response) -> dict[str, str | None]:
    """{loc: lastmod} of a <urlset>, parsed by an XML parser."""
    root = ET.fromstring(response.get_data())
    assert root.tag == f"{SITEMAP_NS}urlset"
    return {url.findtext(f"{SITEMAP_NS}loc"): url.findtext(f"{SITEMAP_NS}lastmod")
            for url in root.findall(f"{SITEMAP_NS}url")}


def head_meta(page: str) -> dict[str, str]:
    """The canonical link, robots and the Open Graph / Twitter tags of a page's <head>."""
    head = lxml.html.fromstring(page).find("head")
    found = {}
    for link in head.findall("link"):
        if link.get("rel") == "canonical":
            assert "canonical" not in found, "one canonical link only"
            found["canonical"] = link.get("href")
    for meta in head.findall("meta"):
        key = meta.get("property") or meta.get("name")
        if key and (key.startswith(("og:", "twitter:")) or key == "robots"):
            found[key] = meta.get("content")
    return found


def served(client, path: str) -> bool:
    """Whether ``path`` answers 200 (a file: its response is closed after)."""
    response = client.get(path)
    response.close()
    return response.status_code == 200


def json_ld(page: str) -> list[dict]:
    return extruct.extract(page, base_url=BASE, syntaxes=["json-ld"])["json-ld"]


# --- sitemap --------------------------------------------------------------------


@pytest.fixture
def catalog(db):
    tools = factories.make_category(db, name="Sales tools")
    shown = factories.make_listing(db, category=tools, name="Pipeline Pro")
    other = factories.make_listing(db, category=tools, name="Call Logger")
    hidden = [factories.make_listing(db, category=tools, status=status)
              for status in (ListingStatus.DRAFT, ListingStatus.IN_REVIEW,
                             ListingStatus.DELISTED, ListingStatus.ARCHIVED)]
    shelf = factories.make_collection(db, [shown], name="Editors love these")
    return {"category": tools, "published": [shown, other], "hidden": hidden,
            "collection": shelf}


def test_sitemap_lists_public_pages_and_published_listings_with_lastmod(client, catalog):
    response = client.get("/sitemap.xml")

    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    entries = sitemap_entries(response)
    assert f"{BASE}/" in entries
    assert f"{BASE}/categories" in entries
    assert f"{BASE}/categories/{catalog['category'].slug}" in entries
    assert f"{BASE}/collections/{catalog['collection'].slug}" in entries
    assert f"{BASE}/policies/pruning" in entries
    for listing in catalog["published"]:
        assert entries[f"{BASE}/apps/{listing.slug}"] == \
            as_utc(listing.updated_at).isoformat(timespec="seconds")
    for listing in catalog["hidden"]:
        assert f"{BASE}/apps/{listing.slug}" not in entries
    assert all(loc.startswith(BASE + "/") for loc in entries)
    assert not any("/partner" in loc or "/editor" in loc or "/account" in loc for loc in entries)


def test_sitemap_is_an_index_of_parts_above_the_limit(client, catalog, monkeypatch):
    monkeypatch.setattr("storefront.findable.SITEMAP_URL_LIMIT", 3)

    response = client.get("/sitemap.xml")

    root = ET.fromstring(response.get_data())
    assert root.tag == f"{SITEMAP_NS}sitemapindex"
    parts = [entry.findtext(f"{SITEMAP_NS}loc") for entry in root.findall(f"{SITEMAP_NS}sitemap")]
    # home, categories, the rules page, 1 category, 1 collection, 2 listings: 7 URLs.
    assert parts == [f"{BASE}/sitemaps/1.xml", f"{BASE}/sitemaps/2.xml", f"{BASE}/sitemaps/3.xml"]
    seen: list[str] = []
    for part in parts:
        entries = sitemap_entries(client.get(part.removeprefix(BASE)))
        assert 1 <= len(entries) <= 3
        seen.extend(entries)
    assert len(seen) == len(set(seen)) == 7
    assert {f"{BASE}/apps/{listing.slug}" for listing in catalog["published"]} <= set(seen)
    assert client.get("/sitemaps/4.xml").status_code == 404
    assert client.get("/sitemaps/0.xml").status_code == 404


def test_sitemap_is_built_once_per_catalog_version(app, client, catalog):
    first = client.get("/sitemap.xml")
    with count_queries(app) as statements:
        again = client.get("/sitemap.xml")
        unchanged = client.get("/sitemap.xml", headers={"If-None-Match": first.headers["ETag"]})

    assert again.get_data() == first.get_data()
    assert unchanged.status_code == 304
    # Only the catalog's version is read; nothing is listed again.
    assert all("catalog_version" in statement for statement in statements), statements


def test_sitemap_follows_the_catalog(client, db, catalog):
    client.get("/sitemap.xml")  # kept for this catalog version
    late = factories.make_listing(db, category=catalog["category"], name="Late Arrival")

    entries = sitemap_entries(client.get("/sitemap.xml"))

    assert f"{BASE}/apps/{late.slug}" in entries


# --- robots.txt -------------------------------------------------------------------


def test_robots_txt_allows_the_storefront_and_names_the_sitemap(client):
    response = client.get("/robots.txt")

    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    robots = RobotFileParser()
    robots.parse(text_of(response).splitlines())
    for path in ("/", "/categories", "/categories/crm", "/collections/new", "/apps/pipeline-pro",
                 "/search?q=crm", "/policies/pruning", "/media/screenshots/1-a.png"):
        assert robots.can_fetch("*", BASE + path), path
    for path in ("/account/login", "/partner/", "/editor/", "/admin/users", "/api/v1/installs",
                 "/my/apps", "/workspace", "/billing/webhooks/stripe", "/invitations/abc"):
        assert not robots.can_fetch("*", BASE + path), path
    # The install and review-posting paths sit under an app's page: a wildcard rule
    # (RFC 9309 section 2.2.3), which the standard library's parser does not read.
    assert "Disallow: /apps/*/install" in text_of(response).splitlines()
    assert robots.site_maps() == [f"{BASE}/sitemap.xml"]


# --- favicon ----------------------------------------------------------------------


def test_favicon_is_served_and_linked(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.mimetype == "image/vnd.microsoft.icon"
    assert icon.data.startswith(b"\x00\x00\x01\x00")  # an ICO file's header
    icon.close()
    head = lxml.html.fromstring(text_of(client.get("/"))).find("head")
    icons = {link.get("rel"): link.get("href") for link in head.findall("link")
             if "icon" in (link.get("rel") or "")}
    assert set(icons) >= {"icon", "apple-touch-icon"}
    for href in icons.values():
        assert served(client, href), href


# --- canonical links and social cards --------------------------------------------


def test_every_public_page_has_a_canonical_link_and_social_cards(client, db, catalog, app):
    app.config["PAGE_SIZE"] = 1  # so the category has a page 2
    listing = catalog["published"][0]
    pages = {
        "/": f"{BASE}/",
        "/categories": f"{BASE}/categories",
        f"/categories/{catalog['category'].slug}": f"{BASE}/categories/{catalog['category'].slug}",
        f"/categories/{catalog['category'].slug}?page=1":
            f"{BASE}/categories/{catalog['category'].slug}",
        f"/categories/{catalog['category'].slug}?page=2":
            f"{BASE}/categories/{catalog['category'].slug}?page=2",
        f"/collections/{catalog['collection'].slug}":
            f"{BASE}/collections/{catalog['collection'].slug}",
        f"/apps/{listing.slug}": f"{BASE}/apps/{listing.slug}",
        f"/apps/{listing.slug}?page=2&sort=newest": f"{BASE}/apps/{listing.slug}",
        "/search?q=pipeline&sort=newest&page=1": f"{BASE}/search?q=pipeline",
        "/policies/pruning": f"{BASE}/policies/pruning",
    }
    for path, canonical in pages.items():
        response = client.get(path)
        assert response.status_code == 200, path
        meta = head_meta(text_of(response))
        assert meta.get("canonical") == canonical, path
        assert meta["og:url"] == canonical, path
        assert meta["og:title"] and meta["og:description"] and meta["og:type"], path
        assert meta["og:image"].startswith(BASE + "/"), path
        assert meta["twitter:card"] in ("summary", "summary_large_image"), path
        assert served(client, meta["og:image"].removeprefix(BASE)), path


def test_search_results_are_not_indexed(client, catalog):
    # Endless combinations of words and filters, each a thin copy of the catalog
    # pages: crawlers follow their links but keep them out of the index.
    meta = head_meta(text_of(client.get("/search?q=pipeline")))
    assert meta["robots"] == "noindex, follow"
    assert "robots" not in head_meta(text_of(client.get("/")))


def test_listing_card_shows_tagline_and_first_screenshot(client, db, app):
    listing = factories.make_listing(db, name="Pipeline Pro", tagline="Deals at a glance")
    plain = head_meta(text_of(client.get(f"/apps/{listing.slug}")))
    assert plain["og:title"] == "Pipeline Pro"
    assert plain["og:description"] == "Deals at a glance"
    assert plain["og:image"].startswith(f"{BASE}/static/img/og-default.png")

    first = factories.make_screenshot(db, listing, app.config["UPLOAD_FOLDER"])
    factories.make_screenshot(db, listing, app.config["UPLOAD_FOLDER"])
    meta = head_meta(text_of(client.get(f"/apps/{listing.slug}")))

    assert meta["og:image"] == f"{BASE}/media/screenshots/{first.filename}"


def test_an_uploaded_icon_is_the_shared_links_picture(client, db, app):
    listing = factories.make_listing(db, name="Pipeline Pro")
    factories.make_screenshot(db, listing, app.config["UPLOAD_FOLDER"])
    listing.icon_filename = f"{listing.id}-icon.png"
    icons = Path(app.config["UPLOAD_FOLDER"]) / "icons"
    icons.mkdir(parents=True, exist_ok=True)
    (icons / listing.icon_filename).write_bytes(factories.image_bytes(size=(128, 128)))
    factories.save(db, listing)

    meta = head_meta(text_of(client.get(f"/apps/{listing.slug}")))

    assert meta["og:image"] == f"{BASE}/media/icons/{listing.icon_filename}"
    assert served(client, meta["og:image"].removeprefix(BASE))


def test_absolute_urls_ignore_the_host_header(client, catalog):
    # Pages are kept for every anonymous visitor: a forged Host must not end up in them.
    listing = catalog["published"][0]
    response = client.get(f"/apps/{listing.slug}", headers={"Host": "evil.example"})
    page = text_of(response)
    assert head_meta(page)["canonical"] == f"{BASE}/apps/{listing.slug}"
    assert "evil.example" not in page
    assert "evil.example" not in text_of(client.get("/sitemap.xml",
                                                    headers={"Host": "evil.example"}))


# --- structured data ----------------------------------------------------------------


def software_application(client, listing) -> dict:
    blocks = json_ld(text_of(client.get(f"/apps/{listing.slug}")))
    assert len(blocks) == 1
    data = blocks[0]
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "SoftwareApplication"
    assert set(data) <= SOFTWARE_APPLICATION_PROPERTIES, set(data) - SOFTWARE_APPLICATION_PROPERTIES
    assert set(data["offers"]) <= OFFER_PROPERTIES
    assert set(data["publisher"]) <= ORGANIZATION_PROPERTIES
    return data


def test_listing_structured_data_describes_the_app_with_its_rating(client, db):
    partner = factories.make_partner(db, name="Northwind Labs")
    category = factories.make_category(db, name="Developer tools")
    listing = factories.make_listing(db, partner=partner, category=category, name="Hookshot",
                                     tagline="Webhooks you can see")
    factories.make_review(db, listing, rating=5)
    factories.make_review(db, listing, rating=4)
    factories.make_review(db, listing, rating=1, status=ReviewStatus.PENDING)

    data = software_application(client, listing)

    assert data["name"] == "Hookshot"
    assert data["description"] == "Webhooks you can see"
    assert data["url"] == f"{BASE}/apps/{listing.slug}"
    assert data["operatingSystem"] == "Web"
    assert data["applicationCategory"] == "BusinessApplication"
    assert data["applicationSubCategory"] == "Developer tools"
    assert data["image"].startswith(BASE + "/")
    assert data["publisher"] == {"@type": "Organization", "name": "Northwind Labs"}
    assert data["offers"] == {"@type": "Offer", "price": "0", "priceCurrency": "USD",
                              "url": f"{BASE}/apps/{listing.slug}"}
    rating = data["aggregateRating"]
    assert set(rating) <= AGGREGATE_RATING_PROPERTIES
    assert rating == {"@type": "AggregateRating", "ratingValue": 4.5, "ratingCount": 2,
                      "bestRating": 5, "worstRating": 1}


def test_listing_without_published_reviews_has_no_rating(client, db):
    listing = factories.make_listing(db)
    factories.make_review(db, listing, rating=2, status=ReviewStatus.PENDING)

    assert "aggregateRating" not in software_application(client, listing)


def test_paid_listing_offers_its_monthly_price(client, db):
    listing = factories.make_paid_listing(db, monthly_price=2900, currency="eur")

    offer = software_application(client, listing)["offers"]

    assert offer["price"] == "29.00"
    assert offer["priceCurrency"] == "EUR"
    spec = offer["priceSpecification"]
    assert set(spec) <= UNIT_PRICE_PROPERTIES
    assert spec == {"@type": "UnitPriceSpecification", "price": "29.00", "priceCurrency": "EUR",
                    "billingDuration": "P1M", "unitCode": "MON", "unitText": "month"}


def test_usage_priced_listing_offers_its_unit_price(client, db):
    listing = factories.make_usage_listing(db, unit_name="API call", unit_price=2,
                                           included_units=1000, currency="usd")

    offer = software_application(client, listing)["offers"]

    assert offer["price"] == "0"  # nothing to pay before using it
    assert offer["priceCurrency"] == "USD"
    assert offer["priceSpecification"] == {"@type": "UnitPriceSpecification", "price": "0.02",
                                           "priceCurrency": "USD", "unitText": "API call"}
    assert offer["description"] == "0.02 USD per API call; the first 1,000 included each month"


def test_zero_decimal_currency_prices_are_whole(client, db):
    listing = factories.make_paid_listing(db, monthly_price=3000, currency="jpy")

    offer = software_application(client, listing)["offers"]

    assert (offer["price"], offer["priceCurrency"]) == ("3000", "JPY")


def test_hostile_text_cannot_break_out_of_the_structured_data(client, db):
    listing = factories.make_listing(db, name=HOSTILE[:80], tagline=f"Try {HOSTILE} now")
    page = text_of(client.get(f"/apps/{listing.slug}"))

    assert "<script>alert(1)" not in page
    data = software_application(client, listing)
    assert data["name"] == HOSTILE
    assert data["description"] == f"Try {HOSTILE} now"
    scripts = lxml.html.fromstring(page).findall(".//script")
    assert [s.get("type") for s in scripts if not s.get("src")] == ["application/ld+json"]


def test_delisted_listing_is_not_indexed_nor_offered(client, db):
    listing = factories.make_listing(db, status=ListingStatus.DELISTED)
    page = text_of(client.get(f"/apps/{listing.slug}"))

    assert head_meta(page)["robots"] == "noindex, follow"
    assert json_ld(page) == []
