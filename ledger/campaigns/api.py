from flask_smorest import Blueprint

from ..auth.guard import current_user, token_required
from ..idempotency.service import idempotent
from ..pagination import paginate
from . import service
from .schemas import CampaignIn, CampaignOut

blp = Blueprint("campaigns", __name__, url_prefix="/campaigns", description="Campaigns and their support norms")


@blp.post("")
@token_required("manage")
@idempotent
@blp.arguments(CampaignIn())
@blp.response(201, CampaignOut)
def create_campaign(data):
    return service.create_campaign(current_user(), **data)


@blp.get("")
@token_required()
@blp.response(200, CampaignOut(many=True))
@blp.paginate()
def list_campaigns(pagination_parameters):
    return paginate(service.list_campaigns(), pagination_parameters)


@blp.get("/<int:campaign_id>")
@token_required()
@blp.response(200, CampaignOut)
def get_campaign(campaign_id):
    return service.get_campaign(campaign_id)
