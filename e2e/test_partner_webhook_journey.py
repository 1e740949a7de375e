"""A partner points their app's webhooks at a new URL and sends a test event: the
change needs no release and no editor, the worker delivers the event, the partner's
receiver checks its signature with the secret copied from the portal, and the page
shows the delivery's success. On a desktop and a phone, with axe on every page."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from e2e.conftest import check_accessibility, sign_in
from tests.webhook_receiver import WebhookReceiver
from webhooks.signing import SIGNATURE_HEADER, verify_signature

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def receiver():
    server = WebhookReceiver().start()
    yield server
    server.stop()


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_a_partner_changes_the_webhook_url_and_a_test_event_arrives_signed(embedded_page,
                                                                           receiver, device):
    # A server of this module's own (embedded search: the journey searches nothing), so
    # pointing a demo app's webhooks at this test's receiver touches no other journey.
    page = embedded_page
    page.set_viewport_size(VIEWPORTS[device])
    sign_in(page, "partner@example.com")
    page.goto("/partner/")
    check_accessibility(page)
    published = page.locator("table tbody tr").filter(has_text="Published").first
    name = published.locator("td").first.get_by_role("link").inner_text().strip()
    published.locator("td").first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    page.get_by_role("link", name="Webhooks", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Webhook deliveries")
    check_accessibility(page)

    # The new URL applies at once: no release, no editor.
    url = receiver.url_for("ok")
    page.get_by_label("Webhook URL").fill(url)
    page.get_by_role("button", name="Save webhook URL").click()
    expect(page.locator(".flash").first).to_contain_text("Events from now on go to the new URL")
    expect(page.locator("code.webhook-url")).to_have_text(url)
    check_accessibility(page)

    # The partner copies the signing secret into their app (made now if there is none).
    if page.get_by_role("button", name="Create the signing secret").count():
        page.get_by_role("button", name="Create the signing secret").click()
    page.get_by_text("Show the signing secret").click()
    secret = page.locator(".webhook-secret code").first.inner_text().strip()
    assert secret

    page.get_by_role("button", name="Send test event").click()
    expect(page.locator(".flash").first).to_contain_text("is queued")
    check_accessibility(page)

    # The worker sends it; the receiver checks it as it would any event.
    [request] = receiver.wait_for(1, timeout=30)
    assert verify_signature(secret, request.body, request.headers[SIGNATURE_HEADER])
    event = json.loads(request.body)
    assert event["type"] == "webhook.test" and request.event_id == event["id"]

    # The page updates itself once the worker has recorded the answer.
    result = page.locator("#test-result")
    expect(result).to_contain_text("Succeeded", timeout=20_000)
    expect(result).to_contain_text("HTTP 200")
    expect(result).to_contain_text(event["id"])
    check_accessibility(page)

    # The event's own page shows the payload that was signed.
    result.get_by_role("link", name=re.compile("Details")).click()
    expect(page.get_by_text("webhook.test").first).to_be_visible()
    check_accessibility(page)
