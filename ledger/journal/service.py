"""The journal: balanced, append-only transactions of postings per commodity, and lots.

Every resource movement of the ledger (a contribution received, an allocation, a transfer,
a void or reversal) is one JournalTransaction here. The rules stated once:
  - each transaction balances per commodity (invariant 1);
  - no fund's holding of any contribution's commodity goes below zero (invariants 2, 3);
  - nothing is updated or deleted: a reversal is a new transaction (invariant 5).
Each transaction has a canonical public form and its SHA-256, the future log leaf.
"""
from __future__ import annotations

import functools
import hashlib
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, literal_column, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased, lazyload

from receipts.payload import canonical_bytes

from ..database import LEDGER_LOCK, execute_plainly, insert_rows
from ..extensions import db
from ..problems import Conflict
from ..text import clean_text
from ..types import utcnow
from .models import Holding, JournalTransaction, LeafSalt, LedgerSequence, Material, Posting
from .quantities import LABOUR, VND, format_units, kind_of

# 1: the first form; 2: adds "commitments", salted hashes of the personal data behind a leaf.
PUBLIC_FORM_VERSION = 2


@dataclass(frozen=True)
class Leg:
    """One posting to be made: `units` of `commodity` from lot `contribution_id`."""

    account: str
    commodity: str
    units: int
    contribution_id: int
    fund_id: int | None = None  # set when the account is a fund's: its holdings move too


def lock_ledger() -> int:
    """Take the ledger's write lock and reserve the next journal seq, in one statement.

    On PostgreSQL the UPDATE row-locks `ledger_sequence` until the transaction ends; on
    SQLite the writer lock is already held by BEGIN IMMEDIATE. Taken once per write
    transaction (write_transaction() forgets it at the end); a refused write rolls the
    reservation back with everything else, so seqs stay gapless.
    """
    reserved = db.session.info.get(LEDGER_LOCK)
    if reserved is None:
        reserved = {"seq": _advance_sequence(), "used": False}
        db.session.info[LEDGER_LOCK] = reserved
    return reserved["seq"]


def hold_ledger() -> None:
    """Take the ledger's write lock without reserving a seq, for a write that may end up
    recording no journal transaction (a request left waiting for approval): a reserved seq
    that was never used would leave a gap. record_transaction() reserves one when needed.
    On SQLite BEGIN IMMEDIATE already holds the lock (FOR UPDATE is dropped there)."""
    if db.session.info.get(LEDGER_LOCK) is None:
        db.session.execute(select(LedgerSequence.id).where(LedgerSequence.id == 1).with_for_update())


def _advance_sequence(by: int = 1) -> int:
    """Reserve the next `by` seqs; returns the last of them."""
    # As plain SQL: every write sends it, and no ORM object mirrors this row.
    seq = execute_plainly("UPDATE ledger_sequence SET last_seq = last_seq + :by WHERE id = 1 RETURNING last_seq",
                          {"by": by}).scalar()
    if seq is None:  # the migration inserts the row; a database emptied by hand lacks it
        seq = by - 1
        db.session.add(LedgerSequence(id=1, last_seq=seq))
        db.session.flush()
    return seq


def reserve_seqs(count: int) -> range:
    """The seqs of the next `count` transactions, in order and without gaps: the one
    lock_ledger() reserved (if not used yet) and the following, in one statement."""
    lock_ledger()
    reserved = db.session.info[LEDGER_LOCK]
    extra = count if reserved["used"] else count - 1
    last = _advance_sequence(extra) if extra else reserved["seq"]
    reserved["seq"], reserved["used"] = last, True
    return range(last - count + 1, last + 1)


def canonical_json(body: Any) -> str:
    """UTF-8 text, NFC, sorted keys, no white space: the one byte form of a public body
    (the same rule as a receipt's payload, stated once in the receipts package)."""
    return canonical_bytes(body).decode("utf-8")


def material_for(item: str, unit: str) -> Material:
    """The commodity of a material: one per item and unit, whatever their case."""
    item, unit = clean_text(item), clean_text(unit)
    key = f"{item.casefold()}|{unit.casefold()}"
    material = db.session.scalar(select(Material).where(Material.key == key))
    if material is None:
        material = Material(item=item, unit=unit, key=key)
        db.session.add(material)
        db.session.flush()
    return material


def commodity_label(commodity: str) -> dict[str, str]:
    """What a commodity is, for people: {"kind": ..., "item": ..., "unit": ...}."""
    if commodity == VND:
        return {"kind": "cash", "unit": "VND"}
    if commodity == LABOUR:
        return {"kind": "labour", "unit": "person-days"}
    material = db.session.get(Material, int(commodity.split("-", 1)[1]))
    return {"kind": "material", "item": material.item, "unit": material.unit}


def commitment(salt: str, private: dict[str, Any]) -> str:
    """SHA-256(salt ‖ canonical JSON of the private data), hex: what a leaf shows of a name,
    an ID number or a phone. Without the salt nobody can test a guess against it."""
    return hashlib.sha256(bytes.fromhex(salt) + canonical_bytes(private)).hexdigest()


def leaf_body(*, seq: int, kind: str, recorded_at, postings: Iterable[tuple[str, str, int, str]],
              subject: dict[str, Any], reverses_seq: int | None = None, reason: str | None = None,
              commitments: dict[str, str] | None = None, version: int = PUBLIC_FORM_VERSION) -> dict[str, Any]:
    """A journal transaction's public form, the log leaf: built by this one function when
    recorded and again by `flask ledger verify` from the database rows.
    `postings` are (account, commodity, units, receipt number of the lot)."""
    body = {
        "v": version,
        "seq": seq,
        "kind": kind,
        "recorded_at": recorded_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "postings": [
            {"account": account, "commodity": commodity, "amount": format_units(units, kind_of(commodity)),
             "contribution": receipt}
            for account, commodity, units, receipt in postings
        ],
        **subject,
    }
    if reverses_seq is not None:
        body["reverses"] = reverses_seq
        body["reason"] = reason
    if version >= 2 and commitments:
        body["commitments"] = commitments
    return body


def check_balanced(legs: Iterable[Leg]) -> list[Leg]:
    """The legs that move something; each commodity balances (invariant 1)."""
    legs = [leg for leg in legs if leg.units != 0]
    totals: dict[str, int] = defaultdict(int)
    for leg in legs:
        totals[leg.commodity] += leg.units
    if not legs or any(totals.values()):
        raise AssertionError(f"unbalanced journal transaction: {dict(totals)}")  # a bug, not input
    return legs


def sealed_leaf(*, seq: int, kind: str, recorded_at, postings: list[tuple[str, str, int, str]],
                public: dict[str, Any], reverses_seq: int | None = None, reason: str | None = None,
                private: dict[str, dict] | None = None) -> tuple[str, str, str | None]:
    """A transaction's public JSON, its SHA-256, and the salt of its commitments to the
    private data (None without any): what every way of recording a transaction stores."""
    salt = secrets.token_hex(16) if private else None
    body = leaf_body(seq=seq, kind=kind, recorded_at=recorded_at, postings=postings, subject=public,
                     reverses_seq=reverses_seq, reason=reason,
                     commitments={name: commitment(salt, data) for name, data in (private or {}).items()})
    public_json = canonical_json(body)
    return public_json, hashlib.sha256(public_json.encode()).hexdigest(), salt


def record_transaction(kind: str, user_id: int, legs: Iterable[Leg], public: dict[str, Any], *,
                       contribution_refs: dict[int, str], reverses: JournalTransaction | None = None,
                       reason: str | None = None, private: dict[str, dict] | None = None) -> JournalTransaction:
    """Record one balanced transaction. The caller holds the ledger lock (lock_ledger).
    `private` ({"donor": {...}}) enters the leaf only as salted commitments."""
    legs = check_balanced(legs)
    seq = reserve_seqs(1)[0]
    recorded_at = utcnow()
    public_json, sha256, salt = sealed_leaf(
        seq=seq, kind=kind, recorded_at=recorded_at,
        postings=[(leg.account, leg.commodity, leg.units, contribution_refs[leg.contribution_id]) for leg in legs],
        public=public, reverses_seq=reverses.seq if reverses is not None else None, reason=reason, private=private)
    txn = JournalTransaction(
        seq=seq, kind=kind, recorded_at=recorded_at, recorded_by_id=user_id, reverses=reverses, reason=reason,
        public_json=public_json, sha256=sha256,
        reversal=None,  # known: a new transaction is not reversed (saves asking the database)
        postings=[Posting(account=leg.account, commodity=leg.commodity, units=leg.units,
                          contribution_id=leg.contribution_id) for leg in legs])
    db.session.add(txn)
    if salt is not None:
        txn.salt = LeafSalt(salt=salt)
    for leg in legs:
        if leg.fund_id is not None:
            _move_holding(leg.fund_id, leg.contribution_id, leg.commodity, leg.units)
    db.session.flush()
    return txn


@dataclass
class PlannedTransaction:
    """One transaction of a lot written together (record_transactions): what
    record_transaction() takes for one."""

    legs: list[Leg]
    public: dict[str, Any]
    contribution_refs: dict[int, str]
    private: dict[str, dict] | None = None


def record_transactions(kind: str, user_id: int, planned: list[PlannedTransaction]) -> list[int]:
    """Record many balanced transactions at once, as record_transaction() would one after
    another (consecutive seqs, the same leaves, the lots moved), in a few statements:
    their ids, in order. The caller holds the ledger lock."""
    if not planned:
        return []
    legs_of = [check_balanced(p.legs) for p in planned]
    seqs = reserve_seqs(len(planned))
    recorded_at = utcnow()
    rows, salts = [], []
    for p, legs, seq in zip(planned, legs_of, seqs, strict=True):
        public_json, sha256, salt = sealed_leaf(
            seq=seq, kind=kind, recorded_at=recorded_at,
            postings=[(leg.account, leg.commodity, leg.units, p.contribution_refs[leg.contribution_id])
                      for leg in legs],
            public=p.public, private=p.private)
        rows.append({"seq": seq, "kind": kind, "recorded_at": recorded_at, "recorded_by_id": user_id,
                     "reverses_id": None, "reason": None, "public_json": public_json, "sha256": sha256})
        salts.append(salt)
    txn_ids = insert_rows(JournalTransaction.__table__, rows, returning_ids=True)
    insert_rows(LeafSalt.__table__, [{"txn_id": txn_id, "salt": salt}
                                     for txn_id, salt in zip(txn_ids, salts, strict=True) if salt])
    insert_rows(Posting.__table__, [
        {"txn_id": txn_id, "account": leg.account, "commodity": leg.commodity, "units": leg.units,
         "contribution_id": leg.contribution_id}
        for txn_id, legs in zip(txn_ids, legs_of, strict=True) for leg in legs])
    moves: dict[tuple[int, int, str], int] = defaultdict(int)  # each lot moved once, by the sum
    for legs in legs_of:
        for leg in legs:
            if leg.fund_id is not None:
                moves[(leg.fund_id, leg.contribution_id, leg.commodity)] += leg.units
    taken = [{"f": f, "c": c, "m": m, "d": units} for (f, c, m), units in moves.items() if units < 0]
    if taken:
        lots = Holding.__table__
        db.session.connection().execute(
            update(lots).where(lots.c.fund_id == bindparam("f"), lots.c.contribution_id == bindparam("c"),
                               lots.c.commodity == bindparam("m")).values(units=lots.c.units + bindparam("d")),
            taken)
    for (fund_id, contribution_id, commodity), units in moves.items():
        if units > 0:
            _move_holding(fund_id, contribution_id, commodity, units)
    return txn_ids


def _move_holding(fund_id: int, contribution_id: int, commodity: str, units: int) -> None:
    """Add `units` to a fund's lot (an upsert), or take them (an update). Callers check
    first that the fund holds enough, and explain; CHECK (units >= 0) is the last defence."""
    from ..contributions.models import Contribution

    # On the connection: the ORM's update path flushed every pending object first and
    # cost a third of an allocation; no object of the session mirrors a lot.
    lots, connection = Holding.__table__, db.session.connection()
    if units < 0:
        connection.execute(update(lots).where(
            lots.c.fund_id == fund_id, lots.c.contribution_id == contribution_id, lots.c.commodity == commodity)
            .values(units=lots.c.units + units))
        return
    insert = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
    received_on = db.session.get(Contribution, contribution_id).received_on
    connection.execute(
        insert(lots).values(fund_id=fund_id, contribution_id=contribution_id, commodity=commodity,
                            units=units, received_on=received_on)
        .on_conflict_do_update(index_elements=["fund_id", "contribution_id", "commodity"],
                               set_={"units": lots.c.units + units}))


def fund_balances(fund_id: int) -> dict[str, int]:
    """What a fund holds now, per commodity."""
    rows = db.session.execute(
        select(Holding.commodity, func.sum(Holding.units)).where(Holding.fund_id == fund_id)
        .group_by(Holding.commodity))
    return {commodity: int(units) for commodity, units in rows if units}


def _open_lots(fund_id: int, commodity: str):
    """(contribution, units held, received on) of each lot the fund still holds, in FIFO order."""
    from ..contributions.models import Contribution

    return (select(Contribution, Holding.units, Holding.received_on)
            .options(lazyload("*"))  # only the lots themselves: no donor or fund joined in
            .join(Holding, Holding.contribution_id == Contribution.id)
            .where(Holding.fund_id == fund_id, Holding.commodity == commodity,
                   # a literal 0, so PostgreSQL's generic plan can use the partial index
                   Holding.units > literal_column("0"))
            .order_by(Holding.received_on, Holding.contribution_id))


def draw_lots(fund_id: int, commodity: str, units: int, *, source_contribution_id: int | None,
              eligible: Callable[[Any], bool]) -> list[tuple[Any, int]]:
    """Choose the lots an outflow draws from: the named contribution, or first-in-first-out
    over the fund's pool, skipping lots whose earmark does not allow this use.

    Returns [(contribution, units)], or raises Conflict saying how much is available.
    Lots are read in growing batches along the FIFO index, so a fund with many lots
    costs about the lots actually drawn.
    """
    query = _open_lots(fund_id, commodity)
    if source_contribution_id is not None:
        query = query.where(Holding.contribution_id == source_contribution_id)

    def pages():
        after, batch = None, 4
        while True:
            page = query if after is None else query.where(
                tuple_(Holding.received_on, Holding.contribution_id) > tuple_(*after))
            rows = db.session.execute(page.limit(batch)).all()
            for contribution, held, received_on in rows:
                after = (received_on, contribution.id)
                yield contribution, held
            if len(rows) < batch:
                return
            batch = min(batch * 4, 256)  # most draws end in the first lots; long ones read more at once

    return take_lots(pages(), commodity, units, eligible)


def take_lots(lots: Iterable[tuple[Any, int]], commodity: str, units: int,
              eligible: Callable[[Any], bool]) -> list[tuple[Any, int]]:
    """The FIFO rule itself: from (contribution, units held) in FIFO order, take `units`
    from the eligible lots, oldest first; or Conflict saying how much is available."""
    drawn: list[tuple[Any, int]] = []
    remaining, available = units, 0
    for contribution, held in lots:
        if held <= 0 or not eligible(contribution):
            continue
        take = min(held, remaining)
        drawn.append((contribution, take))
        available += held
        remaining -= take
        if remaining == 0:
            return drawn
    kind = kind_of(commodity)
    raise Conflict(
        _l("Not enough available: %(wanted)s asked, %(available)s available for this use.",
           wanted=format_units(units, kind), available=format_units(available, kind)),
        available=format_units(available, kind))


class FundLots:
    """A fund's lots of one commodity read once, in FIFO order, for many draws in one
    transaction (allocate_in_bulk): draw() answers as draw_lots() would after every
    earlier draw had been recorded, by the same rule (take_lots). The caller holds the
    ledger lock, so nothing else moves these lots meanwhile."""

    def __init__(self, fund_id: int, commodity: str):
        self.fund_id, self.commodity = fund_id, commodity
        self.lots = [[contribution, held] for contribution, held, _received_on
                     in db.session.execute(_open_lots(fund_id, commodity))]
        self.lot_of = {id(lot[0]): lot for lot in self.lots}
        self.first = 0  # the lots before it are empty

    def draw(self, fund_id: int, commodity: str, units: int, *, source_contribution_id: int | None,
             eligible: Callable[[Any], bool]) -> list[tuple[Any, int]]:
        if (fund_id, commodity) != (self.fund_id, self.commodity) or source_contribution_id is not None:
            raise ValueError("FundLots draws its own fund's pool, first-in-first-out only")  # a bug, not input
        while self.first < len(self.lots) and self.lots[self.first][1] == 0:
            self.first += 1
        drawn = take_lots((tuple(self.lots[i]) for i in range(self.first, len(self.lots))), commodity, units,
                          eligible)
        for contribution, taken in drawn:  # recorded in this transaction: no longer there
            self.lot_of[id(contribution)][1] -= taken
        return drawn


def record_reversal(user_id: int, txn: JournalTransaction, fund_ids: dict[str, int], public: dict[str, Any],
                    reason: str) -> JournalTransaction:
    """Undo `txn` by a new transaction: each posting negated, the funds' lots restored.
    The caller holds the ledger lock and has checked that the undo is allowed (and not
    done before: `reverses_id` is unique besides)."""
    from ..contributions.service import receipt_numbers

    legs = [Leg(p.account, p.commodity, -p.units, p.contribution_id, fund_ids.get(p.account)) for p in txn.postings]
    kind = "void" if txn.kind == "contribution" else "reversal"
    return record_transaction(kind, user_id, legs, public,
                              contribution_refs=receipt_numbers(p.contribution_id for p in txn.postings),
                              reverses=txn, reason=clean_text(reason))


def reversal_of(txn_id: int) -> JournalTransaction | None:
    return db.session.scalar(select(JournalTransaction).where(JournalTransaction.reverses_id == txn_id))


def not_reversed(txn_id_column):
    """A WHERE clause: the transaction in `txn_id_column` has not been reversed (or voided).
    NOT EXISTS, which PostgreSQL answers by the unique index on reverses_id. Over an alias,
    so it also holds in a query that joins journal_transactions itself (the plain table
    would be correlated to the outer one)."""
    reversal = _reversal_alias()
    return ~select(reversal.id).where(reversal.reverses_id == txn_id_column).exists()


@functools.cache
def _reversal_alias():
    # One alias for every query: making one builds its column collection, which cost more
    # than the query on a receipt's page (two such clauses). It stays private to the
    # NOT EXISTS above, so no outer query can correlate it away.
    return aliased(JournalTransaction, name="reversal")


def is_reversed(record) -> bool:
    """Has the journal transaction of this record (contribution, allocation, transfer) been
    reversed? A voided contribution is one whose transaction was reversed."""
    return record.txn.reversal is not None


def reversal_leaf_index(record) -> int | None:
    """The log entry that voided or reversed this record, if any."""
    reversal = record.txn.reversal
    return reversal.seq if reversal is not None else None


def verify_journal() -> list[str]:
    """Check the whole journal against its rules; return what is wrong (empty: all good).

    - seq runs 0, 1, 2, ... without gaps;
    - each transaction's stored public form hashes to its stored SHA-256;
    - each transaction balances per commodity;
    - the holdings equal the fund postings summed per lot, and none is negative.
    """
    from ..funds.models import Fund

    problems: list[str] = []
    expected = 0
    for seq, public_json, sha in db.session.execute(
            select(JournalTransaction.seq, JournalTransaction.public_json,
                   JournalTransaction.sha256).order_by(JournalTransaction.seq)).yield_per(5000):
        if seq != expected:
            problems.append(f"journal seq {expected} missing (found {seq})")
            expected = seq
        expected += 1
        if hashlib.sha256(public_json.encode()).hexdigest() != sha:
            problems.append(f"transaction seq {seq}: public form does not match its SHA-256")
    unbalanced = db.session.execute(
        select(Posting.txn_id, Posting.commodity).group_by(Posting.txn_id, Posting.commodity)
        .having(func.sum(Posting.units) != 0)).all()
    problems += [f"transaction {t} does not balance in {c}" for t, c in unbalanced]

    accounts = dict(db.session.execute(select(Fund.id, Fund.code)).all())
    from_postings = {
        (fund_id, c_id, commodity): int(units)
        for fund_id, c_id, commodity, units in db.session.execute(
            select(Fund.id, Posting.contribution_id, Posting.commodity, func.sum(Posting.units))
            .join(Fund, Posting.account == "fund:" + Fund.code)
            .group_by(Fund.id, Posting.contribution_id, Posting.commodity))
    }
    held = {(h.fund_id, h.contribution_id, h.commodity): h.units for h in db.session.scalars(select(Holding))}
    for key in set(from_postings) | set(held):
        journal_units, holding_units = from_postings.get(key, 0), held.get(key, 0)
        if journal_units != holding_units:
            problems.append(f"fund {accounts.get(key[0])} lot {key[1]} {key[2]}: journal {journal_units}, "
                            f"holdings {holding_units}")
        if journal_units < 0:
            problems.append(f"fund {accounts.get(key[0])} lot {key[1]} {key[2]} is negative")
    return problems
