from flask_smorest import Blueprint

from ..pagination import paginate
from .schemas import AreaOut, AreaQuery
from .service import search_areas

blp = Blueprint("areas", __name__, url_prefix="/areas", description="Administrative areas (public)")


@blp.get("")
@blp.arguments(AreaQuery(), location="query")
@blp.response(200, AreaOut(many=True))
@blp.paginate()
def list_areas(args, pagination_parameters):
    query = search_areas(args.get("parent"), args.get("q"))
    return paginate(query, pagination_parameters)

