"""Money and quantities without floats.

Money is an integer number of đồng. A quantity is kept as an integer count of its
smallest unit: thousandths for materials (3 decimal places), hundredths of a person-day
for labour (2 places). Values are rounded to whole đồng once, when something is recorded.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

KINDS = ("cash", "material", "labour")
VND = "VND"
LABOUR = "LABOUR"
MAX_VND = 10**13 - 1  # amounts stay below 10^13 đồng

# Smallest unit per kind: how many of them make one whole unit.
SCALE = {"cash": 1, "material": 1000, "labour": 100}
PLACES = {"cash": 0, "material": 3, "labour": 2}


def material_commodity(material_id: int) -> str:
    return f"MAT-{material_id}"


def kind_of(commodity: str) -> str:
    if commodity == VND:
        return "cash"
    if commodity == LABOUR:
        return "labour"
    return "material"


def parse_units(text: str, kind: str) -> int:
    """A decimal string ("12.5") as an integer count of the kind's smallest unit.

    Raises ValueError for anything that is not a plain positive decimal with at most the
    kind's number of places.
    """
    if not isinstance(text, str):
        raise ValueError("not a decimal string")
    try:
        value = Decimal(text.strip())
    except InvalidOperation as exc:
        raise ValueError("not a decimal number") from exc
    if not value.is_finite():
        raise ValueError("not a decimal number")
    scaled = value * SCALE[kind]
    if scaled != scaled.to_integral_value():
        raise ValueError("too many decimal places")
    return int(scaled)


def format_units(units: int, kind: str) -> str:
    """The decimal string of an integer count of smallest units (12500, material -> "12.500")."""
    places = PLACES[kind]
    if places == 0:
        return str(units)
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), SCALE[kind])
    return f"{sign}{whole}.{frac:0{places}d}"


def value_vnd(units: int, kind: str, unit_price_vnd: int) -> int:
    """The đồng value of `units` smallest units at a price per whole unit, rounded half up."""
    if kind == "cash":
        return units
    exact = Decimal(units) * Decimal(unit_price_vnd) / Decimal(SCALE[kind])
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
