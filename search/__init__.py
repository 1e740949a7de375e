"""Search: the backend interface, its OpenSearch and embedded implementations
(a local tantivy index, or the database's own full-text index), and the outbox
that keeps the indexes in step with the database."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from sqlalchemy.engine import make_url

from core.observability import report_dependency
from listings import catalog_cache
from listings.ports import plug_search
from search.cli import search_cli
from search.fts import EmbeddedBackend
from search.indexing import SearchIndexing
from search.models import SynonymRule
from search.opensearch import OpenSearchBackend
from search.services import SearchService
from search.sync import init_sync_sender
from search.synonym_views import bp as synonym_views_bp  # the editors' synonym page
from search.synonyms import DEFAULT_SYNONYMS_FILE, SynonymStore, load_synonym_file
from search.tantivy_backend import TantivyBackend
from search.views import bp as views_bp  # the search page and autocomplete


def init_app(app: Flask) -> None:
    """Build the search backends once, from configuration, into app.extensions."""
    # A missing or malformed list raises SynonymFileError (a ConfigError): start-up
    # stops with one line naming the file and the line.
    synonyms_file = app.config.get("SEARCH_SYNONYMS_FILE") or DEFAULT_SYNONYMS_FILE
    app.extensions["bazaar.synonyms"] = SynonymStore(app.extensions["bazaar.engine"],
                                                     load_synonym_file(synonyms_file))
    synonyms = app.extensions["bazaar.synonyms"].current  # the list in force, when asked
    # Kept search answers depend on the editors' lines too (search.services.kept_search).
    catalog_cache.track(SynonymRule)
    if app.config.get("SEARCH_EMBEDDED_INDEX") == "database":
        embedded = EmbeddedBackend(app.extensions["bazaar.engine"], synonyms=synonyms)
    else:
        embedded = TantivyBackend(index_directory(app), synonyms=synonyms)
    url = app.config.get("OPENSEARCH_URL")
    if url:
        primary = OpenSearchBackend(url, index_prefix=app.config["OPENSEARCH_INDEX"],
                                    timeout=app.config["OPENSEARCH_TIMEOUT"], synonyms=synonyms)
        app.extensions["bazaar.search"] = SearchService(primary, fallback=embedded)
    else:
        app.extensions["bazaar.search"] = SearchService(embedded)
    report_dependency(app, "search", app.extensions["bazaar.search"].primary)  # on /readyz
    init_sync_sender(app)
    # Catalog imports and the prune job tell search what their bulk statements changed.
    plug_search(app, SearchIndexing())
    app.cli.add_command(search_cli)
    app.register_blueprint(views_bp)
    app.register_blueprint(synonym_views_bp)


def index_directory(app: Flask) -> Path:
    """Where the local index lives: ``SEARCH_INDEX_DIR``, else next to a SQLite
    database file (so each database has its own index), else in the instance folder."""
    if app.config.get("SEARCH_INDEX_DIR"):
        return Path(app.config["SEARCH_INDEX_DIR"])
    url = make_url(app.config["DATABASE_URL"])
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database + ".search")
    return Path(app.instance_path) / "search-index"
