from flask_smorest import Blueprint

from ..approvals.api import PENDING_DOC, accepted_or
from ..approvals.schemas import ApprovalOut
from ..auth.guard import current_user, token_required
from ..idempotency.service import idempotent
from ..journal.schemas import ReasonIn
from ..pagination import paginate
from . import service
from .schemas import ContributionIn, ContributionOut, ContributionQuery

blp = Blueprint("contributions", __name__, url_prefix="/contributions",
                description="Contributions received: cash, materials and labour")


@blp.post("")
@token_required("record")
@idempotent
@blp.arguments(ContributionIn())
@blp.response(201, ContributionOut)
def record_contribution(data):
    return service.record_contribution(current_user(), data)


@blp.get("")
@token_required()
@blp.arguments(ContributionQuery(), location="query")
@blp.response(200, ContributionOut(many=True))
@blp.paginate()
def list_contributions(args, pagination_parameters):
    return paginate(service.list_contributions(current_user(), args), pagination_parameters)


@blp.get("/<int:contribution_id>")
@token_required()
@blp.response(200, ContributionOut)
def get_contribution(contribution_id):
    return service.get_contribution(contribution_id, seen_by=current_user())


@blp.post("/<int:contribution_id>/void")
@token_required("record")
@idempotent
@blp.arguments(ReasonIn())
@blp.response(200, ContributionOut)
@blp.alt_response(202, schema=ApprovalOut, description=PENDING_DOC)
def void_contribution(data, contribution_id):
    return accepted_or(service.void_contribution(current_user(), contribution_id, data["reason"]))
