"""Contributions of the three kinds, receipts' numbers, validation, voids."""
from sqlalchemy import func, select

from ledger.extensions import db
from ledger.journal.models import JournalTransaction
from tests.helpers import build_world


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_cash_contribution_posts_a_balanced_transaction_and_numbers_its_receipt(ctx):
    w = build_world(ctx)
    first = w.recorder.ok(w.contribute(amount_vnd=5_000_000), 201)
    second = w.recorder.ok(w.contribute(amount_vnd=7_000_000, received_on="2025-04-02"), 201)
    other_year = w.recorder.ok(w.contribute(received_on="2024-12-31"), 422)
    assert first["receipt"]["number"] == "HNVNN-2025-000001"
    assert first["receipt"]["url"].startswith("https://chungtay.example.vn/r/HNVNN-2025-000001?s=")
    assert second["receipt"]["number"] == "HNVNN-2025-000002"
    assert (first["leaf_index"], second["leaf_index"]) == (0, 1)
    assert first["amount_vnd"] == 5_000_000 and first["value_vnd"] == 5_000_000
    # received before the campaign began: refused
    assert "received_on" in other_year["errors"]
    txn = db.session.scalar(select(JournalTransaction).where(JournalTransaction.seq == 0))
    assert sum(p.units for p in txn.postings) == 0
    fund = w.recorder.ok(w.recorder.get(f"/funds/{w.fund_id}"))
    assert fund["balances"] == [{"kind": "cash", "amount_vnd": 12_000_000}]


def test_material_is_valued_once_rounding_half_up_and_labour_by_day_rate(ctx):
    w = build_world(ctx)
    cement = w.recorder.ok(w.contribute(kind="material", method="in_kind", item="Xi măng PCB40", unit="bao",
                                        quantity="2.5", unit_value_vnd=95_001), 201)
    assert cement["quantity"] == "2.500" and cement["value_vnd"] == 237_503  # 237,502.5 rounded half up
    labour = w.recorder.ok(w.contribute(kind="labour", method="labour", person_days="3.5",
                                        day_rate_vnd=250_000), 201)
    assert labour["person_days"] == "3.50" and labour["value_vnd"] == 875_000
    # the same item in other case is the same commodity
    w.recorder.ok(w.contribute(kind="material", method="in_kind", item="xi măng pcb40", unit="Bao",
                               quantity="1", unit_value_vnd=95_000), 201)
    fund = w.recorder.ok(w.recorder.get(f"/funds/{w.fund_id}"))
    cement_balance = [b for b in fund["balances"] if b["kind"] == "material"]
    assert cement_balance == [{"kind": "material", "item": "Xi măng PCB40", "unit": "bao", "quantity": "3.500"}]


def test_the_answer_to_a_recording_is_what_was_stored(ctx):
    """The answer is built from what was written, not read back: it must say exactly what
    a later read says, for each kind, with a memo, an earmark and a pledge."""
    w = build_world(ctx)
    pledge = w.recorder.ok(w.recorder.post("/pledges", {
        "campaign_id": w.campaign_id, "fund_id": w.fund_id, "donor_id": w.donor_id, "kind": "cash",
        "amount_vnd": 9_000_000, "due_on": "2025-12-31", "earmark_area_code": "00004"}), 201)
    answers = [
        w.recorder.ok(w.contribute(amount_vnd=5_000_000, memo="  Ủng hộ  xóa nhà tạm ",
                                   pledge_id=pledge["pledge_id"]), 201),
        w.recorder.ok(w.contribute(kind="material", method="in_kind", item="Xi măng PCB40", unit="bao",
                                   quantity="2.5", unit_value_vnd=95_001, donor_id=None), 201),
        w.recorder.ok(w.contribute(kind="labour", method="labour", person_days="3.5", day_rate_vnd=250_000,
                                   bank_reference=None), 201)]
    assert answers[0]["earmark_area_code"] == "00004" and answers[0]["memo"] == "Ủng hộ xóa nhà tạm"
    for answer in answers:
        assert w.recorder.ok(w.recorder.get(f"/contributions/{answer['contribution_id']}")) == answer


def test_bad_input_is_refused_with_field_errors_and_changes_nothing(ctx):
    w = build_world(ctx)
    cases = [
        ({"amount_vnd": 1.5}, "amount_vnd"),
        ({"amount_vnd": 5_000_000.0}, "amount_vnd"),
        ({"amount_vnd": 0}, "amount_vnd"),
        ({"amount_vnd": 10**13}, "amount_vnd"),
        ({"received_on": "2999-01-01"}, "received_on"),
        ({"method": "in_kind"}, "method"),
        ({"surprise": "field"}, "surprise"),
        ({"kind": "material", "method": "in_kind", "item": "Thép", "unit": "kg", "quantity": 12.5,
          "unit_value_vnd": 20000}, "quantity"),
        ({"kind": "material", "method": "in_kind", "item": "Thép", "unit": "kg", "quantity": "1.2345",
          "unit_value_vnd": 20000}, "quantity"),
        ({"kind": "material", "method": "in_kind", "item": "Thép", "unit": "kg", "quantity": "3"}, "unit_value_vnd"),
        ({"kind": "labour", "method": "labour", "person_days": "1.005", "day_rate_vnd": 1}, "person_days"),
    ]
    for overrides, field in cases:
        resp = w.contribute(**overrides)
        assert resp.status_code == 422, (overrides, resp.get_json())
        assert resp.content_type == "application/problem+json"
        assert field in resp.get_json()["errors"], (overrides, resp.get_json())
    from ledger.contributions.models import Contribution

    assert count(Contribution) == 0 and count(JournalTransaction) == 0
    assert w.contribute(donor_id=999).status_code == 404
    assert w.contribute(fund_id=999).status_code == 404


def test_text_is_nfc_normalised_and_trimmed(ctx):
    w = build_world(ctx)
    decomposed = "  Nguye\u0302\u0303n   Thi\u0323 Hoa  "
    donor = w.recorder.ok(w.recorder.post("/donors", {"kind": "individual", "name": decomposed}), 201)
    assert donor["name"] == "Nguyễn Thị Hoa"


def test_anonymous_donor_display_and_public_receipt_has_no_personal_data(ctx):
    w = build_world(ctx)
    donor = w.recorder.ok(w.recorder.post("/donors", {
        "kind": "individual", "name": "Phạm Văn Bình", "public_display": "anonymous",
        "id_number": "001090001234", "phone": "0912 345 678", "address": "12 Ngõ 5, Đội Cấn"}), 201)
    assert donor["phone"] == "0912345678"
    c = w.recorder.ok(w.contribute(donor_id=donor["donor_id"]), 201)
    public = w.recorder.client.get(f"/api/v1/receipts/{c['receipt']['number']}")
    text = public.get_data(as_text=True)
    assert public.status_code == 200
    assert "Nhà hảo tâm ẩn danh" in text
    for secret in ("Phạm Văn Bình", "001090001234", "0912345678", "Đội Cấn"):
        assert secret not in text
    leaf = db.session.scalar(select(JournalTransaction.public_json).where(JournalTransaction.seq == c["leaf_index"]))
    for secret in ("Phạm Văn Bình", "001090001234", "0912345678", "Đội Cấn"):
        assert secret not in leaf


def test_void_is_a_reversal_refused_while_allocations_draw_on_it(ctx):
    w = build_world(ctx)
    c = w.recorder.ok(w.contribute(amount_vnd=5_000_000), 201)
    h = w.household()
    a = w.recorder.ok(w.allocate(h, amount_vnd=2_000_000), 201)
    resp = w.recorder.post(f"/contributions/{c['contribution_id']}/void", {"reason": "Nhập nhầm"})
    assert resp.status_code == 409
    assert resp.get_json()["allocations"] == [a["allocation_id"]]
    assert str(a["allocation_id"]) in resp.get_json()["detail"]
    w.approved(w.recorder.post(f"/allocations/{a['allocation_id']}/reverse", {"reason": "Phân bổ nhầm hộ"}))
    pending = w.recorder.post(f"/contributions/{c['contribution_id']}/void", {"reason": "Nhập nhầm"})
    assert pending.status_code == 202 and pending.get_json()["kind"] == "void"
    assert w.recorder.ok(w.recorder.get(f"/contributions/{c['contribution_id']}"))["status"] == "valid"
    voided = w.approved(pending)
    assert voided["status"] == "voided"
    assert w.recorder.post(f"/contributions/{c['contribution_id']}/void", {"reason": "lại"}).status_code == 409
    assert w.recorder.post(f"/contributions/{c['contribution_id']}/void", {"reason": "  "}).status_code == 422
    # both stay in the history; the fund holds nothing of it
    assert w.recorder.ok(w.recorder.get(f"/funds/{w.fund_id}"))["balances"] == []
    assert count(JournalTransaction) == 4  # contribution, allocation, its reversal, the void
    public = w.recorder.client.get(f"/api/v1/receipts/{c['receipt']['number']}").get_json()
    assert public["status"] == "voided"


def test_receipt_numbers_are_per_fund_and_year(ctx):
    w = build_world(ctx)
    a = w.recorder.ok(w.contribute(fund_id=w.commune_fund_id, received_on="2025-05-01"), 201)
    b = w.recorder.ok(w.contribute(received_on="2025-05-01"), 201)
    c = w.recorder.ok(w.contribute(fund_id=w.commune_fund_id, received_on="2025-05-02"), 201)
    assert [x["receipt"]["number"] for x in (a, b, c)] == [
        "BADINH-2025-000001", "HNVNN-2025-000001", "BADINH-2025-000002"]


def test_list_filters_and_search_without_diacritics(ctx):
    w = build_world(ctx)
    w.recorder.ok(w.contribute(amount_vnd=1_000_000), 201)
    w.recorder.ok(w.contribute(donor_id=w.state_donor_id, amount_vnd=2_000_000, received_on="2025-06-01"), 201)
    found = w.recorder.ok(w.recorder.get("/contributions", q="sua viet nam"))
    assert [c["donor_id"] for c in found] == [w.donor_id]
    in_june = w.recorder.ok(w.recorder.get("/contributions", received_from="2025-06-01"))
    assert [c["amount_vnd"] for c in in_june] == [2_000_000]
    resp = w.recorder.get("/contributions", page=1, page_size=1)
    assert len(resp.get_json()) == 1 and '"total": 2' in resp.headers["X-Pagination"]
