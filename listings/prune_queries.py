"""What the pages say about pruning, read from the database: a partner's open flags
and notices, a delisted listing's broken rules, the apps suggested instead, and the
editor's view of a listing's flags and exemptions. No HTTP here: views and other
packages' pages call these."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask import (
    current_app,
)
from sqlmodel import Session, col, func, select
from wtforms.fields.choices import SelectChoice

from accounts.models import User
from core.db import as_utc, utcnow
from listings.editor_forms import ExemptionForm
from listings.models import DelistedBy, Listing, ListingStatus, Review, ReviewStatus
from listings.prune import prune_settings
from listings.prune_exemptions import is_active
from listings.prune_models import ListingExemption, ListingFlag, PartnerNotice, PruneRule, PruneRun
from listings.prune_plan import describe_measure
from listings.prune_rules import PruneSettings, RuleText, rule_texts
from listings.queries import Page

# The console lists the flags whose grace ends soonest, and says how many more there are.
OPEN_FLAGS_SHOWN = 100


EXEMPTIONS_SHOWN = 100


NOTICES_SHOWN = 50


def prune_settings_now() -> PruneSettings:
    """The settings the job runs with (validated at start-up)."""
    return prune_settings(current_app)


def current_rule_texts() -> dict[str, RuleText]:
    """{rule key: its title, statement, fix and source} with the configured numbers."""
    return {str(rule): text for rule, text in rule_texts(prune_settings_now()).items()}


def rule_title(texts: dict[str, RuleText], rule: str) -> str:
    text = texts.get(str(rule))
    return text.title if text else str(rule).replace("_", " ").capitalize()


def measured_in_words(rule: str, detail: dict | None) -> str:
    """What a run measured for ``rule``, in the job's own words: "last approved
    release or update on January 15, 2023"."""
    try:
        return describe_measure(str(rule), detail or {})
    except (TypeError, ValueError):
        # A detail the job's current wording does not expect (an older run's).
        return ", ".join(f"{key}: {value}" for key, value in (detail or {}).items())


@dataclass(frozen=True)
class FlagView:
    """An open flag as the pages show it."""

    flag: ListingFlag
    listing: Listing
    title: str
    text: RuleText | None
    measured: str
    grace_ends_at: datetime
    flagged_at: datetime


def describe_flags(rows: Iterable[tuple[ListingFlag, Listing]], texts: dict[str, RuleText]
                ) -> list[FlagView]:
    return [FlagView(flag=flag, listing=listing, title=rule_title(texts, flag.rule),
                     text=texts.get(str(flag.rule)),
                     measured=measured_in_words(flag.rule, flag.detail),
                     grace_ends_at=as_utc(flag.grace_ends_at), flagged_at=as_utc(flag.flagged_at))
            for flag, listing in rows]


def open_flags_query():
    return (select(ListingFlag, Listing).join(Listing, col(Listing.id) == ListingFlag.listing_id)
            .where(col(ListingFlag.cleared_at).is_(None))
            .order_by(ListingFlag.grace_ends_at, ListingFlag.id))


def open_flags_total(session: Session) -> int:
    """How many flags are open, over every listing."""
    return session.exec(select(func.count()).select_from(ListingFlag)
                        .where(col(ListingFlag.cleared_at).is_(None))).one()


def open_flags(session: Session, limit: int) -> list[tuple[ListingFlag, Listing]]:
    """The first ``limit`` open flags, over every listing, nearest end of grace first."""
    return list(session.exec(open_flags_query().limit(limit)).all())


def prune_runs(session: Session, page: int, per_page: int) -> Page:
    """One page of prune runs (real and dry), newest first."""
    total = session.exec(select(func.count()).select_from(PruneRun)).one()
    runs = session.exec(select(PruneRun)
                        .order_by(col(PruneRun.started_at).desc(), col(PruneRun.id).desc())
                        .offset((page - 1) * per_page).limit(per_page)).all()
    return Page(list(runs), total)


def active_exemptions(session: Session, now: datetime, limit: int) -> Page:
    """The exemptions neither ended nor expired at ``now``, soonest to expire first,
    as (ListingExemption, Listing) rows: the first ``limit`` and how many in all."""
    active = (select(ListingExemption, Listing)
              .join(Listing, col(Listing.id) == ListingExemption.listing_id)
              .where(col(ListingExemption.ended_at).is_(None), ListingExemption.expires_at > now))
    total = session.exec(select(func.count()).select_from(active.subquery())).one()
    rows = session.exec(active.order_by(ListingExemption.expires_at, ListingExemption.id)
                        .limit(limit)).all()
    return Page(list(rows), total)


def rule_choices(texts: dict[str, RuleText]) -> list[SelectChoice]:
    """The exemption form's rules: "All rules" first, then each published rule."""
    return [SelectChoice("", "All rules")] + [
        SelectChoice(str(rule), rule_title(texts, str(rule))) for rule in PruneRule]


@dataclass(frozen=True)
class NoticeView:
    notice: PartnerNotice
    listing: Listing | None
    created_at: datetime


def partner_prune_context(session: Session, partner_id: int, listing_id: int | None = None
                          ) -> dict:
    """What the partner portal shows about pruning: the open flags of the
    partner's listings (or of one listing), nearest delisting first, and the
    notices not yet dismissed, newest first. Only ever the partner's own."""
    texts = current_rule_texts()
    flags = open_flags_query().where(Listing.partner_id == partner_id)
    notices = (select(PartnerNotice, Listing)
               .join(Listing, col(Listing.id) == PartnerNotice.listing_id, isouter=True)
               .where(PartnerNotice.partner_id == partner_id,
                      col(PartnerNotice.dismissed_at).is_(None))
               .order_by(col(PartnerNotice.created_at).desc(), col(PartnerNotice.id).desc())
               .limit(NOTICES_SHOWN))
    if listing_id is not None:
        flags = flags.where(ListingFlag.listing_id == listing_id)
        notices = notices.where(PartnerNotice.listing_id == listing_id)
    return {
        "prune_flags": describe_flags(session.exec(flags).all(), texts),
        "prune_notices": [NoticeView(notice, listing, as_utc(notice.created_at))
                          for notice, listing in session.exec(notices).all()],
        "prune_settings": prune_settings_now(),
    }


def delisted_rule_titles(session: Session, listing: Listing) -> list[str]:
    """The published rules a prune-delisted listing broke (the titles of its
    open flags); empty for any other listing."""
    if listing.status != ListingStatus.DELISTED or listing.delisted_by != DelistedBy.PRUNE:
        return []
    texts = current_rule_texts()
    rules = session.exec(select(ListingFlag.rule).where(
        ListingFlag.listing_id == listing.id, col(ListingFlag.cleared_at).is_(None))).all()
    order = [str(rule) for rule in PruneRule]
    ranked = sorted(set(rules), key=lambda rule: order.index(rule) if rule in order else len(order))
    return [rule_title(texts, rule) for rule in ranked]


@dataclass(frozen=True)
class SuggestedApp:
    slug: str
    name: str
    tagline: str
    rating: float | None
    reviews: int


def suggested_apps(session: Session, notifications: Iterable) -> dict[int, list[SuggestedApp]]:
    """{notification id: the apps it suggests instead}, best first, for every
    notification on a page in one query; apps no longer published are left out."""
    notifications = list(notifications)
    wanted = {listing_id for note in notifications
              for listing_id in note.suggested_listing_ids or [] if isinstance(listing_id, int)}
    if not wanted:
        return {}
    ratings = (select(Review.listing_id, func.avg(Review.rating).label("average"),
                      func.count().label("reviews"))
               .where(col(Review.listing_id).in_(wanted), Review.status == ReviewStatus.PUBLISHED)
               .group_by(Review.listing_id).subquery())
    rows = session.exec(
        select(Listing.id, Listing.slug, Listing.name, Listing.tagline, ratings.c.average,
               ratings.c.reviews)
        .join(ratings, ratings.c.listing_id == Listing.id, isouter=True)
        .where(col(Listing.id).in_(wanted), Listing.status == ListingStatus.PUBLISHED)
    ).all()
    apps = {listing_id: SuggestedApp(slug, name, tagline,
                                     round(float(average), 1) if average is not None else None,
                                     reviews or 0)
            for listing_id, slug, name, tagline, average, reviews in rows}
    return {note.id: [apps[listing_id] for listing_id in note.suggested_listing_ids
                      if isinstance(listing_id, int) and listing_id in apps]
            for note in notifications if note.suggested_listing_ids}


def editor_prune_context(session: Session, listing: Listing,
                         exemption_form: ExemptionForm | None = None) -> dict:
    """What the editor's listing page shows about pruning: the open flags, the
    exemptions (active and past) and the exemption form."""
    texts = current_rule_texts()
    now = utcnow()
    flags = describe_flags(session.exec(open_flags_query()
                                     .where(ListingFlag.listing_id == listing.id)).all(), texts)
    exemptions = session.exec(
        select(ListingExemption, User.display_name)
        .join(User, col(User.id) == ListingExemption.created_by_id, isouter=True)
        .where(ListingExemption.listing_id == listing.id)
        .order_by(col(ListingExemption.created_at).desc(), col(ListingExemption.id).desc())
    ).all()
    if exemption_form is None:
        exemption_form = ExemptionForm(formdata=None)
    exemption_form.rule.choices = rule_choices(texts)
    return {
        "prune_flags": flags,
        "active_exemptions": [(item, name) for item, name in exemptions if is_active(item, now)],
        "past_exemptions": [(item, name) for item, name in exemptions if not is_active(item, now)],
        "exemption_form": exemption_form,
        "prune_rule_title": lambda rule: "All rules" if not rule else rule_title(texts, rule),
        "aware": as_utc,
    }
