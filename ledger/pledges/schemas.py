from marshmallow import Schema, fields

from ..fields import Choice, LocalDate, Text
from ..journal.quantities import KINDS
from ..journal.schemas import ReasonIn, ResourceIn, ResourceOut  # noqa: F401
from .service import fulfilled_units, pledge_status

STATUSES = ("open", "partial", "fulfilled", "cancelled", "overdue")


class PledgeIn(ResourceIn):
    campaign_id = fields.Integer(required=True, strict=True)
    fund_id = fields.Integer(required=True, strict=True)
    donor_id = fields.Integer(required=True, strict=True)
    earmark_area_code = Text(max_length=16, allow_none=True)
    earmark_household_id = fields.Integer(strict=True, allow_none=True)
    due_on = LocalDate(allow_none=True)
    note = Text(max_length=2000, allow_none=True)


class PledgeQuery(Schema):
    campaign_id = fields.Integer()
    area_code = fields.String(metadata={"description": "the fund's area and below"})
    q = fields.String(metadata={"description": "donor name, diacritics optional"})
    fund_id = fields.Integer()
    donor_id = fields.Integer()
    kind = Choice(KINDS)
    due_before = LocalDate()


class PledgeOut(ResourceOut):
    pledge_id = fields.Integer(attribute="id")
    code = fields.String()
    campaign_id = fields.Integer()
    fund_id = fields.Integer()
    donor_id = fields.Integer()
    earmark_area_code = fields.String(allow_none=True)
    earmark_household_id = fields.Integer(allow_none=True)
    due_on = fields.Date(allow_none=True)
    note = fields.String(allow_none=True)
    status = fields.Function(pledge_status, metadata={"enum": list(STATUSES)})
    fulfilled = fields.Method("_fulfilled")
    cancel_reason = fields.Function(lambda p: p.cancellation.reason if p.cancellation else None)
    created_at = fields.DateTime()

    def _fulfilled(self, pledge):
        from ..journal.quantities import format_units

        return format_units(fulfilled_units(pledge), pledge.kind)
