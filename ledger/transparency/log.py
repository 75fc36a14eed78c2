"""The transparency log: every journal transaction's public form is a leaf of an RFC 6962
Merkle tree, in `seq` order; checkpoints of the tree are signed as C2SP signed notes.

Leaves are appended after the fact (`integrate`), not inside each write: the journal's
gapless `seq` already fixes the order, so writers stay fast and the log follows within
seconds (a background publisher, and any request for a checkpoint or a proof). Appending
stores the hash of every complete subtree once (log_nodes); a proof reads O(log n) of
them in one query and never recomputes the tree.
"""
from __future__ import annotations

import threading
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, bindparam, func, insert, select
from sqlalchemy.dialects.postgresql import ARRAY

from receipts import merkle
from receipts.note import checkpoint_body, sign_note, verifier_key

from ..database import write_transaction
from ..extensions import db
from ..journal.models import JournalTransaction
from ..problems import InvalidInput, NotFound
from .models import Checkpoint, LogNode, LogState, node_id, node_key
from .service import current_key

BATCH = 5000  # leaves appended per transaction: bounded memory and lock time


def origin() -> str:
    """The log's name, first line of every checkpoint: LEDGER_LOG_ORIGIN, or the public
    URL's host and path with "/log" (C2SP: a schema-less URL that identifies the log)."""
    configured = current_app.config.get("LEDGER_LOG_ORIGIN")
    if configured:
        return configured
    url = urlsplit(current_app.config["LEDGER_PUBLIC_URL"])
    return f"{url.netloc}{url.path.rstrip('/')}/log"


def note_verifier_key(public_key) -> str:
    """What Go's note.NewVerifier (and our verifier) takes to check checkpoints."""
    return verifier_key(origin(), public_key)


def fetch_nodes(keys) -> dict[tuple[int, int], bytes]:
    """The stored subtree hashes for these (level, index) keys, in one query."""
    ids = list(dict.fromkeys(node_id(level, idx) for level, idx in keys))
    if not ids:
        return {}
    if db.session.get_bind().dialect.name == "postgresql":
        # One array parameter: an expanding IN of ~25 values costs more to send than to run.
        where = LogNode.node == func.any(bindparam("ids", ids, type_=ARRAY(BigInteger)))
    else:
        where = LogNode.node.in_(ids)
    return {node_key(node): bytes(h) for node, h in db.session.execute(select(LogNode.node, LogNode.hash).where(where))}


def _locked_state() -> LogState:
    """The log's one state row, locked until the transaction ends (SQLite: the write lock)."""
    state = db.session.scalar(select(LogState).where(LogState.id == 1).with_for_update())
    if state is None:  # a database emptied by hand
        state = LogState(id=1, size=0)
        db.session.add(state)
        db.session.flush()
    return state


def log_size() -> int:
    return db.session.scalar(select(LogState.size).where(LogState.id == 1)) or 0


def _frontier_keys(size: int) -> list[tuple[int, int]]:
    """The complete subtrees of a tree of `size` leaves: the left siblings appends need."""
    return [(level, (size >> level) - 1) for level in range(size.bit_length()) if size >> level & 1]


def integrate() -> int:
    """Append the journal transactions not yet in the log, in seq order; return the size."""
    while True:
        with write_transaction():
            state = _locked_state()
            size = start = state.size
            rows = db.session.execute(
                select(JournalTransaction.seq, JournalTransaction.public_json)
                .where(JournalTransaction.seq >= size).order_by(JournalTransaction.seq).limit(BATCH)).all()
            known = fetch_nodes(_frontier_keys(size))
            new: list[dict] = []
            for seq, public_json in rows:
                if seq != size:
                    break  # a seq not committed yet: the log waits for it, never skips it
                added = merkle.append_nodes(size, merkle.leaf_hash(public_json.encode("utf-8")),
                                            lambda level, idx, nodes=known: nodes[(level, idx)])
                for level, idx, h in added:
                    known[(level, idx)] = h
                    new.append({"node": node_id(level, idx), "hash": h})
                size += 1
            if new:
                db.session.execute(insert(LogNode), new)
                state.size = size
        if len(rows) < BATCH or size - start < len(rows):  # caught up, or waiting for a seq
            return size


def latest_checkpoint() -> Checkpoint | None:
    return db.session.scalar(select(Checkpoint).order_by(Checkpoint.size.desc()).limit(1))


def sign_checkpoint() -> Checkpoint:
    """Sign a checkpoint of the log as it is now, unless the latest already covers it.
    Before signing, the new root must extend the latest signed one (a consistency proof
    from the stored nodes): the ledger never signs two inconsistent checkpoints."""
    with write_transaction():
        size = _locked_state().size
        latest = latest_checkpoint()
        if latest is not None and latest.size >= size:
            return latest
        nodes = fetch_nodes(merkle.root_keys(size))
        root = merkle.root_from(nodes, size)
        if latest is not None and latest.size > 0:
            proof = consistency_proof(latest.size, size)
            if not merkle.verify_consistency(latest.size, size, bytes(latest.root_hash), root, proof):
                raise RuntimeError(f"log of size {size} does not extend checkpoint {latest.size}: refusing to sign")
        key = current_key()
        note = sign_note(checkpoint_body(origin(), size, root), origin(), key)
        checkpoint = Checkpoint(size=size, root_hash=root, key_id=key.key_id, note=note)
        db.session.add(checkpoint)
        db.session.flush()
        return checkpoint


def publish() -> Checkpoint:
    """Bring the log up to date with the journal and sign a checkpoint of it."""
    integrate()
    return sign_checkpoint()


def checkpoint_at(size: int | None) -> Checkpoint:
    """The checkpoint of this size, or the latest (brought up to date first)."""
    if size is None:
        return publish()
    checkpoint = db.session.scalar(select(Checkpoint).where(Checkpoint.size == size))
    if checkpoint is None:
        raise NotFound(_l("No checkpoint has this size."))
    return checkpoint


def _within_log(high: int) -> int:
    """The log's size, brought up to date first when `high` lies beyond it."""
    size = log_size()
    if high > size:
        size = integrate()
    return size


def _out_of_range(field: str, size: int) -> InvalidInput:
    return InvalidInput(_l("Out of range: the log holds %(size)s entries.", size=size),
                        errors={field: [_l("Between 0 and the log's size.")]})


def _proof_nodes(keys: list, field: str, high: int) -> dict:
    """The nodes a proof needs; a missing one means `high` lies beyond the log (after
    bringing the log up to date once): a problem for the caller, not a server error."""
    nodes = fetch_nodes(keys)
    if len(nodes) < len(set(keys)):
        integrate()
        nodes = fetch_nodes(keys)
        if len(nodes) < len(set(keys)):
            raise _out_of_range(field, log_size())
    return nodes


def inclusion_proof(leaf: int, size: int, with_leaf: bool = False):
    """RFC 9162 inclusion path of `leaf` in the tree of `size` leaves (and, with_leaf, the
    leaf's hash, from the same query)."""
    if not 0 <= leaf < size:
        raise _out_of_range("leaf", log_size())
    keys = merkle.inclusion_keys(leaf, size) + [(0, leaf)] + merkle.root_keys(size)[-1:]
    nodes = _proof_nodes(keys, "size", size)
    proof = merkle.inclusion_proof_from(nodes, leaf, size)
    return (proof, nodes[(0, leaf)]) if with_leaf else proof


def consistency_proof(first: int, second: int) -> list[bytes]:
    if not 0 < first <= second:
        raise _out_of_range("from", log_size())
    keys = merkle.consistency_keys(first, second) + merkle.root_keys(second)[-1:]
    return merkle.consistency_proof_from(_proof_nodes(keys, "to", second), first, second)


MAX_ENTRIES = 1000


def entries(start: int, end: int) -> list[dict]:
    """The leaves' data (canonical JSON, exactly the hashed bytes) for [start, end)."""
    end = min(end, start + MAX_ENTRIES)
    log = _within_log(end)
    if not 0 <= start < end <= log:
        raise _out_of_range("start" if end <= log else "end", log)
    rows = db.session.execute(select(JournalTransaction.seq, JournalTransaction.public_json)
                              .where(JournalTransaction.seq >= start, JournalTransaction.seq < end)
                              .order_by(JournalTransaction.seq))
    return [{"index": seq, "data": data} for seq, data in rows]


def count_checkpoints() -> int:
    return db.session.scalar(select(func.count()).select_from(Checkpoint))


# --- the background publisher --------------------------------------------------------------

_started: dict[int, threading.Event] = {}
_lock = threading.Lock()


def start_publisher(app) -> threading.Event:
    """Publish every LEDGER_LOG_INTERVAL seconds in this process (one daemon thread per
    worker), so checkpoints follow writes within seconds even when nobody asks. Returns
    the event that stops it."""
    with _lock:
        if id(app) in _started:
            return _started[id(app)]
        stop = _started[id(app)] = threading.Event()
    interval = float(app.config.get("LEDGER_LOG_INTERVAL", 2))
    if interval <= 0:
        return stop

    def run():
        while not stop.wait(interval):
            try:
                with app.app_context():
                    latest = latest_checkpoint()
                    journal = (db.session.scalar(select(func.max(JournalTransaction.seq))) or -1) + 1
                    if latest is None or latest.size < journal:
                        publish()
                    db.session.remove()
            except Exception:  # noqa: BLE001 (keep publishing; the next tick retries)
                app.logger.exception("publishing the transparency log failed")

    threading.Thread(target=run, name="ledger-log-publisher", daemon=True).start()
    return stop


def stop_publisher(app) -> None:
    with _lock:
        stop = _started.pop(id(app), None)
    if stop is not None:
        stop.set()
