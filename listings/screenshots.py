"""Screenshot uploads: checked with Pillow, stored under ``UPLOAD_FOLDER``.

The bytes are opened as an image (never trusted by name or declared type),
so a renamed executable, an oversized file or a decompression bomb is refused
before anything is written.
"""

from __future__ import annotations

import io
import os
import secrets
import stat
import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from sqlmodel import Session, func, select

from listings.models import Listing, Screenshot
from listings.services import ListingError

MAX_BYTES = 5 * 1024 * 1024
MAX_SIDE = 4096
MAX_SCREENSHOTS = 8
# Said to the partner beside the upload field and in the error summary.
WRONG_FORMAT = "The screenshot must be a PNG, JPEG or WebP image."
TOO_LARGE = "The screenshot must be smaller than 5 MB."
FORMATS = {"PNG": ("image/png", "png"), "JPEG": ("image/jpeg", "jpg"), "WEBP": ("image/webp", "webp")}


def inspect_image(data: bytes) -> tuple[str, str, int, int]:
    """(content type, extension, width, height) of a valid screenshot, else ListingError."""
    if len(data) > MAX_BYTES:
        raise ListingError(TOO_LARGE, field="image")
    if not data:
        raise ListingError("Choose a PNG, JPEG or WebP image to upload.", field="image")
    try:
        with warnings.catch_warnings():
            # Pillow warns, then raises, on decompression bombs: refuse both.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image_format = image.format
                width, height = image.size
                if image_format not in FORMATS:
                    raise ListingError(WRONG_FORMAT, field="image")
                if width > MAX_SIDE or height > MAX_SIDE:
                    raise ListingError(f"The screenshot must be at most {MAX_SIDE} pixels on a side; "
                                       f"this one is {width}×{height}.", field="image")
                image.verify()
    except ListingError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ListingError("The screenshot has too many pixels to open safely.", field="image") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ListingError(WRONG_FORMAT, field="image") from None
    content_type, extension = FORMATS[image_format]
    return content_type, extension, width, height


def special_file_kind(mode: int) -> str | None:
    """What a file that is not a regular one is ("a directory", "a device", ...), from
    its ``st_mode``; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def read_image_file(path: Path) -> bytes:
    """The bytes of the image file at ``path``, for the catalog import.

    Raises ``ListingError`` for a directory, device, pipe or socket, and for a
    file over ``MAX_BYTES``, without reading it: ``/dev/zero`` or a huge file
    must not be read into memory. Raises ``OSError`` when it cannot be opened.
    """
    # O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting
    # for one; fstat on the open file then refuses it (no race with a later swap).
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(fd)
        kind = special_file_kind(info.st_mode)
        if kind is not None:
            raise ListingError(f"is {kind}, not a regular file", field="image")
        if info.st_size > MAX_BYTES:
            raise ListingError(TOO_LARGE, field="image")
        with os.fdopen(fd, "rb") as handle:
            fd = None  # the file object closes it now
            # One byte past the limit, so a file that grew since fstat is still refused.
            return handle.read(MAX_BYTES + 1)
    finally:
        if fd is not None:
            os.close(fd)


def save_screenshot(session: Session, listing: Listing, data: bytes, caption: str,
                    upload_folder: str) -> Screenshot:
    """Validate and store one screenshot for ``listing``."""
    caption = (caption or "").strip()
    if len(caption) > 200:
        raise ListingError("A caption must be at most 200 characters.", field="caption")
    count = session.exec(select(func.count()).select_from(Screenshot)
                         .where(Screenshot.listing_id == listing.id)).one()
    if count >= MAX_SCREENSHOTS:
        raise ListingError(f"A listing may have at most {MAX_SCREENSHOTS} screenshots.",
                           field="image")
    content_type, extension, width, height = inspect_image(data)
    filename = f"{listing.id}-{secrets.token_hex(8)}.{extension}"
    folder = Path(upload_folder) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / filename).write_bytes(data)
    screenshot = Screenshot(listing_id=listing.id, filename=filename, content_type=content_type,
                            width=width, height=height, caption=caption, position=count)
    session.add(screenshot)
    session.flush()
    return screenshot


def delete_screenshot(session: Session, screenshot: Screenshot, upload_folder: str) -> None:
    path = Path(upload_folder) / "screenshots" / screenshot.filename
    session.delete(screenshot)
    path.unlink(missing_ok=True)


def screenshot_path(upload_folder: str, filename: str) -> Path:
    return Path(upload_folder) / "screenshots" / filename
