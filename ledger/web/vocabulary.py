"""What the staff pages call the ledger's codes: "new_build" is "Xây mới" to a person.

Every choice list of a form and every code shown in a table reads these, so one word is
used for one thing everywhere. The codes themselves are the API's (DESIGN.md, §2).
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

try:
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover - WTForms before 3.3 takes (value, label) pairs
    SelectChoice = None

DONOR_KINDS = {
    "business": _l("Business"),
    "union": _l("Union or association"),
    "agency": _l("Agency"),
    "state": _l("State budget"),
    "individual": _l("Individual"),
}
PUBLIC_DISPLAYS = {"named": _l("Show the name"), "anonymous": _l("Anonymous on public pages")}
STATE_LEVELS = {"central": _l("Central"), "province": _l("Province"), "commune": _l("Commune")}
RESOURCE_KINDS = {"cash": _l("Cash"), "material": _l("Materials"), "labour": _l("Labour")}
METHODS = {"bank_transfer": _l("Bank transfer"), "cash": _l("Cash"), "in_kind": _l("In kind"),
           "labour": _l("Labour")}
CATEGORIES = {
    "poor": _l("Poor household"),
    "near_poor": _l("Near-poor household"),
    "meritorious": _l("Family of merit"),
    "disaster": _l("Disaster-affected"),
    "other": _l("Other"),
}
SUPPORT_TYPES = {"new_build": _l("New build"), "repair": _l("Repair")}
HOUSEHOLD_STATUSES = {
    "surveyed": _l("Surveyed"),
    "approved": _l("Approved"),
    "building": _l("Building"),
    "completed": _l("Completed"),
    "handed_over": _l("Handed over"),
}
PLEDGE_STATUSES = {
    "open": _l("Open"),
    "partial": _l("Partly fulfilled"),
    "fulfilled": _l("Fulfilled"),
    "cancelled": _l("Cancelled"),
    "overdue": _l("Overdue"),
}
RECORD_STATUSES = {"valid": _l("Valid"), "voided": _l("Voided"), "reversed": _l("Reversed")}

# The fields of donors and households as their edit histories name them.
FIELD_NAMES = {
    "name": _l("Name"),
    "public_display": _l("Public display"),
    "tax_code": _l("Tax code"),
    "state_level": _l("State budget level"),
    "area_code": _l("Area"),
    "id_number": _l("Citizen ID number"),
    "phone": _l("Phone"),
    "address": _l("Address"),
    "head_name": _l("Head of household"),
    "category": _l("Category"),
    "support_type": _l("Support type"),
    "approved_amount_vnd": _l("Approved amount"),
    "own_contribution_vnd": _l("Household's own contribution"),
}
MONEY_FIELDS = frozenset({"approved_amount_vnd", "own_contribution_vnd"})
# Which vocabulary a changed field's values come from.
FIELD_VALUES = {"public_display": PUBLIC_DISPLAYS, "state_level": STATE_LEVELS, "category": CATEGORIES,
                "support_type": SUPPORT_TYPES}


def options(pairs) -> list:
    """(value, label) pairs as a WTForms select's choices (SelectChoice since WTForms 3.3)."""
    if SelectChoice is None:  # pragma: no cover - older WTForms
        return list(pairs)
    return [SelectChoice(str(value), label) for value, label in pairs]


def choices(vocabulary: dict, blank=None) -> list:
    """A select's options from a vocabulary, with a first blank option when `blank` is given."""
    pairs = [(code, label) for code, label in vocabulary.items()]
    return options(([("", blank)] if blank is not None else []) + pairs)


VOCABULARY = {
    "donor_kinds": DONOR_KINDS, "public_displays": PUBLIC_DISPLAYS, "state_levels": STATE_LEVELS,
    "resource_kinds": RESOURCE_KINDS, "methods": METHODS, "categories": CATEGORIES,
    "support_types": SUPPORT_TYPES, "household_statuses": HOUSEHOLD_STATUSES,
    "pledge_statuses": PLEDGE_STATUSES, "record_statuses": RECORD_STATUSES, "field_names": FIELD_NAMES,
}


def shown_value(field: str, value) -> str:
    """A value of a donor's or household's field as a person reads it in its history."""
    from receipts.words import format_vnd

    if value is None or value == "":
        return "—"
    if field in MONEY_FIELDS:
        return format_vnd(value)
    if field in FIELD_VALUES:
        return str(FIELD_VALUES[field].get(value, value))
    return str(value)


def history_rows(changes) -> list[dict]:
    """An edit history (DonorChange or HouseholdChange rows) as the page shows it: when, by
    whom, and each field's old and new value."""
    from sqlalchemy import select

    from ..auth.models import User
    from ..auth.privacy import private_data_visible, without_private_changes
    from ..extensions import db

    visible = private_data_visible()
    ids = {change.changed_by_id for change in changes}
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    return [{"at": change.changed_at, "by": users.get(change.changed_by_id),
             "items": [(FIELD_NAMES.get(field, field), shown_value(field, old), shown_value(field, new))
                       for field, (old, new) in (change.changes if visible
                                                 else without_private_changes(change.changes)).items()]}
            for change in reversed(changes)]
