"""The price and rating every card and app page writes (listings.card_text), as the
Jinja macros they replaced wrote them, escaped."""

from types import SimpleNamespace

from markupsafe import Markup

from listings.card_text import price, stars
from listings.models import CardPrice


class _Priced(CardPrice, SimpleNamespace):
    """A card's price columns (CardPrice gives shown_price and shown_interval)."""


def _listing(**values) -> _Priced:
    columns = dict(pricing_model="free", currency="usd", monthly_price=0, unit_name=None,
                   unit_price=0, included_units=0, trial_days=0, card_price=None,
                   card_interval=None, plan_count=0)
    return _Priced(**{**columns, **values})


def test_free_and_flat_prices_read_as_a_card_says_them():
    assert price(_listing()) == "Free"
    assert price(_listing(pricing_model="flat_monthly", monthly_price=1999)) == "$19.99 / month"
    assert price(_listing(pricing_model="flat_monthly", card_price=900, card_interval="year",
                          plan_count=2)) == "From $9.00 / year"


def test_usage_prices_name_the_unit_and_what_is_included():
    usage = dict(pricing_model="usage", unit_name="email", unit_price=2)
    assert price(_listing(**usage)) == "$0.02 per email"
    assert price(_listing(**usage, included_units=1000)) == "$0.02 per email (1,000 included)"
    assert price(_listing(**usage, card_price=1, plan_count=3)) == "From $0.01 per email"


def test_a_trial_is_a_tag_after_the_price():
    shown = price(_listing(trial_days=14))
    assert isinstance(shown, Markup)
    assert shown == 'Free <span class="tag tag-trial">14-day free trial</span>'


def test_a_partners_unit_name_is_escaped():
    shown = price(_listing(pricing_model="usage", unit_name="<b>seat</b>", unit_price=100))
    assert "<b>" not in shown
    assert "&lt;b&gt;seat&lt;/b&gt;" in shown


def test_stars_round_half_up_from_three_quarters_and_say_the_count():
    shown = stars(3.8, 12)
    assert 'aria-label="Rated 3.8 out of 5 from 12 reviews"' in shown
    assert '<span aria-hidden="true">★★★★☆</span>' in shown
    assert '<span class="stars-value">3.8</span> <span class="muted">(12)</span>' in shown
    assert '<span aria-hidden="true">★★★★☆</span>' in stars(4.7)  # 4.7 < 4.75
    assert '<span aria-hidden="true">★★★★★</span>' in stars(4.75)


def test_one_review_is_singular_and_no_count_says_none():
    assert 'from 1 review"' in stars(5.0, 1)
    alone = stars(4)
    assert 'aria-label="Rated 4 out of 5"' in alone and "muted" not in alone


def test_no_rating_says_no_reviews_yet():
    assert stars(None) == '<span class="muted">No reviews yet</span>'
    assert stars(None, 0) == stars(0) == '<span class="muted">No reviews yet</span>'
