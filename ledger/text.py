"""Text as people type it: NFC-normalised, trimmed, searchable without diacritics."""
from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def clean_text(value: str) -> str:
    """NFC, trimmed, inner runs of white space folded to one space."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", value)).strip()


_COMBINING_DIACRITICS = dict.fromkeys(range(0x300, 0x370))  # U+0300-U+036F: every Vietnamese mark


def fold(value: str) -> str:
    """The search key of a name: lower case, no diacritics ("Nguyễn Văn Ấ" -> "nguyen van a")."""
    text = clean_text(value).replace("đ", "d").replace("Đ", "D")
    if not text.isascii():  # ASCII has nothing to take off (most memos and bank names)
        text = unicodedata.normalize("NFD", text).translate(_COMBINING_DIACRITICS)
        if not text.isascii():  # other scripts' marks: the general rule
            text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.casefold()


def mask_name(name: str) -> str:
    """A household head's name as the public may see it: "Nguyễn Văn An" -> "Nguyễn V. A."."""
    parts = clean_text(name).split(" ")
    if len(parts) == 1:
        return parts[0][:1] + "."
    return " ".join([parts[0]] + [p[:1] + "." for p in parts[1:]])
