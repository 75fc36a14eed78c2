"""Auditors read private fields (ID numbers, phones, addresses, memos) only once an admin
granted it; the staff who record always do; the grant and its withdrawal are in the
user's history."""
from __future__ import annotations

from ledger.auth.models import User
from ledger.extensions import db

from .helpers import api_for, build_world, make_user
from .web_helpers import login, post_form, text_of

CCCD, PHONE, ADDRESS = "001085012345", "0912345678", "Số 12 ngõ 34 phố Đội Cấn"


def _world(app):
    w = build_world(app)
    make_user("auditor", "auditor")
    w.auditor = api_for(app, "auditor")
    donor = w.recorder.ok(w.recorder.post("/donors", {"kind": "individual", "name": "Trần Thị Bình",
                                                      "id_number": CCCD, "phone": PHONE, "address": ADDRESS}))
    w.recorder.ok(w.recorder.patch(f"/donors/{donor['donor_id']}", {"phone": "0987654321"}))
    w.private_donor = donor["donor_id"]
    w.household_id = w.household(id_number="001090054321", phone="0911222333", address="Thôn 3 xã Ba Vì")
    gift = w.recorder.ok(w.contribute(donor_id=donor["donor_id"], memo="Chuyen khoan tu 0912345678"), 201)
    w.gift = gift["contribution_id"]
    return w


def _grant(app, value: bool):
    client = app.test_client()
    login(client, "admin")
    auditor = db.session.scalar(db.select(User).where(User.username == "auditor"))
    form = {"display_name": auditor.display_name, "role": "auditor", "area_code": ""}
    if value:
        form["sees_private_data"] = "y"
    resp = post_form(client, f"/staff/users/{auditor.id}", form)
    assert resp.status_code == 302, text_of(resp)[:500]
    return client, auditor.id


def test_an_auditor_without_the_grant_reads_no_private_field(ctx):
    w = _world(ctx)
    donor = w.auditor.ok(w.auditor.get(f"/donors/{w.private_donor}"))
    assert donor["name"] == "Trần Thị Bình"
    assert not {"id_number", "phone", "address"} & set(donor)
    # The history says the phone changed, not to what.
    changes = [c["changes"] for c in donor["history"]]
    assert {"phone": ["…", "…"]} in changes
    household = w.auditor.ok(w.auditor.get(f"/households/{w.household_id}"))
    assert not {"id_number", "phone", "address"} & set(household)
    gift = w.auditor.ok(w.auditor.get(f"/contributions/{w.gift}"))
    assert "memo" not in gift
    listed = w.auditor.ok(w.auditor.get("/donors"))
    assert all("phone" not in d for d in listed)
    # The pages say the same.
    client = ctx.test_client()
    login(client, "auditor")
    for path in (f"/staff/donors/{w.private_donor}", f"/staff/households/{w.household_id}",
                 f"/staff/contributions/{w.gift}"):
        page = text_of(client.get(path))
        for secret in (CCCD, PHONE, "0987654321", ADDRESS, "001090054321", "0911222333", "Thôn 3 xã Ba Vì"):
            assert secret not in page, (path, secret)
    # The recorder, who entered them, reads them.
    mine = w.recorder.ok(w.recorder.get(f"/donors/{w.private_donor}"))
    assert mine["id_number"] == CCCD and mine["phone"] == "0987654321" and mine["address"] == ADDRESS
    assert w.recorder.ok(w.recorder.get(f"/contributions/{w.gift}"))["memo"].endswith("0912345678")


def test_an_admin_grants_and_withdraws_and_the_history_keeps_both(ctx):
    w = _world(ctx)
    admin_client, auditor_id = _grant(ctx, True)
    donor = w.auditor.ok(w.auditor.get(f"/donors/{w.private_donor}"))
    assert donor["id_number"] == CCCD and donor["phone"] == "0987654321"
    client = ctx.test_client()
    login(client, "auditor")
    assert "001090054321" in text_of(client.get(f"/staff/households/{w.household_id}"))

    _grant(ctx, False)
    assert "phone" not in w.auditor.ok(w.auditor.get(f"/donors/{w.private_donor}"))
    page = text_of(admin_client.get(f"/staff/users/{auditor_id}"))
    assert "không còn được xem dữ liệu riêng tư" in page  # the withdrawal
    assert page.count("được xem dữ liệu riêng tư") == 2  # and the grant before it


def test_an_admin_cannot_grant_itself(ctx):
    from ledger.auth.service import update_user
    from ledger.problems import Conflict

    build_world(ctx)
    admin = db.session.scalar(db.select(User).where(User.username == "admin"))
    try:
        update_user(admin, admin.id, sees_private_data=True)
    except Conflict:
        pass
    else:
        raise AssertionError("an admin changed its own grant")


def test_the_private_households_export_needs_the_grant(ctx):
    import csv
    import io

    from receipts.exports import BOM

    w = _world(ctx)
    refused = w.auditor.get("/exports/households_private.csv")
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
    assert "quyền" in refused.get_json()["detail"]
    plain = w.auditor.get("/exports/households.csv").get_data()
    assert b"001090054321" not in plain and b"0911222333" not in plain
    _grant(ctx, True)
    data = w.auditor.get("/exports/households_private.csv").get_data()
    rows = list(csv.DictReader(io.StringIO(data[len(BOM):].decode("utf-8"), newline="")))
    assert [(r["Số định danh (riêng tư)"], r["Điện thoại (riêng tư)"], r["Địa chỉ (riêng tư)"]) for r in rows] == [
        ("001090054321", "0911222333", "Thôn 3 xã Ba Vì")]
    # The recorder's role may not export at all; the admin may, private fields included.
    assert w.recorder.get("/exports/households_private.csv").status_code == 403
    assert w.admin.get("/exports/households_private.csv").status_code == 200
