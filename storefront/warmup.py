"""Warming a web process up before it takes its first visitor.

A fresh process pays once for what later requests reuse: compiling the page
templates, opening the database pool and the search index, loading the
speller's vocabulary and the synonyms, SQLAlchemy's statement caches, and the
catalog pages it then keeps. At 100,000 listings that made the first request
after a start take over 2 s. ``gunicorn.conf.py`` calls ``warm_up`` in each
worker before the worker accepts connections, so that cost is paid before the
first visitor arrives, not by them.
"""

from __future__ import annotations

import logging
import time

from flask import Flask
from sqlmodel import Session, col, select

from core.db import get_engine
from listings.models import Category, Listing, ListingStatus

log = logging.getLogger(__name__)

# What a visitor's first requests are most likely to be; each is asked once.
GENERAL_PATHS = ("/", "/categories", "/search?q=app", "/search?q=invoce+reminder",
                 "/search/suggest?q=ap")
USER_AGENT = "bazaar-warm-up"
# Asked as a browser asks (Chromium's header), so each page is kept in the encoding
# browsers take (core/http_caching.py keeps one copy, per encoding asked for).
BROWSER_ENCODINGS = "gzip, deflate, br, zstd"


def _catalog_paths(app: Flask) -> list[str]:
    """A category page and an app's page, when the catalog has them."""
    with Session(get_engine(app)) as session:
        category = session.exec(select(Category.slug).order_by(Category.position)).first()
        listing = session.exec(select(Listing.slug)
                               .where(Listing.status == ListingStatus.PUBLISHED)
                               .order_by(col(Listing.id).desc())).first()
    paths = []
    if category:
        paths.append(f"/categories/{category}")
    if listing:
        paths.append(f"/apps/{listing}")
    return paths


def warm_up(app: Flask) -> list[tuple[str, int, float]]:
    """Ask for the pages above once, in this process; returns (path, status, seconds)
    for each. Never raises: a page that fails is logged, and the process serves on."""
    done: list[tuple[str, int, float]] = []
    try:
        paths = [*GENERAL_PATHS, *_catalog_paths(app)]
    except Exception:  # noqa: BLE001  (a database not ready yet: warm what we can)
        log.warning("Warm-up could not read the catalog; warming the general pages only",
                    exc_info=True)
        paths = list(GENERAL_PATHS)
    client = app.test_client()
    for path in paths:
        started = time.perf_counter()
        try:
            status = client.get(path, headers={"User-Agent": USER_AGENT,
                                                 "Accept-Encoding": BROWSER_ENCODINGS}).status_code
        except Exception:  # noqa: BLE001
            log.warning("Warm-up request %s failed", path, exc_info=True)
            status = 0
        done.append((path, status, time.perf_counter() - started))
    log.info("Warmed up in %.2f s: %s", sum(seconds for _, _, seconds in done),
             ", ".join(f"{path} {status}" for path, status, _ in done))
    return done
