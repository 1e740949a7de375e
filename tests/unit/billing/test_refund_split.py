"""Splitting a refund like the charge it gives back: negative, exact, half up on the
running total so partial refunds give back exactly the charge's fee."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.refunds import RefundError, minor_units
from billing.revenue import split_refund, split_revenue

PERCENT = Decimal("12.5")


def test_a_full_refund_is_the_charge_negated():
    charge = split_revenue(1999, "eur", PERCENT)
    refund = split_refund(charge.gross, charge.platform_fee, 0, 0, 1999, "eur", PERCENT)
    assert (refund.gross, refund.platform_fee, refund.partner_net) == (-1999, -250, -1749)
    assert refund.currency == "eur" and refund.fee_percent == PERCENT


@pytest.mark.parametrize("amount,fee", [
    (1, 0),       # 0.125 of a cent rounds down
    (4, 1),       # 0.5 rounds half up
    (1000, 125),  # 125.06
    (12, 2),      # 1.5 rounds half up
])
def test_a_partial_refund_rounds_half_up_and_adds_up(amount, fee):
    refund = split_refund(1999, 250, 0, 0, amount, "eur", PERCENT)
    assert refund.platform_fee == -fee
    assert refund.platform_fee + refund.partner_net == refund.gross == -amount
    assert isinstance(refund.platform_fee, int) and isinstance(refund.partner_net, int)


def test_many_small_refunds_give_back_exactly_the_charges_fee_and_net():
    gross, fee = 1999, 250
    refunded_gross = refunded_fee = refunded_net = 0
    for amount in [333] * 6 + [1]:  # 1999 in seven pieces, each rounding on its own
        refund = split_refund(gross, fee, refunded_gross, refunded_fee, amount, "eur", PERCENT)
        refunded_gross -= refund.gross
        refunded_fee -= refund.platform_fee
        refunded_net -= refund.partner_net
    assert (refunded_gross, refunded_fee, refunded_net) == (1999, 250, 1749)


def test_refunds_take_integers_and_never_more_than_remains():
    with pytest.raises(TypeError):
        split_refund(1999, 250, 0, 0, 5.0, "eur", PERCENT)
    with pytest.raises(ValueError):
        split_refund(1999, 250, 1500, 188, 500, "eur", PERCENT)
    with pytest.raises(ValueError):
        split_refund(1999, 250, 0, 0, 0, "eur", PERCENT)


@pytest.mark.parametrize("text,currency,minor", [
    ("12.50", "usd", 1250), ("0.01", "eur", 1), ("7", "usd", 700), ("500", "jpy", 500),
])
def test_amounts_in_major_units_become_exact_minor_units(text, currency, minor):
    assert minor_units(text, currency) == minor


@pytest.mark.parametrize("text", ["", "abc", "1.005", "NaN", "Infinity", "0", "-1", "1e400"])
def test_malformed_amounts_are_refused_with_a_message(text):
    with pytest.raises(RefundError) as raised:
        minor_units(text, "usd")
    assert raised.value.bad_input and str(raised.value)


def test_zero_decimal_currencies_take_whole_amounts():
    with pytest.raises(RefundError, match="at most 0 decimals"):
        minor_units("5.5", "jpy")
