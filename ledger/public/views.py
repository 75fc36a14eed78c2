"""Public pages: no login, no personal data. Vietnamese first, English with ?lang=en."""
from __future__ import annotations

from flask import Blueprint, render_template, request

from receipts import words

from ..extensions import db
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
                           void=envelope.void, uses=receipts.where_it_went(receipt),
                           browser_check=log_evidence(receipt, request.args.get("s")))


def log_evidence(receipt, signature: str | None) -> dict:
    """What the visitor's browser needs to check the receipt and its log entry itself: the
    signed payload, the entry, its inclusion proof and a signed checkpoint, the public key."""
    from receipts.signing import load_public_key

    from ..transparency import log
    from ..transparency.models import SigningKeyRecord
    from ..transparency.schemas import b64

    txn = receipt.contribution.txn
    leaf = txn.seq
    checkpoint = log.latest_checkpoint()
    if checkpoint is None or checkpoint.size <= leaf:
        checkpoint = log.publish()  # the background publisher is seconds behind: catch up now
    key = db.session.get(SigningKeyRecord, checkpoint.key_id)
    return {
        "number": receipt.number,
        "payload": receipt.payload_json,
        "signature": signature or "",
        "receipt_public_key": db.session.get(SigningKeyRecord, receipt.key_id).public_key,
        "leaf_index": leaf,
        "entry": txn.public_json,  # the log entry's data: exactly the bytes its leaf hashes
        "proof": [b64(h) for h in log.inclusion_proof(leaf, checkpoint.size)],
        "checkpoint": checkpoint.note,
        "checkpoint_size": checkpoint.size,
        "log_public_key": key.public_key,
        "note_verifier_key": log.note_verifier_key(load_public_key(key.public_key)),
    }


@bp.get("/kiem-chung")
def how_to_verify():
    """Kiểm chứng: how anyone checks the log, with the current checkpoint and keys."""
    from receipts.signing import load_public_key, public_key_pem

    from ..transparency import log
    from ..transparency.service import ensure_key_on_record, published_keys

    ensure_key_on_record()
    checkpoint = log.publish()
    keys = [{"record": k, "vkey": log.note_verifier_key(load_public_key(k.public_key)),
             "pem": public_key_pem(load_public_key(k.public_key))} for k in published_keys()]
    return render_template("public/verify.html", checkpoint=checkpoint, keys=keys, origin=log.origin(),
                           api=request.url_root.rstrip("/") + "/api/v1/transparency")
