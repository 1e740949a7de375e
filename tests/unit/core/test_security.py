"""Safe redirects and money formatting."""

import pytest

from core.security import is_safe_redirect, safe_next
from core.templating import format_money


@pytest.mark.parametrize("target", ["/", "/apps/x?tab=reviews", "/partner/"])
def test_local_paths_are_safe(target):
    assert is_safe_redirect(target)


@pytest.mark.parametrize("target", [
    None, "", "http://evil.example.com", "https://evil.example.com/x", "//evil.example.com",
    "/\\evil.example.com", "javascript:alert(1)", "evil.example.com", "/\x00x", "\t/x",
])
def test_other_targets_are_not(target):
    assert not is_safe_redirect(target)
    assert safe_next(target, "/home") == "/home"


@pytest.mark.parametrize("minor,currency,expected", [
    (1999, "usd", "$19.99"), (0, "usd", "$0.00"), (123456, "eur", "€1,234.56"),
    (500, "jpy", "¥500"), (5, "chf", "CHF\xa00.05"), (-250, "gbp", "-£2.50"),
])
def test_money_is_formatted_from_minor_units(minor, currency, expected):
    assert format_money(minor, currency) == expected


@pytest.mark.parametrize("raw,expected", [("3", 3), ("0", 1), ("-2", 1), ("abc", 1), ("", 1),
                                          ("1.5", 1), ("9" * 40, 1_000_000),
                                          ("9" * 4300, 1_000_000), ("9" * 5000, 1),
                                          # int() also reads these; a page number does not
                                          ("1_0", 1), (" 2 ", 1), ("+2", 1), ("\u0662", 1)])
def test_page_numbers_are_whole_and_bounded(raw, expected):
    from core.pagination import page_count, page_number

    assert page_number(raw) == expected
    assert page_count(0, 10) == 1 and page_count(21, 10) == 3
