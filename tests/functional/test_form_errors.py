"""Forms that speak: after a failed post, an error summary at the top of the page.

GOV.UK's error summary pattern
(https://design-system.service.gov.uk/components/error-summary/): a box headed
"There is a problem" before the form, listing each problem as a link to its
field, focused on load (by static/js/error-summary.js), with the same specific
message beside the field.
"""

from __future__ import annotations

import io
from html.parser import HTMLParser

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from accounts.models import Role
from listings.models import ListingStatus, Partner, ReviewStatus
from tests import factories


class SummaryParser(HTMLParser):
    """The error summary's links (href, text) and where it sits in <main>."""

    def __init__(self):
        super().__init__()
        self.summary_attrs: dict | None = None
        self.depth = 0  # nesting inside the summary, 0 when outside
        self.links: list[list[str]] = []
        self.items: list[str] = []
        self.heading = ""
        self._in_heading = False
        self._in_item = False
        self.forms_before_summary = 0  # forms of the main content above the summary
        self.in_main = False
        self.field_ids: set[str] = set()
        self.described: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.field_ids.add(attrs["id"])
        if attrs.get("aria-describedby") and attrs.get("id"):
            self.described[attrs["id"]] = attrs["aria-describedby"]
        if self.summary_attrs is None and "data-error-summary" in attrs:
            self.summary_attrs = attrs
            self.depth = 1
            return
        if tag == "main":
            self.in_main = True
        if self.summary_attrs is None and tag == "form" and self.in_main:
            self.forms_before_summary += 1
        if self.depth:
            self.depth += 1
            if tag in ("h2", "h3"):
                self._in_heading = True
            if tag == "li":
                self._in_item = True
                self.items.append("")
            if tag == "a":
                self.links.append([attrs.get("href", ""), ""])

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1
            if tag in ("h2", "h3"):
                self._in_heading = False
            if tag == "li":
                self._in_item = False

    def handle_data(self, data):
        if self.depth:
            if self._in_heading:
                self.heading += data
            if self._in_item:
                self.items[-1] += data
            if self.links and self._in_item:
                self.links[-1][1] += data


def summary_of(response) -> SummaryParser:
    parser = SummaryParser()
    parser.feed(response.get_data(as_text=True))
    assert parser.summary_attrs is not None, "no error summary on the page"
    return parser


def assert_summary(parser: SummaryParser, expected: dict[str, str]) -> None:
    """The summary is an alert, focusable, titled, and links each field id to its message."""
    assert parser.summary_attrs.get("role") == "alert"
    assert parser.summary_attrs.get("tabindex") == "-1"
    assert parser.heading.strip() == "There is a problem"
    links = {href: " ".join(text.split()) for href, text in parser.links}
    for field_id, message in expected.items():
        assert links.get(f"#{field_id}") == message, links
        # The link goes somewhere: the field exists, and its own message is tied to it.
        assert field_id in parser.field_ids
    text = response_text = " ".join(" ".join(parser.items).split())
    assert "Please correct the highlighted fields" not in response_text
    assert text


def test_failed_review_post_shows_summary_before_the_reviews(client, db, login):
    listing = factories.make_listing(db)
    login(factories.make_installer(db, listing))
    response = client.post(f"/apps/{listing.slug}/reviews", data={"title": ""})
    assert response.status_code == 400
    parser = summary_of(response)
    assert_summary(parser, {"rating-0": "Choose a rating from 1 to 5 stars.",
                            "title": "Enter a title for your review."})
    # At the top of the page, not 2,750 px down beside the form.
    html = response.get_data(as_text=True)
    assert html.index("data-error-summary") < html.index('id="ratings"')
    assert parser.described.get("title") == "title-error"


def test_failed_registration_shows_summary_with_specific_messages(client, db):
    response = client.post("/account/register", data={
        "display_name": "", "email": "not-an-address", "password": "short", "confirm": "other"})
    assert response.status_code == 400
    parser = summary_of(response)
    assert_summary(parser, {
        "display_name": "Enter your name.",
        "email": "Enter an email address in the correct format, like name@example.com.",
        "password": "The password must be at least 10 characters.",
        "confirm": "The passwords do not match.",
    })
    assert parser.forms_before_summary == 0


def test_failed_sign_in_lists_missing_fields(client, db):
    response = client.post("/account/login", data={"email": "", "password": ""})
    parser = summary_of(response)
    assert_summary(parser, {"email": "Enter your email address.",
                            "password": "Enter your password."})


@pytest.fixture
def partner_user(db):
    return factories.make_user(db, role=Role.PARTNER)


def test_failed_partner_listing_save_shows_summary(client, db, login, partner_user):
    login(partner_user)
    category = factories.make_category(db)
    response = client.post("/partner/listings/new", data={
        "name": "", "slug": "", "tagline": "", "category_id": str(category.id),
        "description": "", "tags": "", "pricing_model": "flat_monthly", "currency": "usd",
        "monthly_price": "19.999", "included_units": "0", "trial_days": "0"})
    assert response.status_code == 400
    parser = summary_of(response)
    assert_summary(parser, {"name": "Enter a name.", "tagline": "Enter a tagline.",
                            "monthly_price": "Use at most two decimals, like 19.99."})
    assert parser.forms_before_summary == 0


def test_failed_screenshot_upload_shows_summary_at_the_top(client, db, login, partner_user):
    login(partner_user)
    listing = factories.make_listing(db, partner=db.get(Partner, partner_user.partner_id),
                                     status=ListingStatus.DRAFT, with_release=False)
    image = FileStorage(io.BytesIO(factories.image_bytes("GIF", (10, 10))), filename="a.png",
                        content_type="image/png")
    boundary, body = encode_multipart({"image": image, "caption": ""})
    response = client.post(f"/partner/listings/{listing.id}/screenshots", data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 400
    parser = summary_of(response)
    assert_summary(parser, {"image": "The screenshot must be a PNG, JPEG or WebP image."})
    # Before every other form of the page (submit for review, the releases...).
    assert parser.forms_before_summary == 0
    assert parser.described.get("image") == "image-error"


def test_form_level_error_is_in_the_summary(client, db, login):
    """A problem with the whole post (not one field) is listed too, without a link."""
    listing = factories.make_listing(db)
    user = factories.make_installer(db, listing)
    factories.make_review(db, listing, author=user, status=ReviewStatus.PENDING)
    login(user)
    response = client.post(f"/apps/{listing.slug}/reviews", data={"rating": "1", "title": "Again"})
    assert response.status_code == 400
    parser = summary_of(response)
    assert parser.summary_attrs.get("role") == "alert"
    assert [" ".join(item.split()) for item in parser.items] == [
        "You have already reviewed this app."]
    assert parser.links == []


def test_successful_page_has_no_summary(client, db):
    html = client.get("/account/register").get_data(as_text=True)
    assert "data-error-summary" not in html and "There is a problem" not in html


def test_flash_messages_are_announced_by_kind(client, db, login, partner_user):
    """Success and info in one polite status region, errors in one alert region."""
    login(partner_user)
    client.get("/partner/")  # shows (and so clears) the "Welcome back" message
    listing = factories.make_listing(db, partner=db.get(Partner, partner_user.partner_id),
                                     status=ListingStatus.DRAFT, with_release=False)
    response = client.post(f"/partner/listings/{listing.id}/submit", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert html.count('role="alert"') == 1
    alert = html[html.index('role="alert"'):]
    assert "flash-error" in alert[:alert.index("</div>")]
    assert 'class="flashes" role="status"' not in html

    listing = factories.make_listing(db)
    client.post("/account/logout")
    login(factories.make_installer(db, listing))
    client.get("/")
    response = client.post(f"/apps/{listing.slug}/reviews",
                           data={"rating": "4", "title": "Good", "body": ""},
                           follow_redirects=True)
    html = response.get_data(as_text=True)
    assert html.count('role="status"') == 1
    status = html[html.index('role="status"'):]
    assert "Thank you!" in status[:status.index("</div>")]
    assert "flash-success" not in html[:html.index('role="status"')]
