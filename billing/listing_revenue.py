"""The money figures the partner portal's dashboard shows beside each listing,
answered for ``listings`` through its revenue port (``listings.ports``)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, func, select

from billing.models import LedgerEntry


class ListingRevenue:
    """``listings.ports.Revenue``: sums over the ledger (entries are never updated)."""

    def net_since(self, session: Session, listing_ids: list[int],
                  since: datetime) -> dict[int, dict[str, int]]:
        if not listing_ids:
            return {}
        rows = session.exec(
            select(LedgerEntry.listing_id, LedgerEntry.currency, func.sum(LedgerEntry.partner_net))
            .where(col(LedgerEntry.listing_id).in_(listing_ids),
                   col(LedgerEntry.booked_at) >= since)
            .group_by(LedgerEntry.listing_id, LedgerEntry.currency)).all()
        net: dict[int, dict[str, int]] = {}
        for listing_id, currency, amount in rows:
            net.setdefault(listing_id, {})[currency.lower()] = int(amount or 0)
        return net
