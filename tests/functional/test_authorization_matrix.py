"""Every route x every role x ownership, and the answer each one gets.

The table must name every endpoint the app has: a new route fails this test
until someone decides who may use it.

Outcomes: ``ok`` (the request is served or its input judged), ``login`` (a
visitor is sent to sign in), ``forbidden`` (403: the role may not), ``missing``
(404: another partner's object is not even admitted to exist), ``unauthorized``
(401: the Partner API wants an API key; a signed-in session is not one).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import url_for

from accounts.models import Role
from listings.models import ListingStatus, ReleaseStatus, ReviewStatus
from listings.plans import ListingPlan
from mail.compose import queue_mail
from search.models import SynonymRule
from tests import factories
from tests.saved_state import built_once

ROLES = ["visitor", "customer", "owner", "other_partner", "editor", "admin"]

PUBLIC = dict.fromkeys(ROLES, "ok")
SIGNED_IN = {**dict.fromkeys(ROLES, "ok"), "visitor": "login"}
PARTNER_OWNS = {"visitor": "login", "customer": "forbidden", "owner": "ok",
                "other_partner": "missing", "editor": "forbidden", "admin": "forbidden"}
PARTNER_ONLY = {**PARTNER_OWNS, "other_partner": "ok"}
EDITORS = {"visitor": "login", "customer": "forbidden", "owner": "forbidden",
           "other_partner": "forbidden", "editor": "ok", "admin": "ok"}
ADMINS = {**EDITORS, "editor": "forbidden"}
REVIEWERS = {**SIGNED_IN, "owner": "forbidden"}  # a partner may not review its own app
WORKSPACE_OWNS = {**dict.fromkeys(ROLES, "missing"), "visitor": "login", "customer": "ok"}
# The Partner API authenticates by API key only: no session role gets in.
API_KEY_ONLY = dict.fromkeys(ROLES, "unauthorized")

# endpoint -> (method, url arguments from the world, expected outcome per role)
MATRIX = {
    # Probes and metrics: no session needed (/metrics: loopback or a token, as here).
    "observability.healthz": ("GET", {}, PUBLIC),
    "observability.readyz": ("GET", {}, PUBLIC),
    "observability.metrics": ("GET", {}, PUBLIC),
    "storefront.home": ("GET", {}, PUBLIC),
    "storefront.categories": ("GET", {}, PUBLIC),
    "storefront.category": ("GET", {"slug": "category_slug"}, PUBLIC),
    "storefront.collection": ("GET", {"slug": "collection_slug"}, PUBLIC),
    "storefront.listing": ("GET", {"slug": "listing_slug"}, PUBLIC),
    "storefront.post_listing_review": ("POST", {"slug": "listing_slug"}, REVIEWERS),
    # Votes and reports on a published review: a partner may not vote on its own
    # app's reviews, but may report one like anybody else.
    "reviews.helpful": ("POST", {"review_id": "review_id"}, REVIEWERS),
    "reviews.report": ("POST", {"review_id": "review_id"}, SIGNED_IN),
    "storefront.screenshot": ("GET", {"filename": "screenshot_filename"}, PUBLIC),
    "storefront.icon": ("GET", {"filename": "icon_filename"}, PUBLIC),
    "storefront.generated_icon": ("GET", {"slug": "listing_slug"}, PUBLIC),
    # Findable: what crawlers and browsers ask for, open to everyone.
    "findable.sitemap": ("GET", {}, PUBLIC),
    "findable.sitemap_part": ("GET", {"part": "sitemap_part"}, PUBLIC),
    "findable.robots": ("GET", {}, PUBLIC),
    "findable.favicon": ("GET", {}, PUBLIC),
    "badges.index": ("GET", {}, PUBLIC),
    "badges.badge": ("GET", {"slug": "badge_slug"}, PUBLIC),
    "search.results": ("GET", {}, PUBLIC),
    "search.suggest": ("GET", {}, PUBLIC),
    "api.openapi": ("GET", {}, PUBLIC),
    "api.list_installs": ("GET", {}, API_KEY_ONLY),
    "api.get_install": ("GET", {"install_id": "install_id"}, API_KEY_ONLY),
    "api.redeem_token": ("POST", {}, API_KEY_ONLY),
    "usage_api.record_usage_events": ("POST", {}, API_KEY_ONLY),
    "api_keys.index": ("GET", {"listing_id": "listing_id"}, PARTNER_OWNS),
    "api_keys.create": ("POST", {"listing_id": "listing_id"}, PARTNER_OWNS),
    "api_keys.rotate": ("POST", {"listing_id": "listing_id", "key_id": "api_key_id"},
                        PARTNER_OWNS),
    "api_keys.revoke": ("POST", {"listing_id": "listing_id", "key_id": "api_key_id"},
                        PARTNER_OWNS),
    "accounts.login": ("GET", {}, PUBLIC),
    "accounts.register": ("GET", {}, PUBLIC),
    "accounts.logout": ("POST", {}, SIGNED_IN),
    "accounts.sign_out_everywhere": ("POST", {}, SIGNED_IN),
    "accounts.password": ("GET", {}, SIGNED_IN),
    # Account settings, and the pages behind mailed links (a bad link is a 400 page).
    "accounts.settings": ("GET", {}, SIGNED_IN),
    "accounts.change_name": ("POST", {}, SIGNED_IN),
    "accounts.change_email": ("POST", {}, SIGNED_IN),
    "accounts.resend_verification": ("POST", {}, SIGNED_IN),
    "accounts.forgot_password": ("GET", {}, PUBLIC),
    "accounts.reset_password": ("GET", {"token": "mail_link_token"}, PUBLIC),
    "accounts.verify_email": ("GET", {"token": "mail_link_token"}, PUBLIC),
    "accounts.confirm_email_change": ("GET", {"token": "mail_link_token"}, PUBLIC),
    "admin.users": ("GET", {}, ADMINS),
    "admin.change_user_role": ("POST", {"user_id": "customer_id"}, ADMINS),
    "mail.messages": ("GET", {}, ADMINS),
    "mail.message": ("GET", {"message_id": "mail_id"}, ADMINS),
    "mail.retry": ("POST", {"message_id": "mail_id"}, ADMINS),
    # Notification settings; one-click unsubscribe works signed out (a bad token: 400).
    "notifications.settings": ("GET", {}, SIGNED_IN),
    "notifications.unsubscribe_confirm": ("GET", {"token": "mail_link_token"}, PUBLIC),
    "notifications.unsubscribe": ("POST", {"token": "mail_link_token"}, PUBLIC),
    "partner.dashboard": ("GET", {}, PARTNER_ONLY),
    "partner.new_listing": ("GET", {}, PARTNER_ONLY),
    "partner.listing_detail": ("GET", {"listing_id": "listing_id"}, PARTNER_OWNS),
    "partner.edit_listing": ("POST", {"listing_id": "draft_id"}, PARTNER_OWNS),
    "partner.new_release": ("POST", {"listing_id": "draft_id"}, PARTNER_OWNS),
    "partner.submit_listing": ("POST", {"listing_id": "draft_id"}, PARTNER_OWNS),
    "partner.upload_screenshot": ("POST", {"listing_id": "listing_id"}, PARTNER_OWNS),
    "partner.icon_file": ("GET", {"listing_id": "listing_id"}, PARTNER_OWNS),
    "partner.screenshot_file": ("GET", {"listing_id": "listing_id",
                                        "screenshot_id": "screenshot_id"}, PARTNER_OWNS),
    "partner.remove_screenshot": ("POST", {"listing_id": "listing_id",
                                           "screenshot_id": "screenshot_id"}, PARTNER_OWNS),
    "partner.reply": ("POST", {"review_id": "review_id"}, PARTNER_OWNS),
    "partner_installs.installs": ("GET", {"listing_id": "listing_id"}, PARTNER_OWNS),
    # ?listing=<id> filters to one listing: another partner's answers 404.
    "revenue.index": ("GET", {"listing": "listing_id"}, PARTNER_OWNS),
    "revenue.export": ("GET", {"listing": "listing_id"}, PARTNER_OWNS),
    "revenue.export_summary": ("GET", {"listing": "listing_id"}, PARTNER_OWNS),
    # Price plans: only the listing's own partner; another partner's plan does not exist.
    "plans.add": ("POST", {"listing_id": "listing_id"}, PARTNER_OWNS),
    "plans.edit": ("GET", {"listing_id": "listing_id", "plan_id": "plan_id"}, PARTNER_OWNS),
    "plans.remove": ("POST", {"listing_id": "listing_id", "plan_id": "plan_id"}, PARTNER_OWNS),
    "plans.move": ("POST", {"listing_id": "listing_id", "plan_id": "plan_id"}, PARTNER_OWNS),
    "webhooks.deliveries": ("GET", {"listing_id": "listing_id"}, PARTNER_OWNS),
    "webhooks.delivery": ("GET", {"listing_id": "listing_id", "delivery_id": "delivery_id"},
                          PARTNER_OWNS),
    "webhooks.redeliver": ("POST", {"listing_id": "listing_id", "delivery_id": "delivery_id"},
                           PARTNER_OWNS),
    "webhooks.roll_secret": ("POST", {"listing_id": "listing_id"}, PARTNER_OWNS),
    "webhooks.change_endpoint": ("POST", {"listing_id": "listing_id"}, PARTNER_OWNS),
    "webhooks.send_test": ("POST", {"listing_id": "listing_id"}, PARTNER_OWNS),
    "editor.queue": ("GET", {}, EDITORS),
    "editor.listing": ("GET", {"listing_id": "submitted_id"}, EDITORS),
    "editor.approve": ("POST", {"listing_id": "submitted_id"}, EDITORS),
    "editor.reject": ("POST", {"listing_id": "submitted_id"}, EDITORS),
    "editor.delist": ("POST", {"listing_id": "listing_id"}, EDITORS),
    "editor.approve_release": ("POST", {"release_id": "pending_release_id"}, EDITORS),
    "editor.reject_release": ("POST", {"release_id": "pending_release_id"}, EDITORS),
    "review_moderation.held": ("GET", {}, EDITORS),
    "review_moderation.decide_held": ("POST", {}, EDITORS),
    "review_moderation.reports": ("GET", {}, EDITORS),
    "review_moderation.resolve": ("POST", {}, EDITORS),
    "editor.award": ("POST", {"listing_id": "listing_id"}, EDITORS),
    "editor.badges": ("GET", {}, EDITORS),
    "editor.revoke": ("POST", {"badge_id": "badge_id"}, EDITORS),
    "editor.confirm_revoke": ("GET", {"badge_id": "badge_id"}, EDITORS),
    "collections.index": ("GET", {}, EDITORS),
    "collections.edit": ("GET", {"collection_id": "collection_id"}, EDITORS),
    "collections.move": ("POST", {"collection_id": "collection_id"}, EDITORS),
    "collections.search": ("GET", {"collection_id": "collection_id"}, EDITORS),
    "collections.add": ("POST", {"collection_id": "collection_id"}, EDITORS),
    "collections.rename": ("POST", {"collection_id": "collection_id"}, EDITORS),
    "collections.delete": ("GET", {"collection_id": "collection_id"}, EDITORS),
    "collections.preview": ("GET", {"collection_id": "collection_id"}, EDITORS),
    "editor.audit_log": ("GET", {}, EDITORS),
    "editor.screenshot": ("GET", {"filename": "submitted_screenshot_filename"}, EDITORS),
    # Pruning: the rules are public; runs, previews and exemptions are the editors';
    # a partner dismisses only its own notices.
    "pruning.rules": ("GET", {}, PUBLIC),
    "pruning.console": ("GET", {}, EDITORS),
    "pruning.preview": ("POST", {}, EDITORS),
    "pruning.run": ("GET", {"run_id": "prune_run_id"}, EDITORS),
    "pruning.exempt": ("POST", {"listing_id": "listing_id"}, EDITORS),
    "pruning.end": ("POST", {"exemption_id": "exemption_id"}, EDITORS),
    "pruning.dismiss_notice": ("POST", {"notice_id": "partner_notice_id"}, PARTNER_OWNS),
    # Search synonyms: the editors' page (a line removed twice is no error).
    "synonyms.page": ("GET", {}, EDITORS),
    "synonyms.remove": ("POST", {"rule_id": "synonym_rule_id"}, EDITORS),
    # Installs: anyone signed in is answered (without a workspace, with a message).
    "installs.start": ("POST", {"slug": "listing_slug"}, SIGNED_IN),
    "installs.consent": ("GET", {"slug": "listing_slug"}, SIGNED_IN),
    "installs.confirm": ("POST", {"slug": "listing_slug"}, SIGNED_IN),
    "installs.my_apps": ("GET", {}, SIGNED_IN),
    # Only the customer's workspace holds the install; anyone else is told nothing.
    "installs.uninstall_app": ("POST", {"install_id": "install_id"}, WORKSPACE_OWNS),
    "installs.confirm_uninstall": ("GET", {"install_id": "install_id"}, WORKSPACE_OWNS),
    "installs.approve_scopes": ("POST", {"install_id": "install_id"}, WORKSPACE_OWNS),
    "installs.installed": ("GET", {"install_id": "install_id"}, WORKSPACE_OWNS),
    "installs.open_app": ("POST", {"install_id": "install_id"}, WORKSPACE_OWNS),
    "installs.dismiss_notification": ("POST", {"notification_id": "notification_id"},
                                      WORKSPACE_OWNS),
    # Workspaces: the page answers everyone signed in (non-customers are told they
    # have none); changes act on the customer's own workspace, anyone else's is 404.
    "workspaces.overview": ("GET", {}, SIGNED_IN),
    "workspaces.rename": ("POST", {}, WORKSPACE_OWNS),
    "workspaces.invite": ("POST", {}, WORKSPACE_OWNS),
    "workspaces.revoke_invitation": ("POST", {"invitation_id": "invitation_id"}, WORKSPACE_OWNS),
    "workspaces.change_role": ("POST", {"member_id": "member_id"}, WORKSPACE_OWNS),
    "workspaces.remove_member": ("POST", {"member_id": "member_id"}, WORKSPACE_OWNS),
    "workspaces.confirm_remove_member": ("GET", {"member_id": "member_id"}, WORKSPACE_OWNS),
    "workspaces.switch": ("POST", {}, SIGNED_IN),
    # The link's secret token is the key: visitors see how to sign in, others why not.
    "workspaces.invitation": ("GET", {"token": "invitation_token"}, PUBLIC),
    "workspaces.accept": ("POST", {"token": "invitation_token"}, SIGNED_IN),
    "account.delete_account": ("GET", {}, SIGNED_IN),
    # Billing: the provider's webhook answers anyone (the signature decides, 400 here);
    # a checkout belongs to the workspace that started it.
    "billing.stripe_webhook": ("POST", {}, PUBLIC),
    "billing.checkout_pending": ("GET", {"subscription_id": "subscription_id"}, WORKSPACE_OWNS),
    "billing.add_payment_method": ("POST", {"install_id": "install_id"}, WORKSPACE_OWNS),
    "billing.local_checkout": ("GET", {"session_id": "checkout_session_id"}, WORKSPACE_OWNS),
    "billing.local_checkout_pay": ("POST", {"session_id": "checkout_session_id"},
                                   WORKSPACE_OWNS),
    "billing.local_checkout_cancel": ("POST", {"session_id": "checkout_session_id"},
                                      WORKSPACE_OWNS),
    # The billing page answers everyone signed in (non-customers are told they have no
    # workspace); the portal is the customer's own workspace's.
    "billing.my_billing": ("GET", {}, SIGNED_IN),
    "billing.billing_portal": ("POST", {}, WORKSPACE_OWNS),
    "billing.local_portal": ("GET", {"portal_id": "portal_id"}, WORKSPACE_OWNS),
    # Payouts: each partner sees and sets up its own; an onboarding link is its partner's.
    "billing.payouts": ("GET", {}, PARTNER_ONLY),
    "billing.start_payouts": ("POST", {}, PARTNER_ONLY),
    # Test mode only; each partner simulates a payout of its own account's balance.
    "billing.simulate_payout": ("POST", {}, PARTNER_ONLY),
    "billing.local_onboarding": ("GET", {"link_id": "onboarding_link_id"}, PARTNER_OWNS),
    "billing.local_onboarding_complete": ("POST", {"link_id": "onboarding_link_id"},
                                          PARTNER_OWNS),
}


def build_world(app, db) -> tuple[dict[str, str], dict]:
    """One partner's catalog objects, and a user for every role: each role's email,
    and the ids, slugs and tokens the routes take."""
    owner_partner = factories.make_partner(db)
    category = factories.make_category(db)
    listing = factories.make_listing(db, partner=owner_partner, category=category)
    draft = factories.make_listing(db, partner=owner_partner, status=ListingStatus.DRAFT)
    submitted = factories.make_listing(db, partner=owner_partner, status=ListingStatus.IN_REVIEW)
    pending_release = factories.make_release(db, listing, version="2.0.0",
                                             review_status=ReleaseStatus.PENDING)
    upload_folder = app.config["UPLOAD_FOLDER"]
    screenshot = factories.make_screenshot(db, listing, upload_folder)
    submitted_screenshot = factories.make_screenshot(db, submitted, upload_folder)
    listing.icon_filename = f"{listing.id}-icon.png"
    (Path(upload_folder) / "icons").mkdir(parents=True, exist_ok=True)
    (Path(upload_folder) / "icons" / listing.icon_filename).write_bytes(
        factories.image_bytes(size=(128, 128)))
    factories.save(db, listing)
    plan = factories.save(db, ListingPlan(listing_id=listing.id, name="Basic", price=900))
    users = {
        "customer": factories.make_user(db, Role.CUSTOMER),
        "owner": factories.make_user(db, Role.PARTNER, partner=owner_partner),
        "other_partner": factories.make_user(db, Role.PARTNER),
        "editor": factories.make_user(db, Role.EDITOR),
        "admin": factories.make_user(db, Role.ADMIN),
    }
    review = factories.make_review(db, listing)
    pending_review = factories.make_review(db, listing, status=ReviewStatus.PENDING)
    badge = factories.make_badge(db, listing)
    collection = factories.make_collection(db, [listing])
    workspace = factories.make_workspace(db, users["customer"])
    install = factories.make_install(db, workspace, factories.make_listing(db))
    api_key, _ = factories.make_api_key(db, listing, created_by=users["owner"])
    notification = factories.make_notification(db, workspace)
    member = factories.make_member(db, workspace)
    invitation, invitation_token = factories.make_invitation(db, workspace)
    delivery = factories.make_webhook_delivery(db, listing)
    subscription, checkout = factories.make_checkout(db, app, workspace,
                                                     factories.make_paid_listing(db))
    _, onboarding_url = factories.make_payout_account(db, app, owner_partner)
    portal_url = factories.make_portal_session(db, app, workspace)
    exemption = factories.make_exemption(db, listing)
    partner_notice = factories.make_partner_notice(db, listing)
    prune_run = factories.make_prune_run(db, dry_run=True)
    synonym_rule = factories.save(db, SynonymRule(line="kudos, praise"))
    with app.app_context():
        held_mail = queue_mail(db, to="ada@example.com", kind="notice", template="notice",
                               context={"subject": "A notice", "paragraphs": []})
    db.commit()
    refs = {
        "category_slug": category.slug, "collection_slug": collection.slug,
        "listing_slug": listing.slug, "listing_id": listing.id, "draft_id": draft.id,
        "submitted_id": submitted.id, "pending_release_id": pending_release.id,
        "screenshot_id": screenshot.id, "screenshot_filename": screenshot.filename,
        "submitted_screenshot_filename": submitted_screenshot.filename,
        "review_id": review.id, "pending_review_id": pending_review.id, "badge_id": badge.id,
        "collection_id": collection.id, "customer_id": users["customer"].id,
        "api_key_id": api_key.id,
        "delivery_id": delivery.id,
        "install_id": install.id, "notification_id": notification.id,
        "member_id": member.id, "invitation_id": invitation.id,
        "invitation_token": invitation_token, "mail_link_token": "not-a-signed-token",
        "subscription_id": subscription.id, "checkout_session_id": checkout.id,
        "onboarding_link_id": onboarding_url.rsplit("/", 1)[-1],
        "portal_id": portal_url.rsplit("/", 1)[-1],
        "exemption_id": exemption.id, "partner_notice_id": partner_notice.id,
        "prune_run_id": prune_run.id, "mail_id": held_mail.id,
        "synonym_rule_id": synonym_rule.id,
        "icon_filename": listing.icon_filename, "badge_slug": "staff-pick",
        "plan_id": plan.id, "sitemap_part": 1,
    }
    return {role: user.email for role, user in users.items()}, refs


saved_world, database_url = built_once(build_world)


@pytest.fixture
def world(saved_world):
    return saved_world[0]


def outcome(response) -> str:
    if response.status_code == 302 and "/account/login" in response.location:
        return "login"
    return {401: "unauthorized", 403: "forbidden", 404: "missing"}.get(response.status_code, "ok")


def test_every_endpoint_is_in_the_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()} - {"static"}
    assert endpoints == set(MATRIX), "decide who may use each new route"


@pytest.mark.parametrize("endpoint", sorted(MATRIX))
def test_route_answers_each_role(app, world, endpoint):
    emails, refs = world
    method, args, expected = MATRIX[endpoint]
    with app.test_request_context():
        url = url_for(endpoint, **{name: refs[ref] for name, ref in args.items()})
    answers = {}
    for role in ROLES:
        client = app.test_client()
        if role != "visitor":
            response = client.post("/account/login", data={"email": emails[role],
                                                          "password": factories.PASSWORD})
            assert response.status_code == 302
        response = client.open(url, method=method, data={})
        response.close()  # releases a served file
        answers[role] = outcome(response)
        assert response.status_code < 500, f"{endpoint} as {role}: {response.status_code}"
    assert answers == expected
