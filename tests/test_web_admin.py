"""Administrators' and auditors' pages: users and roles, the audit trail, the dashboard, and
which role sees which page and link."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from ledger.audit import service as audit
from ledger.auth import service as auth
from ledger.auth.models import User, UserChange
from ledger.dashboard.service import dashboard_for
from ledger.extensions import db
from ledger.fields import today_in_vietnam
from tests.helpers import PASSWORD, api_for, build_world, make_user
from tests.web_helpers import login, page_token, post_form, text_of

ROLES = ("admin", "recorder", "approver", "auditor")


def _client(app, username, english=False):
    client = app.test_client()
    if english:
        client.set_cookie("lang", "en")
    login(client, username)
    return client


def _user(username) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


# --- who may open what ---------------------------------------------------------------------
PAGES = {  # path -> the roles it admits
    "/staff/": set(ROLES),
    "/staff/users": {"admin"},
    "/staff/users/new": {"admin"},
    "/staff/users/{target}": {"admin"},
    "/staff/audit": {"admin", "auditor"},
}


def test_every_role_on_every_page(ctx):
    target = make_user("target", "recorder", "01")
    for role in ROLES:
        make_user(f"u_{role}", role)
    anonymous = ctx.test_client()
    for role in ROLES:
        client = _client(ctx, f"u_{role}")
        for path, allowed in PAGES.items():
            url = path.format(target=target.id)
            resp = client.get(url)
            if role in allowed:
                assert resp.status_code == 200, (role, url, resp.status_code)
            else:
                assert resp.status_code == 403, (role, url, resp.status_code)
                assert 'class="card"' in text_of(resp)  # the readable forbidden page, not Werkzeug's
        # the writes are refused too, not only the forms
        if role != "admin":
            for url in (f"/staff/users/{target.id}/active", f"/staff/users/{target.id}/password"):
                resp = client.post(url, data={"csrf_token": page_token(client, "/staff/"), "active": "0"})
                assert resp.status_code == 403, (role, url)
        resp = anonymous.get(path.format(target=target.id) if "{" in path else "/staff/audit")
        assert resp.status_code == 302 and "/staff/login" in resp.headers["Location"]
    assert _user("target").active


def test_the_menu_shows_each_role_only_the_pages_it_may_open(ctx):
    for role in ROLES:
        make_user(f"u_{role}", role)
    seen = {}
    for role in ROLES:
        body = text_of(_client(ctx, f"u_{role}").get("/staff/"))
        nav = body[body.index('class="main wide-only"'):]
        seen[role] = set(re.findall(r'href="(/staff/[a-z/_-]*)"', nav[:nav.index("</nav>")]))
        assert "/staff/" in seen[role]
        assert 'class="menu narrow-only"' in body and "<summary>" in body  # the phone's menu
    assert "/staff/users" in seen["admin"] and "/staff/audit" in seen["admin"]
    assert "/staff/audit" in seen["auditor"] and "/staff/users" not in seen["auditor"]
    for role in ("recorder", "approver"):
        assert "/staff/users" not in seen[role] and "/staff/audit" not in seen[role]


def test_a_link_to_a_missing_page_is_left_out_not_broken(ctx):
    from ledger.web import NAV_ITEMS, page_allowed

    make_user("boss", "admin")
    client = _client(ctx, "boss")
    with ctx.test_request_context("/staff/"):
        from flask_login import login_user

        login_user(_user("boss"))
        assert not page_allowed("no_such_pages.anything")
        assert page_allowed("audit_pages.audit_trail")
    assert all(endpoint in ctx.view_functions for endpoint, _label in NAV_ITEMS)  # every menu entry is a page
    assert client.get("/staff/").status_code == 200


# --- users ---------------------------------------------------------------------------------
def _new_user_form(**overrides):
    form = {"username": "thu", "display_name": "Nguyễn Thị Thu", "role": "recorder", "area_code": "00004",
            "password": "mat khau du dai", "password_again": "mat khau du dai"}
    form.update(overrides)
    return form


def test_an_admin_creates_a_user_who_can_then_log_in(ctx):
    boss = make_user("boss", "admin")
    client = _client(ctx, "boss")
    resp = post_form(client, "/staff/users/new", _new_user_form())
    assert resp.status_code == 302
    thu = _user("thu")
    assert (thu.display_name, thu.role, thu.area_code, thu.created_by_id) == ("Nguyễn Thị Thu", "recorder",
                                                                              "00004", boss.id)
    page = client.get(resp.headers["Location"])
    assert page.status_code == 200 and "mat khau du dai" not in text_of(page)
    assert "Nguyễn Thị Thu" in text_of(client.get("/staff/users"))
    login(ctx.test_client(), "thu", "mat khau du dai")


@pytest.mark.parametrize("overrides, field, message, status", [
    ({"username": "boss"}, "username", "The username boss is taken.", 409),
    ({"area_code": "99999"}, "area_code", "Unknown area code 99999.", 422),
    ({"password": "short", "password_again": "short"}, "password", "at least 10 characters", 422),
    ({"password_again": "something else"}, "password_again", "The two passwords differ.", 422),
    ({"role": "superuser"}, "role", "Not a valid choice", 422),
    ({"username": "có dấu"}, "username", "Letters without accents", 422),
    ({"display_name": ""}, "display_name", "This field is required.", 422),
])
def test_user_creation_refusals_keep_what_was_typed_and_say_where(ctx, overrides, field, message, status):
    make_user("boss", "admin")
    client = _client(ctx, "boss", english=True)
    before = db.session.scalar(select(db.func.count(User.id)))
    resp = post_form(client, "/staff/users/new", _new_user_form(**overrides))
    assert resp.status_code == status
    body = text_of(resp)
    assert message in body
    # the message is in the field's own box
    box = body[body.index(f'name="{field}"'):]
    assert message in box[:box.index("</div>")]
    assert "Nguyễn Thị Thu" in body or field == "display_name"  # what was typed stays
    assert "mat khau du dai" not in body  # but never a password
    assert db.session.scalar(select(db.func.count(User.id))) == before


def test_an_area_admin_manages_only_its_area(ctx):
    make_user("hn_admin", "admin", "01")
    hcm = make_user("hcm_user", "recorder", "79")
    client = _client(ctx, "hn_admin", english=True)
    resp = post_form(client, "/staff/users/new", _new_user_form(area_code=""))
    assert resp.status_code == 403 and "outside your area" in text_of(resp)
    resp = post_form(client, "/staff/users/new", _new_user_form(area_code="26734"))
    assert resp.status_code == 403
    assert post_form(client, "/staff/users/new", _new_user_form(area_code="00008")).status_code == 302
    listed = text_of(client.get("/staff/users"))
    assert "thu" in listed and "hcm_user" not in listed
    assert client.get(f"/staff/users/{hcm.id}").status_code == 200  # the page opens, but nothing changes
    resp = post_form(client, f"/staff/users/{hcm.id}", {"display_name": "x", "role": "auditor", "area_code": "79"})
    assert resp.status_code == 403 and _user("hcm_user").role == "recorder"


def test_an_admin_changes_role_and_area_and_the_history_keeps_it(ctx):
    boss = make_user("boss", "admin")
    thu = make_user("thu", "recorder", "00004")
    client = _client(ctx, "boss", english=True)
    resp = post_form(client, f"/staff/users/{thu.id}", {"display_name": "Thu", "role": "approver", "area_code": "01"})
    assert resp.status_code == 302
    thu = _user("thu")
    assert (thu.role, thu.area_code, thu.display_name) == ("approver", "01", "Thu")
    change = db.session.scalar(select(UserChange).where(UserChange.user_id == thu.id))
    assert change.changed_by_id == boss.id
    assert change.changes["role"] == ["recorder", "approver"] and change.changes["area_code"] == ["00004", "01"]
    page = text_of(client.get(f"/staff/users/{thu.id}"))
    assert "role: recorder → approver" in page
    # empty area: the whole country
    assert post_form(client, f"/staff/users/{thu.id}", {"display_name": "Thu", "role": "approver",
                                                        "area_code": ""}).status_code == 302
    assert _user("thu").area_code is None
    resp = post_form(client, f"/staff/users/{thu.id}", {"display_name": "Thu", "role": "approver",
                                                        "area_code": "12345"})
    assert resp.status_code == 422 and "Unknown area code 12345." in text_of(resp)


def test_an_admin_cannot_change_its_own_role_or_deactivate_itself(ctx):
    boss = make_user("boss", "admin")
    client = _client(ctx, "boss", english=True)
    resp = post_form(client, f"/staff/users/{boss.id}", {"display_name": "Boss", "role": "auditor", "area_code": ""})
    assert resp.status_code == 409 and "You cannot change your own role" in text_of(resp)
    resp = post_form(client, f"/staff/users/{boss.id}/active", {"active": "0"}, form_page=f"/staff/users/{boss.id}")
    assert resp.status_code == 409 and "You cannot deactivate yourself." in text_of(resp)
    boss = _user("boss")
    assert boss.role == "admin" and boss.active
    # its own display name it may change
    assert post_form(client, f"/staff/users/{boss.id}", {"display_name": "Chị Hoa", "role": "admin",
                                                         "area_code": ""}).status_code == 302
    assert _user("boss").display_name == "Chị Hoa"


def test_deactivate_and_reactivate_a_user(ctx):
    make_user("boss", "admin")
    thu = make_user("thu", "recorder")
    thu_client = _client(ctx, "thu")
    token, _ = auth.issue_token("thu", PASSWORD, 600)
    client = _client(ctx, "boss")
    resp = post_form(client, f"/staff/users/{thu.id}/active", {"active": "0"}, form_page=f"/staff/users/{thu.id}")
    assert resp.status_code == 302 and not _user("thu").active
    assert thu_client.get("/staff/").status_code == 302  # the session stopped
    assert ctx.test_client().get("/api/v1/donors", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    login(ctx.test_client(), "thu", expect_success=False)
    resp = post_form(client, f"/staff/users/{thu.id}/active", {"active": "1"}, form_page=f"/staff/users/{thu.id}")
    assert resp.status_code == 302 and _user("thu").active
    login(ctx.test_client(), "thu")
    changes = db.session.scalars(select(UserChange.changes).where(UserChange.user_id == thu.id)
                                 .order_by(UserChange.id)).all()
    assert changes == [{"active": [True, False]}, {"active": [False, True]}]


def test_an_admin_sets_a_new_password_which_lifts_a_lock(ctx):
    make_user("boss", "admin")
    thu = make_user("thu", "recorder")
    for _ in range(5):
        login(ctx.test_client(), "thu", "wrong password", expect_success=False)
    assert _user("thu").locked_until is not None
    client = _client(ctx, "boss", english=True)
    assert "Locked until" in text_of(client.get("/staff/users"))
    resp = post_form(client, f"/staff/users/{thu.id}/password", {"password": "short", "password_again": "short"},
                     form_page=f"/staff/users/{thu.id}")
    assert resp.status_code == 422 and "at least 10 characters" in text_of(resp)
    resp = post_form(client, f"/staff/users/{thu.id}/password",
                     {"password": "mot mat khau moi", "password_again": "mot mat khau moi"},
                     form_page=f"/staff/users/{thu.id}")
    assert resp.status_code == 302
    assert _user("thu").locked_until is None
    login(ctx.test_client(), "thu", "mot mat khau moi")
    history = db.session.scalars(select(UserChange.changes).where(UserChange.user_id == thu.id)).all()
    assert history == [{"password": ["", "changed"]}]  # that it changed, never what to


# --- dashboard -----------------------------------------------------------------------------
def _second_area(w):
    """Hồ Chí Minh City: its own fund, a contribution and a household, seen by its own users."""
    fund = w.admin.ok(w.admin.post("/funds", {"code": "HCMVNN", "name": "Quỹ TP HCM", "area_code": "79"}))
    make_user("national", "recorder")
    national = api_for(w.admin.client.application, "national")
    national.ok(national.post("/contributions", {
        "campaign_id": w.campaign_id, "fund_id": fund["fund_id"], "donor_id": w.donor_id, "kind": "cash",
        "method": "bank_transfer", "amount_vnd": 7_654_321, "received_on": "2025-03-01"}))
    return fund["fund_id"]


def test_the_dashboard_shows_received_allocated_and_remaining_by_kind(ctx):
    w = build_world(ctx)
    w.recorder.ok(w.contribute(amount_vnd=5_000_000))
    w.recorder.ok(w.contribute(kind="material", method="in_kind", item="Xi măng", unit="bao", quantity="100",
                               unit_value_vnd=90_000))
    w.recorder.ok(w.contribute(kind="labour", method="labour", person_days="12.5", day_rate_vnd=200_000))
    h = w.household()
    w.recorder.ok(w.allocate(h, amount_vnd=1_500_000))
    w.recorder.ok(w.allocate(h, kind="material", item="Xi măng", unit="bao", quantity="40"))
    w.household(approved=False)
    user = _user("recorder")
    board = dashboard_for(user)
    lines = {line.kind: line for line in board.resources}
    assert (lines["cash"].received, lines["cash"].allocated, lines["cash"].remaining) == (5_000_000, 1_500_000,
                                                                                          3_500_000)
    assert (lines["material"].received, lines["material"].remaining) == (100_000, 60_000)
    assert lines["labour"].remaining == 1250
    assert board.households_by_status["approved"] == 1 and board.households_by_status["surveyed"] == 1
    assert board.received_value_vnd == 5_000_000 + 9_000_000 + 2_500_000
    body = text_of(_client(ctx, "recorder").get("/staff/"))
    for text in ("5.000.000\u00a0₫", "1.500.000\u00a0₫", "3.500.000\u00a0₫", "Xi măng", ">60<", "12,5"):
        assert text in body, text


def test_a_user_of_another_area_does_not_see_these_numbers(ctx):
    w = build_world(ctx)
    w.recorder.ok(w.contribute(amount_vnd=5_000_000))
    _second_area(w)
    make_user("hcm", "auditor", "79")
    make_user("hn_commune", "recorder", "00008")
    hn = {line.commodity: line.received for line in dashboard_for(_user("recorder")).resources}
    hcm = {line.commodity: line.received for line in dashboard_for(_user("hcm")).resources}
    everyone = {line.commodity: line.received for line in dashboard_for(_user("national")).resources}
    assert hn == {"VND": 5_000_000} and hcm == {"VND": 7_654_321} and everyone == {"VND": 12_654_321}
    assert dashboard_for(_user("hn_commune")).resources == []
    hcm_page = text_of(_client(ctx, "hcm").get("/staff/"))
    assert "7.654.321" in hcm_page and "5.000.000" not in hcm_page and "12.654.321" not in hcm_page
    hn_page = text_of(_client(ctx, "recorder").get("/staff/"))
    assert "5.000.000" in hn_page and "7.654.321" not in hn_page


def test_a_commune_sees_what_its_province_transferred_to_it(ctx):
    w = build_world(ctx)
    w.recorder.ok(w.contribute(amount_vnd=5_000_000))
    w.admin.ok(w.admin.post(f"/funds/{w.fund_id}/transfers", {"to_fund_id": w.commune_fund_id, "kind": "cash",
                                                              "amount_vnd": 2_000_000}))
    make_user("badinh", "recorder", "00004")
    (line,) = dashboard_for(_user("badinh")).resources
    assert (line.received, line.transferred_in, line.remaining) == (0, 2_000_000, 2_000_000)
    (province,) = dashboard_for(_user("recorder")).resources
    assert (province.received, province.transferred_in, province.remaining) == (5_000_000, 0, 5_000_000)


def test_the_dashboard_lists_pledges_due_soon_and_overdue(ctx):
    w = build_world(ctx)
    today = today_in_vietnam()

    def pledge(due, amount=3_000_000):
        body = {"campaign_id": w.campaign_id, "fund_id": w.fund_id, "donor_id": w.donor_id, "kind": "cash",
                "amount_vnd": amount, "due_on": due.isoformat() if due else None}
        return w.recorder.ok(w.recorder.post("/pledges", body))

    soon = pledge(today + timedelta(days=10))
    pledge(today + timedelta(days=45))  # later: not listed
    late = pledge(today - timedelta(days=3), 4_000_000)
    done = pledge(today - timedelta(days=5), 1_000_000)
    w.recorder.ok(w.contribute(amount_vnd=1_000_000, pledge_id=done["pledge_id"]))
    cancelled = pledge(today + timedelta(days=2))
    w.recorder.ok(w.recorder.post(f"/pledges/{cancelled['pledge_id']}/cancel", {"reason": "Đổi kế hoạch"}))
    w.recorder.ok(w.contribute(amount_vnd=1_000_000, pledge_id=late["pledge_id"]))
    board = dashboard_for(_user("recorder"))
    assert [p.pledge_id for p in board.due_soon] == [soon["pledge_id"]] and board.due_soon_count == 1
    assert [p.pledge_id for p in board.overdue] == [late["pledge_id"]] and board.overdue_count == 1
    assert board.overdue[0].received == "1.000.000\u00a0₫"
    body = text_of(_client(ctx, "recorder").get("/staff/"))
    assert soon["code"] in body and late["code"] in body and cancelled["code"] not in body


def test_the_dashboard_counts_pending_approvals_when_the_approvals_part_can(ctx):
    w = build_world(ctx)
    board = dashboard_for(_user("recorder"))
    from ledger.approvals import service as approvals

    if hasattr(approvals, "count_pending"):
        assert board.pending_approvals == 0
    else:
        assert board.pending_approvals is None
    assert w is not None


# --- audit trail ---------------------------------------------------------------------------
def _busy_world(ctx):
    w = build_world(ctx)
    w.recorder.ok(w.contribute(amount_vnd=5_000_000))
    h = w.household()
    w.recorder.ok(w.allocate(h, amount_vnd=1_000_000))
    w.recorder.ok(w.recorder.patch(f"/donors/{w.donor_id}", {"phone": "0912345678"}))
    w.recorder.ok(w.recorder.patch(f"/households/{h}", {"id_number": "001099012345", "address": "Số 5 ngõ 7"}))
    make_user("auditor", "auditor")
    return w, h


def test_the_audit_trail_shows_who_did_what_without_personal_data(ctx):
    w, h = _busy_world(ctx)
    client = _client(ctx, "auditor", english=True)
    body = text_of(client.get("/staff/audit"))
    for text in ("Contribution recorded", "HNVNN-2025-000001", "Allocation", "Household created", "Donor edited",
                 "changed: phone", "Household edited", "recorder", "admin", "Fund created", "Campaign created"):
        assert text in body, text
    for private in ("0912345678", "001099012345", "Số 5 ngõ 7", "Nguyễn Văn An"):
        assert private not in body, private
    # each record links to its page, where that page exists
    links = set(re.findall(r'href="(/staff/(?:contributions|allocations|households|donors)/[0-9]+)"', body))
    assert {"/staff/contributions/1", "/staff/allocations/1", f"/staff/households/{h}",
            f"/staff/donors/{w.donor_id}"} <= links or "contribution_pages.show_contribution" not in ctx.view_functions
    assert "/staff/users/" not in body  # an auditor may not open users' pages: no links to them
    # newest first
    page = audit.audit_trail(_user("auditor"), audit.AuditFilters())
    moments = [e.at for e in page.events]
    assert moments == sorted(moments, reverse=True)
    assert (page.events[0].action, page.events[0].subject) == ("user_created", "auditor")
    assert page.events[1].action == "household_changed"


def test_the_audit_trail_filters_by_user_action_and_dates(ctx):
    w, h = _busy_world(ctx)
    viewer = _user("auditor")
    recorder, admin = _user("recorder"), _user("admin")
    by_admin = audit.audit_trail(viewer, audit.AuditFilters(user_id=admin.id)).events
    assert by_admin and all(e.actor_id == admin.id for e in by_admin)
    assert {e.action for e in by_admin} == {"campaign_created", "fund_created"}
    allocations = audit.audit_trail(viewer, audit.AuditFilters(action="allocation")).events
    assert [e.action for e in allocations] == ["allocation"]
    today = today_in_vietnam()
    assert len(audit.audit_trail(viewer, audit.AuditFilters(date_from=today, date_to=today)).events) >= 8
    assert audit.audit_trail(viewer, audit.AuditFilters(date_to=today - timedelta(days=1))).events == []
    assert audit.audit_trail(viewer, audit.AuditFilters(date_from=today + timedelta(days=1))).events == []
    client = _client(ctx, "auditor", english=True)
    body = text_of(client.get("/staff/audit", query_string={"user": recorder.id, "action": "contribution"}))
    assert "HNVNN-2025-000001" in body and "Campaign created" not in body.split("<tbody>")[1]
    body = text_of(client.get("/staff/audit", query_string={"date_from": "31/02/2025"}))
    assert "Enter a date as dd/mm/yyyy" in body
    yesterday = (today - timedelta(days=1)).strftime("%d/%m/%Y")
    body = text_of(client.get("/staff/audit", query_string={"date_to": yesterday}))
    assert "Nothing matches these filters." in body


def test_the_audit_trail_pages_without_losing_or_repeating_anything(ctx):
    w, h = _busy_world(ctx)
    for amount in range(1, 8):
        w.recorder.ok(w.contribute(amount_vnd=amount * 1000))
        if amount % 3 == 0:  # cancellations are read in time order, not id order
            p = w.recorder.ok(w.recorder.post("/pledges", {"campaign_id": w.campaign_id, "fund_id": w.fund_id,
                                                           "donor_id": w.donor_id, "kind": "cash",
                                                           "amount_vnd": 1000}))
            w.recorder.ok(w.recorder.post(f"/pledges/{p['pledge_id']}/cancel", {"reason": "Trùng"}))
    viewer = _user("auditor")
    everything = audit.audit_trail(viewer, audit.AuditFilters(), page_size=1000).events
    seen, cursor = [], None
    while True:
        page = audit.audit_trail(viewer, audit.AuditFilters(), cursor, page_size=4)
        assert len(page.events) <= 4
        seen.extend(page.events)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert [(e.source, e.key) for e in seen] == [(e.source, e.key) for e in everything]
    assert len({(e.source, e.key) for e in seen}) == len(seen) > 15
    assert {"pc", "p", "j"} <= {e.source for e in seen}
    client = _client(ctx, "auditor")
    first = text_of(client.get("/staff/audit"))
    assert 'rel="next"' not in first  # fewer than 50
    assert audit.decode_cursor("garbage!") == {}


def test_an_area_auditor_sees_only_its_area_in_the_trail(ctx):
    w, h = _busy_world(ctx)
    _second_area(w)
    make_user("hcm_auditor", "auditor", "79")
    events = audit.audit_trail(_user("hcm_auditor"), audit.AuditFilters()).events
    subjects = {e.subject for e in events}
    assert "HCMVNN-2025-000001" in subjects and "HNVNN-2025-000001" not in subjects
    assert not any(e.action in ("allocation", "household_created") for e in events)
    national = {e.subject for e in audit.audit_trail(_user("auditor"), audit.AuditFilters()).events}
    assert {"HCMVNN-2025-000001", "HNVNN-2025-000001"} <= national


def test_users_changes_and_voids_appear_in_the_trail(ctx):
    w = build_world(ctx)
    c = w.recorder.ok(w.contribute(amount_vnd=5_000_000))
    boss = _user("admin")
    thu = auth.create_user("thu", "mat khau du dai", "recorder", "01", created_by=boss)
    auth.update_user(boss, thu.id, role="approver")
    make_user("auditor", "auditor")
    # a void, as the ledger records it (through an approval when the approvals part asks one)
    from ledger.contributions.service import void_contribution

    result = void_contribution(_user("recorder"), c["contribution_id"], "Ghi nhầm số tiền")
    from ledger.approvals.models import Approval

    if isinstance(result, Approval):
        make_user("checker", "approver")
        from ledger.approvals.service import approve

        approve(_user("checker"), result.id)
    events = audit.audit_trail(_user("auditor"), audit.AuditFilters()).events
    kinds = [e.action for e in events]
    assert "user_created" in kinds and "user_changed" in kinds and "void" in kinds
    void = next(e for e in events if e.action == "void")
    assert void.subject == c["receipt"]["number"] and "Ghi nhầm số tiền" in void.summary
    changed = next(e for e in events if e.action == "user_changed")
    assert changed.subject == "thu" and "recorder → approver" in changed.summary
