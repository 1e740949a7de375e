"""The partner's price plan form: one plan (name, billing interval, price or unit
price and included units). Prices are typed as "19.99" and converted with the
listing's currency; the plan rules stay in ``listings.plans``."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from listings.models import Listing
from listings.partner_forms import MessagesMixin, format_money_input, parse_money
from listings.plans import ListingPlan, PlanInterval

INTERVAL_CHOICES = [SelectChoice(PlanInterval.MONTH.value, "Monthly"),
                    SelectChoice(PlanInterval.YEAR.value, "Yearly")]


class PlanForm(MessagesMixin, FlaskForm):
    name = StringField("Name")
    # Unknown values reach the plan rules, whose message names the choices.
    interval = SelectField("Billing interval", choices=INTERVAL_CHOICES, validate_choice=False,
                           default=PlanInterval.MONTH.value)
    price = StringField("Price")
    unit_price = StringField("Price per unit")
    included_units = IntegerField("Included units", default=0, validators=[Optional()])

    def plan_values(self, listing: Listing) -> dict:
        """The values for ``listings.plans.add_plan``/``update_plan`` (prices in minor
        units of the listing's currency); a price that can't be read gets its message
        beside the field."""
        values = {"name": self.name.data or "", "interval": self.interval.data or "",
                  "included_units": self.included_units.data or 0}
        for name in ("price", "unit_price"):
            try:
                values[name] = parse_money(self[name].data, listing.currency)
            except ValueError as error:
                self.add_error(name, str(error))
                values[name] = 0
        return values

    @classmethod
    def data_from_plan(cls, plan: ListingPlan, listing: Listing) -> dict:
        return {"name": plan.name, "interval": plan.interval,
                "price": format_money_input(plan.price, listing.currency),
                "unit_price": format_money_input(plan.unit_price, listing.currency),
                "included_units": plan.included_units}
