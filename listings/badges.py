"""What each badge means and who decides it, and which badges an app shows; the
pages that list the apps wearing a badge read them through ``listings.badge_queries``
(docs/ranking.md).

Editors award "Staff pick", "Security reviewed" and "Built for Bazaar" by hand
(the editor console). "Top rated" is never awarded by hand: an app wears it
while its reviews meet the rule in ``listings.ranking``, so an app with no
reviews cannot wear it, and it goes when the reviews no longer earn it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from listings.models import Badge, BadgeKind
from listings.ranking import (
    PRIOR_MEAN,
    PRIOR_WEIGHT,
    TOP_RATED_MIN_REVIEWS,
    TOP_RATED_MIN_SCORE,
    earns_top_rated,
)

EDITORS = "editors"
RULE = "rule"


@dataclass(frozen=True)
class BadgeRule:
    """A badge's public definition: what it means and who decides it."""

    kind: str
    label: str
    meaning: str
    criteria: tuple[str, ...]
    decided_by: str  # EDITORS or RULE

    @property
    def slug(self) -> str:
        return self.kind.replace("_", "-")

    @property
    def decided_by_text(self) -> str:
        return "Awarded by our editors" if self.decided_by == EDITORS else "Earned from reviews"


BADGES: dict[str, BadgeRule] = {rule.kind: rule for rule in (
    BadgeRule(BadgeKind.STAFF_PICK, BadgeKind.STAFF_PICK.label,
              "Our editors use it, like it and recommend it.",
              ("An editor tried the app and found it clearly useful and well made.",
               "Editors may give it for a limited time and take it back at any time."),
              EDITORS),
    BadgeRule(BadgeKind.SECURITY_REVIEWED, BadgeKind.SECURITY_REVIEWED.label,
              "An editor checked how the app handles your workspace's data.",
              ("The app asks only for the access it needs, and says why.",
               "Its data handling, storage location and privacy policy were reviewed.",
               "The review is renewed periodically; the badge lapses when it is due."),
              EDITORS),
    BadgeRule(BadgeKind.BUILT_FOR_BAZAAR, BadgeKind.BUILT_FOR_BAZAAR.label,
              "Made to fit Bazaar workspaces closely.",
              ("The app installs without extra set-up and follows our design guidelines.",
               "It keeps up with Bazaar's current platform features."),
              EDITORS),
    BadgeRule(BadgeKind.TOP_RATED, BadgeKind.TOP_RATED.label,
              "Customers rate it among the best, and enough of them to trust it.",
              (f"At least {TOP_RATED_MIN_REVIEWS} published reviews.",
               (f"A rating score of at least {TOP_RATED_MIN_SCORE}: the average rating, counted "
                f"as if every app also had {PRIOR_WEIGHT} reviews of {PRIOR_MEAN:g} stars, so a "
                "handful of 5-star reviews is not enough."),
               "Nobody awards it: it comes and goes with the reviews."),
              RULE),
)}
EDITOR_KINDS = frozenset(kind for kind, rule in BADGES.items() if rule.decided_by == EDITORS)


@dataclass(frozen=True)
class ShownBadge:
    """A badge as the storefront shows it: its label, linking to its page."""

    kind: str
    label: str
    slug: str


def badge_by_slug(slug: str) -> BadgeRule | None:
    return next((rule for rule in BADGES.values() if rule.slug == slug), None)


def shown_badge_kinds(badges: Iterable[Badge], average: float | None, count: int) -> list[str]:
    """The kinds of badge an app wears, in display order: its active editors'
    badges (a stored "Top rated" row from before the rule is ignored) and "Top
    rated" when its reviews (published ones: ``average``, ``count``) earn it."""
    kinds = {badge.kind for badge in badges if badge.kind in EDITOR_KINDS}
    if earns_top_rated(average, count):
        kinds.add(BadgeKind.TOP_RATED)
    return [kind for kind in BADGES if kind in kinds]


def shown_badges(badges: Iterable[Badge], average: float | None, count: int) -> list[ShownBadge]:
    """``shown_badge_kinds`` as labels and badge page slugs for the templates."""
    return [ShownBadge(kind, BADGES[kind].label, BADGES[kind].slug)
            for kind in shown_badge_kinds(badges, average, count)]
