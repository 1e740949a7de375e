"""App icons (issue 16, item 4): uploaded with the listing form, checked like
screenshots, served like them; a generated initials icon when there is none."""

from __future__ import annotations

import io
import random
import re
from pathlib import Path

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from accounts.models import Role
from listings import catalog_cache
from listings.icons import contrast_ratio, generated_icon_svg, icon_colour, initials
from listings.models import Listing, ListingStatus
from tests import factories
from tests.functional.test_partner_portal import listing_form
from tests.sql_counting import count_queries


def page_of(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def partner_user(db):
    return factories.make_user(db, role=Role.PARTNER)


@pytest.fixture
def signed_in(login, partner_user):
    login(partner_user)
    return partner_user


@pytest.fixture
def own(db, partner_user):
    partner = db.get(factories.Partner, partner_user.partner_id)
    return factories.make_listing(db, partner=partner, name="Crowd Favourite")


def save_with_icon(client, db, listing: Listing, data: bytes, filename: str = "icon.png"):
    category = db.get(factories.Category, listing.category_id)
    fields = listing_form(category, name=listing.name)
    # Encoded in memory (see test_partner_portal.upload): Werkzeug's test client
    # spools big bodies to a temporary file it never closes.
    fields["icon"] = FileStorage(io.BytesIO(data), filename=filename, content_type="image/png")
    boundary, body = encode_multipart(fields)
    return client.post(f"/partner/listings/{listing.id}/edit", data=body,
                       content_type=f"multipart/form-data; boundary={boundary}")


def noise_png(side: int) -> bytes:
    """A PNG that does not compress: about 3 bytes a pixel."""
    rng = random.Random(side)
    image = Image.frombytes("RGB", (side, side), bytes(rng.getrandbits(8) for _ in range(side * side * 3)))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def icon_files(app) -> list[Path]:
    folder = Path(app.config["UPLOAD_FOLDER"]) / "icons"
    return sorted(folder.iterdir()) if folder.exists() else []


# --- upload ---------------------------------------------------------------------------------


def test_uploaded_icon_is_stored_served_and_shown_on_the_page_and_cards(app, client, db,
                                                                       signed_in, own):
    data = factories.image_bytes("PNG", (256, 256))
    response = save_with_icon(client, db, own, data)
    assert response.status_code == 302, page_of(response)[:2000]
    db.refresh(own)
    assert own.icon_filename and icon_files(app) == [
        Path(app.config["UPLOAD_FOLDER"]) / "icons" / own.icon_filename]
    client.post("/account/logout")

    listing_page = page_of(client.get(f"/apps/{own.slug}"))
    src = f"/media/icons/{own.icon_filename}"
    assert re.search(rf'<img class="listing-icon" src="{re.escape(src)}" alt="" '
                     r'width="96" height="96"', listing_page)
    with client.get(src) as image:
        assert image.status_code == 200 and image.mimetype == "image/png" and image.data == data
    home = page_of(client.get("/"))
    assert f'<img class="card-icon" src="{src}" alt="" width="48" height="48"' in home
    search = page_of(client.get("/search?q=Crowd"))
    assert f'class="card-icon" src="{src}" alt=""' in search


def test_a_new_icon_replaces_the_old_file(app, client, db, signed_in, own):
    save_with_icon(client, db, own, factories.image_bytes("PNG", (256, 256)))
    save_with_icon(client, db, own, factories.image_bytes("JPEG", (128, 128)), "icon.jpg")
    db.refresh(own)
    assert own.icon_filename.endswith(".jpg")
    assert [path.name for path in icon_files(app)] == [own.icon_filename]


@pytest.mark.parametrize("data,filename,message", [
    (factories.image_bytes("GIF", (256, 256)), "icon.gif", "The icon must be a PNG, JPEG or WebP image."),
    (factories.image_bytes("PNG", (64, 64)), "small.png", "The icon must be at least 128×128 pixels; this one is 64×64."),
    (factories.image_bytes("PNG", (256, 128)), "wide.png", "The icon must be square; this one is 256×128 pixels."),
    (noise_png(700), "big.png", "The icon must be at most 1 MB."),
    (b"MZ\x90\x00 this is not a picture at all", "virus.png", "PNG, JPEG or WebP"),
])
def test_bad_icons_are_refused_with_a_clear_message_and_nothing_is_stored(
        app, client, db, signed_in, own, data, filename, message):
    response = save_with_icon(client, db, own, data, filename)
    assert response.status_code == 400
    html = page_of(response)
    assert 'id="icon-error"' in html and message in html
    db.refresh(own)
    assert own.icon_filename is None and icon_files(app) == []


def test_a_drafts_icon_is_not_served_publicly(app, client, db, signed_in, partner_user):
    partner = db.get(factories.Partner, partner_user.partner_id)
    draft = factories.make_listing(db, partner=partner, status=ListingStatus.DRAFT,
                                   with_release=False)
    assert save_with_icon(client, db, draft, factories.image_bytes("PNG", (128, 128))).status_code == 302
    db.refresh(draft)
    with client.get(f"/partner/listings/{draft.id}/icon") as own_view:
        assert own_view.status_code == 200 and own_view.mimetype == "image/png"
    client.post("/account/logout")
    assert client.get(f"/media/icons/{draft.icon_filename}").status_code == 404
    assert client.get(f"/apps/{draft.slug}/icon.svg").status_code == 404


# --- the generated icon ----------------------------------------------------------------------


def test_without_an_upload_the_page_and_cards_show_a_generated_initials_icon(client, db):
    listing = factories.make_listing(db, name="Crowd Favourite")
    src = f"/apps/{listing.slug}/icon.svg"
    assert f'<img class="listing-icon" src="{src}" alt=""' in page_of(client.get(f"/apps/{listing.slug}"))
    assert f'<img class="card-icon" src="{src}" alt=""' in page_of(client.get("/"))
    with client.get(src) as svg:
        assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
        assert ">CF</text>" in svg.get_data(as_text=True)


def test_initials_and_escaping():
    assert initials("Crowd Favourite") == "CF"
    assert initials("ledger") == "L"
    assert initials("Über Sync Tool") == "ÜS"
    assert initials("!!!") == "?"
    assert "<b>" not in generated_icon_svg("<b>old</b> app")


def test_generated_colours_are_stable_and_readable_under_white_text():
    names = [f"App number {n}" for n in range(500)] + ["Crowd Favourite", "Ledger", "Zed"]
    colours = {icon_colour(name) for name in names}
    assert len(colours) > 50  # names get different colours
    assert icon_colour("Ledger") == icon_colour("Ledger")
    for name in names:
        assert contrast_ratio(icon_colour(name), (255, 255, 255)) >= 4.5, name


def test_home_with_icons_runs_the_same_number_of_queries_for_more_apps(app, client, db):
    def add(count):
        for _ in range(count):
            listing = factories.make_listing(db)
            listing.icon_filename = f"{listing.id}-abc.png"
            factories.save(db, listing)

    add(1)
    catalog_cache.bump(db)
    db.commit()
    with count_queries(app) as few:
        client.get("/")
    add(5)
    with count_queries(app) as many:
        client.get("/")
    assert len(many) == len(few)
