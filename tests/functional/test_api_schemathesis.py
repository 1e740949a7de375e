"""The Partner API against its own OpenAPI document, fuzzed by Schemathesis.

Schemathesis reads ``/api/v1/openapi.json`` from the app (through WSGI, no
server), generates requests for every operation, sends them with a valid API
key, and checks each answer: never a server error, a status code, content
type, headers and body the document describes, valid data accepted and invalid
data refused (https://schemathesis.readthedocs.io/en/stable/reference/checks/).
The number of cases is bounded, so the run takes seconds, not minutes.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from accounts.models import Role
from listings.models import Partner
from tests import factories

# Cases per generation mode: valid requests, then requests the document forbids.
CASES_PER_MODE = 100
# Schemathesis' configuration, as its TOML file would hold it
# (https://schemathesis.readthedocs.io/en/stable/reference/configuration/).
CONFIG = {
    # Unknown query parameters are ignored, as HTTP APIs commonly do, so adding
    # one makes no invalid request; and the test sends its own key, so the
    # Authorization header is not generated (the 401s have tests of their own).
    "generation": {"allow-extra-parameters": False, "with-security-parameters": False},
    "operations": [{
    # A token of the right shape that Bazaar did not sign is refused with the
    # documented 400 (token-invalid): valid JSON, not a valid token.
    "include-operation-id": "redeemInstallToken",
    "checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "400", "401", "409",
                                                                  "410", "429"]}},
}, {
    # A usage batch is judged event by event (docs/api.md): a batch with a bad event
    # is answered 200 with that event under "rejected"; the test checks it is there.
    "include-operation-id": "recordUsage",
    "checks": {"negative_data_rejection": {"expected-statuses": ["200", "400", "401", "409",
                                                                 "413", "415", "429"]}},
}]}


@pytest.fixture
def api_key(db):
    """The plaintext key of a usage-priced listing that has an install."""
    listing = factories.make_listing(db, pricing_model="usage", unit_name="call", unit_price=5)
    owner = factories.make_user(db, Role.PARTNER, partner=db.get(Partner, listing.partner_id))
    _key, plaintext = factories.make_api_key(db, listing, created_by=owner)
    factories.make_install(db, factories.make_workspace(db, factories.make_user(db)), listing)
    return plaintext


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_partner_api_answers_as_its_openapi_document_says(app, api_key, mode):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app,
                                            config=schemathesis.Config.from_dict(CONFIG))
    # identity: schemathesis's WSGI transport reads a compressed body without decoding it
    # (an HTTP client would); compression itself is tested in test_catalog_cache.
    headers = {"Authorization": f"Bearer {api_key}", "Accept-Encoding": "identity"}

    # The fixtures above are built once for all cases; Hypothesis is told so.
    @settings(max_examples=CASES_PER_MODE, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(case=schema.as_strategy(generation_mode=mode))
    def check(case):
        response = case.call_and_validate(headers=headers)
        if mode == GenerationMode.NEGATIVE and response.status_code == 200:
            assert case.operation.path == "/api/v1/usage", case.as_curl_command()
            assert response.json()["rejected"], "a batch breaking the document was kept whole"

    check()
