from flask import Response
from flask_smorest import Blueprint

from ..auth.guard import current_user, token_required
from ..database import reads_only
from . import service
from .schemas import BatchQuery, ReceiptOut

blp = Blueprint("receipts", __name__, url_prefix="/receipts", description="Public receipts: no token needed")
fund_receipts_blp = Blueprint("fund_receipts", __name__, url_prefix="/funds", description="Receipts of a fund")

_PDF = {200: {"description": "A PDF", "content": {"application/pdf": {"schema": {"type": "string",
                                                                               "format": "binary"}}}}}


def pdf_response(data: bytes, filename: str) -> Response:
    resp = Response(data, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return resp


@blp.get("/<string:number>.pdf")
@blp.doc(responses=_PDF)
def get_receipt_pdf(number):
    """The receipt as a PDF (Vietnamese), with its QR code and its signed payload attached."""
    return pdf_response(service.receipt_pdf(number), f"{number}.pdf")


@blp.get("/<string:number>")
@blp.response(200, ReceiptOut)
@reads_only
def get_receipt(number):
    """The public receipt: signed payload, signature, status (valid or voided)."""
    return service.get_receipt(number)


@fund_receipts_blp.get("/<int:fund_id>/receipts.pdf")
@token_required()
@fund_receipts_blp.arguments(BatchQuery(), location="query")
@fund_receipts_blp.doc(responses=_PDF)
def get_fund_receipts_pdf(args, fund_id):
    """The receipts of a fund received in a date range, one page each (at most 2,000)."""
    data = service.fund_receipts_pdf(current_user(), fund_id, args.get("received_from"), args.get("received_to"))
    return pdf_response(data, f"receipts-fund-{fund_id}.pdf")
