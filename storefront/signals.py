"""The public signals of a listing page (docs/ranking.md): how many workspaces
use the app, as a band; when it was last updated; its version history.

The anonymous listing page is kept per catalog version (docs/caching.md).
Releases are tracked models, so a new release shows at once; installs are not
(an install per page view would empty the cache), so a band may lag until the
next change to the catalog, which is fine for a figure as rough as a band.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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

