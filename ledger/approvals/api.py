from flask import Response, json
from flask_smorest import Blueprint

from ..auth.guard import current_user, token_required
from ..idempotency.service import idempotent
from ..journal.schemas import ReasonIn
from ..pagination import paginate
from . import service
from .schemas import ApprovalOut, ApprovalQuery

blp = Blueprint("approvals", __name__, url_prefix="/approvals",
                description="Maker–checker: requests that wait for a second user's approval")

PENDING_DOC = "Needs a second user's approval: the pending request (nothing moved yet)."


def accepted_or(result):
    """What a write that may need approval answers: its record (the route's own status and
    schema), or 202 Accepted with the pending approval request."""
    if not getattr(result, "is_pending", False):
        return result
    body = json.dumps(ApprovalOut().dump(result), ensure_ascii=False)
    resp = Response(body, status=202, mimetype="application/json")
    resp.headers["Location"] = f"/api/v1/approvals/{result.id}"
    return resp


@blp.get("")
@token_required()
@blp.arguments(ApprovalQuery(), location="query")
@blp.response(200, ApprovalOut(many=True))
@blp.paginate()
def list_approvals(args, pagination_parameters):
    return paginate(service.list_approvals(current_user(), args.get("status"), args.get("kind")),
                    pagination_parameters)


@blp.get("/<int:approval_id>")
@token_required()
@blp.response(200, ApprovalOut)
def get_approval(approval_id):
    return service.get_approval(current_user(), approval_id)


@blp.post("/<int:approval_id>/approve")
@token_required("override")  # the deciders' role first: the body is checked after
@idempotent
@blp.response(200, ApprovalOut)
def approve(approval_id):
    """Carry the request out now, every rule checked again (409 and still pending if one
    refuses it). Not by the requester; an approver or admin of the request's area."""
    return service.approve(current_user(), approval_id)


@blp.post("/<int:approval_id>/reject")
@token_required("override")  # the deciders' role first: the body is checked after
@idempotent
@blp.arguments(ReasonIn())
@blp.response(200, ApprovalOut)
def reject(data, approval_id):
    return service.reject(current_user(), approval_id, data["reason"])
