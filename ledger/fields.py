"""Marshmallow fields for API input: text, money, quantities, Vietnamese identifiers.

The plain functions (is_valid_tax_code, normalize_tax_code, normalize_phone,
is_valid_citizen_id) let services reuse the same rules. Messages never echo the input.
"""
from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from flask import has_request_context
from flask_babel import gettext
from marshmallow import ValidationError, fields

from ledger.journal.quantities import MAX_VND, PLACES, format_units, parse_units
from ledger.text import clean_text


def N_(s):  # marks a message for pybabel; translated where errors are rendered
    return s


def _error_with(field, key: str, **values) -> ValidationError:
    """An error whose message takes values: translated first, then filled in, since the
    filled-in text would no longer be found in the catalogue."""
    message = field.error_messages[key]
    if has_request_context():
        message = gettext(message)
    return ValidationError(message.format(**values))


VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
_DIGITS = re.compile(r"[0-9]+")  # ASCII only: str.isdigit() also accepts "١٢٣" and "²"
_MAX_DIGITS = len(str(MAX_VND))  # 13


class Text(fields.String):
    """A string, NFC-normalised, trimmed and with inner white space folded (clean_text)."""

    default_error_messages = {
        "invalid": N_("Enter text."),
        "blank": N_("This field may not be blank."),
        "too_long": N_("Use at most {max} characters."),
    }

    def __init__(self, max_length: int = 300, **kwargs):
        super().__init__(**kwargs)
        self.max_length = max_length

    def _deserialize(self, value, attr, data, **kwargs):
        text = clean_text(super()._deserialize(value, attr, data, **kwargs))
        if not text and self.required:
            raise self.make_error("blank")
        if len(text) > self.max_length:
            raise _error_with(self, "too_long", max=self.max_length)
        return text


class MoneyVND(fields.Field):
    """A whole number of đồng: a JSON integer or a string of digits; 0 < amount < 10^13."""

    default_error_messages = {
        "invalid": N_("Enter the amount as a whole number of đồng."),
        "float": N_("Money is a whole number of đồng; numbers with decimals are not accepted."),
        "not_positive": N_("The amount must be greater than zero."),
        "negative": N_("The amount cannot be negative."),
        "too_large": N_("The amount is too large: it must be less than 10 trillion đồng."),
    }

    def __init__(self, *, allow_zero: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.allow_zero = allow_zero

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):  # bool is an int subclass: True must not mean 1 đồng
            raise self.make_error("invalid")
        if isinstance(value, float):
            raise self.make_error("float")
        if isinstance(value, str):
            if not _DIGITS.fullmatch(value):
                raise self.make_error("invalid")
            if len(value.lstrip("0")) > _MAX_DIGITS:  # before int(): no huge conversions
                raise self.make_error("too_large")
            value = int(value)
        elif not isinstance(value, int):
            raise self.make_error("invalid")
        if value < 0 or (value == 0 and not self.allow_zero):
            raise self.make_error("negative" if self.allow_zero else "not_positive")
        if value > MAX_VND:
            raise self.make_error("too_large")
        return value

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else int(value)


class Quantity(fields.Field):
    """A material (3 places) or labour (2 places) quantity as a decimal string; loads to
    an int of smallest units ("12.5" material -> 12500), dumps as "12.500"."""

    default_error_messages = {
        "invalid": N_('Enter the quantity as a decimal string, such as "12.5".'),
        "places": N_("Use at most {places} decimal places."),
        "not_positive": N_("The quantity must be greater than zero."),
        "too_large": N_("The quantity is too large."),
    }
    _PATTERN = re.compile(r"([0-9]+)(?:\.([0-9]+))?")  # no sign, exponent, spaces, NaN

    def __init__(self, kind: str, **kwargs):
        if kind not in ("material", "labour"):
            raise ValueError(f"Quantity kind must be 'material' or 'labour', not {kind!r}")
        super().__init__(**kwargs)
        self.kind = kind

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):  # floats lose digits; ints hide the unit's places
            raise self.make_error("invalid")
        match = self._PATTERN.fullmatch(value)
        if not match:
            raise self.make_error("invalid")
        whole, frac = match.group(1), match.group(2) or ""
        places = PLACES[self.kind]
        if len(frac) > places:
            raise _error_with(self, "places", places=places)
        if len(whole.lstrip("0")) > _MAX_DIGITS:
            raise self.make_error("too_large")
        units = parse_units(value, self.kind)
        if units <= 0:
            raise self.make_error("not_positive")
        if units > MAX_VND:
            raise self.make_error("too_large")
        return units

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else format_units(int(value), self.kind)


# --- Tax code (mã số thuế, MST) ---------------------------------------------------------
# The 10th digit checks the first nine: weights 31,29,23,19,17,13,7,5,3; check digit =
# 10 - (sum mod 11), and a remainder of 0 (which would need "10") never occurs in a valid code.
# Source: python-stdnum, stdnum/vn/mst.py (calc_check_digit), github.com/arthurdejong/
# python-stdnum; its examples 0100233488 and 0314409058-002 pass this rule.
_MST_WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)
_MST = re.compile(r"([0-9]{10})(?:-?([0-9]{3}))?")


def _mst_check_ok(base: str) -> bool:
    remainder = sum(w * int(d) for w, d in zip(_MST_WEIGHTS, base[:9], strict=True)) % 11
    return remainder != 0 and int(base[9]) == 10 - remainder


def _mst_parts(s) -> tuple[str, str | None] | None:  # (10 digits, branch), if shaped right
    match = _MST.fullmatch(s.strip()) if isinstance(s, str) else None
    return (match.group(1), match.group(2)) if match else None


def normalize_tax_code(s) -> str | None:
    """The tax code as 0101234567 or 0101234567-001 if s is valid, else None."""
    parts = _mst_parts(s)
    if parts is None:
        return None
    base, branch = parts
    if base[2:9] == "0000000" or branch == "000" or not _mst_check_ok(base):
        return None
    return f"{base}-{branch}" if branch else base


def is_valid_tax_code(s) -> bool:
    return normalize_tax_code(s) is not None


class TaxCode(fields.Field):
    default_error_messages = {
        "invalid": N_("Enter a tax code of 10 digits, or 13 digits for a branch (0101234567-001)."),
        "check": N_("This tax code is not valid. Check the digits."),
    }

    def _deserialize(self, value, attr, data, **kwargs):
        if _mst_parts(value) is None:
            raise self.make_error("invalid")
        code = normalize_tax_code(value)
        if code is None:
            raise self.make_error("check")
        return code


# --- Mobile phone and citizen ID --------------------------------------------------------
_PHONE_SHAPE = re.compile(r"\+?[0-9]+(?:[ .-][0-9]+)*")  # separators only between digits
_MOBILE = re.compile(r"0[35789][0-9]{8}")


def normalize_phone(s) -> str | None:
    """A Vietnamese mobile number as "0912345678", or None if s is not one."""
    if not isinstance(s, str) or not _PHONE_SHAPE.fullmatch(s.strip()):
        return None
    digits = re.sub(r"[ .-]", "", s.strip())
    if digits.startswith("+"):
        if not digits.startswith("+84"):
            return None
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits if _MOBILE.fullmatch(digits) else None


class VietnamPhone(fields.Field):
    default_error_messages = {
        "invalid": N_("Enter a Vietnamese mobile number, such as 0912 345 678."),
    }

    def _deserialize(self, value, attr, data, **kwargs):
        phone = normalize_phone(value)
        if phone is None:
            raise self.make_error("invalid")
        return phone


# Province codes of the 12-digit citizen ID (CCCD): the codes in use between 001 and 096.
CCCD_PROVINCES = frozenset(
    "001 002 004 006 008 010 011 012 014 015 017 019 020 022 024 025 026 027 030 031 033 "
    "034 035 036 037 038 040 042 044 045 046 048 049 051 052 054 056 058 060 062 064 066 "
    "067 068 070 072 074 075 077 079 080 082 083 084 086 087 089 091 092 093 094 095 096".split()
)
_CCCD = re.compile(r"[0-9]{12}")


def is_valid_citizen_id(s) -> bool:
    """12 digits (spaces ignored) starting with a province code; the rest has no checksum."""
    digits = s.replace(" ", "") if isinstance(s, str) else ""
    return bool(_CCCD.fullmatch(digits)) and digits[:3] in CCCD_PROVINCES


class CitizenId(fields.Field):
    default_error_messages = {
        "invalid": N_("Enter the 12 digits of the citizen ID card."),
        "province": N_("The first three digits of the citizen ID are not a province code."),
    }

    def _deserialize(self, value, attr, data, **kwargs):
        digits = value.replace(" ", "") if isinstance(value, str) else ""
        if not _CCCD.fullmatch(digits):
            raise self.make_error("invalid")
        if not is_valid_citizen_id(digits):
            raise self.make_error("province")
        return digits


# --- Dates and choices ------------------------------------------------------------------
def today_in_vietnam() -> dt.date:
    return dt.datetime.now(VN_TZ).date()


def start_of_day(day: dt.date) -> dt.datetime:
    """The moment a Vietnamese day begins (dates people give are local; moments are UTC)."""
    return dt.datetime.combine(day, dt.time(), VN_TZ)


def end_of_day(day: dt.date) -> dt.datetime:
    """The moment the next Vietnamese day begins: `moment < end_of_day(d)` is "on or before d"."""
    return start_of_day(day + dt.timedelta(days=1))


class LocalDate(fields.Field):
    """An ISO date "YYYY-MM-DD"; with not_future=True, not after today in Vietnam."""

    default_error_messages = {
        "invalid": N_("Enter a date as YYYY-MM-DD, such as 2025-03-31."),
        "future": N_("The date cannot be in the future."),
    }
    _ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # fromisoformat alone also takes "20250331"

    def __init__(self, *, not_future: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.not_future = not_future

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not self._ISO.fullmatch(value):
            raise self.make_error("invalid")
        try:
            day = dt.date.fromisoformat(value)
        except ValueError as exc:  # e.g. 2025-02-30
            raise self.make_error("invalid") from exc
        if self.not_future and day > today_in_vietnam():
            raise self.make_error("future")
        return day

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else value.isoformat()


class Choice(fields.String):
    """A string that must be one of `values`."""

    default_error_messages = {
        "invalid": N_("Enter text."),
        "choice": N_("Choose one of: {choices}."),
    }

    def __init__(self, values, **kwargs):
        kwargs["metadata"] = {"enum": list(values), **kwargs.get("metadata", {})}
        super().__init__(**kwargs)
        self.values = tuple(values)

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if value not in self.values:
            raise _error_with(self, "choice", choices=", ".join(self.values))
        return value
