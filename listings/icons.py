"""App icons: the partner's upload, checked like a screenshot (``listings.screenshots``)
and stored under ``UPLOAD_FOLDER/icons``; without one, an icon made of the app's
initials on a colour derived from its name.

Icons are square (they are drawn in squares on cards and the listing page), at
least ``MIN_SIDE`` pixels so they stay sharp on high-density screens, and small
(``MAX_BYTES``): a page of cards loads one per app.
"""

from __future__ import annotations

import colorsys
import hashlib
import re
import secrets
from pathlib import Path

from markupsafe import escape
from sqlmodel import Session, col, select

from listings.models import Listing
from listings.screenshots import inspect_image
from listings.services import VISIBLE_STATUSES, ListingError

MAX_BYTES = 1024 * 1024
MIN_SIDE = 128
CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}
# The generated icon's text is white; its background is darkened until the pair
# has at least this contrast (WCAG 2.x AA for text: https://www.w3.org/TR/WCAG21/#contrast-minimum).
MIN_CONTRAST = 4.5
TEXT_COLOUR = (255, 255, 255)


def icon_folder(upload_folder: str) -> Path:
    return Path(upload_folder) / "icons"


def check_icon(data: bytes) -> tuple[str, int]:
    """(file extension, side) of a valid icon, else ListingError (field "icon")
    saying what is wrong: too big, not an image of a known type, not square, too small."""
    if not data:
        raise ListingError("Choose a PNG, JPEG or WebP image for the icon.", field="icon")
    if len(data) > MAX_BYTES:
        raise ListingError("The icon must be at most 1 MB.", field="icon")
    try:
        _, extension, width, height = inspect_image(data)
    except ListingError as error:
        # inspect_image speaks of a screenshot (or an image); the partner uploaded an icon.
        message = re.sub(r"^(The|the) (screenshot|image)", "The icon", str(error))
        raise ListingError(message, field="icon") from None
    if width != height:
        raise ListingError(f"The icon must be square; this one is {width}×{height} pixels.",
                           field="icon")
    if width < MIN_SIDE:
        raise ListingError(f"The icon must be at least {MIN_SIDE}×{MIN_SIDE} pixels; this one is "
                           f"{width}×{height}.", field="icon")
    return extension, width


def save_icon(session: Session, listing: Listing, data: bytes, upload_folder: str) -> str:
    """Check and store ``data`` as the listing's icon, replacing (and deleting) the
    one it had; returns the new file name. The file name carries a random token, so
    it changes with every upload and may be cached for good."""
    extension, _ = check_icon(data)
    folder = icon_folder(upload_folder)
    folder.mkdir(parents=True, exist_ok=True)
    filename = f"{listing.id}-{secrets.token_hex(8)}.{extension}"
    (folder / filename).write_bytes(data)
    previous = listing.icon_filename
    listing.icon_filename = filename
    session.add(listing)
    session.flush()
    if previous:
        (folder / previous).unlink(missing_ok=True)
    return filename


def visible_icon(session: Session, filename: str) -> str | None:
    """The icon's content type when ``filename`` is the icon of a published or
    delisted listing (what the storefront may show), else None."""
    found = session.exec(select(Listing.id).where(Listing.icon_filename == filename,
                                                  col(Listing.status).in_(VISIBLE_STATUSES))).first()
    if found is None:
        return None
    return CONTENT_TYPES.get(filename.rsplit(".", 1)[-1])


# --- the generated icon ------------------------------------------------------------------


def initials(name: str) -> str:
    """Up to two initials: of the first two words of the name ("Crowd Favourite" ->
    "CF"), or the first letter of a one-word name."""
    words = re.findall(r"\w+", name)
    if not words:
        return "?"
    return "".join(word[0] for word in words[:2]).upper()


def _luminance(rgb: tuple[int, int, int]) -> float:
    """Relative luminance: https://www.w3.org/TR/WCAG21/#dfn-relative-luminance"""
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = rgb
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_ratio(first: tuple[int, int, int], second: tuple[int, int, int]) -> float:
    """WCAG contrast ratio of two colours: https://www.w3.org/TR/WCAG21/#dfn-contrast-ratio"""
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def icon_colour(name: str) -> tuple[int, int, int]:
    """A background colour for the name: the hue from a hash of it (the same name
    always gets the same colour, on every process), dark enough for white text."""
    hue = int.from_bytes(hashlib.sha256(name.encode()).digest()[:2], "big") / 65536
    lightness = 0.45
    while True:
        rgb = tuple(round(part * 255) for part in colorsys.hls_to_rgb(hue, lightness, 0.6))
        if contrast_ratio(rgb, TEXT_COLOUR) >= MIN_CONTRAST:
            return rgb
        lightness -= 0.02


def generated_icon_svg(name: str) -> str:
    """The fallback icon: the app's initials in white on its colour, as SVG."""
    red, green, blue = icon_colour(name)
    return ('<svg xmlns="http://www.w3.org/2000/svg" width="128" height="128" '
            'viewBox="0 0 128 128">'
            f'<rect width="128" height="128" rx="24" fill="#{red:02x}{green:02x}{blue:02x}"/>'
            '<text x="64" y="64" dy=".35em" text-anchor="middle" '
            'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" '
            f'font-size="52" font-weight="700" fill="#ffffff">{escape(initials(name))}</text>'
            '</svg>')
