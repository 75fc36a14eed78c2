from marshmallow import Schema, fields

from ..fields import Choice, Text
from ..journal.quantities import KINDS
from ..journal.schemas import ResourceIn, ResourceOut, dump_lines
from ..journal.service import is_reversed
from ..journal.service import reversal_leaf_index as undoing_entry


class AllocationIn(ResourceIn):
    fund_id = fields.Integer(required=True, strict=True)
    household_id = fields.Integer(required=True, strict=True)
    source_contribution_id = fields.Integer(strict=True, allow_none=True,
                                            metadata={"description": "none: the fund's pool, FIFO"})
    override_reason = Text(max_length=2000, allow_none=True,
                           metadata={"description": "needed to go past the approved amount"})
    note = Text(max_length=2000, allow_none=True)


class AllocationQuery(Schema):
    campaign_id = fields.Integer()
    area_code = fields.String(metadata={"description": "the household's commune, or an area above it"})
    fund_id = fields.Integer()
    household_id = fields.Integer()
    contribution_id = fields.Integer()
    kind = Choice(KINDS)


class AllocationOut(ResourceOut):
    allocation_id = fields.Integer(attribute="id")
    fund_id = fields.Integer()
    household_id = fields.Integer()
    source_contribution_id = fields.Integer(allow_none=True)
    override_reason = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    lines = fields.Function(dump_lines)
    status = fields.Function(lambda a: "reversed" if is_reversed(a) else "valid")
    leaf_index = fields.Function(lambda a: a.txn.seq)
    reversal_leaf_index = fields.Function(undoing_entry, allow_none=True,
                             metadata={"description": "the log entry that undid it, if any"})
    created_at = fields.DateTime()
