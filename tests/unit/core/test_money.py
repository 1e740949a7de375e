"""Prices as people read them: Babel's currency formats, per locale and per currency."""

from __future__ import annotations

import pytest
from flask import Flask, render_template_string

from core.money import (
    SUPPORTED_LOCALES,
    currency_choices,
    format_money,
    format_units,
    major_to_minor_digits,
    request_locale,
)
from core.templating import register_template_helpers


@pytest.mark.parametrize(("minor", "currency", "locale", "expected"), [
    (2900, "usd", "en_US", "$29.00"),
    (2900, "USD", "en_US", "$29.00"),
    (123456, "usd", "en_US", "$1,234.56"),
    (-1999, "usd", "en_US", "-$19.99"),
    (2900, "eur", "en_US", "€29.00"),
    (2900, "gbp", "en_GB", "£29.00"),
    # EUR in Germany: comma decimals, dot thousands, the sign after the amount.
    (123456, "eur", "de_DE", "1.234,56\xa0€"),
    (2900, "eur", "fr_FR", "29,00\xa0€"),
    # JPY has no minor unit: 1000 minor units are ¥1,000, not ¥10.00.
    (1000, "jpy", "en_US", "¥1,000"),
    (1000, "jpy", "ja_JP", "￥1,000"),
    (0, "usd", "en_US", "$0.00"),
])
def test_format_money_per_locale_and_currency(minor, currency, locale, expected):
    assert format_money(minor, currency, locale) == expected


def test_minor_unit_digits_come_from_the_currency():
    assert major_to_minor_digits("usd") == 2
    assert major_to_minor_digits("jpy") == 0
    assert major_to_minor_digits("kwd") == 3
    # Kuwaiti dinars have three decimals: 1500 minor units are 1.500 KWD.
    assert format_money(1500, "kwd", "en_US") == "KWD\xa01.500"


def test_nothing_to_format_is_empty():
    assert format_money(None, "usd") == ""


def test_counts_are_grouped_per_locale():
    # "(1000 included)" beside "1,000 contacts" was the finding.
    assert format_units(1000, "en_US") == "1,000"
    assert format_units(1000, "de_DE") == "1.000"


def test_currency_choices_lead_with_the_common_ones_then_every_iso_code():
    choices = currency_choices()
    codes = [code for code, _ in choices]
    assert codes[:4] == ["usd", "eur", "gbp", "jpy"]
    assert "chf" in codes and "sek" in codes
    assert len(codes) == len(set(codes)) > 100
    assert dict(choices)["eur"] == "EUR — Euro"


def test_locale_is_negotiated_from_accept_language():
    app = Flask(__name__)
    with app.test_request_context(headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}):
        assert request_locale() == "de_DE"
    with app.test_request_context(headers={"Accept-Language": "de"}):
        assert request_locale() == "de_DE"
    with app.test_request_context(headers={"Accept-Language": "tlh, xx-YY"}):
        assert request_locale() == "en_US"
    with app.test_request_context():
        assert request_locale() == "en_US"
    assert "en_US" in SUPPORTED_LOCALES


def test_the_money_filter_follows_the_request_locale():
    app = Flask(__name__)
    register_template_helpers(app)
    template = "{{ 123456|money('eur') }} · {{ 1000|units }}"
    with app.test_request_context(headers={"Accept-Language": "de-DE"}):
        assert render_template_string(template) == "1.234,56\xa0€ · 1.000"
    with app.test_request_context(headers={"Accept-Language": "en-US"}):
        assert render_template_string(template) == "€1,234.56 · 1,000"
    with app.test_request_context():
        assert render_template_string("{{ 2900|money('gbp') }}") == "£29.00"
