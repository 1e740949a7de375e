"""Notice mail to the people a change concerns: a partner's members (users with its
``partner_id``) and a workspace's admins (``WorkspaceMember`` role admin). Every
package above listings mails through here, so who gets a notice is decided once.

Each mail is queued in the caller's transaction (``mail.compose.queue_mail``) with
an idempotency key per event and person, so a job run twice or a retried request
mails once; a person who turned the kind off gets nothing (docs/mail.md#notices).

The review digest lives here too: a partner gets at most one "new reviews" mail a
day, however many reviews are published (``send_review_digests``, run daily).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, time

from sqlmodel import Session, col, select

from accounts.models import User, WorkspaceMember, WorkspaceRole
from core.db import as_utc, utcnow
from listings.models import Listing, Release, Review, ReviewStatus
from mail.compose import absolute_url, queue_mail, with_app_context


def partner_members(session: Session, partner_id: int) -> list[User]:
    """The active accounts of ``partner_id``'s team."""
    return list(session.exec(select(User).where(
        User.partner_id == partner_id, col(User.active).is_(True),
        col(User.deleted_at).is_(None)).order_by(User.id)).all())


def workspace_admins(session: Session, workspace_id: int) -> list[User]:
    """The active admins of ``workspace_id`` (who also get its billing mail: a
    workspace has no separate billing contact)."""
    return list(session.exec(
        select(User).join(WorkspaceMember, WorkspaceMember.user_id == User.id)
        .where(WorkspaceMember.workspace_id == workspace_id,
               WorkspaceMember.role == WorkspaceRole.ADMIN, col(User.active).is_(True),
               col(User.deleted_at).is_(None)).order_by(User.id)).all())


@with_app_context
def mail_people(session: Session, people: list[User], *, kind: str, key: str, subject: str,
                paragraphs: list[str], action_text: str | None = None,
                action_url: str | None = None) -> int:
    """Queue the generic ``notice`` mail for each of ``people`` (the key gets the
    person's id); returns how many were queued (a person who turned ``kind`` off
    is skipped). Never commits."""
    queued = 0
    for person in people:
        row = queue_mail(session, to=person.email, to_name=person.display_name, kind=kind,
                         template="notice", user_id=person.id, key=f"{key}:user-{person.id}",
                         context={"subject": subject, "name": person.display_name,
                                  "paragraphs": paragraphs, "action_text": action_text,
                                  "action_url": action_url})
        queued += row is not None
    return queued


def mail_partner(session: Session, partner_id: int, **notice) -> int:
    """``mail_people`` for every member of ``partner_id``."""
    return mail_people(session, partner_members(session, partner_id), **notice)


def mail_workspace_admins(session: Session, workspace_id: int, **notice) -> int:
    """``mail_people`` for every admin of ``workspace_id``."""
    return mail_people(session, workspace_admins(session, workspace_id), **notice)


# --- the editors' decisions and reviews ------------------------------------------------


@with_app_context
def mail_submission_reviewed(session: Session, listing: Listing, approved: bool,
                             reason: str = "") -> None:
    """Tell the partner's members their submission was approved, or rejected and why.
    Once per submission (a listing may be submitted again after a rejection)."""
    submission = f"{listing.id}:{listing.submitted_at.isoformat() if listing.submitted_at else '-'}"
    if approved:
        mail_partner(session, listing.partner_id, kind="submission_reviewed",
                     key=f"submission_approved:{submission}",
                     subject=f"{listing.name} is approved and published",
                     paragraphs=[f"Our editors approved {listing.name}: it is now published in "
                                 "the Bazaar catalog, and customers can find and install it."],
                     action_text="See it in the catalog",
                     action_url=absolute_url("storefront.listing", slug=listing.slug))
        return
    mail_partner(session, listing.partner_id, kind="submission_reviewed",
                 key=f"submission_rejected:{submission}",
                 subject=f"{listing.name} was not approved",
                 paragraphs=[f"Our editors did not approve {listing.name}. Their reason:", reason,
                             "The listing is back in draft: fix what they ask and submit it "
                             "again."],
                 action_text="Open the listing",
                 action_url=absolute_url("partner.listing_detail", listing_id=listing.id))


@with_app_context
def mail_release_reviewed(session: Session, release: Release, approved: bool,
                          reason: str = "") -> None:
    """Tell the partner's members a new release was approved, or rejected and why."""
    listing = session.get(Listing, release.listing_id)
    name = f"{listing.name} {release.version}"
    if approved:
        subject = f"{name} is approved"
        paragraphs = [f"Our editors approved version {release.version} of {listing.name}. "
                      "Installs move to it at once, or when their admins approve it if it "
                      "asks for more access."]
    else:
        subject = f"{name} was not approved"
        paragraphs = [f"Our editors did not approve version {release.version} of "
                      f"{listing.name}. Their reason:", reason,
                      "Customers keep the version they have; add a release that fixes it."]
    mail_partner(session, listing.partner_id, kind="release_reviewed",
                 key=f"release_reviewed:{release.id}", subject=subject, paragraphs=paragraphs,
                 action_text="Open the listing",
                 action_url=absolute_url("partner.listing_detail", listing_id=listing.id))


@with_app_context
def mail_review_reply(session: Session, review: Review) -> None:
    """Tell the review's author the partner replied (on the first reply; editing the
    reply later mails nobody)."""
    author = session.get(User, review.author_id)
    listing = session.get(Listing, review.listing_id)
    if author is None or not author.active or author.deleted_at is not None:
        return
    mail_people(session, [author], kind="review_reply", key=f"review_reply:{review.id}",
                subject=f"{listing.name} replied to your review",
                paragraphs=[f"The makers of {listing.name} replied to your review "
                            f"“{review.title}”:", review.reply_body or ""],
                action_text="Read it on the app's page",
                action_url=absolute_url("storefront.listing", slug=listing.slug,
                                        _anchor="reviews"))


# --- the prune job: flags and delistings -------------------------------------------------


def _day(moment: datetime) -> str:
    """As the prune pages write a date: "July 1, 2026"."""
    return f"{moment:%B} {moment.day}, {moment.year}"


@with_app_context
def mail_prune_notice(session: Session, kind: str, notices: list[tuple[int, int, str, str]],
                      now: datetime, grace_ends: datetime) -> None:
    """Mail the partner's members a flag (what breaks which rule, how to fix it, the
    delisting date) or a delisting; ``notices`` are (listing id, partner id, name,
    the notice's text). Other prune notices stay on the portal only."""
    if kind not in ("prune.flagged", "prune.delisted"):
        return
    for listing_id, partner_id, name, text in notices:
        if kind == "prune.flagged":
            subject = f"{name} was flagged: fix it by {_day(grace_ends)}"
        else:
            subject = f"{name} was delisted"
        mail_partner(session, partner_id, kind="listing_flagged",
                     key=f"{kind}:{listing_id}:{now.isoformat()}", subject=subject,
                     paragraphs=[text], action_text="Open the listing",
                     action_url=absolute_url("partner.listing_detail", listing_id=listing_id))


@with_app_context
def mail_delisted_installers(session: Session, delisted: list[tuple[int, str, str]],
                             installed_in: dict[int, list[int]],
                             alternatives: dict[int, list[int]], now: datetime) -> None:
    """Mail the admins of each workspace using a delisted app why it went and the
    suggested alternatives; ``delisted`` are (listing id, name, the rules it broke)."""
    suggested_ids = sorted({i for ids in alternatives.values() for i in ids})
    suggested = {listing.id: listing for listing in session.exec(
        select(Listing).where(col(Listing.id).in_(suggested_ids))).all()} if suggested_ids else {}
    for listing_id, name, rules in delisted:
        others = [suggested[i] for i in alternatives.get(listing_id, []) if i in suggested]
        paragraphs = [f"{name} was removed from the Bazaar catalog on {_day(now)}: it broke "
                      f"our published rules ({rules}). Your install keeps working, but the app "
                      "may stop being maintained."]
        if others:
            paragraphs.append("Similar apps from the same category:")
            paragraphs += [f"{other.name}: {absolute_url('storefront.listing', slug=other.slug)}"
                           for other in others]
        for workspace_id in installed_in.get(listing_id, []):
            mail_workspace_admins(
                session, workspace_id, kind="app_delisted",
                key=f"app_delisted:{listing_id}:{now.isoformat()}:workspace-{workspace_id}",
                subject=f"{name} was removed from Bazaar", paragraphs=paragraphs,
                action_text="See your apps", action_url=absolute_url("installs.my_apps"))


# --- the daily review digest ---------------------------------------------------------


def _start_of_day(moment: datetime) -> datetime:
    moment = as_utc(moment)
    return datetime.combine(moment.astimezone(UTC).date(), time.min, tzinfo=UTC)


@with_app_context
def send_review_digests(session: Session, now: datetime | None = None) -> int:
    """Mail each partner's members one digest of its reviews published and not mailed
    yet, and mark them mailed; returns how many partners got one. A partner mailed
    already today (UTC) waits for tomorrow's run, so nobody gets more than one review
    mail a day whatever the schedule. Never commits."""
    now = now or utcnow()
    today = _start_of_day(now)
    rows = session.exec(
        select(Review, Listing).join(Listing, Listing.id == Review.listing_id)
        .where(Review.status == ReviewStatus.PUBLISHED, col(Review.digest_mailed_at).is_(None))
        .order_by(Listing.partner_id, Review.id)).all()
    by_partner: dict[int, list[tuple[Review, Listing]]] = defaultdict(list)
    for review, listing in rows:
        by_partner[listing.partner_id].append((review, listing))
    mailed_today = set(session.exec(
        select(Listing.partner_id).join(Review, Review.listing_id == Listing.id)
        .where(col(Review.digest_mailed_at) >= today).distinct()).all())
    digests = 0
    for partner_id, reviews in by_partner.items():
        if partner_id in mailed_today:
            continue
        count = len(reviews)
        lines = [f"{listing.name}: {review.rating}/5, “{review.title}”"
                 for review, listing in reviews[:20]]
        if count > 20:
            lines.append(f"… and {count - 20} more.")
        mail_partner(session, partner_id, kind="new_reviews",
                     key=f"new_reviews:partner-{partner_id}:{today:%Y-%m-%d}",
                     subject=f"{count} new review{'s' if count != 1 else ''} of your apps",
                     paragraphs=[f"Customers published {count} new "
                                 f"review{'s' if count != 1 else ''} of your apps:", *lines,
                                 "You can reply to each review from its app's page."],
                     action_text="See your listings",
                     action_url=absolute_url("partner.dashboard"))
        for review, _ in reviews:
            review.digest_mailed_at = now
            session.add(review)
        digests += 1
    session.flush()
    return digests
