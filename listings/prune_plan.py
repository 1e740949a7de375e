"""What the prune job would do, read only: the published rules (one set-based SELECT
each over the whole catalog), the plan of actions they lead to, and the alternatives
suggested for a delisted app. ``listings.prune`` applies the plan."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, or_, select
from sqlmodel import Session

from core.db import as_utc
from listings.models import (
    Badge,
    BadgeKind,
    Collection,
    CollectionItem,
    DelistedBy,
    Listing,
    ListingStatus,
    Release,
    ReleaseStatus,
    Review,
    ReviewStatus,
)
from listings.ports import installs_port
from listings.prune_models import FlagClearedReason, ListingExemption, ListingFlag, PruneRule
from listings.prune_rules import (
    PruneSettings,
    RuleText,
)

# The order a run applies its actions in: clearing first, so a fixed listing
# is never delisted, and listing again before archiving.
ACTION_ORDER = ("clear", "flag", "delist", "relist", "archive")


@dataclass
class PlannedAction:
    """One listing's change in a run."""

    action: str        # "flag" | "clear" | "delist" | "relist" | "archive"
    listing_id: int
    slug: str
    name: str
    partner_id: int
    category_id: int
    # The PruneRule values concerned: flag: newly broken; clear: cleared;
    # delist: the open flags' rules; archive: the open flags' rules (maybe none);
    # relist: the rules whose flags cleared in this run (maybe none).
    rules: list[str] = field(default_factory=list)
    # flag/delist: per rule what was measured, e.g. {"no_recent_release":
    # {"last_activity_at": "..."}}; clear: {"reason": "fixed"|"exempted"|"rule_off"};
    # archive: {"delisted_at": "..."}.
    detail: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        """The action as kept in ``PruneRun.actions``."""
        return {"action": self.action, "listing_id": self.listing_id, "slug": self.slug,
                "name": self.name, "rules": list(self.rules), "detail": self.detail}


@dataclass
class PrunePlan:
    as_of: datetime
    actions: list[PlannedAction] = field(default_factory=list)
    # Apps due for delisting that an editor promoted (badge, home collection): the
    # job leaves them listed and lists them for an editor's decision ("decide").
    decisions: list[PlannedAction] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(ACTION_ORDER, 0)
        for action in self.actions:
            counts[action.action] += 1
        return counts

    def of(self, action: str) -> list[PlannedAction]:
        return [planned for planned in self.actions if planned.action == action]


def iso(moment: datetime | None) -> str | None:
    moment = as_utc(moment)
    return moment.isoformat() if moment else None


def day(value: datetime | str | None) -> str:
    if value is None:
        return "an unknown date"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return f"{moment:%B} {moment.day}, {moment.year}"


def chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def title(texts: dict[PruneRule, RuleText], rule: str) -> str:
    try:
        return texts[PruneRule(rule)].title
    except (ValueError, KeyError):
        return rule.replace("_", " ").capitalize()


def describe_measure(rule: str, detail: dict) -> str:
    """What a run measured for ``rule``, in plain words (for notices and pages)."""
    if rule == PruneRule.NO_RECENT_RELEASE:
        return f"last approved release or update on {day(detail.get('last_activity_at'))}"
    if rule == PruneRule.FEW_ACTIVE_INSTALLS:
        count = detail.get("active_installs", 0)
        return (f"{count} active install{'' if count == 1 else 's'} in the last "
                f"{detail.get('window_days')} days")
    if rule == PruneRule.CERTIFICATION_EXPIRED:
        text = f"security review of {day(detail.get('reviewed_at'))}"
        if detail.get("expires_at"):
            text += f", valid until {day(detail['expires_at'])}"
        return text
    if rule == PruneRule.WEBHOOK_FAILING:
        return f"webhook deliveries failing since {day(detail.get('failing_since'))}"
    if rule == PruneRule.NEVER_INSTALLED:
        return f"published on {day(detail.get('published_at'))} and never installed"
    return ", ".join(f"{key}: {value}" for key, value in detail.items())


_INFO = (Listing.id, Listing.slug, Listing.name, Listing.partner_id, Listing.category_id,
         Listing.status, Listing.delisted_by, Listing.delisted_at)


@dataclass(frozen=True)
class _ListingInfo:
    id: int
    slug: str
    name: str
    partner_id: int
    category_id: int
    status: str
    delisted_by: str | None
    delisted_at: datetime | None

    @classmethod
    def of(cls, row) -> _ListingInfo:
        return cls(row.id, row.slug, row.name, row.partner_id, row.category_id, row.status,
                   row.delisted_by, as_utc(row.delisted_at))

    @property
    def evaluated(self) -> bool:
        """Rules are evaluated for published listings and for those this job delisted
        (so their flags can clear)."""
        return self.status == ListingStatus.PUBLISHED or (
            self.status == ListingStatus.DELISTED and self.delisted_by == DelistedBy.PRUNE)


def _evaluated():
    return or_(Listing.status == ListingStatus.PUBLISHED,
               and_(Listing.status == ListingStatus.DELISTED,
                    Listing.delisted_by == DelistedBy.PRUNE))


Finding = tuple[_ListingInfo, dict]


def _no_recent_release(session: Session, s: PruneSettings, now: datetime) -> Iterator[Finding]:
    # Listing.updated_at counts: only the partner's edits (and the editors'
    # approval) write it; installs, counters and search never do.
    cutoff = now - timedelta(days=s.no_release_days)
    last_release = (select(Release.listing_id,
                           func.max(func.coalesce(Release.reviewed_at, Release.created_at))
                           .label("at"))
                    .where(Release.review_status == ReleaseStatus.APPROVED)
                    .group_by(Release.listing_id).subquery())
    rows = session.execute(
        select(*_INFO, Listing.published_at, Listing.updated_at, last_release.c.at)
        .outerjoin(last_release, last_release.c.listing_id == Listing.id)
        .where(_evaluated(),
               or_(Listing.published_at.is_(None), Listing.published_at < cutoff),
               Listing.updated_at < cutoff,
               or_(last_release.c.at.is_(None), last_release.c.at < cutoff)))
    for row in rows:
        moments = [as_utc(m) for m in (row.published_at, row.updated_at, row.at) if m is not None]
        yield _ListingInfo.of(row), {"last_activity_at": iso(max(moments)),
                                     "last_release_at": iso(row.at)}


def _few_active_installs(session: Session, s: PruneSettings, now: datetime) -> Iterator[Finding]:
    window_start = now - timedelta(days=s.few_installs_days)
    old_enough = now - timedelta(days=max(s.few_installs_min_age_days, s.few_installs_days))
    # Installs active at any time in the window: an upper bound of the
    # concurrent count, so only listings that truly stayed below are flagged.
    active = installs_port(session).active_between(window_start, now)
    count = func.coalesce(active.c.n, 0)
    rows = session.execute(
        select(*_INFO, count.label("active_installs"))
        .outerjoin(active, active.c.listing_id == Listing.id)
        .where(_evaluated(), Listing.published_at <= old_enough,
               count < s.min_active_installs))
    for row in rows:
        yield _ListingInfo.of(row), {"active_installs": int(row.active_installs),
                                     "window_days": s.few_installs_days,
                                     "minimum": s.min_active_installs}


def _certification_expired(session: Session, s: PruneSettings,
                           now: datetime) -> Iterator[Finding]:
    newest_first = func.row_number().over(partition_by=Badge.listing_id,
                                          order_by=(Badge.awarded_at.desc(), Badge.id.desc()))
    reviews = (select(Badge.listing_id, Badge.awarded_at, Badge.expires_at,
                      newest_first.label("rank"))
               .where(Badge.kind == BadgeKind.SECURITY_REVIEWED, Badge.revoked_at.is_(None),
                      Badge.awarded_at <= now)
               .subquery())
    stale_before = now - timedelta(days=s.certification_max_age_days)
    rows = session.execute(
        select(*_INFO, reviews.c.awarded_at, reviews.c.expires_at)
        .join(reviews, and_(reviews.c.listing_id == Listing.id, reviews.c.rank == 1))
        .where(_evaluated(),
               or_(reviews.c.awarded_at < stale_before,
                   and_(reviews.c.expires_at.is_not(None), reviews.c.expires_at <= now))))
    for row in rows:
        yield _ListingInfo.of(row), {"reviewed_at": iso(row.awarded_at),
                                     "expires_at": iso(row.expires_at),
                                     "max_age_days": s.certification_max_age_days}


def _webhook_failing(session: Session, s: PruneSettings, now: datetime) -> Iterator[Finding]:
    cutoff = now - timedelta(days=s.webhook_failing_days)
    rows = session.execute(
        select(*_INFO, Listing.webhook_failing_since, Listing.webhook_last_error)
        .where(_evaluated(), Listing.webhook_failing_since <= cutoff))
    for row in rows:
        yield _ListingInfo.of(row), {"failing_since": iso(row.webhook_failing_since),
                                     "last_error": (row.webhook_last_error or "")[:200] or None}


def _never_installed(session: Session, s: PruneSettings, now: datetime) -> Iterator[Finding]:
    cutoff = now - timedelta(days=s.never_installed_days)
    rows = session.execute(
        select(*_INFO, Listing.published_at)
        .where(_evaluated(), Listing.published_at <= cutoff,
               ~installs_port(session).ever_installed(Listing.id)))
    for row in rows:
        yield _ListingInfo.of(row), {"published_at": iso(row.published_at)}


RULES: dict[PruneRule, Callable[[Session, PruneSettings, datetime], Iterable[Finding]]] = {
    PruneRule.NO_RECENT_RELEASE: _no_recent_release,
    PruneRule.FEW_ACTIVE_INSTALLS: _few_active_installs,
    PruneRule.CERTIFICATION_EXPIRED: _certification_expired,
    PruneRule.WEBHOOK_FAILING: _webhook_failing,
    PruneRule.NEVER_INSTALLED: _never_installed,
}


def _planned(action: str, listing: _ListingInfo, rules: Iterable[str],
             detail: dict | None = None) -> PlannedAction:
    return PlannedAction(action, listing.id, listing.slug, listing.name, listing.partner_id,
                         listing.category_id, sorted(rules), detail or {})


def plan_prune(session: Session, settings: PruneSettings, now: datetime) -> PrunePlan:
    """What a run at ``now`` would do, computed from the database; changes nothing."""
    now = as_utc(now)
    info: dict[int, _ListingInfo] = {}

    # Which rules each listing breaks, with what was measured.
    broken: dict[int, dict[str, dict]] = defaultdict(dict)
    for rule in settings.enabled_rules:
        for listing, detail in RULES[rule](session, settings, now):
            info[listing.id] = listing
            broken[listing.id][str(rule)] = detail

    exempt_all: set[int] = set()
    exempt_rules: set[tuple[int, str]] = set()
    for listing_id, rule in session.execute(
            select(ListingExemption.listing_id, ListingExemption.rule)
            .where(ListingExemption.ended_at.is_(None), ListingExemption.expires_at > now)):
        if rule is None:
            exempt_all.add(listing_id)
        else:
            exempt_rules.add((listing_id, rule))

    def exempted(listing_id: int, rule: str) -> bool:
        return listing_id in exempt_all or (listing_id, rule) in exempt_rules

    failing = {listing_id: {rule: detail for rule, detail in rules.items()
                            if not exempted(listing_id, rule)}
               for listing_id, rules in broken.items()}

    open_flags: dict[int, dict[str, datetime]] = defaultdict(dict)
    for row in session.execute(
            select(ListingFlag.rule, ListingFlag.grace_ends_at, *_INFO)
            .join(Listing, Listing.id == ListingFlag.listing_id)
            .where(ListingFlag.cleared_at.is_(None))):
        info[row.id] = _ListingInfo.of(row)
        open_flags[row.id][row.rule] = as_utc(row.grace_ends_at)

    archive_before = now - settings.archive_after
    delisted = [_ListingInfo.of(row) for row in session.execute(
        select(*_INFO).where(Listing.status == ListingStatus.DELISTED,
                             or_(Listing.delisted_by == DelistedBy.PRUNE,
                                 Listing.delisted_at <= archive_before)))]
    for listing in delisted:
        info[listing.id] = listing

    enabled = {str(rule) for rule in settings.enabled_rules}
    actions: list[PlannedAction] = []

    # 1. Clear the open flags whose rule is no longer broken.
    still_open: dict[int, dict[str, datetime]] = defaultdict(dict)
    cleared_now: dict[int, list[str]] = defaultdict(list)
    for listing_id, flags in open_flags.items():
        listing = info[listing_id]
        by_reason: dict[str, list[str]] = defaultdict(list)
        for rule, grace_ends_at in flags.items():
            if not listing.evaluated or rule in failing.get(listing_id, {}):
                # Not evaluated (an editor delisted it): open until archived.
                still_open[listing_id][rule] = grace_ends_at
            elif rule not in enabled:
                by_reason[FlagClearedReason.RULE_OFF].append(rule)
            elif exempted(listing_id, rule):
                by_reason[FlagClearedReason.EXEMPTED].append(rule)
            else:
                by_reason[FlagClearedReason.FIXED].append(rule)
        for reason, rules in by_reason.items():
            actions.append(_planned("clear", listing, rules, {"reason": str(reason)}))
            cleared_now[listing_id].extend(rules)

    # 4./5. List again what this job delisted once nothing is open; archive the
    # rest after archive_after_days (unless exempted from every rule).
    relisting: set[int] = set()
    for listing in delisted:
        if listing.delisted_by == DelistedBy.PRUNE and not still_open.get(listing.id):
            relisting.add(listing.id)
            actions.append(_planned("relist", listing, cleared_now.get(listing.id, [])))
        elif (listing.delisted_at is not None and listing.delisted_at <= archive_before
              and listing.id not in exempt_all):
            actions.append(_planned("archive", listing, still_open.get(listing.id, {}),
                                    {"delisted_at": iso(listing.delisted_at)}))

    # 2. Flag the rules newly broken by published listings (and by those listed
    # again in this run, so the next run has nothing left to do).
    for listing_id, rules in failing.items():
        listing = info[listing_id]
        if listing.status != ListingStatus.PUBLISHED and listing_id not in relisting:
            continue
        new = {rule: detail for rule, detail in rules.items()
               if rule not in still_open.get(listing_id, {})}
        if new:
            actions.append(_planned("flag", listing, new, new))

    # 3. Delist published listings still broken when a flag's grace period ended,
    # except those an editor promoted: they wait for an editor's decision.
    due = [listing_id for listing_id, flags in still_open.items()
           if info[listing_id].status == ListingStatus.PUBLISHED
           and any(grace_ends_at <= now for grace_ends_at in flags.values())]
    promoted = promotions(session, due, now)
    decisions: list[PlannedAction] = []
    for listing_id in due:
        flags = still_open[listing_id]
        measured = failing.get(listing_id, {})
        detail = {rule: measured[rule] for rule in flags if rule in measured}
        if listing_id in promoted:
            decisions.append(_planned("decide", info[listing_id], flags,
                                      {**detail, "promoted": promoted[listing_id]}))
        else:
            actions.append(_planned("delist", info[listing_id], flags, detail))

    position = {action: index for index, action in enumerate(ACTION_ORDER)}
    actions.sort(key=lambda planned: (position[planned.action], planned.listing_id))
    decisions.sort(key=lambda planned: planned.listing_id)
    return PrunePlan(as_of=now, actions=actions, decisions=decisions)


# Badges an editor awards to put an app forward. A security review is a
# certificate (its own prune rule checks it), not a promotion.
PROMOTING_BADGES = tuple(kind.value for kind in BadgeKind if kind != BadgeKind.SECURITY_REVIEWED)


def promotions(session: Session, listing_ids: list[int], now: datetime) -> dict[int, dict]:
    """{listing id: {"badges": [labels], "collections": [names]}} for the listings of
    ``listing_ids`` that hold an active promoting badge at ``now`` or sit in a
    collection (every collection is a home page shelf); two queries."""
    if not listing_ids:
        return {}
    found: dict[int, dict] = defaultdict(lambda: {"badges": [], "collections": []})
    for listing_id, kind in session.execute(
            select(Badge.listing_id, Badge.kind)
            .where(Badge.listing_id.in_(listing_ids), Badge.kind.in_(PROMOTING_BADGES),
                   Badge.revoked_at.is_(None), Badge.awarded_at <= now,
                   or_(Badge.expires_at.is_(None), Badge.expires_at > now))
            .order_by(Badge.listing_id, Badge.kind)):
        found[listing_id]["badges"].append(BadgeKind(kind).label)
    for listing_id, name in session.execute(
            select(CollectionItem.listing_id, Collection.name)
            .join(Collection, Collection.id == CollectionItem.collection_id)
            .where(CollectionItem.listing_id.in_(listing_ids))
            .order_by(CollectionItem.listing_id, Collection.position, Collection.id)):
        found[listing_id]["collections"].append(name)
    return dict(found)


def suggest_alternatives(session: Session, listings: list[tuple[int, int]],
                         limit: int = 3) -> dict[int, list[int]]:
    """Up to ``limit`` published listings of the same category for each
    ``(listing_id, category_id)``: not the listings themselves, none with an open
    flag, the most installed first (then the most and best reviewed, then by
    name). One query for all of them."""
    wanted = dict(listings)
    if not wanted:
        return {}
    active = installs_port(session).active_counts()
    ratings = (select(Review.listing_id, func.count().label("n"),
                      func.avg(Review.rating).label("average"))
               .where(Review.status == ReviewStatus.PUBLISHED)
               .group_by(Review.listing_id).subquery())
    best_first = func.row_number().over(
        partition_by=Listing.category_id,
        order_by=(func.coalesce(active.c.n, 0).desc(), func.coalesce(ratings.c.n, 0).desc(),
                  func.coalesce(ratings.c.average, 0).desc(), Listing.name, Listing.id))
    flagged = exists().where(ListingFlag.listing_id == Listing.id, ListingFlag.cleared_at.is_(None))
    ranked = (select(Listing.id, Listing.category_id, best_first.label("rank"))
              .outerjoin(active, active.c.listing_id == Listing.id)
              .outerjoin(ratings, ratings.c.listing_id == Listing.id)
              .where(Listing.status == ListingStatus.PUBLISHED,
                     Listing.category_id.in_(sorted(set(wanted.values()))),
                     Listing.id.not_in(sorted(wanted)), ~flagged)
              .subquery())
    by_category: dict[int, list[int]] = defaultdict(list)
    for listing_id, category_id in session.execute(
            select(ranked.c.id, ranked.c.category_id).where(ranked.c.rank <= limit)
            .order_by(ranked.c.category_id, ranked.c.rank)):
        by_category[category_id].append(listing_id)
    return {listing_id: list(by_category.get(category_id, []))
            for listing_id, category_id in wanted.items()}
