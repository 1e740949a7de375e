"""The OpenAPI document describes exactly the API's routes, and is a valid OpenAPI 3.1 document."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from api.openapi import openapi_document

IMPLICIT_METHODS = {"HEAD", "OPTIONS"}


def _api_routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        # Every /api/v1 route, whichever blueprint serves it (billing's usage API too).
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        routes |= {(method, path) for method in rule.methods - IMPLICIT_METHODS}
    return routes


def _documented_routes(document: dict) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in document["paths"].items() for method in item}


def test_document_lists_exactly_the_api_routes(app):
    assert _api_routes(app) == _documented_routes(openapi_document())


def test_every_path_parameter_is_described(app):
    for path, item in openapi_document()["paths"].items():
        names = set(re.findall(r"{([a-z_]+)}", path))
        for operation in item.values():
            described = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert described == names, path


def test_document_is_valid_openapi_3_1():
    document = openapi_document("https://bazaar.test")
    assert document["openapi"] == "3.1.0"
    validate(document)  # raises on any schema error


def test_only_the_document_itself_is_public():
    document = openapi_document()
    assert document["security"] == [{"bearerAuth": []}]
    public = {path for path, item in document["paths"].items()
              for operation in item.values() if operation.get("security") == []}
    assert public == {"/api/v1/openapi.json"}
