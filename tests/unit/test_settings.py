"""The one settings table (core/settings.py): every setting parses its default, every
parser kind refuses a bad value naming the setting (never echoing a secret), the
environment wins over the default, a test override goes through the same check,
production refuses to run without a real SECRET_KEY, TRUSTED_PROXIES makes limits count
the client behind an ingress, docs/configuration.md is the table, and no other module
reads the environment for a setting."""

from __future__ import annotations

import ast
import stat
from decimal import Decimal
from pathlib import Path

import pytest

from app import create_app
from core import settings as core_settings
from core.settings import BY_KEY, SETTINGS, ConfigError, load_config, render_docs

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {"BAZAAR_ENV": "production", "SECRET_KEY": "p" * 40,
              "BAZAAR_BASE_URL": "https://bazaar.example.com"}


def _parse(name: str, raw):
    setting = BY_KEY.get(name) or next(s for s in SETTINGS if s.name == name)
    return setting.parse(setting.name, raw, setting.secret)


# --- defaults -------------------------------------------------------------------------


@pytest.mark.parametrize("environ", [{"BAZAAR_ENV": "test"}, PRODUCTION],
                         ids=["test", "production"])
def test_every_setting_parses_its_default(tmp_path, environ):
    config = load_config(tmp_path, environ)
    for setting in SETTINGS:
        value = config[setting.config_key]
        if value is None:  # unset on purpose (no Stripe, no OpenSearch, ...)
            continue
        shown = value if not isinstance(value, frozenset) else ",".join(sorted(value))
        assert _parse(setting.config_key, str(shown)) == value, setting.name


def test_the_defaults_follow_the_kind_of_run(tmp_path):
    local = load_config(tmp_path, {"BAZAAR_ENV": "local"})
    production = load_config(tmp_path, PRODUCTION)
    assert (local["SESSION_COOKIE_SECURE"], production["SESSION_COOKIE_SECURE"]) == (False, True)
    assert (local["WEBHOOK_ALLOW_PRIVATE_HOSTS"],
            production["WEBHOOK_ALLOW_PRIVATE_HOSTS"]) == (True, False)
    assert (local["BACKGROUND_WORK"], production["BACKGROUND_WORK"]) == ("in-process", "worker")
    senders = ("WEBHOOK_SENDER", "USAGE_SENDER", "SEARCH_SYNC_SENDER")
    assert [local[name] for name in senders] == ["thread"] * 3
    assert [production[name] for name in senders] == ["off"] * 3
    # The senders follow BACKGROUND_WORK when it is set, whatever BAZAAR_ENV says.
    chosen = load_config(tmp_path, {**PRODUCTION, "BACKGROUND_WORK": "in-process"})
    assert [chosen[name] for name in senders] == ["thread"] * 3


def test_production_needs_the_sites_public_address(tmp_path):
    """Canonical links, the sitemap and mail links start with it: without it they would
    point at 127.0.0.1, which no search engine or recipient can reach."""
    without = {key: value for key, value in PRODUCTION.items() if key != "BAZAAR_BASE_URL"}
    with pytest.raises(ConfigError, match="BAZAAR_BASE_URL must be set when BAZAAR_ENV is "
                                          "'production'"):
        load_config(tmp_path, without)
    assert load_config(tmp_path, {"BAZAAR_ENV": "local"})["BAZAAR_BASE_URL"] == \
        "http://127.0.0.1:5000"


def test_each_setting_is_in_one_known_section_with_a_description():
    names = [setting.name for setting in SETTINGS]
    assert len(names) == len(set(names))
    for setting in SETTINGS:
        assert setting.section in core_settings.SECTIONS, setting.name
        assert setting.description and "|" not in setting.description, setting.name


# --- every parser refuses a bad value, naming the setting ------------------------------

BAD_VALUES = [
    ("PRUNE_GRACE_DAYS", "-1", "between 1 and 365"),
    ("BAZAAR_PAGE_SIZE", "many", "whole number"),
    ("OPENSEARCH_TIMEOUT", "fast", "must be a number"),
    ("WEBHOOK_TIMEOUT", "0", "between 0.1 and 60"),
    ("BACKGROUND_WORK", "cron", "must be one of worker, in-process"),
    ("WEBHOOK_ALLOW_PRIVATE_HOSTS", "maybe", "must be true or false"),
    ("METRICS_TOKEN", "short s3cret", "at least 16 ASCII characters"),
    ("OPENSEARCH_URL", "ftp://admin:s3cret@search.internal", "http:// or https://"),
    ("DATABASE_URL", "mysql://root:s3cret@db/bazaar", "must start with sqlite:/// or"),
    ("API_RATE_LIMIT", "lots", "limits like"),
    ("RATELIMIT_STORAGE_URI", "mongodb://user:s3cret@db/limits", "must start with one of"),
    ("BILLING_FEE_PERCENT_SELECT", "12.345", "at most two decimals"),
    ("BILLING_FEE_PERCENT_PREMIER", "NaN", "between 0 and 50"),
    ("PRUNE_RULES_OFF", "webhook_failing,no_such_rule", "unknown rules: no_such_rule"),
    ("PROMETHEUS_MULTIPROC_DIR", "/no/such/dir", "writable directory"),
    ("SEARCH_EMBEDDED_INDEX", "tantivy", "must be one of local, database"),
    ("CACHE_URL", "memcached://user:s3cret@cache:11211", "must start with one of"),
    ("CATALOG_CACHE_SECONDS", "-5", "between 0 and 86400"),
    ("COMPRESS_RESPONSES", "gzip", "must be true or false"),
    ("SECRET_KEY", "s3cret-but-short", "at least 32 characters"),
    ("MAIL_SERVER", "smtp.example.com\r\nRCPT TO:<x@evil.test>", "a host name"),
    ("MAIL_PORT", "0", "between 1 and 65535"),
    ("MAIL_FROM", "Bazaar <no-reply>", "an email address"),
    ("MAIL_FROM", "Bazaar <a@example.com>\r\nBcc: x@evil.test", "an email address"),
    ("BAZAAR_BASE_URL", "bazaar.example.com", "an http:// or https:// address"),
    ("BAZAAR_BASE_URL", "https://bazaar.example.com/?next=1", "an http:// or https:// address"),
]


@pytest.mark.parametrize("name, raw, words", BAD_VALUES, ids=[row[0] for row in BAD_VALUES])
def test_a_bad_value_is_refused_naming_the_setting(tmp_path, name, raw, words):
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, {**PRODUCTION, name: raw})
    message = str(caught.value)
    assert message.startswith(name), message
    assert words in message
    if next(s for s in SETTINGS if s.name == name).secret:
        assert "s3cret" not in message


def test_every_kind_of_parser_has_a_bad_value_above():
    tested = {type(next(s for s in SETTINGS if s.name == name).parse) for name, _, _ in BAD_VALUES}
    used = {type(setting.parse) for setting in SETTINGS}
    assert used <= tested


def test_the_call_budget_and_concurrency_ranges_match_billing():
    from billing.interfaces import DEFAULT_CALL_BUDGET, MAX_CALL_BUDGET, MIN_CALL_BUDGET
    from billing.usage_sender import DEFAULT_SEND_CONCURRENCY, MAX_SEND_CONCURRENCY

    budget = BY_KEY["STRIPE_CALL_BUDGET"]
    assert (budget.default, budget.parse.minimum, budget.parse.maximum) == \
        (DEFAULT_CALL_BUDGET, MIN_CALL_BUDGET, MAX_CALL_BUDGET)
    concurrency = BY_KEY["USAGE_SEND_CONCURRENCY"]
    assert (concurrency.default, concurrency.parse.maximum) == \
        (DEFAULT_SEND_CONCURRENCY, MAX_SEND_CONCURRENCY)


def test_the_domain_names_in_the_table_are_the_domains_own():
    from listings.models import PartnerTier
    from listings.prune_models import PruneRule
    from listings.prune_rules import FIELDS, RULES_OFF_SETTING

    assert set(core_settings.PRUNE_RULE_NAMES) == {str(rule) for rule in PruneRule}
    assert set(core_settings.FEE_TIERS) == {str(tier) for tier in PartnerTier}
    prune = {s.name for s in SETTINGS if s.section == "prune"}
    assert prune == set(FIELDS) | {RULES_OFF_SETTING}


# --- precedence, and overrides checked like the environment ----------------------------


def test_the_environment_wins_over_the_default(tmp_path):
    assert load_config(tmp_path, {"BAZAAR_ENV": "test"})["PAGE_SIZE"] == 24
    config = load_config(tmp_path, {"BAZAAR_ENV": "test", "BAZAAR_PAGE_SIZE": "12",
                                    "BILLING_FEE_PERCENT_PREMIER": "7.5",
                                    "WEBHOOK_ALLOW_PRIVATE_HOSTS": "no"})
    assert config["PAGE_SIZE"] == 12
    assert config["BILLING_FEE_PERCENT_PREMIER"] == Decimal("7.5")
    assert config["WEBHOOK_ALLOW_PRIVATE_HOSTS"] is False
    # An empty value counts as unset.
    assert load_config(tmp_path, {"BAZAAR_ENV": "test", "BAZAAR_PAGE_SIZE": ""})["PAGE_SIZE"] == 24


def test_an_override_wins_over_the_environment_and_is_checked_the_same_way(tmp_path):
    environ = {"BAZAAR_ENV": "test", "PRUNE_GRACE_DAYS": "21"}
    assert load_config(tmp_path, environ, {"PRUNE_GRACE_DAYS": 14})["PRUNE_GRACE_DAYS"] == 14
    with pytest.raises(ConfigError, match="PRUNE_GRACE_DAYS must be between 1 and 365"):
        load_config(tmp_path, environ, {"PRUNE_GRACE_DAYS": -1})


@pytest.mark.parametrize("override, words", [
    ({"API_RATE_LIMIT": "as many as you like"}, "API_RATE_LIMIT must be limits like"),
    ({"WEBHOOK_TIMEOUT": 0}, "WEBHOOK_TIMEOUT must be between 0.1 and 60"),
    ({"WEBHOOK_SENDER": "cron"}, "WEBHOOK_SENDER must be one of thread, off"),
    ({"BILLING_FEE_PERCENT_SELECT": "99"}, "BILLING_FEE_PERCENT_SELECT must be between 0 and 50"),
])
def test_a_bad_override_stops_create_app(tmp_path, override, words):
    with pytest.raises(ConfigError, match=words):
        create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'bazaar.db'}",
                    "UPLOAD_FOLDER": str(tmp_path / "uploads"), **override})


def test_a_bad_api_rate_limit_in_the_environment_stops_start_up(tmp_path, monkeypatch):
    monkeypatch.setenv("API_RATE_LIMIT", "unlimited")
    with pytest.raises(ConfigError, match="API_RATE_LIMIT must be limits like"):
        create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'bazaar.db'}",
                    "UPLOAD_FOLDER": str(tmp_path / "uploads")})


# --- SECRET_KEY -------------------------------------------------------------------------


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY must be set, at least 32 characters"):
        load_config(tmp_path, {"BAZAAR_ENV": "production"})
    assert not (tmp_path / "secret_key").exists(), "no key quietly generated"


def test_production_refuses_a_short_secret_key_without_echoing_it(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY must be at least 32 characters") as caught:
        load_config(tmp_path, {"BAZAAR_ENV": "staging", "SECRET_KEY": "hunter2-hunter2",
                               "BAZAAR_BASE_URL": "https://staging.example.com"})
    assert "hunter2" not in str(caught.value)
    assert load_config(tmp_path, PRODUCTION)["SECRET_KEY"] == PRODUCTION["SECRET_KEY"]


def test_local_and_test_runs_keep_the_generated_key(tmp_path):
    first = load_config(tmp_path, {"BAZAAR_ENV": "local"})["SECRET_KEY"]
    key_file = tmp_path / "secret_key"
    assert len(first) >= 32 and key_file.read_text() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_config(tmp_path, {"BAZAAR_ENV": "test"})["SECRET_KEY"] == first
    # A short key is a developer's choice on a laptop.
    short = load_config(tmp_path, {"BAZAAR_ENV": "local", "SECRET_KEY": "dev"})
    assert short["SECRET_KEY"] == "dev"


# --- TRUSTED_PROXIES ------------------------------------------------------------------


def _sign_in_statuses(app, client_address: str, attempts: int) -> list[int]:
    client = app.test_client()
    return [client.post("/account/login", data={"email": "a@b.c", "password": "x"},
                        headers={"X-Forwarded-For": client_address},
                        environ_base={"REMOTE_ADDR": "10.0.0.2"}).status_code  # the ingress
            for _ in range(attempts)]


@pytest.mark.parametrize("proxies, second_client_limited", [(0, True), (1, False)])
def test_behind_a_trusted_proxy_limits_count_each_client(database_url, tmp_path, proxies,
                                                          second_client_limited):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url,
                      "UPLOAD_FOLDER": str(tmp_path / "uploads"), "RATELIMIT_ENABLED": True,
                      "LOGIN_RATE_LIMIT": "2 per minute", "TRUSTED_PROXIES": proxies,
                      "WEBHOOK_SENDER": "off", "USAGE_SENDER": "off",
                      "SEARCH_SYNC_SENDER": "off"})
    try:
        assert _sign_in_statuses(app, "203.0.113.7", 3)[-1] == 429
        second = _sign_in_statuses(app, "198.51.100.4", 1)[0]
        assert (second == 429) is second_client_limited
    finally:
        app.extensions["bazaar.engine"].dispose()


def test_trusted_proxies_is_a_small_whole_number(tmp_path):
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES must be between 0 and 5"):
        load_config(tmp_path, {"BAZAAR_ENV": "test", "TRUSTED_PROXIES": "10"})


# --- the docs and the one place that reads the environment -------------------------------


def test_the_configuration_doc_is_generated_from_the_table():
    committed = (ROOT / "docs" / "configuration.md").read_text()
    assert committed == render_docs(), \
        "docs/configuration.md is stale: run python -m core.settings > docs/configuration.md"
    for setting in SETTINGS:
        assert f"| `{setting.name}`" in committed


# Folders that are not the app: tooling, tests, benchmarks, e2e journeys, demo data.
NOT_THE_APP = {"scripts", "tests", "bench", "e2e", "demo", ".venv", ".cache", "node_modules",
               "instance"}
# Alembic's env.py runs under the `alembic` command too, where no app (and so no
# app.config) exists: DATABASE_URL is its only way to find the database.
ALLOWED_READERS = {"core/settings.py", "migrations/env.py"}


def _reads_environment(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv", "environb"} \
                and isinstance(node.value, ast.Name) and node.value.id == "os":
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "os" and any(
                alias.name in {"environ", "getenv", "environb"} for alias in node.names):
            lines.append(node.lineno)
    return lines


def test_no_module_but_the_settings_reads_the_environment():
    offenders = []
    paths = [*ROOT.glob("*.py")]
    for folder in ROOT.iterdir():
        if folder.is_dir() and folder.name not in NOT_THE_APP and not folder.name.startswith("."):
            paths += folder.rglob("*.py")
    assert len(paths) > 50  # the packages really were looked at
    for path in paths:
        relative = path.relative_to(ROOT)
        if relative.as_posix() in ALLOWED_READERS:
            continue
        lines = _reads_environment(ast.parse(path.read_text(), str(path)))
        offenders += [f"{relative}:{line}" for line in lines]
    assert not offenders, f"settings read outside core/settings.py: {offenders}"


def test_the_check_finds_an_environment_read():
    source = "import os\nfrom os import getenv\nlimit = os.environ.get('X')\n"
    assert _reads_environment(ast.parse(source)) == [2, 3]
