"""Price plans: a listing offers several (Basic/Pro, monthly/annual), the customer
compares them on the listing page, picks one, sees its price on the button, on the
consent screen and at checkout, and the provider charges that plan's price and
interval. Partners manage their plans; no one else can."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import stripe
from sqlmodel import select

from accounts.models import Role
from billing.models import Invoice, ProviderObject, Subscription
from billing.providers import EXTENSION_KEY, get_provider
from core.db import as_utc, utcnow
from installs.models import Install
from listings.models import Listing, Partner
from listings.plans import ListingPlan, add_plan, stored_plans, sync_first_plan
from listings.services import current_release
from tests import factories


def plans_listing(db, **fields):
    """A published paid app with Basic monthly/annual and Pro monthly."""
    listing = factories.make_paid_listing(db, name="Ledger Lion", monthly_price=2900,
                                          currency="usd", **fields)
    sync_first_plan(db, listing)  # its price, as the partner form saves it, is its first plan
    [basic] = stored_plans(db, listing.id)
    basic.name = "Basic"
    annual = add_plan(db, listing, {"name": "Basic", "interval": "year", "price": 29000})
    pro = add_plan(db, listing, {"name": "Pro", "interval": "month", "price": 7900})
    db.commit()
    return listing, basic, annual, pro


def page(client, url, **kwargs) -> str:
    response = client.get(url, **kwargs)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def text(html: str) -> str:
    """The page's words, without tags and with entities a test would type."""
    # Only ASCII white space is collapsed: prices keep their no-break spaces.
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", "", html)).replace("&#39;", "'") \
        .replace("&amp;", "&").replace("&#x27;", "'")


def choose(client, listing, plan_id):
    return client.post(f"/apps/{listing.slug}/install", data={"plan": str(plan_id)})


def confirm(client, db, listing, plan_id=None):
    data = {"release_id": current_release(db, listing.id).id}
    if plan_id is not None:
        data["plan"] = str(plan_id)
    return client.post(f"/apps/{listing.slug}/install/confirm", data=data)


# --- the listing page and its button ---------------------------------------------------


def test_listing_page_compares_the_plans_and_the_button_says_the_price(client, db, login, admin):
    listing, basic, annual, pro = plans_listing(db)
    login(admin)

    html = page(client, f"/apps/{listing.slug}")
    words = text(html)

    assert "Choose a plan" in words
    assert "Basic $29.00/month" in words
    assert "Basic $290.00/year Save $58.00 a year" in words
    assert "Pro $79.00/month" in words
    # Each choice is named with its price for screen readers (two plans are called Basic).
    assert 'aria-label="Basic, $290.00/year"' in html
    assert "Buy — $29.00/month" in words  # the first plan is chosen
    # Each choice carries its own button text, for the script that updates the button.
    assert f'value="{annual.id}" data-button="Buy — $290.00/year"' in html


def test_a_free_app_says_so_on_its_button(client, db, login, admin):
    listing = factories.make_listing(db, pricing_model="free")
    login(admin)
    assert "Install — Free" in text(page(client, f"/apps/{listing.slug}"))


def test_a_trial_button_says_what_follows_the_trial(client, db, login, admin):
    listing = factories.make_paid_listing(db, monthly_price=2900, trial_days=14)
    login(admin)
    assert "Start 14-day free trial, then $29.00/month" in text(page(client, f"/apps/{listing.slug}"))


def test_usage_included_units_are_grouped_like_the_rest(client, db, login, admin):
    listing = factories.make_usage_listing(db, unit_name="contact", unit_price=2,
                                           included_units=1000)
    words = text(page(client, f"/apps/{listing.slug}"))
    assert "(1,000 included)" in words and "(1000 included)" not in words
    assert "1,000 contacts included each month" in words


def test_a_shelf_of_mixed_currencies_says_so(client, db):
    category = factories.make_category(db, name="Money")
    for currency in ("usd", "eur", "gbp"):
        factories.make_paid_listing(db, category=category, currency=currency)
    words = text(page(client, f"/categories/{category.slug}"))
    assert "Prices are in each app's own currency." in words

    one = factories.make_category(db, name="Dollars")
    factories.make_paid_listing(db, category=one, currency="usd")
    factories.make_listing(db, category=one, pricing_model="free")
    assert "own currency" not in text(page(client, f"/categories/{one.slug}"))


def test_prices_follow_the_visitors_locale(client, db):
    listing = factories.make_paid_listing(db, monthly_price=123456, currency="eur")
    german = text(page(client, f"/apps/{listing.slug}", headers={"Accept-Language": "de-DE"}))
    english = text(page(client, f"/apps/{listing.slug}", headers={"Accept-Language": "en-US"}))
    assert "1.234,56\xa0€" in german
    assert "€1,234.56" in english


def test_kept_catalog_pages_are_kept_per_locale_for_signed_in_visitors_too(client, db, login,
                                                                          admin):
    category = factories.make_category(db, name="Invoices")
    factories.make_paid_listing(db, category=category, monthly_price=123456, currency="eur")
    login(admin)
    german = text(page(client, f"/categories/{category.slug}",
                       headers={"Accept-Language": "de-DE"}))
    english = text(page(client, f"/categories/{category.slug}",
                        headers={"Accept-Language": "en-US"}))
    assert "1.234,56\xa0€" in german
    assert "€1,234.56" in english


def test_a_new_plan_shows_at_once_on_the_kept_listing_page(client, db):
    listing = factories.make_paid_listing(db, monthly_price=2900)
    assert "Choose a plan" not in text(page(client, f"/apps/{listing.slug}"))

    # A listing without plan rows keeps the plan it offered as its first.
    add_plan(db, listing, {"name": "Standard", "interval": "year", "price": 29000})
    db.commit()

    words = text(page(client, f"/apps/{listing.slug}"))
    assert "Choose a plan" in words and "$290.00/year" in words
    assert "$29.00/month" in words and "Save $58.00 a year" in words


# --- the consent screen ---------------------------------------------------------------


def test_the_chosen_plan_goes_on_to_the_consent_screen(client, db, login, admin):
    listing, basic, annual, pro = plans_listing(db)
    login(admin)

    response = choose(client, listing, annual.id)

    assert response.status_code == 302
    assert parse_qs(response.location.split("?", 1)[1]) == {"plan": [str(annual.id)]}
    html = page(client, response.location)
    words = text(html)
    assert "Your plan: Basic" in words and "$290.00/year" in words
    assert "$290.00 is charged now at checkout, then every year until you cancel." in words
    assert "To cancel, uninstall Ledger Lion from My apps" in words
    assert "Confirm and continue to payment — $290.00/year" in words
    assert f'name="plan" value="{annual.id}"' in html


def test_a_trial_consent_says_when_billing_starts_and_how_to_cancel(client, db, login, admin):
    listing = factories.make_paid_listing(db, monthly_price=2900, trial_days=14)
    login(admin)

    words = text(page(client, f"/apps/{listing.slug}/install"))

    ends = (utcnow() + timedelta(days=14)).strftime("%-d %b %Y")
    assert "This starts your 14-day free trial." in words
    assert f"The trial ends on {ends}; billing starts then, at $29.00/month" in words
    assert "No card needed" in words and "nothing is charged" in words
    assert "To cancel, uninstall" in words


@pytest.mark.parametrize("where", ["start", "consent", "confirm"])
def test_a_plan_the_app_does_not_offer_is_refused_with_400(client, db, login, admin, where):
    listing, basic, annual, pro = plans_listing(db)
    other, other_plan, *_ = plans_listing(db)
    retired = add_plan(db, listing, {"name": "Legacy", "interval": "month", "price": 900})
    retired.retired_at = utcnow()
    db.add(retired)
    db.commit()
    login(admin)

    for bad in (999999, other_plan.id, retired.id, "abc"):
        if where == "start":
            response = choose(client, listing, bad)
        elif where == "consent":
            response = client.get(f"/apps/{listing.slug}/install?plan={bad}")
        else:
            response = confirm(client, db, listing, bad)
        assert response.status_code == 400, (where, bad)
        assert "Ledger Lion has no such plan" in text(response.get_data(as_text=True))
    assert db.exec(select(Subscription)).all() == []


# --- checkout -------------------------------------------------------------------------


def test_checkout_charges_the_annual_plan_and_installs_on_it(app, client, db, login, admin):
    listing, basic, annual, pro = plans_listing(db)
    login(admin)

    checkout_url = confirm(client, db, listing, annual.id).location
    words = text(page(client, checkout_url))

    assert "Plan Basic" in words and "Price $290.00/year" in words
    assert "the first year is charged now" in words
    db.expire_all()
    [subscription] = db.exec(select(Subscription)).all()
    assert subscription.plan_id == annual.id
    # What the local provider was asked for, as it keeps it (like Stripe's objects).
    provider = get_provider(app)
    [checkout] = [row for row in db.exec(select(ProviderObject).where(
        ProviderObject.kind == "checkout_session")).all() if "request" in row.data]
    [price_id] = checkout.data["request"]["price_ids"]
    price = provider.get("price", price_id).data["request"]
    assert (price["unit_amount"], price["interval"], price["currency"]) == (29000, "year", "usd")

    client.post(f"{checkout_url}/pay")

    db.expire_all()
    [install] = db.exec(select(Install)).all()
    assert install.plan_id == annual.id
    [invoice] = db.exec(select(Invoice)).all()
    assert invoice.amount_paid == 29000
    subscription = db.get(Subscription, subscription.id)
    assert as_utc(subscription.current_period_end) > utcnow() + timedelta(days=360)
    billing = text(page(client, "/my/billing"))
    assert "Ledger Lion (Basic plan)" in billing
    assert "$290.00" in billing


def test_choosing_another_plan_after_an_abandoned_checkout_charges_the_new_one(
        client, db, login, admin):
    listing, basic, annual, pro = plans_listing(db)
    login(admin)
    first = confirm(client, db, listing, basic.id).location
    second = confirm(client, db, listing, pro.id).location

    assert first != second
    assert "Price $79.00/month" in text(page(client, second))


def test_a_trial_remembers_its_plan_for_when_it_converts(client, db, login, admin):
    listing, basic, annual, pro = plans_listing(db, trial_days=14)
    login(admin)

    response = confirm(client, db, listing, pro.id)

    assert response.status_code == 303
    db.expire_all()
    [install] = db.exec(select(Install)).all()
    assert install.plan_id == pro.id
    checkout = client.post(f"/my/apps/{install.id}/payment-method")
    assert checkout.status_code == 303, checkout.status_code
    db.expire_all()
    [subscription] = db.exec(select(Subscription)).all()
    assert subscription.plan_id == pro.id


class RecordingHTTPClient(stripe.RequestsClient):
    """stripe-python's own HTTP client, remembering each request's body."""

    def __init__(self):
        super().__init__(timeout=10)
        self.bodies: list[tuple[str, str]] = []

    def request(self, method, url, headers, post_data=None):
        body = post_data.decode() if isinstance(post_data, bytes) else post_data or ""
        self.bodies.append((url, body))
        return super().request(method, url, headers, post_data)


@pytest.fixture
def stripe_overrides(stripe_mock_url, app_overrides):
    app_overrides.update({"STRIPE_SECRET_KEY": "sk_test_bazaarplans",
                          "STRIPE_WEBHOOK_SECRET": "whsec_bazaar_plans",
                          "STRIPE_API_BASE": stripe_mock_url, "STRIPE_METER_EVENTS": "v1"})
    return stripe_mock_url


def test_stripe_checkout_asks_for_the_yearly_price(stripe_overrides, app, client, db, login, admin):
    from billing.stripe_provider import StripeProvider

    recorder = RecordingHTTPClient()
    app.extensions[EXTENSION_KEY] = StripeProvider(
        stripe.StripeClient("sk_test_bazaarplans", base_addresses={"api": stripe_overrides},
                            http_client=recorder, max_network_retries=0),
        "whsec_bazaar_plans", meter_events="v1")
    listing, basic, annual, pro = plans_listing(db)
    login(admin)

    response = confirm(client, db, listing, annual.id)

    assert response.status_code == 303
    assert response.location.startswith("https://checkout.stripe.com/")
    [price_body] = [parse_qs(body) for url, body in recorder.bodies if url.endswith("/v1/prices")]
    assert price_body["unit_amount"] == ["29000"]
    assert price_body["recurring[interval]"] == ["year"]
    assert price_body["currency"] == ["usd"]
    [checkout_body] = [parse_qs(body) for url, body in recorder.bodies
                       if url.endswith("/v1/checkout/sessions")]
    assert checkout_body["metadata[plan_id]"] == [str(annual.id)]


# --- partners manage their plans ----------------------------------------------------------


@pytest.fixture
def partner_user(db):
    return factories.make_user(db, role=Role.PARTNER)


@pytest.fixture
def own_listing(db, partner_user):
    partner = db.get(Partner, partner_user.partner_id)
    listing = factories.make_paid_listing(db, partner=partner, monthly_price=1900)
    sync_first_plan(db, listing)
    db.commit()
    return listing


def plan_form(**changes) -> dict:
    data = {"name": "Pro", "interval": "year", "price": "190.00", "unit_price": "",
            "included_units": "0"}
    data.update(changes)
    return data


def test_the_owning_partner_adds_edits_and_removes_a_plan(client, db, login, partner_user,
                                                         own_listing):
    login(partner_user)

    added = client.post(f"/partner/listings/{own_listing.id}/plans", data=plan_form())
    assert added.status_code == 302
    [standard, pro] = stored_plans(db, own_listing.id)
    assert (pro.name, pro.interval, pro.price) == ("Pro", "year", 19000)
    assert "Pro" in text(page(client, f"/partner/listings/{own_listing.id}/edit"))

    edited = client.post(f"/partner/listings/{own_listing.id}/plans/{pro.id}",
                         data=plan_form(name="Pro annual", price="180"))
    assert edited.status_code == 302
    db.expire_all()
    assert (db.get(ListingPlan, pro.id).name, db.get(ListingPlan, pro.id).price) == (
        "Pro annual", 18000)

    removed = client.post(f"/partner/listings/{own_listing.id}/plans/{pro.id}/remove")
    assert removed.status_code == 302
    db.expire_all()
    assert [plan.id for plan in stored_plans(db, own_listing.id)] == [standard.id]
    # The last plan of a paid app stays.
    last = client.post(f"/partner/listings/{own_listing.id}/plans/{standard.id}/remove")
    assert last.status_code == 400
    assert "needs at least one plan" in text(last.get_data(as_text=True))


def test_the_owning_partner_puts_the_plans_in_order(client, db, login, partner_user,
                                                   own_listing):
    """The plan table is in the partner's order, and the first plan is the one chosen
    by default at install and the price of the listing form."""
    login(partner_user)
    client.post(f"/partner/listings/{own_listing.id}/plans",
                data=plan_form(name="Pro", interval="month", price="49"))
    [standard, pro] = stored_plans(db, own_listing.id)

    moved = client.post(f"/partner/listings/{own_listing.id}/plans/{pro.id}/move",
                        data={"direction": "up"})

    assert moved.status_code == 302
    db.expire_all()
    assert [plan.id for plan in stored_plans(db, own_listing.id)] == [pro.id, standard.id]
    listing = db.get(Listing, own_listing.id)
    assert listing.monthly_price == 4900  # the listing form shows the first plan's price
    assert listing.card_price == 1900  # cards still say the cheapest
    words = text(page(client, f"/partner/listings/{own_listing.id}/edit"))
    assert words.index("Pro $49.00/month") < words.index("Standard $19.00/month")

    back = client.post(f"/partner/listings/{own_listing.id}/plans/{pro.id}/move",
                       data={"direction": "down"})
    assert back.status_code == 302
    db.expire_all()
    assert [plan.id for plan in stored_plans(db, own_listing.id)] == [standard.id, pro.id]


@pytest.mark.parametrize(("direction", "message"), [
    ("up", "Standard is already the first plan."),
    ("sideways", "Choose whether to move the plan up or down."),
    ("", "Choose whether to move the plan up or down."),
])
def test_a_move_that_cannot_be_made_is_refused_with_a_reason(client, db, login, partner_user,
                                                             own_listing, direction, message):
    login(partner_user)
    [standard] = stored_plans(db, own_listing.id)
    response = client.post(f"/partner/listings/{own_listing.id}/plans/{standard.id}/move",
                           data={"direction": direction})
    assert response.status_code == 400
    assert message in text(response.get_data(as_text=True))
    db.expire_all()
    assert [plan.id for plan in stored_plans(db, own_listing.id)] == [standard.id]


def test_another_partner_cannot_touch_the_plans(client, db, login, own_listing):
    stranger = factories.make_user(db, role=Role.PARTNER)
    [plan] = stored_plans(db, own_listing.id)
    login(stranger)

    for url, data in ((f"/partner/listings/{own_listing.id}/plans", plan_form()),
                      (f"/partner/listings/{own_listing.id}/plans/{plan.id}", plan_form()),
                      (f"/partner/listings/{own_listing.id}/plans/{plan.id}/remove", {}),
                      (f"/partner/listings/{own_listing.id}/plans/{plan.id}/move",
                       {"direction": "down"})):
        assert client.post(url, data=data).status_code == 404
    db.expire_all()
    assert [(p.name, p.price) for p in stored_plans(db, own_listing.id)] == [("Standard", 1900)]


def test_a_customer_cannot_reach_the_plan_pages(client, db, login, admin, own_listing):
    login(admin)
    response = client.post(f"/partner/listings/{own_listing.id}/plans", data=plan_form())
    assert response.status_code in (403, 404)


@pytest.mark.parametrize(("changes", "message"), [
    ({"price": "-5"}, "A price cannot be negative."),
    ({"price": "0"}, "Price must be above zero for a paid plan."),
    ({"name": "  "}, "Name is required, like Basic or Pro."),
    ({"interval": "week"}, "Billing interval must be month or year."),
    ({"price": "abc"}, "Enter a number, like 19.99."),
])
def test_bad_plans_are_refused_with_a_clear_message(client, db, login, partner_user, own_listing,
                                                   changes, message):
    login(partner_user)

    response = client.post(f"/partner/listings/{own_listing.id}/plans", data=plan_form(**changes))

    assert response.status_code == 400
    assert message in text(response.get_data(as_text=True))
    assert len(stored_plans(db, own_listing.id)) == 1


def test_an_unknown_currency_is_refused(client, db, login, partner_user, own_listing):
    login(partner_user)
    from tests.functional.test_partner_portal import listing_form

    category = factories.make_category(db)
    response = client.post(f"/partner/listings/{own_listing.id}/edit",
                           data=listing_form(category, currency="xyz"))

    assert response.status_code == 400
    assert "Currency must be a three-letter ISO currency code" in text(response.get_data(as_text=True))


def test_the_listing_form_offers_currencies_from_a_list(client, db, login, partner_user,
                                                        own_listing):
    login(partner_user)
    html = page(client, f"/partner/listings/{own_listing.id}/edit")
    assert re.search(r'<select[^>]*name="currency"', html)
    assert '<option selected value="usd">USD — US Dollar</option>' in html \
        or '<option value="usd" selected>USD — US Dollar</option>' in html
    assert ">EUR — Euro</option>" in html and ">JPY — Japanese Yen</option>" in html
    # Pricing fields say which pricing model they belong to, for the script that hides
    # the others; without it, a hint says which apply.
    assert 'data-pricing="flat_monthly"' in html and 'data-pricing="usage"' in html


def test_a_usage_app_gets_usage_tiers_billed_monthly(client, db, login, partner_user):
    partner = db.get(Partner, partner_user.partner_id)
    listing = factories.make_usage_listing(db, partner=partner, unit_name="contact",
                                           unit_price=2, included_units=1000)
    login(partner_user)

    yearly = client.post(f"/partner/listings/{listing.id}/plans",
                         data=plan_form(name="Growth", interval="year", unit_price="0.01",
                                        included_units="10000"))
    assert yearly.status_code == 400
    assert "Usage is billed monthly" in text(yearly.get_data(as_text=True))

    added = client.post(f"/partner/listings/{listing.id}/plans",
                        data=plan_form(name="Growth", interval="month", unit_price="0.01",
                                       included_units="10000"))
    assert added.status_code == 302
    [standard, growth] = stored_plans(db, listing.id)
    assert (standard.unit_price, standard.included_units) == (2, 1000)
    assert (growth.unit_price, growth.included_units, growth.price) == (1, 10000, 0)
    words = text(page(client, f"/apps/{listing.slug}"))
    assert "1,000 contacts included each month" in words
    assert "10,000 contacts included each month" in words


def test_plans_of_a_listing_in_review_stay_as_they_are(client, db, login, partner_user,
                                                       own_listing):
    own_listing.status = "in_review"
    db.add(own_listing)
    db.commit()
    login(partner_user)

    response = client.post(f"/partner/listings/{own_listing.id}/plans", data=plan_form())

    assert response.status_code == 302
    assert len(stored_plans(db, own_listing.id)) == 1
    assert "can't be changed now" in text(client.get(response.location).get_data(as_text=True))


def test_the_phone_install_bar_submits_the_same_form_with_the_first_plans_price(client, db):
    """The bar that follows a phone reader down the page (shown by js/plans.js once
    the install form has scrolled away) names the app and its plans, and its button
    belongs to the install form, so the plan chosen in the table is the one bought."""
    listing, *_ = plans_listing(db)
    html = page(client, f"/apps/{listing.slug}")
    bar = html[html.index("data-install-bar"):]
    bar = bar[:bar.index("</div>")]
    assert "hidden" in bar  # shown by the script only, never over a desktop page
    assert 'form="install-form"' in bar and 'id="install-form"' in html
    assert "Buy — $29.00/month" in text(bar) and "Compare 3 plans" in text(bar)


def test_an_installed_app_has_no_install_bar(client, db, login):
    listing, *_ = plans_listing(db)
    user = factories.make_installer(db, listing)
    login(user)
    assert "data-install-bar" not in page(client, f"/apps/{listing.slug}")


# --- the price on cards ---------------------------------------------------------------


def card_words(client, db, listing) -> str:
    """The words of ``listing``'s card on its category page."""
    from listings.models import Category

    html = page(client, f"/categories/{db.get(Category, listing.category_id).slug}")
    card = re.search(rf'<li\b[^>]*>(?:(?!</li>).)*?{re.escape(listing.name)}.*?</li>', html, re.S)
    assert card, f"no card for {listing.name}"
    return text(card.group(0))


def test_a_card_says_from_the_cheapest_monthly_plan_whatever_the_partners_order(client, db):
    """Found after plans came (issue 16): a card showed the first plan's price, so a
    listing whose first plan is Pro looked dearer than it is."""
    listing = factories.make_paid_listing(db, name="Ledger Lion", monthly_price=7900)
    sync_first_plan(db, listing)
    [pro] = stored_plans(db, listing.id)
    pro.name = "Pro"
    add_plan(db, listing, {"name": "Basic", "interval": "month", "price": 2900})
    add_plan(db, listing, {"name": "Basic", "interval": "year", "price": 24000})
    db.commit()

    words = card_words(client, db, listing)
    assert "From $29.00 / month" in words
    assert "$79.00" not in words


def test_a_card_of_one_yearly_plan_says_per_year(client, db, login, partner_user):
    """Found after plans came (issue 16): a plan changed to yearly still read
    "/ month" on cards and in the structured data, at the yearly amount."""
    from listings.plans import update_plan

    listing = factories.make_paid_listing(db, name="Annual Owl", monthly_price=2900)
    sync_first_plan(db, listing)
    [plan] = stored_plans(db, listing.id)
    update_plan(db, listing, plan, {"name": "Standard", "interval": "year", "price": 29000})
    db.commit()

    words = card_words(client, db, listing)
    assert "$290.00 / year" in words
    assert "From" not in words and "/ month" not in words
    html = page(client, f"/apps/{listing.slug}")
    assert '"billingDuration": "P1Y"' in html or '"billingDuration":"P1Y"' in html


def test_a_card_of_one_plan_says_no_from(client, db):
    listing = factories.make_paid_listing(db, name="Single Sparrow", monthly_price=1900)
    sync_first_plan(db, listing)
    db.commit()
    words = card_words(client, db, listing)
    assert "$19.00 / month" in words and "From" not in words


def test_a_usage_card_says_from_the_cheapest_unit_price(client, db):
    listing = factories.make_usage_listing(db, name="Meter Moth", unit_name="contact",
                                           unit_price=5, included_units=100)
    sync_first_plan(db, listing)
    add_plan(db, listing, {"name": "Volume", "interval": "month", "unit_price": 2,
                           "included_units": 5000})
    db.commit()
    words = card_words(client, db, listing)
    assert "From $0.02 per contact" in words
