"""Billing pages for partners: their payout account (Connect Express), the ledger's
totals, the balance not yet paid out and the payouts to their bank. The revenue page
is in ``billing.revenue_views``; the simulated payout in ``billing.test_mode_views``."""

from __future__ import annotations

import logging

from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from billing.blueprint import bp
from billing.interfaces import ProviderError, ProviderUnavailable, short_lived_key
from billing.ledger import partner_totals
from billing.payouts import (
    PAYOUTS_PER_PAGE,
    ensure_payout_account,
    partner_payouts,
    payout_account,
    payout_balances,
    unresolved_failures,
)
from billing.providers import get_provider
from billing.revenue import fee_percent
from core.db import get_session
from core.pagination import page_count, page_number
from core.security import partner_required
from listings.models import Partner

log = logging.getLogger(__name__)


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
