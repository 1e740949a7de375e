"""The slugs of a catalog import (``listings.catalog``).

A slug written in the file is the partner's choice: it is kept, and refused when
another listing has it. A slug the file leaves out is the import's to choose: it
is made from the name, and when names that differ make the same one ("Pipe Sync",
"Pipe-Sync", npm's "@types/node" and "types-node") the later listing gets
"pipe-sync-2", as the partner portal does, rather than being refused. The one
thing refused is the same listing twice: the same name by the same partner
(letter case aside), which is how importing a file a second time would otherwise
copy every listing without a slug.

Slugs made from names are chosen after every line is read (``fill_from_names``),
so a slug the file writes on a later line stays that line's."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from listings.text import first_free_slug, slugify

if TYPE_CHECKING:
    from listings.catalog import PlannedListing

@dataclass(frozen=True)
class SlugMadeUnique:
    """A listing whose slug, made from its name, was another listing's."""

    line: int
    wanted: str
    slug: str

    def __str__(self) -> str:
        return (f"line {self.line}: slug: {self.wanted!r} is another listing's; "
                f"this one is {self.slug!r}")


def _owner(name: str, partner: str) -> tuple[str, str]:
    return name.casefold(), partner.casefold()


class CatalogSlugs:
    """Which slugs are taken (by a listing of the catalog, or by a line of the
    file) and which listing, by name and partner, each belongs to."""

    def __init__(self, existing: Iterable[tuple[str, str, str]]):
        """``existing``: (slug, name, partner name) of every listing already stored."""
        self.lines: dict[str, int] = {}                 # slug -> line (0: the catalog)
        self.listings: dict[tuple[str, str], str] = {}  # (name, partner) -> its slug
        for slug, name, partner in existing:
            self.claim(slug, 0, name, partner)

    def claim(self, slug: str, line: int, name: str, partner: str) -> None:
        """``slug`` is taken, by the listing ``name`` of ``partner`` (``line`` 0: stored)."""
        self.lines[slug] = line
        self.listings.setdefault(_owner(name, partner), slug)

    def _where(self, slug: str) -> str:
        line = self.lines[slug]
        return f"{slug!r} is already in the catalog" if line == 0 else (
            f"{slug!r} is already used on line {line}")

    def refuse_given(self, slug: str) -> str | None:
        """Why a slug written in the file cannot be had, or None."""
        return self._where(slug) if slug in self.lines else None

    def fill_from_names(self, planned: list[PlannedListing]) -> tuple[
            list[PlannedListing], list[tuple[int, str]], list[SlugMadeUnique]]:
        """Give each listing without a slug one made from its name, in line order:
        the listings kept, the lines refused (line, why) and the slugs made unique."""
        kept, refused, made_unique = [], [], []
        for listing in planned:
            if listing.listing["slug"] is None:
                name = listing.listing["name"]
                same = self.listings.get(_owner(name, listing.partner))
                if same is not None:
                    preposition = "for" if self.lines[same] == 0 else "by"
                    refused.append((listing.line, f"{self._where(same)}, {preposition} a "
                                                  "listing of the same name and partner"))
                    continue
                wanted = slugify(name)
                slug = first_free_slug(wanted, self.lines.__contains__)
                self.claim(slug, listing.line, name, listing.partner)
                listing.listing["slug"] = slug
                if slug != wanted:
                    made_unique.append(SlugMadeUnique(listing.line, wanted, slug))
            kept.append(listing)
        return kept, refused, made_unique
