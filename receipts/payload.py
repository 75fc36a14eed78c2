"""The receipt's public payload and its one canonical byte form.

The payload holds what a donor and the public may see: the receipt number, fund, campaign,
date, the donor's display name (or "Nhà hảo tâm ẩn danh"), what was given and its value,
the earmark, the issuing officer's display name, the key id and the version. Never an ID
number, a phone number, an address or a staff memo: build_payload takes no such field.
Amounts and quantities are decimal strings, never floats.
"""
from __future__ import annotations

import json
import unicodedata
from typing import Any

PAYLOAD_VERSION = 1
ANONYMOUS_DONOR = "Nhà hảo tâm ẩn danh"

KINDS = ("cash", "material", "labour")
# The fields each kind carries besides value_vnd (all decimal strings).
RESOURCE_FIELDS = {"cash": ("amount_vnd",), "material": ("item", "unit", "quantity", "unit_value_vnd"),
                   "labour": ("person_days", "day_rate_vnd")}


def canonical_bytes(body: Any) -> bytes:
    """UTF-8, NFC, sorted keys, no white space: the bytes that are signed."""
    try:
        text = _dumps(body)
    except ValueError:  # NaN or infinity: refused below, as any float
        text = None
    # Text that is NFC as a whole is NFC in every key and value (each is set off by quotes,
    # which no mark composes with), so the usual body needs one quick check, not a walk.
    if text is None or _may_hold_float(text) or not unicodedata.is_normalized("NFC", text):
        text = _dumps(_nfc(body))
    return text.encode("utf-8")


def _may_hold_float(text: str) -> bool:
    """Could this JSON hold a float? Python writes every float with a "." or an exponent
    "e+"/"e-". A string may hold them too: such a body is checked value by value (which
    refuses floats), only slower."""
    return "." in text or "e+" in text or "e-" in text


def _dumps(body: Any) -> str:
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _nfc(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {_nfc(k): _nfc(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_nfc(v) for v in value]
    if isinstance(value, float):
        raise TypeError("no floats in a receipt: amounts are decimal strings")
    return value


def build_payload(*, number: str, fund: dict[str, str], campaign: dict[str, str], received_on: str,
                  donor: str | None, donor_kind: str | None, method: str, resource: dict[str, Any],
                  earmark: dict[str, Any] | None, issued_by: str, issued_at: str, key_id: str,
                  leaf_index: int) -> dict[str, Any]:
    """The payload of one receipt. `resource` is {"kind": ..., <RESOURCE_FIELDS>, "value_vnd"}."""
    kind = resource["kind"]
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    given = {"kind": kind, "value_vnd": str(resource["value_vnd"])}
    for field in RESOURCE_FIELDS[kind]:
        if resource.get(field) is not None:
            given[field] = str(resource[field])
    return _nfc({
        "v": PAYLOAD_VERSION,
        "number": number,
        "fund": {"code": fund["code"], "name": fund["name"], "committee": fund.get("committee")},
        "campaign": {"code": campaign["code"], "name": campaign["name"]},
        "received_on": received_on,
        "donor": donor or ANONYMOUS_DONOR,
        "donor_kind": donor_kind,
        "method": method,
        "given": given,
        "earmark": earmark,
        "issued_by": issued_by,
        "issued_at": issued_at,
        "key_id": key_id,
        "leaf_index": leaf_index,
    })


def build_void_statement(*, number: str, voided_on: str, reason: str, key_id: str) -> dict[str, Any]:
    """What a void says, signed like the receipt: this number is no longer valid, and why."""
    return _nfc({"v": PAYLOAD_VERSION, "voids": number, "voided_on": voided_on, "reason": reason,
                 "key_id": key_id})
