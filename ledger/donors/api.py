from flask_smorest import Blueprint

from ..auth.guard import current_user, token_required
from ..idempotency.service import idempotent
from ..pagination import paginate
from . import service
from .schemas import DonorDetailOut, DonorIn, DonorOut, DonorPatch, DonorQuery

blp = Blueprint("donors", __name__, url_prefix="/donors", description="Donors (private fields: staff only)")


@blp.post("")
@token_required("record")
@idempotent
@blp.arguments(DonorIn())
@blp.response(201, DonorOut)
def create_donor(data):
    return service.create_donor(current_user(), data)


@blp.get("")
@token_required()
@blp.arguments(DonorQuery(), location="query")
@blp.response(200, DonorOut(many=True))
@blp.paginate()
def list_donors(args, pagination_parameters):
    return paginate(service.search_donors(args.get("q"), args.get("kind")), pagination_parameters)


@blp.get("/<int:donor_id>")
@token_required()
@blp.response(200, DonorDetailOut)
def get_donor(donor_id):
    return service.get_donor(donor_id)


@blp.patch("/<int:donor_id>")
@token_required("record")
@idempotent
@blp.arguments(DonorPatch())
@blp.response(200, DonorDetailOut)
def update_donor(data, donor_id):
    return service.update_donor(current_user(), donor_id, data)
