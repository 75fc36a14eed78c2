"""The transparency log as an auditor, a donor's browser and a tamperer meet it."""
from __future__ import annotations

import base64
import json
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import event, select, text

from ledger.database import refresh_stale_statistics
from ledger.extensions import db
from ledger.journal.models import JournalTransaction, Posting
from ledger.transparency import log
from ledger.transparency.audit import rebuilt_leaves, verify_ledger
from ledger.transparency.models import Checkpoint
from receipts import merkle
from receipts.__main__ import main as verifier
from receipts.note import open_note, parse_checkpoint
from tests.helpers import Api, build_world


def b64d(s: str) -> bytes:
    return base64.b64decode(s)


def history(w, publish_each=True) -> dict:
    """Every kind of entry, legitimate edits in between, a checkpoint after each write."""
    steps = [lambda: w.recorder.ok(w.contribute(amount_vnd=5_000_000), 201),
             lambda: w.recorder.ok(w.contribute(kind="material", method="in_kind", item="Xi măng PCB40",
                                                unit="bao", quantity="100", unit_value_vnd=95_000), 201),
             lambda: w.recorder.ok(w.contribute(kind="labour", method="labour", person_days="10",
                                                day_rate_vnd=300_000), 201)]
    out = {"contributions": []}
    for step in steps:
        out["contributions"].append(step())
        if publish_each:
            log.publish()
    out["household"] = h = w.household(head_name="Trần Thị Mai")
    out["allocation"] = w.recorder.ok(w.allocate(h, amount_vnd=2_000_000), 201)
    log.publish()
    # legitimate edits, kept in their histories: verification must follow them
    w.recorder.ok(w.recorder.patch(f"/households/{h}", {"head_name": "Trần Thị Mai Anh"}))
    w.recorder.ok(w.recorder.patch(f"/donors/{w.donor_id}", {"name": "Công ty CP Sữa Việt Nam (Vinamilk)"}))
    out["allocation2"] = w.recorder.ok(w.allocate(h, amount_vnd=1_000_000), 201)
    out["transfer"] = w.recorder.ok(w.recorder.post(f"/funds/{w.fund_id}/transfers", {
        "to_fund_id": w.commune_fund_id, "kind": "cash", "amount_vnd": 500_000}), 201)
    log.publish()
    w.approve(w.recorder.post(f"/allocations/{out['allocation2']['allocation_id']}/reverse",
                              {"reason": "Phân bổ nhầm"}))
    extra = w.recorder.ok(w.contribute(amount_vnd=700_000), 201)
    w.approve(w.recorder.post(f"/contributions/{extra['contribution_id']}/void", {"reason": "Ghi trùng"}))
    log.publish()
    return out


def entry(client, index: int) -> dict:
    return json.loads(client.get(f"/api/v1/transparency/entries?start={index}&end={index + 1}")
                      .get_json()["entries"][0]["data"])


def test_every_entry_is_proved_in_every_signed_checkpoint_and_checkpoints_are_consistent(ctx):
    w = build_world(ctx)
    history(w)
    client = w.recorder.client
    keys = client.get("/api/v1/transparency/keys").get_json()
    vkeys = [k["note_verifier_key"] for k in keys["keys"]]
    sizes = db.session.scalars(select(Checkpoint.size).order_by(Checkpoint.size)).all()
    assert len(sizes) >= 5 and sizes[-1] == 9
    entries = client.get("/api/v1/transparency/entries?start=0&end=9").get_json()["entries"]
    assert [e["index"] for e in entries] == list(range(9))
    roots = {}
    for size in sizes:
        checkpoint = client.get(f"/api/v1/transparency/checkpoint?size={size}").get_json()
        origin, signed_size, root = parse_checkpoint(open_note(checkpoint["note"], vkeys))
        assert (origin, signed_size) == (keys["origin"], size) and b64d(checkpoint["root_hash"]) == root
        roots[size] = root
        for leaf in range(size):
            proof = client.get(f"/api/v1/transparency/proof?leaf={leaf}&size={size}").get_json()
            leaf_hash = merkle.leaf_hash(entries[leaf]["data"].encode())
            assert b64d(proof["leaf_hash"]) == leaf_hash
            assert merkle.verify_inclusion(leaf_hash, leaf, size, [b64d(h) for h in proof["hashes"]], root)
    for i, m in enumerate(sizes):
        for n in sizes[i:]:
            proof = client.get(f"/api/v1/transparency/consistency?from={m}&to={n}").get_json()
            assert merkle.verify_consistency(m, n, roots[m], roots[n], [b64d(h) for h in proof["hashes"]])
    # out of range: a clear problem, not a server error
    for bad in ("proof?leaf=9&size=9", "proof?leaf=0&size=99", "consistency?from=0&to=3",
                "consistency?from=5&to=99", "entries?start=9&end=99"):
        resp = client.get(f"/api/v1/transparency/{bad}")
        assert resp.status_code == 422 and resp.mimetype == "application/problem+json", bad
    assert client.get("/api/v1/transparency/checkpoint?size=7777").status_code == 404


def test_every_recording_answer_carries_its_leaf_index_and_leaves_hold_no_personal_data(ctx):
    w = build_world(ctx)
    donor = w.recorder.ok(w.recorder.post("/donors", {
        "kind": "individual", "name": "Phạm Văn Bình", "public_display": "anonymous",
        "id_number": "001090001234", "phone": "0912 345 678", "address": "12 Ngõ 5, Đội Cấn"}), 201)
    c = w.recorder.ok(w.contribute(donor_id=donor["donor_id"]), 201)
    h = w.household(head_name="Lò Văn Páo", id_number="012345678901", phone="0987654321",
                    address="Bản Nà Hẩu, thôn 3")
    a = w.recorder.ok(w.allocate(h, amount_vnd=1_000_000), 201)
    t = w.recorder.ok(w.recorder.post(f"/funds/{w.fund_id}/transfers", {
        "to_fund_id": w.commune_fund_id, "kind": "cash", "amount_vnd": 1_000_000}), 201)
    client = w.recorder.client
    assert entry(client, c["leaf_index"])["contribution"]["receipt"] == c["receipt"]["number"]
    assert entry(client, a["leaf_index"])["allocation"]["household"] == h
    assert entry(client, t["leaf_index"])["transfer"] == {"from": "HNVNN", "to": "BADINH"}
    public = json.dumps(client.get("/api/v1/transparency/entries?start=0&end=3").get_json(), ensure_ascii=False)
    for secret in ("Phạm Văn Bình", "001090001234", "0912345678", "Đội Cấn", "Lò Văn Páo", "012345678901",
                   "0987654321", "Nà Hẩu"):
        assert secret not in public
    assert len(entry(client, c["leaf_index"])["commitments"]["donor"]) == 64
    approval = w.approve(w.recorder.post(f"/allocations/{a['allocation_id']}/reverse", {"reason": "Nhầm hộ"}))
    reversed_ = approval["record"]
    assert approval["leaf_index"] == reversed_["reversal_leaf_index"]  # the approval names its log entry
    assert entry(client, reversed_["reversal_leaf_index"])["reverses"] == a["leaf_index"]
    undone = w.approved(w.recorder.post(f"/funds/{w.fund_id}/transfers/{t['transfer_id']}/reverse",
                                        {"reason": "Chuyển nhầm"}))
    assert entry(client, undone["reversal_leaf_index"])["reverses"] == t["leaf_index"]
    extra = w.recorder.ok(w.contribute(amount_vnd=1_000_000), 201)
    assert extra["void_leaf_index"] is None
    voided = w.approved(w.recorder.post(f"/contributions/{extra['contribution_id']}/void", {"reason": "Trùng"}))
    assert entry(client, voided["void_leaf_index"])["reverses"] == extra["leaf_index"]
    assert len(entry(client, a["leaf_index"])["commitments"]["household"]) == 64


def test_verify_passes_on_an_honest_ledger_with_legitimate_edits(ctx):
    w = build_world(ctx)
    history(w)
    assert verify_ledger() == []
    result = ctx.test_cli_runner().invoke(args=["ledger", "verify"])
    assert result.exit_code == 0, result.output
    assert "9 log entries" in result.output


def test_verify_gives_postgresql_statistics_on_the_rows_it_reads_first(ctx, backend):
    """Right after a bulk load or a restore PostgreSQL has no statistics on the new rows,
    and verify's lookup of each batch's postings read the whole table (400 ms a batch at
    3.5 M postings). verify ANALYZEs such tables first, committed: the count of rows the
    planner knows is the table's. SQLite's planner needs no statistics for it."""
    w = build_world(ctx)
    if backend == "postgresql":
        # A session sends its counts of rows written to PostgreSQL's shared statistics at
        # most once a second: counts of the history sent after verify's ANALYZE would read
        # as changes since it (the check below then failed in CI). Each commit here sends
        # them at once, as a verify long after the writes would find them.
        event.listen(db.engine, "commit", _send_statistics_now)
    try:
        history(w)
        db.session.commit()
    finally:
        if backend == "postgresql":
            event.remove(db.engine, "commit", _send_statistics_now)
    if backend == "postgresql":  # emptied by TRUNCATE before the test: no statistics on these rows
        assert db.session.execute(text("SELECT reltuples FROM pg_class WHERE oid = 'postings'::regclass")).scalar() < 0
    assert verify_ledger() == []
    db.session.rollback()
    postings = db.session.scalar(text("SELECT count(*) FROM postings"))
    if backend == "postgresql":
        assert db.session.execute(text("SELECT reltuples FROM pg_class WHERE oid = 'postings'::regclass")
                                  ).scalar() == postings > 0
        assert db.session.execute(text("SELECT count(*) FROM pg_stats WHERE tablename = 'postings' "
                                       "AND attname = 'txn_id'")).scalar() == 1
        assert refresh_stale_statistics([Posting.__table__]) == []  # fresh now: not analysed again
    else:
        assert refresh_stale_statistics([Posting.__table__]) == []


def _send_statistics_now(connection) -> None:
    """Before a commit: PostgreSQL (15+) to send this session's statistics when it ends."""
    connection.connection.driver_connection.execute("SELECT pg_stat_force_next_flush()")


def _entry_of(record_txn_id: int) -> int:
    return db.session.scalar(select(JournalTransaction.seq).where(JournalTransaction.id == record_txn_id))


def _txn_of(table: str, row_id: int) -> int:
    return db.session.execute(text(f"SELECT txn_id FROM {table} WHERE id = :i"), {"i": row_id}).scalar()


TAMPERS = {
    "update an amount": lambda s: (
        f"UPDATE contributions SET units = units + 1000000, value_vnd = value_vnd + 1000000 "
        f"WHERE id = {s['contributions'][0]['contribution_id']}", "contributions",
        s["contributions"][0]["contribution_id"]),
    "update a posting": lambda s: (
        f"UPDATE postings SET units = units * 2 WHERE txn_id = {_txn_of('allocations', s['allocation']['allocation_id'])}",
        "allocations", s["allocation"]["allocation_id"]),
    "delete a row": lambda s: (
        f"DELETE FROM postings WHERE id = (SELECT MIN(id) FROM postings WHERE txn_id = "
        f"{_txn_of('transfers', s['transfer']['transfer_id'])})", "transfers", s["transfer"]["transfer_id"]),
    "change a household name": lambda s: (
        f"UPDATE households SET head_name = 'Trần Thị Mơ' WHERE id = {s['household']}",
        "allocations", s["allocation"]["allocation_id"]),
    "change a donor's private phone": lambda s: (
        "UPDATE donors SET phone = '0900000000' WHERE id = (SELECT donor_id FROM contributions "
        f"WHERE id = {s['contributions'][0]['contribution_id']})",
        "contributions", s["contributions"][0]["contribution_id"]),
}


@pytest.mark.parametrize("tamper", sorted(TAMPERS))
def test_a_direct_database_edit_is_caught_naming_the_entry(ctx, tamper):
    w = build_world(ctx)
    state = history(w)
    statement, table, row_id = TAMPERS[tamper](state)
    target = _entry_of(_txn_of(table, row_id))
    db.session.execute(text(statement))
    db.session.commit()
    problems = verify_ledger()
    assert problems, tamper
    assert problems[0].startswith(f"entry {target} "), problems[0]
    result = ctx.test_cli_runner().invoke(args=["ledger", "verify"])
    assert result.exit_code == 1 and f"entry {target} " in result.output


def test_reordering_two_entries_is_caught(ctx, backend):
    w = build_world(ctx)
    history(w)
    # swap the order of entries 3 and 4 (through a free seq: seq is unique)
    for a, b in ((3, -1), (4, 3), (-1, 4)):
        db.session.execute(text("UPDATE journal_transactions SET seq = :b WHERE seq = :a"), {"a": a, "b": b})
    db.session.commit()
    problems = verify_ledger()
    assert problems[0].startswith("entry 3 "), problems
    assert any("checkpoint" in p for p in problems)


def test_a_coherent_rewrite_of_rows_and_leaves_is_caught_by_the_signed_checkpoints(ctx):
    """The tamperer edits an amount everywhere it appears and recomputes the leaf and its
    hash: the rows agree with the leaves, but not with what the ledger signed."""
    w = build_world(ctx)
    state = history(w)
    c = state["contributions"][2]  # 10 workdays, nothing drawn from them: 1 workday now
    txn_id = _txn_of("contributions", c["contribution_id"])
    db.session.execute(text(f"UPDATE contributions SET units = 100, value_vnd = 300000 "
                            f"WHERE id = {c['contribution_id']}"))
    db.session.execute(text(f"UPDATE postings SET units = units / 10 WHERE txn_id = {txn_id}"))
    db.session.execute(text(f"UPDATE holdings SET units = 100 WHERE contribution_id = {c['contribution_id']}"))
    db.session.commit()
    for txn, rebuilt, _ in rebuilt_leaves():
        if txn.id == txn_id:
            import hashlib

            db.session.execute(text("UPDATE journal_transactions SET public_json = :j, sha256 = :h WHERE id = :i"),
                               {"j": rebuilt, "h": hashlib.sha256(rebuilt.encode()).hexdigest(), "i": txn_id})
    db.session.commit()
    problems = verify_ledger()
    assert not any(p.startswith("entry ") for p in problems)  # rows and leaves agree now ...
    assert any(p.startswith("checkpoint of size") and "signed root" in p for p in problems), problems  # ... but


def test_writers_at_once_produce_a_log_in_journal_order(ctx):
    w = build_world(ctx)

    def record(i):
        api = Api(ctx.test_client(), w.recorder.token)
        return api.post("/contributions", {"campaign_id": w.campaign_id, "fund_id": w.fund_id, "kind": "cash",
                                           "method": "cash", "amount_vnd": 100_000 + i,
                                           "received_on": "2025-03-01"}).get_json()

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(record, range(40)))
    checkpoint = log.publish()
    assert checkpoint.size == 40
    entries = ctx.test_client().get("/api/v1/transparency/entries?start=0&end=40").get_json()["entries"]
    journal = db.session.execute(select(JournalTransaction.seq, JournalTransaction.public_json)
                                 .order_by(JournalTransaction.seq)).all()
    assert [(e["index"], e["data"]) for e in entries] == [tuple(row) for row in journal]
    for answer in answers:
        assert json.loads(entries[answer["leaf_index"]]["data"])["contribution"]["receipt"] == \
            answer["receipt"]["number"]
    assert verify_ledger() == []


def test_export_verifies_offline_and_a_changed_entry_does_not(ctx, tmp_path, capsys):
    w = build_world(ctx)
    history(w)
    path = tmp_path / "log.jsonl"
    result = ctx.test_cli_runner().invoke(args=["ledger", "log", "export", str(path)])
    assert result.exit_code == 0, result.output
    key = tmp_path / "key.pem"
    key.write_text(ctx.test_client().get("/api/v1/transparency/keys").get_json()["keys"][0]["public_key_pem"])
    assert verifier(["verify-log", str(path), "--public-key", str(key)]) == 0
    assert "GENUINE: 9 entries" in capsys.readouterr().out
    lines = path.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[3])
    record["data"] = record["data"].replace('"v":2', '"v":2 ')
    (tmp_path / "changed.jsonl").write_text("\n".join(lines[:3] + [json.dumps(record)] + lines[4:]) + "\n")
    assert verifier(["verify-log", str(tmp_path / "changed.jsonl"), "--public-key", str(key)]) == 1
    other = tmp_path / "other.pem"
    from receipts.signing import SigningKey, public_key_pem

    other.write_text(public_key_pem(SigningKey.generate().public_key))
    assert verifier(["verify-log", str(path), "--public-key", str(other)]) == 1


def test_go_accepts_the_ledgers_checkpoint_and_proofs(ctx, go_verifier):
    w = build_world(ctx)
    history(w)
    client = w.recorder.client
    vkey = client.get("/api/v1/transparency/keys").get_json()["keys"][0]["note_verifier_key"]
    checkpoint = client.get("/api/v1/transparency/checkpoint").get_json()
    proof = client.get("/api/v1/transparency/proof?leaf=4&size=9").get_json()
    consistency = client.get("/api/v1/transparency/consistency?from=3&to=9").get_json()
    old_root = client.get("/api/v1/transparency/checkpoint?size=3").get_json()["root_hash"]
    payload = {"note": checkpoint["note"],
               "inclusion": {"index": 4, "leaf_hash": proof["leaf_hash"], "proof": proof["hashes"]},
               "consistency": {"size": 3, "root": old_root, "proof": consistency["hashes"]}}
    done = subprocess.run([str(go_verifier), vkey], input=json.dumps(payload), capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["inclusion"] is True and json.loads(done.stdout)["consistency"] is True


def test_checkpoints_follow_writes_within_seconds_without_being_asked(ctx):
    import time

    from ledger.transparency.log import latest_checkpoint, start_publisher, stop_publisher

    w = build_world(ctx)
    ctx.config["LEDGER_LOG_INTERVAL"] = 0.2
    start_publisher(ctx)
    try:
        c = w.recorder.ok(w.contribute(), 201)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            db.session.rollback()  # see what the publisher committed
            latest = latest_checkpoint()
            if latest is not None and latest.size > c["leaf_index"]:
                break
            time.sleep(0.1)
        assert latest is not None and latest.size == c["leaf_index"] + 1
    finally:
        stop_publisher(ctx)
        ctx.config["LEDGER_LOG_INTERVAL"] = 2


def test_the_ledger_refuses_to_sign_a_checkpoint_inconsistent_with_the_last(ctx):
    w = build_world(ctx)
    w.recorder.ok(w.contribute(), 201)
    w.recorder.ok(w.contribute(), 201)
    log.publish()
    # someone rewrites a stored subtree hash; the next checkpoint would contradict the last
    from ledger.transparency.models import node_id

    db.session.execute(text("UPDATE log_nodes SET hash = :h WHERE node = :n"), {"h": b"\x00" * 32, "n": node_id(1, 0)})
    db.session.commit()
    w.recorder.ok(w.contribute(), 201)
    with pytest.raises(RuntimeError, match="does not extend"):
        log.publish()
    assert db.session.scalar(select(Checkpoint.size).order_by(Checkpoint.size.desc()).limit(1)) == 2
    assert any("log node (1, 0)" in p for p in verify_ledger())


def test_a_first_write_rolled_back_after_the_key_was_put_on_record_leaves_no_stale_flag(ctx):
    """The signing key goes on record in the first write that signs; if that write rolls
    back, its record goes too, and the next write must put it on record again (a flag
    remembered before the commit made every later receipt refer to a missing key)."""
    from ledger.database import write_transaction
    from ledger.transparency.models import SigningKeyRecord
    from ledger.transparency.service import current_key

    with pytest.raises(RuntimeError), write_transaction():
        current_key()
        current_key()  # seen on record, but only inside this transaction
        raise RuntimeError("the rest of the write fails")
    assert db.session.scalar(select(SigningKeyRecord)) is None
    w = build_world(ctx)
    w.recorder.ok(w.contribute(), 201)  # signs a receipt: the key is on record again
    assert db.session.scalar(select(SigningKeyRecord.key_id)) == current_key().key_id
