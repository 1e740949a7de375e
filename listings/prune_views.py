"""The pages of stale-app pruning: the public rules, the editors' pruning
console (runs, open flags, exemptions, the dry-run preview), exemptions on the
editor's listing page, and the partner's notices.

The job itself lives in ``listings.prune``; these pages read what it wrote
(``PruneRun``, ``ListingFlag``, ``PartnerNotice``, ``Notification``) and call
it only for an editor's preview, which changes nothing but its own run row.
The helpers near the top (``partner_prune_context``, ``editor_prune_context``,
``delisted_rule_titles``, ``suggested_apps``) give the partner portal, the
editor console, the listing page and "My apps" what they show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from core.db import as_utc, get_session, utcnow
from core.pagination import page_count, page_number
from core.security import editor_required, partner_required, safe_next
from listings.editor_forms import ExemptionForm, PreviewRunForm, parse_day
from listings.editor_pages import render_listing_review
from listings.models import Listing
from listings.prune import CLEARED_WHY, PruneLocked, run_prune
from listings.prune_exemptions import end_exemption, exempt_listing
from listings.prune_models import ListingExemption, PartnerNotice, PruneRun
from listings.prune_queries import (
    EXEMPTIONS_SHOWN,
    OPEN_FLAGS_SHOWN,
    active_exemptions,
    current_rule_texts,
    describe_flags,
    measured_in_words,
    open_flags,
    open_flags_total,
    prune_runs,
    prune_settings_now,
    rule_choices,
    rule_title,
)
from listings.prune_rules import RuleText, rule_texts
from listings.services import ListingError, audit

bp = Blueprint("pruning", __name__)

RUNS_PER_PAGE = 25
# A preview further ahead than this is a typo, and would overflow the job's date sums.
MAX_PREVIEW_AHEAD = timedelta(days=3650)

# How a run's actions are shown, most serious first.
ACTION_HEADINGS = {
    "decide": "Needs a decision",
    "delist": "Delisted",
    "archive": "Archived",
    "flag": "Flagged",
    "relist": "Relisted",
    "clear": "Cleared",
}
# The run's JSON may name an action in the past tense ("flagged").
ACTION_ALIASES = {"flagged": "flag", "cleared": "clear", "delisted": "delist",
                  "relisted": "relist", "archived": "archive"}


# --- what the pages share ------------------------------------------------------------


# --- for the partner portal ----------------------------------------------------------


@bp.route("/partner/notices/<int:notice_id>/dismiss", methods=["POST"])
@partner_required
def dismiss_notice(notice_id: int):
    """Hide a notice from the partner portal (the partner's own notices only)."""
    session = get_session()
    notice = session.get(PartnerNotice, notice_id)
    if notice is None or notice.partner_id != current_user.partner_id:
        abort(404)
    if notice.dismissed_at is None:
        notice.dismissed_at = utcnow()
        session.add(notice)
        session.commit()
    flash("Notice dismissed.", "success")
    return redirect(safe_next(request.form.get("next"), url_for("partner.dashboard")), code=303)


# --- for the storefront ---------------------------------------------------------------


# --- the public rules page -------------------------------------------------------------


@bp.route("/policies/pruning")
def rules():
    """The published rules with the configured numbers, and what happens at each stage."""
    settings = prune_settings_now()
    texts = rule_texts(settings)
    return render_template("listings/pruning_rules.html", settings=settings,
                           rules=[texts[rule] for rule in settings.enabled_rules])


# --- the editors' pruning console --------------------------------------------------------


def duration_in_words(run: PruneRun) -> str:
    """How long a run took: "0.4 s", "12 s", "3 min 4 s"; "running" while unfinished."""
    if run.finished_at is None:
        return "still running" if run.status == "running" else "—"
    seconds = (as_utc(run.finished_at) - as_utc(run.started_at)).total_seconds()
    if seconds < 10:
        return f"{max(seconds, 0):.1f} s"
    minutes, seconds = divmod(round(seconds), 60)
    if not minutes:
        return f"{seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min {seconds} s"


def _render_console(form: PreviewRunForm, status: int = 200):
    session = get_session()
    texts = current_rule_texts()
    page = page_number()
    runs = prune_runs(session, page, RUNS_PER_PAGE)
    flags = describe_flags(open_flags(session, OPEN_FLAGS_SHOWN), texts)
    exemptions = active_exemptions(session, utcnow(), EXEMPTIONS_SHOWN)
    return render_template(
        "listings/editor/pruning.html", form=form, runs=runs.rows, page=page,
        pages=page_count(runs.total, RUNS_PER_PAGE), total_runs=runs.total,
        flags=flags, open_total=open_flags_total(session), exemptions=exemptions.rows,
        exemptions_total=exemptions.total, texts=texts, rule_title=rule_title,
        duration_in_words=duration_in_words, aware=as_utc, settings=prune_settings_now(),
    ), status


@bp.route("/editor/pruning")
@editor_required
def console():
    """Every prune run, the open flags, the active exemptions, and the preview form."""
    return _render_console(PreviewRunForm(formdata=None))


def _preview_moment(form: PreviewRunForm, now: datetime) -> datetime | None:
    """The moment to evaluate the rules at: now, or the start of a later day (UTC).
    None, with the error beside the field, for a day in the past or too far ahead."""
    if not form.as_of.data:
        return now
    day: date = parse_day(form.as_of.data)
    if day < now.date():
        form.as_of.errors.append("Choose today or a later day: the preview shows what the "
                                 "coming runs would do.")
        return None
    if day == now.date():
        return now
    moment = datetime.combine(day, time(0, 0), tzinfo=UTC)
    if moment > now + MAX_PREVIEW_AHEAD:
        form.as_of.errors.append("Choose a day within the next ten years.")
        return None
    return moment


@bp.route("/editor/pruning/preview", methods=["POST"])
@editor_required
def preview():
    """Run the prune job as a dry run (nothing changes) and show what it would do."""
    session = get_session()
    form = PreviewRunForm()
    if not form.validate_on_submit():
        return _render_console(form, 400)
    as_of = _preview_moment(form, utcnow())
    if as_of is None:
        return _render_console(form, 400)
    # End this request's read transaction first: on SQLite a transaction that
    # read before the run wrote could not write the audit row afterwards.
    session.rollback()
    try:
        run = run_prune(current_app._get_current_object(), now=as_of, dry_run=True,
                        trigger="editor")
    except PruneLocked as error:
        flash(str(error), "error")
        return redirect(url_for("pruning.console"), code=303)
    run_id = run.id
    # The run row has no author; the audit log says which editor asked for it.
    audit(session, current_user, "prune.previewed", run, as_of=as_of.isoformat())
    session.commit()
    return redirect(url_for("pruning.run", run_id=run_id), code=303)


@dataclass(frozen=True)
class ActionGroup:
    action: str
    heading: str
    count: int
    items: list[tuple[dict, str]]   # (the run's action, why, in words)


def describe_action(action: str, item: dict, texts: dict[str, RuleText]) -> str:
    """Why a run took an action on a listing: the rules, and what was measured
    (flag, delist) or why the flag cleared (clear)."""
    rules = [str(rule) for rule in item.get("rules") or []]
    detail = item.get("detail") or {}
    if action == "decide":
        return f"{promotion_in_words(detail.get('promoted') or {})}; due for delisting: " + \
            describe_action("delist", item, texts)
    if action in ("flag", "delist"):
        return "; ".join(
            f"{rule_title(texts, rule)} ({measured_in_words(rule, detail.get(rule))})"
            if isinstance(detail.get(rule), dict) else rule_title(texts, rule) for rule in rules)
    titles = ", ".join(rule_title(texts, rule) for rule in rules)
    if action == "clear" and detail.get("reason") in CLEARED_WHY:
        return f"{titles}: {CLEARED_WHY[detail['reason']]}" if titles \
            else CLEARED_WHY[detail["reason"]]
    return titles


def promotion_in_words(promoted: dict) -> str:
    """{"badges": ["Staff pick"], "collections": ["Spring picks"]} -> "Staff pick badge;
    in the collection “Spring picks”"."""
    parts = [f"{label} badge" for label in promoted.get("badges") or []]
    parts += [f"in the collection “{name}”" for name in promoted.get("collections") or []]
    return "; ".join(parts) or "promoted by an editor"


def _action_groups(run: PruneRun, texts: dict[str, RuleText]) -> list[ActionGroup]:
    items: dict[str, list[tuple[dict, str]]] = {action: [] for action in ACTION_HEADINGS}
    for item in run.actions or []:
        action = ACTION_ALIASES.get(item.get("action"), item.get("action"))
        items.setdefault(action, []).append((item, describe_action(action, item, texts)))
    counts = {"flag": run.flagged, "clear": run.cleared, "delist": run.delisted,
              "relist": run.relisted, "archive": run.archived}
    return [ActionGroup(action, ACTION_HEADINGS.get(action, str(action).capitalize()),
                        counts.get(action, len(listed)), listed)
            for action, listed in items.items()]


@bp.route("/editor/pruning/runs/<int:run_id>")
@editor_required
def run(run_id: int):
    """One run: when, how long, its counts, and each listing it acted on."""
    prune_run = get_session().get(PruneRun, run_id)
    if prune_run is None:
        abort(404)
    groups = _action_groups(prune_run, current_rule_texts())
    total = sum(group.count for group in groups)
    return render_template("listings/editor/prune_run.html", run=prune_run, groups=groups,
                           total=total, shown=len(prune_run.actions or []),
                           duration=duration_in_words(prune_run), aware=as_utc)


# --- exemptions on the editor's listing page ---------------------------------------------


def _render_editor_listing(listing: Listing, exemption_form: ExemptionForm):
    # The editor console's listing page renders the form with its errors.

    return render_listing_review(listing, 400, exemption_form=exemption_form)


@bp.route("/editor/listings/<int:listing_id>/exemptions", methods=["POST"])
@editor_required
def exempt(listing_id: int):
    """Exempt a listing from one rule or all of them, with a reason, until a day."""
    session = get_session()
    listing = session.get(Listing, listing_id)
    if listing is None:
        abort(404)
    texts = current_rule_texts()
    form = ExemptionForm()
    form.rule.choices = rule_choices(texts)
    if not form.validate_on_submit():
        return _render_editor_listing(listing, form)
    try:
        exemption = exempt_listing(session, listing, current_user, rule=form.rule.data,
                                   reason=form.reason.data, expires_at=form.expiry)
    except ListingError as error:
        session.rollback()
        field = getattr(form, error.field or "", None) or form.reason
        field.errors.append(str(error))
        return _render_editor_listing(listing, form)
    session.commit()
    what = "every rule" if exemption.rule is None else f"“{rule_title(texts, exemption.rule)}”"
    flash(f"“{listing.name}” is exempt from {what} until "
          f"{as_utc(exemption.expires_at).strftime('%-d %b %Y')}.", "success")
    return redirect(url_for("editor.listing", listing_id=listing.id, _anchor="pruning-heading"),
                    code=303)


@bp.route("/editor/exemptions/<int:exemption_id>/end", methods=["POST"])
@editor_required
def end(exemption_id: int):
    """End an exemption now: the rules apply again from the next run."""
    session = get_session()
    exemption = session.get(ListingExemption, exemption_id)
    if exemption is None:
        abort(404)
    back = safe_next(request.form.get("next"),
                     url_for("editor.listing", listing_id=exemption.listing_id,
                             _anchor="pruning-heading"))
    try:
        end_exemption(session, exemption, current_user)
    except ListingError as error:
        flash(str(error), "error")
        return redirect(back, code=303)
    session.commit()
    flash("The exemption has ended; the rules apply again from the next run.", "success")
    return redirect(back, code=303)
