"""Bank statement imports: the dry run, the commit (all or nothing), never twice, pledges
matched by their code, a batch voided, the reconciliation with the bank's balance; the
API, the command line and a kill in the middle."""
from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from ledger.contributions.models import Contribution
from ledger.extensions import db
from ledger.imports import service
from ledger.imports.models import BankLine, ImportBatch
from ledger.journal.service import not_reversed
from ledger.pledges.models import Pledge
from ledger.problems import InvalidInput

from .helpers import api_for, build_world, make_user

SAMPLES = Path(__file__).resolve().parent / "data" / "statements"
VCB1, VCB2 = SAMPLES / "vietcombank-2025-03-part1.csv", SAMPLES / "vietcombank-2025-03-part2.csv"
VTB1, VTB2 = SAMPLES / "vietinbank-2025-03-part1.xlsx", SAMPLES / "vietinbank-2025-03-part2.xlsx"


def expected(path: Path) -> dict:
    return json.loads(path.with_name(path.name.rsplit(".", 1)[0] + ".expected.json").read_text())


def _user(name):
    from ledger.auth.models import User

    return db.session.scalar(select(User).where(User.username == name))


def _contributions() -> tuple[int, int]:
    db.session.rollback()
    count, total = db.session.execute(select(func.count(), func.coalesce(func.sum(Contribution.units), 0))
                                      .where(not_reversed(Contribution.txn_id))).one()
    return int(count), int(total)


@pytest.fixture()
def world(ctx):
    w = build_world(ctx)
    make_user("auditor", "auditor")
    w.auditor = api_for(ctx, "auditor")
    # Fifteen cash pledges to the province fund: the samples' memos name P000001 … P000015.
    for _ in range(15):
        w.recorder.ok(w.recorder.post("/pledges", {
            "campaign_id": w.campaign_id, "fund_id": w.fund_id, "donor_id": w.donor_id, "kind": "cash",
            "amount_vnd": 500_000_000}), 201)
    return w


def _commit(w, path: Path, **kwargs):
    return service.commit_import(_user("recorder"), w.fund_id, path.read_bytes(), path.name, **kwargs)


@pytest.mark.parametrize("path", [VCB1, VTB1], ids=["vietcombank", "vietinbank"])
def test_the_dry_run_counts_and_records_nothing(world, path):
    truth = expected(path)
    plan = service.plan_import(_user("recorder"), world.fund_id, path.read_bytes(), path.name)
    c, t = plan.counts, plan.totals
    assert c["lines"] == truth["lines"] and c["debit"] == truth["debits"]
    assert c["new"] == truth["credits"] and t["new_credits_vnd"] == truth["credit_total_vnd"]
    assert t["debits_vnd"] == truth["debit_total_vnd"] and c["duplicate"] == 0
    assert c["pledge"] > 0 and c["pledge"] + c["donor"] + c["new_donor"] + c["anonymous"] == truth["credits"]
    assert plan.statement.opening_balance_vnd == truth["opening_vnd"]
    assert plan.statement.closing_balance_vnd == truth["closing_vnd"]
    assert _contributions() == (0, 0)
    assert db.session.scalar(select(func.count()).select_from(ImportBatch)) == 0


def test_commit_then_an_overlapping_statement_records_each_transfer_once(world):
    first, second = expected(VCB1), expected(VCB2)
    plan, batch = _commit(world, VCB1)
    assert batch is not None and batch.credits_recorded == first["credits"]
    assert batch.file_sha256 == service.file_sha256(VCB1.read_bytes())
    assert _contributions() == (first["credits"], first["credit_total_vnd"])
    # Every credit has its receipt and its journal entry; every line is kept.
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(BankLine)) == first["lines"]
    assert db.session.scalar(select(func.count()).select_from(Contribution).where(Contribution.txn_id.is_(None))) == 0

    plan2, batch2 = _commit(world, VCB2)
    assert plan2.counts["duplicate"] == len(second["duplicate_refs_of_earlier_file"]) == 60
    assert {p.line.reference for p in plan2.lines if p.outcome == "duplicate"} == set(
        second["duplicate_refs_of_earlier_file"])
    assert plan2.counts["new"] == second["new_credits"]
    assert _contributions() == (first["credits"] + second["new_credits"],
                                first["credit_total_vnd"] + second["new_credit_total_vnd"])
    # The same file again: nothing new, said so.
    plan3, batch3 = _commit(world, VCB1)
    assert batch3 is None and plan3.counts["duplicate"] == first["lines"]
    assert {p.earlier_batch_id for p in plan3.lines} == {batch.id}


def test_looking_up_earlier_lines_takes_the_identity_index_after_a_commit(world, backend):
    """Re-importing a statement just committed must not read the whole table for each
    chunk of lines: PostgreSQL gets statistics on the new lines in the commit (without them
    it chose a seq scan per chunk, quadratic in the statement's size); SQLite's plan for
    the lookup uses the identity index."""
    plan, batch = _commit(world, VCB1)
    db.session.rollback()
    lines = db.session.scalar(select(func.count()).select_from(BankLine))
    assert batch is not None and lines == plan.counts["lines"] > 0
    if backend == "postgresql":
        assert db.session.execute(text("SELECT reltuples FROM pg_class WHERE oid = 'bank_lines'::regclass")
                                  ).scalar() == lines
    else:
        query = select(BankLine.identity, BankLine.batch_id).where(BankLine.identity.in_(["a" * 64, "b" * 64]),
                                                                    BankLine.outcome != "duplicate")
        compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
        plan_rows = db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
        assert any("ix_bank_lines_identity" in row[-1] for row in plan_rows), plan_rows


def test_pledge_codes_in_memos_fulfil_their_pledges(world):
    plan, _ = _commit(world, VCB1)
    matched = [p for p in plan.lines if p.outcome == "pledge"]
    assert matched
    db.session.rollback()
    for p in matched:
        code = p.pledge.code
        assert code in p.line.memo.replace(" ", "") or code in p.line.memo
        gift = db.session.scalar(select(Contribution).join(BankLine, BankLine.contribution_id == Contribution.id)
                                 .where(BankLine.identity == p.identity))
        assert gift.pledge_id == p.pledge.id and gift.method == "bank_transfer" and gift.bank_reference
    # A memo wrapped in the middle of its code ("UH P00" / "0010") still finds P000010.
    assert any(p.pledge.code == "P000010" for p in matched)
    received = db.session.scalar(select(func.sum(Contribution.units)).where(Contribution.pledge_id == 10))
    assert received and received > 0


def test_senders_become_donors_once_and_are_known_next_time(world):
    plan, _ = _commit(world, VCB1)
    new_names = {p.donor_name for p in plan.lines if p.outcome == "new_donor"}
    assert plan.counts["new_donors"] == len({n.casefold() for n in new_names}) > 0
    plan2 = service.plan_import(_user("recorder"), world.fund_id, VCB2.read_bytes(), VCB2.name)
    again = [p for p in plan2.lines if p.outcome in ("donor", "new_donor") and p.line.payer_name is None]
    known = {p.donor.name for p in again if p.outcome == "donor"}
    assert known & new_names  # a sender of part 1 is recognised in part 2, not created again


def test_an_unreadable_statement_is_refused_with_rows_and_nothing_recorded(world, tmp_path):
    text = VCB1.read_text(encoding="utf-8-sig").replace(",20.000,1.250.020.000", ",20.0x0,1.250.020.000", 1)
    bad = tmp_path / "bad.csv"
    bad.write_text(text, encoding="utf-8-sig")
    with pytest.raises(InvalidInput) as refused:
        _commit(world, bad)
    assert any(key.startswith("row ") for key in refused.value.errors)
    assert _contributions() == (0, 0)
    for broken in (b"", "\ufeffkhong phai sao ke\n1,2,3\n".encode(), VCB1.read_text("utf-8-sig").encode("utf-16")):
        with pytest.raises(InvalidInput):
            service.plan_import(_user("recorder"), world.fund_id, broken, "x.csv")


def test_a_failure_in_the_middle_leaves_nothing(world):
    def boom(done, total):
        if done >= 200:
            raise RuntimeError("the process dies here")

    with pytest.raises(RuntimeError):
        _commit(world, VCB1, progress=boom)
    assert _contributions() == (0, 0)
    assert db.session.scalar(select(func.count()).select_from(BankLine)) == 0
    plan, batch = _commit(world, VCB1)  # and it can be imported afterwards, whole
    assert batch is not None and _contributions()[0] == expected(VCB1)["credits"]


def test_a_voided_batch_undoes_its_gifts_and_can_be_imported_again(world):
    _, batch = _commit(world, VTB1)
    truth = expected(VTB1)
    refused = world.recorder.post(f"/imports/bank-statements/{batch.id}/void", {"reason": "Nhầm quỹ"})
    assert refused.status_code == 403
    done = world.approver.ok(world.approver.post(f"/imports/bank-statements/{batch.id}/void", {"reason": "Nhầm quỹ"}))
    assert done["voided"] and done["void_reason"] == "Nhầm quỹ"
    assert _contributions() == (0, 0)
    again = world.approver.post(f"/imports/bank-statements/{batch.id}/void", {"reason": "Lần nữa"})
    assert again.status_code == 409
    _, batch2 = _commit(world, VTB1)
    assert batch2 is not None and _contributions() == (truth["credits"], truth["credit_total_vnd"])


def test_a_batch_with_an_allocated_gift_cannot_be_voided(world):
    _, batch = _commit(world, VCB1)
    household = world.household()
    world.recorder.ok(world.allocate(household, amount_vnd=1_000_000), 201)
    resp = world.approver.post(f"/imports/bank-statements/{batch.id}/void", {"reason": "Thử"})
    assert resp.status_code == 409 and resp.mimetype == "application/problem+json"
    assert _contributions()[0] == expected(VCB1)["credits"]


def test_the_reconciliation_explains_the_bank_balance(world):
    _, first = _commit(world, VCB1)
    _, second = _commit(world, VCB2)
    for batch, truth in ((first, expected(VCB1)), (second, expected(VCB2))):
        rec = world.auditor.ok(world.auditor.get(f"/imports/bank-statements/{batch.id}/reconciliation"))
        assert rec["bank_closing_vnd"] == truth["closing_vnd"]
        assert rec["difference_vnd"] == rec["bank_closing_vnd"] - rec["ledger_balance_vnd"]
        assert rec["unexplained_vnd"] == 0, rec
        kinds = {item["what"] for item in rec["items"]}
        assert {"opening_balance", "bank_debit"} <= kinds


# --- the API, the job, the command line ----------------------------------------------------------

def _upload(api, path: Path, **form):
    data = {"fund_id": str(form.pop("fund_id")), **{k: str(v).lower() if isinstance(v, bool) else str(v)
                                                    for k, v in form.items()}}
    data["file"] = (io.BytesIO(path.read_bytes()), path.name)
    headers = api._headers()
    return api.client.post("/api/v1/imports/bank-statements", data=data, headers=headers,
                           content_type="multipart/form-data")


def test_the_api_refuses_an_incomplete_column_mapping(world):
    """A mapping without its memo and amount columns is the user's mistake: 422 naming what
    is missing, never a server error; nothing is recorded."""
    resp = _upload(world.recorder, VCB1, fund_id=world.fund_id, bank="custom",
                   mapping=json.dumps({"date": "Ngày"}), commit=True)
    assert resp.status_code == 422, resp.get_data(as_text=True)
    body = resp.get_json()
    assert resp.mimetype == "application/problem+json"
    assert any("nội dung" in m or "số tiền" in m for m in body["errors"]["mapping"]), body
    assert _contributions() == (0, 0)


def test_the_api_dry_run_then_commit(world):
    dry = _upload(world.recorder, VTB1, fund_id=world.fund_id)
    assert dry.status_code == 200, dry.get_data(as_text=True)
    body = dry.get_json()
    truth = expected(VTB1)
    assert body["counts"]["lines"] == truth["lines"] and body["totals"]["new_credits_vnd"] == truth["credit_total_vnd"]
    assert _contributions() == (0, 0)
    done = _upload(world.recorder, VTB1, fund_id=world.fund_id, commit=True)
    assert done.status_code == 201, done.get_data(as_text=True)
    batch = done.get_json()["batch"]
    assert batch["credits_recorded"] == truth["credits"]
    listed = world.auditor.ok(world.auditor.get("/imports/bank-statements"))
    assert [b["batch_id"] for b in listed] == [batch["batch_id"]]
    lines = world.auditor.ok(world.auditor.get(f"/imports/bank-statements/{batch['batch_id']}/lines",
                                               page_size=100))
    assert len(lines) == 100 and all("memo" not in line for line in lines)
    # The payer's account is private: the auditor without the grant does not get it, the recorder does.
    assert all("payer_account" not in line for line in lines)
    mine = world.recorder.ok(world.recorder.get(f"/imports/bank-statements/{batch['batch_id']}/lines",
                                                page_size=100))
    assert any(line["payer_account"] for line in mine)
    # The auditor may look, not import.
    assert _upload(world.auditor, VTB1, fund_id=world.fund_id).status_code == 403
    bad = _upload(world.recorder, VTB1, fund_id=999)
    assert bad.status_code == 404 and bad.mimetype == "application/problem+json"


def test_a_large_statement_is_committed_by_a_background_job(ctx, world, monkeypatch):
    from ledger.jobs.runner import work

    world_app = ctx
    monkeypatch.setitem(world_app.config, "LEDGER_IMPORT_SYNC_LINES", 50)
    resp = _upload(world.recorder, VCB1, fund_id=world.fund_id, commit=True)
    assert resp.status_code == 202, resp.get_data(as_text=True)
    job = resp.get_json()
    assert _contributions() == (0, 0)
    db.session.rollback()
    assert work(world_app, once=True) == 1
    done = world.recorder.ok(world.recorder.get(f"/jobs/{job['job_id']}"))
    assert done["status"] == "done", done
    assert done["result"]["batch_id"] and done["progress"]["done"] == done["progress"]["total"] > 0
    assert _contributions() == (expected(VCB1)["credits"], expected(VCB1)["credit_total_vnd"])


def test_import_batches_export(world):
    _commit(world, VCB1)
    _commit(world, VCB2)
    resp = world.auditor.get("/exports/import_batches.jsonl")
    rows = [json.loads(line) for line in resp.get_data(as_text=True).splitlines()]
    assert [r["credits_recorded"] for r in rows] == [expected(VCB1)["credits"], expected(VCB2)["new_credits"]]
    assert rows[1]["duplicates"] == 60 and rows[0]["file_sha256"] == service.file_sha256(VCB1.read_bytes())


def _cli_env(app) -> dict:
    return {**os.environ, "LEDGER_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "LEDGER_INSTANCE_PATH": app.config["INSTANCE_PATH"], "FLASK_APP": "wsgi",
            "LEDGER_PUBLIC_URL": app.config["LEDGER_PUBLIC_URL"]}


def _flask(app, *args, **kwargs):
    root = Path(__file__).resolve().parents[1]
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "ledger", *args], cwd=root,
                            env=_cli_env(app), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)


def test_the_command_line_dry_run_and_commit(ctx, world):
    db.session.commit()
    out = _flask(ctx, "import-statement", str(VCB1), "--fund", "HNVNN", "--user", "recorder", "--dry-run")
    text = out.communicate(timeout=120)[0]
    assert out.returncode == 0, text
    assert "dry run: nothing recorded" in text and "385" in text
    assert _contributions() == (0, 0)
    out = _flask(ctx, "import-statement", str(VCB1), "--fund", "HNVNN", "--user", "recorder")
    text = out.communicate(timeout=300)[0]
    assert out.returncode == 0 and "recorded batch" in text, text
    assert _contributions()[0] == expected(VCB1)["credits"]


def test_a_kill_in_the_middle_of_an_import_leaves_nothing_partial(ctx, world):
    """SIGKILL while the command is recording: the transaction never commits, so nothing
    of the statement is in the ledger, the ledger still verifies, and the import can run
    again whole."""
    app = ctx
    db.session.commit()
    proc = _flask(app, "import-statement", str(VCB1), "--fund", "HNVNN", "--user", "recorder")
    seen = ""
    while "recorded 200/" not in seen:  # the command reports progress as it goes
        char = proc.stdout.read(1)
        assert char, seen  # it ended before: nothing was killed mid-way
        seen += char
    proc.send_signal(signal.SIGKILL)  # 200 lines still to record
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, seen
    assert _contributions() == (0, 0)
    assert db.session.scalar(select(func.count()).select_from(ImportBatch)) == 0
    verify = _flask(app, "verify")
    text = verify.communicate(timeout=300)[0]
    assert verify.returncode == 0, text
    _, batch = _commit(world, VCB1)
    assert batch is not None and _contributions()[0] == expected(VCB1)["credits"]


def test_pledges_in_this_world_have_the_codes_the_samples_name(world):
    db.session.rollback()
    codes = {p.code for p in db.session.scalars(select(Pledge))}
    assert {"P000001", "P000010", "P000015"} <= codes


def test_two_overlapping_statements_imported_at_once_record_each_line_once(ctx, world):
    """Part 1 and part 2 (60 lines in common) committed by two users at the same moment,
    each through the API: the second to take the ledger's lock sees the first's lines."""
    from concurrent.futures import ThreadPoolExecutor

    from ledger.journal.service import verify_journal

    from .helpers import Api

    db.session.commit()

    def send(path):
        api = Api(ctx.test_client(), world.recorder.token)
        return _upload(api, path, fund_id=world.fund_id, commit=True).status_code

    with ThreadPoolExecutor(2) as pool:
        statuses = list(pool.map(send, [VCB1, VCB2]))
    assert statuses == [201, 201]
    first, second = expected(VCB1), expected(VCB2)
    assert _contributions() == (first["credits"] + second["new_credits"],
                                first["credit_total_vnd"] + second["new_credit_total_vnd"])
    assert verify_journal() == []


def test_an_upload_sent_again_with_its_key_gets_the_first_answer(world):
    """A multipart body has a new boundary each time it is sent: the key still recognises
    the same form and file, and a changed file is refused as another request."""
    def send(path, key):
        data = {"fund_id": str(world.fund_id), "commit": "true", "file": (io.BytesIO(path.read_bytes()), path.name)}
        headers = {**world.recorder._headers(), "Idempotency-Key": key}
        return world.recorder.client.post("/api/v1/imports/bank-statements", data=data, headers=headers,
                                          content_type="multipart/form-data")

    first = send(VTB1, "statement-2025-03-01")
    again = send(VTB1, "statement-2025-03-01")
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert _contributions()[0] == expected(VTB1)["credits"]
    other = send(VTB2, "statement-2025-03-01")
    assert other.status_code == 422 and "Idempotency-Key" in other.get_json()["errors"]
