"""Partners' payout accounts (Stripe Connect Express): made once per partner, onboarded
through the provider's account link, and kept in step by ``account.updated``.

https://docs.stripe.com/connect/express-accounts
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from billing.models import PayoutAccount, PayoutAccountStatus
from billing.usage_sender import provider_name
from listings.models import Partner
from storefront.db import utcnow


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
