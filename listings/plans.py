"""A listing's price plans (Basic/Pro, monthly/annual, usage tiers) and their services.

A paid listing offers one or more plans; the customer picks one at install, and it is
carried through the consent screen and checkout to the install and the subscription.
The listing keeps its pricing model, currency, unit name and trial days; each plan has
its own price per interval (flat) or unit price and included units (usage).

Source of truth: the listing's active ``ListingPlan`` rows. The listing's own price
columns (``monthly_price``, ``unit_price``, ``included_units``) mirror its first plan,
written by these services, for what reads one price per listing (the partner's listing
form, the catalog import and export); ``card_price``, ``card_interval`` and
``plan_count`` say what its card shows ("From $29.00 / month", ``card_plan``). A
listing without plan rows (imported in bulk, or made before 0023 and not paid) offers
one plan made from those columns.
A removed plan is retired, not deleted: installs and subscriptions on it keep its name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import ValidationError, field_validator
from sqlalchemy import bindparam
from sqlmodel import Field, Session, SQLModel, col, select

from core.db import utcnow
from core.money import format_money, format_units
from listings.models import Listing, PricingModel
from listings.services import ListingError, validation_messages

MAX_PLANS = 6


class PlanInterval(StrEnum):
    MONTH = "month"
    YEAR = "year"


class ListingPlanBase(SQLModel):
    name: str = Field(max_length=40)
    interval: str = Field(default=PlanInterval.MONTH, max_length=10)
    price: int = Field(default=0, description="flat price per interval, minor units")
    unit_price: int = Field(default=0, description="usage: price per unit, minor units")
    included_units: int = Field(default=0, description="usage: free units each period")


class ListingPlanCreate(ListingPlanBase):
    """A plan as a partner (or the demo) gives it; the rules of its listing's pricing
    model are checked by ``add_plan``/``update_plan``."""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = (value or "").strip()
        if not value:
            raise ValueError("is required, like Basic or Pro")
        return value

    @field_validator("interval")
    @classmethod
    def _interval(cls, value: str) -> str:
        if value not in {item.value for item in PlanInterval}:
            raise ValueError("must be month or year")
        return value

    @field_validator("price", "unit_price", "included_units")
    @classmethod
    def _amounts(cls, value: int) -> int:
        if value < 0:
            raise ValueError("must not be negative")
        if value > 100_000_000:
            raise ValueError("is too large")
        return value


class ListingPlan(ListingPlanBase, table=True):
    __tablename__ = "listing_plans"

    id: int | None = Field(default=None, primary_key=True)
    listing_id: int = Field(foreign_key="listings.id", index=True)
    position: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow)
    # Set when the partner removes the plan: no longer offered, still named on
    # the installs and subscriptions made on it.
    retired_at: datetime | None = None


class PlanNotOffered(ListingError):
    """The plan asked for is not one this listing offers (unknown, another app's, removed)."""


# --- reading -----------------------------------------------------------------------

# Built once (the app page reads it on every render); the listing is bound at each call.
_ACTIVE_PLANS = (select(ListingPlan).where(ListingPlan.listing_id == bindparam("listing_id"),
                                           col(ListingPlan.retired_at).is_(None))
                 .order_by(ListingPlan.position, ListingPlan.id))


def stored_plans(session: Session, listing_id: int) -> list[ListingPlan]:
    """The listing's active plan rows, in the partner's order."""
    return list(session.exec(_ACTIVE_PLANS, params={"listing_id": listing_id}).all())


def plans_by_id(session: Session, plan_ids) -> dict[int, ListingPlan]:
    """The plans with these ids, retired ones too (what was bought stays named), by id,
    in one query (none asked: no query)."""
    wanted = {plan_id for plan_id in plan_ids if plan_id}
    if not wanted:
        return {}
    return {plan.id: plan for plan in session.exec(
        select(ListingPlan).where(col(ListingPlan.id).in_(wanted))).all()}


def implicit_plan(listing: Listing) -> ListingPlan:
    """The one plan of a paid listing without plan rows, made from its price columns
    (not stored: its id is None)."""
    return ListingPlan(listing_id=listing.id, name="Standard", interval=PlanInterval.MONTH,
                       price=listing.monthly_price if listing.pricing_model
                       == PricingModel.FLAT_MONTHLY else 0,
                       unit_price=listing.unit_price if listing.pricing_model
                       == PricingModel.USAGE else 0,
                       included_units=listing.included_units if listing.pricing_model
                       == PricingModel.USAGE else 0)


def listing_plans(session: Session, listing: Listing) -> list[ListingPlan]:
    """What a customer can choose from: none for a free app, else the active plans
    (or the one made from the listing's columns when it has no rows)."""
    if listing.is_free:
        return []
    return stored_plans(session, listing.id) or [implicit_plan(listing)]


def chosen_plan(session: Session, listing: Listing, raw_id) -> ListingPlan | None:
    """The plan the customer picked: ``raw_id`` from a form or query string, blank for
    the first one. None for a free app. Raises ``PlanNotOffered`` for anything else
    (not a number, another listing's plan, a removed one)."""
    plans = listing_plans(session, listing)
    if not plans:
        return None
    if raw_id is None or str(raw_id).strip() == "":
        return plans[0]
    for plan in plans:
        if plan.id is not None and str(plan.id) == str(raw_id).strip():
            return plan
    raise PlanNotOffered(f"{listing.name} has no such plan. Please choose one of the plans "
                         "shown on its page.", field="plan")


def plan_of(session: Session, listing: Listing, plan_id: int | None) -> ListingPlan:
    """The plan an install or subscription was made on (retired ones too); the
    listing's first plan when none was recorded (made before plans existed)."""
    plan = session.get(ListingPlan, plan_id) if plan_id else None
    if plan is not None and plan.listing_id == listing.id:
        return plan
    plans = listing_plans(session, listing)
    return plans[0] if plans else implicit_plan(listing)


def cheapest_prices(session: Session, listing_ids: Iterable[int]) -> dict[int, int]:
    """Per listing with plan rows, its cheapest active flat price (for the search facet)."""
    ids = list(listing_ids)
    if not ids:
        return {}
    rows = session.exec(select(ListingPlan.listing_id, ListingPlan.price).where(
        col(ListingPlan.listing_id).in_(ids), col(ListingPlan.retired_at).is_(None))).all()
    cheapest: dict[int, int] = {}
    for listing_id, price in rows:
        cheapest[listing_id] = min(price, cheapest.get(listing_id, price))
    return cheapest


# --- words for people ------------------------------------------------------------------


@dataclass(frozen=True)
class PlanOffer:
    """A plan as the listing page, the consent screen and checkout say it."""

    plan: ListingPlan
    price: str  # "$29.00/month", "$0.01 per contact"
    amount: str  # the flat price alone, "$29.00"
    included: str  # "1,000 contacts included" or ""
    saving: str  # "Save $58.00 a year" or ""
    button: str  # "Buy — $290.00/year", "Start 14-day free trial, then $29.00/month"

    @property
    def value(self) -> str:
        """The plan's value in forms ("" for a listing's implicit plan)."""
        return "" if self.plan.id is None else str(self.plan.id)


def plan_price(listing: Listing, plan: ListingPlan, locale: str | None = None) -> str:
    """"$29.00/month", "$290.00/year", or for usage "$0.01 per contact"."""
    if listing.pricing_model == PricingModel.USAGE:
        return (f"{format_money(plan.unit_price, listing.currency, locale)} per "
                f"{listing.unit_name or 'unit'}")
    return f"{format_money(plan.price, listing.currency, locale)}/{plan.interval}"


def plan_included(listing: Listing, plan: ListingPlan, locale: str | None = None) -> str:
    """"1,000 contacts included" each month, or "" when nothing is."""
    if listing.pricing_model != PricingModel.USAGE or plan.included_units <= 0:
        return ""
    unit = listing.unit_name or "unit"
    plural = unit if plan.included_units == 1 or unit.endswith("s") else unit + "s"
    return f"{format_units(plan.included_units, locale)} {plural} included each month"


def annual_saving(plan: ListingPlan, plans: list[ListingPlan]) -> int:
    """What a yearly plan saves against twelve months of the monthly plan of the same
    name (minor units; 0 when there is none or it saves nothing)."""
    if plan.interval != PlanInterval.YEAR:
        return 0
    monthly = next((other for other in plans if other.interval == PlanInterval.MONTH
                    and other.name.strip().lower() == plan.name.strip().lower()), None)
    return max(0, monthly.price * 12 - plan.price) if monthly else 0


def install_button(listing: Listing, plan: ListingPlan | None, trial_days: int | None = None,
                   locale: str | None = None) -> str:
    """What the install button says: "Install — Free", "Start 14-day free trial, then
    $29.00/month", "Buy — $290.00/year"."""
    if listing.is_free or plan is None:
        return "Install — Free"
    trial_days = listing.trial_days if trial_days is None else trial_days
    price = plan_price(listing, plan, locale)
    if trial_days:
        return f"Start {trial_days}-day free trial, then {price}"
    return f"Buy — {price}"


def plan_offers(listing: Listing, plans: list[ListingPlan], trial_days: int | None = None,
                locale: str | None = None) -> list[PlanOffer]:
    """Each plan with its words, for a plan table."""
    offers = []
    for plan in plans:
        saving = annual_saving(plan, plans)
        offers.append(PlanOffer(
            plan=plan, price=plan_price(listing, plan, locale),
            amount=format_money(plan.price, listing.currency, locale),
            included=plan_included(listing, plan, locale),
            saving=(f"Save {format_money(saving, listing.currency, locale)} a year"
                    if saving else ""),
            button=install_button(listing, plan, trial_days, locale)))
    return offers


# --- changing (partner portal) ---------------------------------------------------------


def _checked(listing: Listing, values: dict) -> ListingPlanCreate:
    """``values`` validated for ``listing``'s pricing model; ``ListingError`` names the
    first problem and its field."""
    if listing.is_free:
        raise ListingError("A free app has no price plans: choose a paid pricing model and "
                           "save the listing first.")
    try:
        data = ListingPlanCreate(**values)
    except ValidationError as error:
        field, message = next(iter(validation_messages(error).items()))
        label = {"price": "Price", "unit_price": "Price per unit",
                 "included_units": "Included units", "interval": "Billing interval",
                 "name": "Name"}.get(field, field)
        raise ListingError(f"{label} {message}.", field=field) from None
    if listing.pricing_model == PricingModel.FLAT_MONTHLY:
        if data.price <= 0:
            raise ListingError("Price must be above zero for a paid plan.", field="price")
        data.unit_price = data.included_units = 0
    else:
        if data.unit_price <= 0:
            raise ListingError("Price per unit must be above zero for a usage-based plan.",
                               field="unit_price")
        if data.interval != PlanInterval.MONTH:
            raise ListingError("Usage is billed monthly: choose month as the billing interval.",
                               field="interval")
        data.price = 0
    return data


def card_plan(plans: list[ListingPlan], pricing_model: str) -> ListingPlan | None:
    """The plan a card shows, as "From ..." when there are others: the cheapest monthly
    plan (a yearly one only when none is monthly, since a card compares monthly prices),
    or for usage the cheapest unit price."""
    if not plans:
        return None
    if pricing_model == PricingModel.USAGE:
        return min(plans, key=lambda plan: (plan.unit_price, plan.position))
    monthly = [plan for plan in plans if plan.interval == PlanInterval.MONTH]
    return min(monthly or plans, key=lambda plan: (plan.price, plan.position))


def _mirror_plans(session: Session, listing: Listing) -> None:
    """Keep the listing's price columns equal to its first plan, and what its card
    says (``card_price``, ``card_interval``, ``plan_count``) to its plans (see the
    module doc)."""
    plans = stored_plans(session, listing.id)
    if not plans:
        return
    first = plans[0]
    if listing.pricing_model == PricingModel.FLAT_MONTHLY:
        listing.monthly_price = first.price
    elif listing.pricing_model == PricingModel.USAGE:
        listing.unit_price, listing.included_units = first.unit_price, first.included_units
    shown = card_plan(plans, listing.pricing_model)
    flat = listing.pricing_model == PricingModel.FLAT_MONTHLY
    listing.card_price = shown.price if flat else shown.unit_price
    listing.card_interval = shown.interval
    listing.plan_count = len(plans)
    listing.updated_at = utcnow()
    session.add(listing)


def add_plan(session: Session, listing: Listing, values: dict) -> ListingPlan:
    """Offer a new plan on ``listing`` (last in order; a listing without plan rows
    keeps the plan made from its columns as its first). Raises ``ListingError``."""
    data = _checked(listing, values)
    existing = stored_plans(session, listing.id)
    if not existing:
        # The plan it offered so far (made from its columns) stays, as its first.
        sync_first_plan(session, listing)
        existing = stored_plans(session, listing.id)
    if len(existing) >= MAX_PLANS:
        raise ListingError(f"A listing offers at most {MAX_PLANS} plans; remove one first.")
    if any(plan.name.lower() == data.name.lower() and plan.interval == data.interval
           for plan in existing):
        raise ListingError(f"There is already a {data.interval}ly plan named {data.name}.",
                           field="name")
    plan = ListingPlan(**data.model_dump(), listing_id=listing.id,
                       position=(existing[-1].position + 1) if existing else 0)
    session.add(plan)
    session.flush()
    _mirror_plans(session, listing)
    return plan


def own_plan(session: Session, listing: Listing, plan_id: int) -> ListingPlan | None:
    """An active plan of ``listing`` (None for another listing's or a removed one)."""
    plan = session.get(ListingPlan, plan_id)
    if plan is None or plan.listing_id != listing.id or plan.retired_at is not None:
        return None
    return plan


def update_plan(session: Session, listing: Listing, plan: ListingPlan, values: dict) -> ListingPlan:
    """Change a plan. Customers already on it keep the price they subscribed at (the
    provider's price for it is a new one, ``billing.plans``). Raises ``ListingError``."""
    data = _checked(listing, values)
    if any(other.id != plan.id and other.name.lower() == data.name.lower()
           and other.interval == data.interval for other in stored_plans(session, listing.id)):
        raise ListingError(f"There is already a {data.interval}ly plan named {data.name}.",
                           field="name")
    for key, value in data.model_dump().items():
        setattr(plan, key, value)
    session.add(plan)
    session.flush()
    _mirror_plans(session, listing)
    return plan


def retire_plan(session: Session, listing: Listing, plan: ListingPlan) -> None:
    """Stop offering ``plan``; a paid listing keeps at least one. Raises ``ListingError``."""
    if len(stored_plans(session, listing.id)) <= 1:
        raise ListingError("A paid app needs at least one plan: add another before "
                           "removing this one.")
    plan.retired_at = utcnow()
    session.add(plan)
    session.flush()
    _mirror_plans(session, listing)


def move_plan(session: Session, listing: Listing, plan: ListingPlan, direction: str) -> None:
    """Move ``plan`` one place ``direction`` ("up" or "down") in the listing's order: the
    first plan is chosen by default at install and is the listing form's price. Raises
    ``ListingError`` for any other direction or a move past either end."""
    if direction not in ("up", "down"):
        raise ListingError("Choose whether to move the plan up or down.", field="direction")
    plans = stored_plans(session, listing.id)
    at = next(index for index, other in enumerate(plans) if other.id == plan.id)
    to = at - 1 if direction == "up" else at + 1
    if not 0 <= to < len(plans):
        raise ListingError(f"{plan.name} is already the {'first' if to < 0 else 'last'} plan.",
                           field="direction")
    plans[at], plans[to] = plans[to], plans[at]
    # Positions are renumbered from the new order: older plans may share one.
    for position, other in enumerate(plans):
        other.position = position
        session.add(other)
    session.flush()
    _mirror_plans(session, listing)


def sync_first_plan(session: Session, listing: Listing) -> None:
    """After the listing form saved its price fields: the first plan takes them (made
    as "Standard" when the listing has none yet). Plans of a free listing stay as they
    were, unoffered, should it become paid again."""
    if listing.is_free:
        return
    plans = stored_plans(session, listing.id)
    if not plans:
        session.add(implicit_plan(listing))
        session.flush()
        _mirror_plans(session, listing)
        return
    first, flat = plans[0], listing.pricing_model == PricingModel.FLAT_MONTHLY
    if flat:
        first.price, first.unit_price, first.included_units = listing.monthly_price, 0, 0
    else:
        first.price, first.interval = 0, PlanInterval.MONTH
        first.unit_price, first.included_units = listing.unit_price, listing.included_units
    session.add(first)
    for other in plans[1:]:
        # A change of pricing model: plans priced the other way are no longer offered.
        if (other.price <= 0) if flat else (other.unit_price <= 0):
            other.retired_at = utcnow()
            session.add(other)
    session.flush()
    _mirror_plans(session, listing)
