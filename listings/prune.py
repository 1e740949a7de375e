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
archived in time but never listed again by the job. An app due for delisting
that an editor promoted (an editor badge, a home page collection) is left
listed and named in the run for an editor's decision (``PrunePlan.decisions``).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func, insert, update
from sqlmodel import Session

from accounts.models import Notification
from core.db import APP_INFO_KEY, as_utc, get_engine, utcnow
from core.locks import JobLocked, job_lock
from listings.models import AuditEvent, DelistedBy, Listing, ListingStatus
from listings.notices import mail_delisted_installers, mail_prune_notice
from listings.ports import installs_port, search_port
from listings.prune_models import (
    FlagClearedReason,
    ListingFlag,
    PartnerNotice,
    PruneRule,
    PruneRun,
    PruneRunStatus,
)
from listings.prune_plan import (
    ACTION_ORDER,
    PlannedAction,
    PrunePlan,
    chunks,
    day,
    describe_measure,
    plan_prune,
    suggest_alternatives,
    title,
)
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


def prune_settings(app) -> PruneSettings:
    """The prune settings ``app`` started with (validated at start-up)."""
    settings = app.extensions.get(SETTINGS_KEY)
    if settings is None:
        settings = app.extensions[SETTINGS_KEY] = load_prune_settings(app.config)
    return settings


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
        return ", ".join(title(self.texts, rule) for rule in rules)

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
            parts.append(f"{title(ctx.texts, rule)} ({measured}).")
        else:
            parts.append(f"{text.title}: {text.statement} Measured: {measured}. "
                         f"To fix it: {text.fix}")
    parts.append(f"Fix it by {day(grace_ends)} or the listing will be delisted on that date; "
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
    titles = [title(texts, rule) for rule in rules]
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
        f"“{a.name}” was delisted on {day(ctx.now)}: its grace period ended while it still "
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
    # "decide" (promoted apps left for an editor) has no count column: its list is kept first.
    field_name = COUNT_FIELDS.get(action)
    if field_name:
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
        for batch in chunks(plan.of(action), settings.batch_size):
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
    now = as_utc(now) or utcnow()
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
        # Promoted apps due for delisting are left listed, and named for an editor.
        _record(run, "decide", plan.decisions)
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
