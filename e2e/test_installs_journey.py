"""The installs journey in a real browser: a customer installs a free app after
reading its consent screen, starts a trial of another, approves the new access a
newer release asks for, and uninstalls the trial; the partner sees the installs
and the webhook deliveries, which reach a real local receiver, signed."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from e2e.conftest import sign_in

# Two apps of the demo partner's: one free, one with a 14-day trial.
FREE_APP, FREE_SLUG = "PipeSync for Salesforce", "pipesync-for-salesforce"
TRIAL_APP, TRIAL_SLUG = "Sequence Studio", "sequence-studio"


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict, bytes]] = []

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).received.append((dict(self.headers), body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture
def receiver():
    """A partner's webhook endpoint on 127.0.0.1 that records what it is sent."""
    _Receiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/bazaar/webhooks", _Receiver.received
    server.shutdown()
    server.server_close()


def _open_listing(page, slug: str, name: str) -> None:
    page.goto(f"/apps/{slug}")
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


def test_install_trial_scope_approval_uninstall_and_partner_deliveries(page, browser, live_server,
                                                                       receiver):
    endpoint, received = receiver

    # 1. A free app: the consent screen first, then the post-install page.
    sign_in(page, "customer@example.com")
    _open_listing(page, FREE_SLUG, FREE_APP)
    page.get_by_role("button", name="Install — Free", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(f"Install {FREE_APP}"))
    expect(page.get_by_role("heading", name=f"What {FREE_APP} can access")).to_be_visible()
    expect(page.get_by_role("heading", name="Where your data goes")).to_be_visible()
    page.get_by_role("button", name="Confirm and install").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{FREE_APP} is installed")
    expect(page.get_by_role("button", name=f"Continue to {FREE_APP}")).to_be_visible()

    # 2. A trial of another app, without a card.
    _open_listing(page, TRIAL_SLUG, TRIAL_APP)
    page.get_by_role("button", name=re.compile(r"Start \d+-day free trial")).click()
    expect(page.get_by_text("No card needed")).to_be_visible()
    page.get_by_role("button", name="Confirm and start free trial").click()
    expect(page.get_by_text(re.compile(r"Your free trial has started"))).to_be_visible()
    page.get_by_role("link", name="Later: go to My apps").click()
    trial_card = page.locator(".installed-app", has_text=TRIAL_APP)
    expect(trial_card.locator(".trial-state")).to_contain_text(re.compile(r"\d+ days left"))

    # 3. The partner points the app's webhooks at its endpoint (at once, no review),
    # then ships a release asking for more access.
    partner = browser.new_context(base_url=live_server).new_page()
    sign_in(partner, "partner@example.com")
    partner.goto("/partner/")
    partner.get_by_role("link", name=FREE_APP).first.click()
    partner.get_by_role("link", name="Webhooks", exact=True).click()
    partner.get_by_label("Webhook URL").fill(endpoint)
    partner.get_by_role("button", name="Save webhook URL").click()
    expect(partner.locator("code.webhook-url")).to_have_text(endpoint)
    partner.goto("/partner/")
    partner.get_by_role("link", name=FREE_APP).first.click()
    partner.get_by_role("link", name="New release").click()
    # The form starts from the live manifest; the partner adds one scope.
    expect(partner.get_by_label("Redirect URL")).not_to_have_value("")
    partner.get_by_label("Version").fill("9.0.0")
    partner.locator("input[type=checkbox][value='files:read']").check()
    partner.get_by_label("Why your app needs files:read").fill("To attach proposal PDFs to deals.")
    partner.get_by_role("button", name="Add release").click()
    expect(partner.get_by_text("9.0.0").first).to_be_visible()

    editor = browser.new_context(base_url=live_server).new_page()
    sign_in(editor, "editor@example.com")
    editor.goto("/editor/")
    editor.get_by_role("link", name="Version 9.0.0").click()
    editor.get_by_role("button", name="Approve version 9.0.0").click()
    expect(editor.locator(".flash").first).to_be_visible()
    editor.context.close()

    # 4. The customer sees the difference and approves it.
    page.goto("/my/apps")
    free_card = page.locator(".installed-app", has_text=FREE_APP)
    expect(free_card.get_by_role("heading", name="New access requested")).to_be_visible()
    expect(free_card.locator(".scope-added")).to_contain_text("To attach proposal PDFs to deals.")
    free_card.get_by_role("button", name="Approve new access").click()
    expect(page.locator(".flash").first).to_contain_text(f"{FREE_APP} 9.0.0 now has the access")

    # 5. Uninstalling the trial asks first (what stops, what happens to billing), then
    # revokes its access at once.
    page.locator(".installed-app", has_text=TRIAL_APP).get_by_role(
        "link", name=f"Uninstall {TRIAL_APP}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Uninstall {TRIAL_APP}?")
    expect(page.locator("main")).to_contain_text(f"Your free trial of {TRIAL_APP} ends now")
    page.get_by_role("button", name=f"Uninstall {TRIAL_APP}").click()
    expect(page.locator(".flash").first).to_contain_text(f"Uninstalled {TRIAL_APP}")
    expect(page.locator(".installed-app", has_text=TRIAL_APP)).to_have_count(0)

    # 6. The partner sees the install and the deliveries, and the receiver got a signed event.
    partner.goto("/partner/")
    partner.get_by_role("link", name=FREE_APP).first.click()
    partner.get_by_role("link", name="Installs").click()
    expect(partner.get_by_role("cell", name="Casey Morgan's workspace")).to_be_visible()
    partner.go_back()
    partner.get_by_role("link", name="Webhooks").click()
    updated = partner.get_by_role("row", name=re.compile("install.scopes_updated"))
    expect(updated).to_be_visible()
    expect(partner.get_by_role("row", name=re.compile("install.created"))).to_be_visible()
    expect(updated).to_contain_text("Succeeded", timeout=15_000)  # the sender runs after commit
    secret = partner.locator(".webhook-secret code").first
    partner.get_by_text("Show the signing secret").click()
    signing_secret = secret.inner_text().strip()
    partner.context.close()

    events = [(headers, json.loads(body), body) for headers, body in received]
    scope_events = [item for item in events if item[1]["type"] == "install.scopes_updated"]
    assert scope_events, [item[1]["type"] for item in events]
    headers, payload, body = scope_events[0]
    assert payload["data"]["install"]["workspace"]["name"] == "Casey Morgan's workspace"
    assert "files:read" in payload["data"]["install"]["granted_scopes"]
    signature = dict(part.split("=", 1) for part in headers["Bazaar-Signature"].split(","))
    expected = hmac.new(signing_secret.encode(), f"{signature['t']}.".encode() + body,
                        hashlib.sha256).hexdigest()
    assert hmac.compare_digest(signature["v1"], expected)
