"""Text as people type it: NFC-normalised, trimmed, searchable without diacritics."""
from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def clean_text(value: str) -> str:
    """NFC, trimmed, inner runs of white space folded to one space."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", value)).strip()


def fold(value: str) -> str:
    """The search key of a name: lower case, no diacritics ("Nguyễn Văn Ấ" -> "nguyen van a")."""
    decomposed = unicodedata.normalize("NFD", clean_text(value).replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def mask_name(name: str) -> str:
    """A household head's name as the public may see it: "Nguyễn Văn An" -> "Nguyễn V. A."."""
    parts = clean_text(name).split(" ")
    if len(parts) == 1:
        return parts[0][:1] + "."
    return " ".join([parts[0]] + [p[:1] + "." for p in parts[1:]])
