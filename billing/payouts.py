"""Partners' payout accounts (Stripe Connect Express): made once per partner, onboarded
through the provider's account link, and kept in step by ``account.updated``; and the
payouts the provider then makes from a connected account to the partner's bank, kept
in step by the connected account's ``payout.*`` events.

https://docs.stripe.com/connect/express-accounts
https://docs.stripe.com/api/payouts/object
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, func, select

from billing.models import LedgerEntry, Payout, PayoutAccount, PayoutAccountStatus, PayoutStatus
from billing.usage_sender import provider_name
from core.db import as_utc, utcnow
from listings.models import Partner

log = logging.getLogger(__name__)

# How far along a payout is. Stripe does not promise the order of events, so an older
# event (a lower rank) never replaces a newer state: pending -> in_transit -> paid,
# and a paid payout can still fail (the bank returns it days later), while failed and
# canceled are final. https://docs.stripe.com/payouts#payout-statuses
PAYOUT_STATUS_RANK = {
    PayoutStatus.PENDING: 0,
    PayoutStatus.IN_TRANSIT: 1,
    PayoutStatus.PAID: 2,
    PayoutStatus.FAILED: 3,
    PayoutStatus.CANCELED: 3,
}
# Payouts that take money out of the partner's balance: sent, or on their way.
OUTGOING_STATUSES = (PayoutStatus.PENDING, PayoutStatus.IN_TRANSIT, PayoutStatus.PAID)
IN_FLIGHT_STATUSES = (PayoutStatus.PENDING, PayoutStatus.IN_TRANSIT)
# The partner's payouts page lists this many payouts at a time.
PAYOUTS_PER_PAGE = 25


def payout_account(session: Session, provider, partner_id: int) -> PayoutAccount | None:
    """The partner's payout account at ``provider``, if one was made."""
    return session.exec(select(PayoutAccount).where(
        PayoutAccount.provider == provider_name(provider),
        PayoutAccount.partner_id == partner_id)).first()


def ensure_payout_account(session: Session, provider, partner: Partner, email: str) -> PayoutAccount:
    """The partner's payout account, creating the Express account at the provider once
    (idempotency key ``account:partner:<id>``) and recording it. Call it with no write
    of your own pending: it commits the row (like a remote call, what the provider
    made must be remembered). ``ProviderUnavailable``/``ProviderError`` pass through."""
    known = payout_account(session, provider, partner.id)
    if known is not None:
        return known
    session.commit()  # no open transaction while the (local) provider writes
    account_id = provider.create_express_account(
        email=email, metadata={"partner_id": str(partner.id)},
        idempotency_key=f"account:partner:{partner.id}")
    # Two partner members clicking at once: the first row wins, the second is kept out.
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = utcnow()
    session.execute(insert(PayoutAccount).values(
        partner_id=partner.id, provider=provider_name(provider), provider_account_id=account_id,
        status=PayoutAccountStatus.PENDING, charges_enabled=False, payouts_enabled=False,
        details_submitted=False, created_at=now, updated_at=now,
    ).on_conflict_do_nothing(index_elements=["provider", "partner_id"]))
    session.commit()
    return payout_account(session, provider, partner.id)


def account_status(account: dict) -> PayoutAccountStatus:
    """Our status for the provider's account object: enabled once charges and payouts
    are, restricted when the provider disabled it or details are in but it is still
    not enabled, else pending (onboarding not finished)."""
    if account.get("charges_enabled") and account.get("payouts_enabled"):
        return PayoutAccountStatus.ENABLED
    disabled = (account.get("requirements") or {}).get("disabled_reason")
    if account.get("details_submitted") or disabled:
        return PayoutAccountStatus.RESTRICTED
    return PayoutAccountStatus.PENDING


def apply_account_state(session: Session, provider_label: str, account: dict,
                        now: datetime | None = None) -> PayoutAccount | None:
    """Bring our payout account to the provider's ``account`` object (from a verified
    ``account.updated``); None for an account that isn't ours. Does not commit."""
    found = session.exec(select(PayoutAccount).where(
        PayoutAccount.provider == provider_label,
        PayoutAccount.provider_account_id == str(account.get("id") or ""))).first()
    if found is None:
        return None
    found.charges_enabled = bool(account.get("charges_enabled"))
    found.payouts_enabled = bool(account.get("payouts_enabled"))
    found.details_submitted = bool(account.get("details_submitted"))
    found.status = account_status(account)
    found.updated_at = now or utcnow()
    session.add(found)
    return found


def destination_for(session: Session, provider, partner_id: int) -> str | None:
    """The connected account charges for the partner's apps go to: its payout
    account's id when enabled, else None (the platform collects, pays out later)."""
    account = payout_account(session, provider, partner_id)
    if account is None or account.status != PayoutAccountStatus.ENABLED:
        return None
    return account.provider_account_id


# --- payouts to the partner's bank --------------------------------------------------------


def _moment(value) -> datetime | None:
    """A Stripe timestamp (unix seconds) as aware UTC; None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return datetime.fromtimestamp(int(value), UTC)


def failure_text(payout: dict) -> str | None:
    """What to tell the partner about a failed payout: the provider's own message, or,
    when it gave only a code, that code in a sentence."""
    message = payout.get("failure_message")
    if isinstance(message, str) and message.strip():
        return message.strip()[:1000]
    code = payout.get("failure_code")
    if isinstance(code, str) and code:
        return f"The bank did not accept the payout (reason: {code[:100]})."
    return None


def apply_payout_state(session: Session, provider_label: str, account_id: str | None,
                       payout: dict, now: datetime | None = None) -> Payout | None:
    """Create or update our copy of the provider's ``payout`` object (from a verified
    ``payout.*`` event on the connected account ``account_id``, dated ``now``).

    Returns None, changing nothing, for an account that is not a partner's, or a
    payout without an id or with a status we don't know. An event older than what we
    hold (a lower status rank, or the same rank and an earlier date) changes nothing:
    a late ``payout.updated`` (in transit) never moves a paid payout back.
    Does not commit."""
    now = now or utcnow()
    account = session.exec(select(PayoutAccount).where(
        PayoutAccount.provider == provider_label,
        PayoutAccount.provider_account_id == str(account_id or ""))).first()
    payout_id = payout.get("id")
    status = payout.get("status")
    if account is None or not isinstance(payout_id, str) or not payout_id:
        return None
    if status not in PAYOUT_STATUS_RANK:
        log.warning("Payout %s has a status we don't know (%r): ignored", payout_id, status)
        return None
    found = session.exec(select(Payout).where(
        Payout.provider == provider_label, Payout.provider_payout_id == payout_id)).first()
    if found is None:
        found = Payout(provider=provider_label, provider_payout_id=payout_id,
                       partner_id=account.partner_id, payout_account_id=account.id,
                       currency="usd", amount=0,
                       created_at=_moment(payout.get("created")) or now)
    elif found.payout_account_id != account.id:
        log.warning("Payout %s reported for another connected account: ignored", payout_id)
        return None
    else:
        held, reported = PAYOUT_STATUS_RANK[PayoutStatus(found.status)], PAYOUT_STATUS_RANK[status]
        if reported < held or (reported == held and now < as_utc(found.updated_at)):
            return found  # older news than what we hold
    amount = payout.get("amount")
    if isinstance(amount, int) and not isinstance(amount, bool):
        found.amount = amount
    currency = payout.get("currency")
    if isinstance(currency, str) and len(currency) == 3:
        found.currency = currency.lower()
    found.status = PayoutStatus(status)
    found.arrival_date = _moment(payout.get("arrival_date")) or found.arrival_date
    found.failure_message = (failure_text(payout) if status == PayoutStatus.FAILED else None)
    found.updated_at = now
    session.add(found)
    session.flush()
    return found


@dataclass
class PayoutBalance:
    """One currency of a partner's money, all time, in minor units: the net the ledger
    booked for it, what was paid out to its bank, and what is on its way there."""

    currency: str
    net_booked: int = 0
    paid_out: int = 0
    in_flight: int = 0

    @property
    def not_paid_out(self) -> int:
        """The balance not yet paid out: the net booked less the payouts paid or in
        flight. Negative when the provider paid out more than Bazaar booked (money
        reached the connected account from elsewhere)."""
        return self.net_booked - self.paid_out - self.in_flight


def payout_balances(session: Session, partner_id: int) -> dict[str, PayoutBalance]:
    """``{currency: PayoutBalance}`` for the partner, all time, ordered by currency;
    a currency appears once anything was booked or paid out in it."""
    balances: dict[str, PayoutBalance] = {}

    def balance(currency: str) -> PayoutBalance:
        currency = currency.lower()
        return balances.setdefault(currency, PayoutBalance(currency))

    for currency, net in session.exec(
            select(LedgerEntry.currency, func.sum(LedgerEntry.partner_net))
            .where(LedgerEntry.partner_id == partner_id).group_by(LedgerEntry.currency)).all():
        balance(currency).net_booked += int(net or 0)
    for currency, status, amount in session.exec(
            select(Payout.currency, Payout.status, func.sum(Payout.amount))
            .where(Payout.partner_id == partner_id,
                   col(Payout.status).in_([str(status) for status in OUTGOING_STATUSES]))
            .group_by(Payout.currency, Payout.status)).all():
        if status == PayoutStatus.PAID:
            balance(currency).paid_out += int(amount or 0)
        else:
            balance(currency).in_flight += int(amount or 0)
    return dict(sorted(balances.items()))


def partner_payouts(session: Session, partner_id: int, page: int = 1,
                    per_page: int = PAYOUTS_PER_PAGE) -> tuple[list[Payout], int]:
    """One page of the partner's payouts, newest first, and how many it has."""
    total = session.exec(select(func.count()).select_from(Payout)
                         .where(Payout.partner_id == partner_id)).one()
    payouts = session.exec(select(Payout).where(Payout.partner_id == partner_id)
                           .order_by(col(Payout.created_at).desc(), col(Payout.id).desc())
                           .offset((page - 1) * per_page).limit(per_page)).all()
    return list(payouts), int(total)


def unresolved_failures(session: Session, partner_id: int) -> list[Payout]:
    """The partner's failed payouts not followed by a paid payout in the same currency
    (the problem, usually the bank details, may still be there), newest first."""
    failed = session.exec(select(Payout).where(
        Payout.partner_id == partner_id, Payout.status == PayoutStatus.FAILED)
        .order_by(col(Payout.created_at).desc(), col(Payout.id).desc()).limit(20)).all()
    if not failed:
        return []
    last_paid = dict(session.exec(
        select(Payout.currency, func.max(Payout.created_at))
        .where(Payout.partner_id == partner_id, Payout.status == PayoutStatus.PAID)
        .group_by(Payout.currency)).all())
    return [payout for payout in failed
            if last_paid.get(payout.currency) is None
            or as_utc(payout.created_at) > as_utc(last_paid[payout.currency])]


# --- test mode: a simulated payout (local provider) ---------------------------------------


class NothingToPayOut(ValueError):
    """The connected account has no balance to pay out."""


def simulated_payouts(session: Session, account: PayoutAccount,
                      now: datetime | None = None) -> list[dict]:
    """Test mode: the payout objects a payout of the account's whole available balance
    makes, one per currency with a balance above 0 (``payout_balances``), paid at
    ``now``, shaped like Stripe's. Raises ``NothingToPayOut`` when there is none.

    Each id is derived from the balance it pays out (the net booked and the number of
    payouts made so far in that currency), so a second request made from the same
    state (a double submit) makes the same payout, which the webhook handler then
    applies once."""
    now = now or utcnow()
    counts = dict(session.exec(select(Payout.currency, func.count())
                               .where(Payout.partner_id == account.partner_id)
                               .group_by(Payout.currency)).all())
    payouts = []
    for currency, balance in payout_balances(session, account.partner_id).items():
        if balance.not_paid_out <= 0:
            continue
        state = (f"{account.provider_account_id}:{currency}:{balance.net_booked}:"
                 f"{counts.get(currency, 0)}")
        payouts.append({
            "id": "po_local_" + hashlib.sha256(state.encode()).hexdigest()[:24],
            "object": "payout", "amount": balance.not_paid_out, "currency": currency,
            "status": PayoutStatus.PENDING.value, "created": int(now.timestamp()),
            "arrival_date": int(now.timestamp()), "automatic": False, "method": "standard",
            "type": "bank_account", "failure_code": None, "failure_message": None,
        })
    if not payouts:
        raise NothingToPayOut("There is nothing to pay out: every net amount booked for "
                              "your apps has already been paid out or is on its way.")
    return payouts
