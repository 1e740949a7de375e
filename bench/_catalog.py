"""The synthetic catalog the benchmarks share (``bench/search``, ``bench/pages``):
believable listings as catalog JSON Lines, deterministic from a seed, and what
the catalog format cannot carry (reviews, badges, publication dates, workspaces
and their installs, editors' collections), written straight into the database
with SQLAlchemy Core.

Imported by the scripts after they have put the repository on ``sys.path``.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

# category -> (the things its apps handle, what they do with them, tags)
CATEGORIES = {
    "CRM sync": (["contacts", "companies", "deals", "leads", "pipelines", "accounts"],
                 ["sync", "enrich", "deduplicate", "import", "score"],
                 ["crm", "sync", "contacts", "sales", "leads"]),
    "Accounting": (["invoices", "payments", "expenses", "receipts", "ledgers", "taxes"],
                   ["reconcile", "send", "track", "export", "automate"],
                   ["accounting", "invoicing", "finance", "tax", "bookkeeping"]),
    "Customer support": (["tickets", "conversations", "customers", "macros", "surveys"],
                         ["route", "answer", "escalate", "tag", "summarize"],
                         ["support", "helpdesk", "tickets", "chat", "sla"]),
    "Marketing": (["campaigns", "emails", "audiences", "newsletters", "landing pages"],
                  ["send", "segment", "schedule", "personalize", "test"],
                  ["marketing", "email", "campaigns", "seo", "social"]),
    "Analytics": (["reports", "dashboards", "metrics", "funnels", "events"],
                  ["chart", "analyze", "forecast", "visualize", "export"],
                  ["analytics", "reporting", "dashboards", "bi", "metrics"]),
    "Communication": (["messages", "channels", "calls", "notifications", "meetings"],
                      ["notify", "share", "record", "transcribe", "broadcast"],
                      ["chat", "messaging", "video", "notifications", "voice"]),
    "Project management": (["tasks", "projects", "sprints", "milestones", "timesheets"],
                           ["plan", "assign", "track", "prioritize", "estimate"],
                           ["projects", "tasks", "kanban", "agile", "planning"]),
    "E-commerce": (["orders", "products", "carts", "shipments", "inventory"],
                   ["fulfil", "price", "ship", "restock", "recover"],
                   ["ecommerce", "shop", "orders", "shipping", "inventory"]),
    "HR and recruiting": (["candidates", "employees", "interviews", "payroll", "onboarding"],
                          ["hire", "schedule", "screen", "onboard", "review"],
                          ["hr", "recruiting", "hiring", "payroll", "people"]),
    "Security": (["passwords", "logins", "devices", "audit logs", "permissions"],
                 ["protect", "monitor", "audit", "encrypt", "alert"],
                 ["security", "compliance", "sso", "audit", "backup"]),
    "Developer tools": (["webhooks", "deployments", "logs", "builds", "repositories"],
                        ["deploy", "debug", "monitor", "test", "automate"],
                        ["developer", "api", "devops", "webhooks", "ci"]),
    "Productivity": (["documents", "notes", "calendars", "files", "forms"],
                     ["organize", "share", "sign", "schedule", "search"],
                     ["productivity", "documents", "calendar", "forms", "files"]),
}

ROOTS = """Pipe Ledger Chatter Invoice Ticket Pulse Beacon Harbor Quill Orbit Atlas Cedar
Nimbus Relay Signal Metric Fable Kite Lumen Vector Bolt Cobalt Drift Ember Flint Grove Helix
Iris Juniper Koala Lark Maple Nova Onyx Prism Quartz Raven Sable Tidal Umber Vale Willow
Zephyr Deal Contact Cal Form Mail Sheet Doc Note Task Shift Stock Cart Pay Tax Hire Lead
Survey Insight Data Cloud Anchor Arrow Birch Blaze Bramble Breeze Canyon Comet Coral Crest
Dune Falcon Fern Glacier Granite Hawk Heron Indigo Jade Jasper Lagoon Lotus Meadow Mesa
Nectar Oasis Otter Pebble Pine Pixel Puffin Ripple River Saffron Sequoia Sierra Sparrow
Summit Thistle Thunder Timber Topaz Tundra Velvet Walnut Zenith Alder Basil Clover Dahlia
Echo Fjord Gale Hazel Ivy Kestrel Linden Moss Nook Opal Pylon Quest Rune Spruce Tally Vista""".split()
SUFFIXES = ["", "ly", "ify", "Sync", "Hub", "Flow", "Box", "Desk", "Base", "Board", "Stack",
            "Link", "Pilot", "Works", "Bot", "Metrics", "Mail", "Cast", "Track", "Wise", "Bridge",
            "Forge", "Point", "Logic", "io"]
QUALIFIERS = ["for Salesforce", "for Slack", "for HubSpot", "for Shopify", "for Zendesk",
              "for Jira", "for Google Sheets", "for Xero", "for QuickBooks", "for Teams", "Pro",
              "Lite", "Live Chat", "Analytics", "Connector", "Sync", "Reports", "Plus", "Studio",
              "Cloud", "Mobile", "Enterprise", "Assistant", "Importer", "Scheduler", "Dashboard"]
INTEGRATIONS = ["Salesforce", "Slack", "HubSpot", "Shopify", "Zendesk", "Jira", "Google Sheets",
                "Xero", "QuickBooks", "Microsoft Teams", "Gmail", "Outlook", "Stripe", "Notion",
                "Trello", "GitHub", "Mailchimp", "Intercom", "Zoom", "Dropbox"]
PARTNER_FIRST = """Northwind Blue Bright Silver Golden Red Green Cloud Open Iron Quiet Rapid Clear
Little Grand Swift North South East West High Deep True Bold Prime Smart Happy Lucky Clever
Urban Coastal Alpine Modern Solid Simple""".split()
PARTNER_SECOND = """Labs Software Systems Apps Studio Works Digital Tech Inc Collective Partners
Solutions Dynamics Ventures Networks Industries""".split()
REGION_CODES = ["us", "eu", "uk", "ca", "au", "jp", "in", "br"]
REGION_WEIGHTS = [30, 25, 12, 8, 7, 6, 6, 6]
# "top_rated" is derived from reviews (listings/badges.py), never a stored badge.
BADGE_KINDS = ["staff_pick", "security_reviewed", "built_for_bazaar"]
OPENERS = [
    "{name} helps your team {verb} {obj} without the busywork.",
    "With {name}, you {verb} {obj} in minutes instead of hours.",
    "{name} connects Bazaar to {integration} so you can {verb} {obj} automatically.",
    "Stop copying {obj} by hand: {name} does it for you.",
]
MIDDLES = [
    "It keeps {obj} and {obj2} in step, in both directions, every few minutes.",
    "Set up rules once and it will {verb} {obj} as soon as they change.",
    "Every change is logged, so you can see who did what and undo mistakes.",
    "Teams use it to {verb} {obj2} and to get a weekly summary by email.",
    "It works with {integration} and {integration2} out of the box.",
    "Filters let you choose exactly which {obj} are shared.",
    "A dashboard shows how many {obj} were handled today, this week and this month.",
    "Nothing leaves your workspace unless you say so.",
]
CLOSERS = [
    "Start with the free plan and upgrade when you need more.",
    "Setup takes about five minutes and needs no code.",
    "Support is available by email and chat on weekdays.",
    "Trusted by thousands of small and growing teams.",
]
FEATURES = [
    "Two-way sync of {obj}", "Bulk {verb} for {obj2}", "Custom fields and mapping",
    "Scheduled exports to {integration}", "Audit history for {obj}", "Smart filters and views",
    "Alerts when {obj} change", "Role-based permissions", "Weekly reports by email",
]


@dataclass
class Item:
    """What the query mix needs to know about one generated listing."""

    name: str
    brand: str
    category: str
    words: list[str]  # some words of its tagline and description


def _brand_names(rng: random.Random) -> list[str]:
    brands = [root + suffix for root in ROOTS for suffix in SUFFIXES]
    rng.shuffle(brands)
    return brands


def _partners(rng: random.Random, count: int = 200) -> list[str]:
    names = [f"{first} {second}" for first in PARTNER_FIRST for second in PARTNER_SECOND]
    return sorted(rng.sample(names, count))


def _scopes_for(rng: random.Random, read_only: bool) -> list[dict]:
    from listings.scopes import SCOPES

    reads = [s for s in SCOPES.values() if s.access == "read"]
    writes = [s for s in SCOPES.values() if s.access == "write"]
    chosen = rng.sample(reads, rng.randint(1, 3))
    if not read_only:
        chosen += rng.sample(writes, rng.randint(1, 2))
    return [{"scope": s.name, "justification": f"To {s.plain[0].lower()}{s.plain[1:]}."[:300]}
            for s in chosen]


def generate_catalog(path: Path, size: int, seed: int) -> list[Item]:
    """Write ``size`` listings to ``path`` as catalog JSON Lines; return what the
    query mix needs. The same seed and size give the same file."""
    rng = random.Random(seed)
    brands = _brand_names(rng)
    partners = _partners(rng)
    categories = list(CATEGORIES)
    # Some categories are busier than others, as in any real marketplace.
    category_weights = [rng.uniform(0.5, 2.0) for _ in categories]
    slugs: Counter[str] = Counter()
    items: list[Item] = []
    with path.open("w", encoding="utf-8") as handle:
        for n in range(size):
            brand = brands[n % len(brands)] if n < len(brands) else rng.choice(brands)
            qualifier = rng.choice(QUALIFIERS) if rng.random() < 0.6 else ""
            name = f"{brand} {qualifier}".strip()
            category = rng.choices(categories, category_weights)[0]
            objects, verbs, tags = CATEGORIES[category]
            obj, obj2 = rng.sample(objects, 2)
            verb = rng.choice(verbs)
            integration, integration2 = rng.sample(INTEGRATIONS, 2)
            fill = dict(name=name, verb=verb, obj=obj, obj2=obj2, integration=integration,
                        integration2=integration2)
            tagline = rng.choice([
                f"{verb.capitalize()} {obj} and {obj2} with {integration}.",
                f"The simple way to {verb} your {obj}.",
                f"{verb.capitalize()} {obj} automatically, in real time.",
                f"{obj.capitalize()} and {obj2}, always up to date.",
            ])
            sentences = [rng.choice(OPENERS)] + rng.sample(MIDDLES, rng.randint(2, 4))
            sentences.append(rng.choice(CLOSERS))
            features = rng.sample(FEATURES, rng.randint(3, 5))
            description = (" ".join(s.format(**fill) for s in sentences) + "\n\n"
                           + "\n".join(f"- {f.format(**fill)}" for f in features) + "\n")
            base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
            slugs[base] += 1
            slug = base if slugs[base] == 1 else f"{base}-{slugs[base]}"
            partner = rng.choice(partners)
            host = re.sub(r"[^a-z0-9]+", "-", partner.lower())
            model = rng.choices(["free", "flat_monthly", "usage"], [40, 45, 15])[0]
            pricing = {"model": model, "currency": "usd"}
            if model == "flat_monthly":
                pricing["monthly_price"] = rng.choice([500, 900, 1900, 2900, 4900, 9900])
            elif model == "usage":
                pricing.update(unit_name=rng.choice(["1,000 API calls", "100 messages", "seat"]),
                               unit_price=rng.choice([10, 25, 50, 100]))
            read_only = rng.random() < 0.35
            releases = [{"version": f"1.{minor}.0", "changelog": "Faster and more reliable.",
                         "redirect_url": f"https://{host}.example.com/{slug}/oauth",
                         "scopes": _scopes_for(rng, read_only)}
                        for minor in range(rng.choice([1, 1, 2]))]
            record = {
                "slug": slug, "name": name, "tagline": tagline, "description": description,
                "category": category, "partner": partner,
                "tags": rng.sample(tags, rng.randint(2, 4)) + [integration.lower()],
                "status": "published", "pricing": pricing,
                "trial_days": rng.choices([0, 7, 14, 30], [50, 10, 30, 10])[0],
                "website_url": f"https://{host}.example.com/{slug}",
                "support_url": f"https://{host}.example.com/support",
                "privacy_url": f"https://{host}.example.com/privacy",
                "data_residency": sorted(set(rng.choices(REGION_CODES, REGION_WEIGHTS,
                                                         k=rng.randint(1, 3)))),
                "releases": releases,
            }
            handle.write(json.dumps(record) + "\n")
            words = re.findall(r"[a-z]{4,}", (tagline + " " + description).lower())
            items.append(Item(name, brand, category, sorted(set(words))))
    return items


def enrich(database_url: str, seed: int) -> dict[str, int]:
    """Reviews, badges and spread-out dates, written straight into the database
    with SQLAlchemy Core (no ORM session, so no outbox rows: the embedded index
    is rebuilt afterwards)."""
    from sqlalchemy import bindparam, select, update

    from accounts.models import User
    from core.db import make_engine
    from listings.models import Badge, Listing, Review

    rng = random.Random(seed + 7)
    engine = make_engine(database_url)
    now = datetime.now(UTC)
    reviewers = 60
    with engine.begin() as conn:
        conn.execute(User.__table__.insert(), [
            {"email": f"reviewer{n}@bench.example.com", "display_name": f"Reviewer {n}",
             "role": "customer", "password_hash": "!", "active": True, "created_at": now}
            for n in range(reviewers)])
        user_ids = list(conn.execute(select(User.__table__.c.id)).scalars())
        listing_ids = list(conn.execute(select(Listing.__table__.c.id)).scalars())
        reviews, badges, dates = [], [], []
        for listing_id in listing_ids:
            published = now - timedelta(days=rng.uniform(1, 3 * 365))
            updated = published + (now - published) * rng.random() ** 2
            dates.append({"b_id": listing_id, "b_published": published, "b_updated": updated})
            if rng.random() < 0.6:
                quality = rng.uniform(2.0, 5.2)
                count = min(int(rng.paretovariate(1.1)), len(user_ids))
                for author in rng.sample(user_ids, count):
                    rating = max(1, min(5, round(rng.gauss(quality, 0.9))))
                    reviews.append({"listing_id": listing_id, "author_id": author,
                                    "rating": rating, "title": "Does the job", "body": "",
                                    "status": "published", "created_at": updated})
            if rng.random() < 0.07:
                for kind in rng.sample(BADGE_KINDS, rng.choice([1, 1, 1, 2])):
                    badges.append({"listing_id": listing_id, "kind": kind, "note": "",
                                   "awarded_at": now})
        listings = Listing.__table__
        conn.execute(update(listings).where(listings.c.id == bindparam("b_id"))
                     .values(published_at=bindparam("b_published"),
                             updated_at=bindparam("b_updated")), dates)
        for start in range(0, len(reviews), 20_000):
            conn.execute(Review.__table__.insert(), reviews[start:start + 20_000])
        if badges:
            conn.execute(Badge.__table__.insert(), badges)
    engine.dispose()
    return {"reviews": len(reviews), "badges": len(badges)}


COLLECTION_NAMES = ["Staff favourites", "New and noteworthy", "Sales essentials",
                    "Run your books", "Support that scales", "Built for developers"]


def _popularity_weights(count: int, rng: random.Random) -> list[float]:
    """A Zipf-like weight per listing (in a shuffled order), so a few hundred apps
    take most installs and page views, as in any marketplace."""
    ranks = list(range(count))
    rng.shuffle(ranks)
    return [1.0 / (rank + 10) ** 1.1 for rank in ranks]


def enrich_for_pages(database_url: str, seed: int, workspaces: int = 400,
                     collections: int = 6) -> dict[str, int]:
    """What the storefront pages show beyond ``enrich``: ``workspaces`` customer
    workspaces (an admin each) with installs spread over the listings, skewed to a
    popular few (about a tenth of them since uninstalled), and ``collections``
    editors' collections of 8-12 published listings. SQLAlchemy Core, as ``enrich``."""
    from sqlalchemy import select

    from accounts.models import User, Workspace, WorkspaceMember
    from core.db import make_engine
    from installs.models import Install
    from listings.models import Collection, CollectionItem, Listing, Release

    rng = random.Random(seed + 11)
    engine = make_engine(database_url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        listings = Listing.__table__
        releases = Release.__table__
        listing_ids = list(conn.execute(select(listings.c.id).order_by(listings.c.id)).scalars())
        # The first release of each listing (every generated listing has one).
        release_of: dict[int, int] = {}
        for listing_id, release_id in conn.execute(
                select(releases.c.listing_id, releases.c.id).order_by(releases.c.id)):
            release_of.setdefault(listing_id, release_id)
        conn.execute(Workspace.__table__.insert(), [
            {"name": f"Bench workspace {n}", "created_at": now - timedelta(days=400)}
            for n in range(workspaces)])
        conn.execute(User.__table__.insert(), [
            {"email": f"admin{n}@workspace.bench.example.com", "display_name": f"Admin {n}",
             "role": "customer", "password_hash": "!", "active": True, "created_at": now}
            for n in range(workspaces)])
        workspace_ids = list(conn.execute(
            select(Workspace.__table__.c.id).order_by(Workspace.__table__.c.id)).scalars())
        admin_ids = list(conn.execute(
            select(User.__table__.c.id).where(User.__table__.c.email.like("admin%@workspace.%"))
            .order_by(User.__table__.c.id)).scalars())
        conn.execute(WorkspaceMember.__table__.insert(), [
            {"workspace_id": w, "user_id": u, "role": "admin", "created_at": now}
            for w, u in zip(workspace_ids, admin_ids, strict=True)])

        weights = _popularity_weights(len(listing_ids), rng)
        cumulative, total = [], 0.0
        for weight in weights:
            total += weight
            cumulative.append(total)
        installs = []
        for workspace_id, admin_id in zip(workspace_ids, admin_ids, strict=True):
            wanted = min(300, int(rng.paretovariate(1.3) * 12))
            chosen = set(rng.choices(listing_ids, cum_weights=cumulative, k=wanted))
            for listing_id in sorted(chosen):
                installed = now - timedelta(days=rng.uniform(1, 365))
                gone = rng.random() < 0.1
                installs.append({
                    "workspace_id": workspace_id, "listing_id": listing_id,
                    "release_id": release_of[listing_id], "granted_scopes": [],
                    "status": "uninstalled" if gone else "active",
                    "installed_by_id": admin_id, "created_at": installed,
                    "uninstalled_at": installed + (now - installed) / 2 if gone else None})
        for start in range(0, len(installs), 20_000):
            conn.execute(Install.__table__.insert(), installs[start:start + 20_000])

        conn.execute(Collection.__table__.insert(), [
            {"slug": re.sub(r"[^a-z0-9]+", "-", name.lower()), "name": name,
             "description": f"{name}, picked by the editors.", "position": n, "created_at": now}
            for n, name in enumerate(COLLECTION_NAMES[:collections])])
        collection_ids = list(conn.execute(
            select(Collection.__table__.c.id).order_by(Collection.__table__.c.position)).scalars())
        items = []
        for collection_id in collection_ids:
            picked = rng.sample(listing_ids, rng.randint(8, 12))
            items += [{"collection_id": collection_id, "listing_id": listing_id,
                       "position": position} for position, listing_id in enumerate(picked)]
        conn.execute(CollectionItem.__table__.insert(), items)
    engine.dispose()
    return {"workspaces": len(workspace_ids), "installs": len(installs),
            "collections": len(collection_ids), "collection items": len(items)}
