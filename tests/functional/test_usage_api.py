"""POST /api/v1/usage through HTTP: validation per event, idempotency, batch limits, keys."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import func, select

from accounts.models import Role, Workspace
from api.models import ApiKey
from billing.models import UsageEvent, UsageStatus
from core.db import utcnow
from installs.models import Install
from listings.models import Listing, Partner
from tests import factories
from tests.saved_state import built_once, loaded

PROBLEM = "application/problem+json"
URL = "/api/v1/usage"


def build_world(app, db) -> dict:
    """A usage-priced listing with a key, and an install of it made 40 days ago: their
    ids, and the key as the partner got it."""
    listing = factories.make_usage_listing(db)
    owner = factories.make_user(db, Role.PARTNER, partner=db.get(Partner, listing.partner_id))
    key, plaintext = factories.make_api_key(db, listing, created_by=owner)
    workspace = factories.make_workspace(db, factories.make_user(db))
    install = factories.make_install(db, workspace, listing)
    install.created_at = utcnow() - timedelta(days=40)
    factories.save(db, install)
    return {"listing": listing.id, "key": key.id, "plaintext": plaintext,
            "install": install.id, "workspace": workspace.id}


saved_world, database_url = built_once(build_world)


@pytest.fixture
def world(db, saved_world):
    return loaded(db, saved_world[0], {"listing": Listing, "key": ApiKey, "install": Install,
                                       "workspace": Workspace})


def auth(plaintext: str) -> dict:
    return {"Authorization": f"Bearer {plaintext}"}


def stamp(moment: datetime) -> str:
    return moment.isoformat()


def event(world, event_id: str = "e-1", **fields) -> dict:
    values = {"event_id": event_id, "install_id": world.install.id, "quantity": 3,
              "timestamp": stamp(utcnow() - timedelta(minutes=1))}
    values.update(fields)
    return values


def post(client, world, events, plaintext=None):
    return client.post(URL, json={"events": events}, headers=auth(plaintext or world.plaintext))


def stored(db, listing) -> list[UsageEvent]:
    db.expire_all()
    return list(db.exec(select(UsageEvent).where(UsageEvent.listing_id == listing.id)
                        .order_by(UsageEvent.id)).all())


def assert_problem(response, status: int, type_: str = "about:blank") -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status and body["type"] == type_ and body["detail"]
    return body


def test_valid_events_are_stored_pending_for_the_outbox(client, db, world):
    moment = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    in_paris = moment.astimezone(ZoneInfo("Europe/Paris"))
    response = post(client, world, [event(world, "a", quantity=5, timestamp=stamp(in_paris)),
                                    event(world, "b", quantity=1,
                                          timestamp=moment.strftime("%Y-%m-%dT%H:%M:%SZ"))])
    assert response.status_code == 200
    assert response.get_json() == {"accepted": 2, "duplicates": 0, "rejected": []}
    rows = stored(db, world.listing)
    assert [(r.event_id, r.quantity, r.install_id, r.status) for r in rows] == [
        ("a", 5, world.install.id, UsageStatus.PENDING), ("b", 1, world.install.id, "pending")]
    # Kept as the same instant in UTC, whatever zone the app wrote it in.
    assert all(r.occurred_at.replace(tzinfo=UTC) == moment for r in rows)


def _other_listings_install(db, world):
    other = factories.make_usage_listing(db)
    return factories.make_install(db, world.workspace, other).id


BAD_EVENTS = [
    ("event_id missing", {"event_id": None}, "event_id is required"),
    ("event_id empty", {"event_id": ""}, "event_id is required"),
    ("event_id too long", {"event_id": "x" * 101}, "longer than 100"),
    ("event_id not printable", {"event_id": "a\nb"}, "printable"),
    ("event_id a number", {"event_id": 7}, "event_id is required"),
    ("install_id missing", {"install_id": None}, "install_id is required"),
    ("install_id a string", {"install_id": "5"}, "install_id is required"),
    ("install unknown", {"install_id": 999999}, "install 999999 was not found"),
    # Beyond what an id column holds: judged, never sent to the database.
    ("install_id huge", {"install_id": 10**30}, f"install {10**30} was not found"),
    ("install_id past 64 bits", {"install_id": 2**63}, f"install {2**63} was not found"),
    ("install_id zero", {"install_id": 0}, "install 0 was not found"),
    ("quantity zero", {"quantity": 0}, "quantity must be a whole number from 1 to 1,000,000,000"),
    ("quantity negative", {"quantity": -4}, "quantity must be a whole number"),
    ("quantity a float", {"quantity": 1.5}, "quantity must be a whole number"),
    ("quantity a string", {"quantity": "3"}, "quantity must be a whole number"),
    ("quantity a boolean", {"quantity": True}, "quantity must be a whole number"),
    ("quantity too large", {"quantity": 10**9 + 1}, "quantity must be a whole number"),
    ("timestamp missing", {"timestamp": None}, "timestamp is required"),
    ("timestamp words", {"timestamp": "yesterday"}, "not an ISO 8601"),
    ("timestamp without zone", {"timestamp": "2030-01-01T00:00:00"}, "needs a time and a zone"),
    ("timestamp a date only", {"timestamp": "2030-01-01"}, "needs a time and a zone"),
    ("timestamp a number", {"timestamp": 1700000000}, "timestamp is required"),
    # The first and last instants Python can hold, shifted out of range by their zone.
    ("timestamp year 1", {"timestamp": "0001-01-01T00:30:00+01:00"}, "more than 35 days old"),
    ("timestamp year 9999", {"timestamp": "9999-12-31T23:59:59-05:00"},
     "more than 5 minutes in the future"),
]


@pytest.mark.parametrize("change,reason", [case[1:] for case in BAD_EVENTS],
                         ids=[case[0] for case in BAD_EVENTS])
def test_each_bad_event_is_reported_by_index_and_the_good_ones_are_kept(client, db, world,
                                                                           change, reason):
    bad = event(world, "bad")
    for name, value in change.items():
        if value is None:
            del bad[name]
        else:
            bad[name] = value
    response = post(client, world, [event(world, "good-1"), bad, event(world, "good-2")])
    assert response.status_code == 200
    body = response.get_json()
    assert body["accepted"] == 2 and body["duplicates"] == 0
    [rejection] = body["rejected"]
    assert rejection["index"] == 1
    assert rejection["event_id"] == (bad.get("event_id") if isinstance(bad.get("event_id"), str)
                                     else None)
    assert reason in rejection["reason"]
    assert [r.event_id for r in stored(db, world.listing)] == ["good-1", "good-2"]


def test_an_event_that_is_not_an_object_is_rejected(client, db, world):
    body = post(client, world, ["not an event", event(world)]).get_json()
    assert body["accepted"] == 1
    assert body["rejected"] == [{"index": 0, "event_id": None,
                                 "reason": "each event must be a JSON object."}]


def test_another_listings_install_reads_as_not_found(client, db, world):
    other_install = _other_listings_install(db, world)
    body = post(client, world, [event(world, install_id=other_install)]).get_json()
    assert body["accepted"] == 0
    assert body["rejected"][0]["reason"] == f"install {other_install} was not found for this app."
    assert stored(db, world.listing) == []


def test_quantity_and_event_id_at_their_limits_are_accepted(client, db, world):
    response = post(client, world, [event(world, "x" * 100, quantity=10**9)])
    assert response.get_json() == {"accepted": 1, "duplicates": 0, "rejected": []}
    assert stored(db, world.listing)[0].quantity == 10**9


def test_timestamps_at_the_limits(client, db, world):
    now = utcnow()
    events = [
        event(world, "old-enough", timestamp=stamp(now - timedelta(days=35) + timedelta(minutes=2))),
        event(world, "too-old", timestamp=stamp(now - timedelta(days=35, minutes=1))),
        event(world, "soon", timestamp=stamp(now + timedelta(minutes=4))),
        event(world, "too-far-ahead", timestamp=stamp(now + timedelta(minutes=6))),
    ]
    body = post(client, world, events).get_json()
    assert body["accepted"] == 2
    assert [(r["index"], r["event_id"]) for r in body["rejected"]] == [(1, "too-old"),
                                                                      (3, "too-far-ahead")]
    assert "more than 35 days old" in body["rejected"][0]["reason"]
    assert "more than 5 minutes in the future" in body["rejected"][1]["reason"]


def test_usage_only_while_the_install_was_in_place(client, db, world):
    from installs.services import revoke_install

    revoke_install(db, world.install, now=utcnow() - timedelta(hours=1))
    db.commit()
    body = post(client, world, [event(world, "before", timestamp=stamp(utcnow() - timedelta(hours=2))),
                                event(world, "after", timestamp=stamp(utcnow()))]).get_json()
    assert body["accepted"] == 1
    assert body["rejected"][0]["event_id"] == "after"
    assert "had ended (uninstalled)" in body["rejected"][0]["reason"]


def test_usage_before_the_install_existed_is_rejected(client, db, world):
    fresh = factories.make_install(db, factories.make_workspace(db, factories.make_user(db)),
                                   world.listing)
    body = post(client, world, [event(world, install_id=fresh.id,
                                      timestamp=stamp(utcnow() - timedelta(days=2)))]).get_json()
    assert body["accepted"] == 0
    assert "did not exist yet" in body["rejected"][0]["reason"]


def test_a_retried_batch_counts_once(client, db, world):
    events = [event(world, f"e-{n}") for n in range(5)]
    assert post(client, world, events).get_json() == {"accepted": 5, "duplicates": 0,
                                                      "rejected": []}
    retry = post(client, world, [*events, event(world, "e-new")]).get_json()
    assert retry == {"accepted": 1, "duplicates": 5, "rejected": []}
    assert len(stored(db, world.listing)) == 6


def test_a_repeated_event_id_within_a_batch_counts_once(client, db, world):
    body = post(client, world, [event(world, "same", quantity=2),
                                event(world, "same", quantity=9)]).get_json()
    assert body == {"accepted": 1, "duplicates": 1, "rejected": []}
    assert [r.quantity for r in stored(db, world.listing)] == [2]


def test_the_same_event_id_on_two_listings_is_two_events(client, db, world):
    other = factories.make_usage_listing(db)
    _, other_key = factories.make_api_key(db, other)
    other_install = factories.make_install(db, world.workspace, other)
    assert post(client, world, [event(world, "shared")]).get_json()["accepted"] == 1
    body = post(client, world, [event(world, "shared", install_id=other_install.id)],
                plaintext=other_key).get_json()
    assert body["accepted"] == 1


def test_concurrent_retries_of_a_batch_count_once(app, db, world):
    events = [event(world, f"c-{n}") for n in range(50)]
    answers = []
    start = threading.Barrier(4)

    def send():
        client = app.test_client()
        start.wait()
        answers.append(post(client, world, events).get_json())

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(answers) == 4
    assert sum(a["accepted"] for a in answers) == 50
    assert sum(a["duplicates"] for a in answers) == 150
    assert len(stored(db, world.listing)) == 50


def test_a_full_batch_of_1000_is_accepted(client, db, world):
    events = [event(world, f"bulk-{n}", quantity=n + 1) for n in range(1000)]
    body = post(client, world, events).get_json()
    assert body == {"accepted": 1000, "duplicates": 0, "rejected": []}
    count = db.exec(select(func.count()).select_from(UsageEvent)
                    .where(UsageEvent.listing_id == world.listing.id)).one()
    assert count == 1000


def test_a_batch_of_1001_is_refused_whole(client, db, world):
    events = [event(world, f"bulk-{n}") for n in range(1001)]
    body = assert_problem(post(client, world, events), 413, "urn:bazaar:problem:batch-too-large")
    assert "at most 1000 events" in body["detail"] and "1001" in body["detail"]
    assert stored(db, world.listing) == []


@pytest.mark.parametrize("kwargs", [
    {"data": "not json", "content_type": "application/json"},
    {"data": '{"events": [', "content_type": "application/json"},
    {"json": {"event": []}},
    {"json": {"events": "all of them"}},
    {"json": [{"event_id": "a"}]},
    {"data": "events=1"},
])
def test_a_body_without_an_events_list_is_400(client, world, kwargs):
    body = assert_problem(client.post(URL, headers=auth(world.plaintext), **kwargs), 400)
    assert '"events"' in body["detail"]


def test_an_empty_batch_is_400(client, world):
    body = assert_problem(post(client, world, []), 400)
    assert "empty" in body["detail"]


def test_a_listing_not_priced_by_usage_cannot_report_usage(client, db, world):
    listing = factories.make_listing(db)  # free
    _, plaintext = factories.make_api_key(db, listing)
    body = assert_problem(post(client, world, [event(world)], plaintext=plaintext), 409,
                          "urn:bazaar:problem:usage-not-metered")
    assert "not priced by usage" in body["detail"]


@pytest.mark.parametrize("header", [None, "Basic abc", "Bearer bzk_00000000_nope"])
def test_missing_or_wrong_key_is_401(client, db, world, header):
    headers = {"Authorization": header} if header else {}
    response = client.post(URL, json={"events": [event(world)]}, headers=headers)
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert stored(db, world.listing) == []


def test_revoked_key_is_401(client, db, world):
    from api.services import revoke_api_key

    revoke_api_key(db, world.key)
    db.commit()
    assert_problem(post(client, world, [event(world)]), 401)
    assert stored(db, world.listing) == []


def test_a_signed_in_partner_without_a_key_is_401(client, db, login, world):
    owner = factories.make_user(db, Role.PARTNER, partner=db.get(Partner, world.listing.partner_id))
    login(owner)
    assert_problem(client.post(URL, json={"events": [event(world)]}), 401)


def test_get_is_a_problem_405(client, world):
    response = client.get(URL, headers=auth(world.plaintext))
    assert_problem(response, 405)
    assert response.headers["Allow"] == "OPTIONS, POST"
