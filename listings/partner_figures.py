"""The figures the partner dashboard shows beside each listing: installs ever and
active, the rating from published reviews, and the partner's net revenue this month.

Three queries whatever the number of listings (house rule 12): installs and revenue
come from the packages above through ``listings.ports``, the rating from the reviews.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, func, select

from core.db import utcnow
from listings.models import Review, ReviewStatus
from listings.ports import installs_port, revenue_port


@dataclass
class ListingFigures:
    """One listing's row of figures (zeros and None when it has none yet)."""

    installs: int = 0
    active: int = 0
    rating: float | None = None
    reviews: int = 0
    # {currency: minor units}: the partner's net booked this calendar month (UTC).
    net_this_month: dict[str, int] = field(default_factory=dict)


def month_start(now: datetime) -> datetime:
    """The first instant of ``now``'s calendar month."""
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def dashboard_figures(session: Session, listing_ids: list[int],
                      now: datetime | None = None) -> dict[int, ListingFigures]:
    """{listing_id: ListingFigures} for every id given, in a bounded number of queries."""
    if not listing_ids:
        return {}
    figures = {listing_id: ListingFigures() for listing_id in listing_ids}
    for listing_id, (total, active) in installs_port(session).counts(session,
                                                                      listing_ids).items():
        figures[listing_id].installs, figures[listing_id].active = total, active
    ratings = session.exec(
        select(Review.listing_id, func.avg(Review.rating), func.count())
        .where(col(Review.listing_id).in_(listing_ids), Review.status == ReviewStatus.PUBLISHED)
        .group_by(Review.listing_id)).all()
    for listing_id, average, count in ratings:
        figures[listing_id].rating, figures[listing_id].reviews = float(average), count
    since = month_start(now or utcnow())
    for listing_id, net in revenue_port(session).net_since(session, listing_ids, since).items():
        figures[listing_id].net_this_month = net
    return figures
