"""Search: the backend interface, its OpenSearch and embedded (SQLite FTS5 /
PostgreSQL full-text) implementations, and the outbox that keeps the index in
step with the database."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Build the search backends once, from configuration, into app.extensions."""
    from search.cli import register_cli
    from search.fts import EmbeddedBackend
    from search.services import SearchService

    embedded = EmbeddedBackend(app.extensions["bazaar.engine"])
    url = app.config.get("OPENSEARCH_URL")
    if url:
        from search.opensearch import OpenSearchBackend

        primary = OpenSearchBackend(url, index_prefix=app.config["OPENSEARCH_INDEX"],
                                    timeout=app.config["OPENSEARCH_TIMEOUT"])
        app.extensions["bazaar.search"] = SearchService(primary, fallback=embedded)
    else:
        app.extensions["bazaar.search"] = SearchService(embedded)
    from search.sync import init_sync_sender

    init_sync_sender(app)
    register_cli(app)
    from search.views import bp as views_bp  # the search page and autocomplete
    app.register_blueprint(views_bp)
