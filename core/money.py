"""Money for people: integer minor units formatted per locale and currency with Babel.

Each currency has its own number of minor-unit digits (USD 2, JPY 0, KWD 3), taken
from the CLDR data Babel ships (``get_currency_precision``), so 1000 minor units of
JPY are "¥1,000" and of USD "$10.00". The locale is the request's Accept-Language
negotiated against the few locales we support, else ``DEFAULT_LOCALE``.
https://babel.pocoo.org/en/latest/api/numbers.html#babel.numbers.format_currency
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import cache, lru_cache

from babel import negotiate_locale
from babel.numbers import (
    format_currency,
    format_decimal,
    get_currency_name,
    get_currency_precision,
    list_currencies,
)
from flask import has_request_context, request
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

DEFAULT_LOCALE = "en_US"
# The locales prices are written in; a browser asking for another gets the default.
SUPPORTED_LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "ja_JP")
# What the partner's currency list starts with; every other ISO 4217 code follows.
COMMON_CURRENCIES = ("usd", "eur", "gbp", "jpy", "cad", "aud", "chf", "sek", "nok", "dkk")
# Babel also lists historic codes and funds; these are the ones no one sells in.
_NOT_FOR_SALE = {"xxx", "xts", "xdr", "xau", "xag", "xpd", "xpt", "xba", "xbb", "xbc", "xbd",
                 "xsu", "xua", "che", "chw", "clf", "cou", "mxv", "usn", "uyi", "uyw", "bov"}
_LETTERS_THEN_DIGIT = re.compile(r"([^\W\d_])(\d)")
_DIGIT_THEN_LETTERS = re.compile(r"(\d)([^\W\d_])")


def major_to_minor_digits(currency: str) -> int:
    """How many minor-unit digits ``currency`` has (USD 2, JPY 0, KWD 3)."""
    return get_currency_precision((currency or "usd").upper())


def to_major(minor: int, currency: str) -> Decimal:
    """Integer minor units as an exact amount in major units: 1999 usd -> 19.99."""
    return Decimal(int(minor)).scaleb(-major_to_minor_digits(currency))


def request_locale() -> str:
    """The locale to write prices in: the request's Accept-Language negotiated against
    ``SUPPORTED_LOCALES`` ("de" finds "de_DE"), else ``DEFAULT_LOCALE``."""
    if not has_request_context():
        return DEFAULT_LOCALE
    # A page formats many prices and browsers send few distinct headers: negotiate each once.
    return _negotiated_locale(request.headers.get("Accept-Language", ""))


@lru_cache(maxsize=512)
def _negotiated_locale(accept_language: str) -> str:
    wanted = [value.replace("-", "_")
              for value in parse_accept_header(accept_language, LanguageAccept).values()]
    found = negotiate_locale(wanted, SUPPORTED_LOCALES, sep="_")
    if found is None:
        # A bare language ("de") names no territory: take our locale of that language.
        languages = {code.split("_")[0]: code for code in reversed(SUPPORTED_LOCALES)}
        found = next((languages[w.split("_")[0].lower()] for w in wanted
                      if w.split("_")[0].lower() in languages), None)
    return found or DEFAULT_LOCALE


def format_money(minor: int | None, currency: str = "usd", locale: str | None = None) -> str:
    """Integer minor units as a price for people: 1999, "usd", "en_US" -> "$19.99";
    123456, "eur", "de_DE" -> "1.234,56 €". ``None`` is "" (nothing to show)."""
    if minor is None:
        return ""
    return _formatted_money(int(minor), (currency or "usd").upper(), locale or request_locale())


# Babel parses the locale's currency pattern on every call (about 0.15 ms); a catalog
# shows the same few prices again and again, so the texts are kept.
@lru_cache(maxsize=4096)
def _formatted_money(minor: int, code: str, locale: str) -> str:
    text = format_currency(to_major(minor, code), code, locale=locale)
    # CLDR's currency spacing, which Babel leaves out: a symbol made of letters ("CHF")
    # is kept off the digits by a no-break space ("CHF 0.05", not "CHF0.05").
    # https://www.unicode.org/reports/tr35/tr35-numbers.html#Currencies
    return _LETTERS_THEN_DIGIT.sub("\\1\xa0\\2", _DIGIT_THEN_LETTERS.sub("\\1\xa0\\2", text))


def format_units(count: int | None, locale: str | None = None) -> str:
    """A count as people read it: 1000 -> "1,000" (en_US), "1.000" (de_DE)."""
    if count is None:
        return ""
    return format_decimal(int(count), locale=locale or request_locale())


@cache
def currency_choices(locale: str = DEFAULT_LOCALE) -> list[tuple[str, str]]:
    """ISO 4217 codes for a currency select, as ``(code, "EUR — Euro")``: the common
    ones first, then every other current code alphabetically."""
    known = {code.lower() for code in list_currencies()} - _NOT_FOR_SALE
    rest = sorted(known - set(COMMON_CURRENCIES))
    return [(code, f"{code.upper()} — {get_currency_name(code.upper(), locale=locale)}")
            for code in (*COMMON_CURRENCIES, *rest)]


def is_currency(code: str) -> bool:
    """Whether ``code`` is an ISO 4217 currency one can price an app in."""
    return (code or "").lower() in dict(currency_choices())
