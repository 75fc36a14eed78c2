"""The staff pages of the daily records, through the Flask test client: donors, pledges,
contributions (ending on the receipt), households and allocations; every form's success and
refusal, roles and areas, and a double submission that records once."""
from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from ledger.allocations.models import Allocation
from ledger.contributions.models import Contribution
from ledger.donors.models import Donor
from ledger.extensions import db
from ledger.households.models import Household
from ledger.pledges.models import Pledge
from tests.helpers import build_world, make_user
from tests.web_helpers import login, text_of

# --- reading pages ---------------------------------------------------------------------------


class _Fields(HTMLParser):
    """The form fields of a page (div.field as the form macro renders them): for each, the
    id of its input, whether it is marked wrong, and its error messages."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, dict] = {}
        self._stack: list[dict | None] = []
        self._in_error = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "div":
            classes = (attrs.get("class") or "").split()
            self._stack.append({"id": None, "errors": [], "wrong": "has-error" in classes}
                               if "field" in classes else None)
        current = next((f for f in reversed(self._stack) if f is not None), None)
        if current is None:
            return
        if tag in ("input", "select", "textarea") and current["id"] is None and attrs.get("id"):
            current["id"] = attrs["id"]
            current["value"] = attrs.get("value")
        if tag == "small" and "error" in (attrs.get("class") or ""):
            self._in_error = True
            current["errors"].append("")

    def handle_endtag(self, tag):
        if tag == "small":
            self._in_error = False
        if tag == "div" and self._stack:
            field = self._stack.pop()
            if field is not None and field["id"]:
                self.fields[field["id"]] = field

    def handle_data(self, data):
        if self._in_error:
            current = next(f for f in reversed(self._stack) if f is not None)
            current["errors"][-1] += data


def fields_of(resp) -> dict[str, dict]:
    parser = _Fields()
    parser.feed(text_of(resp))
    return parser.fields


def errors_of(resp) -> dict[str, list[str]]:
    """{field id: [message, ...]} of the fields the page marks wrong."""
    return {name: [e.strip() for e in f["errors"]] for name, f in fields_of(resp).items() if f["wrong"]}


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', html)
    assert match, f"no {name} on the page"
    return match.group(1)


def open_form(client, path: str) -> dict:
    """GET a form page: its CSRF token and one-time form token."""
    resp = client.get(path)
    assert resp.status_code == 200, (path, resp.status_code, text_of(resp)[:400])
    html = text_of(resp)
    return {"csrf_token": hidden(html, "csrf_token"), "form_token": hidden(html, "form_token")}


def send(client, path: str, data: dict, form_page: str | None = None, tokens: dict | None = None):
    """Fill in and send a form as a browser would: the tokens come from the form's page."""
    body = {**(tokens or open_form(client, form_page or path)), **data}
    return client.post(path, data=body)


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def follow(client, resp):
    assert resp.status_code == 303, (resp.status_code, text_of(resp)[:2000])
    return client.get(resp.headers["Location"])


@pytest.fixture()
def world(ctx):
    w = build_world(ctx)  # admin, recorder and approver of Hà Nội (01)
    make_user("auditor", "auditor")
    make_user("saigon", "recorder", "79")
    return w


def approve_waiting(w) -> int:
    """Approve, as the approver (a second person), every request waiting; how many."""
    from ledger.approvals.models import Approval

    db.session.expire_all()
    waiting = db.session.scalars(select(Approval.id).where(Approval.status == "pending")).all()
    for approval_id in waiting:
        w.approver.ok(w.approver.post(f"/approvals/{approval_id}/approve"), 200)
    db.session.expire_all()
    return len(waiting)


def client_of(app, username):
    client = app.test_client()
    login(client, username)
    return client


def cash(w, **overrides) -> dict:
    body = {"campaign_id": str(w.campaign_id), "fund_id": str(w.fund_id), "donor_id": str(w.donor_id),
            "kind": "cash", "amount_vnd": "1.500.000", "received_on": "01/03/2025", "method": "bank_transfer",
            "bank_reference": "FT25060123456"}
    body.update(overrides)
    return body


# --- what people type -------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "sent"), [
    ("1.500.000", "1500000"), ("1500000", "1500000"), ("1 500 000", "1500000"), ("1,500,000", "1500000"),
    ("1.500.000 ₫", "1500000"), ("1500000đ", "1500000"), ("  2.000 VND ", "2000"), ("1\u202f500\u202f000", "1500000"),
    ("1,5", "1,5"), ("1.5", "1.5"), ("1.500,000", "1.500,000"), ("1.50.000", "1.50.000"), ("-5", "-5"),
])
def test_amounts_as_typed_become_digits_or_stay_for_the_schema_to_refuse(typed, sent):
    from ledger.web.form_input import money_input

    assert money_input(typed) == sent


@pytest.mark.parametrize(("typed", "sent"), [
    ("12,5", "12.5"), ("12.5", "12.5"), ("12", "12"), ("1 200,5", "1200.5"), ("1.200,5", "1200.5"),
    ("1,200.5", "1200.5"), ("1.200.000", "1200000"), ("12,5,1", "12,5,1"), ("1e3", "1e3"), ("", ""),
])
def test_quantities_take_a_decimal_comma_or_point(typed, sent):
    from ledger.web.form_input import quantity_input

    assert quantity_input(typed) == sent


@pytest.mark.parametrize(("typed", "sent"), [
    ("01/03/2025", "2025-03-01"), ("1/3/2025", "2025-03-01"), ("01-03-2025", "2025-03-01"),
    ("01.03.2025", "2025-03-01"), ("2025-03-01", "2025-03-01"), ("31/02/2025", "2025-02-31"), ("mai", "mai"),
])
def test_dates_are_typed_day_first(typed, sent):
    from ledger.web.form_input import date_input

    assert date_input(typed) == sent


# --- donors -----------------------------------------------------------------------------------


def test_donors_are_created_searched_without_accents_edited_with_history(ctx, world):
    client = client_of(ctx, "recorder")
    resp = send(client, "/staff/donors/new", {"kind": "individual", "name": "  Nguyễn   Văn Ấn ",
                                              "public_display": "anonymous", "phone": "0912 345 678",
                                              "id_number": "001203004567", "address": "12 Hàng Bạc"})
    page = follow(client, resp)
    donor = db.session.scalar(select(Donor).where(Donor.name == "Nguyễn Văn Ấn"))
    assert donor is not None and donor.phone == "0912345678" and donor.public_display == "anonymous"
    html = text_of(page)
    assert "0912345678" in html and "001203004567" in html and "12 Hàng Bạc" in html  # staff see private fields

    listing = text_of(client.get("/staff/donors?q=nguyen van an"))
    assert "Nguyễn Văn Ấn" in listing and "Sữa Việt Nam" not in listing
    assert "Sữa Việt Nam" in text_of(client.get("/staff/donors?q=0300588569"))  # by tax code

    edit = f"/staff/donors/{donor.id}/edit"
    form = client.get(edit)
    assert fields_of(form)["phone"]["value"] == "0912345678"  # the form starts from what is recorded
    resp = send(client, edit, {"name": "Nguyễn Văn Ấn", "public_display": "named", "phone": "0987 654 321",
                               "id_number": "001203004567", "address": ""})
    html = text_of(follow(client, resp))
    db.session.expire_all()
    assert donor.phone == "0987654321" and donor.address is None and donor.public_display == "named"
    history = html[re.search(r'<table class="[^"]*\bhistory\b', html).start():]
    assert "0912345678" in history and "0987654321" in history and "12 Hàng Bạc" in history
    assert "recorder" in history  # by whom


def test_donor_form_refusals_are_said_at_their_fields_and_keep_what_was_typed(ctx, world):
    client = client_of(ctx, "recorder")
    resp = send(client, "/staff/donors/new", {"kind": "business", "name": "Công ty TNHH Ánh Dương",
                                              "tax_code": "0101234568", "phone": "12345"})
    assert resp.status_code == 422
    errors = errors_of(resp)
    assert set(errors) == {"tax_code", "phone"}
    assert fields_of(resp)["tax_code"]["value"] == "0101234568"
    assert "Công ty TNHH Ánh Dương" in text_of(resp)
    # A business without a tax code: the service's rule, said at the tax code.
    resp = send(client, "/staff/donors/new", {"kind": "business", "name": "Công ty TNHH Ánh Dương"})
    assert resp.status_code == 422 and set(errors_of(resp)) == {"tax_code"}
    resp = send(client, "/staff/donors/new", {"kind": "individual", "name": "   "})
    assert resp.status_code == 422 and set(errors_of(resp)) == {"name"}
    assert count(Donor) == 2  # only the world's


def test_donor_lookup_answers_json_for_the_contribution_form(ctx, world):
    client = client_of(ctx, "auditor")
    found = client.get("/staff/donors/lookup?q=sua viet").get_json()
    assert [d["id"] for d in found] == [world.donor_id]
    # Without JavaScript the search reloads the form, which chooses the one donor found.
    recorder = client_of(ctx, "recorder")
    for path in ("/staff/contributions/new", "/staff/pledges/new"):
        html = text_of(recorder.get(f"{path}?donor_q=sua+viet"))
        assert f'<option selected value="{world.donor_id}">' in html, path


# --- contributions and their receipt --------------------------------------------------------------


def test_a_cash_contribution_ends_on_its_receipt_with_print_and_download(ctx, world):
    client = client_of(ctx, "recorder")
    resp = send(client, "/staff/contributions/new", cash(world), form_page="/staff/contributions/new")
    page = follow(client, resp)
    html = text_of(page)
    contribution = db.session.scalar(select(Contribution))
    number = contribution.receipt_number
    assert contribution.units == 1_500_000 and contribution.received_on.isoformat() == "2025-03-01"
    assert number in html and "1.500.000" in html
    print_link = re.search(rf'<a class="button" href="(/api/v1/receipts/{number}\.pdf)" target="_blank"', html)
    assert print_link, "a Print button opening the public PDF in a new tab"
    download = re.search(r'href="(/staff/contributions/\d+/receipt\.pdf)"[^>]*download', html)
    assert download
    printed = client.get(print_link.group(1))
    assert printed.status_code == 200 and printed.mimetype == "application/pdf" and printed.data[:5] == b"%PDF-"
    kept = client.get(download.group(1))
    assert kept.status_code == 200 and kept.mimetype == "application/pdf" and kept.data[:5] == b"%PDF-"
    assert kept.headers["Content-Disposition"] == f'attachment; filename="{number}.pdf"'
    verify = re.search(rf'href="(https://chungtay\.example\.vn/r/{number}\?s=[^"]+)"', html)
    assert verify, "the public verification link"
    public = ctx.test_client().get(unescape(verify.group(1)).removeprefix("https://chungtay.example.vn"))
    assert public.status_code == 200


@pytest.mark.parametrize("typed", ["1.500.000", "1500000", "1 500 000", "1,500,000", "1.500.000 ₫", "1\u00a0500\u00a0000"])
def test_amounts_are_typed_with_or_without_separators(ctx, world, typed):
    client = client_of(ctx, "recorder")
    follow(client, send(client, "/staff/contributions/new", cash(world, amount_vnd=typed)))
    assert db.session.scalar(select(Contribution.units)) == 1_500_000


def test_materials_and_labour_take_a_decimal_comma_and_never_a_float(ctx, world):
    client = client_of(ctx, "recorder")
    material = cash(world, kind="material", method="", item="Xi măng PCB40", unit="bao", quantity="12,5",
                    unit_value_vnd="95.000", amount_vnd="typed before the kind was changed")
    html = text_of(follow(client, send(client, "/staff/contributions/new", material)))
    labour = cash(world, kind="labour", method="bank_transfer", person_days="3.5", day_rate_vnd="300 000")
    follow(client, send(client, "/staff/contributions/new", labour))
    rows = db.session.execute(select(Contribution.kind, Contribution.method, Contribution.units,
                                     Contribution.value_vnd).order_by(Contribution.id)).all()
    assert rows == [("material", "in_kind", 12_500, 1_187_500), ("labour", "labour", 350, 1_050_000)]
    assert "12,5 bao Xi măng PCB40" in html


def test_a_refused_contribution_says_what_and_where_and_keeps_what_was_typed(ctx, world):
    client = client_of(ctx, "recorder")
    path = "/staff/contributions/new"
    resp = send(client, path, cash(world, amount_vnd="1,5 triệu", memo="gọi lại chị Hoa"))
    assert resp.status_code == 422
    assert set(errors_of(resp)) == {"amount_vnd"}
    assert fields_of(resp)["amount_vnd"]["value"] == "1,5 triệu" and "gọi lại chị Hoa" in text_of(resp)
    assert fields_of(resp)["bank_reference"]["value"] == "FT25060123456"

    resp = send(client, path, cash(world, received_on="31/12/2999"))
    assert resp.status_code == 422 and set(errors_of(resp)) == {"received_on"}
    assert fields_of(resp)["received_on"]["value"] == "31/12/2999"
    resp = send(client, path, cash(world, received_on="31/02/2025"))
    assert resp.status_code == 422 and set(errors_of(resp)) == {"received_on"}
    resp = send(client, path, cash(world, received_on="15/12/2024"))  # before the campaign
    assert resp.status_code == 422 and set(errors_of(resp)) == {"received_on"}

    resp = send(client, path, cash(world, donor_id="999999"))
    assert resp.status_code == 404 and set(errors_of(resp)) == {"donor_id"}
    assert "999999" in text_of(resp)

    resp = send(client, path, cash(world, kind="material", item="Tôn", unit="tấm", quantity="12,5,1"))
    assert resp.status_code == 422 and set(errors_of(resp)) == {"quantity"}
    resp = send(client, path, cash(world, amount_vnd=""))
    assert resp.status_code == 422 and set(errors_of(resp)) == {"amount_vnd"}
    assert count(Contribution) == 0

    follow(client, send(client, path, cash(world, received_on="2025-03-01")))  # ISO is accepted too
    assert count(Contribution) == 1


def test_a_double_submission_records_once(ctx, world):
    client = client_of(ctx, "recorder")
    tokens = open_form(client, "/staff/contributions/new")
    first = send(client, "/staff/contributions/new", cash(world), tokens=tokens)
    second = send(client, "/staff/contributions/new", cash(world), tokens=tokens)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert count(Contribution) == 1
    assert "1.500.000" in text_of(client.get(second.headers["Location"]))
    # The same form sent again with other fields (Back, change, send): nothing new, and said.
    third = send(client, "/staff/contributions/new", cash(world, amount_vnd="2.000.000"), tokens=tokens)
    assert third.status_code == 409 and count(Contribution) == 1
    assert first.headers["Location"] in text_of(third)
    assert hidden(text_of(third), "form_token") != tokens["form_token"]  # a fresh form to send
    # A refused submission keeps nothing: corrected, the same form records.
    tokens = open_form(client, "/staff/contributions/new")
    assert send(client, "/staff/contributions/new", cash(world, amount_vnd="x"), tokens=tokens).status_code == 422
    assert send(client, "/staff/contributions/new", cash(world), tokens=tokens).status_code == 303
    assert count(Contribution) == 2


def test_clicks_racing_with_one_form_record_once(ctx, world):
    """A double click sends the same form twice at once: one contribution, one receipt, and
    both answers lead to it (SQLite: BEGIN IMMEDIATE; PostgreSQL: the token's unique key)."""
    from concurrent.futures import ThreadPoolExecutor

    client = client_of(ctx, "recorder")
    tokens = open_form(client, "/staff/contributions/new")
    cookie = client.get_cookie("session").value

    def click(_):
        browser = ctx.test_client()
        browser.set_cookie("session", cookie)
        resp = browser.post("/staff/contributions/new", data={**tokens, **cash(world)})
        return resp.status_code, resp.headers.get("Location")

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(click, range(6)))
    assert {status for status, _ in answers} == {303}, answers
    assert len({location for _, location in answers}) == 1
    db.session.rollback()
    assert count(Contribution) == 1


def test_a_contribution_fulfils_a_pledge_of_its_donor(ctx, world):
    client = client_of(ctx, "recorder")
    follow(client, send(client, "/staff/pledges/new", {
        "campaign_id": str(world.campaign_id), "fund_id": str(world.fund_id), "donor_id": str(world.donor_id),
        "kind": "cash", "amount_vnd": "5.000.000", "due_on": "30/06/2099"}, form_page="/staff/pledges/new"))
    pledge = db.session.scalar(select(Pledge))
    form = client.get(f"/staff/contributions/new?donor_id={world.donor_id}&pledge_id={pledge.id}")
    assert f'<option selected value="{pledge.id}">' in text_of(form)
    options = client.get(f"/staff/pledges/for-donor?donor_id={world.donor_id}").get_json()
    assert [o["id"] for o in options] == [str(pledge.id)]
    follow(client, send(client, "/staff/contributions/new", cash(world, pledge_id=str(pledge.id))))
    assert db.session.scalar(select(Contribution.pledge_id)) == pledge.id
    assert "badge-partial" in text_of(client.get(f"/staff/pledges/{pledge.id}"))
    # Another donor's pledge is refused, at the pledge.
    resp = send(client, "/staff/contributions/new", cash(world, donor_id=str(world.state_donor_id),
                                                           pledge_id=str(pledge.id)))
    assert resp.status_code == 422 and "pledge_id" in errors_of(resp)


def test_contribution_list_filters(ctx, world):
    client = client_of(ctx, "recorder")
    follow(client, send(client, "/staff/contributions/new", cash(world)))
    follow(client, send(client, "/staff/contributions/new", cash(world, donor_id="", received_on="05/03/2025")))
    html = text_of(client.get("/staff/contributions?q=sua viet"))
    assert html.count("HNVNN-2025-00000") == 1
    html = text_of(client.get("/staff/contributions?received_from=02/03/2025"))
    assert "HNVNN-2025-000002" in html and "HNVNN-2025-000001" not in html
    resp = client.get("/staff/contributions?received_from=32/13/2025")
    assert resp.status_code == 200 and "flash-error" in text_of(resp)


# --- roles and areas ---------------------------------------------------------------------------


def test_a_recorder_writes_only_in_its_area(ctx, world):
    client = client_of(ctx, "saigon")  # a recorder of Hồ Chí Minh City
    form = text_of(client.get("/staff/contributions/new"))
    assert "HNVNN" not in form  # funds of other areas are not offered
    resp = send(client, "/staff/contributions/new", cash(world))
    assert resp.status_code == 403 and set(errors_of(resp)) == {"fund_id"}
    assert "(79)" in text_of(resp)  # "This is outside your area (79)." or its translation
    assert count(Contribution) == 0
    hanoi = client_of(ctx, "recorder")
    location = follow(hanoi, send(hanoi, "/staff/contributions/new", cash(world))).request.path
    resp = client.get(location)
    assert resp.status_code == 403
    household = world.household()
    assert client.get(f"/staff/households/{household}").status_code == 403
    resp = send(client, "/staff/households/new", {"campaign_id": str(world.campaign_id), "commune_code": "00004",
                                                  "head_name": "Trần Thị Bình", "category": "poor",
                                                  "support_type": "repair"})
    assert resp.status_code == 403 and count(Household) == 1


def test_an_auditor_reads_everything_and_changes_nothing(ctx, world):
    contribution = world.recorder.ok(world.contribute(), 201)
    household = world.household()
    world.recorder.ok(world.allocate(household), 201)
    client = client_of(ctx, "auditor")
    for path in ("/staff/donors", f"/staff/donors/{world.donor_id}", "/staff/pledges", "/staff/contributions",
                 f"/staff/contributions/{contribution['contribution_id']}", "/staff/households",
                 f"/staff/households/{household}", "/staff/allocations", "/staff/allocations/1"):
        resp = client.get(path)
        assert resp.status_code == 200, path
        assert 'name="form_token"' not in text_of(resp), path  # no record form is offered
    token = open_form(client_of(ctx, "recorder"), "/staff/contributions/new")  # a real form's tokens
    for path in ("/staff/donors/new", "/staff/pledges/new", "/staff/contributions/new", "/staff/households/new",
                 "/staff/allocations/new"):
        assert client.get(path).status_code == 403, path
    csrf = hidden(text_of(client.get("/staff/donors")), "csrf_token")
    for path, body in (("/staff/contributions/new", cash(world)),
                       (f"/staff/contributions/{contribution['contribution_id']}/void", {"reason": "x"}),
                       ("/staff/allocations/1/reverse", {"reason": "x"}),
                       (f"/staff/households/{household}/status", {"status": "building", "on": "01/03/2025"}),
                       ("/staff/donors/new", {"kind": "individual", "name": "A"})):
        resp = client.post(path, data={**body, "csrf_token": csrf, "form_token": token["form_token"]})
        assert resp.status_code == 403, path
    assert count(Contribution) == 1 and count(Donor) == 2 and count(Allocation) == 1


# --- pledges -----------------------------------------------------------------------------------


def test_pledges_listed_with_their_status_and_cancelled_with_a_reason(ctx, world):
    client = client_of(ctx, "recorder")
    page = follow(client, send(client, "/staff/pledges/new", {
        "campaign_id": str(world.campaign_id), "fund_id": str(world.fund_id), "donor_id": str(world.donor_id),
        "kind": "material", "item": "Gạch", "unit": "viên", "quantity": "10 000", "unit_value_vnd": "1.200"}))
    pledge = db.session.scalar(select(Pledge))
    assert pledge.units == 10_000_000 and pledge.value_vnd == 12_000_000  # ten thousand bricks
    assert pledge.code in text_of(page)
    listing = text_of(client.get(f"/staff/pledges?campaign_id={world.campaign_id}"))
    assert pledge.code in listing and "badge-open" in listing
    resp = send(client, "/staff/pledges/new", {"campaign_id": str(world.campaign_id), "fund_id": str(world.fund_id),
                                               "donor_id": "", "kind": "cash", "amount_vnd": "-5"})
    assert resp.status_code == 422 and set(errors_of(resp)) == {"donor_id", "amount_vnd"}

    path = f"/staff/pledges/{pledge.id}"
    resp = send(client, f"{path}/cancel", {"reason": "  "}, form_page=path)
    assert resp.status_code == 422 and set(errors_of(resp)) == {"reason"}
    html = text_of(follow(client, send(client, f"{path}/cancel", {"reason": "Doanh nghiệp rút lại"}, form_page=path)))
    assert "badge-cancelled" in html and "Doanh nghiệp rút lại" in html
    assert "badge-cancelled" in text_of(client.get("/staff/pledges"))


# --- households --------------------------------------------------------------------------------


def household_body(w, **overrides):
    body = {"campaign_id": str(w.campaign_id), "commune_code": "00004", "head_name": "Trần Thị Bình",
            "category": "near_poor", "support_type": "repair", "approved_amount_vnd": "",
            "own_contribution_vnd": "5.000.000", "surveyed_on": "10/02/2025", "phone": "0912345678"}
    body.update(overrides)
    return body


def test_households_created_listed_by_commune_and_status_and_moved_along_the_timeline(ctx, world):
    client = client_of(ctx, "recorder")
    page = follow(client, send(client, "/staff/households/new", household_body(world)))
    h = db.session.scalar(select(Household))
    assert h.approved_amount_vnd == 30_000_000 and h.own_contribution_vnd == 5_000_000  # the campaign's norm
    assert "30.000.000" in text_of(page)
    follow(client, send(client, "/staff/households/new", household_body(world, commune_code="00008",
                                                                         head_name="Lê Văn Cường")))
    listing = text_of(client.get("/staff/households?area=00004"))
    assert "Trần Thị Bình" in listing and "Lê Văn Cường" not in listing
    assert "Lê Văn Cường" in text_of(client.get("/staff/households?area=00008&status=surveyed"))
    assert "Lê Văn Cường" not in text_of(client.get("/staff/households?status=approved"))
    assert "Trần Thị Bình" in text_of(client.get("/staff/households?q=tran thi binh"))

    path = f"/staff/households/{h.id}"
    resp = send(client, f"{path}/status", {"status": "approved", "on": "01/02/2025"}, form_page=path)
    assert resp.status_code == 422 and set(errors_of(resp)) == {"on"}  # before the survey
    resp = send(client, f"{path}/status", {"status": "building", "on": "20/02/2025"}, form_page=path)
    assert resp.status_code == 409 and set(errors_of(resp)) == {"status"}  # one step at a time
    resp = send(client, f"{path}/status", {"status": "approved", "on": "20/02/2025", "note": "Hội đồng xã duyệt"},
                form_page=path)
    html = text_of(follow(client, resp))
    assert "Hội đồng xã duyệt" in html and "20/02/2025" in html and "badge-approved" in html
    assert "Trần Thị Bình" in text_of(client.get("/staff/households?status=approved"))


def test_household_edit_keeps_history_and_refuses_a_bad_amount(ctx, world):
    client = client_of(ctx, "recorder")
    follow(client, send(client, "/staff/households/new", household_body(world)))
    h = db.session.scalar(select(Household))
    edit = f"/staff/households/{h.id}/edit"
    assert fields_of(client.get(edit))["approved_amount_vnd"]["value"] == "30.000.000"
    resp = send(client, edit, {"head_name": "Trần Thị Bình", "category": "near_poor", "support_type": "new_build",
                               "approved_amount_vnd": "", "own_contribution_vnd": "5.000.000"})
    assert resp.status_code == 422 and set(errors_of(resp)) == {"approved_amount_vnd"}
    resp = send(client, edit, {"head_name": "Trần Thị Bình", "category": "near_poor", "support_type": "new_build",
                               "approved_amount_vnd": "60.000.000", "own_contribution_vnd": "5.000.000",
                               "phone": ""})
    html = text_of(follow(client, resp))
    db.session.expire_all()
    assert h.approved_amount_vnd == 60_000_000 and h.support_type == "new_build" and h.phone is None
    history = html[re.search(r'<table class="[^"]*\bhistory\b', html).start():]
    assert "30.000.000" in history and "60.000.000" in history and "0912345678" in history


# --- allocations -------------------------------------------------------------------------------


def allocation_body(w, household, **overrides):
    body = {"household_id": str(household), "fund_id": str(w.fund_id), "kind": "cash", "amount_vnd": "2.000.000",
            "source": "pool"}
    body.update(overrides)
    return body


def test_allocation_from_the_pool_and_the_household_funding(ctx, world):
    first = world.recorder.ok(world.contribute(amount_vnd=1_000_000), 201)
    world.recorder.ok(world.contribute(donor_id=world.state_donor_id, amount_vnd=10_000_000,
                                       received_on="2025-03-05"), 201)
    household = world.household()
    client = client_of(ctx, "recorder")
    form = text_of(client.get(f"/staff/allocations/new?household_id={household}&fund_id={world.fund_id}"))
    assert "11.000.000" in form and "60.000.000" in form  # the fund's balance and the household's need, at once
    html = text_of(follow(client, send(client, "/staff/allocations/new", allocation_body(world, household),
                                       form_page="/staff/allocations/new")))
    allocation = db.session.scalar(select(Allocation))
    assert allocation.units == 2_000_000 and len(allocation.lines) == 2  # oldest first: 1M, then 1M of 10M
    assert first["receipt"]["number"] in html
    page = text_of(client.get(f"/staff/households/{household}"))
    assert "58.000.000" in page  # remaining need
    assert "1.000.000" in page  # from the state budget


def test_the_live_panel_answers_json(ctx, world):
    world.recorder.ok(world.contribute(amount_vnd=3_000_000), 201)
    household = world.household()
    client = client_of(ctx, "recorder")
    data = client.get(f"/staff/allocations/availability?fund_id={world.fund_id}&household_id={household}").get_json()
    assert data["remaining_need_vnd"] == 60_000_000
    assert data["available"] == [{"kind": "cash", "commodity": "VND", "amount_vnd": 3_000_000}]
    assert "3.000.000" in data["html"]
    outsider = client_of(ctx, "saigon")
    data = outsider.get(f"/staff/allocations/availability?fund_id={world.fund_id}&household_id={household}").get_json()
    assert data["fund_id"] is None and data["household_id"] is None and data["available"] == []


def test_a_refused_over_allocation_says_how_much_is_available(ctx, world):
    world.recorder.ok(world.contribute(amount_vnd=5_000_000), 201)
    household = world.household()
    client = client_of(ctx, "recorder")
    resp = send(client, "/staff/allocations/new", allocation_body(world, household, amount_vnd="8.000.000"))
    assert resp.status_code == 409 and set(errors_of(resp)) == {"amount_vnd"}
    assert "5000000" in text_of(resp)  # the service's message: 8000000 asked, 5000000 available
    assert fields_of(resp)["amount_vnd"]["value"] == "8.000.000"
    assert count(Allocation) == 0


def test_past_the_approved_amount_needs_a_reason_and_a_second_person(ctx, world):
    world.recorder.ok(world.contribute(amount_vnd=50_000_000), 201)
    household = world.household(approved_amount_vnd=3_000_000)
    client = client_of(ctx, "recorder")
    resp = send(client, "/staff/allocations/new", allocation_body(world, household, amount_vnd="5.000.000"))
    assert resp.status_code == 409 and set(errors_of(resp)) == {"override_reason"}
    resp = send(client, "/staff/allocations/new", allocation_body(world, household, amount_vnd="5.000.000",
                                                                   override_reason="Nhà bị lũ cuốn thêm"))
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/staff/households/{household}")
    html = text_of(client.get(resp.headers["Location"]))
    assert "flash-info" in html and "Nhà bị lũ cuốn thêm" in html and "5.000.000" in html  # waiting, and why
    assert count(Allocation) == 0  # moves nothing until approved
    assert approve_waiting(world) == 1 and count(Allocation) == 1


def test_allocation_from_a_named_contribution(ctx, world):
    world.recorder.ok(world.contribute(amount_vnd=1_000_000), 201)
    named = world.recorder.ok(world.contribute(amount_vnd=4_000_000), 201)
    household = world.household()
    client = client_of(ctx, "recorder")
    resp = send(client, "/staff/allocations/new", allocation_body(world, household, source="named",
                                                                   source_contribution="HNVNN-2099-000001"))
    assert resp.status_code == 422 and set(errors_of(resp)) == {"source_contribution"}
    resp = send(client, "/staff/allocations/new", allocation_body(world, household, source="named",
                                                                   source_contribution=""))
    assert resp.status_code == 422 and set(errors_of(resp)) == {"source_contribution"}
    follow(client, send(client, "/staff/allocations/new", allocation_body(
        world, household, source="named", source_contribution=named["receipt"]["number"].lower())))
    allocation = db.session.scalar(select(Allocation))
    assert [line.contribution_id for line in allocation.lines] == [named["contribution_id"]]


def test_materials_are_allocated_by_quantity(ctx, world):
    world.recorder.ok(world.contribute(kind="material", method="in_kind", item="Xi măng PCB40", unit="bao",
                                       quantity="100", unit_value_vnd=95_000), 201)
    household = world.household()
    client = client_of(ctx, "recorder")
    follow(client, send(client, "/staff/allocations/new", allocation_body(
        world, household, kind="material", item="Xi măng PCB40", unit="bao", quantity="12,5", amount_vnd="")))
    allocation = db.session.scalar(select(Allocation))
    assert allocation.units == 12_500 and allocation.value_vnd == 1_187_500


# --- voids and reversals -----------------------------------------------------------------------


def test_void_and_reverse_with_a_reason(ctx, world):
    contribution = world.recorder.ok(world.contribute(amount_vnd=5_000_000), 201)
    household = world.household()
    allocation = world.recorder.ok(world.allocate(household), 201)
    client = client_of(ctx, "recorder")
    c_page = f"/staff/contributions/{contribution['contribution_id']}"
    resp = send(client, f"{c_page}/void", {"reason": "Nhập nhầm"}, form_page=c_page)
    assert resp.status_code == 409 and str(allocation["allocation_id"]) in text_of(resp)  # what draws on it

    a_page = f"/staff/allocations/{allocation['allocation_id']}"
    resp = send(client, f"{a_page}/reverse", {"reason": ""}, form_page=a_page)
    assert resp.status_code == 422 and set(errors_of(resp)) == {"reason"}
    html = text_of(follow(client, send(client, f"{a_page}/reverse", {"reason": "Sai hộ"}, form_page=a_page)))
    # A reversal waits for a second person: said on the page, which offers no second request.
    assert "flash-info" in html and "Sai hộ" in html and f'action="{a_page}/reverse"' not in html
    assert approve_waiting(world) == 1
    html = text_of(client.get(a_page))
    assert "badge-reversed" in html and "Sai hộ" in html and f'action="{a_page}/reverse"' not in html

    html = text_of(follow(client, send(client, f"{c_page}/void", {"reason": "Nhập nhầm"}, form_page=c_page)))
    assert "Nhập nhầm" in html and f'action="{c_page}/void"' not in html
    assert approve_waiting(world) == 1
    html = text_of(client.get(c_page))
    assert "badge-voided" in html and "Nhập nhầm" in html
    assert f'action="{c_page}/void"' not in html  # nothing more to void
    number = contribution["receipt"]["number"]
    assert ctx.test_client().get(f"/api/v1/receipts/{number}").get_json()["status"] == "voided"


def test_a_transfer_is_reversed_from_its_page(ctx, world):
    world.recorder.ok(world.contribute(amount_vnd=5_000_000), 201)
    transfer = world.recorder.ok(world.recorder.post(f"/funds/{world.fund_id}/transfers", {
        "to_fund_id": world.commune_fund_id, "kind": "cash", "amount_vnd": 2_000_000}), 201)
    client = client_of(ctx, "recorder")
    path = f"/staff/transfers/{transfer['transfer_id']}"
    assert "BADINH" in text_of(client.get("/staff/allocations"))
    make_user("badinh", "recorder", "00004")  # the receiving commune sees it, and cannot undo it
    commune = client_of(ctx, "badinh")
    assert "BADINH" in text_of(commune.get("/staff/allocations"))
    resp = commune.get(path)
    assert resp.status_code == 200 and 'name="form_token"' not in text_of(resp)
    follow(client, send(client, f"{path}/reverse", {"reason": "Chuyển nhầm quỹ"}, form_page=path))
    assert approve_waiting(world) == 1
    html = text_of(client.get(path))
    assert "badge-reversed" in html and "Chuyển nhầm quỹ" in html


def test_a_request_kept_for_approval_says_so(ctx, world, monkeypatch):
    """Maker–checker: the service may answer with a pending request instead of a record."""
    from ledger.allocations import service

    class Pending:
        is_pending = True

    world.recorder.ok(world.contribute(amount_vnd=5_000_000), 201)
    household = world.household()
    monkeypatch.setattr(service, "allocate_to_household", lambda user, data: Pending())
    client = client_of(ctx, "recorder")
    resp = send(client, "/staff/allocations/new", allocation_body(world, household))
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/staff/households/{household}")
    html = text_of(client.get(resp.headers["Location"]))
    assert "flash-info" in html
