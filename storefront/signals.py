"""The public signals of a listing page (docs/ranking.md): how many workspaces
use the app, as a band; when it was last updated; its version history; and the
address of an app's icon for every template (``listing_icon_url``).

The anonymous listing page is kept per catalog version (docs/caching.md).
Releases are tracked models, so a new release shows at once; installs are not
(an install per page view would empty the cache), so a band may lag until the
next change to the catalog, which is fine for a figure as rough as a band.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import url_for

from core.routing import repeated_url_for
from listings.models import Listing, Release

# (at least this many active installs, what the page says), largest first.
INSTALL_BANDS = ((1000, "1,000+ installs"), (100, "100+ installs"), (10, "10+ installs"))
FEWER = "Fewer than 10 installs"


def install_band(active_installs: int) -> str:
    """A rough, public figure for the number of workspaces using an app now."""
    return next((words for least, words in INSTALL_BANDS if active_installs >= least), FEWER)


def release_date(release: Release) -> datetime:
    """When a release reached customers: its approval, else when it was made."""
    return release.reviewed_at or release.created_at


@dataclass(frozen=True)
class ListingSignals:
    install_band: str
    last_updated: datetime | None
    versions: list[tuple[Release, datetime]]  # approved, newest first, with their dates


def listing_signals(listing: Listing, releases: list[Release],
                    active_installs: int) -> ListingSignals:
    """The listing page's public signals from its approved ``releases`` (newest first,
    ``listings.queries.approved_releases``, which the page reads once for its current
    version too) and the number of workspaces that have it installed now."""
    versions = [(release, release_date(release)) for release in releases]
    last_updated = versions[0][1] if versions else listing.published_at
    return ListingSignals(install_band=install_band(active_installs),
                          last_updated=last_updated, versions=versions)


def listing_icon_url(item, external: bool = False) -> str:
    """The address of a listing's icon (a ``Listing`` or a ``ListingCard``): its
    uploaded file, else its generated initials icon. A Jinja global, so every
    template (cards, the listing page, Open Graph tags) asks the same way;
    ``external=True`` for an absolute address."""
    listing = getattr(item, "listing", item)
    if listing.icon_filename:
        return url_for("storefront.icon", filename=listing.icon_filename, _external=external)
    if external:
        return url_for("storefront.generated_icon", slug=listing.slug, _external=True)
    return repeated_url_for("storefront.generated_icon", listing.slug)
