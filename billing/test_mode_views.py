"""Test mode: the local provider's simulated pages (checkout, Express onboarding, the
customer portal) and "Simulate a payout". Each makes the local provider send the signed
events Stripe would, to our own webhook handler (``billing.simulation``), so access
and payouts change the same way as with Stripe. All answer 404 when Stripe is the
provider."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from accounts.services import is_workspace_admin
from accounts.workspaces import current_workspace
from billing.account import portal_customer_id, workspace_billing
from billing.blueprint import bp
from billing.models import PayoutAccountStatus, ProviderObject
from billing.payouts import NothingToPayOut, payout_account, simulated_payouts
from billing.providers import get_provider
from billing.queries import local_checkout_subscription
from billing.simulation import (
    checkout_events,
    deliver_to_own_webhook,
    onboarding_completed_event,
    payout_events,
)
from core.db import get_session
from core.security import partner_required
from core.templating import format_money
from listings.models import Listing, Partner
from listings.plans import plan_of, plan_price


def _local_provider_or_404():
    """The local provider: its simulated pages don't exist when Stripe is the provider."""
    provider = get_provider()
    if getattr(provider, "name", None) != "local":
        abort(404)
    return provider


def _local_checkout(session, session_id: str):
    """The local checkout session and our subscription, for a workspace admin of the
    workspace that started it; 404 for anyone else or when Stripe is the provider."""
    provider = _local_provider_or_404()
    stored = provider.get("checkout_session", session_id)
    subscription = local_checkout_subscription(session, session_id)
    workspace = current_workspace(session, current_user)
    if (stored is None or subscription is None or workspace is None
            or workspace.id != subscription.workspace_id
            or not is_workspace_admin(session, workspace, current_user)):
        abort(404)
    return provider, stored, subscription


@bp.route("/billing/local-checkout/<session_id>")
@login_required
def local_checkout(session_id: str):
    """Test mode: a simulated checkout page; no real payment is taken."""
    session = get_session()
    _, stored, subscription = _local_checkout(session, session_id)
    listing = session.get(Listing, subscription.listing_id)
    plan = plan_of(session, listing, subscription.plan_id)
    return render_template("billing/local_checkout.html", session_id=session_id,
                           listing=listing, subscription=subscription, plan=plan,
                           plan_price=plan_price(listing, plan),
                           trial_days=int(stored.data["request"].get("trial_days") or 0),
                           completed=stored.data.get("status") == "complete")


@bp.route("/billing/local-checkout/<session_id>/pay", methods=["POST"])
@login_required
def local_checkout_pay(session_id: str):
    """Test mode: "pay", which makes the local provider send the signed events Stripe
    would, to our own webhook handler (in-process), so access is granted the same way."""
    session = get_session()
    provider, stored, subscription = _local_checkout(session, session_id)
    listing = session.get(Listing, subscription.listing_id)
    provider_subscription, events = checkout_events(
        session_id, stored.data["request"], listing, plan_of(session, listing, subscription.plan_id))
    session.commit()  # no open transaction while the local provider writes
    # Like Stripe, the provider holds the subscription before telling anyone about it
    # (kept once: paying twice finds the first, whatever happened to it since).
    provider.record_subscription(provider_subscription)
    for event in events:
        deliver_to_own_webhook(session, provider, event)
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
            for event in payout_events(account.provider_account_id, payout):
                deliver_to_own_webhook(session, provider, event)
        session.commit()
    except IntegrityError:
        # A double submit at the same moment: the other request applied the same
        # events (same ids), and this one changes nothing.
        session.rollback()
    paid = ", ".join(format_money(payout["amount"], payout["currency"]) for payout in held)
    flash(f"Payout simulated: {paid} paid out to your bank (test mode, no money moved).",
          "success")
    return redirect(url_for("billing.payouts"))


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
    deliver_to_own_webhook(session, provider,
                           onboarding_completed_event(link_id, account.provider_account_id))
    session.commit()
    flash("Onboarding complete (simulated): payouts are enabled.", "success")
    return redirect(link.data["request"]["return_url"], code=303)


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
