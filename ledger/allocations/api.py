from flask_smorest import Blueprint

from ..approvals.api import PENDING_DOC, accepted_or
from ..approvals.schemas import ApprovalOut
from ..auth.guard import current_user, token_required
from ..idempotency.service import idempotent
from ..journal.schemas import ReasonIn
from ..pagination import paginate
from . import service
from .schemas import AllocationIn, AllocationOut, AllocationQuery

blp = Blueprint("allocations", __name__, url_prefix="/allocations", description="Allocations to households")


@blp.post("")
@token_required("record")
@idempotent
@blp.arguments(AllocationIn())
@blp.response(201, AllocationOut)
@blp.alt_response(202, schema=ApprovalOut, description=PENDING_DOC)
def allocate_to_household(data):
    return accepted_or(service.allocate_to_household(current_user(), data))


@blp.get("")
@token_required()
@blp.arguments(AllocationQuery(), location="query")
@blp.response(200, AllocationOut(many=True))
@blp.paginate()
def list_allocations(args, pagination_parameters):
    return paginate(service.list_allocations(current_user(), args), pagination_parameters)


@blp.post("/<int:allocation_id>/reverse")
@token_required("record")
@idempotent
@blp.arguments(ReasonIn())
@blp.response(200, AllocationOut)
@blp.alt_response(202, schema=ApprovalOut, description=PENDING_DOC)
def reverse_allocation(data, allocation_id):
    return accepted_or(service.reverse_allocation(current_user(), allocation_id, data["reason"]))
