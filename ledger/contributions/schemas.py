from marshmallow import Schema, fields

from ..auth.privacy import HidesPrivateFields
from ..fields import Choice, LocalDate, Text
from ..journal.quantities import KINDS
from ..journal.schemas import ResourceIn, ResourceOut
from ..journal.service import is_reversed
from ..journal.service import reversal_leaf_index as undoing_entry
from .models import METHODS


class ContributionIn(ResourceIn):
    campaign_id = fields.Integer(required=True, strict=True)
    fund_id = fields.Integer(required=True, strict=True)
    donor_id = fields.Integer(strict=True, allow_none=True, metadata={"description": "none: anonymous"})
    pledge_id = fields.Integer(strict=True, allow_none=True)
    method = Choice(METHODS, required=True)
    received_on = LocalDate(required=True, not_future=True)
    bank_reference = Text(max_length=100, allow_none=True)
    memo = Text(max_length=1000, allow_none=True)
    earmark_area_code = Text(max_length=16, allow_none=True)
    earmark_household_id = fields.Integer(strict=True, allow_none=True)


class ContributionQuery(Schema):
    campaign_id = fields.Integer()
    fund_id = fields.Integer()
    donor_id = fields.Integer()
    pledge_id = fields.Integer()
    area_code = fields.String(metadata={"description": "the fund's area and below"})
    kind = Choice(KINDS)
    received_from = LocalDate()
    received_to = LocalDate()
    q = fields.String(metadata={"description": "donor name (no diacritics needed) or receipt number"})


def receipt_of(contribution) -> dict | None:
    from ..receipts.service import url_of

    receipt = contribution.receipt
    if receipt is None:  # recorded before receipts were signed; `flask ledger receipts issue-missing`
        return {"number": contribution.receipt_number, "url": None}
    return {"number": receipt.number, "url": url_of(receipt)}


class ContributionOut(HidesPrivateFields, ResourceOut):
    contribution_id = fields.Integer(attribute="id")
    campaign_id = fields.Integer()
    fund_id = fields.Integer()
    donor_id = fields.Integer(allow_none=True)
    donor_display_name = fields.Function(lambda c: c.donor.display_name if c.donor else None)
    pledge_id = fields.Integer(allow_none=True)
    method = fields.String()
    received_on = fields.Date()
    bank_reference = fields.String(allow_none=True)
    memo = fields.String(allow_none=True)
    earmark_area_code = fields.String(allow_none=True)
    earmark_household_id = fields.Integer(allow_none=True)
    receipt = fields.Function(receipt_of)
    status = fields.Function(lambda c: "voided" if is_reversed(c) else "valid")
    leaf_index = fields.Function(lambda c: c.txn.seq)
    void_leaf_index = fields.Function(undoing_entry, allow_none=True,
                             metadata={"description": "the log entry that undid it, if any"})
    created_at = fields.DateTime()
