"""The published rules of the nightly prune job, and their settings.

Each rule has a plain-words statement (the public page shows it, the partner's
notice quotes it), how a partner fixes it, and the ``PRUNE_*`` settings that
tune it. Defaults are drawn from real stores: WordPress.org closes plugins not
updated for about two years, Atlassian reviews security yearly, Shopify prunes
apps nobody installs. ``PRUNE_RULES_OFF`` switches rules off by name.

The settings are read and checked at start-up by core/settings.py, like every other
(a negative or absurd value stops the app, naming the setting); ``load_prune_settings``
gathers the checked values from ``app.config``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from listings.prune_models import PruneRule

# The PruneSettings attribute each PRUNE_* setting sets (defaults, ranges and the
# one-line meanings are in core/settings.py's table, and so in docs/configuration.md).
FIELDS = {
    "PRUNE_GRACE_DAYS": "grace_days",
    "PRUNE_ARCHIVE_AFTER_DAYS": "archive_after_days",
    "PRUNE_NO_RELEASE_DAYS": "no_release_days",
    "PRUNE_MIN_ACTIVE_INSTALLS": "min_active_installs",
    "PRUNE_FEW_INSTALLS_DAYS": "few_installs_days",
    "PRUNE_FEW_INSTALLS_MIN_AGE_DAYS": "few_installs_min_age_days",
    "PRUNE_CERTIFICATION_MAX_AGE_DAYS": "certification_max_age_days",
    "PRUNE_WEBHOOK_FAILING_DAYS": "webhook_failing_days",
    "PRUNE_NEVER_INSTALLED_DAYS": "never_installed_days",
    "PRUNE_BATCH_SIZE": "batch_size",
}
RULES_OFF_SETTING = "PRUNE_RULES_OFF"


@dataclass(frozen=True)
class PruneSettings:
    grace_days: int = 30
    archive_after_days: int = 90
    no_release_days: int = 540
    min_active_installs: int = 3
    few_installs_days: int = 90
    few_installs_min_age_days: int = 180
    certification_max_age_days: int = 365
    webhook_failing_days: int = 7
    never_installed_days: int = 180
    batch_size: int = 500
    rules_off: frozenset[str] = frozenset()

    @property
    def grace(self) -> timedelta:
        return timedelta(days=self.grace_days)

    @property
    def archive_after(self) -> timedelta:
        return timedelta(days=self.archive_after_days)

    def enabled(self, rule: PruneRule | str) -> bool:
        return str(rule) not in self.rules_off

    @property
    def enabled_rules(self) -> list[PruneRule]:
        return [rule for rule in PruneRule if self.enabled(rule)]


def load_prune_settings(config: Mapping) -> PruneSettings:
    """The prune settings from an app's config (checked at start-up by core/settings.py);
    a setting missing from ``config`` keeps the published default."""
    values = {field: config[name] for name, field in FIELDS.items() if name in config}
    if config.get(RULES_OFF_SETTING):
        values["rules_off"] = frozenset(config[RULES_OFF_SETTING])
    return PruneSettings(**values)


# --- what the public page and the notices say -----------------------------------------


@dataclass(frozen=True)
class RuleText:
    rule: PruneRule
    title: str
    statement: str   # the rule in plain words, with the configured numbers
    fix: str         # what the partner does about it
    source: str      # where the default comes from


def rule_texts(settings: PruneSettings) -> dict[PruneRule, RuleText]:
    """Each rule's title, statement and fix, with the configured numbers in them."""
    s = settings
    return {
        PruneRule.NO_RECENT_RELEASE: RuleText(
            PruneRule.NO_RECENT_RELEASE, "No release or update",
            f"No approved release and no update to the listing for {s.no_release_days} days.",
            "Ship a new release (and have it approved) or update the listing's details.",
            "WordPress.org closes plugins that go unmaintained for about two years."),
        PruneRule.FEW_ACTIVE_INSTALLS: RuleText(
            PruneRule.FEW_ACTIVE_INSTALLS, "Too few active installs",
            f"Fewer than {s.min_active_installs} active installs for {s.few_installs_days} days, "
            f"once the listing is {s.few_installs_min_age_days} days old.",
            f"Reach {s.min_active_installs} or more active installs.",
            "Shopify and Atlassian retire apps that nobody keeps installed."),
        PruneRule.CERTIFICATION_EXPIRED: RuleText(
            PruneRule.CERTIFICATION_EXPIRED, "Security review out of date",
            f"The listing's security review (its “Security reviewed” badge) is older than "
            f"{s.certification_max_age_days} days.",
            "Ask the editors for a new security review; a fresh badge clears the flag.",
            "Atlassian's Cloud Fortified and Shopify's Built for Shopify are re-checked yearly."),
        PruneRule.WEBHOOK_FAILING: RuleText(
            PruneRule.WEBHOOK_FAILING, "Webhook endpoint failing",
            f"Every delivery to the app's webhook endpoint has failed for {s.webhook_failing_days} "
            f"days in a row.",
            "Fix the endpoint (the deliveries page shows each error) or ship a release with a "
            "working webhook URL; the next successful delivery clears the flag.",
            "Shopify removes apps whose mandatory webhooks keep failing."),
        PruneRule.NEVER_INSTALLED: RuleText(
            PruneRule.NEVER_INSTALLED, "Never installed",
            f"Approved {s.never_installed_days} days ago or more and never installed by anyone.",
            "Get the app installed at least once (tell your customers where to find it).",
            "App stores drop listings nobody has tried."),
    }
