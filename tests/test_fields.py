"""Unit tests for ledger.fields: plain marshmallow schemas, no Flask app."""
from __future__ import annotations

import datetime as dt
import unicodedata

import pytest
from marshmallow import Schema, ValidationError

from ledger import fields as lf
from ledger.fields import (
    Choice,
    CitizenId,
    LocalDate,
    MoneyVND,
    Quantity,
    TaxCode,
    Text,
    VietnamPhone,
    is_valid_citizen_id,
    is_valid_tax_code,
    normalize_phone,
    normalize_tax_code,
)


def load(field, value):
    """Load {"v": value} through a one-field schema; return the loaded value."""
    schema = Schema.from_dict({"v": field})()
    return schema.load({"v": value})["v"]


def error(field, value) -> str:
    """The single error message for {"v": value}."""
    schema = Schema.from_dict({"v": field})()
    with pytest.raises(ValidationError) as exc:
        schema.load({"v": value})
    (message,) = exc.value.messages["v"]
    return message


def dump(field, value):
    return Schema.from_dict({"v": field})().dump({"v": value})["v"]


# --- Text -----------------------------------------------------------------------------
def test_text_nfc_trim_and_fold_spaces():
    decomposed = "  Nguye\u0302\u0303n   Va\u0306n  An "
    assert unicodedata.is_normalized("NFC", decomposed) is False
    result = load(Text(), decomposed)
    assert result == "Nguyễn Văn An"
    assert result == unicodedata.normalize("NFC", result)
    assert load(Text(), "Nguye\u0302\u0303n") == "Nguy\u1ec5n"


@pytest.mark.parametrize("blank", ["", "   ", "\t\n "])
def test_required_text_blank_is_error(blank):
    assert error(Text(required=True), blank) == "This field may not be blank."


def test_optional_text_blank_is_empty():
    assert load(Text(), "   ") == ""


def test_text_max_length_counts_nfc_characters():
    assert load(Text(max_length=6), "Nguye\u0302\u0303n") == "Nguyễn"  # 8 code points in NFD
    assert error(Text(max_length=5), "Nguyễn") == "Use at most 5 characters."
    assert len(load(Text(), "a" * 300)) == 300
    assert error(Text(), "a" * 301) == "Use at most 300 characters."


@pytest.mark.parametrize("value", [12, 1.5, True, ["a"], {"a": 1}])
def test_text_rejects_non_strings(value):
    assert error(Text(), value) == "Enter text."


# --- MoneyVND -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value, expected",
    [(5000000, 5000000), ("5000000", 5000000), (1, 1), ("0050", 50), (10**13 - 1, 10**13 - 1),
     (str(10**13 - 1), 10**13 - 1)],
)
def test_money_accepts_integers_and_digit_strings(value, expected):
    result = load(MoneyVND(), value)
    assert result == expected and type(result) is int


@pytest.mark.parametrize("value", [1.5, 5000000.0, 0.0])
def test_money_rejects_floats(value):
    message = error(MoneyVND(), value)
    assert "whole number of đồng" in message and "decimals" in message


@pytest.mark.parametrize(
    "value", [True, False, "5000000.0", "1,000", "5 000", " 5000", "-5", "+5", "1e6", "", "٥٠٠",
              None, [5], "５０００"],
)
def test_money_rejects_non_integers(value):
    if value is None:
        assert error(MoneyVND(), value) == "Field may not be null."
    else:
        assert error(MoneyVND(), value) == "Enter the amount as a whole number of đồng."


@pytest.mark.parametrize("value", [0, "0", -1, -5000000])
def test_money_must_be_positive(value):
    assert error(MoneyVND(), value) == "The amount must be greater than zero."


@pytest.mark.parametrize("value", [10**13, str(10**13), 10**20, "9" * 5000])
def test_money_below_ten_trillion(value):
    assert error(MoneyVND(), value).startswith("The amount is too large")


def test_money_allow_zero():
    assert load(MoneyVND(allow_zero=True), 0) == 0
    assert load(MoneyVND(allow_zero=True), "0") == 0
    assert error(MoneyVND(allow_zero=True), -1) == "The amount cannot be negative."


def test_money_dumps_json_integer():
    assert dump(MoneyVND(), 5000000) == 5000000
    assert dump(MoneyVND(), None) is None


# --- Quantity -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kind, text, units",
    [("material", "12.5", 12500), ("material", "12.500", 12500), ("material", "0.001", 1),
     ("material", "7", 7000), ("labour", "1.25", 125), ("labour", "3", 300),
     ("labour", "0.5", 50), ("material", "9999999999.999", 10**13 - 1)],
)
def test_quantity_loads_to_smallest_units(kind, text, units):
    assert load(Quantity(kind), text) == units


@pytest.mark.parametrize("value", [12.5, 12, 1.0, True, None])
def test_quantity_rejects_numbers(value):
    if value is None:
        assert error(Quantity("material"), value) == "Field may not be null."
    else:
        assert "decimal string" in error(Quantity("material"), value)


@pytest.mark.parametrize(
    "text", ["1e3", "1E3", "-1", "+1", "1 000", "1. 5", " 12.5", "12.5 ", "NaN", "Infinity",
             "inf", "", ".5", "5.", "1,5", "0x10", "١٢"],
)
def test_quantity_rejects_malformed_strings(text):
    message = error(Quantity("material"), text)
    assert message == 'Enter the quantity as a decimal string, such as "12.5".'


def test_quantity_places_per_kind():
    assert error(Quantity("labour"), "0.001") == "Use at most 2 decimal places."
    assert error(Quantity("material"), "0.0001") == "Use at most 3 decimal places."
    assert error(Quantity("material"), "12.5000") == "Use at most 3 decimal places."


@pytest.mark.parametrize("text", ["0", "0.000", "00.00"])
def test_quantity_must_be_positive(text):
    assert error(Quantity("material"), text) == "The quantity must be greater than zero."


@pytest.mark.parametrize("text", ["10000000000", "10000000000.000", "9" * 40])
def test_quantity_units_below_ten_to_the_13(text):
    assert error(Quantity("material"), text) == "The quantity is too large."
    assert load(Quantity("labour"), "99999999999.99") == 10**13 - 1
    assert error(Quantity("labour"), "100000000000") == "The quantity is too large."


def test_quantity_dumps_fixed_places():
    assert dump(Quantity("material"), 12500) == "12.500"
    assert dump(Quantity("material"), 1) == "0.001"
    assert dump(Quantity("labour"), 125) == "1.25"
    assert dump(Quantity("labour"), None) is None


def test_quantity_kind_must_be_material_or_labour():
    with pytest.raises(ValueError):
        Quantity("cash")


# --- TaxCode --------------------------------------------------------------------------
# Published codes of large companies (each seen in several unrelated public sources), all
# passing the check-digit rule; 0100233488 and 0314409058 are python-stdnum's examples.
REAL_TAX_CODES = [
    "0300588569",  # Vinamilk (Công ty Cổ phần Sữa Việt Nam)
    "0100109106",  # Viettel (Tập đoàn Công nghiệp - Viễn thông Quân đội)
    "0101248141",  # FPT (Công ty Cổ phần FPT)
    "0100233488",
    "0314409058",
]


@pytest.mark.parametrize("code", REAL_TAX_CODES)
def test_real_tax_codes_are_valid(code):
    assert is_valid_tax_code(code)
    assert load(TaxCode(), code) == code


@pytest.mark.parametrize(
    "value, expected",
    [("0100109106-509", "0100109106-509"), ("0100109106509", "0100109106-509"),
     ("0314409058-002", "0314409058-002"), (" 0300588569 ", "0300588569")],
)
def test_tax_code_branches_normalised(value, expected):
    assert normalize_tax_code(value) == expected
    assert load(TaxCode(), value) == expected


@pytest.mark.parametrize(
    "code", ["0300588560", "0100109107", "0101248142", "0100233480", "0314409058-000",
             "0100000009"],
)
def test_tax_code_bad_check_digit_or_component(code):
    assert not is_valid_tax_code(code)
    assert normalize_tax_code(code) is None
    assert error(TaxCode(), code) == "This tax code is not valid. Check the digits."


def test_tax_code_remainder_zero_is_never_valid():
    # 010000005: 29*1 + 3*5 = 44, a multiple of 11 -> the check digit would be "10".
    assert not any(is_valid_tax_code("010000005" + str(c)) for c in range(10))
    # Every other prefix has exactly one check digit.
    assert sum(is_valid_tax_code("030058856" + str(c)) for c in range(10)) == 1


@pytest.mark.parametrize(
    "value", ["030058856", "03005885691", "0300588569-01", "0300588569-0001", "03005885A9",
              "0300 588 569", "0300588569--001", "MST0300588569", "", 300588569, None],
)
def test_tax_code_wrong_shape(value):
    assert not is_valid_tax_code(value)
    if value is None:
        assert error(TaxCode(), value) == "Field may not be null."
    else:
        assert error(TaxCode(), value).startswith("Enter a tax code of 10 digits")


# --- VietnamPhone ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "value",
    ["0912345678", "+84912345678", "84912345678", "0912 345 678", "0912.345.678",
     "0912-345-678", "+84 912 345 678", "+84-912-345-678", " 0912345678 "],
)
def test_phone_accepted_and_normalised(value):
    assert normalize_phone(value) == "0912345678"
    assert load(VietnamPhone(), value) == "0912345678"


@pytest.mark.parametrize("value", ["0321234567", "0561234567", "0781234567", "0861234567",
                                   "+84 386 123 456"])
def test_phone_mobile_prefixes(value):
    assert normalize_phone(value) is not None


@pytest.mark.parametrize(
    "value",
    ["02438123456",  # Hà Nội landline
     "0241234567", "0112345678", "0412345678", "0612345678", "091234567", "09123456789",
     "+1 912 345 678", "+840912345678", "0912  345678", "0912--345678", "0912 345 678.",
     "(091) 2345678", "o912345678", "", 912345678, None],
)
def test_phone_rejected(value):
    assert normalize_phone(value) is None


def test_phone_error_does_not_echo_the_number():
    message = error(VietnamPhone(), "0241234567")
    assert message == "Enter a Vietnamese mobile number, such as 0912 345 678."
    assert "0241234567" not in message


# --- CitizenId ------------------------------------------------------------------------
@pytest.mark.parametrize("value, expected",
                         [("001087123456", "001087123456"), ("079 2 01 234567", "079201234567"),
                          ("096999999999", "096999999999"), ("048012345678", "048012345678")])
def test_citizen_id_accepted(value, expected):
    assert is_valid_citizen_id(value)
    assert load(CitizenId(), value) == expected


@pytest.mark.parametrize("value", ["003087123456", "000087123456", "097087123456",
                                   "099087123456", "050087123456"])
def test_citizen_id_unknown_province(value):
    assert not is_valid_citizen_id(value)
    message = error(CitizenId(), value)
    assert message == "The first three digits of the citizen ID are not a province code."
    assert value not in message


@pytest.mark.parametrize("value", ["00108712345", "0010871234567", "00108712345A", "001-087-123456",
                                   "", 1087123456])
def test_citizen_id_wrong_shape(value):
    assert not is_valid_citizen_id(value)
    assert error(CitizenId(), value) == "Enter the 12 digits of the citizen ID card."


def test_citizen_id_province_list_complete():
    assert len(lf.CCCD_PROVINCES) == 63
    assert all(is_valid_citizen_id(code + "087123456") for code in lf.CCCD_PROVINCES)


# --- LocalDate ------------------------------------------------------------------------
def test_local_date_iso_round_trip():
    assert load(LocalDate(), "2025-03-31") == dt.date(2025, 3, 31)
    assert dump(LocalDate(), dt.date(2025, 3, 31)) == "2025-03-31"
    assert dump(LocalDate(), None) is None


@pytest.mark.parametrize("value", ["2025-02-30", "20250331", "31/03/2025", "2025-3-31",
                                   "2025-03-31T00:00:00", "", 20250331])
def test_local_date_rejects_other_forms(value):
    assert error(LocalDate(), value) == "Enter a date as YYYY-MM-DD, such as 2025-03-31."


def test_local_date_not_future_uses_vietnam_today(monkeypatch):
    monkeypatch.setattr(lf, "today_in_vietnam", lambda: dt.date(2025, 6, 1))
    assert load(LocalDate(not_future=True), "2025-06-01") == dt.date(2025, 6, 1)
    assert error(LocalDate(not_future=True), "2025-06-02") == "The date cannot be in the future."
    assert load(LocalDate(), "2099-01-01") == dt.date(2099, 1, 1)


def test_today_in_vietnam_is_utc_plus_7():
    # Vietnam has no daylight saving time: today there is today at UTC+7.
    assert lf.today_in_vietnam() == dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).date()
    assert lf.VN_TZ.utcoffset(dt.datetime(2025, 1, 1)) == dt.timedelta(hours=7)


# --- Choice ---------------------------------------------------------------------------
def test_choice():
    field = Choice(("cash", "material", "labour"))
    assert load(field, "labour") == "labour"
    assert error(field, "money") == "Choose one of: cash, material, labour."
    assert error(field, "Cash") == "Choose one of: cash, material, labour."
    assert error(field, 1) == "Enter text."


# --- Messages -------------------------------------------------------------------------
def test_all_messages_are_marked_plain_sentences():
    for cls in (Text, MoneyVND, Quantity, TaxCode, VietnamPhone, CitizenId, LocalDate, Choice):
        for key, message in cls.default_error_messages.items():
            if key in ("required", "null", "validator_failed"):
                continue  # marshmallow's own
            assert message.endswith("."), (cls, key)
            assert message[0].isupper(), (cls, key)
