"""Configuration, read from environment variables.

Everything secret comes from the environment. For a local run with no
``SECRET_KEY`` set, a random key is generated once and kept in
``instance/secret_key`` so sessions survive restarts.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


class ConfigError(RuntimeError):
    """A setting is missing or has a value the app cannot run with."""


def _local_secret_key(instance_path: Path) -> str:
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


def int_setting(name: str, raw, default: int, minimum: int, maximum: int) -> int:
    """``raw`` (from the environment or an override) as a whole number from ``minimum``
    to ``maximum``; ``default`` when unset or empty; else ``ConfigError`` naming it."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be between {minimum} and {maximum}, got {value}")
    return value


def float_setting(name: str, raw, default: float, minimum: float, maximum: float) -> float:
    """Like ``int_setting``, for a number that may have a fraction (seconds)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return default
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be between {minimum:g} and {maximum:g}, got {raw}")
    return value


def choice_setting(name: str, raw, choices: tuple[str, ...], default: str) -> str:
    """``raw`` as one of ``choices`` (case and surrounding space ignored); ``default``
    when unset or empty; else ``ConfigError`` naming the setting and its choices."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return default
    value = str(raw).strip().lower()
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return value


def _metrics_token_setting() -> str | None:
    token = os.environ.get("METRICS_TOKEN") or None
    # Never the value itself in the message: it is a secret.
    if token is not None and (len(token) < 16 or not token.isascii() or " " in token):
        raise ConfigError("METRICS_TOKEN must be at least 16 ASCII characters without spaces")
    return token


def _multiproc_dir_setting() -> str | None:
    # Read by prometheus_client itself when it is imported; checked here so a typo stops
    # start-up instead of breaking every /metrics scrape.
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
    if path is not None and not (os.path.isdir(path) and os.access(path, os.W_OK)):
        raise ConfigError(f"PROMETHEUS_MULTIPROC_DIR must be a writable directory, got {path!r}")
    return path


def _int_setting(name: str, default: int, minimum: int, maximum: int) -> int:
    return int_setting(name, os.environ.get(name), default, minimum, maximum)


def _float_setting(name: str, default: float, minimum: float, maximum: float) -> float:
    return float_setting(name, os.environ.get(name), default, minimum, maximum)


BACKGROUND_WORK_MODES = ("worker", "in-process")
# How usage reaches Stripe: its v2 meter event stream (batches) or v1 meter events
# (one call each; what stripe-mock serves). billing/stripe_provider.py says more.
STRIPE_METER_EVENT_MODES = ("stream", "v1")


def sends_in_process(app) -> bool:
    """Whether this app's web processes send outbox rows themselves (``BACKGROUND_WORK``)."""
    return app.config.get("BACKGROUND_WORK", "worker") == "in-process"


# Flask-Limiter storages Bazaar documents: one process (memory) or shared (Redis).
# https://limits.readthedocs.io/en/stable/storage.html
RATELIMIT_STORAGE_SCHEMES = ("memory", "redis", "rediss", "redis+unix", "redis+sentinel",
                             "redis+cluster")


def _rate_limit_setting(name: str, default: str) -> str:
    from limits import parse_many

    value = os.environ.get(name) or default
    try:
        parse_many(value)
    except ValueError:
        raise ConfigError(f"{name} must be limits like '10 per minute;50 per hour', "
                          f"got {value!r}") from None
    return value


def _ratelimit_storage_setting() -> str:
    value = os.environ.get("RATELIMIT_STORAGE_URI") or "memory://"
    scheme, separator, _ = value.partition("://")
    if not separator or scheme not in RATELIMIT_STORAGE_SCHEMES:
        # Never the value itself: it may hold a password.
        raise ConfigError("RATELIMIT_STORAGE_URI must start with one of "
                          f"{', '.join(s + '://' for s in RATELIMIT_STORAGE_SCHEMES)}"
                          + (f"; got {scheme}://" if separator else ""))
    return value


def load_config(instance_path: Path) -> dict:
    """Build the Flask config mapping from the environment.

    ``BAZAAR_ENV=local`` marks a plain-HTTP run on a developer machine: the
    only difference is that cookies are not marked Secure.
    """
    env = os.environ.get("BAZAAR_ENV", "production")
    local = env in {"local", "test"}
    secret_key = os.environ.get("SECRET_KEY") or _local_secret_key(instance_path)
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'bazaar.db'}"
    # Heroku-style URLs name the driver "postgres"; SQLAlchemy wants psycopg 3.
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgres://"):]
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]

    return {
        "BAZAAR_ENV": env,
        # Who sends what the outboxes hold (partner webhooks, usage, search changes):
        # "worker": web processes only enqueue and `flask --app app worker` sends;
        # "in-process": each web process sends too (a laptop run, the tests).
        "BACKGROUND_WORK": choice_setting("BACKGROUND_WORK", os.environ.get("BACKGROUND_WORK"),
                                          BACKGROUND_WORK_MODES,
                                          "in-process" if local else "worker"),
        "SECRET_KEY": secret_key,
        "DATABASE_URL": database_url,
        "UPLOAD_FOLDER": os.environ.get("UPLOAD_FOLDER", str(instance_path / "uploads")),
        # A screenshot may be 5 MB; leave room for the rest of the form.
        "MAX_CONTENT_LENGTH": 6 * 1024 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": not local,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": not local,
        "PREFERRED_URL_SCHEME": "http" if local else "https",
        "WTF_CSRF_TIME_LIMIT": None,
        # memory:// counts per process; several workers or hosts need Redis to share one count.
        "RATELIMIT_STORAGE_URI": _ratelimit_storage_setting(),
        # When Redis can't be reached, limits fall back to per-process counts instead of
        # failing every sign-in; the per-account lockout (in the database) still holds.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_RATE_LIMIT": _rate_limit_setting("LOGIN_RATE_LIMIT", "10 per minute;50 per hour"),
        # Per email address, shared by every worker and host (counted in the database).
        "LOGIN_LOCKOUT_MAX_FAILURES": _int_setting("LOGIN_LOCKOUT_MAX_FAILURES", 10, 3, 100),
        "LOGIN_LOCKOUT_MINUTES": _int_setting("LOGIN_LOCKOUT_MINUTES", 15, 1, 1440),
        "PAGE_SIZE": _int_setting("BAZAAR_PAGE_SIZE", 24, 1, 200),
        # Search: OpenSearch when a URL is set, else the embedded index in the database.
        "OPENSEARCH_URL": os.environ.get("OPENSEARCH_URL") or None,
        "OPENSEARCH_INDEX": os.environ.get("OPENSEARCH_INDEX", "bazaar-listings"),
        # Short on purpose: a slow cluster must not hold pages up (they fall back).
        "OPENSEARCH_TIMEOUT": _float_setting("OPENSEARCH_TIMEOUT", 1.5, 0.1, 60.0),
        # Seconds a web request may spend applying its own search outbox rows
        # after commit; the rest is left to the background sync (search/sync.py).
        "SEARCH_SYNC_BUDGET": _float_setting("SEARCH_SYNC_BUDGET", 2.0, 0.1, 30.0),
        # Seconds between the background sync's looks for rows left behind.
        "SEARCH_SYNC_INTERVAL": _float_setting("SEARCH_SYNC_INTERVAL", 30.0, 1.0, 3600.0),
        # Observability (core/observability.py): log lines as "text" or one JSON
        # object each; who may read /metrics; where gunicorn's workers pool their metrics.
        "LOG_FORMAT": choice_setting("LOG_FORMAT", os.environ.get("LOG_FORMAT"),
                                     ("text", "json"), "text"),
        "METRICS_TOKEN": _metrics_token_setting(),
        "PROMETHEUS_MULTIPROC_DIR": _multiproc_dir_setting(),
        "STRIPE_METER_EVENTS": choice_setting(
            "STRIPE_METER_EVENTS", os.environ.get("STRIPE_METER_EVENTS"),
            STRIPE_METER_EVENT_MODES, "stream"),
    }
