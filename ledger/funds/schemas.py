from marshmallow import Schema, fields

from ..fields import Text
from ..journal.schemas import ResourceIn, ResourceOut, dump_lines
from ..journal.service import is_reversed
from ..journal.service import reversal_leaf_index as undoing_entry
from .service import balances


class FundIn(Schema):
    code = Text(required=True, max_length=16, metadata={"description": "A-Z and digits; used in receipt numbers"})
    name = Text(required=True, max_length=300)
    area_code = Text(required=True, max_length=16)
    parent_fund_id = fields.Integer(strict=True, allow_none=True)


class FundQuery(Schema):
    area_code = fields.String(metadata={"description": "the area and below"})


class FundOut(Schema):
    fund_id = fields.Integer(attribute="id")
    code = fields.String()
    name = fields.String()
    area_code = fields.String()
    parent_fund_id = fields.Integer(allow_none=True)
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
