"""The public portal (issue 6): the overview, where a contribution went, a household's and an
organisation's page, the summary API, caching and rate limits, and the privacy scan of every
public page and public API answer. On SQLite and PostgreSQL."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape
from urllib.parse import urljoin, urlsplit

import pytest

from ledger.extensions import db
from tests.helpers import build_world

# Personal data the seeded ledger records; none of it may reach a public answer.
DONOR_ID_NUMBER = "001085012345"
DONOR_PHONE = "0912345678"
DONOR_ADDRESS = "Số 12 ngõ 34 phố Đội Cấn"
HOUSEHOLD_ID_NUMBER = "001190054321"
HOUSEHOLD_PHONE = "0987654321"
HOUSEHOLD_ADDRESS = "Thôn Đông, số nhà 7"
HOUSEHOLD_HEAD = "Nguyễn Văn An"
SECOND_HEAD = "Trần Thị Bích"
MEMO_PHONE = "0903112233"
MEMO_ACCOUNT = "0071000123456"
PRIVATE = [DONOR_ID_NUMBER, DONOR_PHONE, DONOR_ADDRESS, HOUSEHOLD_ID_NUMBER, HOUSEHOLD_PHONE, HOUSEHOLD_ADDRESS,
           MEMO_PHONE, MEMO_ACCOUNT, "Phạm Thị Lan",  # the anonymous donor's name
           HOUSEHOLD_HEAD, SECOND_HEAD]  # household heads' full names (masked by default)


@dataclass
class Portal:
    w: object
    receipts: dict = field(default_factory=dict)  # name -> (number, url)
    households: dict = field(default_factory=dict)
    donors: dict = field(default_factory=dict)


def _receipt(resp_json) -> tuple[str, str]:
    r = resp_json["receipt"]
    return r["number"], r["url"]


@pytest.fixture()
def portal(ctx) -> Portal:
    return seed_portal(ctx)


def seed_portal(app) -> Portal:
    """A small campaign with every kind of resource, a transfer to a commune fund, an
    anonymous gift, a voided one, a completed house and private data everywhere (also used
    by the browser tests)."""
    w = build_world(app)
    p = Portal(w)
    rec = w.recorder
    person = rec.ok(rec.post("/donors", {"kind": "individual", "name": "Lê Văn Bình", "id_number": DONOR_ID_NUMBER,
                                         "phone": DONOR_PHONE, "address": DONOR_ADDRESS}))
    hidden = rec.ok(rec.post("/donors", {"kind": "individual", "name": "Phạm Thị Lan", "public_display": "anonymous",
                                         "phone": "0911222333"}))
    p.donors.update(business=w.donor_id, state=w.state_donor_id, person=person["donor_id"], hidden=hidden["donor_id"])

    h1 = w.household(head_name=HOUSEHOLD_HEAD, id_number=HOUSEHOLD_ID_NUMBER, phone=HOUSEHOLD_PHONE,
                     address=HOUSEHOLD_ADDRESS)
    h2 = w.household(commune="00008", head_name=SECOND_HEAD, support_type="repair")
    p.households.update(first=h1, second=h2)

    # The business gives 100M (the oldest lot: FIFO draws it first), the state 50M.
    p.receipts["business"] = _receipt(rec.ok(w.contribute(amount_vnd=100_000_000, received_on="2025-03-01",
                                                          bank_reference="FT25060123456789")))
    p.receipts["state"] = _receipt(rec.ok(w.contribute(donor_id=w.state_donor_id, amount_vnd=50_000_000,
                                                       received_on="2025-04-02")))
    p.receipts["person"] = _receipt(rec.ok(w.contribute(
        donor_id=person["donor_id"], amount_vnd=2_000_000, received_on="2025-04-05",
        memo=f"UH xoa nha tam, LH {MEMO_PHONE} TK {MEMO_ACCOUNT}")))
    p.receipts["hidden"] = _receipt(rec.ok(w.contribute(donor_id=hidden["donor_id"], amount_vnd=500_000,
                                                        received_on="2025-04-06")))
    p.receipts["cement"] = _receipt(rec.ok(w.contribute(kind="material", method="in_kind", item="Xi măng PCB40",
                                                        unit="bao", quantity="100", unit_value_vnd=90_000,
                                                        received_on="2025-05-01")))
    p.receipts["labour"] = _receipt(rec.ok(w.contribute(kind="labour", method="labour", person_days="20",
                                                        day_rate_vnd=250_000, received_on="2025-05-03")))
    voided = rec.ok(w.contribute(amount_vnd=7_000_000, received_on="2025-05-04"))
    p.receipts["voided"] = _receipt(voided)
    w.approve(rec.post(f"/contributions/{voided['contribution_id']}/void", {"reason": "Nhập trùng"}))

    # 30M of the business's lot to the first household; 20M moves to the commune fund and
    # 10M of it goes on to the second household; 40 bags of cement and 8 workdays too.
    rec.ok(w.allocate(h1, amount_vnd=30_000_000))
    rec.ok(rec.post(f"/funds/{w.fund_id}/transfers", {"to_fund_id": w.commune_fund_id, "kind": "cash",
                                                      "amount_vnd": 20_000_000}))
    rec.ok(w.allocate(h2, fund_id=w.commune_fund_id, amount_vnd=10_000_000))
    rec.ok(w.allocate(h1, kind="material", item="Xi măng PCB40", unit="bao", quantity="40"))
    rec.ok(w.allocate(h1, kind="labour", person_days="8"))
    for status, on in (("building", "2025-05-10"), ("completed", "2025-07-01")):
        rec.ok(rec.post(f"/households/{h1}/status", {"status": status, "on": on}))
    # A pledge of 200M from the business (partly fulfilled by nothing yet: still pledged).
    rec.ok(rec.post("/pledges", {"campaign_id": w.campaign_id, "fund_id": w.fund_id, "donor_id": w.donor_id,
                                 "kind": "cash", "amount_vnd": 200_000_000, "due_on": "2025-12-31"}))
    return p


def _text(html: str) -> str:
    """What a reader sees: tags dropped, entities decoded, white space folded."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).replace(" ,", ",").strip()


def _page(client, url, status=200):
    resp = client.get(url)
    assert resp.status_code == status, (url, resp.status_code, resp.get_data(as_text=True)[:500])
    return resp


# --- the overview ------------------------------------------------------------------------

def test_overview_adds_up(ctx, portal):
    w = portal.w
    summary = w.recorder.ok(w.recorder.get("/reports/summary"), 200)
    cash, material, labour = (summary["kinds"][k] for k in ("cash", "material", "labour"))
    assert cash["received_vnd"] == 152_500_000  # the voided 7M is not counted
    assert cash["allocated_vnd"] == 40_000_000
    assert cash["remaining_vnd"] == 112_500_000
    assert cash["pledged_vnd"] == 200_000_000
    assert (material["received_vnd"], material["allocated_vnd"], material["remaining_vnd"]) == (
        9_000_000, 3_600_000, 5_400_000)
    assert (labour["received_person_days"], labour["allocated_person_days"], labour["remaining_person_days"]) == (
        "20.00", "8.00", "12.00")
    assert labour["received_vnd"] == 5_000_000 and labour["allocated_vnd"] == 2_000_000
    assert summary["totals"]["received_vnd"] == 152_500_000 + 9_000_000 + 5_000_000
    assert summary["materials"] == [{"item": "Xi măng PCB40", "unit": "bao", "received": "100.000",
                                     "allocated": "40.000", "remaining": "60.000"}]
    assert summary["houses"]["total"] == 2 and summary["houses"]["done"] == 1
    assert summary["houses"]["by_status"]["completed"] == 1 and summary["houses"]["by_status"]["approved"] == 1
    sources = {s["source"]: s["value_vnd"] for s in summary["sources"]}
    assert sources == {"business": 100_000_000 + 9_000_000 + 5_000_000, "state": 50_000_000,
                       "individual": 2_000_000, "anonymous": 500_000}
    assert [m["month"] for m in summary["months"]] == ["2025-03", "2025-04", "2025-05"]
    assert summary["checkpoint"] is None or summary["checkpoint"]["size"] >= 1


def test_overview_by_area_reconciles_with_transfers(ctx, portal):
    w = portal.w
    country = w.recorder.ok(w.recorder.get("/reports/summary"), 200)
    [hanoi] = country["areas"]
    assert hanoi["area_code"] == "01" and hanoi["households"] == 2 and hanoi["houses_done"] == 1
    commune = w.recorder.ok(w.recorder.get("/reports/summary", area="00004"), 200)
    # Ba Đình's fund received nothing directly, got 20M by transfer and allocated 10M of it.
    assert commune["kinds"]["cash"]["received_vnd"] == 0
    assert commune["kinds"]["cash"]["allocated_vnd"] == 10_000_000
    assert commune["kinds"]["cash"]["remaining_vnd"] == 10_000_000
    unknown = w.recorder.get("/reports/summary", area="99999")
    assert unknown.status_code == 404 and unknown.mimetype == "application/problem+json"


def test_overview_page_shows_figures_and_charts(ctx, portal):
    client = ctx.test_client()
    html = _page(client, "/").get_data(as_text=True)
    text = _text(html)
    assert "Chung tay xóa nhà tạm, nhà dột nát" in text
    assert "152.500.000 ₫" in text  # cash received
    assert "Đã hoàn thành 1/2 căn nhà" in text
    assert "Thành phố Hà Nội" in text and "Doanh nghiệp" in text
    assert html.count("<svg") >= 4  # progress, areas, sources, months: drawn without a script
    assert "<script" not in html  # the overview needs no JavaScript
    assert "style=" not in html  # the Content-Security-Policy allows no inline styles
    area = _page(client, "/?area=00004").get_data(as_text=True)
    assert "Phường Ba Đình" in _text(area)
    missing = _page(client, "/?area=99999", 404)
    assert "99999" in _text(missing.get_data(as_text=True)) and missing.mimetype == "text/html"
    english = _text(_page(client, "/?lang=en").get_data(as_text=True))
    assert "Received" in english and "Allocated to households" in english


def test_overview_before_any_campaign(ctx):
    html = _page(ctx.test_client(), "/").get_data(as_text=True)
    assert "Chưa có chiến dịch nào" in _text(html)


# --- where it went ---------------------------------------------------------------------------

def test_receipt_page_follows_the_money_to_households(ctx, portal):
    client = ctx.test_client()
    number, url = portal.receipts["business"]
    text = _text(_page(client, urlsplit(url).path + "?" + urlsplit(url).query).get_data(as_text=True))
    assert "Hộ Nguyễn V. A." in text and "Phường Ba Đình" in text and "30.000.000 ₫" in text
    assert "Hộ Trần T. B." in text and "Phường Ngọc Hà" in text and "10.000.000 ₫" in text
    assert "Chuyển giữa các quỹ" in text and "20.000.000 ₫" in text
    # 100M − 30M − 20M moved = 50M still in the province fund; 10M left in the commune fund.
    assert "Quỹ Vì người nghèo TP Hà Nội: 50.000.000 ₫" in text
    assert "Quỹ Vì người nghèo phường Ba Đình: 10.000.000 ₫" in text
    assert "Xây mới" in text and "Sửa chữa" in text  # support types
    # The business has a page; following the donor's link works.
    assert f'/to-chuc/{portal.donors["business"]}' in _page(client, urlsplit(url).path).get_data(as_text=True)


def test_receipt_page_of_materials_and_labour(ctx, portal):
    client = ctx.test_client()
    _number, url = portal.receipts["cement"]
    text = _text(_page(client, url.split("chungtay.example.vn", 1)[1]).get_data(as_text=True))
    assert "Hộ Nguyễn V. A." in text and "40 (3.600.000 ₫)" in text
    assert "60 (5.400.000 ₫)" in text  # still held
    _number, url = portal.receipts["labour"]
    text = _text(_page(client, url.split("chungtay.example.vn", 1)[1]).get_data(as_text=True))
    assert "8 (2.000.000 ₫)" in text


def test_voided_receipt_went_nowhere(ctx, portal):
    _number, url = portal.receipts["voided"]
    text = _text(_page(ctx.test_client(), url.split("chungtay.example.vn", 1)[1]).get_data(as_text=True))
    assert "ĐÃ HỦY" in text and "Không có: khoản đóng góp đã bị hủy." in text


# --- households and organisations -------------------------------------------------------------

def test_household_page(ctx, portal):
    client = ctx.test_client()
    text = _text(_page(client, f"/ho/{portal.households['first']}").get_data(as_text=True))
    assert "Hộ Nguyễn V. A." in text and "Phường Ba Đình" in text and "Hộ nghèo" in text
    assert "60.000.000 ₫" in text  # approved (the campaign's norm for a new build)
    assert "35.600.000 ₫" in text  # 30M cash + 3.6M cement + 2M labour
    assert "Công ty Cổ phần Sữa Việt Nam" in text
    for status in ("Đã khảo sát", "Đã duyệt", "Đang xây dựng", "Đã hoàn thành"):
        assert status in text
    assert "01/07/2025" in text
    _page(client, "/ho/999999", 404)


def test_full_names_where_the_campaign_publishes_them(ctx, portal):
    from ledger.campaigns.models import Campaign

    db.session.get(Campaign, portal.w.campaign_id).publish_household_names = True
    db.session.commit()
    text = _text(_page(ctx.test_client(), f"/ho/{portal.households['first']}").get_data(as_text=True))
    assert "Hộ Nguyễn Văn An" in text
    assert HOUSEHOLD_ADDRESS not in text and HOUSEHOLD_PHONE not in text  # never, even then


def test_campaign_created_with_published_names(ctx, portal):
    admin = portal.w.admin
    body = admin.ok(admin.post("/campaigns", {"code": "CT2026", "name": "Chiến dịch 2026", "area_code": "01",
                                               "starts_on": "2026-01-01", "publish_household_names": True}))
    assert body["publish_household_names"] is True
    default = admin.ok(admin.post("/campaigns", {"code": "CT2027", "name": "Chiến dịch 2027", "area_code": "01",
                                                  "starts_on": "2026-01-01"}))
    assert default["publish_household_names"] is False


def test_organisation_page(ctx, portal):
    client = ctx.test_client()
    text = _text(_page(client, f"/to-chuc/{portal.donors['business']}").get_data(as_text=True))
    assert "Công ty Cổ phần Sữa Việt Nam" in text and "0300588569" in text
    assert "114.000.000 ₫" in text  # 100M cash + cement 9M + labour 5M (the voided 7M left out)
    assert "Hộ Nguyễn V. A." in text and "Hộ Trần T. B." in text
    # Individuals and anonymous donors have no page of their own.
    for who in ("person", "hidden"):
        _page(client, f"/to-chuc/{portal.donors[who]}", 404)


# --- operations ---------------------------------------------------------------------------------

def test_public_pages_are_cacheable_and_revalidate(ctx, portal):
    client = ctx.test_client()
    resp = _page(client, "/")
    assert resp.headers["Cache-Control"].startswith("public, max-age=")
    etag = resp.headers["ETag"]
    again = client.get("/", headers={"If-None-Match": etag})
    assert again.status_code == 304
    # Staff pages are not cached as public.
    assert "public" not in (client.get("/staff/login").headers.get("Cache-Control") or "")


def test_search_is_rate_limited_across_workers(ctx, portal):
    """The counters live in the database, so every worker (and process) shares them."""
    from ledger.extensions import limiter

    ctx.config["LEDGER_SEARCH_RATE_LIMIT"] = "3 per minute"
    try:
        limiter.reset()
        client = ctx.test_client()
        for _ in range(3):
            assert client.get("/api/v1/statement?q=cong ty").status_code == 200
        refused = client.get("/api/v1/statement?q=cong ty")
        assert refused.status_code == 429 and refused.mimetype == "application/problem+json"
        assert "Retry-After" in refused.headers
        page = client.get("/tra-cuu?q=cong ty")  # the page shares the API's budget
        assert page.status_code == 429 and "Vui lòng đợi một phút" in _text(page.get_data(as_text=True))
        from sqlalchemy import text

        with db.engine.connect() as conn:  # the counters are rows every worker reads
            assert conn.execute(text("SELECT max(hits) FROM rate_limit_counters")).scalar() >= 4
    finally:
        ctx.config["LEDGER_SEARCH_RATE_LIMIT"] = "100000 per minute"
        limiter.reset()


# --- privacy ---------------------------------------------------------------------------------

PUBLIC_API = ["/api/v1/reports/summary", "/api/v1/reports/summary?area=01", "/api/v1/reports/summary?area=00004",
              "/api/v1/transparency/checkpoint",
              "/api/v1/transparency/keys", "/api/v1/areas?parent=01",
              "/api/v1/statement", "/api/v1/statement?q=xoa nha", "/api/v1/statement.csv"]


def _crawl(client, starts) -> dict[str, str]:
    """Every public page reachable by links from `starts` (not the staff pages or the API's
    docs), and what each answered."""
    seen: dict[str, str] = {}
    queue = list(starts)
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        resp = client.get(url)
        if resp.mimetype == "application/pdf":
            continue  # a receipt's PDF: its attached payload is /api/v1/receipts/{n}, scanned below
        body = resp.get_data(as_text=True)
        seen[url] = body
        if resp.mimetype != "text/html":
            continue
        for href in re.findall(r'href="([^"#]+)"', body):
            target = urljoin("http://localhost" + url, href.replace("&amp;", "&"))
            parts = urlsplit(target)
            path = parts.path + ("?" + parts.query if parts.query else "")
            if parts.netloc == "localhost" and not path.startswith(("/staff", "/api/v1/docs", "/static")) \
                    and path not in seen and len(seen) + len(queue) < 400:
                queue.append(path)
    return seen


def test_no_personal_data_on_any_public_page_or_answer(ctx, portal):
    client = ctx.test_client()
    receipts = [url.split("chungtay.example.vn", 1)[1] for _n, url in portal.receipts.values()]
    starts = ["/", "/tra-cuu", "/tra-cuu?q=nguyen", "/kiem-chung", *receipts,
              *(f"/ho/{h}" for h in portal.households.values()),
              *(f"/to-chuc/{d}" for d in portal.donors.values())]
    answers = _crawl(client, starts)
    for number, _url in portal.receipts.values():
        answers[f"/api/v1/receipts/{number}"] = client.get(f"/api/v1/receipts/{number}").get_data(as_text=True)
    size = client.get("/api/v1/transparency/checkpoint").get_json()["size"]
    for url in PUBLIC_API + [f"/api/v1/transparency/entries?start=0&end={size}"]:
        resp = client.get(url)
        assert resp.status_code == 200, (url, resp.get_data(as_text=True)[:300])
        answers[url] = resp.get_data(as_text=True)
    assert len(answers) >= 30, sorted(answers)
    assert any("/ho/" in u for u in answers) and any("/r/" in u for u in answers)
    leaks = [(url, needle) for url, body in answers.items() for needle in PRIVATE
             if needle in body or needle in body.encode().decode("unicode_escape", "ignore")]
    assert leaks == []
    # The masked forms are there instead.
    everything = "\n".join(answers.values())
    assert "*******233" in everything and "**********456" in everything  # the memo's phone and account
    assert "Nhà hảo tâm ẩn danh" in everything and "Hộ Nguyễn V. A." in everything


@pytest.mark.parametrize(("memo", "public"), [
    ("UH xay nha, LH 0903112233", "UH xay nha, LH *******233"),
    ("SDT 0903 112 233 - TK 0071.000.123.456", "SDT *******233 - TK **********456"),
    ("+84 903-112-233 ung ho", "********233 ung ho"),
    ("CCCD 001090001234 ung ho 500.000 dong", "CCCD *********234 ung ho 500.000 dong"),
    ("ung ho 1,000,000 va 2.500.000", "ung ho 1,000,000 va 2.500.000"),  # amounts stay
    ("dot 2 nam 2025, 12 ho ngheo", "dot 2 nam 2025, 12 ho ngheo"),  # short numbers stay
    (None, None),
])
def test_memos_are_masked_before_publication(memo, public):
    from ledger.public.privacy import mask_memo

    assert mask_memo(memo) == public
