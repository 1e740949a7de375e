"""Catalog import and export as JSON Lines: one listing per line.

The format is described in ``docs/catalog-format.md``. Import runs in two
passes so a bad file writes nothing: ``check_catalog`` reads and validates
every line (streaming, with the same input models the forms use) and
``write_catalog`` then inserts the valid listings in batches, with a fixed
number of queries per batch, so a 100,000-line file takes minutes, not hours.

Like every service, these functions take a ``Session`` and never commit.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import ValidationError
from sqlalchemy import insert
from sqlmodel import Session, func, select

from core.db import utcnow
from core.markdown import markdown_to_text
from listings.catalog_slugs import CatalogSlugs, SlugMadeUnique
from listings.models import (
    Category,
    Listing,
    ListingCreate,
    ListingStatus,
    Partner,
    Release,
    ReleaseCreate,
    ReleaseStatus,
    Screenshot,
)
from listings.ports import search_port
from listings.screenshots import (
    MAX_SCREENSHOTS,
    inspect_image,
    read_image_file,
    screenshot_path,
)
from listings.services import ListingError, validation_messages
from listings.text import composed_text, first_free_slug, slugify

BATCH_SIZE = 1000
# The longest line read: a listing's text fields are bounded (a 20,000-character
# description, 5,000-character changelogs), so a real line is far shorter; a longer
# one (a file with no newlines, say) is reported, never held in memory whole.
MAX_LINE_BYTES = 1024 * 1024

LISTING_KEYS = {
    "slug", "name", "tagline", "description", "category", "partner", "tags", "status", "pricing",
    "trial_days", "website_url", "support_url", "privacy_url", "data_residency", "releases",
    "screenshots",
}
# Keys of the "pricing" object and the ListingCreate field each one fills.
PRICING_FIELDS = {
    "model": "pricing_model",
    "currency": "currency",
    "monthly_price": "monthly_price",
    "unit_name": "unit_name",
    "unit_price": "unit_price",
    "included_units": "included_units",
}
RELEASE_KEYS = {"version", "changelog", "redirect_url", "webhook_url", "review_status", "scopes"}
SCREENSHOT_KEYS = {"path", "caption"}
REQUIRED_KEYS = ("name", "tagline", "category", "partner")
# Error names are the file's own: "pricing.model", not the model's "pricing_model".
_FILE_FIELD = {model_field: f"pricing.{key}" for key, model_field in PRICING_FIELDS.items()}
# Statuses whose listing has been live, so its releases were approved by default.
_LIVE_STATUSES = {ListingStatus.PUBLISHED, ListingStatus.DELISTED, ListingStatus.ARCHIVED}


@dataclass(frozen=True)
class LineError:
    """One problem in the file: the line number, the field and a message."""

    line: int
    field: str
    message: str

    def __str__(self) -> str:
        # Messages quote the file (paths, slugs, field names): its control characters
        # are shown escaped, so a line can't move the cursor or clear the terminal.
        return f"line {self.line}: {_printable(self.field)}: {_printable(self.message)}"


def _printable(text: str) -> str:
    return "".join(char if char.isprintable() else char.encode("unicode_escape").decode()
                   for char in text)


@dataclass
class PlannedListing:
    """A checked line, ready to be written."""

    line: int
    partner: str
    category: str
    listing: dict[str, Any]
    releases: list[dict[str, Any]]
    screenshots: list[tuple[Path, str]]


@dataclass
class CatalogPlan:
    """What ``check_catalog`` found: the valid listings and every error."""

    listings: list[PlannedListing] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)
    lines: int = 0  # non-blank lines read
    slugs_made_unique: list[SlugMadeUnique] = field(default_factory=list)

    @property
    def bad_lines(self) -> int:
        return len({error.line for error in self.errors})


@dataclass
class ImportResult:
    """The outcome of an import: counts, and the errors by line."""

    lines: int = 0
    imported: int = 0
    skipped: int = 0  # bad lines left out because skip_invalid was set
    errors: list[LineError] = field(default_factory=list)
    slugs_made_unique: list[SlugMadeUnique] = field(default_factory=list)

    @property
    def bad_lines(self) -> int:
        return len({error.line for error in self.errors})


# --- import: checking -------------------------------------------------------------------


@dataclass(frozen=True)
class OverlongLine:
    """A line longer than ``MAX_LINE_BYTES``, skipped unread: only its size is kept."""

    size: int


def bounded_lines(handle: BinaryIO, limit: int = MAX_LINE_BYTES) -> Iterator[bytes | OverlongLine]:
    """The lines of a binary file, each at most ``limit`` bytes (newline aside); a longer
    one is read past in pieces and given as an ``OverlongLine``. Iterating a file
    directly would read a line of any length into memory."""
    while True:
        line = handle.readline(limit + 1)
        if not line:
            return
        if len(line) <= limit or line.endswith(b"\n"):
            yield line
            continue
        size = len(line)
        while not line.endswith(b"\n"):
            line = handle.readline(limit)
            if not line:
                break
            size += len(line)
        yield OverlongLine(size)


def check_catalog(session: Session, lines: Iterable[bytes | str | OverlongLine],
                  base_dir: Path | None = None) -> CatalogPlan:
    """Read and validate every line; nothing is written.

    ``lines`` are the file's lines as bytes (as the CLI reads them) or text.
    A line of bytes that is not UTF-8 is a bad line like any other, reported
    with the offset of the bad byte in the file. Slugs already in the
    database are loaded once, so checking costs one query whatever the size
    of the file. Relative screenshot paths are read from ``base_dir`` (the
    folder of the file, for the CLI).
    """
    plan = CatalogPlan()
    slugs = CatalogSlugs(session.exec(
        select(Listing.slug, Listing.name, Partner.name).join(Partner)).all())
    offset = 0  # bytes before the current line, to point at a bad byte in the file
    for number, raw in enumerate(lines, start=1):
        line_start = offset
        if isinstance(raw, OverlongLine):
            offset += raw.size
            plan.lines += 1
            plan.errors.append(LineError(number, "length", (
                f"{raw.size:,} bytes, more than a listing can need "
                f"(at most {MAX_LINE_BYTES:,}); not read")))
            continue
        if isinstance(raw, bytes):
            offset += len(raw)
        if not raw.strip():
            continue
        plan.lines += 1
        try:
            text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError as error:
            plan.errors.append(LineError(number, "encoding", (
                f"not UTF-8 text ({error.reason} at byte {line_start + error.start} "
                "of the file)")))
            continue
        planned, errors = _check_line(number, text, slugs, base_dir)
        if errors:
            plan.errors.extend(errors)
        else:
            if planned.listing["slug"] is not None:
                slugs.claim(planned.listing["slug"], number, planned.listing["name"],
                            planned.partner)
            plan.listings.append(planned)
    # Slugs made from names are chosen last, so a slug a later line writes stays its own.
    plan.listings, refused, plan.slugs_made_unique = slugs.fill_from_names(plan.listings)
    plan.errors.extend(LineError(line, "slug", message) for line, message in refused)
    plan.errors.sort(key=lambda error: error.line)  # stable: a line's own order stays
    return plan


class _RepeatedKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _object_once(pairs: list[tuple[str, Any]]) -> dict:
    """A JSON object whose every key is given once: with a key twice, the parser
    keeps the last and drops the first without a word."""
    found: dict = {}
    for key, value in pairs:
        if key in found:
            raise _RepeatedKey(key)
        found[key] = value
    return found


def _check_line(number: int, text: str, slugs: CatalogSlugs,
                base_dir: Path | None) -> tuple[PlannedListing | None, list[LineError]]:
    try:
        # Without its line ending: a line cut short is reported where it ends, not
        # at column 1 of a second line that the newline would make.
        record = json.loads(text.rstrip("\r\n"), object_pairs_hook=_object_once)
    except json.JSONDecodeError as error:
        return None, [LineError(number, "json",
                                f"not valid JSON ({error.msg} at column {error.colno})")]
    except _RepeatedKey as error:
        return None, [LineError(number, "json", f"not valid JSON (the field "
                                                f"{json.dumps(error.key)} is given twice)")]
    except RecursionError:
        # The parser recurses once per level of nesting; a listing needs a handful.
        return None, [LineError(number, "json", "not valid JSON (nested too deeply)")]
    if not isinstance(record, dict):
        return None, [LineError(number, "json",
                                f"each line must be a JSON object, not {_json_type(record)}")]

    errors: dict[str, str] = {}
    for key in sorted(set(record) - LISTING_KEYS):
        errors[key] = "unknown field"
    # null means "not given", so the defaults apply.
    record = {key: value for key, value in record.items() if value is not None}
    for key in REQUIRED_KEYS:
        value = record.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            errors.setdefault(key, "is required")
    partner = _name(record, "partner", 120, errors)
    category = _name(record, "category", 80, errors)

    status = record.get("status", ListingStatus.PUBLISHED.value)
    if not isinstance(status, str) or status not in {item.value for item in ListingStatus}:
        errors["status"] = (f"unknown status {status!r}; use one of "
                            f"{', '.join(item.value for item in ListingStatus)}")
        status = None

    fields = {key: record[key] for key in LISTING_KEYS - {
        "category", "partner", "status", "pricing", "releases", "screenshots"} if key in record}
    pricing = record.get("pricing", {})
    if not isinstance(pricing, dict):
        errors["pricing"] = "must be an object like {\"model\": \"free\"}"
    else:
        for key in sorted(set(pricing) - set(PRICING_FIELDS)):
            errors[f"pricing.{key}"] = "unknown field"
        for key, model_field in PRICING_FIELDS.items():
            if pricing.get(key) is not None:
                fields[model_field] = pricing[key]

    for key in ("tags", "data_residency"):
        # The model's validators expect text or a list of text and fail on anything else.
        value = fields.get(key)
        if value is not None and not (isinstance(value, str) or (
                isinstance(value, list) and all(isinstance(item, str) for item in value))):
            errors[key] = "must be a list of text"
            fields.pop(key)

    data = None
    try:
        data = ListingCreate.model_validate(fields)
    except ValidationError as error:
        for loc, message in _messages(error).items():
            name = _FILE_FIELD.get(loc, loc)
            errors.setdefault("listing" if name == "__all__" else name, message)

    slug = None  # when the file gives none, made from the name after every line is read
    if data is not None:
        if data.slug:
            slug = data.slug
            if refused := slugs.refuse_given(slug):
                errors.setdefault("slug", refused)
        elif not slugify(data.name):
            errors.setdefault("slug", "give a slug of lowercase letters, digits and hyphens")

    releases = _check_releases(record.get("releases", []), status, errors)
    screenshots = _check_screenshots(record.get("screenshots", []), base_dir, errors)

    if errors:
        return None, [LineError(number, name, message) for name, message in errors.items()]
    now = utcnow()
    listing = data.model_dump(exclude={"slug"})
    listing.update(slug=slug, status=status, created_at=now, updated_at=now,
                   submitted_at=now if status == ListingStatus.IN_REVIEW else None,
                   published_at=now if status in _LIVE_STATUSES else None,
                   delisted_at=now if status == ListingStatus.DELISTED else None,
                   archived_at=now if status == ListingStatus.ARCHIVED else None,
                   review_note=None)
    return PlannedListing(number, partner, category, listing, releases, screenshots), []


def _name(record: dict, key: str, max_length: int, errors: dict[str, str]) -> str | None:
    """The partner or category name: text of at most ``max_length`` characters."""
    value = record.get(key)
    if value is None or key in errors:
        return None
    if not isinstance(value, str):
        errors[key] = f"must be text, not {_json_type(value)}"
        return None
    try:
        value = composed_text(value.strip())
    except ValueError as error:
        errors[key] = str(error)
        return None
    if len(value) > max_length:
        errors[key] = f"must be at most {max_length} characters"
        return None
    return value


def _check_releases(value: Any, status: str | None, errors: dict[str, str]) -> list[dict]:
    if not isinstance(value, list):
        errors["releases"] = f"must be a list of objects, not {_json_type(value)}"
        return []
    default_status = (ReleaseStatus.APPROVED if status in _LIVE_STATUSES
                      else ReleaseStatus.PENDING)
    releases: list[dict] = []
    versions: set[str] = set()
    for index, item in enumerate(value):
        prefix = f"releases[{index}]"
        if not isinstance(item, dict):
            errors[prefix] = f"must be an object, not {_json_type(item)}"
            continue
        for key in sorted(set(item) - RELEASE_KEYS):
            errors[f"{prefix}.{key}"] = "unknown field"
        item = {key: val for key, val in item.items() if val is not None}
        review_status = item.pop("review_status", default_status)
        if not isinstance(review_status, str) or review_status not in {
                status.value for status in ReleaseStatus}:
            errors[f"{prefix}.review_status"] = (
                f"unknown review status {review_status!r}; use one of "
                f"{', '.join(status.value for status in ReleaseStatus)}")
        try:
            release = ReleaseCreate.model_validate({k: v for k, v in item.items()
                                                    if k in RELEASE_KEYS})
        except ValidationError as error:
            for loc, message in _messages(error).items():
                errors.setdefault(f"{prefix}.{_bracket(loc)}", message)
            continue
        if release.version in versions:
            errors.setdefault(f"{prefix}.version", f"version {release.version} is listed twice")
        versions.add(release.version)
        releases.append({
            "version": release.version,
            "changelog": release.changelog,
            "scopes": [scope.model_dump() for scope in release.scopes],
            "redirect_url": release.redirect_url,
            "webhook_url": release.webhook_url,
            "review_status": review_status,
        })
    return releases


def _check_screenshots(value: Any, base_dir: Path | None,
                       errors: dict[str, str]) -> list[tuple[Path, str]]:
    if not isinstance(value, list):
        errors["screenshots"] = f"must be a list of objects, not {_json_type(value)}"
        return []
    if len(value) > MAX_SCREENSHOTS:
        errors["screenshots"] = f"at most {MAX_SCREENSHOTS} screenshots per listing"
        return []
    screenshots: list[tuple[Path, str]] = []
    for index, item in enumerate(value):
        prefix = f"screenshots[{index}]"
        if not isinstance(item, dict):
            errors[prefix] = f"must be an object, not {_json_type(item)}"
            continue
        for key in sorted(set(item) - SCREENSHOT_KEYS):
            errors[f"{prefix}.{key}"] = "unknown field"
        caption = item.get("caption") or ""
        if not isinstance(caption, str):
            errors[f"{prefix}.caption"] = f"must be text, not {_json_type(caption)}"
            continue
        if len(caption.strip()) > 200:
            errors[f"{prefix}.caption"] = "must be at most 200 characters"
            continue
        raw_path = item.get("path")
        if raw_path is not None and not isinstance(raw_path, str):
            errors[f"{prefix}.path"] = f"must be text, not {_json_type(raw_path)}"
            continue
        if not raw_path or not raw_path.strip():
            errors[f"{prefix}.path"] = "is required"
            continue
        path = Path(raw_path).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        try:
            inspect_image(read_image_file(path))
        except OSError as error:
            errors[f"{prefix}.path"] = f"cannot read {raw_path}: {error.strerror or error}"
            continue
        except ListingError as error:
            errors[f"{prefix}.path"] = f"{raw_path}: {error}"
            continue
        screenshots.append((path, caption.strip()))
    return screenshots


def _messages(error: ValidationError) -> dict[str, str]:
    """Pydantic's messages per field, worded like the rest of the importer's."""
    return {loc: "is required" if message == "Field required" else message
            for loc, message in validation_messages(error).items()}


def _bracket(loc: str) -> str:
    """'scopes.1.justification' -> 'scopes[1].justification'."""
    out = ""
    for part in loc.split("."):
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "null"


# --- import: writing --------------------------------------------------------------------


def _current_webhook_url(releases: list[dict]) -> str | None:
    """The listing's webhook endpoint: that of its current release, the last approved
    one in the file (they are written in order with one created_at)."""
    approved = [r for r in releases if r["review_status"] == ReleaseStatus.APPROVED]
    return approved[-1]["webhook_url"] if approved else None


def write_catalog(session: Session, plan: CatalogPlan, upload_folder: str,
                  batch_size: int = BATCH_SIZE,
                  on_batch: Callable[[int], None] | None = None) -> int:
    """Insert the plan's listings, releases and screenshots; the number written.

    Missing partners and categories are created first (one insert each);
    then each batch of ``batch_size`` listings costs one insert for the
    listings, one for their releases and one for their screenshots.
    ``on_batch(n)`` is called after each batch, for a progress bar. Screenshot
    files written before an error are removed again.
    """
    partner_ids = _ensure_named(session, Partner, {p.partner for p in plan.listings})
    category_ids = _ensure_named(session, Category, {p.category for p in plan.listings})
    written_files: list[Path] = []
    try:
        for start in range(0, len(plan.listings), batch_size):
            batch = plan.listings[start:start + batch_size]
            # A bulk insert skips the model's flush hook, so the text is set here.
            rows = [dict(p.listing, partner_id=partner_ids[p.partner],
                         category_id=category_ids[p.category],
                         description_text=markdown_to_text(p.listing["description"]),
                         webhook_url=_current_webhook_url(p.releases))
                    for p in batch]
            listing_ids = dict((slug, listing_id) for listing_id, slug in session.execute(
                insert(Listing).returning(Listing.id, Listing.slug), rows).all())
            now = utcnow()
            release_rows = [
                dict(release, listing_id=listing_ids[p.listing["slug"]], review_note=None,
                     created_at=now,
                     reviewed_at=None if release["review_status"] == ReleaseStatus.PENDING
                     else now)
                for p in batch for release in p.releases
            ]
            if release_rows:
                session.execute(insert(Release), release_rows)
            shot_rows = []
            for p in batch:
                listing_id = listing_ids[p.listing["slug"]]
                for position, (path, caption) in enumerate(p.screenshots):
                    shot_rows.append(_store_screenshot(upload_folder, listing_id, path, caption,
                                                       position, now, written_files))
            if shot_rows:
                session.execute(insert(Screenshot), shot_rows)
            # Bulk inserts bypass the ORM hooks, so the search outbox is told here.
            search_port(session).listings_changed(session, listing_ids.values())
            if on_batch is not None:
                on_batch(len(batch))
    except BaseException:
        for path in written_files:
            path.unlink(missing_ok=True)
        raise
    return len(plan.listings)


def _ensure_named(session: Session, model, names: set[str]) -> dict[str, int]:
    """{name: id} for partners or categories, creating the missing ones in one insert."""
    # All of them in one query: there are few, and an IN list of thousands of names
    # would hit SQLite's limit on bound parameters.
    existing = dict(session.execute(select(model.name, model.id)).all())
    missing = sorted(names - set(existing))
    if not missing:
        return existing
    slugs = set(session.exec(select(model.slug)).all())
    rows = []
    position = 0
    if model is Category:
        position = session.exec(select(func.coalesce(func.max(Category.position), 0))).one()
    for name in missing:
        slug = first_free_slug(slugify(name) or "item", slugs.__contains__)
        slugs.add(slug)
        row = {"name": name, "slug": slug}
        if model is Category:
            position += 1
            row.update(description="", position=position)
        else:
            row.update(tier="registered", website_url=None, created_at=utcnow())
        rows.append(row)
    for name, new_id in session.execute(insert(model).returning(model.name, model.id),
                                        rows).all():
        existing[name] = new_id
    return existing


def _store_screenshot(upload_folder: str, listing_id: int, path: Path, caption: str,
                      position: int, now, written_files: list[Path]) -> dict:
    """Re-read and re-check the image (it may have changed since the check), then store it
    the way ``save_screenshot`` does."""
    data = read_image_file(path)
    content_type, extension, width, height = inspect_image(data)
    filename = f"{listing_id}-{secrets.token_hex(8)}.{extension}"
    target = screenshot_path(upload_folder, filename)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    written_files.append(target)
    return {"listing_id": listing_id, "filename": filename, "content_type": content_type,
            "width": width, "height": height, "caption": caption, "position": position,
            "created_at": now}


# --- import: both passes -----------------------------------------------------------------


def import_catalog(session: Session, lines: Iterable[str], upload_folder: str,
                   skip_invalid: bool = False, base_dir: Path | None = None,
                   batch_size: int = BATCH_SIZE) -> ImportResult:
    """Check every line, then write: nothing at all when a line is bad, unless
    ``skip_invalid``, which writes the good lines and reports the bad ones."""
    plan = check_catalog(session, lines, base_dir)
    return finish_import(session, plan, upload_folder, skip_invalid, batch_size)


def finish_import(session: Session, plan: CatalogPlan, upload_folder: str,
                  skip_invalid: bool = False, batch_size: int = BATCH_SIZE,
                  on_batch: Callable[[int], None] | None = None) -> ImportResult:
    """The write pass of ``import_catalog``, for callers that check separately."""
    result = ImportResult(lines=plan.lines, errors=plan.errors,
                          slugs_made_unique=plan.slugs_made_unique)
    if plan.errors and not skip_invalid:
        return result
    result.skipped = plan.bad_lines
    result.imported = write_catalog(session, plan, upload_folder, batch_size, on_batch)
    return result
