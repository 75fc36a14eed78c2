from flask_smorest import Blueprint

from ..auth.guard import current_user, token_required
from ..funds.schemas import PaymentCodeOut, PaymentCodeQuery
from ..idempotency.service import idempotent
from ..pagination import paginate
from . import service
from .schemas import PledgeIn, PledgeOut, PledgeQuery, ReasonIn

blp = Blueprint("pledges", __name__, url_prefix="/pledges", description="Pledges and their fulfilment")


@blp.post("")
@token_required("record")
@idempotent
@blp.arguments(PledgeIn())
@blp.response(201, PledgeOut)
def create_pledge(data):
    return service.create_pledge(current_user(), data)


@blp.get("")
@token_required()
@blp.arguments(PledgeQuery(), location="query")
@blp.response(200, PledgeOut(many=True))
@blp.paginate()
def list_pledges(args, pagination_parameters):
    return paginate(service.list_pledges(current_user(), args), pagination_parameters)


@blp.get("/<int:pledge_id>")
@token_required()
@blp.response(200, PledgeOut)
def get_pledge(pledge_id):
    return service.get_pledge(pledge_id, seen_by=current_user())


@blp.post("/<int:pledge_id>/cancel")
@token_required("record")
@idempotent
@blp.arguments(ReasonIn())
@blp.response(200, PledgeOut)
def cancel_pledge(data, pledge_id):
    return service.cancel_pledge(current_user(), pledge_id, data["reason"])


@blp.get("/<int:pledge_id>/vietqr")
@token_required()
@blp.arguments(PaymentCodeQuery(), location="query")
@blp.response(200, PaymentCodeOut)
def pledge_vietqr(args, pledge_id):
    """The pledge's VietQR code: the fund's bank account, memo "UH {pledge code}" and, for a
    cash pledge, the amount still to receive (none once all is received).

    With ?format=svg the answer is the QR code itself, image/svg+xml. 409 when the fund has
    no bank account or the pledge is cancelled."""
    from ..funds.api import payment_code_answer
    from ..funds.service import pledge_payment_code

    pledge = service.get_pledge(pledge_id, seen_by=current_user())
    return payment_code_answer(pledge_payment_code(pledge), args)
