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
