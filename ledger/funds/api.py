from flask_smorest import Blueprint

from ..approvals.api import PENDING_DOC, accepted_or
from ..approvals.schemas import ApprovalOut
from ..auth.guard import current_user, token_required
from ..idempotency.service import idempotent
from ..journal.schemas import ReasonIn
from ..pagination import paginate
from . import service
from .schemas import FundIn, FundOut, FundQuery, TransferIn, TransferOut

blp = Blueprint("funds", __name__, url_prefix="/funds", description="Funds, their holdings and transfers")


@blp.post("")
@token_required("manage")
@idempotent
@blp.arguments(FundIn)
@blp.response(201, FundOut)
def create_fund(data):
    return service.create_fund(current_user(), **data)


@blp.get("")
@token_required()
@blp.arguments(FundQuery, location="query")
@blp.response(200, FundOut(many=True))
@blp.paginate()
def list_funds(args, pagination_parameters):
    return paginate(service.list_funds(current_user(), args.get("area_code")), pagination_parameters)


@blp.get("/<int:fund_id>")
@token_required()
@blp.response(200, FundOut)
def get_fund(fund_id):
    return service.get_fund(fund_id)


@blp.post("/<int:fund_id>/transfers")
@token_required("record")
@idempotent
@blp.arguments(TransferIn)
@blp.response(201, TransferOut)
def transfer(data, fund_id):
    return service.transfer_between_funds(current_user(), fund_id, data)


@blp.post("/<int:fund_id>/transfers/<int:transfer_id>/reverse")
@token_required("record")
@idempotent
@blp.arguments(ReasonIn)
@blp.response(200, TransferOut)
@blp.alt_response(202, schema=ApprovalOut, description=PENDING_DOC)
def reverse_transfer(data, fund_id, transfer_id):
    return accepted_or(service.reverse_transfer(current_user(), fund_id, transfer_id, data["reason"]))
