"""Allocation FIFO or from a named source, the invariants it must keep, transfers."""
from sqlalchemy import func, select

from ledger.allocations.models import Allocation
from ledger.extensions import db
from ledger.journal.models import JournalTransaction
from ledger.journal.service import verify_journal
from tests.helpers import api_for, build_world, make_user


def ledger_state():
    return (db.session.scalar(select(func.count()).select_from(JournalTransaction)),
            db.session.scalar(select(func.count()).select_from(Allocation)))


def test_pool_is_drawn_first_in_first_out_with_a_line_per_contribution(ctx):
    w = build_world(ctx)
    c1 = w.recorder.ok(w.contribute(amount_vnd=3_000_000, received_on="2025-03-01"))
    c2 = w.recorder.ok(w.contribute(donor_id=w.state_donor_id, amount_vnd=5_000_000, received_on="2025-03-05"))
    h = w.household()
    a = w.recorder.ok(w.allocate(h, amount_vnd=4_000_000), 201)
    assert [(ln["contribution_id"], ln["amount_vnd"]) for ln in a["lines"]] == [
        (c1["contribution_id"], 3_000_000), (c2["contribution_id"], 1_000_000)]
    assert a["lines"][0]["receipt_number"] == c1["receipt"]["number"]
    household = w.recorder.ok(w.recorder.get(f"/households/{h}"))
    assert household["funding"]["social_vnd"] == 3_000_000
    assert household["funding"]["state_budget_vnd"] == 1_000_000
    assert household["funding"]["remaining_need_vnd"] == 56_000_000
    by_area = w.recorder.ok(w.recorder.get("/allocations", area_code="00004", campaign_id=w.campaign_id))
    assert [x["allocation_id"] for x in by_area] == [a["allocation_id"]]
    assert w.recorder.ok(w.recorder.get("/allocations", area_code="00008")) == []
    by_source = w.recorder.ok(w.recorder.get("/allocations", contribution_id=c2["contribution_id"]))
    assert [x["allocation_id"] for x in by_source] == [a["allocation_id"]]
    assert verify_journal() == []


def test_named_source_is_drawn_only_from_that_contribution(ctx):
    w = build_world(ctx)
    w.recorder.ok(w.contribute(amount_vnd=3_000_000, received_on="2025-03-01"))
    c2 = w.recorder.ok(w.contribute(amount_vnd=5_000_000, received_on="2025-03-05"))
    h = w.household()
    a = w.recorder.ok(w.allocate(h, amount_vnd=2_000_000, source_contribution_id=c2["contribution_id"]), 201)
    assert [ln["contribution_id"] for ln in a["lines"]] == [c2["contribution_id"]]
    resp = w.allocate(h, amount_vnd=3_500_000, source_contribution_id=c2["contribution_id"])
    assert resp.status_code == 409 and resp.get_json()["available"] == "3000000"


def test_fund_never_allocates_more_than_it_holds_and_refusal_changes_nothing(ctx):
    w = build_world(ctx)
    w.recorder.ok(w.contribute(amount_vnd=3_000_000))
    h = w.household()
    before = ledger_state()
    resp = w.allocate(h, amount_vnd=3_000_001)
    assert resp.status_code == 409 and resp.content_type == "application/problem+json"
    assert ledger_state() == before
    assert w.recorder.ok(w.recorder.get(f"/funds/{w.fund_id}"))["balances"][0]["amount_vnd"] == 3_000_000
    # materials too: only what was received of that item and unit
    w.recorder.ok(w.contribute(kind="material", method="in_kind", item="Tôn lợp", unit="tấm", quantity="10",
                               unit_value_vnd=120_000))
    assert w.allocate(h, kind="material", item="Tôn lợp", unit="tấm", quantity="10.001").status_code == 409
    assert w.allocate(h, kind="material", item="Gạch", unit="viên", quantity="1").status_code == 409
    a = w.recorder.ok(w.allocate(h, kind="material", item="tôn lợp", unit="tấm", quantity="2.5"), 201)
    assert a["quantity"] == "2.500" and a["value_vnd"] == 300_000
    assert a["lines"][0]["quantity"] == "2.500" and a["lines"][0]["value_vnd"] == 300_000


def test_household_cap_needs_an_override_with_reason_by_an_allowed_user(ctx):
    w = build_world(ctx)
    w.recorder.ok(w.contribute(amount_vnd=80_000_000))
    h = w.household(support_type="repair")  # norm 30,000,000
    w.recorder.ok(w.allocate(h, amount_vnd=30_000_000), 201)
    before = ledger_state()
    resp = w.allocate(h, amount_vnd=1)
    assert resp.status_code == 409 and resp.get_json()["approved_amount_vnd"] == 30_000_000
    # a recorder's override is only a request: it moves nothing until an approver allows it
    resp = w.allocate(h, amount_vnd=1_000_000, override_reason="Giá vật liệu tăng sau lũ")
    assert resp.status_code == 202 and resp.get_json()["kind"] == "allocation"
    assert ledger_state() == before
    assert w.recorder.post(f"/approvals/{resp.get_json()['approval_id']}/approve").status_code == 403
    assert ledger_state() == before
    a = w.approved(resp)
    assert a["override_reason"] == "Giá vật liệu tăng sau lũ" and a["value_vnd"] == 1_000_000
    # an approver's own override waits for a second person too
    make_user("duyet", "approver", "01")
    approver = api_for(ctx, "duyet")
    resp = w.allocate(h, api=approver, amount_vnd=500_000, override_reason="Giá vật liệu tăng sau lũ")
    assert resp.status_code == 202
    assert approver.post(f"/approvals/{resp.get_json()['approval_id']}/approve").status_code == 403
    assert w.approved(resp)["override_reason"] == "Giá vật liệu tăng sau lũ"
    # an override reason where none is needed is not kept (and needs no approval)
    h2 = w.household()
    a2 = approver.ok(w.allocate(h2, api=approver, amount_vnd=1_000, override_reason="không cần"), 201)
    assert a2["override_reason"] is None
    # the approved amount cannot be lowered below what was allocated
    resp = w.recorder.patch(f"/households/{h}", {"approved_amount_vnd": 20_000_000})
    assert resp.status_code == 409


def test_earmarks_are_respected(ctx):
    w = build_world(ctx)
    h_badinh = w.household(commune="00004")
    h_ngocha = w.household(commune="00008", head_name="Lê Thị Cúc")
    for_ngocha = w.recorder.ok(w.contribute(amount_vnd=2_000_000, earmark_area_code="00008",
                                            received_on="2025-03-01"))
    for_h = w.recorder.ok(w.contribute(amount_vnd=1_000_000, earmark_household_id=h_ngocha,
                                       received_on="2025-03-02"))
    free = w.recorder.ok(w.contribute(amount_vnd=1_000_000, received_on="2025-03-03"))
    # Ba Đình's household gets only the free money, though it came last
    a = w.recorder.ok(w.allocate(h_badinh, amount_vnd=1_000_000), 201)
    assert [ln["contribution_id"] for ln in a["lines"]] == [free["contribution_id"]]
    assert w.allocate(h_badinh, amount_vnd=1).status_code == 409
    assert w.allocate(h_badinh, amount_vnd=1, source_contribution_id=for_ngocha["contribution_id"]).status_code == 409
    b = w.recorder.ok(w.allocate(h_ngocha, amount_vnd=3_000_000), 201)
    assert {ln["contribution_id"] for ln in b["lines"]} == {for_ngocha["contribution_id"], for_h["contribution_id"]}
    # an earmark and a fund outside it do not go together
    assert w.contribute(fund_id=w.commune_fund_id, earmark_area_code="00008").status_code == 422


def test_household_must_be_approved_and_statuses_walk_forward(ctx):
    w = build_world(ctx)
    w.recorder.ok(w.contribute())
    h = w.household(approved=False)
    assert w.allocate(h).status_code == 409
    assert w.recorder.post(f"/households/{h}/status", {"status": "building", "on": "2025-02-10"}).status_code == 409
    assert w.recorder.post(f"/households/{h}/status", {"status": "approved", "on": "2025-01-10"}).status_code == 422
    w.recorder.ok(w.recorder.post(f"/households/{h}/status", {"status": "approved", "on": "2025-02-10"}))
    done = w.recorder.ok(w.recorder.post(f"/households/{h}/status", {"status": "building", "on": "2025-03-01",
                                                                    "note": "Khởi công"}))
    assert [(e["status"], e["on"]) for e in done["timeline"]] == [
        ("surveyed", "2025-02-01"), ("approved", "2025-02-10"), ("building", "2025-03-01")]
    assert w.recorder.post(f"/households/{h}/status", {"status": "surveyed", "on": "2025-03-02"}).status_code == 409


def test_reversal_returns_the_lots_to_the_fund_once(ctx):
    w = build_world(ctx)
    c = w.recorder.ok(w.contribute(amount_vnd=5_000_000))
    h = w.household()
    a = w.recorder.ok(w.allocate(h, amount_vnd=5_000_000), 201)
    assert w.recorder.ok(w.recorder.get(f"/funds/{w.fund_id}"))["balances"] == []
    pending = w.recorder.post(f"/allocations/{a['allocation_id']}/reverse", {"reason": "Sai hộ"})
    assert pending.status_code == 202  # a reversal waits for a second person: nothing moved yet
    assert w.recorder.ok(w.recorder.get(f"/funds/{w.fund_id}"))["balances"] == []
    # asked twice while it waits: refused, naming the request
    twice = w.recorder.post(f"/allocations/{a['allocation_id']}/reverse", {"reason": "lại"})
    assert twice.status_code == 409 and twice.get_json()["approval_id"] == pending.get_json()["approval_id"]
    r = w.approved(pending)
    assert r["status"] == "reversed"
    assert w.recorder.post(f"/allocations/{a['allocation_id']}/reverse", {"reason": "lại"}).status_code == 409
    assert w.recorder.ok(w.recorder.get(f"/funds/{w.fund_id}"))["balances"] == [{"kind": "cash", "amount_vnd": 5_000_000}]
    again = w.recorder.ok(w.allocate(h, amount_vnd=5_000_000), 201)
    assert again["lines"][0]["contribution_id"] == c["contribution_id"]
    assert verify_journal() == []


def test_transfers_carry_lots_down_and_allocation_still_traces_to_the_donor(ctx):
    w = build_world(ctx)
    c1 = w.recorder.ok(w.contribute(amount_vnd=4_000_000, received_on="2025-03-01"))
    c2 = w.recorder.ok(w.contribute(amount_vnd=4_000_000, received_on="2025-03-02"))
    t = w.recorder.ok(w.recorder.post(f"/funds/{w.fund_id}/transfers", {
        "to_fund_id": w.commune_fund_id, "kind": "cash", "amount_vnd": 6_000_000}), 201)
    assert [(ln["contribution_id"], ln["amount_vnd"]) for ln in t["lines"]] == [
        (c1["contribution_id"], 4_000_000), (c2["contribution_id"], 2_000_000)]
    h = w.household()
    a = w.recorder.ok(w.allocate(h, fund_id=w.commune_fund_id, amount_vnd=5_000_000), 201)
    assert [ln["contribution_id"] for ln in a["lines"]] == [c1["contribution_id"], c2["contribution_id"]]
    # the commune fund passed part of it on: the transfer cannot be undone yet
    resp = w.recorder.post(f"/funds/{w.fund_id}/transfers/{t['transfer_id']}/reverse", {"reason": "nhầm"})
    assert resp.status_code == 409
    w.approved(w.recorder.post(f"/allocations/{a['allocation_id']}/reverse", {"reason": "nhầm"}))
    pending = w.recorder.post(f"/funds/{w.fund_id}/transfers/{t['transfer_id']}/reverse", {"reason": "nhầm"})
    assert pending.status_code == 202 and pending.get_json()["kind"] == "reversal_transfer"
    assert w.recorder.ok(w.recorder.get(f"/funds/{w.fund_id}"))["balances"] == [{"kind": "cash", "amount_vnd": 2_000_000}]
    r = w.approved(pending)
    assert r["status"] == "reversed"
    assert w.recorder.ok(w.recorder.get(f"/funds/{w.fund_id}"))["balances"] == [{"kind": "cash", "amount_vnd": 8_000_000}]
    # a transfer beyond the balance, or to itself, is refused
    assert w.recorder.post(f"/funds/{w.fund_id}/transfers", {
        "to_fund_id": w.commune_fund_id, "kind": "cash", "amount_vnd": 8_000_001}).status_code == 409
    assert w.recorder.post(f"/funds/{w.fund_id}/transfers", {
        "to_fund_id": w.fund_id, "kind": "cash", "amount_vnd": 1}).status_code == 422
    # the void of a transferred contribution names the transfer
    t2 = w.recorder.ok(w.recorder.post(f"/funds/{w.fund_id}/transfers", {
        "to_fund_id": w.commune_fund_id, "kind": "cash", "amount_vnd": 1_000_000}), 201)
    resp = w.recorder.post(f"/contributions/{c1['contribution_id']}/void", {"reason": "x"})
    assert resp.status_code == 409 and resp.get_json()["transfers"] == [t2["transfer_id"]]
    assert verify_journal() == []


def test_labour_allocation_is_counted_in_person_days_and_value(ctx):
    w = build_world(ctx)
    w.recorder.ok(w.contribute(kind="labour", method="labour", person_days="10", day_rate_vnd=300_000))
    h = w.household()
    a = w.recorder.ok(w.allocate(h, kind="labour", person_days="2.25"), 201)
    assert a["person_days"] == "2.25" and a["value_vnd"] == 675_000
    funding = w.recorder.ok(w.recorder.get(f"/households/{h}"))["funding"]
    assert funding["labour_person_days"] == "2.25" and funding["labour_vnd"] == 675_000
    assert w.allocate(h, kind="labour", person_days="2", day_rate_vnd=1).status_code == 422


def test_a_contribution_funds_households_of_its_own_campaign_only(ctx):
    w = build_world(ctx)
    other = w.admin.ok(w.admin.post("/campaigns", {"code": "LU2025", "name": "Hỗ trợ sau bão Yagi",
                                                   "area_code": "01", "starts_on": "2025-01-01"}))
    flood_gift = w.recorder.ok(w.contribute(campaign_id=other["campaign_id"], amount_vnd=5_000_000))
    h = w.household()  # of the housing campaign
    assert w.allocate(h, amount_vnd=1_000_000).status_code == 409
    assert w.allocate(h, amount_vnd=1_000_000, source_contribution_id=flood_gift["contribution_id"]).status_code == 409
    housing_gift = w.recorder.ok(w.contribute(amount_vnd=2_000_000))
    a = w.recorder.ok(w.allocate(h, amount_vnd=1_000_000), 201)
    assert [ln["contribution_id"] for ln in a["lines"]] == [housing_gift["contribution_id"]]
