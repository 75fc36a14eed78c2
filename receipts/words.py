"""Numbers, money and dates as a Vietnamese receipt prints them.

Money is an integer number of đồng, quantities are decimal strings: nothing here goes
through a float. Amounts read in words follow Vietnamese accounting usage (the reading on
invoices and vouchers), e.g. 1.005.000 ₫ → "Một triệu không trăm linh năm nghìn đồng chẵn".

num2words' Vietnamese is not used for the words: it reads 1.010 as "một nghìn lẻ mười",
drops the zero hundreds of inner groups ("hai triệu năm nghìn" for 2.005.000) and misreads
10^15 as "một trăm nghìn tỷ".
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

NBSP = "\u00a0"
DONG = "₫"

_DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
_GROUPS = ("", "nghìn", "triệu")  # then tỷ, which repeats: nghìn tỷ, triệu tỷ, tỷ tỷ


def _integer(amount: int | str) -> int:
    """A whole number of đồng from an int or a decimal string ("5000000", "5000000.00")."""
    if isinstance(amount, bool) or not isinstance(amount, (int, str)):
        raise TypeError(f"an amount is an int or a decimal string, not {type(amount).__name__}")
    if isinstance(amount, int):
        return amount
    try:
        value = Decimal(amount.strip())
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal number: {amount!r}") from exc
    if not value.is_finite() or value != value.to_integral_value():
        raise ValueError(f"not a whole number of đồng: {amount!r}")
    return int(value)


def _group_digits(digits: str, sep: str) -> str:
    """'1234567' → '1.234.567' (digits only, no sign)."""
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i:i + 3] for i in range(head, len(digits), 3)]
    return sep.join(parts)


def format_vnd(amount: int | str) -> str:
    """5000000 → "5.000.000 ₫" (dot between thousands, a non-breaking space before ₫)."""
    value = _integer(amount)
    sign = "-" if value < 0 else ""
    return f"{sign}{_group_digits(str(abs(value)), '.')}{NBSP}{DONG}"


def format_decimal(text: str) -> str:
    """A decimal string in Vietnamese notation: "1234.5" → "1.234,5", "12.500" → "12,5".

    Trailing zeros of the fraction are dropped (quantities arrive with a fixed number of
    places, "50.000" for fifty, which a Vietnamese reader would take for fifty thousand).
    """
    if not isinstance(text, str):
        raise TypeError(f"a decimal string, not {type(text).__name__}")
    try:
        value = Decimal(text.strip())
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal number: {text!r}") from exc
    if not value.is_finite():
        raise ValueError(f"not a decimal number: {text!r}")
    sign = "-" if value < 0 and value != 0 else ""
    whole, _, frac = format(abs(value), "f").partition(".")
    frac = frac.rstrip("0")
    out = sign + _group_digits(whole, ".")
    return f"{out},{frac}" if frac else out


def _read_triple(n: int, full: bool) -> list[str]:
    """Words of 0 < n < 1000; `full` reads the hundreds even when zero ("không trăm linh năm"),
    as every group after the first one is read."""
    hundreds, rest = divmod(n, 100)
    tens, units = divmod(rest, 10)
    words: list[str] = []
    if hundreds or full:
        words += [_DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units:
            if words:
                words.append("linh")
            words.append(_DIGITS[units])
        return words
    if tens == 1:
        words.append("mười")
    else:
        words += [_DIGITS[tens], "mươi"]
    if units == 1:
        words.append("mốt" if tens > 1 else "một")
    elif units == 4:
        words.append("tư" if tens > 1 else "bốn")
    elif units == 5:
        words.append("lăm")
    elif units:
        words.append(_DIGITS[units])
    return words


def _read_below_billion(n: int, full: bool) -> list[str]:
    """Words of 0 < n < 10^9, groups of three; all-zero groups are skipped."""
    triples = [(n // 10**6) % 1000, (n // 1000) % 1000, n % 1000]
    words: list[str] = []
    for triple, unit in zip(triples, reversed(_GROUPS), strict=True):
        if triple:
            words += _read_triple(triple, full or bool(words))
            if unit:
                words.append(unit)
    return words


def _read(n: int, full: bool = False) -> list[str]:
    """Words of n > 0: blocks of nine digits joined by "tỷ" (10^12 is "nghìn tỷ")."""
    billions, rest = divmod(n, 10**9)
    words: list[str] = []
    if billions:
        words += _read(billions, full) + ["tỷ"]
    if rest:
        words += _read_below_billion(rest, full or bool(words))
    return words


def number_in_words(n: int) -> str:
    """A whole number ≥ 0 in Vietnamese words, lower case: 1005 → "một nghìn không trăm linh năm"."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"an int, not {type(n).__name__}")
    if n < 0:
        raise ValueError("a negative number")
    return " ".join(_read(n)) if n else "không"


def vnd_in_words(amount: int | str) -> str:
    """5000000 → "Năm triệu đồng chẵn": the amount line of a receipt, in words."""
    value = _integer(amount)
    if value < 0:
        raise ValueError("a receipt's amount is never negative")
    words = number_in_words(value)
    # Amounts are whole đồng, so always "chẵn" (no odd hào/xu).
    return f"{words[0].upper()}{words[1:]} đồng chẵn"


def format_date(iso: str) -> str:
    """"2025-07-05" → "05/07/2025"."""
    if not isinstance(iso, str):
        raise TypeError(f"an ISO date string, not {type(iso).__name__}")
    try:
        day = date.fromisoformat(iso.strip())
    except ValueError as exc:
        raise ValueError(f"not an ISO date (YYYY-MM-DD): {iso!r}") from exc
    return f"{day.day:02d}/{day.month:02d}/{day.year:04d}"
