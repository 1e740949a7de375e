"""Revenue share: the platform's fee on each paid invoice, set by the partner's tier.

Money never touches a float: amounts are integer minor units, rates are
Decimals, and the fee is rounded half up to a whole minor unit, so the fee and
the partner's net always add up to the gross exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


def fee_setting_name(tier: str) -> str:
    """The setting (and app.config key) of a tier's fee: ``BILLING_FEE_PERCENT_<TIER>``,
    a Decimal from 0 to 50 with at most two decimals, checked by core/settings.py."""
    return f"BILLING_FEE_PERCENT_{str(tier).upper()}"


@dataclass(frozen=True)
class RevenueSplit:
    """One invoice's money: gross = platform fee + partner net, in minor units."""

    currency: str
    gross: int
    platform_fee: int
    partner_net: int
    fee_percent: Decimal


def fee_percent(config, tier: str) -> Decimal:
    """The platform's fee for a partner tier, from the app's configuration."""
    return config[fee_setting_name(tier)]


def split_revenue(gross: int, currency: str, percent: Decimal) -> RevenueSplit:
    """Split ``gross`` minor units: the fee rounded half up, the partner gets the rest.

    Refunds and credits arrive as negative amounts and split the same way.
    """
    if isinstance(gross, bool) or not isinstance(gross, int):
        raise TypeError("gross must be an integer amount of minor units")
    if not isinstance(percent, Decimal):
        raise TypeError("percent must be a Decimal")
    magnitude = (Decimal(abs(gross)) * percent / Decimal(100)).quantize(
        Decimal(1), rounding=ROUND_HALF_UP)
    fee = int(magnitude) if gross >= 0 else -int(magnitude)
    return RevenueSplit(currency=currency, gross=gross, platform_fee=fee,
                        partner_net=gross - fee, fee_percent=percent)


def split_refund(charge_gross: int, charge_fee: int, refunded_gross: int,
                 refunded_fee: int, amount: int, currency: str,
                 percent: Decimal) -> RevenueSplit:
    """The negative split of refunding ``amount`` (> 0) minor units of a charge of
    ``charge_gross`` whose platform fee was ``charge_fee``, after earlier refunds of
    ``refunded_gross`` with fees ``refunded_fee`` (both as positive magnitudes).

    The fee given back is in the charge's own proportion, rounded half up on the
    running total (not refund by refund), so refunds that add up to the whole charge
    give back exactly its fee: no cent is lost to rounding. Fee + net = gross.
    """
    for value in (charge_gross, charge_fee, refunded_gross, refunded_fee, amount):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("refund amounts must be integers of minor units")
    if amount <= 0 or refunded_gross + amount > charge_gross:
        raise ValueError("a refund must be more than 0 and at most what remains of the charge")
    refunded_after = refunded_gross + amount
    fee_after = (Decimal(refunded_after) * Decimal(charge_fee) / Decimal(charge_gross)).quantize(
        Decimal(1), rounding=ROUND_HALF_UP)
    fee = int(fee_after) - refunded_fee
    return RevenueSplit(currency=currency, gross=-amount, platform_fee=-fee,
                        partner_net=-(amount - fee), fee_percent=percent)
