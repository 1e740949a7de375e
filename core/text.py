"""Unicode text as Bazaar keeps and compares it."""

from __future__ import annotations

import unicodedata


def composed(text: str) -> str:
    """``text`` in Unicode's composed form (NFC). An accent can be typed, pasted
    (macOS pastes decomposed text) or imported as a letter plus a combining mark,
    which splits "re\u0301sume\u0301" into two words; stored text and every text
    a search backend indexes or is asked for go through here, so "résumé" is one
    word however it was encoded."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def typed(text: str) -> str:
    """Text someone typed or pasted into a search, as search reads it: compatibility
    forms as the letters they show (NFKC: full-width letters as Japanese keyboards
    type them, mathematical bold or italic letters pasted from styled text,
    ligatures), composed: "ＳＳＯ" and "𝐒𝐒𝐎" are "SSO"."""
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


def unaccented(text: str) -> str:
    """``text`` without its accents ("Crème Brûlée": "Creme Brulee"), composed: what
    search compares names and synonym terms by, as every index folds accents."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", "".join(
        char for char in decomposed if not unicodedata.combining(char)))
