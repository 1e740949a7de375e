"""The nightly prune job: flag, delist, list again and archive stale listings.

``flask --app app listings prune`` (``listings/cli.py``) and the editor's
preview call ``run_prune``. A run:

1. takes the job lock (``core/locks.py``): a second run at the same time
   fails at once with ``PruneLocked``;
2. records a ``PruneRun`` (dry runs too, so the editor console lists previews);
3. plans (``plan_prune``, read only): one set-based SELECT per published rule
   over the whole catalog, plus one each for open flags, active exemptions and
   delisted listings, so the number of queries never grows with the catalog;
4. applies the plan action by action in batches of ``PRUNE_BATCH_SIZE``
   listings, one transaction per batch: bulk INSERTs and UPDATEs guarded by the
   expected state, with the partner notices, workspace notifications, audit
   rows and search outbox rows in the same transaction, then the run's counts.

Every transition is recomputed from the database and guarded by the state it
expects, so a second run on the same day changes nothing, and a run that dies
half-way leaves a state the next run completes (it marks the dead run
"interrupted").

The stages: a listing breaking a rule is *flagged* (its partner is told which
rule, what was measured, how to fix it and by when); still broken when the
flag's grace period ends, it is *delisted* (gone from search and categories,
installs keep working, each installing workspace is told with up to three
similar apps); delisted for ``PRUNE_ARCHIVE_AFTER_DAYS`` it is *archived*. A
fixed cause *clears* the flag on the next run, and a listing this job delisted
is *listed again* once all its flags are clear. Editors' delistings are
archived in time but never listed again by the job.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, exists, func, insert, or_, select, update
from sqlmodel import Session

from accounts.models import Notification
from core.db import APP_INFO_KEY, get_engine, utcnow
from core.locks import JobLocked, job_lock
from listings.models import (
    AuditEvent,
    Badge,
    BadgeKind,
    DelistedBy,
    FlagClearedReason,
    Listing,
    ListingExemption,
    ListingFlag,
    ListingStatus,
    PartnerNotice,
    PruneRule,
    PruneRun,
    PruneRunStatus,
    Release,
    ReleaseStatus,
    Review,
    ReviewStatus,
)
from listings.notices import mail_delisted_installers, mail_prune_notice
from listings.ports import installs_port, search_port
from listings.prune_rules import (
    PruneSettings,
    RuleText,
    load_prune_settings,
    rule_texts,
)

log = logging.getLogger(__name__)

ACTIONS_KEPT = 1000   # how many actions a PruneRun row keeps in its JSON (counts are exact)
LOCK_NAME = "listings.prune"
SETTINGS_KEY = "bazaar.prune.settings"

# The order a run applies its actions in: clearing first, so a fixed listing
# is never delisted, and listing again before archiving.
ACTION_ORDER = ("clear", "flag", "delist", "relist", "archive")
COUNT_FIELDS = {"flag": "flagged", "clear": "cleared", "delist": "delisted",
                "relist": "relisted", "archive": "archived"}
PROGRESS_LABELS = {"clear": "Clearing flags", "flag": "Flagging", "delist": "Delisting",
                   "relist": "Listing again", "archive": "Archiving"}
CLEARED_WHY = {
    FlagClearedReason.FIXED: "the cause is fixed",
    FlagClearedReason.EXEMPTED: "an editor exempted the listing",
    FlagClearedReason.RULE_OFF: "the rule is switched off",
    FlagClearedReason.ARCHIVED: "the listing was archived",
}


class PruneLocked(JobLocked):
    """Another prune run holds the lock; ``str(error)`` is the message to show."""


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

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(ACTION_ORDER, 0)
        for action in self.actions:
            counts[action.action] += 1
        return counts

    def of(self, action: str) -> list[PlannedAction]:
        return [planned for planned in self.actions if planned.action == action]


def prune_settings(app) -> PruneSettings:
    """The prune settings ``app`` started with (validated at start-up)."""
    settings = app.extensions.get(SETTINGS_KEY)
    if settings is None:
        settings = app.extensions[SETTINGS_KEY] = load_prune_settings(app.config)
    return settings


# --- small helpers ----------------------------------------------------------------------


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes: they are UTC."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _iso(moment: datetime | None) -> str | None:
    moment = _aware(moment)
    return moment.isoformat() if moment else None


def _day(value: datetime | str | None) -> str:
    if value is None:
        return "an unknown date"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return f"{moment:%B} {moment.day}, {moment.year}"


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _title(texts: dict[PruneRule, RuleText], rule: str) -> str:
    try:
        return texts[PruneRule(rule)].title
    except (ValueError, KeyError):
        return rule.replace("_", " ").capitalize()


def describe_measure(rule: str, detail: dict) -> str:
    """What a run measured for ``rule``, in plain words (for notices and pages)."""
    if rule == PruneRule.NO_RECENT_RELEASE:
        return f"last approved release or update on {_day(detail.get('last_activity_at'))}"
    if rule == PruneRule.FEW_ACTIVE_INSTALLS:
        count = detail.get("active_installs", 0)
        return (f"{count} active install{'' if count == 1 else 's'} in the last "
                f"{detail.get('window_days')} days")
    if rule == PruneRule.CERTIFICATION_EXPIRED:
        text = f"security review of {_day(detail.get('reviewed_at'))}"
        if detail.get("expires_at"):
            text += f", valid until {_day(detail['expires_at'])}"
        return text
    if rule == PruneRule.WEBHOOK_FAILING:
        return f"webhook deliveries failing since {_day(detail.get('failing_since'))}"
    if rule == PruneRule.NEVER_INSTALLED:
        return f"published on {_day(detail.get('published_at'))} and never installed"
    return ", ".join(f"{key}: {value}" for key, value in detail.items())


# --- the rules: one set-based SELECT each ------------------------------------------------

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
                   row.delisted_by, _aware(row.delisted_at))

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
        moments = [_aware(m) for m in (row.published_at, row.updated_at, row.at) if m is not None]
        yield _ListingInfo.of(row), {"last_activity_at": _iso(max(moments)),
                                     "last_release_at": _iso(row.at)}


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
        yield _ListingInfo.of(row), {"reviewed_at": _iso(row.awarded_at),
                                     "expires_at": _iso(row.expires_at),
                                     "max_age_days": s.certification_max_age_days}


def _webhook_failing(session: Session, s: PruneSettings, now: datetime) -> Iterator[Finding]:
    cutoff = now - timedelta(days=s.webhook_failing_days)
    rows = session.execute(
        select(*_INFO, Listing.webhook_failing_since, Listing.webhook_last_error)
        .where(_evaluated(), Listing.webhook_failing_since <= cutoff))
    for row in rows:
        yield _ListingInfo.of(row), {"failing_since": _iso(row.webhook_failing_since),
                                     "last_error": (row.webhook_last_error or "")[:200] or None}


def _never_installed(session: Session, s: PruneSettings, now: datetime) -> Iterator[Finding]:
    cutoff = now - timedelta(days=s.never_installed_days)
    rows = session.execute(
        select(*_INFO, Listing.published_at)
        .where(_evaluated(), Listing.published_at <= cutoff,
               ~installs_port(session).ever_installed(Listing.id)))
    for row in rows:
        yield _ListingInfo.of(row), {"published_at": _iso(row.published_at)}


RULES: dict[PruneRule, Callable[[Session, PruneSettings, datetime], Iterable[Finding]]] = {
    PruneRule.NO_RECENT_RELEASE: _no_recent_release,
    PruneRule.FEW_ACTIVE_INSTALLS: _few_active_installs,
    PruneRule.CERTIFICATION_EXPIRED: _certification_expired,
    PruneRule.WEBHOOK_FAILING: _webhook_failing,
    PruneRule.NEVER_INSTALLED: _never_installed,
}


# --- the plan ---------------------------------------------------------------------------


def _planned(action: str, listing: _ListingInfo, rules: Iterable[str],
             detail: dict | None = None) -> PlannedAction:
    return PlannedAction(action, listing.id, listing.slug, listing.name, listing.partner_id,
                         listing.category_id, sorted(rules), detail or {})


def plan_prune(session: Session, settings: PruneSettings, now: datetime) -> PrunePlan:
    """What a run at ``now`` would do, computed from the database; changes nothing."""
    now = _aware(now)
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
        open_flags[row.id][row.rule] = _aware(row.grace_ends_at)

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
                                    {"delisted_at": _iso(listing.delisted_at)}))

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

    # 3. Delist published listings still broken when a flag's grace period ended.
    for listing_id, flags in still_open.items():
        listing = info[listing_id]
        if listing.status == ListingStatus.PUBLISHED and any(
                grace_ends_at <= now for grace_ends_at in flags.values()):
            measured = failing.get(listing_id, {})
            actions.append(_planned("delist", listing, flags,
                                    {rule: measured[rule] for rule in flags if rule in measured}))

    position = {action: index for index, action in enumerate(ACTION_ORDER)}
    actions.sort(key=lambda planned: (position[planned.action], planned.listing_id))
    return PrunePlan(as_of=now, actions=actions)


# --- alternatives for a delisted app ------------------------------------------------------


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


# --- applying a plan ----------------------------------------------------------------------


@dataclass
class _Context:
    session: Session
    settings: PruneSettings
    texts: dict[PruneRule, RuleText]
    now: datetime       # the moment the rules were evaluated at
    stamp: datetime     # the wall-clock time rows are written at
    run_id: int

    def titles(self, rules: Iterable[str]) -> str:
        return ", ".join(_title(self.texts, rule) for rule in rules)

    def notices(self, applied: list[PlannedAction], kind: str,
                message: Callable[[PlannedAction], str]) -> None:
        rows = [{"partner_id": a.partner_id, "listing_id": a.listing_id, "kind": kind,
                 "message": message(a), "created_at": self.stamp, "dismissed_at": None}
                for a in applied]
        self.session.execute(insert(PartnerNotice), rows)
        # The partner's members are mailed the flags and delistings (listings/notices.py).
        mail_prune_notice(self.session, kind, [(a.listing_id, a.partner_id, a.name, row["message"])
                                               for a, row in zip(applied, rows, strict=True)],
                          self.now, self.now + self.settings.grace)

    def audit(self, applied: list[PlannedAction], action: str) -> None:
        # actor_id None: the job did it.
        self.session.execute(insert(AuditEvent), [
            {"actor_id": None, "action": action, "target_type": "listing",
             "target_id": a.listing_id, "created_at": self.stamp,
             "detail": {"slug": a.slug, "rules": list(a.rules), "run_id": self.run_id}}
            for a in applied])


def _changed_ids(session: Session, statement) -> set[int]:
    """Run a guarded UPDATE; the ids of the rows it changed."""
    return set(session.execute(statement.execution_options(synchronize_session=False)).scalars())


def _apply_clear(ctx: _Context, batch: list[PlannedAction]) -> list[PlannedAction]:
    wanted: dict[tuple[str, str], list[int]] = defaultdict(list)
    for planned in batch:
        for rule in planned.rules:
            wanted[(rule, planned.detail["reason"])].append(planned.listing_id)
    cleared: set[tuple[int, str]] = set()
    for (rule, reason), listing_ids in wanted.items():
        rows = ctx.session.execute(
            update(ListingFlag)
            .where(ListingFlag.listing_id.in_(listing_ids), ListingFlag.rule == rule,
                   ListingFlag.cleared_at.is_(None))
            .values(cleared_at=ctx.now, cleared_reason=reason)
            .returning(ListingFlag.listing_id, ListingFlag.rule)
            .execution_options(synchronize_session=False))
        cleared.update((listing_id, flag_rule) for listing_id, flag_rule in rows)
    applied = []
    for planned in batch:
        rules = [rule for rule in planned.rules if (planned.listing_id, rule) in cleared]
        if rules:
            applied.append(replace(planned, rules=rules))
    if applied:
        ctx.notices(applied, "prune.cleared", lambda a: (
            f"The flag on “{a.name}” for {ctx.titles(a.rules)} is cleared: "
            f"{CLEARED_WHY[FlagClearedReason(a.detail['reason'])]}. Nothing more to do."))
        ctx.audit(applied, "prune.cleared")
    return applied


def _flag_message(ctx: _Context, planned: PlannedAction) -> str:
    grace_ends = ctx.now + ctx.settings.grace
    parts = [f"“{planned.name}” breaks {'a published rule' if len(planned.rules) == 1 else 'published rules'} "
             f"of the Bazaar catalog."]
    for rule in planned.rules:
        text = ctx.texts.get(PruneRule(rule))
        measured = describe_measure(rule, planned.detail.get(rule, {}))
        if text is None:
            parts.append(f"{_title(ctx.texts, rule)} ({measured}).")
        else:
            parts.append(f"{text.title}: {text.statement} Measured: {measured}. "
                         f"To fix it: {text.fix}")
    parts.append(f"Fix it by {_day(grace_ends)} or the listing will be delisted on that date; "
                 "the next nightly run after the fix clears the flag.")
    return " ".join(parts)


def _apply_flag(ctx: _Context, batch: list[PlannedAction]) -> list[PlannedAction]:
    grace_ends = ctx.now + ctx.settings.grace
    ctx.session.execute(insert(ListingFlag), [
        {"listing_id": planned.listing_id, "rule": rule, "flagged_at": ctx.now,
         "grace_ends_at": grace_ends, "detail": planned.detail.get(rule, {}),
         "cleared_at": None, "cleared_reason": None, "run_id": ctx.run_id}
        for planned in batch for rule in planned.rules])
    ctx.notices(batch, "prune.flagged", lambda a: _flag_message(ctx, a))
    ctx.audit(batch, "prune.flagged")
    return batch


def delist_note(texts: dict[PruneRule, RuleText], rules: Iterable[str]) -> str:
    """The short reason a prune-delisted listing's public page shows."""
    titles = [_title(texts, rule) for rule in rules]
    return ("Delisted by Bazaar's nightly checks: it broke the published "
            f"rule{'' if len(titles) == 1 else 's'} {'; '.join(titles)}.")


def _apply_delist(ctx: _Context, batch: list[PlannedAction]) -> list[PlannedAction]:
    session = ctx.session
    # One UPDATE per distinct set of rules (the public note names them): at
    # most 31 whatever the batch size, usually one or two.
    by_rules: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for planned in batch:
        by_rules[tuple(planned.rules)].append(planned.listing_id)
    delisted: set[int] = set()
    for rules, listing_ids in by_rules.items():
        delisted |= _changed_ids(session, (
            update(Listing)
            .where(Listing.id.in_(listing_ids), Listing.status == ListingStatus.PUBLISHED)
            .values(status=ListingStatus.DELISTED, delisted_at=ctx.now,
                    delisted_by=DelistedBy.PRUNE, review_note=delist_note(ctx.texts, rules))
            .returning(Listing.id)))
    applied = [planned for planned in batch if planned.listing_id in delisted]
    if not applied:
        return applied
    search_port(session).listings_changed(session, sorted(delisted))

    installed_in = installs_port(session).installing_workspaces(session, sorted(delisted))
    if installed_in:
        alternatives = suggest_alternatives(session, [
            (planned.listing_id, planned.category_id) for planned in applied
            if planned.listing_id in installed_in])
        notifications = []
        for planned in applied:
            suggested = alternatives.get(planned.listing_id, [])
            message = (f"“{planned.name}” was removed from the Bazaar catalog: it broke our "
                       f"published rules ({ctx.titles(planned.rules)}). Your install keeps "
                       "working.")
            if suggested:
                message += " Similar apps from the same category are suggested."
            notifications.extend(
                {"workspace_id": workspace_id, "kind": "listing.delisted", "message": message,
                 "listing_id": planned.listing_id, "suggested_listing_ids": suggested or None,
                 "created_at": ctx.stamp, "dismissed_at": None}
                for workspace_id in installed_in.get(planned.listing_id, []))
        session.execute(insert(Notification), notifications)
        mail_delisted_installers(session, [(p.listing_id, p.name, ctx.titles(p.rules))
                                           for p in applied], installed_in, alternatives, ctx.now)

    ctx.notices(applied, "prune.delisted", lambda a: (
        f"“{a.name}” was delisted on {_day(ctx.now)}: its grace period ended while it still "
        f"broke {ctx.titles(a.rules)}. It is gone from search and categories; existing installs "
        "keep working and each installing workspace was told. Fix the cause and the next "
        "nightly run lists it again; if it stays delisted for "
        f"{ctx.settings.archive_after_days} days it is archived."))
    ctx.audit(applied, "prune.delisted")
    return applied


def _apply_relist(ctx: _Context, batch: list[PlannedAction]) -> list[PlannedAction]:
    relisted = _changed_ids(ctx.session, (
        update(Listing)
        .where(Listing.id.in_([planned.listing_id for planned in batch]),
               Listing.status == ListingStatus.DELISTED, Listing.delisted_by == DelistedBy.PRUNE)
        .values(status=ListingStatus.PUBLISHED, delisted_at=None, delisted_by=None,
                review_note=None)
        .returning(Listing.id)))
    applied = [planned for planned in batch if planned.listing_id in relisted]
    if applied:
        search_port(ctx.session).listings_changed(ctx.session, sorted(relisted))
        ctx.notices(applied, "prune.relisted", lambda a: (
            f"“{a.name}” is listed again: the problems that delisted it are fixed. It is back "
            "in search and its category."))
        ctx.audit(applied, "prune.relisted")
    return applied


def _apply_archive(ctx: _Context, batch: list[PlannedAction]) -> list[PlannedAction]:
    session = ctx.session
    archived = _changed_ids(session, (
        update(Listing)
        .where(Listing.id.in_([planned.listing_id for planned in batch]),
               Listing.status == ListingStatus.DELISTED)
        .values(status=ListingStatus.ARCHIVED, archived_at=ctx.now)
        .returning(Listing.id)))
    applied = [planned for planned in batch if planned.listing_id in archived]
    if not applied:
        return applied
    session.execute(update(ListingFlag)
                    .where(ListingFlag.listing_id.in_(sorted(archived)),
                           ListingFlag.cleared_at.is_(None))
                    .values(cleared_at=ctx.now, cleared_reason=FlagClearedReason.ARCHIVED)
                    .execution_options(synchronize_session=False))
    search_port(session).listings_changed(session, sorted(archived))
    ctx.notices(applied, "prune.archived", lambda a: (
        f"“{a.name}” was archived after {ctx.settings.archive_after_days} days delisted: "
        "customers can no longer install it. Existing installs keep working."))
    ctx.audit(applied, "prune.archived")
    return applied


APPLY: dict[str, Callable[[_Context, list[PlannedAction]], list[PlannedAction]]] = {
    "clear": _apply_clear, "flag": _apply_flag, "delist": _apply_delist,
    "relist": _apply_relist, "archive": _apply_archive,
}


def _record(run: PruneRun, action: str, applied: list[PlannedAction]) -> None:
    field_name = COUNT_FIELDS[action]
    setattr(run, field_name, (getattr(run, field_name) or 0) + len(applied))
    room = ACTIONS_KEPT - len(run.actions or [])
    if room > 0 and applied:
        # A new list, so the JSON column is seen as changed.
        run.actions = [*(run.actions or []), *(planned.as_dict() for planned in applied[:room])]


def _apply(session: Session, settings: PruneSettings, plan: PrunePlan, run: PruneRun, lock,
           progress: Callable[[int, int, str], None] | None) -> bool:
    """Apply ``plan`` batch by batch, one committed transaction each; True when a
    listing's status changed (search has outbox rows to apply)."""
    ctx = _Context(session, settings, rule_texts(settings), plan.as_of, utcnow(), run.id)
    total, done, statuses_changed = len(plan.actions), 0, False
    for action in ACTION_ORDER:
        for batch in _chunks(plan.of(action), settings.batch_size):
            applied = APPLY[action](ctx, batch)
            statuses_changed |= action in ("delist", "relist", "archive") and bool(applied)
            _record(run, action, applied)
            session.add(run)
            # The search outbox is applied once at the end of the run, not per batch.
            search_port(session).index_later(session)
            session.commit()
            # Renew the SQLite lease between transactions (never inside one: SQLite
            # would have two writers).
            lock.extend()
            done += len(batch)
            if progress:
                progress(done, total, PROGRESS_LABELS[action])
    return statuses_changed


def run_prune(app, *, now: datetime | None = None, dry_run: bool = False, trigger: str = "cli",
              progress: Callable[[int, int, str], None] | None = None) -> PruneRun:
    """Run the prune job at ``now`` (default: the current time) and return its
    finished ``PruneRun`` (detached, fields loaded).

    ``dry_run`` records the run with what it would do and changes nothing
    else. Raises ``PruneLocked`` at once when another run holds the lock; an
    error half-way marks the run failed and propagates (the batches committed
    so far stay: the next run completes the rest). ``progress(done, total,
    label)`` is called after each batch.
    """
    settings = prune_settings(app)
    engine = get_engine(app)
    now = _aware(now) or utcnow()
    with ExitStack() as stack:
        try:
            lock = stack.enter_context(job_lock(engine, LOCK_NAME))
        except JobLocked as error:
            raise PruneLocked(f"Another prune run is in progress ({error})") from None
        # Flags and delistings are mailed (templates and absolute links need the app).
        stack.enter_context(app.app_context())
        session = stack.enter_context(Session(engine, expire_on_commit=False,
                                              info={APP_INFO_KEY: app}))
        run, statuses_changed = _run_locked(session, settings, now, dry_run, trigger, lock,
                                            progress)
    if statuses_changed:
        # Take the changed listings out of (or back into) search now; if a
        # target is down the outbox rows wait for `flask search sync`.
        try:
            search_port(app).index_now(app)
        except Exception:
            log.exception("Applying the search outbox after the prune run failed; "
                          "`flask search sync` will retry")
    return run


def _run_locked(session: Session, settings: PruneSettings, now: datetime, dry_run: bool,
                trigger: str, lock, progress) -> tuple[PruneRun, bool]:
    started = utcnow()
    if not dry_run:
        # Runs still "running" died half-way (we hold the lock, so none is
        # alive): this run completes what they left.
        session.execute(update(PruneRun).where(PruneRun.status == PruneRunStatus.RUNNING)
                        .values(status=PruneRunStatus.INTERRUPTED,
                                finished_at=func.coalesce(PruneRun.finished_at, started))
                        .execution_options(synchronize_session=False))
    run = PruneRun(started_at=started, as_of=now, dry_run=dry_run, trigger=trigger,
                   status=PruneRunStatus.RUNNING, actions=[])
    session.add(run)
    session.commit()
    run_id = run.id
    statuses_changed = False
    try:
        plan = plan_prune(session, settings, now)
        # End the read transaction before writing (SQLite would refuse to turn a
        # stale read transaction into a write one).
        session.rollback()
        if dry_run:
            for action in ACTION_ORDER:
                _record(run, action, plan.of(action))
        else:
            statuses_changed = _apply(session, settings, plan, run, lock, progress)
        run.status = PruneRunStatus.COMPLETED
        run.finished_at = utcnow()
        session.add(run)
        session.commit()
    except BaseException as error:
        session.rollback()
        _mark_failed(session, run_id, error)
        raise
    session.refresh(run)
    session.expunge(run)
    return run, statuses_changed


def _mark_failed(session: Session, run_id: int, error: BaseException) -> None:
    message = f"{type(error).__name__}: {error}"[:1000]
    try:
        session.execute(update(PruneRun).where(PruneRun.id == run_id)
                        .values(status=PruneRunStatus.FAILED, finished_at=utcnow(), error=message)
                        .execution_options(synchronize_session=False))
        session.commit()
    except Exception:
        session.rollback()
        log.exception("Could not mark prune run %s as failed", run_id)
