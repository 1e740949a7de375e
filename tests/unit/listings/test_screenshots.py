"""Screenshot checks: format, size, dimensions, decompression bombs."""

import io

import pytest
from PIL import Image

from listings.screenshots import MAX_BYTES, inspect_image
from listings.services import ListingError
from tests.factories import image_bytes


@pytest.mark.parametrize("fmt,content_type", [("PNG", "image/png"), ("JPEG", "image/jpeg"),
                                              ("WEBP", "image/webp")])
def test_accepted_formats(fmt, content_type):
    assert inspect_image(image_bytes(fmt, (120, 80)))[::2] == (content_type, 120)


def test_gif_is_refused():
    with pytest.raises(ListingError, match="PNG, JPEG or WebP"):
        inspect_image(image_bytes("GIF"))


def test_text_pretending_to_be_an_image_is_refused():
    with pytest.raises(ListingError, match="must be a PNG, JPEG or WebP"):
        inspect_image(b"MZ\x90\x00 this is not an image")


def test_too_many_pixels_on_a_side():
    with pytest.raises(ListingError, match="at most 4096"):
        inspect_image(image_bytes("PNG", (4097, 10)))


def test_over_five_megabytes():
    with pytest.raises(ListingError, match="smaller than 5 MB"):
        inspect_image(b"\x89PNG" + b"0" * MAX_BYTES)


def test_decompression_bomb_is_refused():
    # A tiny file that claims 30000x30000 pixels: Pillow's bomb guard must trip.
    buffer = io.BytesIO()
    Image.new("1", (30000, 30000)).save(buffer, format="PNG")
    with pytest.raises(ListingError):
        inspect_image(buffer.getvalue())
