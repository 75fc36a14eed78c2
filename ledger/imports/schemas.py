import json

from marshmallow import Schema, ValidationError, fields, validates
from marshmallow.fields import Raw

from ..auth.privacy import HidesPrivateFields
from ..fields import N_, Choice, Text
from .models import OUTCOMES

BANKS = ("vietcombank", "vietinbank", "bidv", "agribank", "custom")


class StatementUploadForm(Schema):
    """The form fields beside the file (multipart/form-data)."""

    fund_id = fields.Integer(required=True, strict=False, metadata={"description": "the fund the account belongs to"})
    campaign_id = fields.Integer(strict=False, metadata={
        "description": "the campaign the gifts go to; none: the latest one covering the fund's area"})
    bank = Choice(BANKS, metadata={"description": "a preset; none: recognised from the file"})
    mapping = Text(max_length=4000, metadata={
        "description": "bank=custom: JSON {date, memo, amount | credit+debit, reference?, balance?, payer_name?, "
                       "payer_account?, date_format?, header_row?}: the file's column headers"})
    commit = fields.Boolean(load_default=False, metadata={
        "description": "false (default): the dry run, nothing recorded; true: record it, all or nothing"})
    background = fields.Boolean(load_default=False, metadata={"description": "true: commit as a background job"})

    @validates("mapping")
    def _mapping(self, value, **kwargs):
        try:
            parsed = json.loads(value)
        except ValueError:
            raise ValidationError(N_("Not JSON.")) from None
        if not isinstance(parsed, dict):
            raise ValidationError(N_("Not JSON."))


class StatementFile(Schema):
    file = Raw(required=True, metadata={"type": "string", "format": "binary",
                                        "description": "the statement as the bank exports it: CSV or XLSX"})


class PlannedLineOut(HidesPrivateFields, Schema):
    row = fields.Function(lambda p: p.line.row)
    posted_at = fields.Function(lambda p: p.line.posted_at.isoformat(sep=" "))
    reference = fields.Function(lambda p: p.line.reference)
    amount_vnd = fields.Function(lambda p: p.line.amount_vnd)
    outcome = fields.String(metadata={"enum": list(OUTCOMES) + ["duplicate"]})
    pledge_code = fields.Function(lambda p: p.pledge.code if p.pledge else None)
    donor_id = fields.Function(lambda p: p.donor.id if p.donor else None)
    donor_name = fields.Function(lambda p: p.donor.name if p.donor else p.donor_name)
    earlier_batch_id = fields.Integer(allow_none=True)
    note = fields.String(allow_none=True)
    memo = fields.Function(lambda p: p.line.memo, metadata={"description": "private: staff only"})


class StatementOut(Schema):
    bank = fields.String()
    account_number = fields.String(allow_none=True)
    account_name = fields.String(allow_none=True)
    period_from = fields.Date(allow_none=True)
    period_to = fields.Date(allow_none=True)
    opening_balance_vnd = fields.Integer(allow_none=True)
    closing_balance_vnd = fields.Integer(allow_none=True)


class PlanOut(Schema):
    """The dry run: what the import would do. Nothing is recorded."""

    file_name = fields.String()
    file_sha256 = fields.String()
    fund_id = fields.Function(lambda p: p.fund.id)
    campaign_id = fields.Function(lambda p: p.campaign.id)
    statement = fields.Nested(StatementOut)
    counts = fields.Dict(metadata={"description": "lines, new (credits to record), pledge (matched to pledges), "
                                                  "donor (known donors), new_donor, new_donors (to create), "
                                                  "anonymous, debit, duplicate"})
    totals = fields.Dict(metadata={"description": "new_credits_vnd, pledged_credits_vnd, debits_vnd, duplicates_vnd"})
    lines = fields.List(fields.Nested(PlannedLineOut))


class BatchOut(Schema):
    batch_id = fields.Integer(attribute="id")
    fund_id = fields.Integer()
    campaign_id = fields.Integer()
    bank = fields.String()
    account_number = fields.String(allow_none=True)
    file_name = fields.String()
    file_sha256 = fields.String()
    period_from = fields.Date(allow_none=True)
    period_to = fields.Date(allow_none=True)
    opening_balance_vnd = fields.Integer(allow_none=True)
    closing_balance_vnd = fields.Integer(allow_none=True)
    lines_in_file = fields.Integer()
    credits_recorded = fields.Integer()
    credits_recorded_vnd = fields.Integer()
    debits = fields.Integer()
    debits_vnd = fields.Integer()
    duplicates = fields.Integer()
    created_by_id = fields.Integer()
    created_at = fields.DateTime()
    voided = fields.Boolean(attribute="is_voided")
    void_reason = fields.Function(lambda b: b.void.reason if b.void else None)


class CommitOut(Schema):
    """The commit: the batch recorded (null when every line was imported before), and the plan it carried out."""

    batch = fields.Nested(BatchOut, allow_none=True)
    plan = fields.Nested(PlanOut)


class BankLineOut(HidesPrivateFields, Schema):
    row = fields.Integer()
    posted_at = fields.DateTime()
    reference = fields.String(allow_none=True)
    amount_vnd = fields.Integer()
    outcome = fields.String()
    pledge_id = fields.Integer(allow_none=True)
    contribution_id = fields.Integer(allow_none=True)
    payer_account = fields.String(allow_none=True)


class ImportReconciliationOut(Schema):
    on = fields.Date()
    bank_closing_vnd = fields.Integer()
    ledger_balance_vnd = fields.Integer()
    difference_vnd = fields.Integer()
    explained_vnd = fields.Integer()
    unexplained_vnd = fields.Integer()
    items = fields.List(fields.Dict(), metadata={
        "description": "opening_balance, imported_before_period, bank_debit (row, reference), not_on_statement "
                       "(contribution_id, receipt_number, method), allocated_or_transferred"})
