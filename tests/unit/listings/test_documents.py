"""Search documents built from the catalog."""

from listings.documents import iter_published_documents, search_documents
from listings.models import ListingStatus, ReleaseStatus
from search.interfaces import DOCUMENT_FIELDS
from tests import factories


def test_document_carries_what_search_filters_on(db):
    listing = factories.make_listing(
        db, name="Deal Desk", description="**Approve** deals fast", trial_days=14,
        scopes=[{"scope": "deals:write", "justification": "Update deals"}])
    factories.make_release(db, listing, version="2.0.0", review_status=ReleaseStatus.PENDING,
                           scopes=[{"scope": "files:write", "justification": "Not yet approved"}])
    factories.make_review(db, listing, rating=4)
    factories.make_review(db, listing, rating=5)
    factories.make_badge(db, listing, kind="staff_pick")
    [document] = search_documents(db, [listing.id])
    assert set(document) == set(DOCUMENT_FIELDS)
    assert document["description"] == "Approve deals fast"
    assert document["scopes"] == ["deals:write"] and document["write_access"] is True
    assert (document["rating_average"], document["rating_count"]) == (4.5, 2)
    assert document["badges"] == ["staff_pick"] and document["has_trial"] is True
    assert document["installs"] == 0 and document["published_at"]


def test_installs_and_active_installs_are_counted(db):
    listing = factories.make_listing(db)
    for n in range(3):
        admin = factories.make_user(db)
        workspace = factories.make_workspace(db, admin)
        install = factories.make_install(db, workspace, listing, admin)
        if n == 0:
            install.status = "uninstalled"
            db.add(install)
            db.commit()
    [document] = search_documents(db, [listing.id])
    assert (document["installs"], document["active_installs"]) == (3, 2)


def test_only_published_listings_have_documents(db):
    published = factories.make_listing(db)
    draft = factories.make_listing(db, status=ListingStatus.DRAFT)
    assert [d["id"] for d in search_documents(db, [published.id, draft.id])] == [published.id]
    assert [d["id"] for d in iter_published_documents(db, batch_size=1)] == [published.id]
