"""Opening an app: a signed, short-lived, single-use install token on its redirect URL."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from accounts.models import Role, WorkspaceMember, WorkspaceRole
from core.db import utcnow
from installs.tokens import InstallTokenError, issue_install_token, redeem_install_token
from tests import factories
from tests.factories import workspace_of


@pytest.fixture
def installed(db, admin):
    listing = factories.make_listing(db)
    install = factories.make_install(db, workspace_of(db, admin), listing)
    return listing, install


def open_app(client, install):
    response = client.post(f"/my/apps/{install.id}/open")
    assert response.status_code == 303
    parts = urlsplit(response.location)
    return parts, parse_qs(parts.query)["install_token"][0]


def test_open_sends_the_customer_to_the_redirect_url_with_a_verifiable_token(
        client, db, login, admin, installed):
    listing, install = installed
    login(admin)

    parts, token = open_app(client, install)

    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://app.example.com/installed"
    db.refresh(listing)
    # The app checks the signature with its listing's secret, exactly as docs/api.md shows.
    payload_part, signature = token.split(".")
    expected = hmac.new(listing.webhook_secret.encode(), payload_part.encode(), hashlib.sha256)
    assert base64.urlsafe_b64encode(expected.digest()).rstrip(b"=").decode() == signature
    payload = json.loads(base64.urlsafe_b64decode(payload_part + "=" * (-len(payload_part) % 4)))
    assert payload["install_id"] == install.id and payload["listing"] == listing.slug
    assert payload["exp"] - payload["iat"] == 600

    assert redeem_install_token(db, listing, token).id == install.id
    db.commit()
    with pytest.raises(InstallTokenError) as reused:
        redeem_install_token(db, listing, token)
    assert reused.value.reason == "used"


def test_redirect_url_keeps_its_own_query(client, db, login, admin):
    listing = factories.make_listing(db)
    release = factories.make_release(db, listing, version="1.1.0")
    release.redirect_url = "https://app.example.com/start?region=eu"
    factories.save(db, release)
    install = factories.make_install(db, workspace_of(db, admin), listing)
    login(admin)

    parts, _token = open_app(client, install)
    assert parse_qs(parts.query)["region"] == ["eu"]


def test_forged_and_foreign_tokens_are_rejected(db, admin, installed):
    listing, install = installed
    token = issue_install_token(db, install, listing)
    db.commit()
    payload_part, signature = token.split(".")
    other = factories.make_listing(db)
    factories.make_install(db, workspace_of(db, admin), other)
    tampered_payload = base64.urlsafe_b64encode(
        json.dumps({"tid": "x", "install_id": 999}).encode()).rstrip(b"=").decode()

    for forged in [f"{payload_part}.{signature[:-2]}AA", f"{tampered_payload}.{signature}",
                   "not-a-token", "", f"{payload_part}."]:
        with pytest.raises(InstallTokenError) as error:
            redeem_install_token(db, listing, forged)
        assert error.value.reason == "invalid", forged
    issue_install_token(db, install, other)  # gives `other` a secret of its own
    with pytest.raises(InstallTokenError) as error:
        redeem_install_token(db, other, token)  # a token for another app
    assert error.value.reason == "invalid"
    # None of that used the real token up.
    assert redeem_install_token(db, listing, token).id == install.id


def test_non_ascii_tokens_are_invalid_not_errors(db, installed):
    listing, install = installed
    token = issue_install_token(db, install, listing)
    db.commit()
    payload_part, signature = token.split(".")

    for hostile in [f"é{token}", f"{token}é", f"{payload_part}.\ud800{signature}",
                    f"\ud800{payload_part}.{signature}", "١٢٣.٤٥٦", f"{payload_part}.{signature}\x00"]:
        with pytest.raises(InstallTokenError) as error:
            redeem_install_token(db, listing, hostile)
        assert error.value.reason == "invalid", ascii(hostile)
    assert redeem_install_token(db, listing, token).id == install.id


def test_expired_token_is_rejected(db, installed):
    listing, install = installed
    token = issue_install_token(db, install, listing)
    db.commit()
    with pytest.raises(InstallTokenError) as error:
        redeem_install_token(db, listing, token, now=utcnow() + timedelta(minutes=10, seconds=1))
    assert error.value.reason == "expired"


def test_members_may_open_apps_too(client, db, login, admin, installed):
    _listing, install = installed
    member = factories.make_user(db, Role.CUSTOMER)
    factories.save(db, WorkspaceMember(workspace_id=install.workspace_id, user_id=member.id,
                                       role=WorkspaceRole.MEMBER))
    login(member)
    open_app(client, install)


def test_another_workspaces_install_cannot_be_opened(client, db, login, installed):
    _listing, install = installed
    stranger = factories.make_user(db, Role.CUSTOMER)
    factories.make_workspace(db, stranger)
    login(stranger)
    assert client.post(f"/my/apps/{install.id}/open").status_code == 404
