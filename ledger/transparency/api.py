from flask_smorest import Blueprint

from . import service
from .schemas import KeysOut

blp = Blueprint("transparency", __name__, url_prefix="/transparency",
                description="What anyone needs to check the ledger: the public keys")


@blp.get("/keys")
@blp.response(200, KeysOut)
def get_keys():
    """Every public key that has signed receipts, the active one first. No token needed."""
    service.ensure_key_on_record()  # a fresh ledger publishes its key before the first receipt
    return {"keys": service.published_keys()}
