"""The registers among the exports: pledges, households, fund balances, receipts, the log's
leaves and checkpoints; the status filter. Figures are checked against the ledger itself."""
from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import zipfile
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select, update

from ledger.exports.registers import DATASETS
from ledger.extensions import db
from ledger.fields import today_in_vietnam
from ledger.funds.models import Fund
from ledger.households.models import Household
from ledger.households.service import funding_composition
from ledger.journal.models import Holding, JournalTransaction
from ledger.journal.quantities import format_units, kind_of
from ledger.pledges.models import Pledge
from ledger.receipts.models import Receipt
from receipts.export_manifest import verify_export
from receipts.exports import BOM

from .helpers import api_for, build_world, make_user
from .test_exports import _run_export

PRIVATE = {"id_number": "001090001234", "phone": "0912 345 678", "address": "12 Ngõ 5, Đội Cấn"}


def _world(app):
    """Hà Nội: pledges in every status, gifts of cash, cement and labour (one voided), a
    transfer to the Ba Đình fund, households funded from the state budget and socially;
    Hồ Chí Minh: a fund, a gift, and a campaign with one household."""
    w = build_world(app)
    make_user("auditor", "auditor")
    w.auditor = api_for(app, "auditor")
    rec, admin = w.recorder, w.admin

    def pledge(**body):
        body = {"campaign_id": w.campaign_id, "fund_id": w.fund_id, "donor_id": w.donor_id, "kind": "cash",
                "due_on": "2099-12-31", **body}
        return rec.ok(rec.post("/pledges", body), 201)["pledge_id"]

    w.pledges = {"open": pledge(amount_vnd=5_000_000), "partial": pledge(amount_vnd=20_000_000),
                 "fulfilled": pledge(amount_vnd=20_000_000, donor_id=w.state_donor_id),
                 "overdue": pledge(amount_vnd=1_000_000, due_on="2025-01-31"),
                 "cancelled": pledge(amount_vnd=2_000_000),
                 "labour": pledge(kind="labour", person_days="12", day_rate_vnd=300_000)}
    rec.ok(rec.post(f"/pledges/{w.pledges['cancelled']}/cancel", {"reason": "Doanh nghiệp rút"}))

    hcm = admin.ok(admin.post("/funds", {"code": "HCMVNN", "name": "Quỹ Vì người nghèo TP Hồ Chí Minh",
                                         "area_code": "79"}))
    w.hcm_fund_id = hcm["fund_id"]
    c1 = rec.ok(w.contribute(amount_vnd=10_000_000, pledge_id=w.pledges["partial"]), 201)
    c2 = rec.ok(w.contribute(amount_vnd=20_000_000, donor_id=w.state_donor_id, pledge_id=w.pledges["fulfilled"]), 201)
    rec.ok(w.contribute(kind="material", method="in_kind", item="Xi măng PCB40", unit="bao", quantity="2.5",
                        unit_value_vnd=95_001, donor_id=None), 201)
    rec.ok(w.contribute(kind="labour", method="labour", person_days="10", day_rate_vnd=300_000,
                        pledge_id=w.pledges["labour"]), 201)
    admin.ok(w.contribute(api=admin, fund_id=w.hcm_fund_id, amount_vnd=7_000_000), 201)
    mistake = rec.ok(w.contribute(amount_vnd=1_234_567, pledge_id=w.pledges["open"]), 201)
    w.approved(rec.post(f"/contributions/{mistake['contribution_id']}/void", {"reason": "Nhập nhầm"}))
    w.voided_id, w.voided_receipt = mistake["contribution_id"], mistake["receipt"]["number"]
    rec.ok(rec.post(f"/funds/{w.fund_id}/transfers", {"to_fund_id": w.commune_fund_id, "kind": "cash",
                                                      "amount_vnd": 3_000_000}), 201)

    w.h1 = w.household(**PRIVATE)
    rec.ok(w.allocate(w.h1, amount_vnd=5_000_000, source_contribution_id=c2["contribution_id"]), 201)
    rec.ok(w.allocate(w.h1, amount_vnd=2_000_000, source_contribution_id=c1["contribution_id"]), 201)
    rec.ok(w.allocate(w.h1, kind="material", item="Xi măng PCB40", unit="bao", quantity="1.5"), 201)
    rec.ok(w.allocate(w.h1, kind="labour", person_days="2.25"), 201)
    w.h2 = w.household(commune="00008")
    undone = rec.ok(w.allocate(w.h2, amount_vnd=1_000_000), 201)
    w.approved(rec.post(f"/allocations/{undone['allocation_id']}/reverse", {"reason": "nhầm"}))
    rec.ok(rec.post(f"/households/{w.h2}/status", {"status": "building", "on": "2025-03-10"}))
    w.h3 = w.household(support_type="repair", approved_amount_vnd=3_000_000)
    rec.ok(w.allocate(w.h3, fund_id=w.commune_fund_id, amount_vnd=3_000_000), 201)
    w.approved(w.allocate(w.h3, amount_vnd=500_000, override_reason="Giá vật liệu tăng sau lũ"))
    w.h_unapproved = w.household(approved=False)

    south = admin.ok(admin.post("/campaigns", {"code": "CT2025HCM", "name": "Xóa nhà tạm TP Hồ Chí Minh",
                                               "area_code": "79", "starts_on": "2025-01-01"}))
    w.h_south = admin.ok(admin.post("/households", {
        "campaign_id": south["campaign_id"], "commune_code": "26734", "head_name": "Trần Thị Bình",
        "category": "near_poor", "support_type": "repair", "surveyed_on": "2025-02-01"}))["household_id"]
    db.session.rollback()  # end the read the test client's requests left open
    return w


def _jsonl(resp) -> list[dict]:
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return [json.loads(line) for line in resp.get_data(as_text=True).splitlines()]


def _problem(resp) -> dict:
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json", resp.get_data(as_text=True)
    return resp.get_json()


# --- pledges -------------------------------------------------------------------------------

def test_pledges_with_fulfilment_and_derived_status(ctx):
    w = _world(ctx)
    rows = {r["pledge_id"]: r for r in _jsonl(w.auditor.get("/exports/pledges.jsonl"))}
    assert {rows[pid]["status"] for pid in w.pledges.values()} == {
        "open", "partial", "fulfilled", "overdue", "cancelled"}
    for status in ("open", "partial", "fulfilled", "overdue", "cancelled"):
        assert rows[w.pledges[status]]["status"] == status
    # The voided gift does not count towards the pledge it named.
    assert rows[w.pledges["open"]]["received_quantity"] == "0"
    assert (rows[w.pledges["partial"]]["received_quantity"], rows[w.pledges["partial"]]["remaining_quantity"]) == (
        "10000000", "10000000")
    labour = rows[w.pledges["labour"]]
    assert (labour["pledged_quantity"], labour["received_quantity"], labour["remaining_quantity"]) == (
        "12.00", "10.00", "2.00")
    assert labour["status"] == "partial" and labour["value_vnd"] == 3_600_000
    assert rows[w.pledges["open"]]["code"] == f"P{w.pledges['open']:06d}"
    assert rows[w.pledges["open"]]["donor"] == "Công ty Cổ phần Sữa Việt Nam"
    # The totals per commodity are the pledges' own.
    pledged = defaultdict(Decimal)
    for r in rows.values():
        pledged[r["commodity"]] += Decimal(r["pledged_quantity"])
    ledger = {c: Decimal(format_units(int(u), kind_of(c))) for c, u in db.session.execute(
        select(Pledge.commodity, func.sum(Pledge.units)).group_by(Pledge.commodity))}
    assert dict(pledged) == ledger


def test_pledge_status_filter_and_count_agree(ctx):
    w = _world(ctx)
    data = DATASETS["pledges"]
    for status in ("open", "partial", "fulfilled", "overdue", "cancelled"):
        got = _jsonl(w.auditor.get("/exports/pledges.jsonl", status=status))
        expected = sorted(pid for name, pid in w.pledges.items() if name == status) + (
            [w.pledges["labour"]] if status == "partial" else [])
        assert sorted(r["pledge_id"] for r in got) == sorted(expected), status
        assert data.count({"status": status}) == len(got)
    assert data.count({}) == len(w.pledges)
    # Through a job (its progress counts the rows first): an XLSX of the partial ones.
    done, _ = _run_export(ctx, w.auditor, "/exports/pledges.xlsx", status="partial")
    assert done["result"]["rows"] == done["progress"]["total"] == 2


def test_pledges_xlsx_has_numbers_and_dates(ctx, tmp_path):
    import openpyxl

    w = _world(ctx)
    done, data = _run_export(ctx, w.admin, "/exports/pledges.xlsx")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        archive.extract("pledges.xlsx", tmp_path)
    sheet = openpyxl.load_workbook(tmp_path / "pledges.xlsx").worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["Mã cam kết", "Số cam kết", "Chiến dịch"]
    rows = [dict(zip(header, (c for c in row), strict=True)) for row in sheet.iter_rows(min_row=2)]
    assert len(rows) == done["result"]["rows"] == len(w.pledges)
    overdue = next(r for r in rows if r["Mã cam kết"].value == w.pledges["overdue"])
    assert overdue["Giá trị cam kết (đồng)"].data_type == "n" and overdue["Giá trị cam kết (đồng)"].value == 1_000_000
    assert overdue["Số lượng cam kết"].data_type == "n"
    assert overdue["Hạn thực hiện"].is_date and overdue["Hạn thực hiện"].value == datetime(2025, 1, 31)
    assert overdue["Thời điểm ghi (UTC)"].is_date
    assert done["result"]["totals"]["VND"] == "48000000"


# --- households ----------------------------------------------------------------------------

def test_households_funding_matches_funding_composition(ctx):
    w = _world(ctx)
    resp = w.auditor.get("/exports/households.csv")
    body = resp.get_data()
    assert resp.status_code == 200 and body.startswith(BOM)
    for value in PRIVATE.values():  # never the ID number, phone or address
        assert value.encode() not in body
    table = list(csv.reader(io.StringIO(body[len(BOM):].decode("utf-8"), newline="")))
    assert "Chủ hộ" in table[0] and not any("điện thoại" in h.lower() or "CCCD" in h for h in table[0])
    rows = {r["household_id"]: r for r in _jsonl(w.auditor.get("/exports/households.jsonl"))}
    assert set(rows) == {w.h1, w.h2, w.h3, w.h_unapproved, w.h_south}
    for household_id, row in rows.items():
        composition = funding_composition(db.session.get(Household, household_id))
        for name in ("state_budget_vnd", "social_vnd", "cash_vnd", "materials_vnd", "labour_vnd",
                     "labour_person_days", "allocated_vnd", "remaining_need_vnd", "approved_amount_vnd"):
            assert row[name] == composition[name], (household_id, name)
    h1, h2, h3 = rows[w.h1], rows[w.h2], rows[w.h3]
    assert (h1["state_budget_vnd"], h1["labour_person_days"]) == (5_000_000, "2.25")
    assert h1["materials_vnd"] == 142_502 and h1["head_name"] == "Nguyễn Văn An"  # 1.5 bao × 95,001, rounded
    assert (h2["allocated_vnd"], h2["status"]) == (0, "building")  # its allocation was reversed
    assert (h3["allocated_vnd"], h3["fully_funded"], h3["over_approved"], h3["remaining_need_vnd"]) == (
        3_500_000, 1, 1, 0)
    assert (h1["fully_funded"], h1["over_approved"]) == (0, 0)


def test_households_filters_area_status_campaign(ctx):
    w = _world(ctx)

    def ids(**params):
        return sorted(r["household_id"] for r in _jsonl(w.auditor.get("/exports/households.jsonl", **params)))

    assert ids(area_code="01") == sorted([w.h1, w.h2, w.h3, w.h_unapproved])  # the province's communes
    assert ids(area_code="00004") == sorted([w.h1, w.h3, w.h_unapproved])  # that commune only
    assert ids(area_code="00008") == [w.h2]
    assert ids(area_code="79") == [w.h_south]
    assert ids(status="building") == [w.h2]
    assert ids(status="surveyed") == sorted([w.h_unapproved, w.h_south])
    assert ids(campaign_id=w.campaign_id, status="approved") == sorted([w.h1, w.h3])
    today = today_in_vietnam()
    assert len(ids(date_from=today.isoformat())) == 5 and ids(date_to=(today - timedelta(days=1)).isoformat()) == []
    totals = defaultdict(int)
    for r in _jsonl(w.auditor.get("/exports/households.jsonl")):
        totals[r["campaign"]] += r["allocated_vnd"]
    assert dict(totals) == {"CT2025": 5_000_000 + 2_000_000 + 142_502 + 675_000 + 3_500_000, "CT2025HCM": 0}
    done, _ = _run_export(ctx, w.auditor, "/exports/households.jsonl", background="1")
    assert done["result"]["totals"] == {k: str(v) for k, v in totals.items()}


# --- fund balances -------------------------------------------------------------------------

def _holdings() -> dict[tuple[str, str], int]:
    return {(code, c): int(u) for code, c, u in db.session.execute(
        select(Fund.code, Holding.commodity, func.sum(Holding.units)).join(Fund, Fund.id == Holding.fund_id)
        .group_by(Fund.code, Holding.commodity))}


def _units(row, name) -> int:
    kind = kind_of(row["commodity"])
    return int(Decimal(row[name]) * {"cash": 1, "material": 1000, "labour": 100}[kind])


def test_fund_balances_close_at_the_holdings(ctx):
    w = _world(ctx)
    rows = _jsonl(w.auditor.get("/exports/fund_balances.jsonl"))
    closing = {(r["fund"], r["commodity"]): _units(r, "closing") for r in rows}
    assert {k: v for k, v in closing.items() if v} == {k: v for k, v in _holdings().items() if v}
    for r in rows:  # every posting falls in one column
        assert (_units(r, "opening") + _units(r, "received") + _units(r, "transferred_in")
                - _units(r, "transferred_out") - _units(r, "allocated")) == _units(r, "closing"), r
        assert r["period_to"] == today_in_vietnam().isoformat() and r["period_from"] is None
    by = {(r["fund"], r["commodity"]): r for r in rows}
    hn, badinh = by[("HNVNN", "VND")], by[("BADINH", "VND")]
    # Received net of the void; the reversed allocation counts nowhere.
    assert (hn["received"], hn["transferred_out"], hn["allocated"]) == ("30000000", "3000000", "7500000")
    assert (badinh["transferred_in"], badinh["allocated"], badinh["closing"]) == ("3000000", "3000000", "0")
    assert by[("HNVNN", "LABOUR")]["closing"] == "7.75"
    # Filters: the area (the commune's fund only), the kind.
    assert {r["fund"] for r in _jsonl(w.auditor.get("/exports/fund_balances.jsonl", area_code="00004"))} == {"BADINH"}
    assert {r["commodity"] for r in _jsonl(w.auditor.get("/exports/fund_balances.jsonl", kind="labour"))} == {"LABOUR"}
    # The signed job's totals per commodity: what the funds hold.
    done, _ = _run_export(ctx, w.auditor, "/exports/fund_balances.csv", background="1")
    held = defaultdict(int)
    for (_, commodity), units in _holdings().items():
        held[commodity] += units
    assert done["result"]["totals"] == {c: format_units(u, kind_of(c)) for c, u in held.items()}


def test_fund_balances_at_a_past_date_and_over_a_period(ctx):
    w = _world(ctx)
    # Move the first gift's recording to 1:00 on 2 March 2025, Vietnam time (18:00 UTC on the 1st).
    first = db.session.scalar(select(JournalTransaction.id).where(JournalTransaction.seq == 0))
    assert db.session.get(JournalTransaction, first).kind == "contribution"
    db.session.execute(update(JournalTransaction).where(JournalTransaction.id == first)
                       .values(recorded_at=datetime(2025, 3, 1, 18, 0, tzinfo=UTC)))
    db.session.commit()
    assert _jsonl(w.auditor.get("/exports/fund_balances.jsonl", date_to="2025-03-01")) == []  # still the 1st in UTC
    [row] = _jsonl(w.auditor.get("/exports/fund_balances.jsonl", date_to="2025-03-02"))
    assert (row["fund"], row["received"], row["closing"], row["opening"]) == ("HNVNN", "10000000", "10000000", "0")
    later = {(r["fund"], r["commodity"]): r for r in _jsonl(
        w.auditor.get("/exports/fund_balances.jsonl", date_from="2025-06-01"))}
    hn = later[("HNVNN", "VND")]
    assert (hn["opening"], hn["received"], hn["period_from"]) == ("10000000", "20000000", "2025-06-01")
    assert _units(hn, "closing") == _holdings()[("HNVNN", "VND")]


# --- receipts ------------------------------------------------------------------------------

def test_receipts_register_has_no_gaps_and_keeps_voided(ctx):
    w = _world(ctx)
    rows = _jsonl(w.auditor.get("/exports/receipts.jsonl", fund_id=w.fund_id))
    assert [r["receipt_number"] for r in rows] == [f"HNVNN-2025-{n:06d}" for n in range(1, 6)]
    assert all(r["follows_previous"] == 1 for r in rows)
    assert [r["previous_number"] for r in rows][:2] == [None, "HNVNN-2025-000001"]
    voided = [r for r in rows if r["voided"] == 1]
    assert [r["receipt_number"] for r in voided] == [w.voided_receipt] and voided[0]["voided_at"]
    assert voided[0]["contribution_id"] == w.voided_id
    assert [r["receipt_number"] for r in _jsonl(w.auditor.get("/exports/receipts.jsonl", status="voided"))] == [
        w.voided_receipt]
    standing = _jsonl(w.auditor.get("/exports/receipts.jsonl", status="issued"))
    assert w.voided_receipt not in {r["receipt_number"] for r in standing} and len(standing) == 5
    assert len(_jsonl(w.auditor.get("/exports/receipts.jsonl", include_reversed="false"))) == 5
    # Only HNVNN and HCMVNN issued receipts (a transfer issues none); each series starts at 1.
    everything = _jsonl(w.auditor.get("/exports/receipts.jsonl"))
    assert [r["receipt_number"] for r in everything][0] == "HCMVNN-2025-000001"  # series in fund code order
    assert sum(r["value_vnd"] for r in everything if r["voided"] == 0) == 10_000_000 + 20_000_000 + 237_503 + \
        3_000_000 + 7_000_000
    done, _ = _run_export(ctx, w.auditor, "/exports/receipts.jsonl", background="1")
    assert done["result"]["totals"] == {"0": "40237503", "1": "1234567"}  # standing and voided apart
    # A gap is shown: a number taken out of the series leaves the next one not following.
    db.session.execute(update(Receipt).where(Receipt.number == "HNVNN-2025-000003")
                       .values(number="HNVNN-2025-000009"))
    db.session.commit()
    rows = _jsonl(w.auditor.get("/exports/receipts.jsonl", fund_id=w.fund_id))
    assert [(r["receipt_number"][-2:], r["follows_previous"]) for r in rows] == [
        ("01", 1), ("02", 1), ("04", 0), ("05", 1), ("09", 0)]


# --- the transparency log ----------------------------------------------------------------

def test_log_entries_match_the_public_log_and_hash_as_rfc6962(ctx, tmp_path):
    from ledger.transparency.log import publish

    w = _world(ctx)
    first = publish()
    db.session.commit()
    rows = _jsonl(w.auditor.get("/exports/log_entries.jsonl"))
    assert [r["leaf_index"] for r in rows] == list(range(first.size))
    public = w.auditor.ok(w.auditor.get("/transparency/entries", start=0, end=first.size))["entries"]
    for row, entry in zip(rows, public, strict=True):
        leaf = base64.b64decode(row["leaf_b64"])
        assert leaf == entry["data"].encode("utf-8") and row["leaf_index"] == entry["index"]
        assert row["leaf_hash"] == hashlib.sha256(b"\x00" + leaf).hexdigest()
        assert json.loads(leaf)["kind"] == row["txn_kind"]
    # No personal data: the household's ID number, phone and address are nowhere.
    body = w.auditor.get("/exports/log_entries.jsonl").get_data(as_text=True)
    decoded = "".join(base64.b64decode(r["leaf_b64"]).decode() for r in rows)
    for value in PRIVATE.values():
        assert value not in body and value not in decoded

    # Checkpoints: as /transparency/checkpoint gives them.
    w.recorder.ok(w.contribute(amount_vnd=1_000_000), 201)
    db.session.rollback()
    second = publish()
    db.session.commit()
    checkpoints = _jsonl(w.auditor.get("/exports/checkpoints.jsonl"))
    assert [c["size"] for c in checkpoints] == [first.size, second.size]
    latest = w.auditor.ok(w.auditor.get("/transparency/checkpoint"))
    assert (checkpoints[-1]["root_hash"], checkpoints[-1]["note"], checkpoints[-1]["key_id"]) == (
        latest["root_hash"], latest["note"], latest["key_id"])
    assert _jsonl(w.auditor.get("/exports/checkpoints.jsonl",
                                date_to=(today_in_vietnam() - timedelta(days=1)).isoformat())) == []
    # Nothing adds up in the log's exports: a signed zip without totals, which verifies.
    from ledger.transparency.service import public_keys

    for what in ("log_entries", "checkpoints"):
        done, data = _run_export(ctx, w.auditor, f"/exports/{what}.csv", background="1")
        assert done["result"]["totals"] == {} and done["result"]["rows"] == (
            second.size if what == "log_entries" else 2)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            archive.extractall(tmp_path / what)
        assert verify_export(tmp_path / what, public_keys()).exit_code == 0


# --- the status filter ---------------------------------------------------------------------

def test_status_filter_per_dataset(ctx):
    w = _world(ctx)
    voided = _jsonl(w.auditor.get("/exports/contributions.jsonl", status="voided"))
    assert [r["contribution_id"] for r in voided] == [w.voided_id]
    live = _jsonl(w.auditor.get("/exports/contributions.jsonl", status="live"))
    assert w.voided_id not in {r["contribution_id"] for r in live} and len(live) == 5
    reversed_ = _jsonl(w.auditor.get("/exports/allocations.jsonl", status="reversed"))
    assert {r["household_id"] for r in reversed_} == {w.h2} and all(r["reversed"] == 1 for r in reversed_)
    assert all(r["reversed"] == 0 for r in _jsonl(w.auditor.get("/exports/allocations.jsonl", status="live")))

    bad = _problem(w.auditor.get("/exports/pledges.csv", status="done", lang="en"))
    assert "open, partial, fulfilled, cancelled, overdue" in bad["detail"] and "status" in bad["errors"]
    assert "approved" in _problem(w.auditor.get("/exports/households.jsonl", status="voided", lang="en"))["detail"]
    assert "issued, voided" in _problem(w.auditor.get("/exports/receipts.csv", status="live", lang="en"))["detail"]
    for what in ("postings", "fund_balances", "log_entries", "checkpoints"):
        problem = _problem(w.auditor.get(f"/exports/{what}.csv", status="live", lang="en"))
        assert "no status filter" in problem["detail"] and what in problem["detail"], what
    # In Vietnamese by default; and an XLSX with a bad status is refused before any job.
    assert _problem(w.auditor.get("/exports/pledges.xlsx", status="done"))["status"] == 422
    missing = w.auditor.get("/exports/donors.csv", lang="en").get_json()
    assert all(name in missing["detail"] for name in DATASETS)
