from flask import current_app
from flask_smorest import Blueprint

from . import service
from .schemas import TokenIn, TokenOut

blp = Blueprint("auth", __name__, url_prefix="/auth", description="Bearer tokens for staff")


@blp.post("/token")
@blp.arguments(TokenIn())
@blp.response(201, TokenOut)
def issue_token(data):
    """Exchange a username and password for a bearer token."""
    token, expires_at = service.issue_token(data["username"], data["password"],
                                            current_app.config["LEDGER_TOKEN_TTL"])
    return {"token": token, "expires_at": expires_at}
