"""``core.routing.BuiltOnFirstUseRule``: every route of the app builds the URL
werkzeug's own rule builds, and compiles its builder only when a URL is built."""

from __future__ import annotations

import pytest
from werkzeug.routing import BuildError, IntegerConverter, Map, PathConverter, Rule

from core.routing import BuiltOnFirstUseRule

# A value for each kind of converter our routes use, awkward where it can be.
SAMPLE_VALUES = [(IntegerConverter, 7), (PathConverter, "some/path with space")]
ANY_STRING = "ünï code/&?#%"


@pytest.fixture(scope="module")
def url_map(tmp_path_factory):
    from app import create_app

    folder = tmp_path_factory.mktemp("rules")
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{folder / 'r.db'}",
                      "UPLOAD_FOLDER": str(folder)})
    return app.url_map


def werkzeugs_own(url_map: Map) -> Map:
    """The same routes as plain werkzeug rules, which compile their builders at once."""
    return Map([Rule(rule.rule, endpoint=rule.endpoint, defaults=rule.defaults,
                     methods=rule.methods, strict_slashes=rule.strict_slashes)
                for rule in url_map.iter_rules()], converters=url_map.converters)


def sample_values(rule: Rule) -> dict:
    converters = rule._converters  # noqa: SLF001  (where werkzeug keeps them)
    return {name: next((value for kind, value in SAMPLE_VALUES
                        if isinstance(converters.get(name), kind)), ANY_STRING)
            for name in rule.arguments}


def test_every_route_builds_what_werkzeugs_rule_builds(url_map):
    ours = url_map.bind("bazaar.test", script_name="/market")
    theirs = werkzeugs_own(url_map).bind("bazaar.test", script_name="/market")
    routes = [rule for rule in url_map.iter_rules() if rule.endpoint != "static"]
    assert len(routes) > 100 and all(isinstance(rule, BuiltOnFirstUseRule) for rule in routes)
    for rule in routes:
        values = sample_values(rule)
        for extra in ({}, {"page": 2, "q": "a b&c"}):  # unknown values go to the query string
            built = ours.build(rule.endpoint, {**values, **extra}, force_external=True)
            assert built == theirs.build(rule.endpoint, {**values, **extra},
                                         force_external=True), rule.rule


def test_a_route_missing_a_value_refuses_to_build_as_before(url_map):
    ours = url_map.bind("bazaar.test")
    with pytest.raises(BuildError):
        ours.build("storefront.listing", {})
    with pytest.raises(BuildError):
        ours.build("storefront.listing", {"slug": None})


def test_the_builder_is_compiled_when_a_url_is_first_built(monkeypatch):
    compiled = []
    original = Rule._compile_builder  # noqa: SLF001

    def counting(self, append_unknown=True):
        compiled.append((self.rule, append_unknown))
        return original(self, append_unknown)

    monkeypatch.setattr(Rule, "_compile_builder", counting)
    rule = BuiltOnFirstUseRule("/apps/<slug>", endpoint="listing")
    adapter = Map([rule]).bind("bazaar.test")
    assert compiled == []  # werkzeug's rule has compiled two builders by now
    assert adapter.build("listing", {"slug": "one"}) == "/apps/one"
    assert adapter.build("listing", {"slug": "two"}) == "/apps/two"
    assert adapter.build("listing", {"slug": "x", "q": "y"}) == "/apps/x?q=y"
    assert compiled == [("/apps/<slug>", True)]  # once, and only the one used
