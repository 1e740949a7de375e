"""The collection editor: find apps as you type (JSON) or with the plain search
form, add with a button, rename with a unique address, delete after a
confirmation page, preview as customers see it; each change in the audit log."""

from __future__ import annotations

import re

import pytest
from sqlmodel import func, select

from accounts.models import Role
from listings.models import AuditEvent, Collection, CollectionItem, ListingStatus
from tests import factories


@pytest.fixture
def editor(db, login):
    user = factories.make_user(db, role=Role.EDITOR, name="Elena Ruiz")
    login(user)
    return user


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", response.get_data(as_text=True)))


def items(db, collection) -> list[int]:
    db.expire_all()
    return list(db.exec(select(CollectionItem.listing_id)
                        .where(CollectionItem.collection_id == collection.id)
                        .order_by(CollectionItem.position)).all())


def actions(db) -> list[str]:
    db.expire_all()
    return list(db.exec(select(AuditEvent.action).order_by(AuditEvent.id)).all())


def test_search_as_you_type_finds_published_apps_only(client, db, editor):
    cards = factories.make_listing(db, name="Rival Cards", tagline="Cards for teams")
    factories.make_listing(db, name="Card Draft", status=ListingStatus.DRAFT)
    factories.make_listing(db, name="Calm Notes")
    collection = factories.make_collection(db, [cards])

    answer = client.get(f"/editor/collections/{collection.id}/search?q=card")

    assert answer.status_code == 200 and answer.is_json
    found = answer.get_json()["results"]
    assert [app["name"] for app in found] == ["Rival Cards"]
    assert found[0]["added"] is True and found[0]["id"] == cards.id
    assert client.get(f"/editor/collections/{collection.id}/search?q=c").get_json() == {"results": []}


def test_without_js_the_search_form_lists_apps_with_add_buttons(client, db, editor):
    calm = factories.make_listing(db, name="Calm Notes")
    collection = factories.make_collection(db, [])

    page = client.get(f"/editor/collections/{collection.id}?q=calm")
    html = page.get_data(as_text=True)

    assert page.status_code == 200
    assert "Calm Notes" in html
    assert f'name="listing_id" value="{calm.id}"' in html
    assert f'action="/editor/collections/{collection.id}/add' in html
    assert "js/collection-picker.js" in html


def test_add_puts_the_app_last_and_is_audited(client, db, editor):
    first, second = factories.make_listing(db, name="Alpha"), factories.make_listing(db, name="Beta")
    collection = factories.make_collection(db, [first], name="Spring picks")

    response = client.post(f"/editor/collections/{collection.id}/add",
                           data={"listing_id": str(second.id)}, follow_redirects=True)

    assert "“Beta” added to “Spring picks”." in text_of(response)
    assert items(db, collection) == [first.id, second.id]
    assert actions(db) == ["collection.listing_added"]
    log = text_of(client.get("/editor/audit"))
    assert "Elena Ruiz added Beta to the collection Spring picks" in log


@pytest.mark.parametrize("kind,message", [
    ("missing", "That app does not exist (any more). Search for it again."),
    ("draft", "“Draft App” is not published; only published apps can be in a collection."),
    ("present", "“Alpha” is already in this collection."),
    ("garbage", "Choose an app from the search results."),
])
def test_adding_a_wrong_app_says_why_and_changes_nothing(client, db, editor, kind, message):
    alpha = factories.make_listing(db, name="Alpha")
    draft = factories.make_listing(db, name="Draft App", status=ListingStatus.DRAFT)
    collection = factories.make_collection(db, [alpha])
    listing_id = {"missing": "99999", "draft": str(draft.id), "present": str(alpha.id),
                  "garbage": "abc"}[kind]

    response = client.post(f"/editor/collections/{collection.id}/add", data={"listing_id": listing_id})

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert 'role="alert"' in response.get_data(as_text=True)
    assert items(db, collection) == [alpha.id]
    assert actions(db) == []


def test_rename_changes_name_address_and_public_page(client, db, editor):
    alpha = factories.make_listing(db, name="Alpha")
    collection = factories.make_collection(db, [alpha], name="Old name")
    old_slug = collection.slug

    response = client.post(f"/editor/collections/{collection.id}/rename", data={
        "name": "Winter picks", "slug": "winter-picks", "description": "Cosy apps."},
        follow_redirects=True)

    assert "The collection is “Winter picks” at /collections/winter-picks." in text_of(response)
    assert client.get("/collections/winter-picks").status_code == 200
    assert "Winter picks" in text_of(client.get("/collections/winter-picks"))
    assert client.get(f"/collections/{old_slug}").status_code == 404
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "collection.renamed")).one()
    assert event.detail["old_name"] == "Old name" and event.detail["slug"] == "winter-picks"
    assert "Elena Ruiz renamed the collection “Old name”" in text_of(client.get("/editor/audit"))


@pytest.mark.parametrize("slug,message", [
    ("taken-slug", "The collection “Taken” already uses the address “taken-slug”; choose another."),
    ("Not A Slug!", "Use lowercase letters, digits and single hyphens"),
    ("", "Give the collection an address, e.g. spring-picks."),
])
def test_rename_refuses_a_taken_or_malformed_address(client, db, editor, slug, message):
    taken = factories.make_collection(db, [], name="Taken")
    taken.slug = "taken-slug"
    db.add(taken)
    db.commit()
    collection = factories.make_collection(db, [], name="Mine")

    response = client.post(f"/editor/collections/{collection.id}/rename",
                           data={"name": "Mine again", "slug": slug})

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(Collection, collection.id).name == "Mine"
    assert actions(db) == []


def test_delete_asks_first_then_deletes_and_keeps_the_apps(client, db, editor):
    alpha = factories.make_listing(db, name="Alpha")
    collection = factories.make_collection(db, [alpha], name="Doomed")
    collection_id = collection.id

    question = client.get(f"/editor/collections/{collection.id}/delete")
    assert question.status_code == 200
    words = text_of(question)
    assert "Delete the collection “Doomed”?" in words and "It holds 1 app" in words
    assert db.exec(select(func.count()).select_from(Collection)).one() == 1

    response = client.post(f"/editor/collections/{collection.id}/delete", follow_redirects=True)

    assert "Collection “Doomed” deleted." in text_of(response)
    db.expire_all()
    assert db.exec(select(func.count()).select_from(Collection)).one() == 0
    assert db.exec(select(func.count()).select_from(CollectionItem)).one() == 0
    assert db.get(type(alpha), alpha.id).status == ListingStatus.PUBLISHED
    assert "Elena Ruiz deleted the collection Doomed" in text_of(client.get("/editor/audit"))
    assert client.get(f"/editor/collections/{collection_id}/delete").status_code == 404


def test_preview_shows_the_public_page_with_published_apps_only(client, db, editor):
    shown = factories.make_listing(db, name="Shown App")
    gone = factories.make_listing(db, name="Gone App", status=ListingStatus.DELISTED)
    collection = factories.make_collection(db, [shown, gone], name="Spring picks")

    preview = text_of(client.get(f"/editor/collections/{collection.id}/preview"))

    assert "Preview." in preview and "A collection chosen by our editors." in preview
    assert "Shown App" in preview and "Gone App" not in preview
    assert actions(db) == []


NEW_ROUTES = [
    ("GET", "/editor/collections/{id}/search?q=ab"),
    ("POST", "/editor/collections/{id}/add"),
    ("POST", "/editor/collections/{id}/rename"),
    ("GET", "/editor/collections/{id}/delete"),
    ("POST", "/editor/collections/{id}/delete"),
    ("GET", "/editor/collections/{id}/preview"),
]


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.PARTNER])
def test_non_editors_get_403_on_every_new_route(client, db, login, role):
    alpha = factories.make_listing(db, name="Alpha")
    collection = factories.make_collection(db, [], name="Kept")
    login(factories.make_user(db, role=role))
    for method, url in NEW_ROUTES:
        response = client.open(url.format(id=collection.id), method=method,
                               data={"listing_id": str(alpha.id), "name": "x", "slug": "x"})
        assert response.status_code == 403, (method, url)
    assert items(db, collection) == [] and actions(db) == []
    assert db.get(Collection, collection.id).name == "Kept"
