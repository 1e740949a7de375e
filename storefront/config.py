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


def _int_setting(name: str, default: int, minimum: int, maximum: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be between {minimum} and {maximum}, got {value}")
    return value


def _float_setting(name: str, default: float, minimum: float, maximum: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be between {minimum} and {maximum}, got {value}")
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
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour"),
        "PAGE_SIZE": _int_setting("BAZAAR_PAGE_SIZE", 24, 1, 200),
        # Search: OpenSearch when a URL is set, else the embedded index in the database.
        "OPENSEARCH_URL": os.environ.get("OPENSEARCH_URL") or None,
        "OPENSEARCH_INDEX": os.environ.get("OPENSEARCH_INDEX", "bazaar-listings"),
        # Short on purpose: a slow cluster must not hold pages up (they fall back).
        "OPENSEARCH_TIMEOUT": _float_setting("OPENSEARCH_TIMEOUT", 1.5, 0.1, 60.0),
    }
