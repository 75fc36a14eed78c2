from flask_smorest import Blueprint

from ..auth.guard import current_user, token_required
from ..idempotency.service import idempotent
from ..pagination import paginate
from . import service
from .schemas import HouseholdDetailOut, HouseholdIn, HouseholdOut, HouseholdPatch, HouseholdQuery, StatusIn

blp = Blueprint("households", __name__, url_prefix="/households", description="Beneficiary households")


@blp.post("")
@token_required("record")
@idempotent
@blp.arguments(HouseholdIn())
@blp.response(201, HouseholdDetailOut)
def create_household(data):
    return service.create_household(current_user(), data)


@blp.get("")
@token_required()
@blp.arguments(HouseholdQuery(), location="query")
@blp.response(200, HouseholdOut(many=True))
@blp.paginate()
def list_households(args, pagination_parameters):
    return paginate(service.list_households(current_user(), args), pagination_parameters)


@blp.get("/<int:household_id>")
@token_required()
@blp.response(200, HouseholdDetailOut)
def get_household(household_id):
    return service.get_household(household_id, seen_by=current_user())


@blp.patch("/<int:household_id>")
@token_required("record")
@idempotent
@blp.arguments(HouseholdPatch())
@blp.response(200, HouseholdDetailOut)
def update_household(data, household_id):
    return service.update_household(current_user(), household_id, data)


@blp.post("/<int:household_id>/status")
@token_required("record")
@idempotent
@blp.arguments(StatusIn())
@blp.response(200, HouseholdDetailOut)
def change_status(data, household_id):
    return service.change_status(current_user(), household_id, **data)
