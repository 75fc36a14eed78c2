"""Who reads personal data: the one rule, and where the API and the pages apply it.

ID numbers, phones and exact addresses of donors and households (and a transfer's memo,
which may hold them, and the payer's account on a bank line) are read by the staff who
record and decide: they enter and check
them. An auditor reads everything else, and these only once an admin granted it
(`User.sees_private_data`, kept in the user's history). Public pages never show them.
"""
from __future__ import annotations

from flask import g, has_request_context
from marshmallow import post_dump

PRIVATE_FIELDS = ("id_number", "phone", "address")
PRIVATE_NOTES = ("memo", "payer_account")  # free text that may quote the above; a payer's bank account


def sees_private_data(user) -> bool:
    return user is not None and (user.role != "auditor" or bool(user.sees_private_data))


def acting_user():
    """The user of this request: the API's bearer token, else the page's session."""
    if not has_request_context():
        return None
    user = g.get("ledger_user")
    if user is not None:
        return user
    from flask_login import current_user

    return current_user if current_user.is_authenticated else None


def private_data_visible() -> bool:
    """Outside a request (commands, jobs) the caller decides; in one, the user's grant."""
    return not has_request_context() or sees_private_data(acting_user())


def without_private_changes(changes: dict) -> dict:
    """An edit's {field: [old, new]} with the private fields' values withheld (the edit
    itself stays visible: that the phone changed, not to what)."""
    return {field: (["…", "…"] if field in PRIVATE_FIELDS + PRIVATE_NOTES else values)
            for field, values in changes.items()}


class HidesPrivateFields:
    """A marshmallow output schema mixin: the private fields are left out of the answer
    for a user without the grant."""

    @post_dump
    def _withhold_private(self, data, **kwargs):
        if not private_data_visible():
            for name in PRIVATE_FIELDS + PRIVATE_NOTES:
                data.pop(name, None)
        return data
