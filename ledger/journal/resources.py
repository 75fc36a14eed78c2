"""The three kinds of resource (cash, material, labour) as the API speaks of them.

Input: `amount_vnd`; or `item`, `unit`, `quantity` (and `unit_value_vnd` when valued);
or `person_days` (and `day_rate_vnd`). Output: the same names, from a commodity and units.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from ..problems import InvalidInput
from .quantities import LABOUR, MAX_VND, VND, format_units, material_commodity, value_vnd

FIELDS_BY_KIND = {
    "cash": ("amount_vnd",),
    "material": ("item", "unit", "quantity", "unit_value_vnd"),
    "labour": ("person_days", "day_rate_vnd"),
}
PRICE_FIELD = {"material": "unit_value_vnd", "labour": "day_rate_vnd"}
ALL_FIELDS = {f for names in FIELDS_BY_KIND.values() for f in names}


@dataclass(frozen=True)
class Resource:
    kind: str
    commodity: str
    units: int  # đồng, thousandths of a unit, or hundredths of a person-day
    unit_price_vnd: int | None
    value_vnd: int  # rounded once, here


def resource_from(data: dict, *, priced: bool) -> Resource:
    """Read the resource of a request. `priced`: the request must value it (contributions
    and pledges do; allocations and transfers take the value of the lots they draw)."""
    from .service import material_for

    kind = data["kind"]
    errors: dict[str, list] = {}
    needed = [f for f in FIELDS_BY_KIND[kind] if priced or f not in PRICE_FIELD.values()]
    for name in needed:
        if data.get(name) is None:
            errors[name] = [_l("Required for kind %(kind)s.", kind=kind)]
    for name in ALL_FIELDS - set(FIELDS_BY_KIND[kind]):
        if data.get(name) is not None:
            errors[name] = [_l("Not allowed for kind %(kind)s.", kind=kind)]
    if not priced and kind in PRICE_FIELD and data.get(PRICE_FIELD[kind]) is not None:
        errors[PRICE_FIELD[kind]] = [_l("The value comes from the contributions drawn.")]
    if errors:
        raise InvalidInput(_l("The resource is not fully described."), errors=errors)

    if kind == "cash":
        return Resource("cash", VND, data["amount_vnd"], None, data["amount_vnd"])
    if kind == "material":
        commodity = material_commodity(material_for(data["item"], data["unit"]).id)
        units = data["quantity"]
    else:
        commodity, units = LABOUR, data["person_days"]
    price = data.get(PRICE_FIELD[kind]) if priced else None
    value = value_vnd(units, kind, price) if price is not None else 0
    if value > MAX_VND:
        raise InvalidInput(_l("The value is too large."), errors={PRICE_FIELD[kind]: [_l("Too large.")]})
    return Resource(kind, commodity, units, price, value)


def describe(kind: str, commodity: str, units: int, value: int | None = None,
             unit_price_vnd: int | None = None) -> dict:
    """A resource in the API's words, e.g. {"kind": "material", "item": "Xi măng", ...}."""
    from .service import commodity_label

    if kind == "cash":
        return {"kind": "cash", "amount_vnd": units}
    out = {"kind": kind}
    if kind == "material":
        label = commodity_label(commodity)
        out.update(item=label["item"], unit=label["unit"], quantity=format_units(units, kind))
        if unit_price_vnd is not None:
            out["unit_value_vnd"] = unit_price_vnd
    else:
        out["person_days"] = format_units(units, kind)
        if unit_price_vnd is not None:
            out["day_rate_vnd"] = unit_price_vnd
    if value is not None:
        out["value_vnd"] = value
    return out
