"""Jinja filters and globals shared by every template."""

from __future__ import annotations

from flask import Flask

from core import money
from core.db import utcnow
from core.markdown import render_markdown
from core.routing import repeated_url_for

# Stripe's zero-decimal currencies, for amounts sent to or read from the provider
# (billing/exports.py, billing/refunds.py); what people read comes from core.money.
ZERO_DECIMAL_CURRENCIES = {"jpy", "krw", "vnd", "clp", "isk", "ugx"}


def format_money(minor: int | None, currency: str = "usd") -> str:
    """Integer minor units to a price for people, in the request's locale:
    1999, "usd" -> "$19.99" (``core.money.format_money``)."""
    return money.format_money(minor, currency)


def format_date(value) -> str:
    return value.strftime("%-d %b %Y") if value else ""


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["units"] = money.format_units
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.globals.update(utcnow=utcnow, repeated_url_for=repeated_url_for)
