"""Starting checkout at the payment provider: for a paid app from the consent screen,
and for a trial's "Add a payment method" in "My apps".

Our subscription row is committed before the provider is called (house rule 5), and
a checkout that never started leaves nothing behind. The functions answer where to
send the customer, or why not; the pages turn that into a redirect and a message.
Access to a paid app comes only from a verified webhook (``billing.webhooks``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session

from accounts.models import User, Workspace
from billing.interfaces import PaymentProvider, ProviderError, ProviderUnavailable
from billing.models import Subscription
from billing.subscriptions import begin_paid_install, begin_trial_payment, open_checkout
from installs.models import Install
from installs.services import ConsentOutdated, InstallError, active_install, installable_release
from listings.models import Listing
from listings.plans import ListingPlan

log = logging.getLogger(__name__)

CHECKOUT_FAILED = ("We couldn't start the payment for this app. Please try again later or "
                   "contact support.")


@dataclass(frozen=True)
class CheckoutStart:
    """Where to send the customer: the provider's checkout page (``url``), or, when it
    did not start, back with ``message`` (shown as a ``category`` flash). ``to_listing``:
    the app cannot be installed, so back to its page rather than to the consent screen."""

    url: str | None = None
    message: str = ""
    category: str = "error"
    to_listing: bool = False


def needs_checkout(session: Session, workspace: Workspace, user: User, listing: Listing) -> bool:
    """True when installing ``listing`` into ``workspace`` must go through checkout; False
    when the ordinary install applies (also when the install will be refused: the
    install service says why, the same way as for free apps)."""
    if active_install(session, workspace, listing.id) is not None:
        return False
    try:
        return installable_release(session, workspace, user, listing).needs_payment
    except InstallError:
        return False


def start_install_checkout(session: Session, provider: PaymentProvider, workspace: Workspace,
                           user: User, listing: Listing, consented_release_id: int, *,
                           success_url: Callable[[int], str], cancel_url: str,
                           plan: ListingPlan | None = None) -> CheckoutStart:
    """Start the subscription of a paid app and its checkout at the provider (commits).

    ``success_url`` makes the return address from our subscription's id; the page
    there waits for the provider's confirmation and grants nothing itself. ``plan``:
    the price plan the customer chose (``listings.plans.chosen_plan``)."""
    try:
        subscription = begin_paid_install(session, workspace, user, listing,
                                          consented_release_id, provider, plan)
        session.commit()
    except ConsentOutdated as error:
        session.rollback()
        return CheckoutStart(message=str(error), category="warning")
    except InstallError as error:
        session.rollback()
        return CheckoutStart(message=str(error), to_listing=True)
    try:
        checkout = open_checkout(session, provider, subscription,
                                 success_url=success_url(subscription.id), cancel_url=cancel_url)
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
        drop_unstarted(session, subscription.id)
        return CheckoutStart(message=message)
    return CheckoutStart(url=checkout.url)


def start_trial_payment_checkout(session: Session, provider: PaymentProvider, install: Install,
                                 user: User, return_url: str) -> CheckoutStart:
    """A trial install's payment method: checkout in subscription mode for the trial
    days left, so the trial converts instead of expiring (commits)."""
    try:
        subscription, days_left = begin_trial_payment(session, install, user, provider)
        session.commit()
    except InstallError as error:
        session.rollback()
        return CheckoutStart(message=str(error))
    try:
        checkout = open_checkout(session, provider, subscription, trial_days=days_left,
                                 success_url=return_url, cancel_url=return_url)
        session.commit()
    except (ProviderUnavailable, ProviderError) as error:
        session.rollback()
        log.warning("Payment method checkout for install %s failed: %s", install.id,
                    getattr(error, "detail", "") or error)
        return CheckoutStart(message=str(error) if isinstance(error, ProviderUnavailable)
                             else CHECKOUT_FAILED)
    log.info("Payment method checkout started for %s",
             session.get(Listing, install.listing_id).slug)
    return CheckoutStart(url=checkout.url)


def drop_unstarted(session: Session, subscription_id: int) -> None:
    """Forget a subscription whose checkout never started: nothing half-made stays."""
    subscription = session.get(Subscription, subscription_id)
    if subscription is not None and subscription.provider_checkout_session_id is None:
        session.delete(subscription)
        session.commit()
