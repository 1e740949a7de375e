"""Search: the backend interface, its OpenSearch and SQLite FTS5 implementations,
and the outbox that keeps the index in step with the database.

Built by the search issue; until then the storefront browses straight from the
database (see ``listings.services.browse``)."""
