"""API keys: creation, authentication, the active-key limit, rotation and revocation."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlmodel import select

from accounts.models import Role
from api.models import ApiKey
from api.services import (
    MAX_ACTIVE_KEYS,
    ROTATION_GRACE,
    ApiKeyError,
    KeyState,
    authenticate,
    create_api_key,
    key_state,
    revoke_api_key,
    rotate_api_key,
)
from core.db import utcnow
from tests import factories


@pytest.fixture
def listing(db):
    return factories.make_listing(db)


@pytest.fixture
def partner_user(db, listing):
    from listings.models import Partner

    return factories.make_user(db, Role.PARTNER, partner=db.get(Partner, listing.partner_id))


def test_key_is_shown_once_and_only_its_hash_is_stored(db, listing, partner_user):
    key, plaintext = create_api_key(db, listing, partner_user, "  Production ")
    db.commit()

    assert re.fullmatch(r"bzk_[0-9a-f]{8}_[A-Za-z0-9_-]{43}", plaintext)
    assert plaintext.split("_")[1] == key.prefix
    stored = db.exec(select(ApiKey)).one()
    assert stored.key_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    secret = plaintext.split("_", 2)[2]
    assert all(secret not in str(value) for value in stored.model_dump().values())
    assert stored.label == "Production"
    assert stored.created_by_id == partner_user.id


def test_authenticate_accepts_the_key_and_refuses_near_misses(db, listing, partner_user):
    key, plaintext = create_api_key(db, listing, partner_user, "Production")
    db.commit()

    assert authenticate(db, plaintext).id == key.id
    assert authenticate(db, plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")) is None
    assert authenticate(db, plaintext.replace(key.prefix, "0" * 8)) is None
    for junk in (None, "", "bzk", "bzk__secret", "sk_live_abc", plaintext.upper()):
        assert authenticate(db, junk) is None


def test_last_used_is_written_at_most_once_a_minute(db, listing, partner_user):
    key, plaintext = create_api_key(db, listing, partner_user, "Production")
    start = utcnow()

    authenticate(db, plaintext, now=start)
    assert key.last_used_at == start
    authenticate(db, plaintext, now=start + timedelta(seconds=30))
    assert key.last_used_at == start
    authenticate(db, plaintext, now=start + timedelta(seconds=61))
    assert key.last_used_at == start + timedelta(seconds=61)


def test_revoked_key_stops_at_once(db, listing, partner_user):
    key, plaintext = create_api_key(db, listing, partner_user, "Production")
    revoke_api_key(db, key)
    db.commit()

    assert authenticate(db, plaintext) is None
    assert key_state(key) == KeyState.REVOKED
    with pytest.raises(ApiKeyError, match="already revoked"):
        revoke_api_key(db, key)


def test_rotation_keeps_the_old_key_for_the_grace_period(db, listing, partner_user):
    old, old_plaintext = create_api_key(db, listing, partner_user, "Production")
    now = utcnow()

    new, new_plaintext = rotate_api_key(db, old, partner_user, now=now)
    db.commit()

    assert new.label == "Production" and new.id != old.id
    assert key_state(old, now) == KeyState.RETIRING
    assert authenticate(db, old_plaintext, now=now + ROTATION_GRACE - timedelta(minutes=1)).id == old.id
    assert authenticate(db, old_plaintext, now=now + ROTATION_GRACE) is None
    assert authenticate(db, new_plaintext, now=now + ROTATION_GRACE).id == new.id
    with pytest.raises(ApiKeyError, match="already replaced"):
        rotate_api_key(db, old, partner_user, now=now)


def test_revoking_a_retiring_key_stops_it_before_the_grace_ends(db, listing, partner_user):
    old, old_plaintext = create_api_key(db, listing, partner_user, "Production")
    rotate_api_key(db, old, partner_user)
    revoke_api_key(db, old)

    assert authenticate(db, old_plaintext) is None


def test_a_listing_has_at_most_five_active_keys(db, listing, partner_user):
    keys = [create_api_key(db, listing, partner_user, f"Key {n}")[0] for n in range(MAX_ACTIVE_KEYS)]

    with pytest.raises(ApiKeyError, match=f"at most {MAX_ACTIVE_KEYS} active keys"):
        create_api_key(db, listing, partner_user, "One too many")
    # Rotating at the limit works: the replaced key is on its way out.
    rotate_api_key(db, keys[0], partner_user)
    revoke_api_key(db, keys[1])
    create_api_key(db, listing, partner_user, "After a revocation")
    # Another listing has its own allowance.
    create_api_key(db, factories.make_listing(db), partner_user, "Elsewhere")


@pytest.mark.parametrize("label, message", [("   ", "Give the key a name"),
                                            ("x" * 81, "at most 80 characters")])
def test_label_is_required_and_bounded(db, listing, partner_user, label, message):
    with pytest.raises(ApiKeyError, match=message):
        create_api_key(db, listing, partner_user, label)
