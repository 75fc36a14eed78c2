"""`flask ledger verify`: prove from the database rows that nobody rewrote the books.

1. Every journal transaction's leaf is rebuilt from the rows it describes (postings,
   contributions, allocations, transfers, funds, and the donor or household as they were
   when it was recorded, through their edit histories) by the same functions that built
   it, and compared with the stored leaf; the first differing entry is named with what
   differs.
2. The Merkle tree is rebuilt from the stored leaves and checked against every stored
   tree node and every signed checkpoint (signature, origin, size, root), so an edit that
   also rewrote the stored leaves is caught by the signatures.
3. The journal's own rules (gapless seq, hashes, balance per commodity, holdings).
"""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select

from receipts import merkle
from receipts.note import open_note, parse_checkpoint

from ..database import in_parts, refresh_stale_statistics
from ..extensions import db
from ..journal.models import JournalTransaction, LeafSalt, Posting
from ..journal.service import canonical_json, commitment, leaf_body, verify_journal
from .log import note_verifier_key, origin
from .models import Checkpoint, LogNode, node_key
from .service import public_keys

BATCH = 2000
LOTS_PER_QUERY = 5000  # under every database's limit on bound parameters
MAX_PROBLEMS = 50


class History:
    """A donor's or household's fields as they were at any moment: the current row, with
    its recorded changes undone, newest first. A change whose `new` value is not what the
    row (or the next change) holds means the row was edited outside the ledger."""

    def __init__(self, current: dict[str, Any], changes: list[tuple[datetime, dict]]):
        self.current = current
        self.changes = sorted(changes, key=lambda c: c[0], reverse=True)
        self.broken: list[str] = []
        state = dict(current)
        for _at, diff in self.changes:
            for field, (old, new) in diff.items():
                if field in state and state[field] != new:
                    self.broken.append(f"{field}: the row holds {state[field]!r}, its history says {new!r}")
                state[field] = old

    def as_of(self, moment: datetime) -> dict[str, Any]:
        state = dict(self.current)
        for at, diff in self.changes:
            if at <= moment:
                break
            for field, (old, _new) in diff.items():
                state[field] = old
        return state


def _histories(model, change_model, key: str, ids: set[int], fields: tuple[str, ...]) -> dict[int, History]:
    if not ids:
        return {}
    changes = defaultdict(list)
    for owner, at, diff in db.session.execute(
            select(getattr(change_model, key), change_model.changed_at, change_model.changes)
            .where(getattr(change_model, key).in_(ids))):
        changes[owner].append((at, diff))
    return {row.id: History({f: getattr(row, f) for f in fields}, changes[row.id])
            for row in db.session.scalars(select(model).where(model.id.in_(ids)))}


def _flatten(value: Any, path: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{path}.{k}" if path else k))
        return out
    if isinstance(value, list):
        out = {f"{path}.length": len(value)}
        for i, v in enumerate(value):
            out.update(_flatten(v, f"{path}[{i}]"))
        return out
    return {path: value}


def describe_difference(stored: dict, rebuilt: dict) -> str:
    a, b = _flatten(stored), _flatten(rebuilt)
    diffs = [f"{k}: the log says {a.get(k)!r}, the rows say {b.get(k)!r}"
             for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    return "; ".join(diffs[:4]) + (f" (and {len(diffs) - 4} more)" if len(diffs) > 4 else "")


def rebuilt_leaves() -> Iterator[tuple[JournalTransaction, str, list[str]]]:
    """(transaction, its leaf rebuilt from the rows, problems of the rows behind it), in seq order."""
    from ..allocations.models import Allocation
    from ..allocations.service import public_allocation
    from ..allocations.service import reversal_subject as allocation_reversal
    from ..contributions.models import Contribution
    from ..contributions.service import public_contribution, void_subject
    from ..donors.models import ANONYMOUS_NAME, Donor, DonorChange
    from ..donors.service import IDENTITY as DONOR_IDENTITY
    from ..funds.models import Fund, Transfer
    from ..funds.service import transfer_subject
    from ..households.models import Household, HouseholdChange
    from ..households.service import IDENTITY as HOUSEHOLD_IDENTITY

    refresh_stale_statistics([JournalTransaction.__table__, Posting.__table__, Contribution.__table__,
                              Allocation.__table__, Transfer.__table__, LeafSalt.__table__, Donor.__table__,
                              DonorChange.__table__, Household.__table__, HouseholdChange.__table__])
    fund_codes = dict(db.session.execute(select(Fund.id, Fund.code)).all())
    last = -1
    while True:
        txns = db.session.scalars(select(JournalTransaction).where(JournalTransaction.seq > last)
                                  .order_by(JournalTransaction.seq).limit(BATCH)).all()
        if not txns:
            return
        last = txns[-1].seq
        ids = [t.id for t in txns]
        reversed_ids = {t.reverses_id for t in txns if t.reverses_id is not None}
        all_ids = set(ids) | reversed_ids
        postings = defaultdict(list)
        for p in db.session.scalars(select(Posting).where(Posting.txn_id.in_(ids)).order_by(Posting.id)):
            postings[p.txn_id].append(p)
        # A transfer between funds draws on thousands of lots: their receipt numbers are read
        # a few thousand at a time (PostgreSQL takes at most 65,535 parameters a statement,
        # and a national ledger's first batch of transfers named more lots than that).
        lot_ids = sorted({p.contribution_id for ps in postings.values() for p in ps})
        receipts = {}
        for part in in_parts(lot_ids, LOTS_PER_QUERY):
            receipts.update(db.session.execute(select(Contribution.id, Contribution.receipt_number)
                                               .where(Contribution.id.in_(part))).all())
        contributions = {c.txn_id: c for c in db.session.scalars(
            select(Contribution).where(Contribution.txn_id.in_(all_ids)))}
        allocations = {a.txn_id: a for a in db.session.scalars(
            select(Allocation).where(Allocation.txn_id.in_(all_ids)))}
        transfers = {t.txn_id: t for t in db.session.scalars(select(Transfer).where(Transfer.txn_id.in_(all_ids)))}
        seqs = dict(db.session.execute(select(JournalTransaction.id, JournalTransaction.seq)
                                       .where(JournalTransaction.id.in_(reversed_ids))).all())
        salts = dict(db.session.execute(select(LeafSalt.txn_id, LeafSalt.salt).where(LeafSalt.txn_id.in_(ids))).all())
        donors = _histories(Donor, DonorChange, "donor_id",
                            {c.donor_id for c in contributions.values() if c.donor_id},
                            ("kind", "public_display", *DONOR_IDENTITY))
        households = _histories(Household, HouseholdChange, "household_id",
                                {a.household_id for a in allocations.values()}, ("commune_code", *HOUSEHOLD_IDENTITY))

        for txn in txns:
            problems: list[str] = []
            try:
                version = json.loads(txn.public_json).get("v", 1)
            except (ValueError, AttributeError):
                version = 2
            private: dict[str, dict] = {}
            subject: dict[str, Any] = {}
            if txn.kind == "contribution" and txn.id in contributions:
                c = contributions[txn.id]
                donor = None
                if c.donor_id is not None:
                    history = donors[c.donor_id]
                    problems += [f"donor {c.donor_id} {b}" for b in history.broken]
                    donor = history.as_of(txn.recorded_at)
                    private["donor"] = {f: donor[f] for f in DONOR_IDENTITY}
                name = None if donor is None else (donor["name"] if donor["public_display"] == "named"
                                                   else ANONYMOUS_NAME)
                subject = public_contribution(c, name, donor["kind"] if donor else None)
            elif txn.kind == "allocation" and txn.id in allocations:
                a = allocations[txn.id]
                history = households[a.household_id]
                problems += [f"household {a.household_id} {b}" for b in history.broken]
                household = history.as_of(txn.recorded_at)
                private["household"] = {f: household[f] for f in HOUSEHOLD_IDENTITY}
                subject = public_allocation(fund_codes[a.fund_id], a.household_id, household["commune_code"],
                                            a.value_vnd, a.override_reason is not None)
            elif txn.kind == "transfer" and txn.id in transfers:
                t = transfers[txn.id]
                subject = transfer_subject(fund_codes[t.from_fund_id], fund_codes[t.to_fund_id])
            elif txn.kind in ("void", "reversal") and txn.reverses_id is not None:
                undone = txn.reverses_id
                if undone in contributions:
                    subject = void_subject(contributions[undone])
                elif undone in allocations:
                    subject = allocation_reversal(allocations[undone])
                elif undone in transfers:
                    t = transfers[undone]
                    subject = transfer_subject(fund_codes[t.from_fund_id], fund_codes[t.to_fund_id])
                else:
                    problems.append(f"reverses transaction {undone}, which no record belongs to")
            else:
                problems.append(f"a {txn.kind} transaction that no record belongs to")
            commitments = None
            if private and version >= 2:
                salt = salts.get(txn.id)
                if salt is None:
                    problems.append("its private salt is missing")
                else:
                    commitments = {k: commitment(salt, v) for k, v in private.items()}
            body = leaf_body(
                seq=txn.seq, kind=txn.kind, recorded_at=txn.recorded_at, version=version,
                postings=[(p.account, p.commodity, p.units, receipts.get(p.contribution_id)) for p in postings[txn.id]],
                subject=subject, reverses_seq=seqs.get(txn.reverses_id), reason=txn.reason, commitments=commitments)
            yield txn, canonical_json(body), problems


def verify_ledger(progress: Callable[[int], None] | None = None) -> list[str]:
    """Everything `flask ledger verify` checks; the problems found, first one first."""
    problems: list[str] = []
    tree = merkle.MemoryTree()

    def add(problem: str) -> None:
        if len(problems) < MAX_PROBLEMS:
            problems.append(problem)

    for txn, rebuilt, row_problems in rebuilt_leaves():
        label = f"entry {txn.seq} (journal transaction {txn.id}, {txn.kind})"
        for p in row_problems:
            add(f"{label}: {p}")
        if rebuilt != txn.public_json:
            try:
                add(f"{label}: {describe_difference(json.loads(txn.public_json), json.loads(rebuilt))}")
            except ValueError:
                add(f"{label}: its stored leaf is not JSON")
        tree.append(txn.public_json.encode("utf-8"))
        if progress:
            progress(tree.size)

    for node, h in db.session.execute(select(LogNode.node, LogNode.hash).order_by(LogNode.node)).yield_per(10000):
        level, idx = node_key(node)
        if (idx + 1) << level > tree.size:
            add(f"log node ({level}, {idx}) covers entries beyond the journal's {tree.size}")
        elif tree.get(level, idx) != bytes(h):
            first = idx << level
            add(f"log node ({level}, {idx}) over entries {first}..{first + (1 << level) - 1} "
                f"does not match those entries")

    keys = {record_key: note_verifier_key(key) for record_key, key in public_keys().items()}
    for checkpoint in db.session.scalars(select(Checkpoint).order_by(Checkpoint.size)):
        label = f"checkpoint of size {checkpoint.size}"
        try:
            body = open_note(checkpoint.note, list(keys.values()))
            name, size, root = parse_checkpoint(body)
        except ValueError as exc:
            add(f"{label}: {exc}")
            continue
        if name != origin() or size != checkpoint.size or root != bytes(checkpoint.root_hash):
            add(f"{label}: its signed note says {name} size {size}, the row says size {checkpoint.size}")
        elif size > tree.size:
            add(f"{label}: signed for {size} entries, the journal has {tree.size}")
        elif tree.root(size) != root:
            add(f"{label}: the entries 0..{size - 1} no longer hash to its signed root")
    problems += verify_journal()[:MAX_PROBLEMS]
    return problems
