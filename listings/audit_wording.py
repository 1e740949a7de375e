"""The audit log in words: each event as a sentence naming who did what to which
object, with links ("Elena Ruiz approved *Rival Cards* v1.2.0").

``WORDING`` maps an action to the function that words it; an action without
one gets a readable generic sentence. ``AuditNames.load`` reads the names a
page of events mentions (actors, listings, collections, reviews, users) in a
fixed number of queries, whatever the page size, so the page never runs one
query per event. Consecutive events of one prune run with the same action are
told as one sentence ("The nightly prune job delisted 3 apps: …").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from flask import url_for
from markupsafe import Markup
from sqlmodel import Session, col, select

from accounts.models import User
from core.db import as_utc, utcnow
from listings.models import AuditEvent, BadgeKind, Collection, Listing, Review
from listings.prune_queries import current_rule_texts, rule_title

JOB_ACTOR = "The nightly prune job"
SYSTEM_ACTOR = "The system"
# A collection's saved contents name at most this many apps, then "and N more".
NAMES_SHOWN = 5
# Detail fields worth a line under the sentence (the others are in the sentence).
NOTE_FIELDS = {"reason": "Reason", "note": "Note"}


@dataclass
class AuditNames:
    """The names a page of events mentions, by id."""

    users: dict[int, str] = field(default_factory=dict)
    listings: dict[int, str] = field(default_factory=dict)
    collections: dict[int, tuple[str, str]] = field(default_factory=dict)  # id: (name, slug)
    reviews: dict[int, str] = field(default_factory=dict)                  # id: title

    @classmethod
    def load(cls, session: Session, events: Iterable[AuditEvent]) -> AuditNames:
        """Everything ``events`` mention, in at most four queries."""
        user_ids, listing_ids, collection_ids, review_ids = set(), set(), set(), set()
        for event in events:
            detail = event.detail or {}
            if event.actor_id:
                user_ids.add(event.actor_id)
            target = event.target_id
            if target is not None:
                {"listing": listing_ids, "user": user_ids, "collection": collection_ids,
                 "review": review_ids}.get(event.target_type, set()).add(target)
            if isinstance(detail.get("listing_id"), int):
                listing_ids.add(detail["listing_id"])
            listing_ids.update(i for i in detail.get("listing_ids") or [] if isinstance(i, int))
        names = cls()
        if user_ids:
            names.users = dict(session.exec(select(User.id, User.display_name)
                                            .where(col(User.id).in_(user_ids))).all())
        if listing_ids:
            names.listings = dict(session.exec(select(Listing.id, Listing.name)
                                               .where(col(Listing.id).in_(listing_ids))).all())
        if collection_ids:
            names.collections = {cid: (name, slug) for cid, name, slug in session.exec(
                select(Collection.id, Collection.name, Collection.slug)
                .where(col(Collection.id).in_(collection_ids))).all()}
        if review_ids:
            names.reviews = dict(session.exec(select(Review.id, Review.title)
                                              .where(col(Review.id).in_(review_ids))).all())
        return names


@dataclass
class AuditLine:
    """One line of the audit log page: when, the sentence, notes (reason…)."""

    when: datetime
    sentence: Markup
    notes: list[str]
    event_ids: list[int]


# --- the pieces of a sentence --------------------------------------------------------


def _link(text: str, url: str) -> Markup:
    return Markup('<a href="{}"><em>{}</em></a>').format(url, text)


def actor(event: AuditEvent, names: AuditNames) -> Markup:
    """Who acted, linked to the log filtered by them; the jobs have no account."""
    if event.actor_id is None:
        return Markup(JOB_ACTOR if event.action.startswith("prune.") else SYSTEM_ACTOR)
    name = names.users.get(event.actor_id) or f"User #{event.actor_id}"
    return Markup('<a href="{}">{}</a>').format(url_for("editor.audit_log", actor=event.actor_id),
                                                name)


def listing(names: AuditNames, listing_id, fallback: str = "") -> Markup:
    """A listing's name linked to its review page; a deleted one by its slug or id."""
    if not isinstance(listing_id, int):
        return Markup("<em>{}</em>").format(fallback or "an unknown app")
    name = names.listings.get(listing_id)
    if name is None:
        return Markup("<em>{}</em> (deleted)").format(fallback or f"app #{listing_id}")
    return _link(name, url_for("editor.listing", listing_id=listing_id))


def collection(event: AuditEvent, names: AuditNames) -> Markup:
    found = names.collections.get(event.target_id)
    if found is None:   # deleted since: the name it had
        return Markup("<em>{}</em>").format((event.detail or {}).get("name")
                                            or f"collection #{event.target_id}")
    return _link(found[0], url_for("collections.edit", collection_id=event.target_id))


def badge_label(kind) -> str:
    try:
        return BadgeKind(kind).label
    except ValueError:
        return str(kind).replace("_", " ").capitalize()


def day(iso_text) -> str:
    """"2030-12-31T23:59:59+00:00" -> "31 Dec 2030"; the text itself when malformed."""
    try:
        return datetime.fromisoformat(str(iso_text)).strftime("%-d %b %Y")
    except ValueError:
        return str(iso_text)


def listing_names(names: AuditNames, ids: list) -> str:
    """"Alpha, Beta and 3 more" (plain text)."""
    shown = [names.listings.get(i, f"app #{i}") for i in ids[:NAMES_SHOWN]]
    if len(ids) > NAMES_SHOWN:
        return ", ".join(shown) + f" and {len(ids) - NAMES_SHOWN} more"
    return " and ".join([", ".join(shown[:-1]), shown[-1]]) if len(shown) > 1 else "".join(shown)


def rules_in_words(rules) -> str:
    texts = current_rule_texts()
    return ", ".join(rule_title(texts, rule) for rule in rules or [])


# --- one function per action -----------------------------------------------------------

Wording = Callable[[AuditEvent, AuditNames], Markup]


def _listing_action(verb: str) -> Wording:
    def words(event, names):
        return Markup("{} {} {}").format(actor(event, names), verb,
                                         listing(names, event.target_id,
                                                 (event.detail or {}).get("slug", "")))
    return words


def _release(verb: str) -> Wording:
    def words(event, names):
        detail = event.detail or {}
        version = detail.get("version")
        return Markup("{} {} {}{}").format(actor(event, names), verb,
                                           listing(names, detail.get("listing_id")),
                                           f" v{version}" if version else "")
    return words


def _review(verb: str) -> Wording:
    def words(event, names):
        title = names.reviews.get(event.target_id)
        what = Markup("the review “{}”").format(title) if title else Markup("a review")
        return Markup("{} {} {} of {}").format(actor(event, names), verb, what,
                                               listing(names, (event.detail or {}).get("listing_id")))
    return words


def _reports(sentence: str) -> Wording:
    """``sentence`` names {actor}, {review}, {listing} and {reports} ("2 reports")."""
    def words(event, names):
        count = (event.detail or {}).get("reports") or 0
        title = names.reviews.get(event.target_id)
        return Markup(sentence).format(
            actor=actor(event, names),
            review=Markup("the review “{}”").format(title) if title else Markup("a review"),
            listing=listing(names, (event.detail or {}).get("listing_id")),
            reports="1 report" if count == 1 else f"{count} reports")
    return words


def _webhook_url_changed(event, names):
    # Only hosts are kept: a URL's path or query may hold the partner's own token.
    host = (event.detail or {}).get("new_host")
    where = Markup("at {}").format(host) if host else Markup("nowhere (webhooks stopped)")
    return Markup("{} pointed the webhooks of {} {}").format(
        actor(event, names), listing(names, event.target_id), where)


def _badge_awarded(event, names):
    detail = event.detail or {}
    until = f" until {day(detail['expires_at'])}" if detail.get("expires_at") else ""
    return Markup("{} awarded the {} badge to {}{}").format(
        actor(event, names), badge_label(detail.get("kind")),
        listing(names, detail.get("listing_id")), until)


def _badge_revoked(event, names):
    detail = event.detail or {}
    return Markup("{} revoked the {} badge from {}").format(
        actor(event, names), badge_label(detail.get("kind")), listing(names, detail.get("listing_id")))


def _collection(verb: str) -> Wording:
    def words(event, names):
        return Markup("{} {} the collection {}").format(actor(event, names), verb,
                                                        collection(event, names))
    return words


def _collection_updated(event, names):
    ids = [i for i in (event.detail or {}).get("listing_ids") or [] if isinstance(i, int)]
    contents = f": {listing_names(names, ids)}" if ids else " (now empty)"
    return Markup("{} saved the collection {}{}").format(actor(event, names),
                                                         collection(event, names), contents)


def _collection_moved(event, names):
    detail = event.detail or {}
    place = f" (now {detail['position']}. on the home page)" if detail.get("position") else ""
    return Markup("{} moved the collection {} {}{}").format(
        actor(event, names), collection(event, names), detail.get("direction", ""), place)


def _collection_renamed(event, names):
    detail = event.detail or {}
    return Markup("{} renamed the collection “{}” ({}) to {} ({})").format(
        actor(event, names), detail.get("old_name", ""), detail.get("old_slug", ""),
        collection(event, names), detail.get("slug", ""))


def _collection_item(verb: str, preposition: str) -> Wording:
    def words(event, names):
        return Markup("{} {} {} {} the collection {}").format(
            actor(event, names), verb, listing(names, (event.detail or {}).get("listing_id")),
            preposition, collection(event, names))
    return words


def _exempted(event, names):
    detail = event.detail or {}
    rule = detail.get("rule") or "all rules"
    what = "every prune rule" if rule == "all rules" else f"the prune rule “{rules_in_words([rule])}”"
    until = f" until {day(detail['expires_at'])}" if detail.get("expires_at") else ""
    return Markup("{} exempted {} from {}{}").format(
        actor(event, names), listing(names, event.target_id, detail.get("slug", "")), what, until)


def _exemption_ended(event, names):
    detail = event.detail or {}
    rule = detail.get("rule") or "all rules"
    what = "every prune rule" if rule == "all rules" else f"“{rules_in_words([rule])}”"
    return Markup("{} ended the exemption of {} from {}").format(
        actor(event, names), listing(names, event.target_id, detail.get("slug", "")), what)


def _prune(verb: str) -> Wording:
    def words(event, names):
        detail = event.detail or {}
        rules = rules_in_words(detail.get("rules"))
        return Markup("{} {} {}{}").format(actor(event, names), verb,
                                           listing(names, event.target_id, detail.get("slug", "")),
                                           f" ({rules})" if rules else "")
    return words


def _previewed(event, names):
    as_of = (event.detail or {}).get("as_of")
    return Markup("{} previewed the prune job{} ({})").format(
        actor(event, names), f" as of {day(as_of)}" if as_of else "",
        Markup('<a href="{}">preview {}</a>').format(
            url_for("pruning.run", run_id=event.target_id), event.target_id))


def _role_changed(event, names):
    detail = event.detail or {}
    who = names.users.get(event.target_id) or f"user #{event.target_id}"
    role = str(detail.get("role") or "different role")
    was = f" (was {detail['previous_role']})" if detail.get("previous_role") else ""
    return Markup("{} made {} {} {}{}").format(
        actor(event, names), who, "an" if role[0] in "aeiou" else "a", role, was)


def _account_deleted(event, names):
    return Markup("{} deleted their account").format(actor(event, names))


def _synonym(verb: str) -> Wording:
    def words(event, names):
        return Markup("{} {} the search synonyms “{}”").format(
            actor(event, names), verb, (event.detail or {}).get("line", ""))
    return words


WORDING: dict[str, Wording] = {
    "listing.approved": _listing_action("approved"),
    "listing.rejected": _listing_action("sent back"),
    "listing.delisted": _listing_action("delisted"),
    "release.approved": _release("approved"),
    "release.rejected": _release("rejected"),
    "review.published": _review("published"),
    "review.rejected": _review("rejected"),
    "review.removed": _reports("{actor} removed {review} of {listing} after {reports}"),
    "review.reports_dismissed": _reports(
        "{actor} kept {review} of {listing} and dismissed {reports}"),
    "review.reports_closed": _reports("{actor} closed {reports} on {review} of {listing}"),
    "webhook.url_changed": _webhook_url_changed,
    "badge.awarded": _badge_awarded,
    "badge.revoked": _badge_revoked,
    "collection.created": _collection("created"),
    "collection.updated": _collection_updated,
    "collection.moved": _collection_moved,
    "collection.renamed": _collection_renamed,
    "collection.deleted": _collection("deleted"),
    "collection.listing_added": _collection_item("added", "to"),
    "listing.exempted": _exempted,
    "listing.exemption_ended": _exemption_ended,
    "prune.flagged": _prune("flagged"),
    "prune.cleared": _prune("cleared the flags of"),
    "prune.delisted": _prune("delisted"),
    "prune.relisted": _prune("listed again"),
    "prune.archived": _prune("archived"),
    "prune.previewed": _previewed,
    "user.role_changed": _role_changed,
    "account.deleted": _account_deleted,
    "search.synonym_add": _synonym("added"),
    "search.synonym_remove": _synonym("removed"),
}


def action_in_words(action: str) -> str:
    """"listing.approved" -> "Listing approved" (the filter's choices, the fallback)."""
    return action.replace(".", " ").replace("_", " ").capitalize()


def generic(event: AuditEvent, names: AuditNames) -> Markup:
    """An action without its own wording: "Elena Ruiz — Review reported: review #5"."""
    target = event.target_type.replace("_", " ")
    if event.target_type == "listing" and event.target_id is not None:
        what = listing(names, event.target_id)
    else:
        what = Markup("{}{}").format(target, f" #{event.target_id}" if event.target_id else "")
    return Markup("{} — {}: {}").format(actor(event, names), action_in_words(event.action), what)


def _notes(event: AuditEvent, worded: bool) -> list[str]:
    detail = event.detail or {}
    if not worded:   # nothing of it is in the sentence: every field, readably
        return [f"{key.replace('_', ' ').capitalize()}: "
                f"{', '.join(map(str, value)) if isinstance(value, list) else value}"
                for key, value in sorted(detail.items())]
    return [f"{label}: {detail[key]}" for key, label in NOTE_FIELDS.items() if detail.get(key)]


def sentence(event: AuditEvent, names: AuditNames) -> Markup:
    """One event as a sentence; never raises for odd or old detail data."""
    wording = WORDING.get(event.action)
    if wording is not None:
        try:
            return wording(event, names)
        except (TypeError, ValueError, AttributeError, KeyError):
            pass
    return generic(event, names)


def _job_batch_key(event: AuditEvent):
    detail = event.detail or {}
    if event.actor_id is None and event.action.startswith("prune.") and "run_id" in detail:
        return event.action, detail["run_id"]
    return None


def _batch_sentence(events: list[AuditEvent], names: AuditNames) -> Markup:
    """The events of one prune run with the same action: "The nightly prune job
    delisted 3 apps: A, B and C (run 12)"."""
    first = events[0]
    verb = {"prune.flagged": "flagged", "prune.cleared": "cleared the flags of",
            "prune.delisted": "delisted", "prune.relisted": "listed again",
            "prune.archived": "archived"}.get(first.action, action_in_words(first.action).lower())
    apps = Markup(", ").join(listing(names, event.target_id, (event.detail or {}).get("slug", ""))
                             for event in reversed(events))   # in the order the job acted
    run_id = first.detail["run_id"]
    return Markup("{} {} {} apps: {} ({})").format(
        JOB_ACTOR, verb, len(events), apps,
        Markup('<a href="{}">run {}</a>').format(url_for("pruning.run", run_id=run_id), run_id))


def describe_events(session: Session, events: list[AuditEvent]) -> list[AuditLine]:
    """A page of events (newest first) as lines of the audit log, in a fixed
    number of queries; a prune run's events of one action become one line."""
    names = AuditNames.load(session, events)
    lines: list[AuditLine] = []
    index = 0
    while index < len(events):
        event = events[index]
        key = _job_batch_key(event)
        batch = [event]
        while key is not None and index + len(batch) < len(events) \
                and _job_batch_key(events[index + len(batch)]) == key:
            batch.append(events[index + len(batch)])
        if len(batch) > 1:
            lines.append(AuditLine(as_utc(event.created_at), _batch_sentence(batch, names), [],
                                   [e.id for e in batch]))
        else:
            lines.append(AuditLine(as_utc(event.created_at), sentence(event, names),
                                   _notes(event, event.action in WORDING), [event.id]))
        index += len(batch)
    return lines


def time_ago(moment: datetime, now: datetime | None = None) -> str:
    """"just now", "5 minutes ago", "3 hours ago", "2 days ago" (then only the date is shown)."""
    seconds = (as_utc(now or utcnow()) - as_utc(moment)).total_seconds()
    if seconds < 60:
        return "just now"
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return ""


def human_time(moment: datetime) -> Markup:
    """A ``<time>`` element: "5 Dec 2026, 14:03 UTC", machine-readable to the second."""
    moment = as_utc(moment)
    return Markup('<time datetime="{}">{}</time>').format(
        moment.replace(microsecond=0).isoformat(), moment.strftime("%-d %b %Y, %H:%M UTC"))


__all__ = ["WORDING", "AuditLine", "AuditNames", "action_in_words", "describe_events",
           "human_time", "sentence", "time_ago"]
