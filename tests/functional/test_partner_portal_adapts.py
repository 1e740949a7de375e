"""The partner portal adapts to the partner: the webhook endpoint is theirs to change at
once (validated, audited), a signed test event shows whether it works, the release
form's justification boxes follow the ticked scopes, the "in review" wording is true,
and the dashboard shows each listing's figures.

Every page answers only its own partner (another partner's listing is 404), and bad
input gets a message beside the field with status 400 and writes nothing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlmodel import func, select

from accounts.models import Role
from core.db import utcnow
from listings.models import AuditEvent, Listing, ListingStatus, Partner, Release
from tests import factories
from tests.sql_counting import count_queries
from tests.webhook_receiver import WebhookReceiver
from webhooks.delivery import deliver_due
from webhooks.models import WebhookDelivery
from webhooks.services import enqueue_event
from webhooks.signing import SIGNATURE_HEADER, verify_signature


@pytest.fixture
def owner(db):
    return factories.make_user(db, Role.PARTNER)


@pytest.fixture
def listing(db, owner):
    return factories.make_listing(db, partner=db.get(Partner, owner.partner_id))


@pytest.fixture
def signed_in(login, owner):
    login(owner)
    return owner


@pytest.fixture
def receiver():
    server = WebhookReceiver().start()
    yield server
    server.stop()


def page(response) -> str:
    return response.get_data(as_text=True)


def endpoint_url(listing) -> str:
    return f"/partner/listings/{listing.id}/webhooks/endpoint"


def send_test_url(listing) -> str:
    return f"/partner/listings/{listing.id}/webhooks/test"


def deliveries(db) -> list[WebhookDelivery]:
    return list(db.exec(select(WebhookDelivery).order_by(WebhookDelivery.id)).all())


# --- the webhook endpoint -----------------------------------------------------------------


def test_a_partner_changes_the_webhook_url_at_once_without_a_release(client, db, signed_in,
                                                                     listing):
    releases_before = db.exec(select(func.count()).select_from(Release)).one()

    response = client.post(endpoint_url(listing),
                           data={"webhook_url": "https://hooks.example.org/bazaar"})

    assert response.status_code == 302
    db.refresh(listing)
    assert listing.webhook_url == "https://hooks.example.org/bazaar"
    # No new release and nothing for an editor to approve.
    assert db.exec(select(func.count()).select_from(Release)).one() == releases_before
    # The next event goes to the new URL.
    delivery = enqueue_event(db, listing, "install.created", {"install": {"id": 1}})
    assert delivery.url == "https://hooks.example.org/bazaar"
    [event] = db.exec(select(AuditEvent).where(AuditEvent.action == "webhook.url_changed")).all()
    assert event.actor_id == signed_in.id and event.target_id == listing.id
    assert event.detail == {"old_host": "app.example.com", "new_host": "hooks.example.org"}
    shown = page(client.get(f"/partner/listings/{listing.id}/webhooks"))
    assert "https://hooks.example.org/bazaar" in shown


def test_clearing_the_url_stops_events(client, db, signed_in, listing):
    response = client.post(endpoint_url(listing), data={"webhook_url": ""})

    assert response.status_code == 302
    db.refresh(listing)
    assert listing.webhook_url is None
    assert enqueue_event(db, listing, "install.created", {}) is None


@pytest.mark.parametrize("url,message", [
    ("http://hooks.example.org/bazaar",
     "The webhook URL must start with https:// (plain http:// is only accepted when Bazaar "
     "runs locally)."),
    ("https://me:hunter2@hooks.example.org/bazaar",
     "Leave the user name and password out of the webhook URL: check the Bazaar-Signature "
     "header with your signing secret instead."),
    ("https://hooks.example.org/" + "a" * 500, "The webhook URL must be at most 500 characters."),
    ("hooks.example.org", "The webhook URL must be a full https:// address."),
])
def test_a_bad_webhook_url_is_refused_and_nothing_changes(app, client, db, signed_in, listing,
                                                          url, message):
    app.config["BAZAAR_ENV"] = "production"

    response = client.post(endpoint_url(listing), data={"webhook_url": url})

    assert response.status_code == 400
    error = re.search(r'id="webhook_url-error">(.*?)</p>', page(response), re.S).group(1)
    assert message in error.replace("&#39;", "'")
    db.refresh(listing)
    assert listing.webhook_url == "https://app.example.com/webhooks"
    assert db.exec(select(AuditEvent)).all() == []


def test_plain_http_is_accepted_when_bazaar_runs_locally(app, client, db, signed_in, listing):
    assert app.config["BAZAAR_ENV"] == "test"

    response = client.post(endpoint_url(listing), data={"webhook_url": "http://127.0.0.1:8000/h"})

    assert response.status_code == 302
    db.refresh(listing)
    assert listing.webhook_url == "http://127.0.0.1:8000/h"


def test_another_partners_listing_is_not_found(client, db, signed_in):
    other = factories.make_listing(db)

    assert client.post(endpoint_url(other),
                       data={"webhook_url": "https://evil.example.org/"}).status_code == 404
    assert client.post(send_test_url(other)).status_code == 404
    db.refresh(other)
    assert other.webhook_url == "https://app.example.com/webhooks"
    assert deliveries(db) == []


def test_the_release_form_no_longer_asks_for_a_webhook_url(client, signed_in, listing):
    form = page(client.get(f"/partner/listings/{listing.id}/releases/new"))

    assert 'name="webhook_url"' not in form
    assert f'href="/partner/listings/{listing.id}/webhooks' in form


# --- the test event ---------------------------------------------------------------------


def test_a_test_event_without_an_endpoint_says_what_to_do(client, db, signed_in, listing):
    listing.webhook_url = None
    factories.save(db, listing)

    response = client.post(send_test_url(listing), follow_redirects=True)

    assert "Add a webhook URL first, then send a test event to it." in page(response)
    assert deliveries(db) == []


def test_a_test_event_is_queued_sent_by_the_worker_signed_and_shown(app, client, db, signed_in,
                                                                     listing, receiver):
    listing.webhook_url = receiver.url_for("ok")
    factories.save(db, listing)

    response = client.post(send_test_url(listing))

    assert response.status_code == 302
    # The request only queued it: nothing was sent yet.
    assert receiver.received() == []
    [queued] = deliveries(db)
    assert queued.event_type == "webhook.test" and queued.status == "pending"
    assert queued.url == receiver.url_for("ok") and queued.install_id is None
    waiting = page(client.get(f"/partner/listings/{listing.id}/webhooks"))
    assert re.search(r'id="test-result".*?Waiting to be sent', waiting, re.S)

    assert deliver_due(app).delivered == 1

    [request] = receiver.received()
    db.refresh(listing)
    assert verify_signature(listing.webhook_secret, request.body, request.headers[SIGNATURE_HEADER])
    body = json.loads(request.body)
    assert body["type"] == "webhook.test" and body["listing"] == {"id": listing.id,
                                                                  "slug": listing.slug}
    shown = page(client.get(f"/partner/listings/{listing.id}/webhooks"))
    result = re.search(r'id="test-result".*?</section>', shown, re.S).group(0)
    assert "Succeeded" in result and "HTTP 200" in result


def test_a_failing_test_event_shows_the_answer(app, client, db, signed_in, listing, receiver):
    listing.webhook_url = receiver.url_for("error")
    factories.save(db, listing)
    client.post(send_test_url(listing))

    deliver_due(app)

    shown = page(client.get(f"/partner/listings/{listing.id}/webhooks"))
    result = re.search(r'id="test-result".*?</section>', shown, re.S).group(0)
    assert "HTTP 500" in result and "will try again" in result


# --- the release form: one justification box per ticked scope ------------------------------


def test_each_justification_box_belongs_to_its_checkbox(client, signed_in, listing):
    form = page(client.get(f"/partner/listings/{listing.id}/releases/new"))

    # Without JavaScript every box shows; the script hides the unticked ones.
    checkbox = re.search(r'<input[^>]*value="deals:read"[^>]*>', form).group(0)
    assert 'aria-controls="why-deals_read"' in checkbox
    assert 'id="why-deals_read"' in form and "hidden" not in re.search(
        r'<div[^>]*id="why-deals_read"[^>]*>', form).group(0)
    assert 'src="/static/js/partner-forms.js' in form


# --- "in review" --------------------------------------------------------------------------


def test_a_listing_in_review_says_what_can_still_be_done(client, db, signed_in, owner):
    in_review = factories.make_listing(db, partner=db.get(Partner, owner.partner_id),
                                       status=ListingStatus.IN_REVIEW)

    response = client.get(f"/partner/listings/{in_review.id}/edit", follow_redirects=True)

    text = page(response)
    assert "cannot be edited" not in text
    assert ("While an editor reviews it, its details are locked; you can still add "
            "screenshots and new releases.") in text
    # And that is true: a new release is still taken while in review.
    response = client.post(f"/partner/listings/{in_review.id}/releases/new", data={
        "version": "1.0.1", "changelog": "A fix.", "redirect_url": "https://app.example.com/in"})
    assert response.status_code == 302
    assert db.exec(select(Release).where(Release.listing_id == in_review.id,
                                         Release.version == "1.0.1")).one()


def test_listing_model_keeps_the_endpoint(db, listing):
    assert db.get(Listing, listing.id).webhook_url == "https://app.example.com/webhooks"


# --- partner numbers: the dashboard -------------------------------------------------------


def _paid_this_month(db, listing, amount):
    workspace = factories.make_workspace(db, factories.make_user(db, Role.CUSTOMER))
    subscription = factories.make_subscription(db, workspace, listing, status="active")
    invoice = factories.make_invoice(db, subscription, amount=amount, paid_at=utcnow())
    return factories.make_ledger_entry(db, invoice, fee_percent="20")


def _dashboard_row(text: str, name: str) -> str:
    row = re.search(rf"<tr>(?:(?!</tr>).)*?>{re.escape(name)}</a>.*?</tr>", text, re.S)
    assert row, f"no dashboard row for {name}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row.group(0)))


def test_the_dashboard_shows_each_listings_figures(client, db, signed_in, owner):
    partner = db.get(Partner, owner.partner_id)
    busy = factories.make_paid_listing(db, partner=partner, name="Busy app")
    factories.make_listing(db, partner=partner, name="Quiet app")
    for n in range(3):
        factories.make_install(db, factories.make_workspace(db, factories.make_user(
            db, Role.CUSTOMER)), busy, **({"status": "uninstalled"} if n == 0 else {}))
    factories.make_review(db, busy, rating=5)
    factories.make_review(db, busy, rating=4)
    _paid_this_month(db, busy, 2900)  # 20 % fee: 23.20 net

    text = page(client.get("/partner/"))

    for header in ("Installs", "Active", "Rating", "Net revenue this month"):
        assert f">{header}</th>" in text
    assert "Approved 3 2 4.5 (2 reviews) $23.20 Details" in _dashboard_row(text, "Busy app")
    assert "Approved 0 0 No reviews None yet Details" in _dashboard_row(text, "Quiet app")


def test_the_dashboards_queries_do_not_grow_with_its_listings(app, client, db, signed_in, owner):
    partner = db.get(Partner, owner.partner_id)

    def queries_with(listings: int) -> int:
        for _ in range(listings):
            listing = factories.make_paid_listing(db, partner=partner)
            factories.make_install(db, factories.make_workspace(db, factories.make_user(
                db, Role.CUSTOMER)), listing)
            factories.make_review(db, listing, rating=3)
            _paid_this_month(db, listing, 1000)
        client.get("/partner/")  # warm: the first request loads what every request needs
        with count_queries(app) as statements:
            assert client.get("/partner/").status_code == 200
        return len(statements)

    assert queries_with(1) == queries_with(5)


# --- partner numbers: the revenue page --------------------------------------------------


def test_the_revenue_page_collapses_empty_months_and_counts_in_whole_numbers(client, db,
                                                                            signed_in, owner):
    partner = db.get(Partner, owner.partner_id)
    listing = factories.make_paid_listing(db, partner=partner)
    factories.make_install(db, factories.make_workspace(db, factories.make_user(
        db, Role.CUSTOMER)), listing)
    _paid_this_month(db, listing, 2900)

    text = page(client.get("/partner/revenue?months=12"))

    installs = text[text.index('id="installs-table"'):]
    installs = installs[:installs.index("</table>")]
    # Eleven months without a figure are one row, not eleven; this month has its own.
    assert installs.count('<th scope="row">') == 2
    quiet = re.search(r'<tr data-empty-months="([^"]+)">\s*<th scope="row">(.*?)</th>', installs)
    assert quiet and len(quiet.group(1).split()) == 11
    assert quiet.group(2) == f"{quiet.group(1).split()[0]} to {quiet.group(1).split()[-1]}"
    assert "Nothing in these 11 months" in installs
    # Charts first: each table is behind a disclosure the charts script closes once
    # its chart is drawn (open without JavaScript, so the figures are never lost).
    assert re.search(r'<canvas[^>]*data-chart-table="installs-table".*?<details class='
                     r'"chart-figures" open>\s*<summary>', text, re.S)
    # Counts are drawn on whole-number axes (no 0.5 install); money is not.
    assert re.search(r'<canvas[^>]*data-chart-table="installs-table"[^>]*'
                     r'data-chart-integer="true"', text)
    money = re.search(r'<canvas[^>]*data-chart-table="money-usd-table"[^>]*>', text).group(0)
    assert "data-chart-integer" not in money
    charts = (Path(__file__).resolve().parents[2] / "static/js/charts.js").read_text()
    assert "precision: 0" in charts and "data-empty-months" in charts


# --- the listing form's preview -------------------------------------------------------------


def _listing_form(category, **changes) -> dict:
    data = {"name": "Pipeline Pal", "slug": "", "tagline": "Keeps your deals moving",
            "category_id": str(category.id), "description": "**Pipeline Pal** nudges your team.",
            "tags": "crm", "pricing_model": "flat_monthly", "currency": "usd",
            "monthly_price": "19.99", "unit_name": "", "unit_price": "", "included_units": "0",
            "trial_days": "14", "website_url": "", "support_url": "", "privacy_url": ""}
    data.update(changes)
    return data


def _preview(text: str) -> str:
    section = re.search(r'<section[^>]*id="listing-preview".*?</section>', text, re.S).group(0)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))


def test_preview_shows_the_card_and_page_header_without_saving(client, db, signed_in, owner):
    category = factories.make_category(db, name="Sales tools")
    partner = db.get(Partner, owner.partner_id)

    response = client.post("/partner/listings/new", data={**_listing_form(category),
                                                          "preview": "Preview"})

    assert response.status_code == 200
    shown = _preview(page(response))
    assert "Pipeline Pal" in shown and "Keeps your deals moving" in shown
    assert f"by {partner.name} · Sales tools" in shown
    assert "$19.99 / month" in shown and "14-day free trial" in shown
    assert db.exec(select(func.count()).select_from(Listing)).one() == 0
    # What was typed stays in the form, to go on editing.
    assert 'value="Pipeline Pal"' in page(response)


def test_preview_of_an_existing_listing_changes_nothing(client, db, signed_in, listing):
    response = client.post(f"/partner/listings/{listing.id}/edit", data={
        **_listing_form(db.get(factories.Category, listing.category_id), name="Renamed",
                        pricing_model="free"), "preview": "Preview"})

    assert response.status_code == 200
    shown = _preview(page(response))
    assert "Renamed" in shown and "Free" in shown
    db.refresh(listing)
    assert listing.name != "Renamed"


def test_the_preview_card_says_from_the_cheapest_plan_as_the_real_card_does(client, db,
                                                                          signed_in, owner):
    """Found after cards began to say "From" (issue 16): the preview showed the typed
    first plan's price alone, although the card it previews shows the cheapest plan."""
    from listings.plans import add_plan, sync_first_plan

    listing = factories.make_paid_listing(db, partner=db.get(Partner, owner.partner_id),
                                          monthly_price=7900)
    sync_first_plan(db, listing)
    add_plan(db, listing, {"name": "Basic", "interval": "month", "price": 2900})
    db.commit()

    shown = _preview(page(client.get(f"/partner/listings/{listing.id}/edit")))
    assert "From $29.00 / month" in shown and "$79.00" not in shown
    # The typed first plan's price counts as it would once saved.
    category = db.get(factories.Category, listing.category_id)
    response = client.post(f"/partner/listings/{listing.id}/edit", data={
        **_listing_form(category, monthly_price="9", trial_days="0"), "preview": "Preview"})
    assert "From $9.00 / month" in _preview(page(response))
    # The live preview gets the other plans' prices to do the same as the partner types.
    assert ("""data-other-plans='[{"amount": "29.00", "interval": "month", "unit_amount": """
            """"0.00"}]'""") in page(client.get(f"/partner/listings/{listing.id}/edit"))


def test_the_listing_form_has_a_live_preview(client, db, signed_in, listing):
    text = page(client.get(f"/partner/listings/{listing.id}/edit"))

    assert listing.name in _preview(text)
    assert re.search(r'<button[^>]*name="preview"', text)
    assert 'src="/static/js/partner-listing-preview.js' in text


# --- the endpoint in catalog files -----------------------------------------------------------


def test_a_catalog_export_and_import_keep_the_listings_endpoint(runner, db, tmp_path):
    listing = factories.make_listing(db, slug="hooked")
    factories.point_webhooks_at(db, listing, "https://changed.example.org/hooks")
    out = tmp_path / "out.jsonl"
    assert runner.invoke(args=["catalog", "export", "-o", str(out)]).exit_code == 0

    copy_file = tmp_path / "copy.jsonl"
    copy_file.write_text(out.read_text().replace('"hooked"', '"hooked-copy"'))
    result = runner.invoke(args=["catalog", "import", str(copy_file)])

    assert result.exit_code == 0, result.output
    copy = db.exec(select(Listing).where(Listing.slug == "hooked-copy")).one()
    assert copy.webhook_url == "https://changed.example.org/hooks"
