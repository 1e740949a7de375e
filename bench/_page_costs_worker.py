"""One measurement for ``bench/page-costs``, in a process of its own: the CPU time
each page kind costs the app, in-process (``app.test_client()``), for the source
tree given (this one or another revision's), against a kept ``bench/pages``
SQLite database. Prints one JSON object: ``{kind: milliseconds}``.

    python bench/_page_costs_worker.py <source tree> <database directory> rendered|kept <seed>

``rendered``: the catalog cache off, so every page is rendered (what a first visit
costs); ``kept``: each URL visited once first, then timed (what a repeat costs).
Each kind's URLs are asked over and over (about a second of CPU, at most
``ROUNDS_TARGET`` requests) and the best of ``REPEATS`` such runs is kept: the figure
least disturbed by whatever else the machine does.
"""

from __future__ import annotations

import json
import logging
import os
import random
import sqlite3
import sys
import time

ROUNDS_TARGET = 200  # requests per kind per run, at most
RUN_SECONDS = 1.0  # CPU seconds per kind per run, about
REPEATS = 3
HEADERS = {"Accept-Encoding": "gzip, br"}
WORDS = ["deals", "invoice", "crm sync", "slack", "analytics dashboard", "payroll", "email"]


def urls_by_kind(database: str, seed: int) -> dict[str, list[str]]:
    """What each page kind asks, read from the database (deterministic for a seed)."""
    connection = sqlite3.connect(database)
    categories = [row[0] for row in connection.execute(
        "SELECT slug FROM categories ORDER BY position, id")]
    collections = [row[0] for row in connection.execute(
        "SELECT slug FROM collections ORDER BY id")]
    published = [row[0] for row in connection.execute(
        "SELECT slug FROM listings WHERE status = 'published' ORDER BY id")]
    connection.close()
    chosen = random.Random(seed).sample(published, min(150, len(published)))
    return {
        "home": ["/"],
        "categories": ["/categories"],
        "category": [f"/categories/{slug}?page={page}"
                     for slug in categories[:6] for page in (1, 2)],
        "collection": [f"/collections/{slug}" for slug in collections],
        "listing": [f"/apps/{slug}" for slug in chosen],
        "search": [f"/search?q={word}" for word in WORDS],
        "search-filtered": [f"/search?q={word}&sort=rating&category={categories[0]}"
                            for word in WORDS],
        "suggest": [f"/search/suggest?q={word[:4]}" for word in WORDS],
    }


def main() -> None:
    tree, folder, mode, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    os.chdir(tree)
    sys.path.insert(0, tree)
    database = os.path.join(folder, "bazaar.db")
    os.environ.update(
        BAZAAR_ENV="local", DATABASE_URL=f"sqlite:///{database}",
        UPLOAD_FOLDER=os.path.join(folder, "uploads"),
        SEARCH_INDEX_DIR=os.path.join(folder, "bazaar.db.search"), SECRET_KEY="b" * 40,
        CATALOG_CACHE_SECONDS="0" if mode == "rendered" else "600",
        WEBHOOK_SENDER="off", USAGE_SENDER="off", SEARCH_SYNC_SENDER="off")
    logging.disable(logging.WARNING)
    from app import create_app

    app = create_app({"RATELIMIT_ENABLED": False})
    client = app.test_client()
    costs: dict[str, float] = {}
    for kind, urls in urls_by_kind(database, seed).items():
        if not urls:
            continue
        for url in urls:  # warm: imports, connections, and (kept) the cache
            client.get(url, headers=HEADERS)
        started = time.process_time()
        for url in urls:
            client.get(url, headers=HEADERS)
        # About RUN_SECONDS of CPU per run, at most ROUNDS_TARGET requests: a rendered
        # home page at 100,000 listings costs a fifth of a second.
        per_round = max(time.process_time() - started, 1e-4)
        rounds = max(1, min(ROUNDS_TARGET // len(urls), int(RUN_SECONDS / per_round)))
        best = float("inf")
        for _ in range(REPEATS):
            started = time.process_time()
            for _ in range(rounds):
                for url in urls:
                    status = client.get(url, headers=HEADERS).status_code
                    if status != 200:
                        raise SystemExit(f"{url} answered {status}")
            best = min(best, (time.process_time() - started) / (rounds * len(urls)))
        costs[kind] = round(best * 1000, 3)
    print(json.dumps(costs))


if __name__ == "__main__":
    main()
