"""Public pages: no login, no personal data. Vietnamese first, English with ?lang=en."""
from __future__ import annotations

from flask import Blueprint, render_template, request

from receipts import words

from ..receipts import service as receipts

bp = Blueprint("public", __name__)


@bp.app_template_filter("vnd")
def _vnd(amount) -> str:
    return words.format_vnd(amount)


@bp.app_template_filter("decimal_vi")
def _decimal(text) -> str:
    return words.format_decimal(str(text))


@bp.app_template_filter("date_vi")
def _date(iso) -> str:
    return words.format_date(str(iso))


@bp.get("/r/<string:number>")
def receipt_page(number):
    """What a receipt's QR code opens: genuine, not genuine or voided, in large words; the
    receipt's content; and where the contribution went."""
    receipt, verdict = receipts.check_receipt(number, request.args.get("s"))
    if receipt is None:
        return render_template("public/receipt_unknown.html", number=number), 404
    envelope = receipts.envelope_of(receipt)
    return render_template("public/receipt.html", number=number, verdict=verdict, payload=envelope.payload,
                           void=envelope.void, uses=receipts.where_it_went(receipt))
