"""The parsers of the settings table (core/settings.py): each takes a setting's name,
its raw value and whether it is secret, and returns the value or raises
``ConfigError`` naming the setting, never echoing a secret."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from email.utils import parseaddr

from limits import parse_many  # Flask-Limiter's own parser: the same syntax


class ConfigError(RuntimeError):
    """A setting is missing or has a value the app cannot run with."""


# Flask-Limiter storages Bazaar documents: one process (memory) or shared (Redis).
# https://limits.readthedocs.io/en/stable/storage.html
RATELIMIT_STORAGE_SCHEMES = ("memory", "redis", "rediss", "redis+unix", "redis+sentinel",
                             "redis+cluster")


def is_unset(raw) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


# --- the parsers ---------------------------------------------------------------------
# Each takes the setting's name, the raw value (text from the environment, or a typed
# value from an override) and whether it is secret; it returns the value or raises
# ConfigError naming the setting. ``allowed`` is the range as the docs show it.


@dataclass(frozen=True)
class WholeNumber:
    minimum: int
    maximum: int

    @property
    def allowed(self) -> str:
        return f"{self.minimum:,}–{self.maximum:,}"

    def __call__(self, name: str, raw, secret: bool = False) -> int:
        if isinstance(raw, bool) or isinstance(raw, float):
            raise ConfigError(f"{name} must be a whole number, got {raw!r}")
        try:
            value = int(str(raw).strip()) if not isinstance(raw, int) else raw
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
        if not self.minimum <= value <= self.maximum:
            raise ConfigError(f"{name} must be between {self.minimum} and {self.maximum}, "
                              f"got {value}")
        return value


@dataclass(frozen=True)
class Number:
    minimum: float
    maximum: float

    @property
    def allowed(self) -> str:
        return f"{self.minimum:g}–{self.maximum:g}"

    def __call__(self, name: str, raw, secret: bool = False) -> float:
        if isinstance(raw, bool):
            raise ConfigError(f"{name} must be a number, got {raw!r}")
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"{name} must be a number, got {raw!r}") from None
        if not self.minimum <= value <= self.maximum:  # NaN fails this too
            raise ConfigError(f"{name} must be between {self.minimum:g} and "
                              f"{self.maximum:g}, got {raw}")
        return value


@dataclass(frozen=True)
class Choice:
    choices: tuple[str, ...]

    @property
    def allowed(self) -> str:
        return ", ".join(f"`{choice}`" for choice in self.choices)

    def __call__(self, name: str, raw, secret: bool = False) -> str:
        value = str(raw).strip().lower()
        if value not in self.choices:
            raise ConfigError(f"{name} must be one of {', '.join(self.choices)}, got {raw!r}")
        return value


@dataclass(frozen=True)
class TrueFalse:
    allowed = "`true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`)"

    def __call__(self, name: str, raw, secret: bool = False) -> bool:
        if isinstance(raw, bool):
            return raw
        value = str(raw).strip().lower()
        if value in {"1", "true", "yes", "on"}:
            return True
        if value in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{name} must be true or false, got {raw!r}")


@dataclass(frozen=True)
class Text:
    """Any text; ``min_length`` and ``no_spaces`` for tokens and keys."""

    min_length: int = 1
    no_spaces: bool = False

    @property
    def allowed(self) -> str:
        if self.no_spaces:
            return f"at least {self.min_length} ASCII characters without spaces"
        return "text" if self.min_length <= 1 else f"at least {self.min_length} characters"

    def __call__(self, name: str, raw, secret: bool = False) -> str:
        value = str(raw)
        if self.no_spaces:
            if len(value) < self.min_length or not value.isascii() or any(
                    character.isspace() for character in value):
                # Never the value itself in the message: it is a secret.
                raise ConfigError(f"{name} must be at least {self.min_length} ASCII "
                                  "characters without spaces")
        elif len(value.strip()) < self.min_length:
            raise ConfigError(f"{name} must be at least {self.min_length} characters"
                              + ("" if secret else f", got {raw!r}"))
        return value


@dataclass(frozen=True)
class WebAddress:
    """An http:// or https:// address (it may hold a password: never echoed)."""

    allowed = "an `http://` or `https://` address"

    def __call__(self, name: str, raw, secret: bool = False) -> str:
        value = str(raw).strip()
        scheme, separator, rest = value.partition("://")
        if scheme.lower() not in {"http", "https"} or not separator or not rest:
            raise ConfigError(f"{name} must be an http:// or https:// address"
                              + ("" if secret else f", got {raw!r}"))
        return value


@dataclass(frozen=True)
class BaseAddress:
    """The public address of the site, for links in mail: http(s), no query or fragment;
    a trailing slash is dropped (links add their own path)."""

    allowed = "an `http://` or `https://` address without `?` or `#`"

    def __call__(self, name: str, raw, secret: bool = False) -> str:
        value = str(raw).strip()
        scheme, separator, rest = value.partition("://")
        if (scheme.lower() not in {"http", "https"} or not separator or not rest
                or rest.startswith("/") or any(c in value for c in "?#")
                or any(c.isspace() for c in value)):
            raise ConfigError(f"{name} must be an http:// or https:// address without "
                              f"? or #, got {raw!r}")
        return value.rstrip("/")


# A DNS name or an IP address: letters, digits, dots, hyphens (and colons for IPv6).
HOST_NAME = re.compile(r"[A-Za-z0-9.:\[\]-]{1,253}")


@dataclass(frozen=True)
class HostName:
    allowed = "a host name or IP address"

    def __call__(self, name: str, raw, secret: bool = False) -> str:
        value = str(raw).strip()
        if not HOST_NAME.fullmatch(value):
            raise ConfigError(f"{name} must be a host name or IP address, got {raw!r}")
        return value


@dataclass(frozen=True)
class MailAddress:
    """``name@example.com`` or ``Name <name@example.com>``; never a line break, which
    would let the value add headers to every message."""

    allowed = "an email address, optionally with a name: `Bazaar <no-reply@example.com>`"

    def __call__(self, name: str, raw, secret: bool = False) -> str:
        value = str(raw).strip()
        _, address = parseaddr(value)
        local, at, domain = address.rpartition("@")
        if (any(c in value for c in "\r\n\0") or not at or not local or not domain
                or any(c.isspace() for c in address)):
            raise ConfigError(f"{name} must be an email address such as "
                              f"'Bazaar <no-reply@example.com>', got {raw!r}")
        return value


@dataclass(frozen=True)
class DatabaseAddress:
    """A SQLAlchemy database URL; Heroku-style ``postgres://`` and plain
    ``postgresql://`` are given the psycopg 3 driver SQLAlchemy needs."""

    allowed = "`sqlite:///path` or `postgresql://user:pass@host/db`"

    def __call__(self, name: str, raw, secret: bool = False) -> str:
        value = str(raw).strip()
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                value = "postgresql+psycopg://" + value[len(prefix):]
        if not value.startswith(("sqlite:", "postgresql+psycopg://")):
            # Never the value itself: it holds the database password.
            raise ConfigError(f"{name} must start with sqlite:/// or postgresql://")
        return value


@dataclass(frozen=True)
class RateLimit:
    allowed = "limits like `10 per minute;50 per hour`"

    def __call__(self, name: str, raw, secret: bool = False) -> str:
        value = str(raw).strip()
        try:
            parse_many(value)
        except ValueError:
            raise ConfigError(f"{name} must be limits like '10 per minute;50 per hour', "
                              f"got {raw!r}") from None
        return value


@dataclass(frozen=True)
class StorageAddress:
    schemes: tuple[str, ...]

    @property
    def allowed(self) -> str:
        return ", ".join(f"`{scheme}://`" for scheme in self.schemes)

    def __call__(self, name: str, raw, secret: bool = False) -> str:
        value = str(raw).strip()
        scheme, separator, _ = value.partition("://")
        if not separator or scheme not in self.schemes:
            # Never the value itself: it may hold a password.
            raise ConfigError(f"{name} must start with one of "
                              f"{', '.join(s + '://' for s in self.schemes)}"
                              + (f"; got {scheme}://" if separator else ""))
        return value


@dataclass(frozen=True)
class Percentage:
    maximum: Decimal

    @property
    def allowed(self) -> str:
        return f"0–{self.maximum}, at most two decimals"

    def __call__(self, name: str, raw, secret: bool = False) -> Decimal:
        if isinstance(raw, bool | float):  # a float has already lost the exact cents
            raise ConfigError(f"{name} must be a percentage such as 15 or 12.5, got {raw!r}")
        try:
            value = Decimal(str(raw).strip())
        except InvalidOperation:
            raise ConfigError(f"{name} must be a percentage such as 15 or 12.5, "
                              f"got {raw!r}") from None
        if not value.is_finite() or not Decimal(0) <= value <= self.maximum:
            raise ConfigError(f"{name} must be between 0 and {self.maximum}, got {raw}")
        if value != value.quantize(Decimal("0.01")):
            raise ConfigError(f"{name} may have at most two decimals, got {raw}")
        return value


@dataclass(frozen=True)
class NameList:
    """Comma-separated names, each one of ``known``."""

    known: tuple[str, ...]

    @property
    def allowed(self) -> str:
        return "comma-separated, of " + ", ".join(f"`{name}`" for name in self.known)

    def __call__(self, name: str, raw, secret: bool = False) -> frozenset[str]:
        names = raw if isinstance(raw, list | tuple | set | frozenset) else str(raw).split(",")
        names = {str(item).strip() for item in names if str(item).strip()}
        unknown = sorted(names - set(self.known))
        if unknown:
            raise ConfigError(f"{name} names unknown rules: {', '.join(unknown)} "
                              f"(known: {', '.join(sorted(self.known))})")
        return frozenset(names)


@dataclass(frozen=True)
class WritableDirectory:
    allowed = "an existing directory this process may write to"

    def __call__(self, name: str, raw, secret: bool = False) -> str:
        path = str(raw)
        if not (os.path.isdir(path) and os.access(path, os.W_OK)):
            raise ConfigError(f"{name} must be a writable directory, got {path!r}")
        return path
