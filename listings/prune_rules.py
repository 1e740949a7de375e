"""The published rules of the nightly prune job, and their settings.

Each rule has a plain-words statement (the public page shows it, the partner's
notice quotes it), how a partner fixes it, and the ``PRUNE_*`` settings that
tune it. Defaults are drawn from real stores: WordPress.org closes plugins not
updated for about two years, Atlassian reviews security yearly, Shopify prunes
apps nobody installs. ``PRUNE_RULES_OFF`` switches rules off by name.

Settings come from the environment (or ``create_app`` overrides) and are
checked at start-up: a negative or absurd value stops the app with the
setting's name (``ConfigError``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from listings.models import PruneRule

# Ten years: anything longer is a typo, not a policy.
MAX_DAYS = 3650


@dataclass(frozen=True)
class Setting:
    name: str
    field: str  # the PruneSettings attribute it sets
    default: int
    minimum: int
    maximum: int
    meaning: str


SETTINGS: tuple[Setting, ...] = (
    Setting("PRUNE_GRACE_DAYS", "grace_days", 30, 1, 365,
            "days between flagging a listing and delisting it"),
    Setting("PRUNE_ARCHIVE_AFTER_DAYS", "archive_after_days", 90, 1, MAX_DAYS,
            "days a listing stays delisted before it is archived"),
    Setting("PRUNE_NO_RELEASE_DAYS", "no_release_days", 540, 30, MAX_DAYS,
            "days without an approved release or a listing update"),
    Setting("PRUNE_MIN_ACTIVE_INSTALLS", "min_active_installs", 3, 1, 1_000_000,
            "active installs a listing needs"),
    Setting("PRUNE_FEW_INSTALLS_DAYS", "few_installs_days", 90, 1, MAX_DAYS,
            "days a listing may stay below that number"),
    Setting("PRUNE_FEW_INSTALLS_MIN_AGE_DAYS", "few_installs_min_age_days", 180, 0, MAX_DAYS,
            "days after publication before the install rule applies"),
    Setting("PRUNE_CERTIFICATION_MAX_AGE_DAYS", "certification_max_age_days", 365, 30, MAX_DAYS,
            "days a security review stays valid"),
    Setting("PRUNE_WEBHOOK_FAILING_DAYS", "webhook_failing_days", 7, 1, 365,
            "days a webhook endpoint may fail in a row"),
    Setting("PRUNE_NEVER_INSTALLED_DAYS", "never_installed_days", 180, 1, MAX_DAYS,
            "days after approval a listing may stay without any install"),
    Setting("PRUNE_BATCH_SIZE", "batch_size", 500, 1, 10_000,
            "listings changed per transaction"),
)

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


def _whole_number(setting: Setting, raw) -> int:
    from core.settings import ConfigError

    if isinstance(raw, bool):
        raise ConfigError(f"{setting.name} must be a whole number of {setting.meaning}, got {raw!r}")
    if isinstance(raw, int):
        value = raw
    else:
        text = str(raw).strip()
        try:
            value = int(text)
        except ValueError:
            raise ConfigError(f"{setting.name} must be a whole number ({setting.meaning}), "
                              f"got {raw!r}") from None
    if not setting.minimum <= value <= setting.maximum:
        raise ConfigError(f"{setting.name} must be between {setting.minimum} and "
                          f"{setting.maximum} ({setting.meaning}), got {value}")
    return value


def _rules_off(raw) -> frozenset[str]:
    from core.settings import ConfigError

    if raw is None:
        return frozenset()
    names = raw if isinstance(raw, list | tuple | set | frozenset) else str(raw).split(",")
    names = {str(name).strip() for name in names if str(name).strip()}
    known = {str(rule) for rule in PruneRule}
    unknown = sorted(names - known)
    if unknown:
        raise ConfigError(f"{RULES_OFF_SETTING} names unknown rules: {', '.join(unknown)} "
                          f"(known: {', '.join(sorted(known))})")
    return frozenset(names)


def load_prune_settings(config: Mapping | None = None,
                        environ: Mapping[str, str] | None = None) -> PruneSettings:
    """The prune settings: a ``config`` entry wins over the environment, which wins
    over the default. Raises ``ConfigError`` naming the first bad setting."""
    config = config or {}
    environ = os.environ if environ is None else environ
    values: dict = {}
    for setting in SETTINGS:
        raw = config.get(setting.name)
        if raw is None:
            raw = environ.get(setting.name)
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            continue
        values[setting.field] = _whole_number(setting, raw)
    raw_off = config.get(RULES_OFF_SETTING)
    if raw_off is None:
        raw_off = environ.get(RULES_OFF_SETTING)
    values["rules_off"] = _rules_off(raw_off)
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
