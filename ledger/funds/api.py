from flask import Response
from flask_smorest import Blueprint

from ..approvals.api import PENDING_DOC, accepted_or
from ..approvals.schemas import ApprovalOut
from ..auth.guard import current_user, token_required
from ..idempotency.service import idempotent
from ..journal.schemas import ReasonIn
from ..pagination import paginate
from . import service
from .schemas import (
    FundBankAccountIn,
    FundIn,
    FundOut,
    FundQuery,
    PaymentCodeOut,
    PaymentCodeQuery,
    TransferIn,
    TransferOut,
)

blp = Blueprint("funds", __name__, url_prefix="/funds", description="Funds, their holdings and transfers")


@blp.post("")
@token_required("manage")
@idempotent
@blp.arguments(FundIn())
@blp.response(201, FundOut)
def create_fund(data):
    return service.create_fund(current_user(), **data)


@blp.get("")
@token_required()
@blp.arguments(FundQuery(), location="query")
@blp.response(200, FundOut(many=True))
@blp.paginate()
def list_funds(args, pagination_parameters):
    return paginate(service.list_funds(current_user(), args.get("area_code")), pagination_parameters)


@blp.get("/<int:fund_id>")
@token_required()
@blp.response(200, FundOut)
def get_fund(fund_id):
    return service.get_fund(fund_id, seen_by=current_user())


@blp.patch("/<int:fund_id>")
@token_required("manage")
@idempotent
@blp.arguments(FundBankAccountIn())
@blp.response(200, FundOut)
def set_bank_account(data, fund_id):
    """Set the bank account of a fund that has none (409 when it has one)."""
    return service.set_bank_account(current_user(), fund_id, **data)


def payment_code_answer(code: dict, args: dict):
    """The code as JSON, or with ?format=svg the QR code itself."""
    if args.get("format") == "svg":
        from receipts.vietqr import vietqr_svg

        return Response(vietqr_svg(code["payload"], title=f"VietQR {code['memo']}"), mimetype="image/svg+xml")
    return code


@blp.get("/<int:fund_id>/vietqr")
@token_required()
@blp.arguments(PaymentCodeQuery(), location="query")
@blp.response(200, PaymentCodeOut)
def fund_vietqr(args, fund_id):
    """The fund's general VietQR code: its bank account, no amount, memo "UH {fund code}".

    With ?format=svg the answer is the QR code itself, image/svg+xml. 409 when the fund has
    no bank account."""
    return payment_code_answer(service.fund_payment_code(service.get_fund(fund_id, seen_by=current_user())), args)


@blp.post("/<int:fund_id>/transfers")
@token_required("record")
@idempotent
@blp.arguments(TransferIn())
@blp.response(201, TransferOut)
def transfer(data, fund_id):
    return service.transfer_between_funds(current_user(), fund_id, data)


@blp.post("/<int:fund_id>/transfers/<int:transfer_id>/reverse")
@token_required("record")
@idempotent
@blp.arguments(ReasonIn())
@blp.response(200, TransferOut)
@blp.alt_response(202, schema=ApprovalOut, description=PENDING_DOC)
def reverse_transfer(data, fund_id, transfer_id):
    return accepted_or(service.reverse_transfer(current_user(), fund_id, transfer_id, data["reason"]))
