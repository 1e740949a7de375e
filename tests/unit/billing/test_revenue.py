"""Revenue share: tier fees, exact integer splits, and fee settings checked at start-up."""

from __future__ import annotations

from decimal import Decimal

import pytest

from billing.revenue import fee_percent, split_revenue
from core.settings import ConfigError, load_config


def fee_settings(tmp_path, environ=None) -> dict:
    """The app's config (core/settings.py reads and checks the fee settings)."""
    return load_config(tmp_path, {"BAZAAR_ENV": "test", **(environ or {})})


def test_default_fees_follow_the_partner_tier(tmp_path):
    settings = fee_settings(tmp_path)
    assert fee_percent(settings, "registered") == Decimal("20")
    assert fee_percent(settings, "select") == Decimal("15")
    assert fee_percent(settings, "premier") == Decimal("10")


@pytest.mark.parametrize("gross, percent, fee", [
    (2500, "20", 500),
    (999, "15", 150),      # 149.85 rounds half up to 150
    (1, "12.5", 0),        # 0.125 rounds down
    (4, "12.5", 1),        # 0.5 rounds half up
    (0, "20", 0),
    (-999, "15", -150),    # a refund splits the same way
    (10**15, "10", 10**14),
])
def test_fee_and_net_always_add_up_to_the_gross(gross, percent, fee):
    split = split_revenue(gross, "usd", Decimal(percent))
    assert split.platform_fee == fee
    assert split.platform_fee + split.partner_net == gross
    assert isinstance(split.platform_fee, int) and isinstance(split.partner_net, int)


def test_floats_never_touch_money():
    with pytest.raises(TypeError):
        split_revenue(25.0, "usd", Decimal("20"))
    with pytest.raises(TypeError):
        split_revenue(2500, "usd", 0.2)


def test_fee_settings_can_be_configured(tmp_path):
    settings = fee_settings(tmp_path, {"BILLING_FEE_PERCENT_PREMIER": "7.5"})
    assert settings["BILLING_FEE_PERCENT_PREMIER"] == Decimal("7.5")


@pytest.mark.parametrize("raw", ["-1", "51", "abc", "NaN", "Infinity", "12.345"])
def test_absurd_fee_settings_are_refused_with_the_settings_name(tmp_path, raw):
    with pytest.raises(ConfigError, match="BILLING_FEE_PERCENT_SELECT"):
        fee_settings(tmp_path, {"BILLING_FEE_PERCENT_SELECT": raw})
