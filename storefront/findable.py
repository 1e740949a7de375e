"""What crawlers and browsers ask a site for by name: ``/sitemap.xml`` (split
into ``/sitemaps/<n>.xml`` parts past the protocol's limit), ``/robots.txt`` and
``/favicon.ico``; and the template globals the public pages' head uses for their
canonical links, social cards and structured data (``storefront.structured_data``).

The sitemap lists the public pages and every published listing, never drafts,
listings in review, delisted or archived ones. At 100,000 listings it is
megabytes of XML, so each part is built once per catalog version and kept in the
app's cache (``listings.catalog_cache.remember``), like the catalog pages.
https://www.sitemaps.org/protocol.html
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import datetime
from math import ceil

from flask import Blueprint, Response, abort, current_app, request, send_from_directory
from sqlmodel import Session, col, func, select

from core.db import as_utc, get_session
from listings.catalog_cache import current_token, remember
from listings.models import Category, Collection, Listing, ListingStatus
from storefront.structured_data import (
    default_image_url,
    listing_image_url,
    listing_json_ld,
    public_url,
    url_builder,
)

bp = Blueprint("findable", __name__)

# URLs per sitemap file: the protocol's maximum (a file is also at most 50 MB
# uncompressed, far above 50,000 of our URLs). Above it /sitemap.xml is an index.
SITEMAP_URL_LIMIT = 50_000
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
# Paths no crawler has business in: sign-in and account pages, the partner portal,
# the editor console, admin, the Partner API, installing, posting reviews, billing,
# workspaces, invitations, autocomplete and the operators' probes. A "*" inside a
# path is a wildcard (RFC 9309 section 2.2.3): an app's install and review paths.
PRIVATE_PATHS = (
    "/account/", "/admin/", "/api/", "/apps/*/install", "/apps/*/reviews", "/billing/",
    "/editor/", "/invitations/", "/my/", "/partner/", "/search/suggest", "/workspace",
    "/healthz", "/readyz", "/metrics",
)
FAVICON_MAX_AGE = 7 * 24 * 3600

Entry = tuple[str, datetime | None]


# --- template globals for the public pages' <head> --------------------------------------


bp.add_app_template_global(public_url, "public_url")
bp.add_app_template_global(default_image_url, "default_image_url")
bp.add_app_template_global(listing_image_url, "listing_image_url")
bp.add_app_template_global(listing_json_ld, "listing_json_ld")


# --- the sitemap ------------------------------------------------------------------------


def _page_entries(session: Session, build: Callable[..., str]) -> list[Entry]:
    """The public pages other than listings: home, categories, the published
    catalog rules, each category and each editors' collection."""
    entries: list[Entry] = [(build("storefront.home"), None),
                            (build("storefront.categories"), None),
                            (build("pruning.rules"), None)]
    slugs = session.exec(select(Category.slug).order_by(Category.position, Category.id)).all()
    entries += [(build("storefront.category", slug=slug), None) for slug in slugs]
    slugs = session.exec(select(Collection.slug).order_by(Collection.position,
                                                          Collection.id)).all()
    entries += [(build("storefront.collection", slug=slug), None) for slug in slugs]
    return entries


def _published_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Listing)
                        .where(Listing.status == ListingStatus.PUBLISHED)).one()


def _listing_entries(session: Session, build: Callable[..., str], offset: int,
                     limit: int) -> list[Entry]:
    """Published listings ``offset`` onwards in id order, with when each last changed."""
    rows = session.exec(select(Listing.slug, Listing.updated_at)
                        .where(Listing.status == ListingStatus.PUBLISHED)
                        .order_by(col(Listing.id)).offset(offset).limit(limit)).all()
    return [(build("storefront.listing", slug=slug), updated_at) for slug, updated_at in rows]


def _xml(root: ET.Element) -> bytes:
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True)


def _urlset(entries: list[Entry]) -> bytes:
    root = ET.Element("urlset", xmlns=SITEMAP_NS)
    for loc, lastmod in entries:
        url = ET.SubElement(root, "url")
        ET.SubElement(url, "loc").text = loc
        if lastmod is not None:
            # W3C Datetime, as the protocol asks.
            ET.SubElement(url, "lastmod").text = as_utc(lastmod).isoformat(timespec="seconds")
    return _xml(root)


def _index(parts: int, build: Callable[..., str]) -> bytes:
    root = ET.Element("sitemapindex", xmlns=SITEMAP_NS)
    for part in range(1, parts + 1):
        ET.SubElement(ET.SubElement(root, "sitemap"), "loc").text = \
            build("findable.sitemap_part", part=part)
    return _xml(root)


def build_sitemap(session: Session, part: int | None, limit: int) -> bytes | None:
    """The sitemap (``part`` None): every URL, or an index of parts when there are
    more than ``limit``; or part ``part`` (1-based) of ``limit`` URLs. None when
    there is no such part."""
    build = url_builder()
    pages = _page_entries(session, build)
    total = len(pages) + _published_count(session)
    parts = max(1, ceil(total / limit))
    if part is None:
        if parts > 1:
            return _index(parts, build)
        part = 1
    if not 1 <= part <= parts:
        return None
    start = (part - 1) * limit
    entries = pages[start:start + limit]
    entries += _listing_entries(session, build, max(0, start - len(pages)), limit - len(entries))
    return _urlset(entries)


def _sitemap_response(part: int | None) -> Response:
    session = get_session()
    token = current_token(session)
    limit = SITEMAP_URL_LIMIT
    body = remember(token, f"sitemap:{limit}:{'index' if part is None else part}",
                    lambda: build_sitemap(session, part, limit))
    if body is None:
        abort(404)
    response = Response(body, mimetype="application/xml")
    if token is None:
        response.add_etag()
    else:
        response.set_etag(hashlib.sha256(f"{token} {limit} {part}".encode()).hexdigest()[:32])
    response.cache_control.public = True
    response.cache_control.no_cache = True
    return response.make_conditional(request)


@bp.route("/sitemap.xml")
def sitemap():
    """The sitemap, or the index of its parts when it has more than ``SITEMAP_URL_LIMIT`` URLs."""
    return _sitemap_response(None)


@bp.route("/sitemaps/<int:part>.xml")
def sitemap_part(part: int):
    """One part of a sitemap split for size."""
    return _sitemap_response(part)


# --- robots.txt and the favicon --------------------------------------------------------


@bp.route("/robots.txt")
def robots():
    """Crawlers may read the storefront, not accounts, portals or the API; where the sitemap is."""
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in PRIVATE_PATHS), "",
             f"Sitemap: {public_url('findable.sitemap')}", ""]
    return Response("\n".join(lines), mimetype="text/plain")


@bp.route("/favicon.ico")
def favicon():
    """What browsers ask for when a page names no icon (feed readers, old browsers)."""
    return send_from_directory(current_app.static_folder, "favicon.ico",
                               mimetype="image/vnd.microsoft.icon", max_age=FAVICON_MAX_AGE)
