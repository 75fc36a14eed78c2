"""Public pages: no login, no personal data. Vietnamese first, English with ?lang=en."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from receipts import words

from ..database import reads_only
from ..extensions import db
from ..problems import LedgerError
from ..receipts import service as receipts
from . import service, summaries

bp = Blueprint("public", __name__)


@bp.context_processor
def _labels():
    from ..web.vocabulary import VOCABULARY

    return {"labels": VOCABULARY, "source_labels": service.SOURCE_LABELS}


@bp.errorhandler(LedgerError)
def _refused(err: LedgerError):
    """A page, not problem+json: an unknown household or campaign, a bad area code."""
    return render_template("public/not_found.html", message=err.detail), err.status


@bp.after_request
def _cacheable(response):
    """Public pages change only when the ledger does: browsers and proxies may keep them a
    minute (LEDGER_PUBLIC_CACHE_SECONDS) and revalidate by ETag after that."""
    if request.method in ("GET", "HEAD") and response.status_code == 200:
        response.headers.setdefault("Cache-Control",
                                     f"public, max-age={current_app.config['LEDGER_PUBLIC_CACHE_SECONDS']}")
        response.add_etag()
        response.make_conditional(request)
    return response


@bp.get("/")
def overview():
    """The campaign's progress: what was pledged, received, allocated and what remains, the
    houses against the target, area by area, with charts drawn on the server (SVG)."""
    campaign = service.choose_campaign(request.args.get("campaign", type=int))
    if campaign is None:
        return render_template("public/overview_empty.html")
    data = summaries.kept_overview(campaign, request.args.get("area") or None)
    return render_template("public/overview.html", o=data, trail=_trail(data.area))


def _trail(area):
    """The areas from the country down to `area`, for the breadcrumb."""
    from ..areas.models import Area

    if area is None:
        return []
    codes = area.path.strip("/").split("/")
    found = {a.code: a for a in db.session.query(Area).filter(Area.code.in_(codes))}
    return [found[c] for c in codes if c in found]


@bp.get("/ho/<int:household_id>")
def household(household_id):
    """A beneficiary household: where it is, what it was approved and received, from whom."""
    return render_template("public/household.html", h=service.household_page(household_id))


@bp.get("/to-chuc/<int:donor_id>")
def organisation(donor_id):
    """A business, union, agency or the state budget: what it gave and which households it reached."""
    return render_template("public/organisation.html", page=service.organisation_page(donor_id))


@bp.app_template_filter("vnd")
def _vnd(amount) -> str:
    return words.format_vnd(amount)


@bp.app_template_filter("decimal_vi")
def _decimal(text) -> str:
    return words.format_decimal(str(text))


@bp.app_template_filter("b64")
def _b64(raw: bytes) -> str:
    import base64

    return base64.b64encode(raw).decode()


@bp.app_template_filter("date_vi")
def _date(iso) -> str:
    return words.format_date(str(iso))


@bp.get("/r/<string:number>")
@reads_only
def receipt_page(number):
    """What a receipt's QR code opens: genuine, not genuine or voided, in large words; the
    receipt's content; and where the contribution went."""
    receipt, verdict = receipts.check_receipt(number, request.args.get("s"))
    if receipt is None:
        return render_template("public/receipt_unknown.html", number=number), 404
    envelope = receipts.envelope_of(receipt)
    contribution = receipt.contribution
    return render_template("public/receipt.html", number=number, verdict=verdict, payload=envelope.payload,
                           void=envelope.void, trace=service.trace_contribution(contribution),
                           organisation_id=service.organisation_link(contribution.donor),
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
