"""Validation of listing, release and review input."""

import pytest
from pydantic import ValidationError

from listings.models import ListingCreate, ReleaseCreate, ReviewCreate
from listings.services import validation_messages
from listings.text import slugify

VALID = dict(name="Ticket Sync", tagline="Sync tickets both ways", description="Hi")


def messages(model, **fields):
    with pytest.raises(ValidationError) as error:
        model(**fields)
    return validation_messages(error.value)


def test_valid_listing_normalises_tags_and_regions():
    listing = ListingCreate(**VALID, tags="Sales, CRM sync ,sales", data_residency=["EU", "us"])
    assert listing.tags == ["sales", "crm-sync"]
    assert listing.data_residency == ["eu", "us"]


@pytest.mark.parametrize("fields,field,text", [
    ({"name": "  "}, "name", "required"),
    ({"name": "x" * 81}, "name", "at most 80"),
    ({"website_url": "javascript:alert(1)"}, "website_url", "http"),
    ({"support_url": "not a url"}, "support_url", "http"),
    ({"slug": "Bad Slug"}, "slug", "lowercase"),
    ({"trial_days": 400}, "trial_days", "between 0 and 90"),
    ({"data_residency": ["mars"]}, "data_residency", "unknown region"),
    ({"data_residency": 5}, "data_residency", "list of region codes"),
    ({"tags": 5}, "tags", "list of words"),
    ({"pricing_model": "flat_monthly", "monthly_price": 0}, "monthly_price", "price above zero"),
    ({"pricing_model": "usage", "unit_price": 5}, "unit_name", "unit name"),
    ({"pricing_model": "barter"}, "pricing_model", "free, flat_monthly or usage"),
    ({"currency": "u$d"}, "currency", "three-letter"),
    ({"monthly_price": -1}, "monthly_price", "not be negative"),
    ({"name": "NUL\x00name"}, "name", "control character"),
    ({"tagline": "Bell\x07 tagline"}, "tagline", "control character"),
    ({"description": "Text\x00here"}, "description", "control character"),
])
def test_bad_listing_fields_get_a_clear_message(fields, field, text):
    errors = messages(ListingCreate, **{**VALID, **fields})
    assert field in errors and text in errors[field]


def test_release_manifest_rules():
    good = ReleaseCreate(version="1.2.0", redirect_url="https://a.example.com/cb",
                         scopes=[{"scope": "contacts:read", "justification": "Show names"}])
    assert good.scopes[0].scope == "contacts:read"
    errors = messages(ReleaseCreate, version="one", redirect_url="ftp://x",
                      scopes=[{"scope": "contacts:read", "justification": " "}])
    assert "use semantic versioning" in errors["version"]
    assert "http" in errors["redirect_url"]
    assert "justification" in errors["scopes.0.justification"]
    errors = messages(ReleaseCreate, version="1.0.0", redirect_url="https://a.example.com",
                      scopes=[{"scope": "root:everything", "justification": "x"}])
    assert "unknown scope" in errors["scopes.0.scope"]


@pytest.mark.parametrize("rating", [0, 6, -1])
def test_rating_outside_one_to_five_is_refused(rating):
    assert "1 to 5" in messages(ReviewCreate, rating=rating, title="t")["rating"]


@pytest.mark.parametrize("text, slug", [
    ("  Hello, Wörld! 2.0 ", "hello-world-2-0"),
    ("Café Rota", "cafe-rota"),
    ("Zoe\u0308 CRM", "zoe-crm"),  # decomposed
    ("Straße Maps", "strasse-maps"),
    ("Über Agenda", "uber-agenda"),
    ("A/B Lab", "a-b-lab"),
])
def test_slugs_spell_accented_letters_in_ascii(text, slug):
    assert slugify(text) == slug


def test_a_name_in_another_script_still_has_a_slug_of_its_own():
    slug = slugify("日本語 Helpdesk")
    assert slug.isascii() and slug.endswith("-helpdesk") and slug != "helpdesk"


def test_tags_keep_their_letters():
    listing = ListingCreate(**VALID, tags=["Résumé", "日本語", "crème brûlée", "Re\u0301sume\u0301"])
    assert listing.tags == ["résumé", "日本語", "crème-brûlée"]


def test_texts_are_stored_composed_and_may_span_lines():
    listing = ListingCreate(name="Zoe\u0308 CRM", tagline="Caf\u0065\u0301 rota",
                            description="Line one\r\n\tLine two")
    assert listing.name == "Zo\u00eb CRM" and listing.tagline == "Caf\u00e9 rota"
    assert listing.description == "Line one\r\n\tLine two"
