from marshmallow import Schema, fields

from receipts.vietqr import bank_name

from ..fields import Choice, Text
from ..journal.schemas import ResourceIn, ResourceOut, dump_lines
from ..journal.service import is_reversed
from ..journal.service import reversal_leaf_index as undoing_entry
from .service import balances


class FundIn(Schema):
    code = Text(required=True, max_length=16, metadata={"description": "A-Z and digits; used in receipt numbers"})
    name = Text(required=True, max_length=300)
    area_code = Text(required=True, max_length=16)
    parent_fund_id = fields.Integer(strict=True, allow_none=True)
    bank_bin = Text(max_length=6, allow_none=True,
                    metadata={"description": "the bank's NAPAS BIN, 6 digits (e.g. 970436, Vietcombank)"})
    bank_account = Text(max_length=30, allow_none=True, metadata={"description": "1 to 19 letters or digits"})
    bank_account_name = Text(max_length=100, allow_none=True)


class FundBankAccountIn(Schema):
    """A fund's bank account, set once: refused (409) when the fund already has one."""

    bank_bin = Text(required=True, max_length=6,
                    metadata={"description": "the bank's NAPAS BIN, 6 digits (e.g. 970436, Vietcombank)"})
    bank_account = Text(required=True, max_length=30, metadata={"description": "1 to 19 letters or digits"})
    bank_account_name = Text(max_length=100, allow_none=True)


class PaymentCodeQuery(Schema):
    format = Choice(("json", "svg"), load_default="json",
                    metadata={"description": "svg: the QR code itself, image/svg+xml"})


class PaymentCodeOut(Schema):
    """A VietQR payment code (NAPAS, transfer to an account) and what it carries."""

    payload = fields.String(metadata={"description": "the EMVCo/VietQR string the QR code encodes"})
    bank_bin = fields.String()
    bank_name = fields.String(allow_none=True)
    account = fields.String()
    account_name = fields.String(allow_none=True)
    amount_vnd = fields.Integer(allow_none=True, metadata={"description": "none: the payer types the amount"})
    memo = fields.String(metadata={"description": '"UH {pledge or fund code}"'})


class FundQuery(Schema):
    area_code = fields.String(metadata={"description": "the area and below"})


class FundOut(Schema):
    fund_id = fields.Integer(attribute="id")
    code = fields.String()
    name = fields.String()
    area_code = fields.String()
    parent_fund_id = fields.Integer(allow_none=True)
    bank_bin = fields.String(allow_none=True)
    bank_name = fields.Function(lambda f: bank_name(f.bank_bin), allow_none=True)
    bank_account = fields.String(allow_none=True)
    bank_account_name = fields.String(allow_none=True)
    balances = fields.Function(balances)


class TransferIn(ResourceIn):
    to_fund_id = fields.Integer(required=True, strict=True)
    source_contribution_id = fields.Integer(strict=True, allow_none=True,
                                            metadata={"description": "none: the fund's pool, FIFO"})
    note = Text(max_length=1000, allow_none=True)


class TransferOut(ResourceOut):
    transfer_id = fields.Integer(attribute="id")
    from_fund_id = fields.Integer()
    to_fund_id = fields.Integer()
    source_contribution_id = fields.Integer(allow_none=True)
    note = fields.String(allow_none=True)
    lines = fields.Function(dump_lines)
    status = fields.Function(lambda t: "reversed" if is_reversed(t) else "valid")
    leaf_index = fields.Function(lambda t: t.txn.seq)
    reversal_leaf_index = fields.Function(undoing_entry, allow_none=True,
                             metadata={"description": "the log entry that undid it, if any"})
    created_at = fields.DateTime()
