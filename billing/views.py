"""Billing pages: checkout for paid installs, the payment provider's webhook endpoint,
and the local provider's simulated (test mode) checkout page.

Access to a paid app comes only from a verified webhook (``billing.webhooks``); the
checkout's success redirect lands on a "waiting for payment confirmation" page that
grants nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from datetime import timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import select

from billing.account import portal_customer_id, workspace_billing
from billing.events import UnusableEvent
from billing.interfaces import (
    InvalidWebhook,
    ProviderError,
    ProviderUnavailable,
    short_lived_key,
)
from billing.ledger import partner_totals
from billing.models import PayoutAccountStatus, ProviderObject, Subscription
from billing.payouts import (
    PAYOUTS_PER_PAGE,
    NothingToPayOut,
    ensure_payout_account,
    partner_payouts,
    payout_account,
    payout_balances,
    simulated_payouts,
    unresolved_failures,
)
from billing.providers import get_provider
from billing.revenue import fee_percent
from billing.subscriptions import begin_paid_install, begin_trial_payment, open_checkout
from billing.webhooks import already_processed, process_event, receive_webhook
from listings.models import Listing, Partner, PricingModel
from storefront.db import get_session
from storefront.extensions import csrf
from storefront.templating import format_money
from storefront.models import Install, InstallStatus
from storefront.pagination import page_count, page_number
from storefront.security import partner_required
from storefront.services import (
    ConsentOutdated,
    InstallError,
    active_install,
    current_workspace,
    installable_release,
    is_workspace_admin,
)

log = logging.getLogger(__name__)

bp = Blueprint("billing", __name__)

CHECKOUT_FAILED = ("We couldn't start the payment for this app. Please try again later or "
                   "contact support.")


@bp.app_context_processor
def _billing_helpers():
    """For "My apps": whether an install's workspace already gave a card for it."""

    def pays_for(install: Install) -> bool:
        from storefront.models import Workspace
        from storefront.services import has_payment_method

        session = get_session()
        return has_payment_method(session, session.get(Workspace, install.workspace_id),
                                  listing_id=install.listing_id)

    return {"pays_for": pays_for}


def paid_install_checkout(session, workspace, listing: Listing, consented_release_id: int):
    """For the consent screen's confirm: when ``listing`` must be paid for, start its
    checkout and return the redirect to it (or back to the consent screen with the
    reason); None when the ordinary install applies."""
    if active_install(session, workspace, listing.id) is not None:
        return None
    try:
        if not installable_release(session, workspace, current_user, listing).needs_payment:
            return None
    except InstallError:
        return None  # the install service says why, the same way as for free apps
    provider = get_provider()
    consent_url = url_for("installs.consent", slug=listing.slug)
    try:
        subscription = begin_paid_install(session, workspace, current_user, listing,
                                          consented_release_id, provider)
        session.commit()
    except ConsentOutdated as error:
        session.rollback()
        flash(str(error), "warning")
        return redirect(consent_url)
    except InstallError as error:
        session.rollback()
        flash(str(error), "error")
        return redirect(url_for("storefront.listing", slug=listing.slug))
    # The provider is called only after our subscription is committed (house rule 5).
    try:
        checkout = open_checkout(
            session, provider, subscription,
            success_url=url_for("billing.checkout_pending", subscription_id=subscription.id,
                                _external=True),
            cancel_url=url_for("storefront.listing", slug=listing.slug, _external=True))
        session.commit()
    except (ProviderUnavailable, ProviderError) as error:
        session.rollback()
        if isinstance(error, ProviderUnavailable):
            log.warning("Checkout for subscription %s: provider unavailable (%s)",
                        subscription.id, error.detail)
            message = str(error)
        else:
            log.error("Checkout for subscription %s refused by the provider: %s",
                      subscription.id, error)
            message = CHECKOUT_FAILED
        _drop_unstarted(session, subscription.id)
        flash(message, "error")
        return redirect(consent_url)
    return redirect(checkout.url, code=303)


@bp.route("/my/apps/<int:install_id>/payment-method", methods=["POST"])
@login_required
def add_payment_method(install_id: int):
    """A trial install's "Add a payment method": checkout in subscription mode for the
    trial days left, so the trial converts instead of expiring (workspace admins)."""
    session = get_session()
    workspace = current_workspace(session, current_user)
    install = session.get(Install, install_id)
    if workspace is None or install is None or install.workspace_id != workspace.id:
        abort(404)
    provider = get_provider()
    try:
        subscription, days_left = begin_trial_payment(session, install, current_user, provider)
        session.commit()
    except InstallError as error:
        session.rollback()
        flash(str(error), "error")
        return redirect(url_for("installs.my_apps"))
    listing = session.get(Listing, install.listing_id)
    try:
        checkout = open_checkout(
            session, provider, subscription, trial_days=days_left,
            success_url=url_for("installs.my_apps", _external=True),
            cancel_url=url_for("installs.my_apps", _external=True))
        session.commit()
    except (ProviderUnavailable, ProviderError) as error:
        session.rollback()
        log.warning("Payment method checkout for install %s failed: %s", install.id,
                    getattr(error, "detail", "") or error)
        flash(str(error) if isinstance(error, ProviderUnavailable) else CHECKOUT_FAILED, "error")
        return redirect(url_for("installs.my_apps"))
    log.info("Payment method checkout started for %s", listing.slug)
    return redirect(checkout.url, code=303)


def _drop_unstarted(session, subscription_id: int) -> None:
    """Forget a subscription whose checkout never started: nothing half-made stays."""
    subscription = session.get(Subscription, subscription_id)
    if subscription is not None and subscription.provider_checkout_session_id is None:
        session.delete(subscription)
        session.commit()


def _own_subscription(session, subscription_id: int) -> Subscription:
    workspace = current_workspace(session, current_user)
    subscription = session.get(Subscription, subscription_id)
    if workspace is None or subscription is None or subscription.workspace_id != workspace.id:
        abort(404)
    return subscription


@bp.route("/my/apps/checkout/<int:subscription_id>")
@login_required
def checkout_pending(subscription_id: int):
    """Where checkout sends the customer back: the app is installed only once the
    payment provider confirms the payment (a verified webhook), never by this page."""
    session = get_session()
    subscription = _own_subscription(session, subscription_id)
    listing = session.get(Listing, subscription.listing_id)
    install = session.get(Install, subscription.install_id) if subscription.install_id else None
    if install is not None and install.status == InstallStatus.ACTIVE:
        return redirect(url_for("installs.installed", install_id=install.id))
    return render_template("billing/pending.html", subscription=subscription, listing=listing)


@csrf.exempt
@bp.route("/billing/webhooks/stripe", methods=["POST"])
def stripe_webhook():
    """The payment provider's signed events. 2xx only once the event is applied
    (or was already): Stripe never delivers a 2xx'd event again, and delivers any other
    answer again later (https://docs.stripe.com/webhooks#retries). So: 400 for a bad,
    stale or future signature or an event of a shape we cannot use (nothing changes,
    and no redelivery will change that); 503 when the provider could not be asked or
    the event lost a race with another one (rolled back; the redelivery applies it);
    200 for an applied event or a replay."""
    session = get_session()
    provider = get_provider()
    try:
        event = provider.parse_webhook(request.get_data(),
                                       request.headers.get("Stripe-Signature") or "")
        process_event(session, provider, event)
        session.commit()
    except UnusableEvent as error:
        session.rollback()
        log.warning("Webhook %s (%s) refused, its shape is unusable: %s",
                    error.event_id or "without an id", error.event_type or "no type", error)
        return {"error": "The event has a shape we cannot use."}, 400
    except InvalidWebhook as error:
        session.rollback()
        log.warning("Webhook refused: %s", error)
        return {"error": str(error)}, 400
    except (ProviderUnavailable, ProviderError) as error:
        # Reading the subscription's current state failed: nothing was applied, and
        # the provider delivers the event again later.
        session.rollback()
        log.warning("Webhook %s not applied, the provider could not answer: %s", event.id,
                    getattr(error, "detail", "") or error)
        return {"error": "Try again later."}, 503
    except (IntegrityError, OperationalError) as error:
        # Rolled back whole: a concurrent delivery of the same event (it applied it),
        # or another event that wrote the same row first (an invoice, an install), or a
        # deadlock or lock timeout. Only the first is done; the others are retried.
        session.rollback()
        if already_processed(session, provider, event.id):
            return {"received": True}, 200
        log.warning("Webhook %s (%s) not applied, it ran into another transaction (%s): "
                    "answered 503 so the provider delivers it again", event.id, event.type,
                    type(error.orig).__name__ if error.orig is not None else "conflict")
        return {"error": "Try again later."}, 503
    return {"received": True}, 200


# --- the local provider's simulated checkout (test mode) --------------------------------------


def _local_checkout(session, session_id: str):
    """The local checkout session and our subscription, for a workspace admin of the
    workspace that started it; 404 for anyone else or when Stripe is the provider."""
    provider = _local_provider_or_404()
    stored = provider.get("checkout_session", session_id)
    subscription = session.exec(select(Subscription).where(
        Subscription.provider == "local",
        Subscription.provider_checkout_session_id == session_id)).first()
    workspace = current_workspace(session, current_user)
    if (stored is None or subscription is None or workspace is None
            or workspace.id != subscription.workspace_id
            or not is_workspace_admin(session, workspace, current_user)):
        abort(404)
    return provider, stored, subscription


def _local_provider_or_404():
    """The local provider: its simulated pages don't exist when Stripe is the provider."""
    provider = get_provider()
    if getattr(provider, "name", None) != "local":
        abort(404)
    return provider


@bp.route("/billing/local-checkout/<session_id>")
@login_required
def local_checkout(session_id: str):
    """Test mode: a simulated checkout page; no real payment is taken."""
    session = get_session()
    _, stored, subscription = _local_checkout(session, session_id)
    listing = session.get(Listing, subscription.listing_id)
    return render_template("billing/local_checkout.html", session_id=session_id,
                           listing=listing, subscription=subscription,
                           trial_days=int(stored.data["request"].get("trial_days") or 0),
                           completed=stored.data.get("status") == "complete")


def _local_event_id(session_id: str, event_type: str) -> str:
    # The same for every click on "Pay": a second click is a replayed event.
    return "evt_local_" + hashlib.sha256(f"{session_id}:{event_type}".encode()).hexdigest()[:24]


def _first_invoice_amount(listing: Listing, trial_days: int) -> int:
    """What the subscription's first invoice charges: the flat price, paid up front.
    Like Stripe, a subscription that starts with a trial, or on a usage-based plan
    (whose units are billed in arrears), starts with a paid invoice of 0."""
    if trial_days or listing.pricing_model != PricingModel.FLAT_MONTHLY:
        return 0
    return int(listing.monthly_price)


def _simulated_events(session_id: str, request_data: dict,
                      listing: Listing) -> tuple[dict, list[dict]]:
    """The subscription a completed checkout makes, and what Stripe then sends, in its
    order, ending with the subscription's first invoice, paid (of 0 during a trial, as
    Stripe's is: https://docs.stripe.com/billing/subscriptions/trials)."""
    now = int(time.time())
    trial_days = int(request_data.get("trial_days") or 0)
    subscription_id = "sub_local_" + session_id.rsplit("_", 1)[-1]
    metadata = dict(request_data.get("metadata") or {})
    customer = request_data.get("customer")
    subscription = {
        "id": subscription_id, "object": "subscription", "customer": customer,
        "status": "trialing" if trial_days else "active", "metadata": metadata,
        "trial_end": now + trial_days * 86400 if trial_days else None,
        "current_period_end": now + int(timedelta(days=trial_days or 30).total_seconds()),
        "cancel_at_period_end": False,
    }
    checkout = {
        "id": session_id, "object": "checkout.session", "mode": "subscription",
        "status": "complete", "customer": customer, "subscription": subscription_id,
        "payment_status": "no_payment_required" if trial_days else "paid", "metadata": metadata,
    }
    amount = _first_invoice_amount(listing, trial_days)
    invoice = {
        "id": "in_local_" + session_id.rsplit("_", 1)[-1], "object": "invoice",
        "customer": customer, "subscription": subscription_id, "status": "paid",
        "billing_reason": "subscription_create",
        "currency": listing.currency.lower(), "amount_due": amount, "amount_paid": amount,
        "lines": {"object": "list", "data": [{"period": {
            "start": now, "end": subscription["current_period_end"]}}]},
        "status_transitions": {"paid_at": now}, "hosted_invoice_url": None,
        "subscription_details": {"metadata": metadata},
    }
    events = [("checkout.session.completed", checkout),
              ("customer.subscription.created", subscription),
              ("invoice.paid", invoice)]
    return subscription, [{"id": _local_event_id(session_id, kind), "object": "event",
                           "type": kind, "created": now, "data": {"object": data}}
                          for kind, data in events]


@bp.route("/billing/local-checkout/<session_id>/pay", methods=["POST"])
@login_required
def local_checkout_pay(session_id: str):
    """Test mode: "pay", which makes the local provider send the signed events Stripe
    would, to our own webhook handler (in-process), so access is granted the same way."""
    session = get_session()
    provider, stored, subscription = _local_checkout(session, session_id)
    listing = session.get(Listing, subscription.listing_id)
    provider_subscription, events = _simulated_events(session_id, stored.data["request"],
                                                      listing)
    session.commit()  # no open transaction while the local provider writes
    # Like Stripe, the provider holds the subscription before telling anyone about it
    # (kept once: paying twice finds the first, whatever happened to it since).
    provider.record_subscription(provider_subscription)
    for event in events:
        payload = json.dumps(event).encode()
        receive_webhook(session, provider, payload, provider.sign_webhook(payload))
    # The simulated session is complete now, as Stripe's would be.
    row = session.get(ProviderObject, stored.id)
    row.data = {**row.data, "status": "complete"}
    session.add(row)
    session.commit()
    return redirect(stored.data["request"]["success_url"], code=303)


@bp.route("/billing/local-checkout/<session_id>/cancel", methods=["POST"])
@login_required
def local_checkout_cancel(session_id: str):
    """Test mode: leave the simulated checkout without paying; nothing is installed."""
    session = get_session()
    _, stored, subscription = _local_checkout(session, session_id)
    listing = session.get(Listing, subscription.listing_id)
    flash(f"Checkout cancelled: {listing.name} was not installed and nothing was charged.", "info")
    return redirect(stored.data["request"]["cancel_url"], code=303)


# --- partners' payouts (Connect Express) -------------------------------------------------


@bp.route("/partner/payouts")
@partner_required
def payouts():
    """The partner's payout account status, its ledger totals and balance not yet paid
    out per currency, and its payouts to its bank, newest first (25 a page)."""
    session = get_session()
    provider = get_provider()
    partner = session.get(Partner, current_user.partner_id)
    page = page_number()
    history, total = partner_payouts(session, partner.id, page)
    return render_template("billing/payouts.html", partner=partner,
                           account=payout_account(session, provider, partner.id),
                           totals=partner_totals(session, partner.id),
                           balances=payout_balances(session, partner.id),
                           payouts=history, page=page,
                           pages=page_count(total, PAYOUTS_PER_PAGE),
                           failures=unresolved_failures(session, partner.id),
                           fee=fee_percent(current_app.config, partner.tier),
                           test_mode=getattr(provider, "test_mode", False))


@bp.route("/partner/payouts/simulate", methods=["POST"])
@partner_required
def simulate_payout():
    """Test mode: "Simulate a payout", which pays out the connected account's whole
    available balance by making the local provider send the signed ``payout.created``
    and ``payout.paid`` Stripe would, to our own webhook handler (in-process). 404 when
    Stripe is the provider: real payouts follow Stripe's schedule."""
    session = get_session()
    provider = _local_provider_or_404()
    account = payout_account(session, provider, current_user.partner_id)
    if account is None or account.status != PayoutAccountStatus.ENABLED:
        flash("Set up payouts first: a payout needs an enabled payout account.", "error")
        return redirect(url_for("billing.payouts"))
    try:
        payouts_to_make = simulated_payouts(session, account)
    except NothingToPayOut as error:
        flash(str(error), "info")
        return redirect(url_for("billing.payouts"))
    session.commit()  # no open transaction while the local provider writes
    # Like Stripe, the provider holds the payouts before telling anyone about them (each
    # kept once per id: a double submit finds the payout the first one made).
    held = [provider.record_payout(account.provider_account_id, payout)
            for payout in payouts_to_make]
    try:
        for payout in held:
            for event_type, status in (("payout.created", "pending"), ("payout.paid", "paid")):
                event = {"id": _local_event_id(payout["id"], event_type), "object": "event",
                         "type": event_type, "account": account.provider_account_id,
                         "created": int(time.time()),
                         "data": {"object": {**payout, "status": status}}}
                payload = json.dumps(event).encode()
                receive_webhook(session, provider, payload, provider.sign_webhook(payload))
        session.commit()
    except IntegrityError:
        # A double submit at the same moment: the other request applied the same
        # events (same ids), and this one changes nothing.
        session.rollback()
    paid = ", ".join(format_money(payout["amount"], payout["currency"]) for payout in held)
    flash(f"Payout simulated: {paid} paid out to your bank (test mode, no money moved).",
          "success")
    return redirect(url_for("billing.payouts"))


@bp.route("/partner/payouts/setup", methods=["POST"])
@partner_required
def start_payouts():
    """"Set up payouts": the partner's Express account (made once) and a fresh
    onboarding link at the provider, where the partner is sent."""
    session = get_session()
    provider = get_provider()
    partner = session.get(Partner, current_user.partner_id)
    back = url_for("billing.payouts", _external=True)
    try:
        account = ensure_payout_account(session, provider, partner, current_user.email)
        link = provider.create_account_link(
            account_id=account.provider_account_id, refresh_url=back, return_url=back,
            idempotency_key=short_lived_key(f"account_link:partner:{partner.id}"))
    except (ProviderUnavailable, ProviderError) as error:
        session.rollback()
        log.warning("Payout setup for partner %s failed: %s", partner.id,
                    getattr(error, "detail", "") or error)
        flash(str(error) if isinstance(error, ProviderUnavailable)
              else "We couldn't set up payouts right now. Please try again later or "
                   "contact support.", "error")
        return redirect(url_for("billing.payouts"))
    return redirect(link, code=303)


def _local_onboarding(session, link_id: str):
    """The local account link and the payout account it is for, for a member of the
    partner that owns it; 404 for anyone else or when Stripe is the provider."""
    provider = _local_provider_or_404()
    link = provider.get("account_link", link_id)
    account = payout_account(session, provider, current_user.partner_id)
    if link is None or account is None \
            or link.data["request"].get("account") != account.provider_account_id:
        abort(404)
    return provider, link, account


@bp.route("/billing/local-onboarding/<link_id>")
@partner_required
def local_onboarding(link_id: str):
    """Test mode: a simulated Express onboarding page; nothing is sent anywhere."""
    session = get_session()
    _, _, account = _local_onboarding(session, link_id)
    return render_template("billing/local_onboarding.html", link_id=link_id, account=account,
                           partner=session.get(Partner, account.partner_id))


@bp.route("/billing/local-onboarding/<link_id>/complete", methods=["POST"])
@partner_required
def local_onboarding_complete(link_id: str):
    """Test mode: "complete onboarding", which makes the local provider send the signed
    ``account.updated`` Stripe would, to our own webhook handler (in-process)."""
    session = get_session()
    provider, link, account = _local_onboarding(session, link_id)
    event = {"id": _local_event_id(link_id, "account.updated"), "object": "event",
             "type": "account.updated", "created": int(time.time()),
             "data": {"object": {"id": account.provider_account_id, "object": "account",
                                 "type": "express", "charges_enabled": True,
                                 "payouts_enabled": True, "details_submitted": True}}}
    payload = json.dumps(event).encode()
    receive_webhook(session, provider, payload, provider.sign_webhook(payload))
    session.commit()
    flash("Onboarding complete (simulated): payouts are enabled.", "success")
    return redirect(link.data["request"]["return_url"], code=303)


# --- the customer's billing page and portal ----------------------------------------------


@bp.route("/my/billing")
@login_required
def my_billing():
    """The workspace's subscriptions, usage this period and invoices."""
    session = get_session()
    workspace = current_workspace(session, current_user)
    if workspace is None:
        return render_template("billing/my_billing.html", workspace=None)
    return render_template("billing/my_billing.html", workspace=workspace,
                           billing=workspace_billing(session, workspace.id),
                           is_admin=is_workspace_admin(session, workspace, current_user))


@bp.route("/my/billing/portal", methods=["POST"])
@login_required
def billing_portal():
    """"Manage cards and invoices": a customer portal session at the provider
    (workspace admins)."""
    session = get_session()
    workspace = current_workspace(session, current_user)
    if workspace is None:
        abort(404)
    if not is_workspace_admin(session, workspace, current_user):
        flash("Only an admin of your workspace can manage its cards and invoices.", "error")
        return redirect(url_for("billing.my_billing"))
    provider = get_provider()
    customer_id = portal_customer_id(session, provider, workspace.id)
    if customer_id is None:
        flash("Your workspace has not paid for an app yet: there are no cards or invoices "
              "to manage.", "info")
        return redirect(url_for("billing.my_billing"))
    session.commit()  # no open transaction while the (local) provider writes
    try:
        url = provider.create_portal_session(
            customer_id=customer_id, return_url=url_for("billing.my_billing", _external=True),
            idempotency_key=short_lived_key(f"portal:workspace:{workspace.id}"))
    except (ProviderUnavailable, ProviderError) as error:
        log.warning("Billing portal for workspace %s failed: %s", workspace.id,
                    getattr(error, "detail", "") or error)
        flash(str(error) if isinstance(error, ProviderUnavailable)
              else "We couldn't open the billing portal. Please try again later or contact "
                   "support.", "error")
        return redirect(url_for("billing.my_billing"))
    return redirect(url, code=303)


@bp.route("/billing/local-portal/<portal_id>")
@login_required
def local_portal(portal_id: str):
    """Test mode: a simulated customer portal listing the workspace's invoices."""
    session = get_session()
    provider = _local_provider_or_404()
    workspace = current_workspace(session, current_user)
    stored = provider.get("portal_session", portal_id)
    request_data = stored.data["request"] if stored is not None else {}
    if workspace is None or stored is None \
            or request_data.get("customer") != portal_customer_id(session, provider, workspace.id):
        abort(404)
    return render_template("billing/local_portal.html", workspace=workspace,
                           billing=workspace_billing(session, workspace.id),
                           return_url=request_data.get("return_url"))


def init_app(app) -> None:
    """Register the billing pages and the webhook endpoint."""
    app.register_blueprint(bp)
