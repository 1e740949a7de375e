"""What search engines and link previews read from a public page: its absolute
URLs, the image a shared link shows (Open Graph / Twitter cards), and a listing's
structured data as JSON-LD ``SoftwareApplication``.

Absolute URLs start with ``BAZAAR_BASE_URL``, never with the request's Host
header: catalog pages are kept and served to every anonymous visitor
(``core.http_caching``), so a forged Host must not end up in them.

Vocabulary: https://schema.org/SoftwareApplication, https://schema.org/Offer,
https://schema.org/UnitPriceSpecification, https://schema.org/AggregateRating.
What Google reads of it (name, offers.price, aggregateRating or review, and the
recommended applicationCategory and operatingSystem):
https://developers.google.com/search/docs/appearance/structured-data/software-app
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from decimal import Decimal
from urllib.parse import urlsplit

from flask import current_app
from markupsafe import Markup
from werkzeug.routing import MapAdapter

from core.money import to_major
from listings.models import (
    Category,
    Listing,
    ListingStatus,
    Partner,
    PricingModel,
    Screenshot,
)

SITE_NAME = "Bazaar"
# Shown when a page has no picture of its own: a PNG, because link previews
# (Facebook, Slack, X) do not read SVG. https://ogp.me/#structured
DEFAULT_IMAGE = "img/og-default.png"
# https://schema.org/applicationCategory takes free text; Google lists the values it
# understands. A Bazaar category not named here is a BusinessApplication; the
# category's own name goes in applicationSubCategory.
APPLICATION_CATEGORIES = {
    "developer-tools": "DeveloperApplication",
    "security-compliance": "SecurityApplication",
    "finance-accounting": "FinanceApplication",
    "communication": "CommunicationApplication",
}
DEFAULT_APPLICATION_CATEGORY = "BusinessApplication"
# Characters that could end the <script> element or start a comment inside it,
# written as JSON escapes, which mean the same to a JSON-LD parser.
# https://html.spec.whatwg.org/multipage/scripting.html#restrictions-for-contents-of-script-elements
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def _site_adapter() -> MapAdapter:
    base = urlsplit(current_app.config["BAZAAR_BASE_URL"])
    return current_app.url_map.bind(base.netloc, script_name=base.path or "/",
                                    url_scheme=base.scheme)


def url_builder() -> Callable[..., str]:
    """A function ``(endpoint, **values) -> absolute URL`` under ``BAZAAR_BASE_URL``;
    bound once, for building many (the sitemap). Values that are None are left out."""
    adapter = _site_adapter()

    def build(endpoint: str, **values) -> str:
        return adapter.build(endpoint, {k: v for k, v in values.items() if v is not None},
                             force_external=True)

    return build


def public_url(endpoint: str, **values) -> str:
    """The absolute URL of ``endpoint`` under ``BAZAAR_BASE_URL`` (canonical links,
    og:url); values that are None are left out, so ``page=None`` means page 1."""
    return url_builder()(endpoint, **values)


def default_image_url() -> str:
    """The site's own picture for link previews."""
    return public_url("static", filename=DEFAULT_IMAGE)


def listing_image_url(listing: Listing, screenshots: Iterable[Screenshot] = ()) -> str:
    """The picture a shared link to ``listing`` shows: its uploaded icon, else its
    first screenshot, else the site's picture. The generated initials icon is SVG,
    which link previews don't show, so it is never used here."""
    if listing.icon_filename:
        return public_url("storefront.icon", filename=listing.icon_filename)
    first = next(iter(screenshots), None)
    if first is not None:
        return public_url("storefront.screenshot", filename=first.filename)
    return default_image_url()


def application_category(category: Category) -> str:
    """The schema.org applicationCategory for a Bazaar category."""
    return APPLICATION_CATEGORIES.get(category.slug, DEFAULT_APPLICATION_CATEGORY)


def _price(minor: int, currency: str) -> str:
    # schema.org's price is a number in major units, written with "." as decimal
    # separator; "0" for free (Google asks for 0 rather than leaving price out).
    if not minor:
        return "0"
    amount: Decimal = to_major(minor, currency)
    return str(amount)


def offer(listing: Listing, url: str) -> dict:
    """The listing's price as a schema.org ``Offer``: price and its ISO 4217 currency,
    with a ``UnitPriceSpecification`` saying per what (a month, or a unit of use)."""
    currency = (listing.currency or "usd").upper()
    found: dict = {"@type": "Offer", "price": "0", "priceCurrency": currency, "url": url}
    if listing.pricing_model == PricingModel.FLAT_MONTHLY:
        # The price its card shows (the cheapest monthly plan, else a yearly one).
        price = _price(listing.shown_price, currency)
        found["price"] = price
        # unitCode "MON" and "ANN" are UN/CEFACT Common Codes for a month and a year.
        yearly = listing.shown_interval == "year"
        found["priceSpecification"] = {
            "@type": "UnitPriceSpecification", "price": price, "priceCurrency": currency,
            "billingDuration": "P1Y" if yearly else "P1M", "unitCode": "ANN" if yearly else "MON",
            "unitText": "year" if yearly else "month"}
    elif listing.pricing_model == PricingModel.USAGE:
        # Nothing to pay up front; each unit of use is charged.
        unit = listing.unit_name or "unit"
        unit_price = _price(listing.shown_price, currency)
        found["priceSpecification"] = {
            "@type": "UnitPriceSpecification", "price": unit_price,
            "priceCurrency": currency, "unitText": unit}
        described = f"{unit_price} {currency} per {unit}"
        if listing.plan_count > 1:
            described = f"from {described}, by plan"
        elif listing.included_units:
            described += f"; the first {listing.included_units:,} included each month"
        found["description"] = described
    if listing.trial_days and listing.pricing_model != PricingModel.FREE:
        trial = f"{listing.trial_days}-day free trial"
        found["description"] = f"{found['description']}; {trial}" if "description" in found \
            else trial
    return found


def software_application(listing: Listing, partner: Partner, category: Category,
                         summary: dict, screenshots: list[Screenshot],
                         version: str | None = None) -> dict:
    """The listing as a schema.org ``SoftwareApplication``; ``aggregateRating`` only
    when it has published reviews (``summary`` is ``listings.services.rating_summary``)."""
    url = public_url("storefront.listing", slug=listing.slug)
    organization = {"@type": "Organization", "name": partner.name}
    if partner.website_url:
        organization["url"] = partner.website_url
    data: dict = {
        "@context": "https://schema.org",
        "@type": "SoftwareApplication",
        "name": listing.name,
        "description": listing.tagline,
        "url": url,
        "image": listing_image_url(listing, screenshots),
        "applicationCategory": application_category(category),
        "applicationSubCategory": category.name,
        "operatingSystem": "Web",
        "publisher": organization,
        "offers": offer(listing, url),
    }
    if screenshots:
        data["screenshot"] = [public_url("storefront.screenshot", filename=shot.filename)
                              for shot in screenshots]
    if version:
        data["softwareVersion"] = version
    if summary["count"]:
        data["aggregateRating"] = {"@type": "AggregateRating",
                                   "ratingValue": summary["average"],
                                   "ratingCount": summary["count"],
                                   "bestRating": 5, "worstRating": 1}
    return data


def json_ld_script(data: dict) -> Markup:
    """``data`` as a ``<script type="application/ld+json">`` element whose text no
    user-written value can end early: "<", ">" and "&" are JSON escapes."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).translate(_SCRIPT_SAFE)
    return Markup(f'<script type="application/ld+json">{text}</script>')


def listing_json_ld(listing: Listing, partner: Partner, category: Category, summary: dict,
                    screenshots: list[Screenshot], version: str | None = None) -> Markup:
    """The listing page's JSON-LD; nothing for a delisted app, which is not on offer."""
    if listing.status != ListingStatus.PUBLISHED:
        return Markup("")
    return json_ld_script(software_application(listing, partner, category, summary,
                                               screenshots, version))
