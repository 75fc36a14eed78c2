"""Pledges and their derived status, donors with validation and history, households."""
from datetime import date

from ledger.extensions import db
from ledger.pledges.models import Pledge
from ledger.pledges.service import pledge_status
from tests.helpers import build_world


def pledge(w, **overrides):
    body = {"campaign_id": w.campaign_id, "fund_id": w.fund_id, "donor_id": w.donor_id, "kind": "cash",
            "amount_vnd": 10_000_000, "due_on": "2025-06-30"}
    body.update(overrides)
    if body["kind"] != "cash":
        body.pop("amount_vnd")
    return w.recorder.post("/pledges", body)


def test_pledge_status_open_partial_fulfilled_overdue_cancelled(ctx):
    w = build_world(ctx)
    p = w.recorder.ok(pledge(w, due_on="2099-12-31"), 201)
    assert p["code"] == f"P{p['pledge_id']:06d}" and p["status"] == "open"
    c = w.recorder.ok(w.contribute(amount_vnd=4_000_000, pledge_id=p["pledge_id"]), 201)
    got = w.recorder.ok(w.recorder.get(f"/pledges/{p['pledge_id']}"))
    assert (got["status"], got["fulfilled"]) == ("partial", "4000000")
    w.recorder.ok(w.contribute(amount_vnd=6_000_000, pledge_id=p["pledge_id"]), 201)
    assert w.recorder.ok(w.recorder.get(f"/pledges/{p['pledge_id']}"))["status"] == "fulfilled"
    # voiding a contribution takes it out of the fulfilment
    pending = w.recorder.post(f"/contributions/{c['contribution_id']}/void", {"reason": "Trùng"})
    assert w.recorder.ok(w.recorder.get(f"/pledges/{p['pledge_id']}"))["status"] == "fulfilled"  # not yet approved
    w.approve(pending)
    assert w.recorder.ok(w.recorder.get(f"/pledges/{p['pledge_id']}"))["status"] == "partial"
    assert [x["pledge_id"] for x in w.recorder.ok(w.recorder.get("/pledges", q="sua viet", area_code="01"))] == [
        p["pledge_id"]]
    assert w.recorder.ok(w.recorder.get("/pledges", area_code="79")) == []
    late = w.recorder.ok(pledge(w, due_on="2025-01-31"), 201)
    assert late["status"] == "overdue"
    row = db.session.get(Pledge, late["pledge_id"])
    assert pledge_status(row, today=date(2025, 1, 31)) == "open"
    cancelled = w.recorder.ok(w.recorder.post(f"/pledges/{late['pledge_id']}/cancel", {"reason": "Doanh nghiệp rút"}))
    assert cancelled["status"] == "cancelled" and cancelled["cancel_reason"] == "Doanh nghiệp rút"
    assert w.contribute(pledge_id=late["pledge_id"]).status_code == 409
    assert w.recorder.post(f"/pledges/{late['pledge_id']}/cancel", {"reason": "x"}).status_code == 409


def test_contribution_must_match_its_pledge_and_inherits_its_earmark(ctx):
    w = build_world(ctx)
    p = w.recorder.ok(pledge(w, earmark_area_code="00004"), 201)
    assert w.contribute(pledge_id=p["pledge_id"], donor_id=w.state_donor_id).status_code == 422
    assert w.contribute(pledge_id=p["pledge_id"], kind="labour", method="labour", person_days="1",
                        day_rate_vnd=1).status_code == 422
    assert w.contribute(pledge_id=p["pledge_id"], earmark_area_code="00008").status_code == 422
    c = w.recorder.ok(w.contribute(pledge_id=p["pledge_id"]), 201)
    assert c["earmark_area_code"] == "00004"
    material = w.recorder.ok(pledge(w, kind="material", item="Thép phi 10", unit="kg", quantity="500",
                                    unit_value_vnd=18_000), 201)
    assert material["quantity"] == "500.000" and material["value_vnd"] == 9_000_000


def test_donor_validation_search_and_history(ctx):
    w = build_world(ctx)
    bad = [
        {"kind": "business", "name": "Công ty không mã"},
        {"kind": "business", "name": "Công ty sai mã", "tax_code": "0300588568"},
        {"kind": "individual", "name": "A", "id_number": "12345"},
        {"kind": "individual", "name": "A", "phone": "0241234567"},
        {"kind": "state", "name": "Ngân sách"},
        {"kind": "robot", "name": "R2"},
    ]
    for body in bad:
        assert w.recorder.post("/donors", body).status_code == 422, body
    branch = w.recorder.ok(w.recorder.post("/donors", {"kind": "business", "name": "Chi nhánh Viettel",
                                                       "tax_code": "0100109106001"}), 201)
    assert branch["tax_code"] == "0100109106-001"
    w.recorder.ok(w.recorder.post("/donors", {"kind": "individual", "name": "Nguyễn Văn Ấn"}), 201)
    found = w.recorder.ok(w.recorder.get("/donors", q="nguyen van an"))
    assert [d["name"] for d in found] == ["Nguyễn Văn Ấn"]
    by_tax = w.recorder.ok(w.recorder.get("/donors", q="0300588569"))
    assert [d["donor_id"] for d in by_tax] == [w.donor_id]
    edited = w.recorder.ok(w.recorder.patch(f"/donors/{w.donor_id}", {"name": "Vinamilk", "public_display": "anonymous"}))
    assert edited["display_name"] == "Nhà hảo tâm ẩn danh"
    assert edited["history"][0]["changes"]["name"] == ["Công ty Cổ phần Sữa Việt Nam", "Vinamilk"]
    assert w.recorder.patch(f"/donors/{w.donor_id}", {"tax_code": None}).status_code == 422
    assert w.recorder.patch(f"/donors/{w.donor_id}", {"kind": "union"}).status_code == 422


def test_household_defaults_to_the_campaign_norm_and_keeps_its_history(ctx):
    w = build_world(ctx)
    new = w.household(support_type="new_build")
    repair = w.household(support_type="repair")
    assert w.recorder.ok(w.recorder.get(f"/households/{new}"))["approved_amount_vnd"] == 60_000_000
    assert w.recorder.ok(w.recorder.get(f"/households/{repair}"))["approved_amount_vnd"] == 30_000_000
    w.recorder.ok(w.recorder.patch(f"/households/{repair}", {"approved_amount_vnd": 35_000_000,
                                                             "own_contribution_vnd": 5_000_000}))
    from sqlalchemy import select

    from ledger.households.models import HouseholdChange

    change = db.session.scalars(select(HouseholdChange)).one()
    assert change.changes["approved_amount_vnd"] == [30_000_000, 35_000_000]
    history = w.recorder.ok(w.recorder.get(f"/households/{repair}"))["history"]
    assert history[0]["changes"]["own_contribution_vnd"] == [0, 5_000_000]
    funding = w.recorder.ok(w.recorder.get(f"/households/{repair}"))["funding"]
    assert funding["own_vnd"] == 5_000_000 and funding["total_vnd"] == 5_000_000
    listed = w.recorder.ok(w.recorder.get("/households", area_code="00004", status="approved", q="nguyen van"))
    assert {h["household_id"] for h in listed} == {new, repair}
    assert w.recorder.post("/households", {"campaign_id": w.campaign_id, "commune_code": "00004", "head_name": "X",
                                           "category": "rich", "support_type": "repair"}).status_code == 422
    # a household of Hồ Chí Minh City is not one of Hà Nội's campaign
    outside = w.admin.post("/households", {"campaign_id": w.campaign_id, "commune_code": "26734", "head_name": "X",
                                           "category": "poor", "support_type": "repair"})
    assert outside.status_code == 422 and "commune_code" in outside.get_json()["errors"]
