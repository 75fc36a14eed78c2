"""Issuing, voiding and checking receipts: the ledger's side of the `receipts` package.

A receipt is issued in the same transaction that records its contribution, so no
contribution exists without one; its payload is built from the contribution's public
fields only (no ID number, phone, address or memo) and signed with the current key.
"""
from __future__ import annotations

import json
from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from receipts.envelope import GENUINE, NOT_GENUINE, VOIDED, Envelope, Verdict, verify_payload
from receipts.payload import build_payload, build_void_statement, canonical_bytes
from receipts.qr import receipt_url

from ..areas.models import Area
from ..auth.models import User
from ..auth.service import require, require_area
from ..database import transactional
from ..extensions import db
from ..problems import InvalidInput, NotFound
from ..text import mask_name
from ..transparency.service import current_key, public_keys
from ..types import utcnow
from .models import Receipt, ReceiptVoid

MAX_BATCH = 2000  # receipts per batch PDF: one request must not render for minutes


def committee_of(area: Area) -> str:
    """The Front committee that runs a fund of this area."""
    return f"Ủy ban Mặt trận Tổ quốc Việt Nam {area.name}"


def _earmark(contribution) -> dict | None:
    if contribution.earmark_household_id is not None:
        from ..households.service import get_household

        household = get_household(contribution.earmark_household_id)
        return {"household_id": household.id,
                "household": f"Hộ {mask_name(household.head_name)}, {household.commune.name}"}
    if contribution.earmark_area_code is not None:
        area = db.session.get(Area, contribution.earmark_area_code)
        return {"area_code": area.code, "area_name": area.name}
    return None


def receipt_message(contribution, *, donor_name: str | None, leaf_index: int, issued_by: str, issued_at: str,
                    key_id: str) -> bytes:
    """The canonical payload of a contribution's receipt, the bytes that are signed: its
    public fields only (no ID number, phone, address or memo). `contribution` is a
    Contribution or a contributions.recording.NewContribution (the same attribute names)."""
    from ..journal.resources import describe

    fund, campaign, donor = contribution.fund, contribution.campaign, contribution.donor
    return canonical_bytes(build_payload(
        number=contribution.receipt_number,
        fund={"code": fund.code, "name": fund.name, "committee": committee_of(db.session.get(Area, fund.area_code))},
        campaign={"code": campaign.code, "name": campaign.name},
        received_on=contribution.received_on.isoformat(),
        donor=donor_name if donor else None,
        donor_kind=donor.kind if donor else None,
        method=contribution.method,
        resource={**describe(contribution.kind, contribution.commodity, contribution.units,
                             contribution.value_vnd, contribution.unit_price_vnd), "value_vnd": contribution.value_vnd},
        earmark=_earmark(contribution),
        issued_by=issued_by,
        issued_at=issued_at,
        key_id=key_id,
        leaf_index=leaf_index))


def issue_receipt(contribution, user: User) -> Receipt:
    """Sign and store the receipt of a recorded contribution that has none (in the caller's
    transaction). New contributions get theirs from contributions.recording."""
    key = current_key()
    message = receipt_message(contribution, donor_name=contribution.donor.display_name if contribution.donor else None,
                              leaf_index=contribution.txn.seq, issued_by=user.display_name,
                              issued_at=utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"), key_id=key.key_id)
    receipt = Receipt(contribution_id=contribution.id, number=contribution.receipt_number, key_id=key.key_id,
                      payload_json=message.decode("utf-8"), signature=key.sign(message))
    db.session.add(receipt)
    return receipt


def void_receipt(contribution, reason: str, voided_on: date) -> ReceiptVoid:
    """Attach a signed void statement to a contribution's receipt (in the caller's transaction)."""
    receipt = receipt_of(contribution)
    key = current_key()
    statement = build_void_statement(number=receipt.number, voided_on=voided_on.isoformat(), reason=reason,
                                     key_id=key.key_id)
    message = canonical_bytes(statement)
    void = ReceiptVoid(receipt=receipt, key_id=key.key_id, statement_json=message.decode("utf-8"),
                       signature=key.sign(message))
    db.session.add(void)
    return void


def receipt_of(contribution) -> Receipt:
    receipt = db.session.scalar(select(Receipt).where(Receipt.contribution_id == contribution.id))
    if receipt is None:
        raise NotFound(_l("This contribution has no receipt yet."))
    return receipt


def get_receipt(number: str) -> Receipt:
    receipt = db.session.scalar(select(Receipt).where(Receipt.number == number))
    if receipt is None:
        raise NotFound(_l("No receipt has this number."))
    return receipt


def envelope_of(receipt: Receipt) -> Envelope:
    void = None
    if receipt.void is not None:
        void = {"statement": json.loads(receipt.void.statement_json), "signature": receipt.void.signature}
    return Envelope(json.loads(receipt.payload_json), receipt.signature, void)


def url_of(receipt: Receipt) -> str:
    """What the QR code carries: the public page, with the signature."""
    return receipt_url(current_app.config["LEDGER_PUBLIC_URL"], receipt.number, receipt.signature)


def status_of(receipt: Receipt) -> str:
    return "voided" if receipt.void is not None else "valid"


def check_receipt(number: str, signature: str | None) -> tuple[Receipt | None, Verdict]:
    """What the public page shows: is this the signature of the receipt with this number?
    Never raises for a wrong, missing or malformed signature: it is simply not genuine."""
    receipt = db.session.scalar(select(Receipt).where(Receipt.number == number))
    if receipt is None:
        return None, Verdict(NOT_GENUINE, "no receipt has this number", number)
    if not signature:
        return receipt, Verdict(NOT_GENUINE, "the link carries no signature", number)
    envelope = envelope_of(receipt)
    verdict = verify_payload(envelope.payload, signature, public_keys())
    if verdict.status == GENUINE and envelope.void is not None:
        statement = envelope.void["statement"]
        verdict = Verdict(VOIDED, f"voided on {statement['voided_on']}", number,
                          {"voided_on": statement["voided_on"], "reason": statement["reason"]})
    return receipt, verdict


def receipt_pdf(number: str) -> bytes:
    from receipts.pdf import render_pdf

    receipt = get_receipt(number)
    return render_pdf([(envelope_of(receipt), url_of(receipt))])


def fund_receipts_pdf(user: User, fund_id: int, received_from: date | None, received_to: date | None) -> bytes:
    """The receipts of a fund's contributions received in a date range, one page each, in
    receipt-number order: for printing and mailing to donors."""
    from receipts.pdf import render_pdf

    from ..contributions.models import Contribution
    from ..funds.service import get_fund

    require(user, "read")
    fund = get_fund(fund_id)
    require_area(user, fund.area_code)
    query = (select(Receipt).join(Contribution, Contribution.id == Receipt.contribution_id)
             .where(Contribution.fund_id == fund.id).order_by(Receipt.number))
    if received_from is not None:
        query = query.where(Contribution.received_on >= received_from)
    if received_to is not None:
        query = query.where(Contribution.received_on <= received_to)
    receipts = db.session.scalars(query.limit(MAX_BATCH + 1)).all()
    if not receipts:
        raise NotFound(_l("No receipts in this range."))
    if len(receipts) > MAX_BATCH:
        raise InvalidInput(_l("More than %(n)s receipts: choose a shorter date range.", n=MAX_BATCH))
    return render_pdf([(envelope_of(r), url_of(r)) for r in receipts])


@transactional
def issue_missing_receipts() -> int:
    """Sign receipts for contributions recorded before receipts were signed (a database of
    an earlier version): by their recording officer, voided ones with their void's reason."""
    from ..contributions.models import Contribution
    from ..journal.service import reversal_of

    # No ledger lock: it would reserve a journal seq and leave a gap. Two runs at once
    # cannot issue twice (receipts.contribution_id is unique): the second one fails.
    missing = db.session.scalars(select(Contribution).where(
        ~select(Receipt.id).where(Receipt.contribution_id == Contribution.id).exists()).order_by(Contribution.id))
    count = 0
    for contribution in missing:
        issue_receipt(contribution, db.session.get(User, contribution.created_by_id))
        void = reversal_of(contribution.txn_id)
        if void is not None:
            db.session.flush()
            void_receipt(contribution, void.reason, void.recorded_at.date())
        count += 1
    return count
