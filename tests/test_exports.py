"""Exports of the ledger: filters, totals against the ledger, the signed zip from a job, access."""
from __future__ import annotations

import csv
import io
import json
import zipfile
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import func, select

from ledger.areas.service import within_clause
from ledger.contributions.models import Contribution
from ledger.extensions import db
from ledger.funds.models import Fund
from ledger.jobs.runner import work
from ledger.journal.models import Posting
from ledger.journal.quantities import format_units, kind_of
from ledger.journal.service import not_reversed
from receipts.export_manifest import verify_export
from receipts.exports import BOM, unguard_csv_text

from .helpers import api_for, build_world, make_user


def _world(app):
    """Hà Nội (province fund, Ba Đình commune fund) and a Hồ Chí Minh fund; a voided gift."""
    w = build_world(app)
    make_user("auditor", "auditor")
    w.auditor = api_for(app, "auditor")
    hcm = w.admin.ok(w.admin.post("/funds", {"code": "HCMVNN", "name": "Quỹ Vì người nghèo TP Hồ Chí Minh",
                                             "area_code": "79"}))
    w.hcm_fund_id = hcm["fund_id"]
    w.recorder.ok(w.contribute(amount_vnd=10_000_000), 201)
    w.recorder.ok(w.contribute(fund_id=w.commune_fund_id, amount_vnd=3_000_000, received_on="2025-03-05"), 201)
    w.recorder.ok(w.contribute(kind="material", method="in_kind", item="Xi măng PCB40", unit="bao",
                               quantity="2.5", unit_value_vnd=95_001, donor_id=None), 201)
    w.admin.ok(w.contribute(api=w.admin, fund_id=w.hcm_fund_id, amount_vnd=7_000_000), 201)
    mistake = w.recorder.ok(w.contribute(amount_vnd=1_234_567, received_on="2025-03-02"), 201)
    w.approved(w.recorder.post(f"/contributions/{mistake['contribution_id']}/void", {"reason": "Nhập nhầm"}))
    w.voided_id = mistake["contribution_id"]
    return w


def _csv_rows(resp):
    data = resp.get_data()
    assert data.startswith(BOM)
    rows = list(csv.reader(io.StringIO(data[len(BOM):].decode("utf-8"), newline="")))
    return rows[0], [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def _ledger_sums(area_code=None, include_voided=True) -> dict[str, Decimal]:
    """What the ledger holds in funds per commodity for contributions under the filter,
    summed from the postings (voided ones: as recorded, before their reversal)."""
    query = (select(Posting.commodity, func.sum(Posting.units)).join(Contribution, Contribution.id == Posting.contribution_id)
             .join(Fund, Fund.id == Contribution.fund_id)
             .where(Posting.account.startswith("fund:"), Posting.txn_id == Contribution.txn_id)
             .group_by(Posting.commodity))
    if area_code:
        query = query.where(within_clause(Fund.area_code, area_code))
    if not include_voided:
        query = query.where(not_reversed(Contribution.txn_id))
    return {c: Decimal(format_units(int(u), kind_of(c))) for c, u in db.session.execute(query)}


def _totals(rows) -> dict[str, Decimal]:
    totals = defaultdict(Decimal)
    for r in rows:
        totals[r["Loại tài sản"]] += Decimal(r["Số lượng"])
    return dict(totals)


def test_contributions_csv_totals_match_the_ledger_and_area_filter(ctx):
    w = _world(ctx)
    resp = w.auditor.get("/exports/contributions.csv", area_code="01")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    header, rows = _csv_rows(resp)
    assert header[:2] == ["Mã khoản đóng góp", "Số biên nhận"]
    funds = {r["Quỹ"] for r in rows}
    assert funds == {"HNVNN", "BADINH"}  # the commune's fund under the province; not Hồ Chí Minh's
    assert _totals(rows) == _ledger_sums("01")
    # Without voided gifts, the totals are what the funds received net.
    _, kept = _csv_rows(w.auditor.get("/exports/contributions.csv", area_code="01", include_reversed="false"))
    assert _totals(kept) == _ledger_sums("01", include_voided=False)
    assert str(w.voided_id) not in {r["Mã khoản đóng góp"] for r in kept}
    # Another province: only its own fund.
    _, south = _csv_rows(w.auditor.get("/exports/contributions.csv", area_code="79"))
    assert {r["Quỹ"] for r in south} == {"HCMVNN"} and _totals(south) == {"VND": Decimal(7_000_000)}
    # Voided rows are flagged; Vietnamese text comes back as it went in.
    flags = {r["Mã khoản đóng góp"]: r["Đã hủy (1 = có)"] for r in rows}
    assert flags[str(w.voided_id)] == "1" and list(flags.values()).count("1") == 1
    donors = {unguard_csv_text(r["Nhà hảo tâm"]) for r in rows}
    assert donors == {"Công ty Cổ phần Sữa Việt Nam", "Nhà hảo tâm ẩn danh"}
    assert {r["Số lượng"] for r in rows if r["Hình thức"] == "material"} == {"2.500"}


def test_filters_by_date_fund_and_kind_and_jsonl(ctx):
    w = _world(ctx)
    resp = w.admin.get("/exports/contributions.jsonl", date_from="2025-03-02", date_to="2025-03-05",
                       kind="cash")
    assert resp.status_code == 200
    lines = resp.get_data(as_text=True).splitlines()
    records = [json.loads(line) for line in lines]
    assert sorted(r["received_on"] for r in records) == ["2025-03-02", "2025-03-05"]
    assert all(isinstance(r["value_vnd"], int) and isinstance(r["quantity"], str) for r in records)
    resp = w.auditor.get("/exports/contributions.jsonl", fund_id=w.commune_fund_id)
    assert [json.loads(line)["fund"] for line in resp.get_data(as_text=True).splitlines()] == ["BADINH"]


def test_postings_and_allocations(ctx):
    w = _world(ctx)
    household = w.household()
    allocation = w.recorder.ok(w.allocate(household, amount_vnd=2_000_000), 201)
    resp = w.auditor.get("/exports/allocations.csv")
    _, rows = _csv_rows(resp)
    assert [r["Mã phân bổ"] for r in rows] == [str(allocation["allocation_id"])]
    assert rows[0]["Mã xã/phường"] == "00004" and rows[0]["Giá trị (đồng)"] == "2000000"
    assert rows[0]["Đã đảo (1 = có)"] == "0"
    _, postings = _csv_rows(w.auditor.get("/exports/postings.csv"))
    balance = defaultdict(Decimal)
    for p in postings:
        balance[p["Loại tài sản"]] += Decimal(p["Số lượng"])
    assert postings and all(v == 0 for v in balance.values())  # every transaction balances
    _, south = _csv_rows(w.auditor.get("/exports/postings.csv", area_code="79"))
    assert {p["Tài khoản"] for p in south} == {"fund:HCMVNN", "donations:CT2025"}


def _run_export(app, api, path, **params):
    resp = api.get(path, **params)
    assert resp.status_code == 202, resp.get_data(as_text=True)
    job = resp.get_json()
    assert resp.headers["Location"] == f"/api/v1/jobs/{job['job_id']}" and job["kind"] == "export"
    # The test's requests share its app context and session: end the read the 202 left open.
    db.session.rollback()
    assert work(app, once=True) >= 1
    done = api.ok(api.get(f"/jobs/{job['job_id']}"), 200)
    assert done["status"] == "done", done
    assert done["progress"]["done"] == done["progress"]["total"]
    download = api.get(f"/jobs/{job['job_id']}/download")
    assert download.status_code == 200
    return done, download.get_data()


def test_background_export_is_a_signed_zip_that_verifies(ctx, tmp_path):
    from ledger.transparency.log import publish
    from ledger.transparency.service import public_keys

    w = _world(ctx)
    checkpoint = publish()
    size = checkpoint.size
    db.session.rollback()  # end the test's own transaction before the worker writes
    done, data = _run_export(ctx, w.auditor, "/exports/contributions.csv", background="1", area_code="01")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sorted(archive.namelist()) == ["contributions.csv", "manifest.json", "manifest.json.sig"]
        archive.extractall(tmp_path / "export")
    keys = public_keys()
    check = verify_export(tmp_path / "export", keys)
    assert check.exit_code == 0, (check.problems, check.unchecked)
    manifest = check.manifest
    assert manifest["filters"] == {"area_code": "01", "include_reversed": True}
    assert manifest["checkpoint"]["size"] == size > 0
    assert manifest["files"][0]["totals"] == {c: str(v) if c == "VND" else format(v, "f")
                                              for c, v in sorted(_ledger_sums("01").items())}
    # One byte changed in the data file: the check fails.
    target = tmp_path / "export" / "contributions.csv"
    raw = bytearray(target.read_bytes())
    raw[-3] = ord("9") if raw[-3] != ord("9") else ord("8")
    target.write_bytes(bytes(raw))
    assert verify_export(tmp_path / "export", keys).exit_code == 1


def test_xlsx_always_goes_through_a_job(ctx, tmp_path):
    from ledger.transparency.service import public_keys

    w = _world(ctx)
    done, data = _run_export(ctx, w.admin, "/exports/allocations.xlsx")
    assert done["result"]["rows"] == 0
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        archive.extractall(tmp_path / "x")
    assert verify_export(tmp_path / "x", public_keys()).exit_code == 0


def test_who_may_export_and_bad_requests(ctx):
    w = _world(ctx)
    forbidden = w.recorder.get("/exports/contributions.csv")
    assert forbidden.status_code == 403 and forbidden.mimetype == "application/problem+json"
    assert ctx.test_client().get("/api/v1/exports/contributions.csv").status_code == 401
    for path in ("/exports/donors.csv", "/exports/contributions.pdf", "/exports/contributions"):
        resp = w.auditor.get(path)
        assert resp.status_code == 404 and resp.mimetype == "application/problem+json", path
    for bad in ({"date_from": "2025-13-01"}, {"kind": "gold"}, {"area_code": "99999"},
                {"date_from": "2025-03-05", "date_to": "2025-03-01"}, {"fund_id": "x"}):
        resp = w.auditor.get("/exports/contributions.csv", **bad)
        assert resp.status_code == 422 and resp.mimetype == "application/problem+json", (bad, resp.get_data())
    english = w.auditor.get("/exports/donors.csv", lang="en").get_json()
    assert "postings, contributions, allocations" in english["detail"]
