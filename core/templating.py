"""Jinja filters and globals shared by every template."""

from __future__ import annotations

from flask import Flask

from core.db import utcnow
from core.markdown import render_markdown

CURRENCY_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "cad": "CA$", "aud": "A$", "jpy": "¥"}
ZERO_DECIMAL_CURRENCIES = {"jpy", "krw", "vnd", "clp", "isk", "ugx"}


def format_money(minor: int | None, currency: str = "usd") -> str:
    """Integer minor units to a price for people: 1999, "usd" -> "$19.99"."""
    if minor is None:
        return ""
    currency = (currency or "usd").lower()
    symbol = CURRENCY_SYMBOLS.get(currency, currency.upper() + " ")
    if currency in ZERO_DECIMAL_CURRENCIES:
        return f"{symbol}{minor:,}"
    whole, cents = divmod(abs(minor), 100)
    sign = "-" if minor < 0 else ""
    return f"{sign}{symbol}{whole:,}.{cents:02d}"


def format_date(value) -> str:
    return value.strftime("%-d %b %Y") if value else ""


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.globals.update(utcnow=utcnow)
