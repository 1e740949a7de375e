"""Every setting of the app, in one table: its environment name, parser, default, allowed
range, section and a line that says what it does.

``load_config`` builds the Flask config from that table. One precedence rule: a value
in the environment wins over the default (and, in tests, a ``create_app`` override wins
over both); every value goes through the same parser wherever it comes from, so a bad
one stops start-up with one line naming the setting (``ConfigError``), never echoing a
secret. ``docs/configuration.md`` is rendered from the same table
(``python -m core.settings > docs/configuration.md``), so it cannot drift.

Domain packages read ``app.config[...]`` only; core names no domain package, so the
few domain facts a check needs (fee tiers, prune rule names) are data in this table.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from core.setting_parsers import (
    RATELIMIT_STORAGE_SCHEMES,
    BaseAddress,
    Choice,
    ConfigError,
    DatabaseAddress,
    HostName,
    MailAddress,
    NameList,
    Number,
    Percentage,
    RateLimit,
    StorageAddress,
    Text,
    TrueFalse,
    WebAddress,
    WholeNumber,
    WritableDirectory,
    is_unset,
)

LOCAL_ENVS = frozenset({"local", "test"})
BACKGROUND_WORK_MODES = ("worker", "in-process")
CACHE_SCHEMES = ("memory", "redis", "rediss")
SENDER_MODES = ("thread", "off")
# How usage reaches Stripe: its v2 meter event stream (batches) or v1 meter events
# (one call each; what stripe-mock serves). billing/stripe_provider.py says more.
STRIPE_METER_EVENT_MODES = ("stream", "v1")
LOG_FORMATS = ("text", "json")
# listings.models.PruneRule's values (core imports no domain package; a test keeps
# the two equal).
PRUNE_RULE_NAMES = ("no_recent_release", "few_active_installs", "certification_expired",
                    "webhook_failing", "never_installed")
# Partner tiers (listings.models.PartnerTier) and the platform's default fee for each.
FEE_TIERS = {"registered": "20", "select": "15", "premier": "10"}
MIN_SECRET_KEY_LENGTH = 32


# --- the table --------------------------------------------------------------------------


@dataclass(frozen=True)
class Defaults:
    """What a default may depend on: the deployment kind and what is resolved so far."""

    env: str
    config: Mapping[str, Any]
    instance_path: Path

    @property
    def local(self) -> bool:
        return self.env in LOCAL_ENVS


@dataclass(frozen=True)
class Setting:
    name: str                      # the environment variable
    section: str
    parse: Callable                # one of the parsers above
    default: Any                   # a value, or a function of ``Defaults``
    description: str
    key: str | None = None         # the app.config key, when it differs from ``name``
    secret: bool = False           # never echoed in an error, never in the docs' examples
    default_text: str | None = None  # how the docs show a computed default

    @property
    def config_key(self) -> str:
        return self.key or self.name

    def read(self, raw, defaults: Defaults):
        """``raw`` parsed, or the default (computed from ``defaults``) when unset or empty."""
        if not is_unset(raw):
            return self.parse(self.name, raw, self.secret)
        return self.default(defaults) if callable(self.default) else self.default


def _secret_key_default(defaults: Defaults) -> str:
    if not defaults.local:
        raise ConfigError(f"SECRET_KEY must be set, at least {MIN_SECRET_KEY_LENGTH} characters, "
                          f"when BAZAAR_ENV is {defaults.env!r} (only local and test runs "
                          "generate one); e.g. python3 -c 'import secrets; "
                          "print(secrets.token_hex(32))'")
    return _local_secret_key(defaults.instance_path)


def _local_secret_key(instance_path: Path) -> str:
    """Generated once and kept in ``instance/secret_key`` so sessions survive restarts."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # Created with 0600 so other local users cannot read it.
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def _sender_default(defaults: Defaults) -> str:
    return "thread" if defaults.config.get("BACKGROUND_WORK") == "in-process" else "off"


def _mail_port_default(defaults: Defaults) -> int:
    # The ports the modes are served on: SMTPS 465 (RFC 8314), submission with
    # STARTTLS 587 (RFC 6409), plain SMTP 25.
    if defaults.config.get("MAIL_USE_SSL"):
        return 465
    return 587 if defaults.config.get("MAIL_USE_TLS") else 25


LOCAL_BASE_URL = "http://127.0.0.1:5000"


def _base_url_default(defaults: Defaults) -> str:
    # Outside a local or test run the address is the site's public one: mail links,
    # canonical links, Open Graph tags and the sitemap would otherwise point at this
    # machine, which search engines and recipients cannot reach.
    if not defaults.local:
        raise ConfigError(f"BAZAAR_BASE_URL must be set when BAZAAR_ENV is {defaults.env!r}: "
                          "links in mail, canonical links and the sitemap would point at "
                          f"{LOCAL_BASE_URL}; e.g. https://bazaar.example.com")
    return LOCAL_BASE_URL


SENDER_DEFAULT_TEXT = "`thread` when `BACKGROUND_WORK` is `in-process`, else `off`"
LOCAL_ONLY_TEXT = "`true` when `BAZAAR_ENV` is `local` or `test`, else `false`"


def _prune(name: str, default: int, minimum: int, maximum: int, description: str) -> Setting:
    return Setting(name, "prune", WholeNumber(minimum, maximum), default, description)


def _fee(tier: str, default: str) -> Setting:
    return Setting(f"BILLING_FEE_PERCENT_{tier.upper()}", "billing",
                   Percentage(Decimal("50")), Decimal(default),
                   f"the platform's share of each paid invoice for a {tier.title()} partner "
                   "(above 50 is a typo, not a business decision)")


SETTINGS: tuple[Setting, ...] = (
    # core
    Setting("BAZAAR_ENV", "core", Text(), "production",
            "`local` (a plain-HTTP run on your machine) or `test` relax what production "
            "needs: cookies not Secure, a generated `SECRET_KEY`, senders in-process"),
    Setting("SECRET_KEY", "core", Text(), _secret_key_default,
            f"signs sessions and CSRF tokens; outside local and test runs required, at least "
            f"{MIN_SECRET_KEY_LENGTH} characters",
            secret=True, default_text="local/test: generated once into `instance/secret_key`; "
            "else required"),
    Setting("DATABASE_URL", "core", DatabaseAddress(),
            lambda d: f"sqlite:///{d.instance_path / 'bazaar.db'}",
            "the database: SQLite or PostgreSQL (psycopg 3)", secret=True,
            default_text="`sqlite:///instance/bazaar.db`"),
    Setting("UPLOAD_FOLDER", "core", Text(), lambda d: str(d.instance_path / "uploads"),
            "where screenshots are stored", default_text="`instance/uploads`"),
    Setting("BACKGROUND_WORK", "core", Choice(BACKGROUND_WORK_MODES),
            lambda d: "in-process" if d.local else "worker",
            "who sends what the outboxes hold: `worker`, web processes only enqueue and "
            "`flask --app app worker` sends; `in-process`, each web process sends too",
            default_text="`in-process` when `BAZAAR_ENV` is `local` or `test`, else `worker`"),
    Setting("SESSION_COOKIE_SECURE", "core", TrueFalse(), lambda d: not d.local,
            "mark the session and remember-me cookies Secure (sent over HTTPS only)",
            default_text="`false` when `BAZAAR_ENV` is `local` or `test`, else `true`"),
    Setting("TRUSTED_PROXIES", "core", WholeNumber(0, 5), 0,
            "proxies in front of the app whose `X-Forwarded-For`/`X-Forwarded-Proto` are "
            "believed (werkzeug's ProxyFix), so rate limits count the client, not the "
            "ingress; 0 trusts none"),
    Setting("BAZAAR_PAGE_SIZE", "core", WholeNumber(1, 200), 24, "listings per page",
            key="PAGE_SIZE"),
    Setting("CACHE_URL", "core", StorageAddress(CACHE_SCHEMES), "memory://",
            "where rendered catalog pages are kept: `memory://` in each process, "
            "`redis://...` shared by every worker and host", secret=True),
    Setting("CACHE_MEMORY_MB", "core", WholeNumber(1, 65536), 64,
            "with `CACHE_URL=memory://`, the megabytes of kept pages each process holds "
            "at most; when full, the page used least recently goes first"),
    Setting("CATALOG_CACHE_SECONDS", "core", WholeNumber(0, 86400), 600,
            "how long a rendered catalog page (home, categories, a category, a collection) "
            "is kept at most; any catalog change replaces it at once; 0 turns the cache off"),
    Setting("COMPRESS_RESPONSES", "core", TrueFalse(), True,
            "gzip or brotli pages, JSON, CSS and JavaScript for clients that accept it; "
            "`false` when the reverse proxy in front compresses"),
    # accounts
    Setting("LOGIN_RATE_LIMIT", "accounts", RateLimit(), "10 per minute;50 per hour",
            "sign-in attempts per client address (Flask-Limiter syntax)"),
    Setting("RATELIMIT_STORAGE_URI", "accounts", StorageAddress(RATELIMIT_STORAGE_SCHEMES),
            "memory://", "where the per-address limits count: `memory://` in each process, "
            "Redis shared by every worker and host", secret=True),
    Setting("LOGIN_LOCKOUT_MAX_FAILURES", "accounts", WholeNumber(3, 100), 10,
            "failed sign-ins for one email address within `LOGIN_LOCKOUT_MINUTES` (counted "
            "in the database) before signing in with it is refused"),
    Setting("LOGIN_LOCKOUT_MINUTES", "accounts", WholeNumber(1, 1440), 15,
            "the window failed sign-ins are counted in"),
    # mail
    Setting("MAIL_SERVER", "mail", HostName(), None,
            "the SMTP server mail is sent through; unset: mail is held in the outbox and "
            "read by an admin at `/admin/mail` (docs/mail.md)"),
    Setting("MAIL_USE_TLS", "mail", TrueFalse(), False,
            "STARTTLS after connecting (usually port 587); not with `MAIL_USE_SSL`",
            default_text="`false`"),
    Setting("MAIL_USE_SSL", "mail", TrueFalse(), False,
            "TLS from the first byte (SMTPS, usually port 465); not with `MAIL_USE_TLS`",
            default_text="`false`"),
    Setting("MAIL_PORT", "mail", WholeNumber(1, 65535), _mail_port_default,
            "the SMTP server's port",
            default_text="`465` with `MAIL_USE_SSL`, `587` with `MAIL_USE_TLS`, else `25`"),
    Setting("MAIL_USERNAME", "mail", Text(), None,
            "the SMTP login; unset: no login"),
    Setting("MAIL_PASSWORD", "mail", Text(), None,
            "the SMTP password (with `MAIL_USERNAME`)", secret=True),
    Setting("MAIL_FROM", "mail", MailAddress(), "Bazaar <no-reply@localhost>",
            "the `From` of every message; use an address your SMTP provider may send as"),
    Setting("BAZAAR_BASE_URL", "mail", BaseAddress(), _base_url_default,
            "the site's public address, which links in mail, canonical links and the "
            "sitemap start with (docs/findable.md)",
            default_text=f"`{LOCAL_BASE_URL}` in local and test runs; required in any other"),
    Setting("MAIL_MAX_ATTEMPTS", "mail", WholeNumber(1, 100), 16,
            "attempts before a message is marked failed (an admin can retry it); with the "
            "backoff (30 s doubling, at most 1 h) 16 attempts span about 10 hours"),
    Setting("MAIL_SEND_TIMEOUT", "mail", Number(1.0, 120.0), 10.0,
            "seconds one SMTP connection may wait on the server for each step"),
    Setting("MAIL_SENDER", "mail", Choice(SENDER_MODES), _sender_default,
            "`thread`: each web process sends mail after commit and retries due mail; "
            "`off`: only the worker or `flask mail send`", default_text=SENDER_DEFAULT_TEXT),
    # search
    Setting("OPENSEARCH_URL", "search", WebAddress(), None,
            "an OpenSearch 2.x cluster; unset: the embedded index (`SEARCH_EMBEDDED_INDEX`)",
            secret=True),
    Setting("OPENSEARCH_INDEX", "search", Text(), "bazaar-listings",
            "the alias searches go through; reindexing swaps the index behind it"),
    Setting("OPENSEARCH_TIMEOUT", "search", Number(0.1, 60.0), 1.5,
            "seconds; past it a page answers from the embedded index instead"),
    Setting("SEARCH_SYNC_BUDGET", "search", Number(0.1, 30.0), 2.0,
            "seconds a web request may spend applying its own search changes after commit"),
    Setting("SEARCH_SYNC_INTERVAL", "search", Number(1.0, 3600.0), 30.0,
            "seconds between the background sync's looks for changes left behind"),
    Setting("SEARCH_SYNC_SENDER", "search", Choice(SENDER_MODES), _sender_default,
            "`thread`: each web process applies search changes left behind; `off`: only "
            "the worker or `flask search sync` does", default_text=SENDER_DEFAULT_TEXT),
    Setting("SEARCH_EMBEDDED_INDEX", "search", Choice(("local", "database")), "local",
            "the embedded index (the default search, and the fallback when OpenSearch is "
            "down): `local`: a tantivy index in `SEARCH_INDEX_DIR`, fast at any catalog "
            "size, one per host; `database`: the database's own full-text index (SQLite "
            "FTS5 / PostgreSQL), shared by every host, slow past ~20,000 listings"),
    Setting("SEARCH_INDEX_DIR", "search", Text(), None,
            "the directory of the `local` embedded index; fill it with `flask search reindex "
            "--target embedded`",
            default_text="unset: next to a SQLite database file (`instance/bazaar.db` -> "
            "`instance/bazaar.db.search`), else `instance/search-index`"),
    # search/ resolves unset to its packaged list (core names no domain package's files).
    Setting("SEARCH_SYNONYMS_FILE", "search", Text(), None,
            "the curated synonym list (Solr format, docs/search.md); a missing or malformed "
            "file stops start-up with one line naming it and the line",
            default_text="unset (the packaged `search/synonyms.txt`)"),
    # billing
    Setting("STRIPE_SECRET_KEY", "billing", Text(), None,
            "Stripe's secret API key; unset: the local provider (a labelled test mode)",
            secret=True),
    Setting("STRIPE_WEBHOOK_SECRET", "billing", Text(), None,
            "the signing secret (`whsec_...`) of our webhook endpoint at Stripe; required "
            "with `STRIPE_SECRET_KEY`", secret=True),
    Setting("STRIPE_CONNECT_WEBHOOK_SECRET", "billing", Text(), None,
            "the signing secret of the Connect endpoint (same URL) for partners' "
            "`account.updated` and `payout.*` events", secret=True),
    Setting("STRIPE_API_BASE", "billing", WebAddress(), None,
            "another server speaking Stripe's API, such as stripe-mock",
            default_text="unset (`https://api.stripe.com`)"),
    # billing/providers.py keeps the same numbers (a test checks): the most a call may
    # take leaves a request 5 s of gunicorn's 30 s worker timeout.
    Setting("STRIPE_CALL_BUDGET", "billing", Number(2.0, 25.0), 12.0,
            "seconds one Stripe call may take, retries included (below gunicorn's 30 s "
            "worker timeout)"),
    Setting("STRIPE_METER_EVENTS", "billing", Choice(STRIPE_METER_EVENT_MODES), "stream",
            "how usage reaches Stripe: `stream` (v2 meter event stream, batches of 100) or "
            "`v1` (one event a call; what stripe-mock serves)"),
    Setting("USAGE_SENDER", "billing", Choice(SENDER_MODES), _sender_default,
            "`thread`: each web process sends reported usage after commit and retries; "
            "`off`: only the worker or `flask billing usage-sync`",
            default_text=SENDER_DEFAULT_TEXT),
    Setting("USAGE_SEND_CONCURRENCY", "billing", WholeNumber(1, 32), 8,
            "provider calls each usage sender has in flight at once"),
    *(_fee(tier, default) for tier, default in FEE_TIERS.items()),
    # webhooks
    Setting("WEBHOOK_SENDER", "webhooks", Choice(SENDER_MODES), _sender_default,
            "`thread`: each web process sends partner webhooks after commit and retries "
            "due ones; `off`: only the worker or `flask webhooks deliver`",
            default_text=SENDER_DEFAULT_TEXT),
    Setting("WEBHOOK_TIMEOUT", "webhooks", Number(0.1, 60.0), 5.0,
            "seconds one delivery may take in all, connect to last byte"),
    Setting("WEBHOOK_MAX_ATTEMPTS", "webhooks", WholeNumber(1, 50), 12,
            "attempts before a delivery is marked failed"),
    Setting("WEBHOOK_ALLOW_PRIVATE_HOSTS", "webhooks", TrueFalse(), lambda d: d.local,
            "whether webhooks may go to loopback/private/link-local addresses (in "
            "production it would reach the internal network)", default_text=LOCAL_ONLY_TEXT),
    # API
    Setting("API_RATE_LIMIT", "API", RateLimit(), "600 per minute",
            "Partner API requests per API key"),
    # prune
    _prune("PRUNE_GRACE_DAYS", 30, 1, 365, "days between flagging a listing and delisting it"),
    _prune("PRUNE_ARCHIVE_AFTER_DAYS", 90, 1, 3650,
           "days a listing stays delisted before it is archived"),
    _prune("PRUNE_NO_RELEASE_DAYS", 540, 30, 3650,
           "days without an approved release or a listing update"),
    _prune("PRUNE_MIN_ACTIVE_INSTALLS", 3, 1, 1_000_000, "active installs a listing needs"),
    _prune("PRUNE_FEW_INSTALLS_DAYS", 90, 1, 3650,
           "days a listing may stay below that number"),
    _prune("PRUNE_FEW_INSTALLS_MIN_AGE_DAYS", 180, 0, 3650,
           "days after publication before the install rule applies"),
    _prune("PRUNE_CERTIFICATION_MAX_AGE_DAYS", 365, 30, 3650,
           "days a security review stays valid"),
    _prune("PRUNE_WEBHOOK_FAILING_DAYS", 7, 1, 365, "days a webhook endpoint may fail in a row"),
    _prune("PRUNE_NEVER_INSTALLED_DAYS", 180, 1, 3650,
           "days after approval a listing may stay without any install"),
    _prune("PRUNE_BATCH_SIZE", 500, 1, 10_000, "listings changed per transaction"),
    Setting("PRUNE_RULES_OFF", "prune", NameList(PRUNE_RULE_NAMES), frozenset(),
            "rules switched off, e.g. `webhook_failing,never_installed`",
            default_text="empty"),
    # observability
    Setting("LOG_FORMAT", "observability", Choice(LOG_FORMATS), "text",
            "`text` log lines, or `json`: one JSON object per line with the request id"),
    Setting("METRICS_TOKEN", "observability", Text(min_length=16, no_spaces=True), None,
            "unset: `/metrics` answers loopback only; set: only requests with "
            "`Authorization: Bearer <token>`", secret=True),
    # Read by prometheus_client itself when it is imported; checked here so a typo stops
    # start-up instead of breaking every /metrics scrape.
    Setting("PROMETHEUS_MULTIPROC_DIR", "observability", WritableDirectory(), None,
            "where every gunicorn worker writes its metrics, so `/metrics` sums them"),
)
SECTIONS = ("core", "mail", "accounts", "search", "billing", "webhooks", "API", "prune",
            "observability")
BY_KEY = {setting.config_key: setting for setting in SETTINGS}


def load_config(instance_path: Path, environ: Mapping[str, str] = os.environ,
                overrides: Mapping[str, Any] | None = None) -> dict:
    """Build the Flask config: each setting from ``overrides`` (tests), else the
    environment, else its default, always through its parser. Other override keys are
    passed through as given. Raises ``ConfigError`` naming the first bad setting."""
    overrides = dict(overrides or {})
    config: dict[str, Any] = {}
    env = None
    for setting in SETTINGS:
        key = setting.config_key
        raw = overrides[key] if key in overrides else environ.get(setting.name)
        config[key] = setting.read(raw, Defaults(env or "production", config,
                                                 Path(instance_path)))
        if setting.name == "BAZAAR_ENV":
            env = config[key] = config[key].strip()
    local = env in LOCAL_ENVS
    if config["MAIL_USE_TLS"] and config["MAIL_USE_SSL"]:
        raise ConfigError("MAIL_USE_TLS and MAIL_USE_SSL cannot both be true: STARTTLS "
                          "(usually port 587) or TLS from the start (SMTPS, port 465), not both")
    if config["MAIL_PASSWORD"] and not config["MAIL_USERNAME"]:
        raise ConfigError("MAIL_PASSWORD is set but MAIL_USERNAME is not: set both, or neither "
                          "for a server that needs no login")
    if not local and len(config["SECRET_KEY"]) < MIN_SECRET_KEY_LENGTH:
        # Never the key itself, not even its length's worth of it.
        raise ConfigError(f"SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters "
                          f"when BAZAAR_ENV is {env!r}; e.g. python3 -c 'import secrets; "
                          "print(secrets.token_hex(32))'")
    config.update({
        # A screenshot may be 5 MB; leave room for the rest of the form.
        "MAX_CONTENT_LENGTH": 6 * 1024 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": config["SESSION_COOKIE_SECURE"],
        "PREFERRED_URL_SCHEME": "http" if local else "https",
        "WTF_CSRF_TIME_LIMIT": None,
        # When Redis can't be reached, limits fall back to per-process counts instead of
        # failing every sign-in; the per-account lockout (in the database) still holds.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_HEADERS_ENABLED": True,
    })
    config.update({key: value for key, value in overrides.items() if key not in BY_KEY})
    return config


def sends_in_process(app) -> bool:
    """Whether this app's web processes send outbox rows themselves (``BACKGROUND_WORK``)."""
    return app.config.get("BACKGROUND_WORK", "worker") == "in-process"


# --- docs/configuration.md ---------------------------------------------------------------


def _default_text(setting: Setting) -> str:
    if setting.default_text is not None:
        return setting.default_text
    value = setting.default
    if value is None:
        return "unset"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"`{value:,}`"
    if isinstance(value, float):
        return f"`{value:g}`"
    return f"`{value}`"


def render_docs() -> str:
    """``docs/configuration.md``: every setting by section, with its default and range."""
    lines = [
        "# Configuration",
        "",
        "<!-- Generated from core/settings.py by `python -m core.settings > "
        "docs/configuration.md`; a test fails when this file and the table differ. -->",
        "",
        "Every setting is an environment variable. A value set in the environment wins over "
        "the default; an empty value counts as unset. Each value is checked at start-up: a "
        "bad one stops `flask`, gunicorn and the scripts with one line naming the setting "
        "and what it allows (a secret's value is never repeated). `BAZAAR_ENV=local` or "
        "`test` changes the defaults marked so.",
        "",
    ]
    for section in SECTIONS:
        lines += [f"## {section[0].upper() + section[1:]}", "",
                  "| setting | default | allowed | what it does |", "|---|---|---|---|"]
        for setting in SETTINGS:
            if setting.section != section:
                continue
            name = f"`{setting.name}`"
            if setting.key:
                name += f" (config key `{setting.key}`)"
            allowed = setting.parse.allowed + ("; secret" if setting.secret else "")
            lines.append(f"| {name} | {_default_text(setting)} | {allowed} | "
                         f"{setting.description} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(render_docs(), end="")
