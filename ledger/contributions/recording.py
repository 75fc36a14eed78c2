"""Writing checked contributions: one path for a gift typed in (the API, a form) and for
the 200,000 transfers of a bank statement.

Each contribution is written as rows, several contributions per statement: its journal
transaction (public form, SHA-256, salt), the contribution, its two postings, the fund's
new lot, the signed receipt and the public statement's row. The rules are checked before
(contributions.service.check_contribution); the journal's seqs and the receipts' numbers
are reserved for the whole lot in one statement each, under the ledger lock the caller
holds, so both stay gapless and in recording order. No ORM object is made per row: an
import of a big statement stays fast and its memory flat.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import insert

from ..auth.models import User
from ..database import execute_plainly, insert_together, new_ids
from ..extensions import db
from ..journal.models import Holding, JournalTransaction, LeafSalt, Posting
from ..journal.service import reserve_seqs, sealed_leaf
from ..receipts.models import Receipt
from ..receipts.service import receipt_message
from ..statement.models import StatementEntry
from ..statement.service import statement_names, statement_row
from ..transparency.service import current_key
from ..types import utcnow
from .models import Contribution, ReceiptCounter

CHUNK = 1000  # contributions written per statement: bounded memory, few round trips


@dataclass(frozen=True)
class IssuedReceipt:
    number: str
    signature: str


@dataclass(frozen=True)
class PostedEntry:
    seq: int
    reversal = None  # a new entry is not reversed


@dataclass(eq=False)
class NewContribution:
    """A contribution checked and ready to record. The attribute names are Contribution's,
    so the public form, the receipt and the statement row are built by the same code."""

    campaign: object
    fund: object
    donor: object | None
    pledge: object | None
    kind: str
    method: str
    commodity: str
    units: int
    unit_price_vnd: int | None
    value_vnd: int
    received_on: date
    bank_reference: str | None = None
    memo: str | None = None
    earmark_area_code: str | None = None
    earmark_household_id: int | None = None
    receipt_number: str | None = None  # reserved when recorded
    id: int | None = None  # once written
    # Once written, as the answer shows them (ContributionOut), so that the API need not
    # read back what it has just written: the receipt as issued, the log entry, the time.
    receipt: IssuedReceipt | None = None
    txn: PostedEntry | None = None
    created_at: datetime | None = None

    @property
    def campaign_id(self) -> int:
        return self.campaign.id

    @property
    def fund_id(self) -> int:
        return self.fund.id

    @property
    def donor_id(self) -> int | None:
        return self.donor.id if self.donor is not None else None

    @property
    def pledge_id(self) -> int | None:
        return self.pledge.id if self.pledge is not None else None


def number_receipts(contributions: list[NewContribution]) -> None:
    """{FUND}-{YYYY}-{NNNNNN}: sequential per fund and year of receipt, no gaps (under the
    ledger lock), in the order given; one counter update per fund and year."""
    groups: dict[tuple, list[NewContribution]] = defaultdict(list)
    for c in contributions:
        groups[(c.fund.id, c.received_on.year)].append(c)
    for (fund_id, year), group in groups.items():
        last = execute_plainly(  # plain SQL, as journal.service._advance_sequence: every gift sends it
            "UPDATE receipt_counters SET last_number = last_number + :n WHERE fund_id = :fund AND year = :year "
            "RETURNING last_number", {"n": len(group), "fund": fund_id, "year": year}).scalar()
        if last is None:  # the fund's first receipts of the year
            last = len(group)
            db.session.connection().execute(insert(ReceiptCounter.__table__).values(
                fund_id=fund_id, year=year, last_number=last))
        code = group[0].fund.code
        for number, c in enumerate(group, last - len(group) + 1):
            c.receipt_number = f"{code}-{year:04d}-{number:06d}"


def record_checked(user: User, contributions: list[NewContribution]) -> list[int]:
    """Write checked contributions (the caller holds the ledger lock); their ids, in order."""
    ids: list[int] = []
    for start in range(0, len(contributions), CHUNK):
        ids += _write(user, contributions[start:start + CHUNK])
    return ids


def _write(user: User, chunk: list[NewContribution]) -> list[int]:
    from ..donors.service import donor_identity
    from .service import public_contribution

    seqs = reserve_seqs(len(chunk))
    number_receipts(chunk)
    names = statement_names(c.donor_id for c in chunk)
    recorded_at = utcnow()
    stamp = recorded_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    key = current_key()

    txns, salts, legs = [], [], []
    for c, seq in zip(chunk, seqs, strict=True):
        name = names.get(c.donor_id)
        kind = c.donor.kind if c.donor is not None else None
        fund_leg = (c.fund.account, c.commodity, c.units, c.receipt_number)
        gift_leg = (f"donations:{c.campaign.code}", c.commodity, -c.units, c.receipt_number)
        public_json, sha256, salt = sealed_leaf(
            seq=seq, kind="contribution", recorded_at=recorded_at, postings=[fund_leg, gift_leg],
            public=public_contribution(c, name, kind),
            private={"donor": donor_identity(c.donor)} if c.donor is not None else None)
        txns.append({"seq": seq, "kind": "contribution", "recorded_at": recorded_at, "recorded_by_id": user.id,
                     "reverses_id": None, "reason": None, "public_json": public_json, "sha256": sha256})
        salts.append(salt)
        legs.append((fund_leg, gift_leg))
    # Ids first, so that all seven kinds of row go to the database together.
    txn_ids, ids = new_ids((JournalTransaction.__table__, len(chunk)), (Contribution.__table__, len(chunk)))
    for txn, txn_id in zip(txns, txn_ids, strict=True):
        txn["id"] = txn_id
    contributions = [
        {"id": contribution_id, "campaign_id": c.campaign.id, "fund_id": c.fund.id, "donor_id": c.donor_id,
         "pledge_id": c.pledge_id, "kind": c.kind, "method": c.method, "commodity": c.commodity, "units": c.units,
         "unit_price_vnd": c.unit_price_vnd, "value_vnd": c.value_vnd, "received_on": c.received_on,
         "bank_reference": c.bank_reference, "memo": c.memo, "earmark_area_code": c.earmark_area_code,
         "earmark_household_id": c.earmark_household_id, "receipt_number": c.receipt_number, "txn_id": txn_id,
         "created_by_id": user.id, "created_at": recorded_at}
        for c, txn_id, contribution_id in zip(chunk, txn_ids, ids, strict=True)]

    postings, holdings, receipts, entries = [], [], [], []
    for c, contribution_id, txn_id, seq, (fund_leg, gift_leg) in zip(chunk, ids, txn_ids, seqs, legs, strict=True):
        c.id, c.txn, c.created_at = contribution_id, PostedEntry(seq), recorded_at
        for account, commodity, units, _receipt in (fund_leg, gift_leg):
            postings.append({"txn_id": txn_id, "account": account, "commodity": commodity, "units": units,
                             "contribution_id": contribution_id})
        holdings.append({"fund_id": c.fund.id, "contribution_id": contribution_id, "commodity": c.commodity,
                         "units": c.units, "received_on": c.received_on})
        name = names.get(c.donor_id)
        message = receipt_message(c, donor_name=name, leaf_index=seq, issued_by=user.display_name,
                                  issued_at=stamp, key_id=key.key_id)
        c.receipt = IssuedReceipt(c.receipt_number, key.sign(message))
        receipts.append({"contribution_id": contribution_id, "number": c.receipt_number, "key_id": key.key_id,
                         "payload_json": message.decode("utf-8"), "signature": c.receipt.signature,
                         "issued_at": recorded_at})
        entries.append(statement_row(c, name))
    insert_together([
        (JournalTransaction.__table__, txns),
        (Contribution.__table__, contributions),
        (LeafSalt.__table__, [{"txn_id": txn_id, "salt": salt} for txn_id, salt in zip(txn_ids, salts, strict=True)
                              if salt]),
        (Posting.__table__, postings),
        (Holding.__table__, holdings),
        (Receipt.__table__, receipts),
        (StatementEntry.__table__, entries)])
    return ids
