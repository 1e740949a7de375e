"""The partner portal: a partner's listings, releases, screenshots and replies.

A partner only ever sees its own objects (anything else is 404), bad input is
answered with a message beside the field and status 400, and nothing is
written on failure.
"""

import io
import re
from pathlib import Path

import pytest
from sqlmodel import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from accounts.models import Role
from listings.models import Listing, ListingStatus, Partner, Release, Review, Screenshot
from tests import factories


@pytest.fixture
def partner_user(db):
    return factories.make_user(db, role=Role.PARTNER)


@pytest.fixture
def partner(db, partner_user):
    return db.get(Partner, partner_user.partner_id)


@pytest.fixture
def category(db):
    return factories.make_category(db, name="Sales tools")


@pytest.fixture
def signed_in(login, partner_user):
    login(partner_user)
    return partner_user


def count(db, model) -> int:
    return db.exec(select(func.count()).select_from(model)).one()


def listing_form(category, **changes) -> dict:
    data = {
        "name": "Pipeline Pal", "slug": "", "tagline": "Keeps your deals moving",
        "category_id": str(category.id), "description": "**Pipeline Pal** nudges your team.",
        "tags": "CRM, sales, crm", "pricing_model": "flat_monthly", "currency": "usd",
        "monthly_price": "19.99", "unit_name": "", "unit_price": "", "included_units": "0",
        "trial_days": "14", "website_url": "https://pipelinepal.example.com",
        "support_url": "https://pipelinepal.example.com/help", "privacy_url": "",
        "data_residency": ["us", "eu"],
    }
    data.update(changes)
    return data


def release_form(**changes) -> dict:
    data = {"version": "1.0.0", "changelog": "First release.",
            "redirect_url": "https://app.example.com/installed"}
    data.update(changes)
    return data


def page(response) -> str:
    return response.get_data(as_text=True)


# --- dashboard ------------------------------------------------------------------------


def test_dashboard_shows_own_listings_with_status_and_latest_release(client, db, signed_in,
                                                                     partner):
    mine = factories.make_listing(db, partner=partner, status=ListingStatus.PUBLISHED,
                                  name="Mine Published")
    factories.make_release(db, mine, version="1.1.0", review_status="pending")
    factories.make_listing(db, partner=partner, status=ListingStatus.DRAFT, with_release=False,
                           name="Mine Draft")
    factories.make_listing(db, name="Someone Else's App")

    response = client.get("/partner/")
    assert response.status_code == 200
    html = page(response)
    assert "Mine Published" in html and "Mine Draft" in html
    assert "Someone Else" not in html
    assert 'class="status status-published"' in html
    assert 'class="status status-draft"' in html
    assert "1.1.0" in html and "No release yet" in html
    assert 'href="/partner/listings/new"' in html


@pytest.mark.parametrize("path", ["/partner/", "/partner/listings/new"])
def test_visitors_are_sent_to_sign_in_and_customers_refused(client, db, login, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/account/login" in response.location
    login(factories.make_user(db, role=Role.CUSTOMER))
    assert client.get(path).status_code == 403


def test_customer_cannot_create_a_listing(client, db, login, category):
    login(factories.make_user(db, role=Role.CUSTOMER))
    response = client.post("/partner/listings/new", data=listing_form(category))
    assert response.status_code == 403
    assert count(db, Listing) == 0


# --- creating and editing listings ----------------------------------------------------


def test_create_listing_stores_a_draft_with_exact_prices(client, db, signed_in, partner, category):
    assert client.get("/partner/listings/new").status_code == 200
    response = client.post("/partner/listings/new", data=listing_form(category))
    assert response.status_code == 302

    listing = db.exec(select(Listing)).one()
    assert response.location.endswith(f"/partner/listings/{listing.id}")
    assert listing.slug == "pipeline-pal"  # derived from the name
    assert listing.status == ListingStatus.DRAFT
    assert listing.partner_id == partner.id and listing.category_id == category.id
    assert listing.monthly_price == 1999 and listing.currency == "usd"
    assert listing.tags == ["crm", "sales"]
    assert listing.data_residency == ["us", "eu"]
    assert listing.trial_days == 14
    assert listing.privacy_url is None

    detail = page(client.get(response.location))
    assert "Pipeline Pal" in detail and "$19.99" in detail and "Submit for review" in detail


def test_create_usage_priced_listing_with_chosen_slug(client, db, signed_in, category):
    response = client.post("/partner/listings/new", data=listing_form(
        category, slug="pal-metered", pricing_model="usage", monthly_price="", unit_name="message",
        unit_price="0.05", included_units="1000"))
    assert response.status_code == 302
    listing = db.exec(select(Listing)).one()
    assert listing.slug == "pal-metered"
    assert (listing.unit_name, listing.unit_price, listing.included_units) == ("message", 5, 1000)


@pytest.mark.parametrize("price,status,stored", [("1500", 302, 1500), ("15.5", 400, None)])
def test_zero_decimal_currency_prices_are_whole_units(client, db, signed_in, category,
                                                     price, status, stored):
    response = client.post("/partner/listings/new",
                           data=listing_form(category, currency="jpy", monthly_price=price))
    assert response.status_code == status
    if stored is None:
        assert "JPY prices have no decimals." in page(response)
        assert count(db, Listing) == 0
    else:
        assert db.exec(select(Listing)).one().monthly_price == stored


@pytest.mark.parametrize("changes,message", [
    ({"monthly_price": "19.999"}, "Use at most two decimals, like 19.99."),
    ({"monthly_price": "-1"}, "A price cannot be negative."),
    ({"monthly_price": "abc"}, "Enter a number, like 19.99."),
    ({"monthly_price": "19,99"}, "Enter a number, like 19.99."),
    ({"monthly_price": "1e999999999"}, "That price is too large."),
    ({"monthly_price": "NaN"}, "Enter a number, like 19.99."),
    ({"monthly_price": "0"}, "A flat monthly plan needs a price above zero."),
    ({"pricing_model": "usage", "unit_price": "0.10"}, "A usage-based plan needs a unit name."),
    ({"name": ""}, "Enter a name."),
    ({"name": "x" * 81}, "Name must be at most 80 characters."),
    ({"tagline": "x" * 141}, "Tagline must be at most 140 characters."),
    ({"website_url": "javascript:alert(1)"}, "Website must be a full http:// or https:// address."),
    ({"support_url": "pipelinepal.example.com"},
     "Support page must be a full http:// or https:// address."),
    ({"slug": "Not A Slug"}, "Use lowercase letters, digits and single hyphens."),
    ({"currency": "dollars"}, "Currency must be at most 3 characters."),
    ({"currency": "u$d"}, "Currency must be a three-letter ISO currency code."),
    ({"trial_days": "365"}, "Free trial (days) must be between 0 and 90 days."),
    ({"trial_days": "soon"}, "Not a valid integer value."),
    ({"data_residency": ["mars"]}, "not a valid choice"),
    ({"category_id": "999999"}, "Not a valid choice."),
])
def test_create_listing_refuses_bad_input_and_writes_nothing(client, db, signed_in, category,
                                                             changes, message):
    response = client.post("/partner/listings/new", data=listing_form(category, **changes))
    assert response.status_code == 400
    assert message in page(response)
    assert 'class="error"' in page(response)
    assert count(db, Listing) == 0


def test_money_message_sits_beside_the_price_field(client, db, signed_in, category):
    response = client.post("/partner/listings/new",
                           data=listing_form(category, monthly_price="19.999", name=""))
    html = page(response)
    # Both problems reported at once, each beside its own field.
    assert 'id="monthly_price-error">Use at most two decimals, like 19.99.' in html
    assert 'id="name-error">Enter a name.' in html


def test_duplicate_slug_is_refused(client, db, signed_in, category):
    factories.make_listing(db, slug="pipeline-pal")
    response = client.post("/partner/listings/new", data=listing_form(category))
    assert response.status_code == 400
    assert 'id="slug-error">The slug &#39;pipeline-pal&#39; is taken; choose another.' in page(response)
    assert count(db, Listing) == 1


def test_edit_listing_prefills_and_saves(client, db, signed_in, partner, category):
    listing = factories.make_listing(db, partner=partner, status=ListingStatus.DRAFT,
                                     pricing_model="flat_monthly", monthly_price=1999,
                                     name="Old Name", slug="old-name")
    form = page(client.get(f"/partner/listings/{listing.id}/edit"))
    assert 'value="19.99"' in form and 'value="Old Name"' in form
    assert 'name="slug"' not in form

    response = client.post(f"/partner/listings/{listing.id}/edit", data=listing_form(
        category, name="New Name", slug="hijacked-slug", monthly_price="25"))
    assert response.status_code == 302
    db.refresh(listing)
    assert listing.name == "New Name"
    assert listing.slug == "old-name"  # not editable
    assert listing.monthly_price == 2500 and listing.category_id == category.id


def test_edit_listing_bad_input_changes_nothing(client, db, signed_in, partner, category):
    listing = factories.make_listing(db, partner=partner, status=ListingStatus.DRAFT,
                                     name="Keep Me")
    response = client.post(f"/partner/listings/{listing.id}/edit",
                           data=listing_form(category, name="Changed", monthly_price="1.234"))
    assert response.status_code == 400
    assert "Use at most two decimals" in page(response)
    db.refresh(listing)
    assert listing.name == "Keep Me"


def test_listing_in_review_cannot_be_edited(client, db, signed_in, partner, category):
    listing = factories.make_listing(db, partner=partner, status=ListingStatus.IN_REVIEW,
                                     name="Waiting")
    response = client.post(f"/partner/listings/{listing.id}/edit",
                           data=listing_form(category, name="Sneaky"))
    assert response.status_code == 302
    assert "its details are locked" in page(client.get(response.location))
    db.refresh(listing)
    assert listing.name == "Waiting"


# --- another partner's objects answer 404 ---------------------------------------------


@pytest.fixture
def others(db, category):
    """Partner B's listing with a screenshot and a published review."""
    listing = factories.make_listing(db, status=ListingStatus.DRAFT, category=category)
    shot = factories.save(db, Screenshot(listing_id=listing.id, filename=f"{listing.id}-x.png",
                                         content_type="image/png", width=10, height=10))
    review = factories.make_review(db, listing)
    return listing, shot, review


@pytest.mark.parametrize("method,path", [
    ("get", "/partner/listings/{lid}"),
    ("get", "/partner/listings/{lid}/edit"),
    ("post", "/partner/listings/{lid}/edit"),
    ("post", "/partner/listings/{lid}/submit"),
    ("post", "/partner/listings/{lid}/screenshots"),
    ("get", "/partner/listings/{lid}/screenshots/{sid}"),
    ("post", "/partner/listings/{lid}/screenshots/{sid}/delete"),
    ("get", "/partner/listings/{lid}/releases/new"),
    ("post", "/partner/listings/{lid}/releases/new"),
    ("post", "/partner/reviews/{rid}/reply"),
])
def test_another_partners_objects_are_not_found(client, db, signed_in, category, others,
                                                method, path):
    listing, shot, review = others
    url = path.format(lid=listing.id, sid=shot.id, rid=review.id)
    data = {**listing_form(category, name="Hijacked"), **release_form(), "body": "Hijacked",
            "image": (io.BytesIO(factories.image_bytes()), "x.png")}
    response = getattr(client, method)(url, data=data if method == "post" else None)
    assert response.status_code == 404
    db.refresh(listing)
    db.refresh(review)
    assert listing.name != "Hijacked" and listing.status == ListingStatus.DRAFT
    assert review.reply_body is None
    assert count(db, Screenshot) == 1 and count(db, Release) == 1


def test_screenshot_of_another_listing_is_not_found_through_own_listing(client, db, signed_in,
                                                                       partner, others):
    mine = factories.make_listing(db, partner=partner, status=ListingStatus.DRAFT)
    _, shot, _ = others
    assert client.post(f"/partner/listings/{mine.id}/screenshots/{shot.id}/delete").status_code == 404
    assert count(db, Screenshot) == 1


# --- screenshots ----------------------------------------------------------------------


@pytest.fixture
def draft(db, partner):
    return factories.make_listing(db, partner=partner, status=ListingStatus.DRAFT,
                                  with_release=False, name="Drafty")


def upload(client, listing, data: bytes, filename: str = "shot.png", caption: str = "Dashboard"):
    # Encoded in memory: Werkzeug's test client spools big bodies to a temp
    # file it never closes, which the warnings-as-errors setting turns into a failure.
    image = FileStorage(io.BytesIO(data), filename=filename, content_type="image/png")
    boundary, body = encode_multipart({"image": image, "caption": caption})
    return client.post(f"/partner/listings/{listing.id}/screenshots", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def stored_files(app) -> list[Path]:
    folder = Path(app.config["UPLOAD_FOLDER"]) / "screenshots"
    return list(folder.iterdir()) if folder.exists() else []


def test_png_screenshot_is_stored_shown_and_deletable(app, client, db, signed_in, draft):
    response = upload(client, draft, factories.image_bytes("PNG", (64, 48)))
    assert response.status_code == 302

    shot = db.exec(select(Screenshot)).one()
    assert (shot.listing_id, shot.width, shot.height, shot.caption) == (draft.id, 64, 48, "Dashboard")
    assert stored_files(app) == [Path(app.config["UPLOAD_FOLDER"]) / "screenshots" / shot.filename]

    detail = page(client.get(f"/partner/listings/{draft.id}"))
    thumb = f"/partner/listings/{draft.id}/screenshots/{shot.id}"
    assert f'src="{thumb}"' in detail and 'alt="Dashboard"' in detail
    with client.get(thumb) as image:
        assert image.status_code == 200 and image.mimetype == "image/png"
        assert image.data == factories.image_bytes("PNG", (64, 48))

    response = client.post(f"/partner/listings/{draft.id}/screenshots/{shot.id}/delete")
    assert response.status_code == 302
    assert count(db, Screenshot) == 0 and stored_files(app) == []


@pytest.mark.parametrize("data,filename,message", [
    (b"just some text, honestly", "notes.png", "The screenshot must be a PNG, JPEG or WebP image."),
    (factories.image_bytes("PNG", (5000, 10)), "wide.png", "at most 4096 pixels on a side"),
    (factories.image_bytes("GIF", (10, 10)), "anim.png", "The screenshot must be a PNG, JPEG or WebP image."),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * (5 * 1024 * 1024), "huge.png", "The screenshot must be smaller than 5 MB."),
    (b"", "", "Choose a PNG, JPEG or WebP image to upload."),
])
def test_bad_screenshots_are_refused_and_nothing_is_stored(app, client, db, signed_in, draft,
                                                           data, filename, message):
    response = upload(client, draft, data, filename)
    assert response.status_code == 400
    html = page(response)
    assert 'class="error" id="image-error"' in html and message in html
    assert count(db, Screenshot) == 0
    assert stored_files(app) == []


def test_overlong_caption_is_refused(app, client, db, signed_in, draft):
    response = upload(client, draft, factories.image_bytes(), caption="x" * 201)
    assert response.status_code == 400
    assert 'id="caption-error">A caption must be at most 200 characters.' in page(response)
    assert count(db, Screenshot) == 0 and stored_files(app) == []


# --- releases -------------------------------------------------------------------------


def test_release_with_scopes_is_stored_as_manifest(client, db, signed_in, draft):
    form = page(client.get(f"/partner/listings/{draft.id}/releases/new"))
    assert 'value="contacts:read"' in form and 'name="why_contacts_read"' in form
    response = client.post(f"/partner/listings/{draft.id}/releases/new", data=release_form(
        scopes=["contacts:read", "messages:send"],
        why_contacts_read="To greet your contacts by name.",
        why_messages_send="To send the follow-up emails you schedule."))
    assert response.status_code == 302

    release = db.exec(select(Release)).one()
    assert release.listing_id == draft.id and release.review_status == "pending"
    assert release.scopes == [
        {"scope": "contacts:read", "justification": "To greet your contacts by name."},
        {"scope": "messages:send", "justification": "To send the follow-up emails you schedule."},
    ]
    detail = page(client.get(f"/partner/listings/{draft.id}"))
    assert "Version 1.0.0" in detail and "To greet your contacts by name." in detail


@pytest.mark.parametrize("changes,message", [
    ({"scopes": ["contacts:read"]},
     'id="why_contacts_read-error">Every scope needs a justification the customer will read.'),
    ({"why_deals_read": "To show deals."},
     'id="why_deals_read-error">Tick this scope to request it, or clear the justification.'),
    ({"scopes": ["root:everything"]}, "Unknown scope &#39;root:everything&#39;."),
    ({"version": "v1"}, 'id="version-error">Use semantic versioning, like 1.4.0.'),
    ({"redirect_url": ""}, 'id="redirect_url-error">Enter a redirect URL.'),
    ({"redirect_url": "ftp://x"}, "Redirect URL must be a full http:// or https:// address."),
    ({"changelog": "x" * 5001}, "What changed must be at most 5000 characters."),
])
def test_bad_release_is_refused_and_nothing_written(client, db, signed_in, draft, changes, message):
    response = client.post(f"/partner/listings/{draft.id}/releases/new",
                           data=release_form(**changes))
    assert response.status_code == 400
    assert message in page(response)
    assert count(db, Release) == 0


def test_duplicate_release_version_is_refused(client, db, signed_in, draft):
    factories.make_release(db, draft, version="1.0.0", review_status="pending")
    response = client.post(f"/partner/listings/{draft.id}/releases/new", data=release_form())
    assert response.status_code == 400
    assert 'id="version-error">Version 1.0.0 already exists.' in page(response)
    assert count(db, Release) == 1


def test_release_of_published_listing_waits_for_review(client, db, signed_in, partner):
    listing = factories.make_listing(db, partner=partner, status=ListingStatus.PUBLISHED)
    form = page(client.get(f"/partner/listings/{listing.id}/releases/new"))
    assert "waits for an editor" in form and "version 1.0.0" in form
    # The form starts from the live manifest: its URLs, ticked scopes and their reasons.
    assert 'value="https://app.example.com/installed"' in form
    assert re.search(r'<input[^>]*checked[^>]*value="contacts:read"|'
                     r'<input[^>]*value="contacts:read"[^>]*checked', form)
    assert 'value="To show contact names in the app."' in form
    response = client.post(f"/partner/listings/{listing.id}/releases/new",
                           data=release_form(version="1.1.0"))
    assert response.status_code == 302
    assert "waiting for an editor" in page(client.get(response.location))
    new = db.exec(select(Release).where(Release.version == "1.1.0")).one()
    assert new.review_status == "pending"


def test_rejected_release_shows_the_editors_reason(client, db, signed_in, partner):
    listing = factories.make_listing(db, partner=partner, status=ListingStatus.PUBLISHED)
    release = factories.make_release(db, listing, version="2.0.0", review_status="rejected")
    release.review_note = "The webhook scope is not justified."
    factories.save(db, release)
    assert "The webhook scope is not justified." in page(client.get(f"/partner/listings/{listing.id}"))


# --- submitting and the editor's decision ---------------------------------------------


def test_submit_without_release_is_refused_with_message(client, db, signed_in, draft):
    response = client.post(f"/partner/listings/{draft.id}/submit")
    assert response.status_code == 302
    assert "Add a release with its manifest before submitting." in page(client.get(response.location))
    db.refresh(draft)
    assert draft.status == ListingStatus.DRAFT


def test_submit_with_release_puts_listing_in_review(client, db, signed_in, partner):
    listing = factories.make_listing(db, partner=partner, status=ListingStatus.DRAFT)
    response = client.post(f"/partner/listings/{listing.id}/submit")
    assert response.status_code == 302
    db.refresh(listing)
    assert listing.status == ListingStatus.IN_REVIEW
    html = page(client.get(response.location))
    assert 'class="status status-in_review"' in html and "Submit for review" not in html


def test_rejected_listing_shows_editors_reason(client, db, signed_in, partner):
    listing = factories.make_listing(db, partner=partner, status=ListingStatus.DRAFT,
                                     review_note="Screenshots show another product.")
    html = page(client.get(f"/partner/listings/{listing.id}"))
    assert "Changes requested:</strong> Screenshots show another product." in html


def test_published_listing_shows_published_date(client, db, signed_in, partner):
    listing = factories.make_listing(db, partner=partner, status=ListingStatus.PUBLISHED)
    html = page(client.get(f"/partner/listings/{listing.id}"))
    assert f"Published on {listing.published_at.strftime('%-d %b %Y')}" in html


# --- replies to reviews ---------------------------------------------------------------


def test_reply_to_review_is_stored_and_shown(client, db, signed_in, partner):
    listing = factories.make_listing(db, partner=partner)
    review = factories.make_review(db, listing, title="Great for sales teams")
    assert "Great for sales teams" in page(client.get(f"/partner/listings/{listing.id}"))

    response = client.post(f"/partner/reviews/{review.id}/reply", data={"body": "Thank you!"})
    assert response.status_code == 302
    db.refresh(review)
    assert review.reply_body == "Thank you!" and review.replied_at is not None
    html = page(client.get(response.location))
    assert "Your reply is published." in html and "Thank you!" in html


@pytest.mark.parametrize("status,body,message", [
    ("published", "   ", "Write a reply."),
    ("published", "x" * 3001, "A reply must be at most 3,000 characters."),
    ("pending", "Thanks", "Only published reviews can be answered."),
])
def test_bad_reply_is_refused(client, db, signed_in, partner, status, body, message):
    listing = factories.make_listing(db, partner=partner)
    review = factories.make_review(db, listing, status=status)
    response = client.post(f"/partner/reviews/{review.id}/reply", data={"body": body})
    assert response.status_code == 302
    assert message in page(client.get(response.location))
    db.refresh(review)
    assert review.reply_body is None


def test_reply_to_missing_review_is_not_found(client, db, signed_in):
    assert client.post("/partner/reviews/999999/reply", data={"body": "Hi"}).status_code == 404
    assert count(db, Review) == 0


class TestWithCsrf:
    @pytest.fixture
    def app_overrides(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_forms_carry_csrf_tokens_and_posts_without_one_are_refused(
            self, client, db, partner_user, partner):
        login_page = client.get("/account/login")
        assert login_page.status_code == 200
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                          page(login_page)).group(1)
        signed_in = client.post("/account/login", data={
            "email": partner_user.email, "password": factories.PASSWORD, "csrf_token": token})
        assert signed_in.status_code == 302
        listing = factories.make_listing(db, partner=partner, status=ListingStatus.DRAFT)
        factories.make_review(db, listing)
        detail = page(client.get(f"/partner/listings/{listing.id}"))
        assert detail.count('name="csrf_token"') >= 4  # sign out, submit, upload, reply
        assert 'name="csrf_token"' in page(client.get("/partner/listings/new"))
        assert client.post(f"/partner/listings/{listing.id}/submit").status_code == 400
        db.refresh(listing)
        assert listing.status == ListingStatus.DRAFT
