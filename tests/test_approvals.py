"""Maker–checker: allocations above the threshold, overrides of a household's approved
amount, voids and reversals wait for a second user with the approver role (or an admin).
Until approved they move nothing; approving carries them out once, every rule checked
again then; the requester never decides its own request."""
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from ledger.approvals.models import Approval
from ledger.approvals.service import count_pending, needs_approval
from ledger.auth.models import User
from ledger.extensions import db
from ledger.journal.models import JournalTransaction
from ledger.journal.service import verify_journal
from tests.helpers import Api, api_for, build_world, make_user
from tests.web_helpers import login, page_token, post_form, text_of


def journal_size():
    db.session.rollback()  # see what the requests (and threads) committed
    return db.session.scalar(select(func.count()).select_from(JournalTransaction))


def balances(w, fund_id=None):
    return w.recorder.ok(w.recorder.get(f"/funds/{fund_id or w.fund_id}"))["balances"]


def user_id(username):
    return db.session.scalar(select(User.id).where(User.username == username))


# --- the rule ----------------------------------------------------------------------------------

def test_the_rule_voids_and_reversals_always_allocations_above_the_threshold_or_overriding(ctx):
    assert needs_approval("void") and needs_approval("reversal_allocation") and needs_approval("reversal_transfer")
    assert not needs_approval("allocation", value_vnd=50_000_000)  # exactly the threshold: none
    assert needs_approval("allocation", value_vnd=50_000_001)
    assert needs_approval("allocation", value_vnd=1, override=True)
    with pytest.raises(ValueError):
        needs_approval("transfer")


def test_threshold_boundary_through_the_api_and_the_value_of_materials(ctx):
    w = build_world(ctx)
    w.recorder.ok(w.contribute(amount_vnd=200_000_000), 201)
    h1, h2 = w.household(), w.household(head_name="Lê Văn Bình")  # new build: 60,000,000 approved
    at = w.recorder.ok(w.allocate(h1, amount_vnd=50_000_000), 201)  # = threshold: done at once
    assert at["value_vnd"] == 50_000_000
    before = journal_size()
    above = w.allocate(h2, amount_vnd=50_000_001)
    assert above.status_code == 202
    assert above.get_json()["value_vnd"] == 50_000_001 and above.get_json()["reason"] is None
    assert journal_size() == before
    # materials are valued at their lots' unit value: 600 bags at 95,000 = 57,000,000 > threshold
    w.recorder.ok(w.contribute(kind="material", method="in_kind", item="Xi măng PCB40", unit="bao",
                               quantity="1000", unit_value_vnd=95_000), 201)
    h3 = w.household(head_name="Đỗ Thị Hoa")
    cement = w.allocate(h3, kind="material", item="xi măng pcb40", unit="Bao", quantity="600")
    assert cement.status_code == 202 and cement.get_json()["value_vnd"] == 57_000_000
    assert cement.get_json()["request"]["quantity"] == "600.000"
    assert w.recorder.ok(w.allocate(h3, kind="material", item="xi măng pcb40", unit="Bao", quantity="500"),
                         201)["value_vnd"] == 47_500_000
    # the threshold is a setting
    threshold = ctx.config["LEDGER_APPROVAL_THRESHOLD_VND"]
    ctx.config["LEDGER_APPROVAL_THRESHOLD_VND"] = 1_000_000
    try:
        assert w.allocate(h3, amount_vnd=1_000_000).status_code == 201
        assert w.allocate(h3, amount_vnd=1_000_001).status_code == 202
    finally:
        ctx.config["LEDGER_APPROVAL_THRESHOLD_VND"] = threshold


def test_obviously_bad_requests_are_refused_at_once_with_the_same_errors(ctx):
    w = build_world(ctx)
    c = w.recorder.ok(w.contribute(amount_vnd=60_000_000), 201)
    h = w.household()
    # more than the fund holds, above the threshold: refused now, not left waiting
    resp = w.allocate(h, amount_vnd=60_000_001)
    assert resp.status_code == 409 and resp.get_json()["available"] == "60000000"
    # past the approved amount without a reason: refused now
    resp = w.allocate(h, amount_vnd=60_000_000, override_reason=None)
    assert resp.status_code == 202  # exactly the approved amount, above the threshold
    h2 = w.household(support_type="repair")
    assert w.allocate(h2, amount_vnd=30_000_001).status_code == 409
    # a void while an allocation draws on it: refused now, naming it
    a = w.recorder.ok(w.allocate(h2, amount_vnd=1_000_000), 201)
    resp = w.recorder.post(f"/contributions/{c['contribution_id']}/void", {"reason": "Nhập nhầm"})
    assert resp.status_code == 409 and resp.get_json()["allocations"] == [a["allocation_id"]]
    assert w.recorder.post("/contributions/999/void", {"reason": "x"}).status_code == 404
    assert w.recorder.post(f"/contributions/{c['contribution_id']}/void", {"reason": " "}).status_code == 422
    # an auditor asks for nothing
    make_user("kiemtoan", "auditor")
    auditor = api_for(ctx, "kiemtoan")
    assert auditor.post(f"/allocations/{a['allocation_id']}/reverse", {"reason": "x"}).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Approval)) == 1


# --- pending moves nothing; approving carries it out once ---------------------------------------

def test_a_pending_void_moves_nothing_and_its_approval_voids_once(ctx):
    w = build_world(ctx)
    c = w.recorder.ok(w.contribute(amount_vnd=5_000_000), 201)
    number = c["receipt"]["number"]
    before = journal_size()
    resp = w.recorder.post(f"/contributions/{c['contribution_id']}/void", {"reason": "Nhập trùng giao dịch"})
    assert resp.status_code == 202
    pending = resp.get_json()
    assert {k: pending[k] for k in ("status", "kind", "url", "reason", "record_type", "contribution_id")} == {
        "status": "pending", "kind": "void", "url": f"/api/v1/approvals/{pending['approval_id']}",
        "reason": "Nhập trùng giao dịch", "record_type": "contribution", "contribution_id": c["contribution_id"]}
    assert resp.headers["Location"] == pending["url"]
    assert number in pending["summary"] and "5.000.000" in pending["summary"]
    assert pending["leaf_index"] is None and pending["record"] is None
    # nothing moved: journal, balances, the contribution, its receipt
    assert journal_size() == before
    assert balances(w) == [{"kind": "cash", "amount_vnd": 5_000_000}]
    assert w.recorder.ok(w.recorder.get(f"/contributions/{c['contribution_id']}"))["status"] == "valid"
    assert w.recorder.client.get(f"/api/v1/receipts/{number}").get_json()["status"] == "valid"
    assert verify_journal() == []

    approved = w.approve(resp)
    assert approved["status"] == "approved" and approved["decided_by"] == "approver"
    assert approved["contribution_id"] == c["contribution_id"] and approved["record"]["status"] == "voided"
    assert approved["leaf_index"] == approved["record"]["void_leaf_index"] == before
    assert journal_size() == before + 1
    assert balances(w) == []
    receipt = w.recorder.client.get(f"/api/v1/receipts/{number}").get_json()
    assert receipt["status"] == "voided" and receipt["void"]["statement"]["reason"] == "Nhập trùng giao dịch"
    # approving twice does nothing twice; a decided request is not rejected either
    again = w.approver.post(f"/approvals/{pending['approval_id']}/approve")
    assert again.status_code == 409 and again.get_json()["approval_status"] == "approved"
    assert w.admin.post(f"/approvals/{pending['approval_id']}/reject", {"reason": "muộn"}).status_code == 409
    assert journal_size() == before + 1
    assert w.recorder.ok(w.recorder.get(f"/approvals/{pending['approval_id']}"))["status"] == "approved"
    assert verify_journal() == []


def test_the_requester_cannot_decide_nor_can_a_recorder_or_an_auditor(ctx):
    w = build_world(ctx)
    c = w.recorder.ok(w.contribute(amount_vnd=5_000_000), 201)
    make_user("kiemtoan", "auditor")
    auditor = api_for(ctx, "kiemtoan")
    resp = w.approver.post(f"/contributions/{c['contribution_id']}/void", {"reason": "Sai quỹ"})
    approval_id = resp.get_json()["approval_id"]
    before = journal_size()
    for api in (w.approver, w.recorder, auditor):
        refused = api.post(f"/approvals/{approval_id}/approve")
        assert refused.status_code == 403 and refused.content_type == "application/problem+json"
        assert api.post(f"/approvals/{approval_id}/reject", {"reason": "không"}).status_code == 403
    assert "another approver" in w.approver.post(f"/approvals/{approval_id}/approve", lang="en").get_json()["detail"]
    assert journal_size() == before
    assert w.recorder.ok(w.recorder.get(f"/approvals/{approval_id}"))["status"] == "pending"
    # an admin may decide (it is not the requester)
    assert w.approve(resp, api=w.admin)["decided_by"] == "admin"
    # nor does an admin decide its own request
    c2 = w.recorder.ok(w.contribute(amount_vnd=1_000_000), 201)
    mine = w.admin.post(f"/contributions/{c2['contribution_id']}/void", {"reason": "Trùng"})
    assert w.admin.post(f"/approvals/{mine.get_json()['approval_id']}/approve").status_code == 403
    assert w.approve(mine)["status"] == "approved"


def test_approval_checks_every_rule_again_and_a_refusal_leaves_it_pending(ctx):
    w = build_world(ctx)
    w.recorder.ok(w.contribute(amount_vnd=60_000_000), 201)
    big, small = w.household(), w.household(head_name="Lê Văn Bình")
    resp = w.allocate(big, amount_vnd=55_000_000, note="Xây mới nhà sau bão")
    assert resp.status_code == 202
    approval_id = resp.get_json()["approval_id"]
    # meanwhile the pool is drawn on: 50,000,000 left
    w.recorder.ok(w.allocate(small, amount_vnd=10_000_000), 201)
    before = journal_size()
    refused = w.approver.post(f"/approvals/{approval_id}/approve")
    assert refused.status_code == 409 and refused.content_type == "application/problem+json"
    body = refused.get_json()
    assert body["available"] == "50000000" and body["approval_id"] == approval_id
    assert "pending" in w.approver.post(f"/approvals/{approval_id}/approve", lang="en").get_json()["detail"]
    assert journal_size() == before
    assert w.recorder.ok(w.recorder.get(f"/approvals/{approval_id}"))["status"] == "pending"
    # once the fund holds enough again it can be approved
    w.recorder.ok(w.contribute(amount_vnd=10_000_000, received_on="2025-03-02"), 201)
    approved = w.approve(resp)
    allocation = approved["record"]
    assert allocation["value_vnd"] == 55_000_000 and allocation["note"] == "Xây mới nhà sau bão"
    assert approved["allocation_id"] == allocation["allocation_id"]
    assert approved["leaf_index"] == allocation["leaf_index"] == before + 1  # seqs stay gapless
    assert balances(w) == [{"kind": "cash", "amount_vnd": 5_000_000}]
    # the household's approved amount is checked again too
    w.recorder.ok(w.contribute(amount_vnd=100_000_000, received_on="2025-03-03"), 201)
    third = w.household(head_name="Đỗ Thị Hoa")  # approved 60,000,000
    resp = w.allocate(third, amount_vnd=55_000_000)
    assert resp.status_code == 202
    w.recorder.ok(w.allocate(third, amount_vnd=10_000_000), 201)
    refused = w.approver.post(f"/approvals/{resp.get_json()['approval_id']}/approve")
    assert refused.status_code == 409
    assert (refused.get_json()["approved_amount_vnd"], refused.get_json()["would_be_vnd"]) == (60_000_000, 65_000_000)
    assert verify_journal() == []


def test_a_void_waiting_while_an_allocation_draws_on_the_contribution_is_refused_on_approval(ctx):
    w = build_world(ctx)
    c = w.recorder.ok(w.contribute(amount_vnd=5_000_000), 201)
    resp = w.recorder.post(f"/contributions/{c['contribution_id']}/void", {"reason": "Nhập nhầm"})
    a = w.recorder.ok(w.allocate(w.household(), amount_vnd=1_000_000), 201)
    refused = w.approver.post(f"/approvals/{resp.get_json()['approval_id']}/approve")
    assert refused.status_code == 409 and refused.get_json()["allocations"] == [a["allocation_id"]]
    assert w.recorder.ok(w.recorder.get(f"/contributions/{c['contribution_id']}"))["status"] == "valid"
    # the allocation reversed (approved), the void goes through
    w.approved(w.recorder.post(f"/allocations/{a['allocation_id']}/reverse", {"reason": "Nhầm hộ"}))
    assert w.approved(resp)["status"] == "voided"


def test_an_override_waits_and_is_checked_against_the_approved_amount_when_approved(ctx):
    w = build_world(ctx)
    w.recorder.ok(w.contribute(amount_vnd=80_000_000), 201)
    h = w.household(support_type="repair")  # approved 30,000,000
    w.recorder.ok(w.allocate(h, amount_vnd=29_000_000), 201)
    resp = w.allocate(h, amount_vnd=2_000_000, override_reason="Giá vật liệu tăng sau lũ")
    body = resp.get_json()
    assert resp.status_code == 202 and body["reason"] == "Giá vật liệu tăng sau lũ"
    assert body["request"]["override_reason"] == "Giá vật liệu tăng sau lũ"
    assert any("approved amount" in why for why in w.recorder.get(
        f"/approvals/{body['approval_id']}", lang="en").get_json()["needs_approval_because"])
    a = w.approved(resp)
    assert a["override_reason"] == "Giá vật liệu tăng sau lũ"
    assert w.recorder.ok(w.recorder.get(f"/households/{h}"))["funding"]["remaining_need_vnd"] == 0


def test_reject_needs_a_reason_moves_nothing_and_the_request_can_be_made_again(ctx):
    w = build_world(ctx)
    c = w.recorder.ok(w.contribute(amount_vnd=5_000_000), 201)
    resp = w.recorder.post(f"/contributions/{c['contribution_id']}/void", {"reason": "Nhập nhầm"})
    approval_id = resp.get_json()["approval_id"]
    before = journal_size()
    assert w.approver.post(f"/approvals/{approval_id}/reject", {"reason": "  "}).status_code == 422
    assert w.approver.post(f"/approvals/{approval_id}/reject", {}).status_code == 422
    rejected = w.approver.ok(w.approver.post(f"/approvals/{approval_id}/reject",
                                             {"reason": "Chứng từ ngân hàng khớp, không trùng"}), 200)
    assert rejected["status"] == "rejected" and rejected["decision_reason"] == "Chứng từ ngân hàng khớp, không trùng"
    assert rejected["record"] is None and rejected["leaf_index"] is None
    assert journal_size() == before
    assert w.approver.post(f"/approvals/{approval_id}/approve").status_code == 409
    assert w.recorder.ok(w.recorder.get(f"/contributions/{c['contribution_id']}"))["status"] == "valid"
    # rejected is decided: the same void may be asked again
    assert w.recorder.post(f"/contributions/{c['contribution_id']}/void", {"reason": "Nhập nhầm"}).status_code == 202


def test_lists_by_status_and_area_and_the_dashboard_count(ctx):
    w = build_world(ctx)
    c1 = w.recorder.ok(w.contribute(amount_vnd=5_000_000), 201)
    c2 = w.recorder.ok(w.contribute(amount_vnd=3_000_000), 201)
    c3 = w.recorder.ok(w.contribute(fund_id=w.commune_fund_id, amount_vnd=2_000_000), 201)
    first = w.recorder.post(f"/contributions/{c1['contribution_id']}/void", {"reason": "a"})
    w.approver.post(f"/contributions/{c2['contribution_id']}/void", {"reason": "b"})
    w.recorder.post(f"/contributions/{c3['contribution_id']}/void", {"reason": "c"})
    w.approve(first)
    pending = w.recorder.ok(w.recorder.get("/approvals", status="pending"))
    assert [a["reason"] for a in pending] == ["c", "b"]  # newest first
    assert [a["reason"] for a in w.recorder.ok(w.recorder.get("/approvals"))] == ["c", "b", "a"]
    assert [a["reason"] for a in w.recorder.ok(w.recorder.get("/approvals", status="approved"))] == ["a"]
    assert w.recorder.get("/approvals", status="later").status_code == 422
    # a commune approver sees and decides only its commune's requests
    make_user("duyet_xa", "approver", "00004")
    commune = api_for(ctx, "duyet_xa")
    assert [a["reason"] for a in commune.ok(commune.get("/approvals", status="pending"))] == ["c"]
    b_id = pending[1]["approval_id"]
    assert commune.get(f"/approvals/{b_id}").status_code == 403
    assert commune.post(f"/approvals/{b_id}/approve").status_code == 403
    # the dashboard's count: what this approver may decide; for others, all waiting in the area
    db.session.rollback()
    users = {u.username: u for u in db.session.scalars(select(User))}
    assert count_pending(users["approver"]) == 1  # its own ("b") is not for it to decide
    assert count_pending(users["admin"]) == 2
    assert count_pending(users["recorder"]) == 2
    assert count_pending(users["duyet_xa"]) == 1
    assert w.recorder.get("/approvals/999").status_code == 404


def test_approve_with_an_idempotency_key_answers_the_first_answer(ctx):
    w = build_world(ctx)
    c = w.recorder.ok(w.contribute(amount_vnd=5_000_000), 201)
    first_void = w.recorder.post(f"/contributions/{c['contribution_id']}/void", {"reason": "x"}, key="void-1")
    replay = w.recorder.post(f"/contributions/{c['contribution_id']}/void", {"reason": "x"}, key="void-1")
    assert first_void.status_code == replay.status_code == 202 and replay.headers["Idempotent-Replayed"] == "true"
    assert first_void.get_json() == replay.get_json()
    assert db.session.scalar(select(func.count()).select_from(Approval)) == 1
    path = f"/approvals/{first_void.get_json()['approval_id']}/approve"
    first = w.approver.post(path, key="approve-1")
    again = w.approver.post(path, key="approve-1")
    assert first.status_code == again.status_code == 200 and first.get_json() == again.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert w.approver.post(path, key="approve-2").status_code == 409


def test_summaries_are_in_the_readers_language(ctx):
    w = build_world(ctx)
    w.recorder.ok(w.contribute(amount_vnd=80_000_000), 201)
    h = w.household(head_name="Trần Thị Mai")
    resp = w.allocate(h, amount_vnd=52_500_000)
    approval_id = resp.get_json()["approval_id"]
    en = w.recorder.get(f"/approvals/{approval_id}", lang="en").get_json()
    assert en["summary"] == ("Allocate 52.500.000\u00a0₫ from fund HNVNN to the household of Trần Thị Mai "
                             "(Phường Ba Đình).")
    assert en["needs_approval_because"] == ["It is worth 52.500.000\u00a0₫, more than 50.000.000\u00a0₫."]
    vi = w.recorder.get(f"/approvals/{approval_id}").get_json()
    assert "52.500.000" in vi["summary"] and "Trần Thị Mai" in vi["summary"] and "HNVNN" in vi["summary"]


def test_the_openapi_document_describes_the_approvals_and_the_202_answers(ctx):
    spec = ctx.test_client().get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    assert {"/api/v1/approvals", "/api/v1/approvals/{approval_id}", "/api/v1/approvals/{approval_id}/approve",
            "/api/v1/approvals/{approval_id}/reject"} <= set(paths)
    for path in ("/api/v1/allocations", "/api/v1/contributions/{contribution_id}/void",
                 "/api/v1/allocations/{allocation_id}/reverse",
                 "/api/v1/funds/{fund_id}/transfers/{transfer_id}/reverse"):
        assert "202" in paths[path]["post"]["responses"], path


# --- two approvers at once ---------------------------------------------------------------------

def test_approvers_racing_on_one_request_carry_it_out_once(ctx):
    w = build_world(ctx)
    make_user("duyet2", "approver", "01")
    tokens = [w.approver.token, api_for(ctx, "duyet2").token, w.admin.token]
    c = w.recorder.ok(w.contribute(amount_vnd=60_000_000), 201)
    resp = w.allocate(w.household(), amount_vnd=55_000_000)
    void = w.recorder.post(f"/contributions/{c['contribution_id']}/void", {"reason": "x"})
    assert void.status_code == 202  # nothing draws on it yet: the void may wait too
    path = f"/approvals/{resp.get_json()['approval_id']}/approve"
    before = journal_size()

    def approve(i):
        return Api(ctx.test_client(), tokens[i % len(tokens)]).post(path).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(approve, range(8)))
    assert statuses == [200] + [409] * 7, statuses
    assert journal_size() == before + 1
    assert verify_journal() == []
    # and the waiting void, approved now, is refused: the allocation draws on it
    assert w.approver.post(f"/approvals/{void.get_json()['approval_id']}/approve").status_code == 409


# --- pages -------------------------------------------------------------------------------------

def _form_token(html: str, action: str) -> str:
    form = re.search(r'<form[^>]*action="' + re.escape(action) + r'".*?</form>', html, re.S).group(0)
    return re.search(r'name="form_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="form_token"', form).group(1)


def _pages_world(ctx):
    w = build_world(ctx)
    make_user("kiemtoan", "auditor")
    c = w.recorder.ok(w.contribute(amount_vnd=5_000_000), 201)
    resp = w.recorder.post(f"/contributions/{c['contribution_id']}/void", {"reason": "Nhập trùng giao dịch"})
    return w, c, resp.get_json()["approval_id"]


def test_the_approver_sees_what_and_why_and_approves_on_the_page_once(ctx):
    w, c, approval_id = _pages_world(ctx)
    client = ctx.test_client()
    login(client, "approver")
    listing = client.get("/staff/approvals")
    assert listing.status_code == 200
    html = text_of(listing)
    assert c["receipt"]["number"] in html and "Nhập trùng giao dịch" in html and "5.000.000" in html
    detail = f"/staff/approvals/{approval_id}"
    html = text_of(client.get(detail))
    assert "Nhập trùng giao dịch" in html and f'action="{detail}/approve"' in html and f'action="{detail}/reject"' in html
    token = _form_token(html, f"{detail}/approve")
    before = journal_size()
    done = post_form(client, f"{detail}/approve", {"form_token": token}, form_page=detail)
    assert done.status_code == 303 and done.headers["Location"].endswith(detail)
    assert journal_size() == before + 1
    # a double click: the same form again is done once, and says so
    twice = post_form(client, f"{detail}/approve", {"form_token": token}, form_page=detail)
    assert twice.status_code == 303 and journal_size() == before + 1
    html = text_of(client.get(detail))
    assert f'action="{detail}/approve"' not in html
    assert w.recorder.ok(w.recorder.get(f"/contributions/{c['contribution_id']}"))["status"] == "voided"
    # another form (a reload of an old page): refused with a clear message, nothing done
    again = post_form(client, f"{detail}/approve", {}, form_page=detail)
    assert again.status_code == 409 and journal_size() == before + 1


def test_rejecting_on_the_page_needs_a_reason(ctx):
    w, c, approval_id = _pages_world(ctx)
    client = ctx.test_client()
    login(client, "approver")
    detail = f"/staff/approvals/{approval_id}"
    blank = post_form(client, f"{detail}/reject", {"reason": "  "}, form_page=detail)
    assert blank.status_code == 422 and 'class="error"' in text_of(blank)
    assert w.recorder.ok(w.recorder.get(f"/approvals/{approval_id}"))["status"] == "pending"
    done = post_form(client, f"{detail}/reject", {"reason": "Không trùng: hai lần chuyển khoản"}, form_page=detail)
    assert done.status_code == 303
    html = text_of(client.get(detail))
    assert "Không trùng: hai lần chuyển khoản" in html and f'action="{detail}/reject"' not in html
    assert w.recorder.ok(w.recorder.get(f"/approvals/{approval_id}"))["status"] == "rejected"


def test_recorders_auditors_and_the_requester_read_but_do_not_decide_on_the_pages(ctx):
    w, c, approval_id = _pages_world(ctx)
    detail = f"/staff/approvals/{approval_id}"
    for username in ("recorder", "kiemtoan"):
        client = ctx.test_client()
        login(client, username)
        assert client.get("/staff/approvals").status_code == 200
        html = text_of(client.get(detail))
        assert "Nhập trùng giao dịch" in html and f'action="{detail}/approve"' not in html
        token = page_token(client, detail)
        assert client.post(f"{detail}/approve", data={"csrf_token": token}).status_code == 403
        assert client.post(f"{detail}/reject", data={"csrf_token": token, "reason": "x"}).status_code == 403
    # the approver's own request: seen, not decided by it
    c2 = w.recorder.ok(w.contribute(amount_vnd=1_000_000), 201)
    own = w.approver.post(f"/contributions/{c2['contribution_id']}/void", {"reason": "Trùng"}).get_json()
    client = ctx.test_client()
    login(client, "approver")
    own_page = f"/staff/approvals/{own['approval_id']}"
    html = text_of(client.get(own_page))
    assert f'action="{own_page}/approve"' not in html
    refused = post_form(client, f"{own_page}/approve", {}, form_page=own_page)
    assert refused.status_code == 403
    assert w.recorder.ok(w.recorder.get(f"/approvals/{own['approval_id']}"))["status"] == "pending"
    # outside the user's area: not shown
    make_user("thu_79", "recorder", "79")
    client = ctx.test_client()
    login(client, "thu_79")
    assert client.get(detail).status_code == 403
    assert "Nhập trùng giao dịch" not in text_of(client.get("/staff/approvals"))
    assert client.get("/staff/approvals/999").status_code == 404


def test_the_pages_in_english(ctx):
    w, c, approval_id = _pages_world(ctx)
    client = ctx.test_client()
    login(client, "approver")
    html = text_of(client.get(f"/staff/approvals/{approval_id}?lang=en"))
    assert "Void contribution " + c["receipt"]["number"] in html
    assert "Voids and reversals are always approved by a second person." in html
