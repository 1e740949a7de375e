"""``core.routing.repeated_url_for`` gives exactly what ``url_for`` gives, for any slug,
under any prefix, and leaves to ``url_for`` what it cannot build itself."""

from __future__ import annotations

import pytest
from flask import url_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.routing import repeated_url_for

CARD_ENDPOINTS = ["storefront.listing", "storefront.category", "badges.badge",
                  "storefront.generated_icon"]
SLUGS = st.text(min_size=1, max_size=40).filter(lambda text: "\x00" not in text)


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    from app import create_app

    folder = tmp_path_factory.mktemp("urls")
    return create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{folder / 'u.db'}",
                       "UPLOAD_FOLDER": str(folder)})


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(slugs=st.lists(SLUGS, min_size=1, max_size=4), prefix=st.sampled_from(["", "/market"]))
@pytest.mark.parametrize("endpoint", CARD_ENDPOINTS)
def test_it_builds_what_url_for_builds(web, endpoint, slugs, prefix):
    with web.test_request_context("/", base_url=f"http://localhost{prefix}/"):
        for slug in [*slugs, "plain-slug", "with space", "ünïcode/and?query#frag%"]:
            assert repeated_url_for(endpoint, slug) == url_for(endpoint, slug=slug)


def test_a_slug_that_is_not_a_path_segment_goes_to_url_for(web):
    with web.test_request_context("/"):
        # No <slug> in the route: url_for puts it in the query string.
        assert repeated_url_for("storefront.home", "a b&c") == url_for("storefront.home",
                                                                        slug="a b&c")
        assert repeated_url_for("storefront.home", "x") == "/?slug=x"


def test_each_request_builds_its_own(web):
    with web.test_request_context("/", base_url="http://localhost/one/"):
        assert repeated_url_for("storefront.listing", "app") == "/one/apps/app"
    with web.test_request_context("/", base_url="http://localhost/two/"):
        assert repeated_url_for("storefront.listing", "app") == "/two/apps/app"
