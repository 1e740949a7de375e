"""The demo catalog: categories, partners, 70-odd listings with releases,
screenshots, reviews, badges and collections, and one demo user per role.

Everything is built from ``random.Random(DEMO_SEED)``, so every run makes the
same catalog (only the dates move with today). Listings go through the
lifecycle services (create, add a release, submit, approve), so the demo obeys
the same rules as real data. ``load_demo`` never commits; the CLI does.
"""

from __future__ import annotations

import colorsys
import io
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from sqlmodel import Session, col, select

from accounts.models import Role, User
from accounts.services import create_workspace, hash_password
from accounts.workspaces import current_workspace
from core.db import utcnow
from demo.data import (
    APPS,
    CATEGORIES,
    CHANGELOGS,
    CLOSERS,
    COLLECTIONS,
    DEMO_NAMES,
    DEMO_PAID_APP,
    DEMO_PAID_PLANS,
    DEMO_PASSWORD,
    DEMO_SEED,
    DEMO_USERS,
    HOW_IT_WORKS,
    INTROS,
    PARTNERS,
    REPLIES,
    REVIEW_TEXT,
    REVIEWERS,
    SCOPE_REASONS,
    STEPS,
)
from installs.models import Install, InstallStatus
from installs.queries import reviewing_install
from listings.models import (
    BadgeKind,
    Category,
    Listing,
    ListingCreate,
    ListingStatus,
    Partner,
    Release,
    ReleaseCreate,
    ReleaseStatus,
    ReviewCreate,
    ReviewStatus,
)
from listings.plans import add_plan, stored_plans, sync_first_plan, update_plan
from listings.scopes import SCOPES
from listings.screenshots import save_screenshot, screenshot_path
from listings.services import (
    add_release,
    approve_listing,
    award_badge,
    create_collection,
    create_listing,
    current_release,
    get_or_create_category,
    get_or_create_partner,
    moderate_review,
    post_review,
    reply_to_review,
    set_collection_items,
    submit_for_review,
    unique_slug,
)
from mail.compose import mail_suppressed


@dataclass
class DemoSummary:
    """Counts of what ``load_demo`` made."""

    categories: int = 0
    partners: int = 0
    listings: int = 0
    published: int = 0
    screenshots: int = 0
    reviews: int = 0
    badges: int = 0
    collections: int = 0

    def __str__(self) -> str:
        return (f"{self.categories} categories, {self.partners} partners, {self.listings} "
                f"listings ({self.published} published), {self.screenshots} screenshots, "
                f"{self.reviews} reviews, {self.badges} badges, {self.collections} collections")


def demo_loaded(session: Session) -> bool:
    """True when any demo user already exists."""
    emails = [email for email, _ in DEMO_USERS]
    return session.exec(select(User.id).where(col(User.email).in_(emails))).first() is not None


def load_demo(session: Session, upload_folder: str,
              echo: Callable[[str], None] = print) -> DemoSummary | None:
    """Build the demo catalog; None (and nothing changed) when it is already there.

    Screenshot files written before an error are removed again; the caller
    commits, or rolls back on error.
    """
    if demo_loaded(session):
        return None
    rng = random.Random(DEMO_SEED)
    now = utcnow()
    summary = DemoSummary()
    written: list[Path] = []
    try:
        # Made-up history: its replies and editors' decisions mail nobody.
        with mail_suppressed(session):
            _build(session, upload_folder, rng, now, summary, written, echo)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return summary


def _build(session: Session, upload_folder: str, rng: random.Random, now: datetime,
           summary: DemoSummary, written: list[Path], echo: Callable[[str], None]) -> None:
    echo("Creating users...")
    password_hash = hash_password(DEMO_PASSWORD)  # once: Argon2 is slow on purpose
    users = {email: _user(session, email, DEMO_NAMES[email], role, password_hash)
             for email, role in DEMO_USERS}
    editor = users["editor@example.com"]
    customer = users["customer@example.com"]
    if current_workspace(session, customer) is None:  # the demo customer can install apps
        create_workspace(session, f"{customer.display_name}'s workspace", customer)
    # Reviews are verified: each reviewer's workspace has installed what it reviews.
    # The demo customer reviews nothing, so their workspace starts empty.
    reviewers = [_user(session, email, name, Role.CUSTOMER.value, password_hash)
                 for email, name in REVIEWERS]
    reviewer_workspaces = {}
    for reviewer in reviewers:
        reviewer_workspaces[reviewer.id] = (
            current_workspace(session, reviewer)
            or create_workspace(session, f"{reviewer.display_name}'s workspace", reviewer))

    echo("Creating categories and partners...")
    categories = []
    for position, (name, description, _, _) in enumerate(CATEGORIES, start=1):
        category = get_or_create_category(session, name)
        category.description = description
        category.position = position
        session.add(category)
        categories.append(category)
    partners = []
    for name, tier in PARTNERS:
        partner = get_or_create_partner(session, name)
        partner.tier = tier.value
        partner.website_url = f"https://{partner.slug}.example.com"
        session.add(partner)
        partners.append(partner)
    summary.categories, summary.partners = len(categories), len(partners)
    partner_user = users["partner@example.com"]
    partner_user.partner_id = partners[0].id
    session.add(partner_user)
    session.flush()

    # Which apps are not live yet, as (category index, app index): the demo
    # partner has a draft and one in review, and a few others wait in the queue.
    drafts = {(0, 2), (7, 2), (10, 5)}
    in_review = {(1, 5), (4, 3), (8, 4)}

    echo("Creating listings, releases and screenshots...")
    listings: list[Listing] = []
    for cat_index, apps in enumerate(APPS):
        for app_index, app in enumerate(apps):
            # Apps 0-2 of a category belong to its own partner, 3-5 to the previous one.
            partner = partners[cat_index if app_index < 3 else (cat_index - 1) % len(partners)]
            if (cat_index, app_index) in drafts:
                status = ListingStatus.DRAFT
            elif (cat_index, app_index) in in_review:
                status = ListingStatus.IN_REVIEW
            else:
                status = ListingStatus.PUBLISHED
            listing = _listing(session, rng, now, app, categories[cat_index], cat_index, partner,
                               status, editor)
            colour = _colour(rng)  # one brand colour per app
            for position in range(rng.randint(2, 4)):
                data = screenshot_png(listing.name, colour, position)
                shot = save_screenshot(session, listing, data, _caption(listing.name, position),
                                       upload_folder)
                written.append(screenshot_path(upload_folder, shot.filename))
                summary.screenshots += 1
            listings.append(listing)
        echo(f"  {len(listings)} listings")
    summary.listings = len(listings)
    published = [listing for listing in listings if listing.status == ListingStatus.PUBLISHED]
    summary.published = len(published)

    echo("Writing reviews...")
    written_count = 0
    for listing in published:
        count = rng.choice([0, 1, 2, 3, 3, 4, 5, 6])
        for author in rng.sample(reviewers, count):
            rating = rng.choices([5, 4, 3, 2, 1], weights=[45, 30, 12, 8, 5])[0]
            title, body = rng.choice(REVIEW_TEXT[rating])
            workspace = reviewer_workspaces[author.id]
            installed_at = _between(rng, listing.published_at, now - timedelta(days=1))
            _install(session, rng, listing, workspace, author, installed_at, now)
            review = post_review(session, listing, author,
                                 ReviewCreate(rating=rating, title=title, body=body), workspace,
                                 reviewing_install(session, listing, workspace))
            review.created_at = _between(rng, installed_at, now)
            session.add(review)
            written_count += 1
            # Every 25th review waits in the editors' held queue, with the reason the
            # checks gave (the demo's reviewers signed up just now: "new account").
            if written_count % 25 == 7:
                continue
            if review.status == ReviewStatus.PENDING:
                moderate_review(session, review, editor, publish=True)
                review.moderated_at = _between(rng, review.created_at, now)
            if rng.random() < (0.8 if rating <= 3 else 0.2):
                reply = REPLIES[0] if rating >= 4 else rng.choice(REPLIES[1:])
                reply_to_review(session, review, reply)
                review.replied_at = _between(rng, review.moderated_at or review.created_at, now)
    summary.reviews = written_count

    echo("Awarding badges and building collections...")
    # "Top rated" is not awarded: apps earn it from their reviews (listings/badges.py).
    kinds = [(BadgeKind.STAFF_PICK, 90), (BadgeKind.SECURITY_REVIEWED, 365),
             (BadgeKind.BUILT_FOR_BAZAAR, None)]
    for listing in rng.sample(published, 14):
        kind, days = rng.choice(kinds)
        expires = now + timedelta(days=days) if days else None
        award_badge(session, listing, editor, kind.value, expires,
                    note=f"Awarded by the Bazaar editors in {now:%B %Y}.")
        summary.badges += 1
    starters = [listing for listing in published if listing.trial_days or listing.is_free]
    essentials = rng.sample(starters, min(8, len(starters)))
    in_eu = [listing for listing in published if "eu" in listing.data_residency][:8]
    support = [listing for listing in published
               if listing.category_id in (categories[4].id, categories[5].id)][:7]
    for (name, description), members in zip(COLLECTIONS, [essentials, in_eu, support],
                                            strict=True):
        collection = create_collection(session, editor, name, description)
        set_collection_items(session, collection, editor, [listing.id for listing in members])
        summary.collections += 1
    session.flush()


def _install(session: Session, rng: random.Random, listing: Listing, workspace, user: User,
             installed_at: datetime, now: datetime) -> None:
    """A past install of ``listing`` by a reviewer's workspace (some since uninstalled).

    Written directly, like imported history: the partner is not sent a webhook.
    """
    if reviewing_install(session, listing, workspace) is not None:
        return
    release = current_release(session, listing.id)
    install = Install(workspace_id=workspace.id, listing_id=listing.id, release_id=release.id,
                      granted_scopes=list(release.scope_names), installed_by_id=user.id,
                      created_at=installed_at)
    if rng.random() < 0.2:
        install.status = InstallStatus.UNINSTALLED
        install.granted_scopes = []
        install.uninstalled_at = _between(rng, installed_at, now)
    session.add(install)
    session.flush()


def _user(session: Session, email: str, name: str, role: str, password_hash: str) -> User:
    """The demo account; a reviewer who already signed up is reused as they are."""
    user = session.exec(select(User).where(User.email == email)).first()
    if user is not None:
        return user
    # Demo accounts are verified: the demo vouches for its made-up addresses.
    user = User(email=email, display_name=name, role=role, password_hash=password_hash,
                email_verified_at=utcnow())
    session.add(user)
    session.flush()
    return user


def _listing(session: Session, rng: random.Random, now: datetime, app: tuple, category: Category,
             cat_index: int, partner: Partner, status: ListingStatus, editor: User) -> Listing:
    name, tagline, features, tags = app
    _, _, scope_pool, (unit_name, unit_price) = CATEGORIES[cat_index]
    slug = unique_slug(session, Listing, name)
    base = f"https://{partner.slug}.example.com"
    pricing = _pricing(rng, unit_name, unit_price)
    drawn_model = pricing["pricing_model"]
    if name == DEMO_PAID_APP:
        # The demo partner sells one app outright, so checkout, invoices and its
        # revenue pages have something to show. The random draws still happen in
        # the same order, so every other app stays as it was.
        pricing = {"pricing_model": "flat_monthly", "currency": "usd", "monthly_price": 2900}
    data = ListingCreate(
        slug=slug, name=name, tagline=tagline,
        description=_description(rng, name, tagline, features, pricing),
        tags=tags + rng.sample(["integration", "automation", "small-business", "enterprise",
                                "gdpr-ready", "api"], rng.randint(0, 2)),
        trial_days=_trial_days(rng, drawn_model, name),
        website_url=f"{base}/{slug}", support_url=f"{base}/support",
        privacy_url=f"{base}/privacy",
        data_residency=_regions(rng),
        **pricing,
    )
    listing = create_listing(session, partner, category, data)
    if name == DEMO_PAID_APP:
        # Plans to compare: Basic monthly (its price above) or annual, and Pro.
        sync_first_plan(session, listing)
        first, *others = DEMO_PAID_PLANS
        update_plan(session, listing, stored_plans(session, listing.id)[0], first)
        for plan in others:
            add_plan(session, listing, plan)
    major = rng.choice([1, 1, 2, 3])
    versions = [f"{major}.{rng.randint(0, 4)}.{rng.randint(0, 3)}"]
    if rng.random() < 0.5:
        first = versions[0].split(".")
        versions.append(f"{first[0]}.{int(first[1]) + 1}.0")
    for version in versions:
        chosen = rng.sample(scope_pool, rng.randint(2, min(4, len(scope_pool))))
        release = add_release(session, listing, ReleaseCreate(
            version=version,
            changelog=rng.choice(CHANGELOGS) if version != versions[0] or len(versions) == 1
            else CHANGELOGS[0],
            scopes=[{"scope": scope, "justification": SCOPE_REASONS[scope].format(app=name)}
                    for scope in chosen if scope in SCOPES],
            redirect_url=f"{base}/{slug}/oauth/callback",
            webhook_url=f"{base}/{slug}/webhooks" if rng.random() < 0.7 else None,
        ))
    # Where webhooks go is the listing's own setting (listings/webhook_settings.py).
    listing.webhook_url = release.webhook_url
    if status != ListingStatus.DRAFT:
        submit_for_review(session, listing)
    if status == ListingStatus.PUBLISHED:
        approve_listing(session, listing, editor)
        # A few live apps have a newer release waiting in the editors' queue.
        if rng.random() < 0.12:
            add_release(session, listing, ReleaseCreate(
                version=f"{major + 1}.0.0", changelog="A new major version with bulk actions.",
                scopes=[{"scope": scope, "justification": SCOPE_REASONS[scope].format(app=name)}
                        for scope in scope_pool[:3]],
                redirect_url=f"{base}/{slug}/oauth/callback"))
    # Spread the dates over the past year, so "newest" means something.
    published_at = now - timedelta(days=rng.randint(2, 400), hours=rng.randint(0, 23))
    created_at = published_at - timedelta(days=rng.randint(3, 40))
    listing.created_at = created_at
    listing.updated_at = published_at
    if status == ListingStatus.PUBLISHED:
        listing.published_at = published_at
    elif status == ListingStatus.IN_REVIEW:
        listing.submitted_at = now - timedelta(days=rng.randint(0, 5))
    session.add(listing)
    releases = session.exec(select(Release).where(Release.listing_id == listing.id)
                            .order_by(Release.id)).all()
    for number, release in enumerate(releases):
        if release.review_status == ReleaseStatus.APPROVED:
            release.created_at = created_at + timedelta(days=number)
            release.reviewed_at = published_at
        else:  # still waiting for an editor: sent in recently
            release.created_at = now - timedelta(days=rng.randint(0, 6), hours=number)
        session.add(release)
    return listing


def _trial_days(rng: random.Random, drawn_model: str, name: str) -> int:
    days = rng.choice([0, 7, 14, 14, 30]) if drawn_model != "free" else 0
    return 0 if name == DEMO_PAID_APP else days


def _pricing(rng: random.Random, unit_name: str, unit_price: int) -> dict:
    model = rng.choices(["free", "flat_monthly", "usage"], weights=[30, 45, 25])[0]
    currency = rng.choices(["usd", "eur", "gbp"], weights=[80, 12, 8])[0]
    if model == "free":
        return {"pricing_model": model, "currency": currency}
    if model == "flat_monthly":
        return {"pricing_model": model, "currency": currency,
                "monthly_price": rng.choice([500, 900, 1200, 1900, 2900, 4900, 7900, 9900,
                                             14900])}
    return {"pricing_model": model, "currency": currency, "unit_name": unit_name,
            "unit_price": unit_price, "included_units": rng.choice([0, 10, 100, 1000]),
            "monthly_price": rng.choice([0, 0, 1900])}


def _regions(rng: random.Random) -> list[str]:
    regions = ["us"] if rng.random() < 0.85 else []
    regions += [code for code in ["eu", "uk", "ca", "au", "jp"] if rng.random() < 0.35]
    return regions or ["eu"]


def _description(rng: random.Random, name: str, tagline: str, features: list[str],
                 pricing: dict) -> str:
    lower = tagline[0].lower() + tagline[1:]
    paragraphs = [
        rng.choice(INTROS).format(app=name, tagline=tagline, lower_tagline=lower),
        "## What you get",
        "\n".join(f"- {feature}" for feature in features),
        "## How it works",
        rng.choice(HOW_IT_WORKS).format(app=name),
    ]
    if rng.random() < 0.6:
        paragraphs += ["## Getting started",
                       "\n".join(f"{n}. {step.format(app=name)}"
                                 for n, step in enumerate(STEPS, start=1))]
    if pricing["pricing_model"] == "usage":
        paragraphs.append(f"You pay only for what you use, per {pricing['unit_name']}; "
                          "usage is shown on your bill every month.")
    paragraphs.append(rng.choice(CLOSERS).format(customers=rng.randrange(200, 20000, 50)))
    return "\n\n".join(paragraphs)


def _between(rng: random.Random, start: datetime | None, end: datetime) -> datetime:
    start = start or end
    span = max((end - start).total_seconds(), 60.0)
    return start + timedelta(seconds=rng.uniform(0, span * 0.95))


def _colour(rng: random.Random) -> tuple[int, int, int]:
    red, green, blue = colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.45, 0.75),
                                           rng.uniform(0.55, 0.8))
    return int(red * 255), int(green * 255), int(blue * 255)


def _caption(name: str, position: int) -> str:
    return [f"The {name} dashboard", f"Settings in {name}", f"{name} list view",
            f"Reports in {name}"][position % 4]


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError, ImportError):  # Pillow built without FreeType
        return ImageFont.load_default()


def screenshot_png(name: str, colour: tuple[int, int, int], layout: int = 0) -> bytes:
    """A 1280x800 mock of an app's screen: a header with ``name`` in ``colour``,
    a sidebar, and a dashboard, table or form body (by ``layout``).

    Drawn in a seven-colour palette so the PNG stays a few kilobytes.
    """
    light = tuple(min(255, c + 100) for c in colour)
    palette = [246, 247, 249, 255, 255, 255, *colour, 33, 37, 41, 222, 226, 230, 134, 142, 150,
               *light]
    background, white, accent, ink, line, muted, pale = range(7)
    image = Image.new("P", (1280, 800), background)
    image.putpalette(palette)
    draw = ImageDraw.Draw(image)
    title, small = _font(36), _font(18)
    draw.rectangle((0, 0, 1280, 64), fill=accent)
    draw.text((24, 12), name, fill=white, font=title)
    draw.rectangle((1180, 16, 1256, 48), fill=pale)
    draw.rectangle((0, 64, 240, 800), fill=white)
    for row in range(8):
        draw.rectangle((24, 96 + row * 48, 216, 120 + row * 48),
                       fill=pale if row == layout % 8 else line)
    kind = layout % 3
    seed = sum(map(ord, name)) + layout  # the same app always draws the same chart
    if kind == 0:  # dashboard: three cards and a bar chart
        for card in range(3):
            left = 272 + card * 330
            draw.rectangle((left, 96, left + 300, 236), fill=white, outline=line)
            draw.text((left + 20, 112), ["Active", "This week", "Trend"][card], fill=muted,
                      font=small)
            draw.text((left + 20, 150), str(20 + (seed * (card + 3)) % 900), fill=ink,
                      font=title)
        draw.rectangle((272, 268, 1250, 770), fill=white, outline=line)
        for bar in range(14):
            height = 60 + (bar * 37 + seed * 53) % 380
            draw.rectangle((310 + bar * 66, 740 - height, 350 + bar * 66, 740), fill=accent)
    elif kind == 1:  # table
        draw.rectangle((272, 96, 1250, 140), fill=white, outline=line)
        draw.text((290, 106), "Name            Owner            Status            Updated",
                  fill=muted, font=small)
        for row in range(12):
            top = 150 + row * 50
            draw.rectangle((272, top, 1250, top + 44), fill=white if row % 2 else background)
            draw.text((290, top + 12), f"Record {row + 1:02d}", fill=ink, font=small)
            draw.rectangle((900, top + 14, 980, top + 30), fill=pale if row % 3 else accent)
    else:  # settings form
        draw.text((272, 92), "Settings", fill=ink, font=title)
        for row in range(6):
            top = 160 + row * 90
            draw.text((272, top), ["Workspace", "Sync every", "Notify", "Owner", "Region",
                                   "Webhook"][row], fill=muted, font=small)
            draw.rectangle((272, top + 28, 900, top + 68), fill=white, outline=line)
        draw.rectangle((272, 720, 440, 764), fill=accent)
        draw.text((310, 730), "Save", fill=white, font=small)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()

