"""Reconciliation reports (issue 7, part 5): the figures against the ledger, the filters, who
may see what, and the XLSX and PDF documents."""
from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ledger.contributions.models import Contribution
from ledger.extensions import db
from ledger.fields import today_in_vietnam
from ledger.funds.models import Fund
from ledger.journal.models import Holding, Posting
from ledger.journal.service import not_reversed

from .helpers import api_for, build_world, make_user

TODAY = today_in_vietnam()


def _iso(d: date) -> str:
    return d.isoformat()


@dataclass
class Seed:
    w: object
    auditor: object
    ids: dict = field(default_factory=dict)


def _seed(app) -> Seed:
    """Hà Nội: a province fund and two commune funds (Ba Đình, Ngọc Hà); Hồ Chí Minh: one fund.
    Every kind of resource, a transfer down, a voided gift, an anonymous donor, an override
    approved by a second person, pledges overdue, due later, cancelled and fulfilled."""
    w = build_world(app)
    make_user("auditor", "auditor")
    s = Seed(w, api_for(app, "auditor"))
    rec, admin = w.recorder, w.admin
    ngoc_ha = admin.ok(admin.post("/funds", {"code": "NGOCHA", "name": "Quỹ Vì người nghèo phường Ngọc Hà",
                                             "area_code": "00008", "parent_fund_id": w.fund_id}))
    hcm = admin.ok(admin.post("/funds", {"code": "HCMVNN", "name": "Quỹ Vì người nghèo TP Hồ Chí Minh",
                                         "area_code": "79"}))
    s.ids.update(ngoc_ha=ngoc_ha["fund_id"], hcm=hcm["fund_id"])
    person = rec.ok(rec.post("/donors", {"kind": "individual", "name": "Lê Văn Bình"}))
    hidden = rec.ok(rec.post("/donors", {"kind": "individual", "name": "Phạm Thị Lan Ẩn", "public_display": "anonymous"}))
    union = rec.ok(rec.post("/donors", {"kind": "union", "name": "Công đoàn Ngành Giáo dục"}))
    s.ids.update(person=person["donor_id"], hidden=hidden["donor_id"], union=union["donor_id"])

    h1 = w.household(head_name="Trần Thị Hoa")  # new build: 60M approved
    h2 = w.household(commune="00008", head_name="Đỗ Văn Nam", support_type="repair")  # 30M
    h3 = w.household(head_name="Vũ Văn Quang", support_type="repair", approved_amount_vnd=5_000_000)
    h4 = w.household(commune="00008", head_name="Ngô Thị Mai", approved=False)  # surveyed only
    s.ids.update(h1=h1, h2=h2, h3=h3, h4=h4)

    business = rec.ok(w.contribute(amount_vnd=100_000_000, received_on="2025-03-01"))
    rec.ok(w.contribute(donor_id=w.state_donor_id, amount_vnd=50_000_000, received_on="2025-04-02"))
    rec.ok(w.contribute(donor_id=person["donor_id"], amount_vnd=2_000_000, received_on="2025-04-05"))
    rec.ok(w.contribute(donor_id=hidden["donor_id"], amount_vnd=900_000_000, received_on="2025-04-06"))
    rec.ok(w.contribute(donor_id=union["donor_id"], fund_id=ngoc_ha["fund_id"], amount_vnd=5_000_000,
                        received_on="2025-04-07"))
    rec.ok(w.contribute(kind="material", method="in_kind", item="Xi măng PCB40", unit="bao", quantity="100",
                        unit_value_vnd=90_000, received_on="2025-05-01"))
    rec.ok(w.contribute(kind="labour", method="labour", person_days="20", day_rate_vnd=250_000,
                        received_on="2025-05-03"))
    voided = rec.ok(w.contribute(donor_id=person["donor_id"], amount_vnd=70_000_000, received_on="2025-05-04"))
    w.approve(rec.post(f"/contributions/{voided['contribution_id']}/void", {"reason": "Nhập trùng"}))
    fresh = rec.ok(w.contribute(donor_id=union["donor_id"], amount_vnd=3_000_000, received_on=_iso(TODAY)))
    admin.ok(w.contribute(api=admin, fund_id=hcm["fund_id"], amount_vnd=7_000_000, received_on="2025-03-03"))
    s.ids.update(business=business["contribution_id"], voided=voided["contribution_id"],
                 fresh=fresh["contribution_id"])

    # 30M of the business's lot to h1; 20M down to Ba Đình's fund, 10M of it on to h2 (in Ngọc Hà)...
    rec.ok(w.allocate(h1, amount_vnd=30_000_000))
    rec.ok(rec.post(f"/funds/{w.fund_id}/transfers", {"to_fund_id": w.commune_fund_id, "kind": "cash",
                                                      "amount_vnd": 20_000_000}))
    rec.ok(w.allocate(h2, fund_id=w.commune_fund_id, amount_vnd=10_000_000))
    rec.ok(w.allocate(h1, kind="material", item="Xi măng PCB40", unit="bao", quantity="40"))
    rec.ok(w.allocate(h1, kind="labour", person_days="8"))
    # ... and h3, approved for 5M, gets 6M: past its amount, with a reason, approved by a second person.
    override = w.approved(rec.post("/allocations", {"fund_id": w.fund_id, "household_id": h3, "kind": "cash",
                                                    "amount_vnd": 6_000_000,
                                                    "override_reason": "Nhà sập thêm sau bão số 3"}))
    s.ids["override"] = override["allocation_id"]

    def pledge(due: date | None, amount: int, donor=None) -> int:
        body = {"campaign_id": w.campaign_id, "fund_id": w.fund_id, "donor_id": donor or w.donor_id,
                "kind": "cash", "amount_vnd": amount, "due_on": _iso(due) if due else None}
        return rec.ok(rec.post("/pledges", body))["pledge_id"]

    s.ids["late"] = pledge(TODAY - timedelta(days=10), 20_000_000)
    s.ids["soon"] = pledge(TODAY + timedelta(days=1), 8_000_000)
    s.ids["cancelled"] = pledge(TODAY - timedelta(days=3), 9_000_000)
    rec.ok(rec.post(f"/pledges/{s.ids['cancelled']}/cancel", {"reason": "Nhà tài trợ rút lại"}))
    s.ids["kept"] = pledge(TODAY - timedelta(days=5), 1_000_000, donor=person["donor_id"])
    rec.ok(w.contribute(donor_id=person["donor_id"], pledge_id=s.ids["kept"], amount_vnd=1_000_000,
                        received_on=_iso(TODAY - timedelta(days=6))))
    # 4M of the late pledge arrived: it is still overdue, 16M to come.
    rec.ok(w.contribute(pledge_id=s.ids["late"], amount_vnd=4_000_000, received_on=_iso(TODAY - timedelta(days=2))))
    return s


@pytest.fixture()
def seed(ctx) -> Seed:
    return _seed(ctx)


def _fund_ids(*codes) -> set[int]:
    return set(db.session.scalars(select(Fund.id).where(Fund.code.in_(codes))))


def _journal_balance(fund_ids: set[int], commodity: str) -> int:
    """What the funds hold of a commodity, summed from the journal's postings."""
    accounts = [f"fund:{code}" for code in db.session.scalars(select(Fund.code).where(Fund.id.in_(fund_ids)))]
    return int(db.session.scalar(select(func.coalesce(func.sum(Posting.units), 0))
                                 .where(Posting.account.in_(accounts), Posting.commodity == commodity)))


def _received(fund_ids: set[int], commodity: str) -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(Contribution.units), 0)).where(
        Contribution.fund_id.in_(fund_ids), Contribution.commodity == commodity, not_reversed(Contribution.txn_id))))


def _line(block: dict, kind: str, item: str | None = None) -> dict:
    [line] = [line for line in block["lines"] if line["kind"] == kind and (item is None or line["item"] == item)]
    return line


# --- 1. reconciliation -----------------------------------------------------------------------

def test_reconciliation_matches_the_ledger_and_reconciles(ctx, seed):
    w = seed.w
    body = seed.auditor.ok(seed.auditor.get("/reports/reconciliation", campaign_id=w.campaign_id, area_code="01"), 200)
    [section] = body["campaigns"]
    totals = section["totals"]
    hanoi = _fund_ids("HNVNN", "BADINH", "NGOCHA")
    cash = totals["kinds"]["cash"]
    # Received: summed independently (the voided 70M and Hồ Chí Minh's 7M left out).
    assert cash["received_vnd"] == _received(hanoi, "VND") == 100_000_000 + 50_000_000 + 2_000_000 + 900_000_000 \
        + 5_000_000 + 3_000_000 + 1_000_000 + 4_000_000
    assert cash["allocated_vnd"] == 30_000_000 + 10_000_000 + 6_000_000
    assert cash["transferred_in_vnd"] == cash["transferred_out_vnd"] == 0  # inside the province: cancels out
    assert cash["remaining_vnd"] == _journal_balance(hanoi, "VND") == cash["received_vnd"] - cash["allocated_vnd"]
    assert cash["pledged_vnd"] == 20_000_000 + 8_000_000 + 1_000_000  # the cancelled 9M left out
    assert totals["balanced"] is True and all(line["balanced"] for line in totals["lines"])
    cement = _line(totals, "material", "Xi măng PCB40")
    assert (cement["received"], cement["allocated"], cement["remaining"]) == ("100.000", "40.000", "60.000")
    assert (cement["received_vnd"], cement["allocated_vnd"], cement["remaining_vnd"]) == (9_000_000, 3_600_000, 5_400_000)
    labour = totals["kinds"]["labour"]
    assert (labour["received_person_days"], labour["allocated_person_days"], labour["remaining_person_days"]) == (
        "20.00", "8.00", "12.00")
    assert labour["received_vnd"] == 5_000_000 and isinstance(labour["received_vnd"], int)
    # Per fund: the province fund sent 20M down; Ba Đình got it and passed 10M on.
    funds = {b["code"]: b for b in section["funds"]}
    assert set(funds) == {"HNVNN", "BADINH", "NGOCHA"}
    province, ba_dinh = funds["HNVNN"]["kinds"]["cash"], funds["BADINH"]["kinds"]["cash"]
    assert province["transferred_out_vnd"] == 20_000_000 and ba_dinh["transferred_in_vnd"] == 20_000_000
    assert ba_dinh["received_vnd"] == 0 and ba_dinh["allocated_vnd"] == 10_000_000
    for code, block in funds.items():
        [fid] = _fund_ids(code)
        line = _line(block, "cash")
        assert line["remaining_vnd"] == _journal_balance({fid}, "VND") == (
            line["received_vnd"] + line["transferred_in_vnd"] - line["transferred_out_vnd"] - line["allocated_vnd"])
        assert db.session.scalar(select(func.sum(Holding.units)).where(Holding.fund_id == fid,
                                                                       Holding.commodity == "VND")) == line["remaining_vnd"]
    # Per area one level down: the province's own fund apart, then each commune.
    areas = {b["code"]: b for b in section["areas"]}
    assert set(areas) == {"01", "00004", "00008"}
    assert areas["00004"]["kinds"]["cash"]["transferred_in_vnd"] == 20_000_000
    assert sum(a["totals"]["remaining_vnd"] for a in areas.values()) == totals["totals"]["remaining_vnd"]


def test_reconciliation_area_filter_takes_descendants_only(ctx, seed):
    w = seed.w
    commune = seed.auditor.ok(seed.auditor.get("/reports/reconciliation", campaign_id=w.campaign_id,
                                               area_code="00004"), 200)
    [section] = commune["campaigns"]
    assert [f["code"] for f in section["funds"]] == ["BADINH"]
    cash = section["totals"]["kinds"]["cash"]
    # Ba Đình received nothing itself: 20M came from the province (outside the area), 10M went to h2.
    assert (cash["received_vnd"], cash["transferred_in_vnd"], cash["allocated_vnd"], cash["remaining_vnd"]) == (
        0, 20_000_000, 10_000_000, 10_000_000)
    south = seed.auditor.ok(seed.auditor.get("/reports/reconciliation", campaign_id=w.campaign_id, area_code="79"), 200)
    [section] = south["campaigns"]
    assert [f["code"] for f in section["funds"]] == ["HCMVNN"]
    assert section["totals"]["kinds"]["cash"]["received_vnd"] == 7_000_000
    # The whole country: both provinces one level down.
    country = seed.auditor.ok(seed.auditor.get("/reports/reconciliation"), 200)
    assert {a["code"] for a in country["campaigns"][0]["areas"]} == {"01", "79"}
    # One fund.
    one = seed.auditor.ok(seed.auditor.get("/reports/reconciliation", fund_id=w.commune_fund_id), 200)
    assert [f["code"] for f in one["campaigns"][0]["funds"]] == ["BADINH"]


def test_the_public_summary_still_answers(ctx, seed):
    summary = seed.w.recorder.ok(seed.w.recorder.get("/reports/summary"), 200)
    assert summary["kinds"]["cash"]["allocated_vnd"] == 46_000_000
    assert "transferred_in_vnd" not in summary["kinds"]["cash"]  # its contract is unchanged


# --- 2. household coverage -------------------------------------------------------------------

def test_household_coverage_and_the_override(ctx, seed):
    w = seed.w
    body = seed.auditor.ok(seed.auditor.get("/reports/households", campaign_id=w.campaign_id), 200)
    [section] = body["campaigns"]
    t = section["totals"]
    assert t["households"] == 4 and t["by_status"]["approved"] == 3 and t["by_status"]["surveyed"] == 1
    assert t["approved_vnd"] == 60_000_000 + 30_000_000 + 5_000_000  # the surveyed house not yet
    assert t["allocated_vnd"] == 30_000_000 + 3_600_000 + 2_000_000 + 10_000_000 + 6_000_000
    assert (t["fully_funded"], t["under_funded"]) == (1, 2)
    under = {h["household_id"]: h for h in section["under_funded"]}
    assert set(under) == {seed.ids["h1"], seed.ids["h2"]}
    assert under[seed.ids["h1"]]["shortfall_vnd"] == 60_000_000 - 35_600_000
    [override] = section["overrides"]
    assert override["allocation_id"] == seed.ids["override"] and override["household_id"] == seed.ids["h3"]
    assert override["reason"] == "Nhà sập thêm sau bão số 3"
    assert override["requested_by"] == "recorder" and override["approved_by"] == "approver"
    assert (override["approved_vnd"], override["norm_vnd"], override["household_allocated_vnd"]) == (
        5_000_000, 30_000_000, 6_000_000)
    assert [a["code"] for a in section["areas"]] == ["01"]  # the whole country: provinces
    [hanoi] = seed.auditor.ok(seed.auditor.get("/reports/households", area_code="01"), 200)["campaigns"]
    areas = {a["code"]: a for a in hanoi["areas"]}
    assert set(areas) == {"00004", "00008"}
    assert areas["00008"]["households"] == 2 and areas["00008"]["under_funded"] == 1
    assert areas["00008"]["by_status"] == {"surveyed": 1, "approved": 1, "building": 0, "completed": 0,
                                           "handed_over": 0}
    # Only Ngọc Hà.
    [ngoc_ha] = seed.auditor.ok(seed.auditor.get("/reports/households", area_code="00008"), 200)["campaigns"]
    assert ngoc_ha["totals"]["households"] == 2 and ngoc_ha["overrides"] == []


# --- 3. overdue pledges ----------------------------------------------------------------------

def test_overdue_pledges_follow_the_status_rule(ctx, seed):
    w, ids = seed.w, seed.ids
    body = seed.auditor.ok(seed.auditor.get("/reports/overdue-pledges"), 200)
    assert [p["pledge_id"] for p in body["pledges"]] == [ids["late"]]  # not due yet, cancelled, fulfilled: out
    [late] = body["pledges"]
    assert (late["pledged_vnd"], late["received_vnd"], late["remaining_vnd"], late["days_overdue"]) == (
        20_000_000, 4_000_000, 16_000_000, 10)
    assert late["donor"] == "Công ty Cổ phần Sữa Việt Nam" and late["due_on"] == _iso(TODAY - timedelta(days=10))
    assert body["count"] == 1 and body["remaining_vnd"] == 16_000_000
    # The pledge due tomorrow is overdue the day after tomorrow, not before (the service's clock).
    from ledger.auth.models import User
    from ledger.reports import service

    auditor = db.session.scalar(select(User).where(User.username == "auditor"))
    later = service.overdue_pledges(service.report_scope(auditor, {}, today=TODAY + timedelta(days=2)))
    assert [p.pledge_id for p in later.pledges] == [ids["late"], ids["soon"]]
    on_the_day = service.overdue_pledges(service.report_scope(auditor, {}, today=TODAY + timedelta(days=1)))
    assert [p.pledge_id for p in on_the_day.pledges] == [ids["late"]]
    # Fulfilled: gone.
    w.recorder.ok(w.contribute(pledge_id=ids["late"], amount_vnd=16_000_000, received_on=_iso(TODAY)))
    assert seed.auditor.ok(seed.auditor.get("/reports/overdue-pledges"), 200)["pledges"] == []


def test_a_cancelled_overdue_pledge_disappears(ctx, seed):
    w, ids = seed.w, seed.ids
    w.recorder.ok(w.recorder.post(f"/pledges/{ids['late']}/cancel", {"reason": "Đã thỏa thuận lại"}))
    assert seed.auditor.ok(seed.auditor.get("/reports/overdue-pledges"), 200)["count"] == 0


# --- 4. contributions not yet allocated ------------------------------------------------------

def test_unallocated_older_than_n_days(ctx, seed):
    ids = seed.ids
    body = seed.auditor.ok(seed.auditor.get("/reports/unallocated", area_code="01"), 200)
    rows = {r["contribution_id"]: r for r in body["contributions"]}
    assert ids["fresh"] not in rows and ids["voided"] not in rows  # received today; voided
    business = rows[ids["business"]]
    # 100M in; 30M (h1) + 6M (h3) allocated from the province fund, 20M sent to Ba Đình, of which 10M reached h2.
    assert business["received_vnd"] == 100_000_000
    assert business["allocated_units"] == 46_000_000 and business["transferred_units"] == 20_000_000
    assert business["remaining_vnd"] == 100_000_000 - 36_000_000 - 20_000_000 == 44_000_000
    assert business["elsewhere_vnd"] == 10_000_000 and business["balanced"] is True
    held = db.session.scalar(select(Holding.units).where(Holding.contribution_id == ids["business"],
                                                         Holding.fund_id == seed.w.fund_id))
    assert held == business["remaining_units"]
    cement = [r for r in body["contributions"] if r["kind"] == "material"][0]
    assert (cement["received"], cement["allocated"], cement["remaining"]) == ("100.000", "40.000", "60.000")
    assert cement["remaining_vnd"] == 5_400_000
    dates = [r["received_on"] for r in body["contributions"]]
    assert dates == sorted(dates) and body["older_than_days"] == 30
    # Received 2 and 6 days ago: listed after 1 day, not after 30.
    recent = seed.auditor.ok(seed.auditor.get("/reports/unallocated", area_code="01", older_than_days=1), 200)
    added = {r["contribution_id"] for r in recent["contributions"]} - set(rows)
    assert sorted(r["received_on"] for r in recent["contributions"] if r["contribution_id"] in added) == [
        _iso(TODAY - timedelta(days=6)), _iso(TODAY - timedelta(days=2))]
    assert ids["fresh"] not in added  # today's: 0 days old, never "more than" any N
    # A contribution allocated to the last đồng is not listed.
    assert all(r["remaining_units"] + r["elsewhere_units"] > 0 for r in recent["contributions"])


# --- 5. commendations ------------------------------------------------------------------------

HIDDEN_NAME = "Phạm Thị Lan Ẩn"


def test_commendations_rank_by_value_and_never_name_the_anonymous(ctx, seed):
    w = seed.w
    resp = seed.auditor.get("/reports/commendations", campaign_id=w.campaign_id)
    body = seed.auditor.ok(resp, 200)
    assert HIDDEN_NAME not in resp.get_data(as_text=True)
    kinds = {r["code"]: r for r in body["by_kind"]}
    [business] = kinds["business"]["top"]
    # Cash 100M + 4M (+ 7M in Hồ Chí Minh), 100 bags at 90,000 and 20 days at 250,000.
    assert (business["cash_vnd"], business["material_vnd"], business["labour_vnd"], business["total_vnd"]) == (
        111_000_000, 9_000_000, 5_000_000, 125_000_000)
    individual = kinds["individual"]
    # Lê Văn Bình: 2M + 1M; his voided 70M is not counted. The 900M anonymous gift is not ranked.
    assert [(d["name"], d["total_vnd"]) for d in individual["top"]] == [("Lê Văn Bình", 3_000_000)]
    assert individual["anonymous"] == {"donors": 1, "total_vnd": 900_000_000}
    # Per area, in Hà Nội: everyone ranked by value.
    hanoi = seed.auditor.ok(seed.auditor.get("/reports/commendations", area_code="01"), 200)
    [own, *communes] = hanoi["by_area"]
    assert own["code"] == "01"
    assert [(d["rank"], d["name"], d["total_vnd"]) for d in own["top"]] == [
        (1, "Công ty Cổ phần Sữa Việt Nam", 118_000_000), (2, "Ngân sách thành phố", 50_000_000),
        (3, "Công đoàn Ngành Giáo dục", 3_000_000), (4, "Lê Văn Bình", 3_000_000)]  # a tie: by name
    assert own["anonymous"]["total_vnd"] == 900_000_000
    assert [(c["code"], [d["name"] for d in c["top"]]) for c in communes] == [("00008", ["Công đoàn Ngành Giáo dục"])]
    # top=2, and a period (received in April 2025).
    top2 = seed.auditor.ok(seed.auditor.get("/reports/commendations", area_code="01", top=2), 200)
    assert [d["rank"] for d in top2["by_area"][0]["top"]] == [1, 2] and top2["by_area"][0]["named_donors"] == 4
    april = seed.auditor.ok(seed.auditor.get("/reports/commendations", area_code="01", date_from="2025-04-01",
                                             date_to="2025-04-30"), 200)
    assert [(d["name"], d["total_vnd"]) for d in april["by_area"][0]["top"]] == [
        ("Ngân sách thành phố", 50_000_000), ("Lê Văn Bình", 2_000_000)]


# --- who may see what, and bad input ---------------------------------------------------------

@pytest.mark.parametrize("path", ["/reports/reconciliation", "/reports/households", "/reports/overdue-pledges",
                                  "/reports/unallocated", "/reports/commendations", "/reports/committee.pdf",
                                  "/reports/reconciliation.xlsx"])
def test_no_token_no_report(ctx, path):
    resp = ctx.test_client().get("/api/v1" + path)
    assert resp.status_code == 401 and resp.mimetype == "application/problem+json"


def test_an_area_bound_user_reports_on_its_area_only(ctx, seed):
    make_user("badinh", "recorder", "00004")
    local = api_for(ctx, "badinh")
    mine = local.ok(local.get("/reports/reconciliation"), 200)  # no area given: its own
    assert mine["scope"]["area"]["area_code"] == "00004"
    assert [f["code"] for f in mine["campaigns"][0]["funds"]] == ["BADINH"]
    for path in ("/reports/reconciliation", "/reports/commendations", "/reports/committee.pdf",
                 "/reports/unallocated.xlsx"):
        resp = local.get(path, area_code="01")
        assert resp.status_code == 403 and resp.mimetype == "application/problem+json", path
    assert local.get("/reports/households", area_code="00008").status_code == 403
    assert local.get("/reports/reconciliation", fund_id=seed.w.fund_id).status_code == 403
    # The Hà Nội recorder may not look at Hồ Chí Minh.
    assert seed.w.recorder.get("/reports/overdue-pledges", area_code="79").status_code == 403


@pytest.mark.parametrize("params, field", [
    ({"older_than_days": "-1"}, "older_than_days"), ({"top": "0"}, "top"), ({"top": "ten"}, "top"),
    ({"date_from": "2025-05-01", "date_to": "2025-04-01"}, "date_to"), ({"date_from": "2025-13-01"}, "date_from"),
    ({"campaign_id": "999"}, "campaign_id"), ({"area_code": "99999"}, "area_code"), ({"fund_id": "999"}, "fund_id"),
])
def test_bad_filters_are_422_problems(ctx, seed, params, field):
    resp = seed.auditor.get("/reports/commendations", **params)
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json", resp.get_data(as_text=True)
    assert field in resp.get_json()["errors"]


def test_an_unknown_workbook_is_404(ctx, seed):
    resp = seed.auditor.get("/reports/summary.xlsx")
    assert resp.status_code == 404 and resp.mimetype == "application/problem+json"


# --- the documents ---------------------------------------------------------------------------

def test_xlsx_cells_are_typed(ctx, seed):
    import openpyxl

    w = seed.w
    json_body = seed.auditor.ok(seed.auditor.get("/reports/reconciliation", campaign_id=w.campaign_id,
                                                 area_code="01"), 200)
    resp = seed.auditor.get("/reports/reconciliation.xlsx", campaign_id=w.campaign_id, area_code="01")
    assert resp.status_code == 200
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in resp.headers["Content-Disposition"] and "no-store" in resp.headers["Cache-Control"]
    book = openpyxl.load_workbook(io.BytesIO(resp.data))
    by_kind = book.worksheets[0]
    cash_total = next(by_kind.iter_rows(min_row=2, values_only=True))  # the campaign's total, cash first
    assert cash_total[0] == cash_total[3] == "CT2025"
    assert all(isinstance(v, int) for v in cash_total[5:11])
    assert cash_total[6] == json_body["campaigns"][0]["totals"]["kinds"]["cash"]["received_vnd"]
    assert by_kind.cell(row=2, column=7).number_format == "#,##0"
    items = book.worksheets[1]
    cement = next(r for r in items.iter_rows(min_row=2, values_only=True) if r[5] == "Xi măng PCB40")
    assert cement[7] == 100 and cement[11] == 60 and isinstance(cement[11], int | float)
    # Dates are dates; the anonymous donor is not named in any workbook.
    import datetime as dt

    waiting = openpyxl.load_workbook(io.BytesIO(seed.auditor.get("/reports/unallocated.xlsx").data)).worksheets[0]
    assert all(isinstance(r[1], dt.datetime) for r in waiting.iter_rows(min_row=2, values_only=True))
    for name in ("households", "overdue-pledges", "commendations"):
        resp = seed.auditor.get(f"/reports/{name}.xlsx")
        assert resp.status_code == 200, name
        book = openpyxl.load_workbook(io.BytesIO(resp.data))
        cells = [v for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row]
        assert HIDDEN_NAME not in cells
    ranking = openpyxl.load_workbook(io.BytesIO(seed.auditor.get("/reports/commendations.xlsx").data)).worksheets[0]
    totals = [r[7] for r in ranking.iter_rows(min_row=2, values_only=True)]
    assert 125_000_000 in totals and all(isinstance(t, int) for t in totals)


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return unicodedata.normalize("NFC", text).replace("\xa0", " ")


def test_committee_pdf_in_vietnamese_with_the_totals(ctx, seed, tmp_path):
    from ledger.transparency.log import publish

    w = seed.w
    checkpoint = publish()  # the figures name the log's state they were read at
    db.session.rollback()
    resp = seed.auditor.get("/reports/committee.pdf", campaign_id=w.campaign_id, area_code="01",
                            date_from="2025-01-01", date_to=_iso(TODAY))
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert resp.data.startswith(b"%PDF")
    text = _pdf_text(resp.data)
    flat = re.sub(r"\s+", " ", text)
    for words in ("BÁO CÁO TỔNG HỢP", "Chung tay xóa nhà tạm, nhà dột nát", "Thành phố Hà Nội", "ĐỐI CHIẾU NGUỒN LỰC",
                  "Tiền mặt", "Đã tiếp nhận", "Đã phân bổ", "Còn lại", "HỘ GIA ĐÌNH", "Cam kết quá hạn",
                  "NGƯỜI LẬP BIỂU", "KẾ TOÁN", "TRƯỞNG BAN", "Nhà hảo tâm ẩn danh", "01/01/2025"):
        assert words in flat, words
    assert "1.065.000.000" in flat  # cash received in Hà Nội
    assert "1.079.000.000" in flat  # every kind, valued
    assert "16.000.000" in flat  # still to come of the overdue pledge
    assert HIDDEN_NAME not in flat
    assert f"điểm kiểm chứng của nhật ký minh bạch: {checkpoint.size} giao dịch" in flat
    (tmp_path / "committee.pdf").write_bytes(resp.data)


def test_the_pdf_renders(ctx, seed):
    """Rendered to an image (pypdfium2) for a person to look at: /tmp/h2_committee.png."""
    pdfium = pytest.importorskip("pypdfium2")
    resp = seed.auditor.get("/reports/committee.pdf", area_code="01")
    pdf = pdfium.PdfDocument(resp.data)
    assert len(pdf) >= 1
    image = pdf[0].render(scale=60 / 72).to_pil()
    assert image.width > 400
    if ctx.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        image.save("/tmp/h2_committee.png")
        Path("/tmp/h2_committee.pdf").write_bytes(resp.data)
        if len(pdf) > 1:
            pdf[1].render(scale=60 / 72).to_pil().save("/tmp/h2_committee_2.png")


# --- the staff page --------------------------------------------------------------------------

def test_the_reports_page(ctx, seed):
    from tests.web_helpers import login

    client = ctx.test_client()
    login(client, "auditor")
    resp = client.get("/staff/reports", query_string={"area_code": "01"})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "<script" not in html and "style=" not in html
    for text in ("Công ty Cổ phần Sữa Việt Nam", "Nhà sập thêm sau bão số 3", "Trần Thị Hoa", "1.065.000.000"):
        assert text in html, text
    assert HIDDEN_NAME not in html
    assert 'class="table-wrap"' in html and "/staff/reports/committee.pdf?area_code=01" in html
    assert 'href="/staff/reports"' in client.get("/staff/").get_data(as_text=True)  # in the menu
    pdf = client.get("/staff/reports/committee.pdf", query_string={"area_code": "01"})
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    xlsx = client.get("/staff/reports/households.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    # A bad date is said next to its field; the page still answers.
    bad = client.get("/staff/reports", query_string={"date_from": "32/13/2025"})
    assert bad.status_code == 200 and 'class="error"' in bad.get_data(as_text=True)
    # Another area: a 403 page for a user bound to Ba Đình.
    make_user("badinh2", "recorder", "00004")
    other = ctx.test_client()
    login(other, "badinh2")
    assert other.get("/staff/reports", query_string={"area_code": "01"}).status_code == 403
    assert other.get("/staff/reports").status_code == 200
    assert ctx.test_client().get("/staff/reports").status_code == 302  # not logged in: to the log-in page


PHONE = {"width": 375, "height": 812}


def test_the_reports_page_on_a_phone(ctx, seed, phone, served):
    """375 px wide: the page never scrolls sideways (wide tables scroll inside their box),
    and it works without JavaScript."""
    from tests.browser_helpers import fits_the_phone, shot
    from tests.helpers import PASSWORD

    phone.goto(f"{served}/staff/login")
    phone.fill("#username", "auditor")
    phone.fill("#password", PASSWORD)
    phone.click("button[type=submit]")
    phone.wait_for_url(f"{served}/staff/")
    phone.goto(f"{served}/staff/reports?area_code=01", wait_until="load")
    assert phone.locator("h1").inner_text() in ("Báo cáo", "Reports")
    assert fits_the_phone(phone), phone.evaluate("""[...document.querySelectorAll('body *')].filter(
        e => e.getBoundingClientRect().right > 375 && !e.closest('.table-wrap')).map(
        e => e.tagName + '.' + e.className + '#' + e.id + ' ' + e.textContent.trim().slice(0, 30) + ' < ' + e.parentElement.className + ' ' + Math.round(e.getBoundingClientRect().left) + '-' + Math.round(e.getBoundingClientRect().right)).slice(0, 12)""")
    assert phone.locator(".table-wrap").count() >= 8
    # The filter form: choose Ba Đình, submit, and the page follows.
    phone.select_option("#area_code", "00004")
    with phone.expect_navigation():
        phone.click("form[role=search] button[type=submit]")
    phone.wait_for_load_state("load")
    assert "area_code=00004" in phone.url and fits_the_phone(phone)
    assert not phone.errors
    shot(phone, "staff-reports")


def test_before_any_campaign_and_in_the_api_document(ctx):
    make_user("auditor", "auditor")
    auditor = api_for(ctx, "auditor")
    for path in ("/reports/reconciliation", "/reports/households", "/reports/overdue-pledges", "/reports/unallocated",
                 "/reports/commendations"):
        body = auditor.ok(auditor.get(path), 200)
        assert body.get("campaigns", []) == [] and body.get("pledges", []) == [] and body.get("contributions", []) == []
    resp = auditor.get("/reports/committee.pdf")
    assert resp.status_code == 404 and resp.mimetype == "application/problem+json"
    paths = ctx.test_client().get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/reports/summary", "/api/v1/reports/reconciliation", "/api/v1/reports/committee.pdf",
                 "/api/v1/reports/{name}.xlsx"):
        assert path in paths, path
