from marshmallow import Schema, ValidationError, fields, validates_schema

from ..fields import N_, Choice, LocalDate, Text
from ..journal.quantities import KINDS


class ExportQuery(Schema):
    """The filters of every export (each dataset applies those that fit it)."""

    campaign_id = fields.Integer(strict=False)
    fund_id = fields.Integer(strict=False)
    area_code = Text(max_length=16, metadata={"description": "the fund's area and every area below it"})
    kind = Choice(KINDS)
    date_from = LocalDate(metadata={"description": (
        "received on (contributions), issued on (receipts), signed on (checkpoints), else recorded on, "
        "Vietnam time; fund_balances: the start of the period (opening balance)")})
    date_to = LocalDate(metadata={"description": "inclusive; fund_balances: the balance date (default today)"})
    status = Text(max_length=20, metadata={"description": (
        "contributions: live | voided; allocations: live | reversed; receipts: issued | voided; pledges: "
        "open | partial | fulfilled | cancelled | overdue (derived, as of today); households: surveyed | "
        "approved | building | completed | handed_over; the other exports have none (422)")})
    include_reversed = fields.Boolean(load_default=True, metadata={
        "description": "false: leave out voided contributions and reversed allocations (and, for postings, "
                       "both a reversed transaction and its reversal)"})
    background = fields.Boolean(load_default=False, metadata={
        "description": "true: run as a job and get a zip with a signed manifest (XLSX always does)"})

    @validates_schema
    def _period(self, data, **kwargs):
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ValidationError(N_("The end date is before the start date."), field_name="date_to")
