"""What listings ask of, and tell, the packages above them.

Listings sit below installs and search (docs/architecture.md), so they never import
them. Where the catalog needs them (how many installs a listing has, telling search
what a bulk statement changed), it asks through these two ports, which installs and
search plug in at start-up (``installs.init_app``, ``search.init_app``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from flask import Flask
from sqlalchemy import ColumnElement, Subquery
from sqlmodel import Session

from core.db import app_of

INSTALLS_KEY = "bazaar.listings.installs_port"
SEARCH_KEY = "bazaar.listings.search_port"
REVENUE_KEY = "bazaar.listings.revenue_port"


class Installs(Protocol):
    """Facts about installs the catalog's jobs need, answered by ``installs``."""

    def counts(self, session: Session, listing_ids: list[int]) -> dict[int, tuple[int, int]]:
        """{listing_id: (installs ever, active installs)}, for search documents."""

    def active_counts(self) -> Subquery:
        """(listing_id, n): active installs per listing, to rank alternatives."""

    def active_between(self, start: datetime, end: datetime) -> Subquery:
        """(listing_id, n): installs active at any time between ``start`` and ``end``."""

    def ever_installed(self, listing_id: ColumnElement) -> ColumnElement[bool]:
        """Whether the listing ``listing_id`` names was ever installed."""

    def installing_workspaces(self, session: Session,
                              listing_ids: list[int]) -> dict[int, list[int]]:
        """{listing_id: ids of the live workspaces with it installed}, to tell them."""

    def release_approved(self, session: Session, listing_id: int) -> None:
        """A listing's new release was approved: move the installs that need no new
        consent onto it (in the same transaction)."""


class Search(Protocol):
    """What search must hear about the catalog, answered by ``search``."""

    def listings_changed(self, session: Session, listing_ids: Iterable[int]) -> None:
        """Listings changed by bulk statements the ORM did not see (same transaction)."""

    def index_later(self, session: Session) -> None:
        """Don't index this transaction's changes right after its commit: the caller
        brings the indexes up to date itself (``index_now``) once its batches are in."""

    def index_now(self, app: Flask, *, progress: bool = False) -> None:
        """Apply every pending change to the indexes now (with a progress bar on a
        terminal when ``progress``); a target that is down keeps its changes queued."""


class Revenue(Protocol):
    """What the partner portal shows of the money, answered by ``billing``."""

    def net_since(self, session: Session, listing_ids: list[int],
                  since: datetime) -> dict[int, dict[str, int]]:
        """{listing_id: {currency: the partner's net booked since ``since``, minor units}},
        refunds netted; listings with nothing booked are absent. One query."""


def plug_installs(app: Flask, port: Installs) -> None:
    app.extensions[INSTALLS_KEY] = port


def plug_search(app: Flask, port: Search) -> None:
    app.extensions[SEARCH_KEY] = port


def plug_revenue(app: Flask, port: Revenue) -> None:
    app.extensions[REVENUE_KEY] = port


def _plugged(app: Flask | None, key: str, package: str):
    if app is None or key not in app.extensions:
        raise RuntimeError(f"listings needs the {package} package plugged in: make the app "
                           "with app.create_app()")
    return app.extensions[key]


def installs_port(session_or_app: Session | Flask) -> Installs:
    app = session_or_app if isinstance(session_or_app, Flask) else app_of(session_or_app)
    return _plugged(app, INSTALLS_KEY, "installs")


def search_port(session_or_app: Session | Flask) -> Search:
    app = session_or_app if isinstance(session_or_app, Flask) else app_of(session_or_app)
    return _plugged(app, SEARCH_KEY, "search")


def revenue_port(session_or_app: Session | Flask) -> Revenue:
    app = session_or_app if isinstance(session_or_app, Flask) else app_of(session_or_app)
    return _plugged(app, REVENUE_KEY, "billing")
