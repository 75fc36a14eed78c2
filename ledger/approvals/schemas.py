from marshmallow import Schema, fields, post_dump

from ..fields import Choice
from .models import KINDS, STATUSES
from .service import summary_of, why_needed


class ApprovalQuery(Schema):
    status = Choice(STATUSES, metadata={"description": "pending, approved or rejected; none: all"})
    kind = Choice(KINDS)


def _name(user) -> str | None:
    return user.display_name if user is not None else None


def dump_request(approval) -> dict:
    """The request in the API's words: quantities as decimal strings ("12.500"), not units."""
    from ..journal.quantities import format_units

    out = dict(approval.request)
    for name, kind in (("quantity", "material"), ("person_days", "labour")):
        if isinstance(out.get(name), int):
            out[name] = format_units(out[name], kind)
    return out


def dump_record(approval) -> dict | None:
    """What an approved request made or undid, as its own endpoint answers it."""
    if approval.status != "approved":
        return None
    from ..allocations.models import Allocation
    from ..allocations.schemas import AllocationOut
    from ..contributions.models import Contribution
    from ..contributions.schemas import ContributionOut
    from ..extensions import db
    from ..funds.models import Transfer
    from ..funds.schemas import TransferOut

    model, schema = {"allocation": (Allocation, AllocationOut), "contribution": (Contribution, ContributionOut),
                     "transfer": (Transfer, TransferOut)}[approval.record_type]
    return schema().dump(db.session.get(model, approval.record_id))


class ApprovalOut(Schema):
    """A request waiting for (or decided by) a second user. Once approved it names what it
    made or undid (`record_type`, `record_id`, and `allocation_id`, `contribution_id` or
    `transfer_id`) and the journal entry that did it (`leaf_index`)."""

    approval_id = fields.Integer(attribute="id")
    kind = fields.String(metadata={"description": "allocation, void, reversal_allocation or reversal_transfer"})
    status = fields.String(metadata={"description": "pending, approved or rejected"})
    summary = fields.Function(summary_of, metadata={"description": "what it does, in words"})
    needs_approval_because = fields.Function(why_needed)
    reason = fields.String(allow_none=True, metadata={"description": "the requester's reason"})
    request = fields.Function(dump_request, metadata={"description": "the request as it will be carried out"})
    value_vnd = fields.Integer(allow_none=True, metadata={"description": "its value when asked"})
    area_code = fields.String()
    requested_by_id = fields.Integer()
    requested_by = fields.Function(lambda a: _name(a.requested_by))
    requested_at = fields.DateTime()
    decided_by_id = fields.Integer(allow_none=True)
    decided_by = fields.Function(lambda a: _name(a.decided_by), allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    decision_reason = fields.String(allow_none=True)
    record_type = fields.String(metadata={"description": "allocation, contribution or transfer"})
    record_id = fields.Integer(allow_none=True)
    leaf_index = fields.Integer(allow_none=True, metadata={"description": "the journal entry made on approval"})
    record = fields.Function(dump_record, allow_none=True,
                             metadata={"description": "once approved: the record, as its own endpoint answers"})
    url = fields.Function(lambda a: f"/api/v1/approvals/{a.id}")
    page_url = fields.Function(lambda a: f"/staff/approvals/{a.id}")

    @post_dump(pass_original=True)
    def _record_by_name(self, data, original, **_):
        if original.record_id is not None:
            data[f"{original.record_type}_id"] = original.record_id
        return data
