"""URL converters shared by every blueprint."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter


class DatabaseIdConverter(IntegerConverter):
    """``<int:...>`` for database ids: a number past a 32-bit id column can't name
    a row, so the route answers 404 instead of a database error."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)
