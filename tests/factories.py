"""Test data factories: the one place tests make users, partners and listings.

Each factory commits, so the app under test sees the rows at once.
"""

from __future__ import annotations

import io
import itertools
from datetime import UTC, datetime, timedelta

from PIL import Image
from sqlmodel import Session

from accounts.models import Role, User
from accounts.services import hash_password
from core.db import utcnow
from listings.models import (
    Badge,
    Category,
    Collection,
    CollectionItem,
    Listing,
    ListingStatus,
    Partner,
    Release,
    ReleaseStatus,
    Review,
    ReviewStatus,
)
from listings.text import slugify

PASSWORD = "correct-horse-battery"
_PASSWORD_HASH = hash_password(PASSWORD)  # hashed once: Argon2 is slow on purpose
_seq = itertools.count(1)


def _n() -> int:
    return next(_seq)


def save(session: Session, *objects):
    for obj in objects:
        session.add(obj)
    session.commit()
    for obj in objects:
        session.refresh(obj)
    return objects[0] if len(objects) == 1 else objects


def make_partner(session: Session, name: str | None = None, tier: str = "registered") -> Partner:
    n = _n()
    name = name or f"Partner {n}"
    return save(session, Partner(name=name, slug=f"partner-{n}", tier=tier))


def make_user(session: Session, role: Role | str = Role.CUSTOMER, partner: Partner | None = None,
              email: str | None = None, name: str | None = None, verified: bool = True) -> User:
    """A user whose address is verified unless ``verified=False`` (a fresh sign-up)."""
    n = _n()
    if role == Role.PARTNER and partner is None:
        partner = make_partner(session)
    return save(session, User(email=email or f"user{n}@example.com", display_name=name or f"User {n}",
                              role=role, password_hash=_PASSWORD_HASH,
                              partner_id=partner.id if partner else None,
                              email_verified_at=utcnow() if verified else None))


def make_category(session: Session, name: str | None = None) -> Category:
    n = _n()
    return save(session, Category(name=name or f"Category {n}", slug=f"category-{n}", position=n))


def make_listing(session: Session, partner: Partner | None = None, category: Category | None = None,
                 status: ListingStatus | str = ListingStatus.PUBLISHED, with_release: bool = True,
                 scopes: list[dict] | None = None, **fields) -> Listing:
    n = _n()
    partner = partner or make_partner(session)
    category = category or make_category(session)
    now = utcnow()
    values = dict(
        name=f"App {n}", slug=f"app-{n}", tagline=f"Does useful thing number {n}",
        description=f"**App {n}** helps your team.", tags=["productivity"],
        partner_id=partner.id, category_id=category.id, status=status,
        created_at=now - timedelta(days=n % 30 + 1), updated_at=now,
        support_url="https://support.example.com", privacy_url="https://example.com/privacy",
        data_residency=["us", "eu"], webhook_url="https://app.example.com/webhooks",
    )
    if status in (ListingStatus.PUBLISHED, ListingStatus.DELISTED):
        values["published_at"] = now - timedelta(days=n % 30)
    if status == ListingStatus.IN_REVIEW:
        values["submitted_at"] = now
    values.update(fields)
    listing = save(session, Listing(**values))
    if with_release:
        review_status = (ReleaseStatus.PENDING if status in (ListingStatus.DRAFT, ListingStatus.IN_REVIEW)
                         else ReleaseStatus.APPROVED)
        make_release(session, listing, review_status=review_status, scopes=scopes)
    return listing


def make_release(session: Session, listing: Listing, version: str = "1.0.0",
                 review_status: str = ReleaseStatus.APPROVED, scopes: list[dict] | None = None) -> Release:
    if scopes is None:
        scopes = [{"scope": "contacts:read", "justification": "To show contact names in the app."}]
    return save(session, Release(listing_id=listing.id, version=version, scopes=scopes,
                                 redirect_url="https://app.example.com/installed",
                                 webhook_url="https://app.example.com/webhooks",
                                 review_status=review_status, changelog="First release."))


def make_review(session: Session, listing: Listing, author: User | None = None, rating: int = 5,
                status: str = ReviewStatus.PUBLISHED, **fields) -> Review:
    author = author or make_user(session)
    values = dict(listing_id=listing.id, author_id=author.id, rating=rating,
                  title=f"Rated {rating}", body="Works well for our team.", status=status)
    values.update(fields)
    return save(session, Review(**values))


def make_badge(session: Session, listing: Listing, kind: str = "staff_pick", awarded_by: User | None = None,
               expires_at=None) -> Badge:
    return save(session, Badge(listing_id=listing.id, kind=kind, expires_at=expires_at,
                               awarded_by_id=awarded_by.id if awarded_by else None))


def make_collection(session: Session, listings: list[Listing], name: str | None = None) -> Collection:
    n = _n()
    collection = save(session, Collection(name=name or f"Collection {n}", slug=f"collection-{n}",
                                          position=n))
    for position, listing in enumerate(listings):
        session.add(CollectionItem(collection_id=collection.id, listing_id=listing.id, position=position))
    session.commit()
    return collection


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(buffer, format=fmt)
    return buffer.getvalue()


def make_screenshot(session: Session, listing: Listing, upload_folder: str, caption: str = "",
                    size: tuple[int, int] = (64, 48)):
    """A PNG screenshot row for ``listing`` with its file written under ``upload_folder``."""
    from pathlib import Path

    from listings.models import Screenshot

    n = _n()
    filename = f"{listing.id}-shot{n:06d}.png"
    folder = Path(upload_folder) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / filename).write_bytes(image_bytes(size=size))
    return save(session, Screenshot(listing_id=listing.id, filename=filename, content_type="image/png",
                                    width=size[0], height=size[1], caption=caption, position=n))


SEARCH_NOW = datetime(2026, 11, 1, tzinfo=UTC)


def search_document(listing_id: int, name: str, published_days_ago: int | None = None,
                    updated_days_ago: int | None = None, **fields) -> dict:
    """A complete search document with plain defaults; ``fields`` override them."""
    from listings.ranking import rating_score
    from search.interfaces import DOCUMENT_FIELDS

    published = listing_id if published_days_ago is None else published_days_ago
    updated = published if updated_days_ago is None else updated_days_ago
    document = {
        "id": listing_id, "slug": f"{slugify(name)}-{listing_id}", "name": name,
        "tagline": "A helpful app", "description": "Helps teams do their work.",
        "category": "Productivity", "category_slug": "productivity", "tags": [],
        "partner": "Acme", "pricing_model": "free", "is_free": True, "has_trial": False,
        "badges": [], "scopes": ["contacts:read"], "write_access": False, "regions": ["us"],
        "rating_average": 0.0, "rating_count": 0, "installs": 0, "active_installs": 0,
        "published_at": (SEARCH_NOW - timedelta(days=published)).isoformat(),
        "updated_at": (SEARCH_NOW - timedelta(days=updated)).isoformat(),
    }
    document.update(fields)
    document.setdefault("rating_score", rating_score(document["rating_average"],
                                                    document["rating_count"]))
    assert set(document) == set(DOCUMENT_FIELDS), set(document) ^ set(DOCUMENT_FIELDS)
    return document


def make_workspace(session: Session, admin_user: User, name: str | None = None):
    """A workspace with ``admin_user`` as its admin member."""
    from accounts.services import create_workspace

    workspace = create_workspace(session, name or f"Workspace {_n()}", admin_user)
    session.commit()
    session.refresh(workspace)
    return workspace


def make_install(session: Session, workspace, listing: Listing, installed_by: User | None = None,
                 scopes: list[str] | None = None, status: str = "active"):
    """An install of ``listing`` in ``workspace`` on its newest release."""
    from sqlmodel import col, select

    from accounts.models import WorkspaceMember
    from installs.models import Install

    release = session.exec(select(Release).where(Release.listing_id == listing.id)
                           .order_by(col(Release.id).desc())).first()
    if installed_by is None:
        member = session.exec(select(WorkspaceMember)
                              .where(WorkspaceMember.workspace_id == workspace.id)).first()
        installed_by = session.get(User, member.user_id)
    return save(session, Install(
        workspace_id=workspace.id, listing_id=listing.id, release_id=release.id,
        granted_scopes=scopes if scopes is not None else list(release.scope_names),
        status=status, installed_by_id=installed_by.id,
        uninstalled_at=utcnow() if status != "active" else None))


def workspace_of(session: Session, user: User):
    """The (first) workspace ``user`` belongs to."""
    from sqlmodel import select

    from accounts.models import Workspace, WorkspaceMember

    return session.exec(select(Workspace).join(WorkspaceMember,
                                               WorkspaceMember.workspace_id == Workspace.id)
                        .where(WorkspaceMember.user_id == user.id)).first()


def make_notification(session: Session, workspace, message: str = "Something to know."):
    """A notice for ``workspace``'s "My apps"."""
    from accounts.models import Notification

    return save(session, Notification(workspace_id=workspace.id, kind="info", message=message))


def make_api_key(session: Session, listing: Listing, created_by: User | None = None,
                 label: str = "Production"):
    """An API key for ``listing``, as (row, plaintext)."""
    from api.services import create_api_key

    if created_by is None:
        created_by = make_user(session, Role.PARTNER, partner=session.get(Partner, listing.partner_id))
    key, plaintext = create_api_key(session, listing, created_by, label)
    session.commit()
    session.refresh(key)
    return key, plaintext


def make_installer(session: Session, listing: Listing, **user_fields) -> User:
    """A customer whose own workspace has installed ``listing`` (so they may review it)."""
    user = make_user(session, Role.CUSTOMER, **user_fields)
    make_install(session, make_workspace(session, user), listing, installed_by=user)
    return user


def point_webhooks_at(session: Session, listing: Listing, url: str) -> Listing:
    """Set ``listing``'s webhook URL (make_listing uses a public example URL)."""
    listing.webhook_url = url
    return save(session, listing)


def make_webhook_delivery(session: Session, listing: Listing, event_type: str = "install.created",
                          data: dict | None = None):
    """A queued webhook event for ``listing``, made the way the app makes them."""
    from webhooks.services import enqueue_event

    delivery = enqueue_event(session, listing, event_type,
                             data if data is not None else {"install": {"id": _n()}})
    assert delivery is not None, "the listing's live release has no webhook URL"
    return save(session, delivery)


def make_member(session: Session, workspace, user: User | None = None, role: str = "member"):
    """``user`` (a new customer by default) added to ``workspace`` with ``role``."""
    from accounts.models import WorkspaceMember

    user = user or make_user(session, Role.CUSTOMER)
    return save(session, WorkspaceMember(workspace_id=workspace.id, user_id=user.id, role=role))


def make_invitation(session: Session, workspace, email: str | None = None, role: str = "member",
                    invited_by: User | None = None, now=None):
    """An invitation to ``workspace`` made by one of its admins; returns (invitation, token)."""
    from sqlmodel import select

    from accounts.models import WorkspaceMember
    from accounts.workspaces import invite

    if invited_by is None:
        admin = session.exec(select(WorkspaceMember).where(
            WorkspaceMember.workspace_id == workspace.id, WorkspaceMember.role == "admin")).first()
        invited_by = session.get(User, admin.user_id)
    invitation, token = invite(session, workspace, invited_by, email or f"invitee{_n()}@example.com",
                               role, now=now)
    session.commit()
    session.refresh(invitation)
    return invitation, token


def make_usage_listing(session: Session, partner: Partner | None = None, **fields) -> Listing:
    """A published listing priced by usage (per API call), so it may report usage."""
    values = dict(pricing_model="usage", unit_name="API call", unit_price=2, included_units=0)
    values.update(fields)
    return make_listing(session, partner=partner, **values)


def make_usage_event(session: Session, install, event_id: str | None = None, quantity: int = 1,
                     occurred_at=None, **fields):
    """A stored usage event of ``install`` (pending in the outbox unless told otherwise)."""
    from billing.models import UsageEvent

    now = utcnow()
    return save(session, UsageEvent(listing_id=install.listing_id, install_id=install.id,
                                    event_id=event_id or f"evt-{_n()}", quantity=quantity,
                                    occurred_at=occurred_at or now, received_at=now,
                                    next_attempt_at=now, **fields))


def make_paid_listing(session: Session, partner: Partner | None = None, **fields) -> Listing:
    """A published listing with a flat monthly price and no trial (installs need checkout)."""
    values = dict(pricing_model="flat_monthly", monthly_price=1500, currency="usd", trial_days=0)
    values.update(fields)
    return make_listing(session, partner=partner, **values)


def make_checkout(session: Session, app, workspace, listing: Listing, user: User | None = None):
    """A subscription of ``workspace`` to ``listing`` with its checkout started at the app's
    payment provider, the way confirming a paid app's consent screen starts it; returns
    (subscription, checkout session)."""
    from sqlmodel import select

    from accounts.models import WorkspaceMember
    from billing.providers import get_provider
    from billing.subscriptions import begin_paid_install, open_checkout
    from listings.services import current_release

    if user is None:
        member = session.exec(select(WorkspaceMember).where(
            WorkspaceMember.workspace_id == workspace.id, WorkspaceMember.role == "admin")).first()
        user = session.get(User, member.user_id)
    provider = get_provider(app)
    subscription = begin_paid_install(session, workspace, user, listing,
                                      current_release(session, listing.id).id, provider)
    session.commit()
    checkout = open_checkout(session, provider, subscription,
                             success_url=f"https://bazaar.test/my/apps/checkout/{subscription.id}",
                             cancel_url=f"https://bazaar.test/apps/{listing.slug}")
    session.commit()
    session.refresh(subscription)
    return subscription, checkout


def make_subscription(session: Session, workspace, listing: Listing, status: str = "active",
                      install=None, **fields):
    """A subscription of ``workspace`` to ``listing`` as the provider last reported it
    (no checkout: for reports and ledger tests)."""
    from sqlmodel import select

    from accounts.models import WorkspaceMember

    release = session.exec(select(Release).where(Release.listing_id == listing.id)
                           .order_by(Release.id.desc())).first()
    member = session.exec(select(WorkspaceMember)
                          .where(WorkspaceMember.workspace_id == workspace.id)).first()
    from billing.models import Subscription

    n = _n()
    return save(session, Subscription(
        workspace_id=workspace.id, listing_id=listing.id, release_id=release.id,
        started_by_id=member.user_id, install_id=install.id if install else None,
        provider="local", provider_subscription_id=f"sub_test_{n}", status=status, **fields))


def make_invoice(session: Session, subscription, amount: int = 1500, currency: str | None = None,
                 paid_at=None, status: str = "paid"):
    """A paid invoice of ``subscription`` (in its listing's currency unless told)."""
    from billing.models import Invoice

    listing = session.get(Listing, subscription.listing_id)
    paid_at = paid_at or utcnow()
    return save(session, Invoice(
        provider="local", provider_invoice_id=f"in_test_{_n()}", subscription_id=subscription.id,
        workspace_id=subscription.workspace_id, listing_id=subscription.listing_id,
        currency=currency or listing.currency, amount_due=amount, amount_paid=amount,
        status=status, paid_at=paid_at if status == "paid" else None))


def make_ledger_entry(session: Session, invoice, fee_percent: str = "20", booked_at=None,
                      tier: str | None = None):
    """The ledger entry of a paid ``invoice``: the fee rounded half up, net the rest."""
    from decimal import ROUND_HALF_UP, Decimal

    from billing.models import LedgerEntry

    listing = session.get(Listing, invoice.listing_id)
    partner = session.get(Partner, listing.partner_id)
    fee = int((Decimal(invoice.amount_paid) * Decimal(fee_percent) / 100)
              .quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return save(session, LedgerEntry(
        invoice_id=invoice.id, partner_id=partner.id, listing_id=listing.id,
        workspace_id=invoice.workspace_id, currency=invoice.currency, gross=invoice.amount_paid,
        platform_fee=fee, partner_net=invoice.amount_paid - fee, fee_percent=fee_percent,
        partner_tier=tier or partner.tier, booked_at=booked_at or invoice.paid_at or utcnow()))


def make_payout_account(session: Session, app, partner: Partner, email: str = "pay@example.com"):
    """The partner's payout account at the app's payment provider (pending) and a fresh
    onboarding link for it; returns (payout account, onboarding url)."""
    from billing.payouts import ensure_payout_account
    from billing.providers import get_provider

    provider = get_provider(app)
    account = ensure_payout_account(session, provider, partner, email)
    link = provider.create_account_link(account_id=account.provider_account_id,
                                        refresh_url="https://bazaar.test/partner/payouts",
                                        return_url="https://bazaar.test/partner/payouts",
                                        idempotency_key=f"account_link:partner:{partner.id}:{_n()}")
    return account, link


def make_trial(session: Session, workspace, listing: Listing, started_at=None,
               status: str = "active", days: int = 14):
    """A trial of ``listing`` by ``workspace`` (``status`` active, converted, expired...)."""
    from installs.models import Trial

    started_at = started_at or utcnow()
    ended = status != "active"
    return save(session, Trial(workspace_id=workspace.id, listing_id=listing.id,
                               started_at=started_at, ends_at=started_at + timedelta(days=days),
                               ended_at=started_at + timedelta(days=days) if ended else None,
                               status=status))


def make_portal_session(session: Session, app, workspace) -> str:
    """A customer portal session at the app's payment provider for ``workspace`` (its
    billing customer made if needed); returns the portal's URL."""
    from billing.providers import get_provider
    from billing.usage_sender import billing_customer_id

    provider = get_provider(app)
    customer_id = billing_customer_id(session, provider, workspace.id)
    session.commit()
    return provider.create_portal_session(customer_id=customer_id,
                                          return_url="https://bazaar.test/my/billing",
                                          idempotency_key=f"portal:workspace:{workspace.id}:{_n()}")


# --- stale-app pruning: rows made directly, so page tests do not depend on the job ---


def make_flag(session: Session, listing: Listing, rule: str = "no_recent_release",
              flagged_at=None, grace_days: int = 30, detail: dict | None = None,
              cleared: bool = False):
    """An open (or, with ``cleared``, a fixed) flag of ``listing`` for ``rule``."""
    from listings.prune_models import ListingFlag

    flagged_at = flagged_at or utcnow() - timedelta(days=1)
    return save(session, ListingFlag(
        listing_id=listing.id, rule=rule, flagged_at=flagged_at,
        grace_ends_at=flagged_at + timedelta(days=grace_days),
        detail=detail if detail is not None else {"last_activity_at": "2023-01-15T00:00:00+00:00"},
        cleared_at=utcnow() if cleared else None, cleared_reason="fixed" if cleared else None))


def make_exemption(session: Session, listing: Listing, rule: str | None = None,
                   reason: str = "Rewrite under way.", days: int = 90, created_by: User | None = None,
                   ended: bool = False):
    """An exemption of ``listing`` from ``rule`` (None: all rules) for ``days`` more days."""
    from listings.prune_models import ListingExemption

    return save(session, ListingExemption(
        listing_id=listing.id, rule=rule, reason=reason, expires_at=utcnow() + timedelta(days=days),
        created_by_id=created_by.id if created_by else None, ended_at=utcnow() if ended else None))


def make_prune_run(session: Session, dry_run: bool = False, actions: list[dict] | None = None,
                   started_at=None, seconds: float = 2.5, as_of=None, trigger: str = "cli",
                   status: str = "completed", **counts):
    """A finished prune run; ``counts`` sets flagged, cleared, delisted, relisted, archived."""
    from listings.prune_models import PruneRun

    started_at = started_at or utcnow() - timedelta(minutes=5)
    return save(session, PruneRun(
        started_at=started_at, finished_at=started_at + timedelta(seconds=seconds),
        as_of=as_of or started_at, dry_run=dry_run, trigger=trigger, status=status,
        actions=actions or [], **counts))


def make_partner_notice(session: Session, listing: Listing, kind: str = "prune.flagged",
                        message: str = "Your listing breaks a catalog rule."):
    """A notice for ``listing``'s partner, shown in the partner portal until dismissed."""
    from listings.prune_models import PartnerNotice

    return save(session, PartnerNotice(partner_id=listing.partner_id, listing_id=listing.id,
                                       kind=kind, message=message))


def make_delisted_notification(session: Session, workspace, listing: Listing,
                               suggested: list[Listing] | None = None,
                               message: str | None = None):
    """The notice a workspace gets when an app it installed is delisted by the prune job."""
    from accounts.models import Notification

    return save(session, Notification(
        workspace_id=workspace.id, kind="listing.delisted", listing_id=listing.id,
        message=message or f"{listing.name} is no longer listed in Bazaar. It keeps working.",
        suggested_listing_ids=[item.id for item in suggested] if suggested is not None else None))


# --- the prune job: listings, installs and reviews dated from a run's ``as_of`` ---


def make_aged_listing(session: Session, as_of: datetime, published_days: int = 30,
                      activity_days: int | None = None, release_days: int | None = None,
                      **fields) -> Listing:
    """A listing published ``published_days`` before ``as_of``, last updated
    ``activity_days`` before it (default: when published) and with one approved
    release reviewed ``release_days`` before it (default: when last updated)."""
    activity_days = published_days if activity_days is None else activity_days
    release_days = activity_days if release_days is None else release_days
    published_at = as_of - timedelta(days=published_days)
    values = dict(published_at=published_at, created_at=published_at - timedelta(days=1),
                  updated_at=as_of - timedelta(days=activity_days))
    values.update(fields)
    listing = make_listing(session, with_release=False, **values)
    released_at = as_of - timedelta(days=release_days)
    save(session, Release(listing_id=listing.id, version="1.0.0",
                          redirect_url="https://app.example.com/installed",
                          scopes=[{"scope": "contacts:read", "justification": "To show names."}],
                          review_status=ReleaseStatus.APPROVED, created_at=released_at,
                          reviewed_at=released_at))
    return listing


def make_install_at(session: Session, listing: Listing, created_at: datetime,
                    uninstalled_at: datetime | None = None, workspace=None):
    """An install of ``listing`` made at ``created_at`` (and removed at ``uninstalled_at``),
    in a new customer's workspace unless one is given."""
    if workspace is None:
        workspace = make_workspace(session, make_user(session, Role.CUSTOMER))
    install = make_install(session, workspace, listing,
                           status="active" if uninstalled_at is None else "uninstalled")
    install.created_at = created_at
    install.uninstalled_at = uninstalled_at
    return save(session, install)


def make_security_review(session: Session, listing: Listing, awarded_at: datetime,
                         expires_at: datetime | None = None, revoked: bool = False) -> Badge:
    """A "Security reviewed" badge of ``listing`` awarded at ``awarded_at``."""
    return save(session, Badge(listing_id=listing.id, kind="security_reviewed",
                               awarded_at=awarded_at, expires_at=expires_at,
                               revoked_at=awarded_at if revoked else None))


def make_exemption_until(session: Session, listing: Listing, expires_at: datetime,
                         rule: str | None = None, reason: str = "Major rewrite under way."):
    """An editor's exemption of ``listing`` from ``rule`` (None: all rules) until ``expires_at``."""
    from listings.prune_models import ListingExemption

    return save(session, ListingExemption(listing_id=listing.id, rule=rule, reason=reason,
                                          expires_at=expires_at,
                                          created_at=expires_at - timedelta(days=365)))


# --- billing: partners' connected accounts and their payouts to the bank ---


def make_connected_account(session: Session, partner: Partner, provider: str = "local",
                           account_id: str | None = None, status: str = "enabled"):
    """A partner's payout account row as the provider last reported it (no provider call:
    for webhook and report tests; ``make_payout_account`` goes through the provider)."""
    from billing.models import PayoutAccount

    enabled = status == "enabled"
    return save(session, PayoutAccount(
        partner_id=partner.id, provider=provider,
        provider_account_id=account_id or f"acct_test_{_n()}", status=status,
        charges_enabled=enabled, payouts_enabled=enabled, details_submitted=enabled))


def make_payout(session: Session, account, amount: int = 1000, currency: str = "usd",
                status: str = "paid", arrival_date=None, created_at=None,
                failure_message: str | None = None):
    """A payout from ``account`` to its partner's bank, as the provider reported it."""
    from billing.models import Payout

    created_at = created_at or utcnow()
    return save(session, Payout(
        provider=account.provider, provider_payout_id=f"po_test_{_n()}",
        partner_id=account.partner_id, payout_account_id=account.id, currency=currency,
        amount=amount, status=status, arrival_date=arrival_date or created_at,
        failure_message=failure_message, created_at=created_at, updated_at=created_at))


def make_paid_invoice(session: Session, app, subscription, amount: int,
                      provider_invoice_id: str | None = None, currency: str = "usd"):
    """A paid invoice of ``amount`` minor units for ``subscription`` (at its provider),
    booked in the ledger the way ``invoice.paid`` books it; returns the Invoice."""
    from billing.ledger import book_paid_invoice, record_invoice

    invoice_id = provider_invoice_id or f"in_{subscription.provider}_{next(_seq)}"
    with app.app_context():
        invoice = record_invoice(session, subscription.provider, subscription, {
            "id": invoice_id, "currency": currency, "amount_due": amount,
            "amount_paid": amount}, "paid")
        book_paid_invoice(session, invoice)
    session.commit()
    return invoice


def stripe_event(event_id: str, event_type: str, data: dict) -> dict:
    """An event as Stripe sends it, with ``data`` as its object."""
    import time

    return {"id": event_id, "object": "event", "type": event_type, "created": int(time.time()),
            "data": {"object": data}}


def post_stripe_event(client, event: dict | bytes, secret: str, timestamp: int | None = None):
    """POST ``event`` (a dict, or the raw body) to the billing webhook endpoint,
    signed with ``secret`` by stripe-python's own helper."""
    import json
    import time

    import stripe

    payload = event if isinstance(event, bytes) else json.dumps(event).encode()
    header = stripe.WebhookSignature.generate_signature_header(
        payload.decode(), secret, timestamp=timestamp or int(time.time()))
    return client.post("/billing/webhooks/stripe", data=payload,
                       headers={"Stripe-Signature": header, "Content-Type": "application/json"})
