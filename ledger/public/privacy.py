"""What the public may see of people: the one place that decides.

Public pages, public API answers and the searchable statement show donors by the name they
chose to show (or "Nhà hảo tâm ẩn danh"), household heads masked unless their campaign's
committee publishes the list by name, and memos with phone and account numbers masked.
ID numbers, phones and exact addresses are never read here at all.
"""
from __future__ import annotations

import re

from ..text import clean_text, mask_name

# A run of digits, possibly grouped by single spaces, dots or dashes ("0912 345 678",
# "0912.345.678", "+84 912-345-678"), long enough to be a phone, an ID or an account
# number. Amounts written with thousands separators ("500.000", "1,000,000") are kept.
_DIGIT_RUN = re.compile(r"\+?\d(?:[ .\-]?\d)+")
_AMOUNT = re.compile(r"\d{1,3}(?:([.,])\d{3})(?:\1\d{3})*")
MIN_MASKED_DIGITS = 8  # shorter runs are amounts, years, house counts: not identifying
KEPT_DIGITS = 3  # the end of a masked number stays, so a donor recognises their own


def mask_number(run: str) -> str:
    """"0912345678" -> "*******678": the last digits only."""
    digits = re.sub(r"\D", "", run)
    return "*" * (len(digits) - KEPT_DIGITS) + digits[-KEPT_DIGITS:]


def mask_memo(memo: str | None) -> str | None:
    """A memo as the public may read it: phone, ID and account numbers masked.

    "UH nha tam - NGUYEN VAN A 0912345678" -> "UH nha tam - NGUYEN VAN A *******678".
    """
    if memo is None:
        return None

    def replace(match: re.Match) -> str:
        run = match.group(0)
        if _AMOUNT.fullmatch(run.strip()):
            return run
        if sum(ch.isdigit() for ch in run) < MIN_MASKED_DIGITS:
            return run
        return mask_number(run)

    return _DIGIT_RUN.sub(replace, clean_text(memo))


def household_name(household) -> str:
    """"Hộ Nguyễn V. A." (or the full name where the campaign publishes names)."""
    name = household.head_name if _publishes_names(household) else mask_name(household.head_name)
    return f"Hộ {name}"


def _publishes_names(household) -> bool:
    from ..campaigns.models import Campaign
    from ..extensions import db

    campaign = db.session.get(Campaign, household.campaign_id)
    return bool(campaign and campaign.publish_household_names)


def masked_reference(reference: str | None) -> str | None:
    """A bank reference shown by its last digits: "…123456"."""
    if not reference:
        return None
    tail = reference.strip()[-6:]
    return "…" + tail
