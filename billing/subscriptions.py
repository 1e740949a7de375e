"""Paying for an install: subscriptions, checkout, and granting access when the
payment provider confirms.

The flow (house rule 5: our rows first, the provider after commit):

1. ``begin_paid_install`` records an ``incomplete`` Subscription for the consented
   release (no install, no access); the view commits.
2. ``open_checkout`` makes the provider's objects (customer, product, price) and the
   hosted checkout session, with deterministic idempotency keys, and remembers the
   session id; the view commits and sends the admin to the session's URL.
3. A verified webhook (``billing.webhooks``) calls ``apply_subscription_state``: once
   the provider says the subscription is active or trialing, ``grant_access`` makes the
   install through the install service (the partner hears ``install.created``).
   The success redirect alone grants nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal

from flask import current_app
from sqlmodel import Session, col, select

from accounts.models import User, Workspace
from accounts.services import is_workspace_admin, notify
from billing.events import SubscriptionObject
from billing.interfaces import CheckoutSession
from billing.models import PAYING_STATUSES, Subscription, SubscriptionStatus
from billing.payouts import destination_for
from billing.plans import ensure_prices
from billing.revenue import fee_percent
from billing.usage_sender import billing_customer_id, provider_name
from core.db import utcnow
from installs.models import Install, InstallStatus, Trial, TrialStatus
from installs.services import (
    ConsentOutdated,
    InstallError,
    install_listing,
    installable_release,
    revoke_install,
)
from installs.trials import trial_days_left
from listings.models import Listing, Partner
from listings.plans import ListingPlan, plan_of

log = logging.getLogger(__name__)

# Stripe's subscription statuses mapped onto ours
# (https://docs.stripe.com/api/subscriptions/object#subscription_object-status).
_STATUS_FROM_PROVIDER = {
    "incomplete": SubscriptionStatus.INCOMPLETE,
    "incomplete_expired": SubscriptionStatus.CANCELED,
    "trialing": SubscriptionStatus.TRIALING,
    "active": SubscriptionStatus.ACTIVE,
    "past_due": SubscriptionStatus.PAST_DUE,
    "unpaid": SubscriptionStatus.PAST_DUE,
    "paused": SubscriptionStatus.PAST_DUE,
    "canceled": SubscriptionStatus.CANCELED,
}


def begin_paid_install(session: Session, workspace: Workspace, user: User, listing: Listing,
                       consented_release_id: int, provider,
                       plan: ListingPlan | None = None) -> Subscription:
    """Record that ``user`` wants ``listing`` in ``workspace`` and will pay for it, on
    ``plan`` (one of ``listings.plans.listing_plans``; None: the first).

    Raises ``InstallError`` (or ``ConsentOutdated``) when the install can't happen.
    A second confirm while checkout is still open reuses the same subscription, so
    it leads to the same checkout session. Makes no install: access comes from the
    provider's webhook. Does not commit.
    """
    price_plan = plan
    plan = installable_release(session, workspace, user, listing)
    if not plan.needs_payment:
        raise InstallError(f"{listing.name} needs no payment.")
    if consented_release_id != plan.release.id:
        raise ConsentOutdated("This app's requested access changed since you looked. "
                              "Please review it again.")
    name = provider_name(provider)
    pending = session.exec(select(Subscription).where(
        Subscription.workspace_id == workspace.id, Subscription.listing_id == listing.id,
        Subscription.provider == name, col(Subscription.install_id).is_(None),
        Subscription.status == SubscriptionStatus.INCOMPLETE)
        .order_by(col(Subscription.id).desc())).first()
    if pending is not None:
        pending.release_id, pending.started_by_id = plan.release.id, user.id
        # Another plan chosen this time: its checkout is another session (the
        # checkout's idempotency key names the plan).
        pending.plan_id = price_plan.id if price_plan else None
        pending.updated_at = utcnow()
        session.add(pending)
        return pending
    subscription = Subscription(workspace_id=workspace.id, listing_id=listing.id,
                                release_id=plan.release.id, started_by_id=user.id,
                                provider=name, plan_id=price_plan.id if price_plan else None)
    session.add(subscription)
    session.flush()
    return subscription


def begin_trial_payment(session: Session, install: Install, user: User,
                        provider) -> tuple[Subscription, int]:
    """Let a trial install's workspace add a payment method before the trial ends:
    a subscription for the install (reused on a second try), and the trial days left
    for its checkout. Raises ``InstallError`` when there is nothing to pay for or the
    user may not. Does not commit."""
    workspace = session.get(Workspace, install.workspace_id)
    listing = session.get(Listing, install.listing_id)
    if not is_workspace_admin(session, workspace, user):
        raise InstallError("Only an admin of your workspace can add a payment method.")
    trial = session.get(Trial, install.trial_id) if install.trial_id else None
    if install.status != InstallStatus.ACTIVE or trial is None \
            or trial.status != TrialStatus.ACTIVE:
        raise InstallError(f"{listing.name} is not on a free trial.")
    existing = session.exec(select(Subscription).where(
        Subscription.install_id == install.id)).first()
    if existing is not None and existing.status in PAYING_STATUSES:
        raise InstallError(f"Your workspace already pays for {listing.name}.")
    if existing is not None and existing.status == SubscriptionStatus.CANCELED:
        raise InstallError(f"The subscription to {listing.name} was cancelled; "
                           "reinstall the app to subscribe again.")
    if existing is None:
        existing = Subscription(workspace_id=workspace.id, listing_id=listing.id,
                                release_id=install.release_id, started_by_id=user.id,
                                install_id=install.id, provider=provider_name(provider),
                                plan_id=install.plan_id)
        session.add(existing)
        session.flush()
    # Stripe wants at least one trial day; a trial ending today keeps its last day.
    return existing, max(1, trial_days_left(trial))


def open_checkout(session: Session, provider, subscription: Subscription, *,
                  success_url: str, cancel_url: str, trial_days: int = 0) -> CheckoutSession:
    """Make the hosted checkout session for ``subscription`` at ``provider``.

    Call it after committing the subscription: the provider's objects are made (and
    remembered, committed) here, each create with a deterministic idempotency key,
    so retrying after ``ProviderUnavailable`` never makes a second customer, price or
    session. Records the session id on the subscription (the caller commits).
    """
    listing = session.get(Listing, subscription.listing_id)
    # The plan chosen at install: its price and interval are what the checkout charges.
    plan = plan_of(session, listing, subscription.plan_id)
    prices = ensure_prices(session, provider, listing, plan)
    customer_id = billing_customer_id(session, provider, subscription.workspace_id)
    # Destination charges once the partner can be paid: the partner's account gets the
    # charge, the platform keeps its fee by the partner's tier. Until then the platform
    # collects and the ledger still says what the partner is owed.
    destination, fee = destination_charge(session, provider, listing)
    checkout = provider.create_checkout_session(
        customer_id=customer_id, price_ids=prices.flat_price_ids,
        metered_price_ids=prices.metered_price_ids, trial_days=trial_days,
        # A trial checkout is for adding a card: ask for one even though nothing is due.
        collect_payment_method=trial_days > 0,
        success_url=success_url, cancel_url=cancel_url,
        metadata={"bazaar_subscription_id": str(subscription.id),
                  "workspace_id": str(subscription.workspace_id),
                  "listing_id": str(subscription.listing_id),
                  **({"plan_id": str(plan.id)} if plan.id else {})},
        application_fee_percent=fee, destination_account=destination,
        # The trial days left and the destination are part of the request, so they are
        # part of the key.
        idempotency_key=(f"checkout:subscription:{subscription.id}"
                         + (f":plan:{subscription.plan_id}" if subscription.plan_id else "")
                         + (f":trial:{trial_days}" if trial_days else "")
                         + (f":destination:{destination}" if destination else "")))
    subscription.provider_customer_id = customer_id
    subscription.provider_checkout_session_id = checkout.id
    subscription.updated_at = utcnow()
    session.add(subscription)
    return checkout


def destination_charge(session: Session, provider, listing: Listing) -> tuple[str | None, Decimal | None]:
    """``(connected account, application fee percent)`` for a checkout of ``listing``:
    the partner's enabled payout account and its tier's fee, or ``(None, None)``."""
    destination = destination_for(session, provider, listing.partner_id)
    if destination is None:
        return None, None
    partner = session.get(Partner, listing.partner_id)
    return destination, fee_percent(current_app.config, partner.tier)


def subscription_for(session: Session, provider_label: str, our_id: int | None,
                     provider_ids: Iterable[str | None]) -> Subscription | None:
    """Our subscription for a provider object (a checkout session, a subscription, an
    invoice): by ``our_id`` (the ``bazaar_subscription_id`` we put in its metadata,
    already validated by ``billing.events``), else by the provider's ids of the
    subscription or checkout session it names."""
    if our_id is not None:
        found = session.get(Subscription, our_id)
        if found is not None and found.provider == provider_label:
            return found
    provider_ids = [value for value in provider_ids if value]
    if not provider_ids:
        return None
    return session.exec(select(Subscription).where(
        Subscription.provider == provider_label,
        col(Subscription.provider_subscription_id).in_(provider_ids)
        | col(Subscription.provider_checkout_session_id).in_(provider_ids))).first()


def _moment(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def apply_subscription_state(session: Session, subscription: Subscription,
                             state: SubscriptionObject, now: datetime | None = None) -> None:
    """Bring ``subscription`` to the provider's subscription ``state`` (validated, from
    a verified webhook or the provider), whatever order the events came in: access is
    granted while it is active or trialing and revoked once it is canceled.
    Does not commit."""
    now = now or utcnow()
    if subscription.status == SubscriptionStatus.CANCELED:
        # Final at the provider: a late event from before the end changes nothing.
        return
    if state.id is not None and subscription.provider_subscription_id is None:
        subscription.provider_subscription_id = state.id
    status = _STATUS_FROM_PROVIDER.get(state.status or "")
    if status is not None:
        subscription.status = status
    subscription.trial_end = _moment(state.trial_end)
    subscription.current_period_end = (_moment(state.period_end)
                                       or subscription.current_period_end)
    subscription.cancel_at_period_end = bool(state.cancel_at_period_end)
    subscription.updated_at = now
    session.add(subscription)
    if subscription.status in (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING):
        grant_access(session, subscription, now=now)
    elif subscription.status == SubscriptionStatus.CANCELED:
        end_access(session, subscription, now=now)


def grant_access(session: Session, subscription: Subscription, now: datetime | None = None) -> None:
    """Install the app the subscription pays for, once (the partner gets
    ``install.created``). When it can't be installed any more (the app was delisted,
    the admin left), the workspace is told instead. Does not commit."""
    if subscription.install_id is not None:
        return
    workspace = session.get(Workspace, subscription.workspace_id)
    listing = session.get(Listing, subscription.listing_id)
    user = session.get(User, subscription.started_by_id)
    try:
        install, _ = install_listing(session, workspace, user, listing,
                                     consented_release_id=subscription.release_id,
                                     now=now, paid=True, plan_id=subscription.plan_id)
    except InstallError as error:
        log.warning("Paid subscription %s could not be installed: %s", subscription.id, error)
        notify(session, workspace.id, "billing",
               f"Your payment for {listing.name} went through, but the app could not be "
               f"installed: {error}", listing_id=listing.id)
        return
    paid_by = session.exec(select(Subscription.id).where(
        Subscription.install_id == install.id, Subscription.id != subscription.id)).first()
    if paid_by is not None:
        # The workspace already pays for this install through another subscription (two
        # checkouts of the same app): this one stays without an install, applied, for
        # an operator to cancel (one install has one subscription).
        log.warning("Subscription %s pays for %s, which subscription %s already pays for: "
                    "cancel one of them", subscription.id, listing.name, paid_by)
        return
    subscription.install_id = install.id
    session.add(subscription)
    session.flush()


def end_access(session: Session, subscription: Subscription, now: datetime | None = None) -> None:
    """The subscription is over: revoke its install (the partner gets
    ``install.uninstalled``) and tell the workspace. Does not commit."""
    install = session.get(Install, subscription.install_id) if subscription.install_id else None
    if install is None or install.status != InstallStatus.ACTIVE:
        return
    listing = session.get(Listing, subscription.listing_id)
    revoke_install(session, install, now=now)
    notify(session, subscription.workspace_id, "billing",
           f"Your subscription to {listing.name} ended, so the app was uninstalled and its "
           "access revoked.", listing_id=listing.id)


def is_paying(subscription: Subscription) -> bool:
    """Whether the subscription currently grants access."""
    return subscription.status in PAYING_STATUSES


def cancel_ended_subscriptions(session: Session, provider, workspace_id: int | None = None,
                               now: datetime | None = None) -> int:
    """Stop charging for apps that are gone: cancel, at the provider, every
    subscription still paying for an install that is no longer active
    (uninstalled, or its workspace deleted), and mark it cancelled here.

    Run after the commit that removed the install (house rule 5): by the
    uninstall and account-deletion views for their workspace, and for everyone
    by ``flask billing cancel-ended`` from cron, which catches up after a
    provider outage. Each cancellation carries a deterministic idempotency key
    and is committed on its own. ``ProviderUnavailable`` propagates with the
    ones done so far kept. Returns how many were cancelled.
    """
    now = now or utcnow()
    query = (select(Subscription)
             .join(Install, col(Install.id) == Subscription.install_id)
             .where(col(Subscription.status).in_([SubscriptionStatus.TRIALING,
                                                  SubscriptionStatus.ACTIVE,
                                                  SubscriptionStatus.PAST_DUE]),
                    Install.status != InstallStatus.ACTIVE)
             .order_by(Subscription.id))
    if workspace_id is not None:
        query = query.where(Subscription.workspace_id == workspace_id)
    ended = list(session.exec(query).all())
    session.commit()  # no open transaction while the (local) provider writes
    for subscription in ended:
        if subscription.provider_subscription_id:
            provider.cancel_subscription(
                subscription_id=subscription.provider_subscription_id,
                idempotency_key=f"cancel:subscription:{subscription.id}")
        subscription.status = SubscriptionStatus.CANCELED
        subscription.updated_at = now
        session.add(subscription)
        session.commit()
    return len(ended)
