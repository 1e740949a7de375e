"""Billing pages for customers: the workspace's subscriptions, usage and invoices, the
provider's customer portal, a trial's "Add a payment method", and the page checkout
returns to (which grants nothing: access comes only from a verified webhook)."""

from __future__ import annotations

import logging

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from accounts.services import is_workspace_admin
from accounts.workspaces import current_workspace
from billing.account import portal_customer_id, workspace_billing
from billing.blueprint import bp
from billing.checkout import start_trial_payment_checkout
from billing.interfaces import ProviderError, ProviderUnavailable, short_lived_key
from billing.providers import get_provider
from billing.queries import has_payment_method, workspace_subscription
from core.db import get_session
from installs.models import Install, InstallStatus
from listings.models import Listing

log = logging.getLogger(__name__)


@bp.app_context_processor
def _billing_helpers():
    """For "My apps": whether an install's workspace already gave a card for it."""

    def pays_for(install: Install) -> bool:
        session = get_session()
        return has_payment_method(session, install.workspace_id, listing_id=install.listing_id)

    return {"pays_for": pays_for}


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
    start = start_trial_payment_checkout(session, get_provider(), install, current_user,
                                         return_url=url_for("installs.my_apps", _external=True))
    if start.url is None:
        flash(start.message, start.category)
        return redirect(url_for("installs.my_apps"))
    return redirect(start.url, code=303)


@bp.route("/my/apps/checkout/<int:subscription_id>")
@login_required
def checkout_pending(subscription_id: int):
    """Where checkout sends the customer back: the app is installed only once the
    payment provider confirms the payment (a verified webhook), never by this page."""
    session = get_session()
    workspace = current_workspace(session, current_user)
    subscription = (workspace_subscription(session, workspace.id, subscription_id)
                    if workspace is not None else None)
    if subscription is None:
        abort(404)
    listing = session.get(Listing, subscription.listing_id)
    install = session.get(Install, subscription.install_id) if subscription.install_id else None
    if install is not None and install.status == InstallStatus.ACTIVE:
        return redirect(url_for("installs.installed", install_id=install.id))
    return render_template("billing/pending.html", subscription=subscription, listing=listing)


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
