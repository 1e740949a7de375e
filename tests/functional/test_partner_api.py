"""The Partner API v1 through HTTP: keys, installs, install tokens, problem details,
and the partner portal's API key pages."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from sqlmodel import select

from accounts.models import Role, User, Workspace
from api.models import ApiKey
from api.openapi import openapi_document
from core.db import utcnow
from installs.models import Install, InstallToken
from installs.tokens import issue_install_token
from listings.models import Listing, Partner
from tests import factories
from tests.saved_state import built_once, loaded

PROBLEM = "application/problem+json"


def build_world(app, db) -> dict:
    """A listing with an API key, its partner member, and an install of the listing:
    their ids, and the key as the partner got it."""
    listing = factories.make_listing(db, scopes=[
        {"scope": "contacts:read", "justification": "To show contact names."},
        {"scope": "deals:write", "justification": "To update deals."},
    ])
    partner = db.get(Partner, listing.partner_id)
    owner = factories.make_user(db, Role.PARTNER, partner=partner)
    key, plaintext = factories.make_api_key(db, listing, created_by=owner)
    customer = factories.make_user(db)
    workspace = factories.make_workspace(db, customer, name="Acme Sales")
    install = factories.make_install(db, workspace, listing)
    return {"listing": listing.id, "owner": owner.id, "key": key.id, "plaintext": plaintext,
            "customer": customer.id, "workspace": workspace.id, "install": install.id}


saved_world, database_url = built_once(build_world)


@pytest.fixture
def world(db, saved_world):
    return loaded(db, saved_world[0], {"listing": Listing, "owner": User, "key": ApiKey,
                                       "customer": User, "workspace": Workspace,
                                       "install": Install})


def auth(plaintext: str) -> dict:
    return {"Authorization": f"Bearer {plaintext}"}


def assert_problem(response, status: int, type_: str = "about:blank") -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status
    assert body["type"] == type_
    assert body["title"] and body["detail"]
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    return body


def issue_token(db, install, listing) -> str:
    token = issue_install_token(db, install, listing)
    db.commit()
    return token


def redeem(client, plaintext, token):
    return client.post("/api/v1/install-tokens/redeem", json={"token": token}, headers=auth(plaintext))


# --- authentication ----------------------------------------------------------------


def test_read_install_with_its_granted_scopes(client, world):
    response = client.get(f"/api/v1/installs/{world.install.id}", headers=auth(world.plaintext))

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["id"] == world.install.id
    assert body["status"] == "active"
    assert body["granted_scopes"] == ["contacts:read", "deals:write"]
    assert body["workspace"] == {"id": world.workspace.id, "name": "Acme Sales"}
    assert body["listing"] == {"id": world.listing.id, "slug": world.listing.slug}
    assert body["release"] == "1.0.0"


@pytest.mark.parametrize("header", [
    None,                                   # no key at all
    "bzk_12345678_abcdef",                  # no scheme
    "Basic dXNlcjpwYXNz",                   # another scheme
    "Bearer",                               # scheme without a key
    "Bearer bzk_12345678_not-a-real-key",   # well-formed, unknown
    "Bearer not-even-a-bazaar-key",
])
def test_missing_malformed_or_unknown_key_is_401(client, world, header):
    headers = {"Authorization": header} if header is not None else {}
    response = client.get(f"/api/v1/installs/{world.install.id}", headers=headers)

    body = assert_problem(response, 401)
    assert "Bearer" in body["detail"] or "not valid" in body["detail"]
    assert "Acme Sales" not in response.get_data(as_text=True)


def test_wrong_secret_with_a_real_prefix_is_401(client, world):
    wrong = world.plaintext[:-4] + ("AAAA" if not world.plaintext.endswith("AAAA") else "BBBB")

    response = client.get("/api/v1/installs", headers=auth(wrong))

    assert_problem(response, 401)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize("tail", ["é", "\x00", "ÿ" * 5000])
def test_real_prefix_with_a_non_ascii_or_huge_secret_is_401(client, world, tail):
    # Header values arrive as Latin-1 text: any byte may follow a real prefix.
    prefix = world.plaintext.rsplit("_", 1)[0]

    response = client.get("/api/v1/installs", headers=auth(f"{prefix}_{tail}"))

    assert_problem(response, 401)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_revoked_key_is_401(client, db, world):
    world.key.revoked_at = utcnow()
    db.add(world.key)
    db.commit()

    assert_problem(client.get("/api/v1/installs", headers=auth(world.plaintext)), 401)


def test_a_signed_in_session_alone_never_authenticates(client, login, world):
    login(world.owner)

    response = client.get(f"/api/v1/installs/{world.install.id}")

    assert_problem(response, 401)
    assert "Set-Cookie" not in response.headers


def test_calls_record_when_the_key_was_last_used(client, db, world):
    assert world.key.last_used_at is None

    client.get("/api/v1/installs", headers=auth(world.plaintext))

    db.expire_all()
    assert db.get(ApiKey, world.key.id).last_used_at is not None


# --- installs ------------------------------------------------------------------------


def test_another_listings_install_is_404(client, db, world):
    other_install = factories.make_install(db, world.workspace, factories.make_listing(db))

    response = client.get(f"/api/v1/installs/{other_install.id}", headers=auth(world.plaintext))

    body = assert_problem(response, 404)
    assert "Acme Sales" not in response.get_data(as_text=True)
    assert str(other_install.id) in body["detail"]
    # The same answer as for an install that does not exist at all.
    for missing in (999999, 2**31, 10**30):
        assert_problem(client.get(f"/api/v1/installs/{missing}", headers=auth(world.plaintext)), 404)


def test_list_installs_filters_and_pages(client, db, world):
    second = factories.make_install(db, factories.make_workspace(db, factories.make_user(db)),
                                    world.listing, status="uninstalled")
    third = factories.make_install(db, factories.make_workspace(db, factories.make_user(db)),
                                   world.listing)
    factories.make_install(db, world.workspace, factories.make_listing(db))  # another app's
    headers = auth(world.plaintext)

    everything = client.get("/api/v1/installs", headers=headers).get_json()
    assert [i["id"] for i in everything["data"]] == [world.install.id, second.id, third.id]
    assert everything["next_cursor"] is None

    active = client.get("/api/v1/installs?status=active", headers=headers).get_json()
    assert [i["id"] for i in active["data"]] == [world.install.id, third.id]
    uninstalled = client.get("/api/v1/installs?status=uninstalled", headers=headers).get_json()
    assert [i["id"] for i in uninstalled["data"]] == [second.id]

    first_page = client.get("/api/v1/installs?limit=2", headers=headers).get_json()
    assert [i["id"] for i in first_page["data"]] == [world.install.id, second.id]
    assert first_page["next_cursor"]
    last_page = client.get(f"/api/v1/installs?limit=2&cursor={first_page['next_cursor']}",
                           headers=headers).get_json()
    assert [i["id"] for i in last_page["data"]] == [third.id]
    assert last_page["next_cursor"] is None


@pytest.mark.parametrize("query, words", [("status=deleted", "'status' must be one of"),
                                          ("limit=0", "'limit' must be a whole number"),
                                          ("limit=500", "from 1 to 100"),
                                          ("limit=ten", "'limit'"), ("limit=²", "'limit'"),
                                          ("limit=", "'limit' must be a whole number"),
                                          ("cursor=-3", "'cursor'"),
                                          ("cursor=99999999999999999999", "'cursor'")])
def test_list_installs_explains_bad_parameters(client, world, query, words):
    response = client.get(f"/api/v1/installs?{query}", headers=auth(world.plaintext))

    assert words in assert_problem(response, 400)["detail"]


@pytest.mark.parametrize("cursor", ["0", "7", "0000000001", "2147483647", "9999999999",
                                    "12345678901", "", "abc", "-3", "1.5", "0x10", " 1", "²",
                                    "١٢", "1\x00"])
def test_cursor_is_refused_exactly_when_the_openapi_document_says(client, world, cursor):
    parameter = next(p for p in openapi_document()["paths"]["/api/v1/installs"]["get"]
                     ["parameters"] if p["name"] == "cursor")
    allowed = Draft202012Validator(parameter["schema"]).is_valid(cursor)

    response = client.get("/api/v1/installs", query_string={"cursor": cursor},
                          headers=auth(world.plaintext))

    if allowed:
        assert response.status_code == 200, response.get_data(as_text=True)
    else:
        detail = assert_problem(response, 400)["detail"]
        assert "'cursor' must be the next_cursor of a previous page" in detail


# --- install tokens --------------------------------------------------------------------


def test_token_redeems_once_then_is_rejected_as_used(client, db, world):
    token = issue_token(db, world.install, world.listing)

    first = redeem(client, world.plaintext, token)
    assert first.status_code == 200
    assert first.get_json()["id"] == world.install.id
    assert first.get_json()["granted_scopes"] == ["contacts:read", "deals:write"]

    again = redeem(client, world.plaintext, token)
    body = assert_problem(again, 409, "urn:bazaar:problem:token-used")
    assert "already used" in body["detail"]


def test_expired_token_is_rejected(client, db, world):
    token = issue_token(db, world.install, world.listing)
    row = db.exec(select(InstallToken)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.add(row)
    db.commit()

    body = assert_problem(redeem(client, world.plaintext, token), 410,
                          "urn:bazaar:problem:token-expired")
    assert "expired" in body["detail"]
    db.expire_all()
    assert db.exec(select(InstallToken)).one().redeemed_at is None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _tamper_payload(token: str) -> str:
    payload_part, signature = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(payload_part + "=" * (-len(payload_part) % 4)))
    payload["install_id"] += 1
    return f"{_b64(json.dumps(payload).encode())}.{signature}"


def _tamper_signature(token: str) -> str:
    payload_part, signature = token.split(".")
    return f"{payload_part}.{signature[:-2]}{'AA' if not signature.endswith('AA') else 'BB'}"


@pytest.mark.parametrize("forge", [_tamper_signature, _tamper_payload,
                                   lambda token: token.split(".")[0],
                                   lambda token: "not-a-token"])
def test_forged_or_malformed_token_is_rejected(client, db, world, forge):
    token = issue_token(db, world.install, world.listing)

    body = assert_problem(redeem(client, world.plaintext, forge(token)), 400,
                          "urn:bazaar:problem:token-invalid")
    assert "not valid for this app" in body["detail"]
    # The real token still works: a forgery used nothing up.
    assert redeem(client, world.plaintext, token).status_code == 200


@pytest.mark.parametrize("hostile", [
    lambda token: "é" + token,                         # non-ASCII in the payload part
    lambda token: token + "é",                         # non-ASCII in the signature
    lambda token: token.replace(".", ".\ud800", 1),    # a lone surrogate (valid JSON escape)
    lambda token: "\ud800." + token.split(".")[1],
    lambda token: "١٢٣.٤٥٦",                            # Arabic-Indic digits, nothing else
])
def test_non_ascii_token_is_a_problem_400_not_a_server_error(client, db, world, hostile):
    token = issue_token(db, world.install, world.listing)

    body = assert_problem(redeem(client, world.plaintext, hostile(token)), 400,
                          "urn:bazaar:problem:token-invalid")
    assert "not valid for this app" in body["detail"]
    assert redeem(client, world.plaintext, token).status_code == 200


def test_token_of_another_listing_is_rejected(client, db, world):
    other_listing = factories.make_listing(db)
    other_install = factories.make_install(db, world.workspace, other_listing)
    token = issue_token(db, other_install, other_listing)

    assert_problem(redeem(client, world.plaintext, token), 400, "urn:bazaar:problem:token-invalid")


def test_the_documented_local_check_accepts_a_real_token(db, world):
    docs = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    snippet = re.search(r"```python\n(.*?def check_install_token.*?)```", docs, re.S).group(1)
    namespace: dict = {}
    exec(textwrap.dedent(snippet), namespace)  # the partner's code, as printed in the docs
    check = namespace["check_install_token"]
    token = issue_token(db, world.install, world.listing)

    payload = check(token, world.listing.webhook_secret)

    assert payload["install_id"] == world.install.id
    assert payload["listing"] == world.listing.slug
    with pytest.raises(ValueError, match="not signed"):
        check(_tamper_signature(token), world.listing.webhook_secret)
    with pytest.raises(ValueError, match="not signed"):
        check(token, "whsec_someone-elses-secret")
    # A hostile redirect URL must not crash the partner's app either.
    for hostile in (token + "é", "é" + token, "\ud800." + token.split(".")[1]):
        with pytest.raises(ValueError, match="not signed"):
            check(hostile, world.listing.webhook_secret)


@pytest.mark.parametrize("kwargs", [{"data": "token=abc"}, {"data": "{not json",
                                                           "content_type": "application/json"},
                                    {"json": ["abc"]}, {"json": {"token": ""}},
                                    {"json": {"token": 42}}])
def test_redeem_without_a_json_token_is_400(client, world, kwargs):
    response = client.post("/api/v1/install-tokens/redeem", headers=auth(world.plaintext), **kwargs)

    assert '{"token":' in assert_problem(response, 400)["detail"]


# --- problem details everywhere under /api/ ---------------------------------------------


def test_unknown_api_route_is_a_problem_404(client):
    response = client.get("/api/v1/no-such-thing")

    assert_problem(response, 404)
    assert "<html" not in response.get_data(as_text=True)


def test_wrong_method_is_a_problem_405_with_allow(client, world):
    response = client.delete(f"/api/v1/installs/{world.install.id}", headers=auth(world.plaintext))

    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_search_suggest_errors_keep_their_plain_json(client):
    response = client.post("/search/suggest")

    assert response.status_code == 405
    assert response.mimetype == "application/json"
    assert "error" in response.get_json()


def test_server_error_is_a_problem_without_internals(client, world, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr("api.views.install_public", broken)

    response = client.get(f"/api/v1/installs/{world.install.id}", headers=auth(world.plaintext))

    body = assert_problem(response, 500)
    assert "hunter2" not in response.get_data(as_text=True)
    assert "Traceback" not in body["detail"]


def test_openapi_document_is_public_and_describes_the_routes(client):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    assert "/api/v1/installs/{install_id}" in document["paths"]
    assert document["servers"] == [{"url": "http://bazaar.test"}]


class TestRateLimit:
    @pytest.fixture
    def app_overrides(self):
        return {"RATELIMIT_ENABLED": True, "API_RATE_LIMIT": "2 per minute"}

    def test_each_key_has_its_own_limit(self, client, db, world):
        other_key = factories.make_api_key(db, world.listing, created_by=world.owner)[1]
        statuses = [client.get("/api/v1/installs", headers=auth(world.plaintext)).status_code
                    for _ in range(3)]
        assert statuses == [200, 200, 429]

        response = client.get("/api/v1/installs", headers=auth(world.plaintext))
        body = assert_problem(response, 429)
        assert "2 per 1 minute" in body["detail"]
        assert int(response.headers["Retry-After"]) >= 1
        assert client.get("/api/v1/installs", headers=auth(other_key)).status_code == 200


# --- the partner portal's API key pages ----------------------------------------------------


def keys_url(listing) -> str:
    return f"/partner/listings/{listing.id}/api-keys"


def created_key(page: str) -> str:
    match = re.search(r'value="(bzk_[0-9a-f]{8}_[A-Za-z0-9_-]+)"', page)
    assert match, page
    return match.group(1)


def test_owner_creates_a_key_shown_once_that_works(client, db, login, world):
    login(world.owner)

    response = client.post(keys_url(world.listing), data={"label": "Staging"})

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert "will not be shown again" in page
    plaintext = created_key(page)
    # Not carried in the session cookie (a flash message would be).
    assert plaintext.split("_", 2)[2] not in response.headers.get("Set-Cookie", "")
    assert client.get("/api/v1/installs", headers=auth(plaintext)).status_code == 200

    listing_page = client.get(keys_url(world.listing)).get_data(as_text=True)
    assert "Staging" in listing_page
    assert plaintext not in listing_page
    assert f"bzk_{plaintext.split('_')[1]}_" in listing_page


def test_database_holds_only_the_hash_of_a_created_key(client, db, login, world):
    login(world.owner)

    plaintext = created_key(client.post(keys_url(world.listing), data={"label": "CI"})
                            .get_data(as_text=True))

    row = db.exec(select(ApiKey).where(ApiKey.label == "CI")).one()
    assert row.key_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    secret = plaintext.split("_", 2)[2]
    assert all(secret not in str(value) for value in row.model_dump().values())


def test_key_limit_is_explained(client, db, login, world):
    for n in range(4):
        factories.make_api_key(db, world.listing, created_by=world.owner, label=f"Key {n}")
    login(world.owner)

    response = client.post(keys_url(world.listing), data={"label": "Sixth"})

    assert response.status_code == 400
    assert "at most 5 active keys" in response.get_data(as_text=True)
    assert db.exec(select(ApiKey).where(ApiKey.label == "Sixth")).first() is None


def test_blank_label_is_refused_beside_the_field(client, db, login, world):
    login(world.owner)

    response = client.post(keys_url(world.listing), data={"label": ""})

    assert response.status_code == 400
    assert "Give the key a name" in response.get_data(as_text=True)


def test_rotation_shows_a_new_key_and_the_old_one_works_until_the_grace_ends(client, db, login,
                                                                              world):
    login(world.owner)

    response = client.post(f"{keys_url(world.listing)}/{world.key.id}/rotate")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "keeps working until" in page
    new_plaintext = created_key(page)
    assert client.get("/api/v1/installs", headers=auth(new_plaintext)).status_code == 200
    assert client.get("/api/v1/installs", headers=auth(world.plaintext)).status_code == 200
    assert "Works until" in client.get(keys_url(world.listing)).get_data(as_text=True)

    # When the grace period is over, the old key is refused.
    db.expire_all()
    old = db.get(ApiKey, world.key.id)
    old.revoked_at = utcnow() - timedelta(seconds=1)
    db.add(old)
    db.commit()
    assert_problem(client.get("/api/v1/installs", headers=auth(world.plaintext)), 401)
    assert client.get("/api/v1/installs", headers=auth(new_plaintext)).status_code == 200


def test_revoke_stops_the_key_at_once(client, db, login, world):
    login(world.owner)

    response = client.post(f"{keys_url(world.listing)}/{world.key.id}/revoke",
                           follow_redirects=True)

    assert "is revoked" in response.get_data(as_text=True)
    assert_problem(client.get("/api/v1/installs", headers=auth(world.plaintext)), 401)
    again = client.post(f"{keys_url(world.listing)}/{world.key.id}/revoke", follow_redirects=True)
    assert "already revoked" in again.get_data(as_text=True)


def test_another_partner_gets_404_and_a_customer_403(client, db, login, world):
    other_partner = factories.make_user(db, Role.PARTNER)
    other_listing = factories.make_listing(db, partner=db.get(Partner, world.listing.partner_id))
    login(other_partner)
    assert client.get(keys_url(world.listing)).status_code == 404
    assert client.post(f"{keys_url(world.listing)}/{world.key.id}/revoke").status_code == 404
    assert client.post(keys_url(world.listing), data={"label": "Mine"}).status_code == 404

    customer_client = client.application.test_client()
    customer_client.post("/account/login", data={"email": world.customer.email,
                                                  "password": factories.PASSWORD})
    assert customer_client.get(keys_url(world.listing)).status_code == 403

    # A key of one listing is not reachable through another listing of the same partner.
    owner_client = client.application.test_client()
    owner_client.post("/account/login", data={"email": world.owner.email,
                                              "password": factories.PASSWORD})
    assert owner_client.post(f"{keys_url(other_listing)}/{world.key.id}/revoke").status_code == 404
    db.expire_all()
    assert db.get(ApiKey, world.key.id).revoked_at is None


def test_listing_page_links_to_its_api_keys(client, login, world):
    login(world.owner)

    page = client.get(f"/partner/listings/{world.listing.id}").get_data(as_text=True)

    assert f'href="{keys_url(world.listing)}"' in page
