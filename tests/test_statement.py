"""The public statement (Tra cứu đóng góp), as a donor checking their gift meets it."""
from __future__ import annotations

import csv
import io
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from ledger.extensions import db
from ledger.statement.models import StatementEntry
from ledger.statement.service import DEPTH
from tests.helpers import build_world

PRIVATE = ("001090001234", "0912345678", "0987654321", "12 ngõ 34 phố Đội Cấn", "19036612345678")


@pytest.fixture()
def w(ctx):
    ctx.config["LEDGER_SEARCH_RATE_LIMIT"] = "100000 per minute"
    yield build_world(ctx)
    ctx.config["LEDGER_SEARCH_RATE_LIMIT"] = "60 per minute"


def donor(w, name, display="named", **private):
    return w.recorder.ok(w.recorder.post("/donors", {"kind": "individual", "name": name,
                                                      "public_display": display, **private}))["donor_id"]


def give(w, **body):
    return w.recorder.ok(w.contribute(**body), 201)


def search(w, status=200, **params):
    resp = w.recorder.client.get("/api/v1/statement", query_string=params)
    assert resp.status_code == status, resp.get_data(as_text=True)
    return resp.get_json()


def numbers(answer) -> list[str]:
    return [item["receipt_number"] for item in answer["items"]]


@pytest.fixture()
def people(w):
    """Four gifts: a named person, an anonymous one with private data, a business, a memo."""
    an = donor(w, "Nguyễn Văn An", id_number="001090001234", phone="0912345678", address="12 ngõ 34 phố Đội Cấn")
    bich = donor(w, "Trần Thị Bích", display="anonymous", phone="0987654321")
    gifts = {
        "an": give(w, donor_id=an, amount_vnd=500_000, received_on="2025-03-01", bank_reference="FT25060123456789",
                   memo="UH dong bao xay nha, lien he 0912345678"),
        "bich": give(w, donor_id=bich, amount_vnd=2_000_000, received_on="2025-03-05",
                     memo="Ủng hộ chương trình xóa nhà tạm, STK 19036612345678"),
        "vinamilk": give(w, amount_vnd=100_000_000, received_on="2025-02-10", memo="Chung tay xóa nhà tạm"),
        "none": give(w, donor_id=None, amount_vnd=50_000, received_on="2025-04-01", bank_reference="000111222"),
    }
    return {k: v["receipt"]["number"] for k, v in gifts.items()} | {"an_id": an, "bich_id": bich}


def test_name_and_memo_are_found_without_diacritics_and_in_part(w, people):
    assert numbers(search(w, q="nguyen van a")) == [people["an"]]
    assert numbers(search(w, q="NGUYỄN VĂN")) == [people["an"]]
    assert numbers(search(w, q="van an")) == [people["an"]]  # words inside a name
    assert search(w, q="uyen van")["items"] == []  # whole words, only the last one in part
    assert search(w, q="an nguyen")["items"] == []  # in the order typed
    assert numbers(search(w, q="sua vie")) == [people["vinamilk"]]  # a last word of 1-3 letters starts a word
    assert search(w, q="nguye")["items"] == []  # a longer one is a whole word
    assert set(numbers(search(w, q="ung ho"))) == {people["bich"]}
    assert set(numbers(search(w, q="xoa nha tam"))) == {people["bich"], people["vinamilk"]}
    assert numbers(search(w, q="sữa việt")) == [people["vinamilk"]]
    assert search(w, q="nguyen van b")["items"] == []
    # Punctuation is not a word: nothing to search for, said plainly.
    assert search(w, 422, q="%%%")["errors"]["q"] and search(w, 422, q="___")["errors"]["q"]


def test_anonymous_donors_and_masked_memos(w, people):
    by_number = {i["receipt_number"]: i for i in search(w)["items"]}
    assert by_number[people["bich"]]["donor"] == "Nhà hảo tâm ẩn danh"
    assert by_number[people["none"]]["donor"] == "Nhà hảo tâm ẩn danh"
    assert by_number[people["an"]]["donor"] == "Nguyễn Văn An"
    assert by_number[people["an"]]["memo"] == "UH dong bao xay nha, lien he *******678"
    assert by_number[people["bich"]]["memo"] == "Ủng hộ chương trình xóa nhà tạm, STK ***********678"
    assert by_number[people["an"]]["bank_reference"] == "…456789"
    # The anonymous donor's real name is not searchable; "ẩn danh" is.
    assert search(w, q="tran thi bich")["items"] == []
    assert {people["bich"], people["none"]} <= set(numbers(search(w, q="an danh")))
    # Masked numbers cannot be searched for either.
    assert search(w, q="0912345678")["items"] == []


def test_no_personal_data_in_any_answer(w, people):
    answers = [search(w).__repr__(), search(w, q="nguyen")["items"].__repr__()]
    for path in ("/api/v1/statement.csv", "/tra-cuu", "/tra-cuu.csv", "/tra-cuu?q=an+danh"):
        answers.append(w.recorder.client.get(path).get_data(as_text=True))
    for text in answers:
        for secret in PRIVATE + ("Trần Thị Bích",):
            assert secret not in text, (secret, text[:300])
    row = db.session.scalar(select(StatementEntry).where(StatementEntry.receipt_number == people["bich"]))
    stored = " ".join(str(getattr(row, c.key)) for c in StatementEntry.__table__.columns)
    assert "0987654321" not in stored and "Trần Thị Bích" not in stored and "19036612345678" not in stored


def test_each_filter(w, people):
    assert numbers(search(w, amount_vnd=500000)) == [people["an"]]
    assert set(numbers(search(w, min_vnd=500000, max_vnd=2000000))) == {people["an"], people["bich"]}
    assert set(numbers(search(w, min_vnd=2000000))) == {people["bich"], people["vinamilk"]}
    assert set(numbers(search(w, **{"from": "2025-03-01", "to": "2025-03-05"}))) == {people["an"], people["bich"]}
    assert numbers(search(w, **{"from": "2025-04-01"})) == [people["none"]]
    assert numbers(search(w, receipt=people["bich"].lower())) == [people["bich"]]
    assert numbers(search(w, reference="6789")) == [people["an"]]
    assert numbers(search(w, reference="222")) == [people["none"]]
    assert search(w, reference="5678")["items"] == []  # the end of the reference, not its middle
    assert numbers(search(w, fund_id=w.fund_id, q="nguyen", amount_vnd=500000)) == [people["an"]]
    assert search(w, fund_id=w.commune_fund_id)["items"] == []
    assert search(w, q="nguyen", **{"to": "2025-02-28"})["items"] == []


def test_sorts_and_pages(w, people):
    assert numbers(search(w)) == [people["none"], people["bich"], people["an"], people["vinamilk"]]
    assert numbers(search(w, sort="oldest")) == [people["vinamilk"], people["an"], people["bich"], people["none"]]
    assert numbers(search(w, sort="largest")) == [people["vinamilk"], people["bich"], people["an"], people["none"]]
    assert numbers(search(w, sort="smallest")) == [people["none"], people["an"], people["bich"], people["vinamilk"]]
    first = search(w, page_size=3)
    second = search(w, page_size=3, page=2)
    assert (first["total"], first["pages"], first["has_next"]) == (4, 2, True)
    assert second["has_next"] is False
    assert numbers(first) + numbers(second) == numbers(search(w))
    # The same day: the one recorded later comes first when newest first.
    late = give(w, amount_vnd=70_000, received_on="2025-04-01")["receipt"]["number"]
    assert numbers(search(w, page_size=2)) == [late, people["none"]]


def test_entries_link_to_their_receipt_page_with_its_signature(w, people):
    item = search(w, q="nguyen van an")["items"][0]
    parts = urlsplit(item["receipt_url"])
    assert parts.path == f"/r/{people['an']}" and parts.query.startswith("s=")
    page = w.recorder.client.get(parts.path + "?" + parts.query).get_data(as_text=True)
    assert "GENUINE" in page or "XÁC THỰC" in page.upper()
    assert "no signature" not in page


def test_a_voided_contribution_is_marked_after_its_approval(w, people):
    contribution_id = search(w, q="nguyen van an")["items"][0]
    cid = db.session.scalar(select(StatementEntry.contribution_id)
                            .where(StatementEntry.receipt_number == contribution_id["receipt_number"]))
    pending = w.recorder.post(f"/contributions/{cid}/void", {"reason": "Ghi nhầm"})
    assert search(w, q="nguyen van an")["items"][0]["status"] == "valid"  # waiting for a second person
    w.approve(pending)
    assert search(w, q="nguyen van an")["items"][0]["status"] == "voided"
    assert search(w)["total"] == 4  # still listed, marked
    csv_rows = list(csv.reader(io.StringIO(w.recorder.client.get("/api/v1/statement.csv?q=nguyen")
                                           .get_data(as_text=True).lstrip("\ufeff"))))
    assert csv_rows[1][12] == "Đã hủy"


def test_renaming_a_donor_or_hiding_the_name_updates_the_statement(w, people):
    w.recorder.ok(w.recorder.patch(f"/donors/{people['an_id']}", {"name": "Nguyễn Văn Ân Hậu"}), 200)
    assert numbers(search(w, q="an hau")) == [people["an"]]
    assert search(w, q="an hau")["items"][0]["donor"] == "Nguyễn Văn Ân Hậu"
    assert search(w, q="dong bao xay")["items"][0]["donor"] == "Nguyễn Văn Ân Hậu"  # the memo still found
    w.recorder.ok(w.recorder.patch(f"/donors/{people['an_id']}", {"public_display": "anonymous"}), 200)
    assert search(w, q="an hau")["items"] == []
    assert search(w, q="dong bao xay")["items"][0]["donor"] == "Nhà hảo tâm ẩn danh"
    w.recorder.ok(w.recorder.patch(f"/donors/{people['bich_id']}", {"public_display": "named"}), 200)
    assert numbers(search(w, q="tran thi bich")) == [people["bich"]]


def test_materials_and_labour_are_listed_with_their_value(w):
    give(w, kind="material", method="in_kind", item="Xi măng PCB40", unit="bao", quantity="120.5",
         unit_value_vnd=95_000, memo="Xi măng cho hộ nghèo")
    give(w, kind="labour", method="labour", person_days="12.25", day_rate_vnd=300_000)
    items = search(w, sort="smallest")["items"]
    labour, material = items
    assert (material["kind"], material["item"], material["unit"], material["quantity"]) == \
        ("material", "Xi măng PCB40", "bao", "120.500")
    assert material["value_vnd"] == 11_447_500 and material["amount_vnd"] is None
    assert (labour["quantity"], labour["value_vnd"]) == ("12.25", 3_675_000)
    assert search(w, amount_vnd=3_675_000)["items"] == [labour]


def test_csv_has_a_bom_a_vietnamese_header_and_every_row(w, people):
    for n in range(25):
        give(w, amount_vnd=10_000 + n, received_on="2025-05-01")
    resp = w.recorder.client.get("/api/v1/statement.csv", query_string={"max_vnd": 100_000, "sort": "smallest"})
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert resp.is_streamed
    body = resp.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Số giấy xác nhận", "Ngày nhận", "Người đóng góp"]
    assert len(rows) == 1 + 26  # 25 + the 50,000 one: more than a page
    assert rows[1][6] == "10000" and rows[-1][6] == "50000"
    assert rows[-1][13].startswith("https://chungtay.example.vn/r/") and "?s=" in rows[-1][13]
    page_csv = w.recorder.client.get("/tra-cuu.csv?q=nguyen+van").get_data(as_text=True)
    assert len(list(csv.reader(io.StringIO(page_csv)))) == 2


@pytest.mark.parametrize("params, field", [
    ({"q": "ng"}, "q"), ({"q": "đ "}, "q"), ({"amount_vnd": "5.5"}, "amount_vnd"),
    ({"amount_vnd": "abc"}, "amount_vnd"), ({"min_vnd": 10, "max_vnd": 5}, "max_vnd"),
    ({"amount_vnd": 5, "min_vnd": 1}, "amount_vnd"), ({"from": "2025-13-01"}, "from"),
    ({"from": "2025-03-02", "to": "2025-03-01"}, "to"), ({"reference": "12"}, "reference"),
    ({"reference": "12a4"}, "reference"), ({"sort": "cheapest"}, "sort"), ({"page_size": 101}, "page_size"),
    ({"page": 0}, "page"), ({"page": DEPTH // 20 + 1}, "page"),
])
def test_bad_input_is_a_vietnamese_problem_and_changes_nothing(w, people, params, field):
    before = db.session.scalar(select(func.count()).select_from(StatementEntry))
    for path in ("/api/v1/statement", "/api/v1/statement.csv"):
        resp = w.recorder.client.get(path, query_string=params)
        assert resp.status_code == 422 and resp.mimetype == "application/problem+json", resp.get_data(as_text=True)
        problem = resp.get_json()
        assert problem["status"] == 422 and field in problem["errors"], problem
        assert problem["errors"][field] and problem["detail"]
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(StatementEntry)) == before


def test_problem_messages_are_vietnamese_first_and_english_on_request(w):
    vi = w.recorder.client.get("/api/v1/statement?q=ab").get_json()
    en = w.recorder.client.get("/api/v1/statement?q=ab", headers={"Accept-Language": "en"}).get_json()
    assert vi["errors"]["q"] == ["Hãy gõ ít nhất 3 chữ hoặc số để tìm."]
    assert en["errors"]["q"] == ["Type at least 3 letters or digits to search."]


def test_the_page_searches_without_javascript_and_shows_cards(w, people):
    client = w.recorder.client
    resp = client.get("/tra-cuu", query_string={"q": "nguyen van an"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and '<html lang="vi">' in html
    assert "Tra cứu đóng góp" in html and "Nguyễn Văn An" in html and "500.000\u00a0₫" in html
    assert "Số khoản đóng góp tìm thấy: 1" in html
    assert f'/r/{people["an"]}?s=' in html
    assert "/tra-cuu.csv?q=nguyen+van+an" in html
    assert "<script" not in html and "style=" not in html
    html = client.get("/tra-cuu?lang=en").get_data(as_text=True)
    assert "Contribution lookup" in html and "Contributions found: 4" in html
    # A GET form sends its empty fields too: they mean "not given", not "wrong".
    resp = client.get("/tra-cuu?q=nguyen+van+an&from=&to=&amount_vnd=&min_vnd=&max_vnd=&reference=&lang=vi")
    assert resp.status_code == 200 and "Số khoản đóng góp tìm thấy: 1" in resp.get_data(as_text=True)


def test_the_page_keeps_the_filters_across_pages(w, people):
    html = w.recorder.client.get("/tra-cuu?page_size=2&min_vnd=1").get_data(as_text=True)
    assert "page=2" in html and "min_vnd=1" in html and "Trang 1/2" in html.replace(" trên ", "/")


def test_the_page_shows_a_readable_error(w, people):
    resp = w.recorder.client.get("/tra-cuu?q=ab&amount_vnd=12abc")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Số tiền chính xác (đồng):" in html and "Hãy nhập số tiền là một số nguyên" in html
    assert 'value="12abc"' in html  # the form keeps what was typed
    html = w.recorder.client.get("/tra-cuu?q=ab").get_data(as_text=True)
    assert "Hãy gõ ít nhất 3 chữ hoặc số để tìm." in html


def test_the_search_is_rate_limited(w, people):
    w.recorder.client.application.config["LEDGER_SEARCH_RATE_LIMIT"] = "2 per minute"
    client = w.recorder.client
    client.environ_base["REMOTE_ADDR"] = "203.0.113.77"  # a counter of its own
    statuses = [client.get("/api/v1/statement?q=rate+limit+probe").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert client.get("/api/v1/statement").mimetype == "application/problem+json"


def test_every_plan_gives_the_same_answers(w, monkeypatch):
    """With PROBE lowered, the same searches take the plans meant for millions of rows (the
    words or the filters match more than PROBE rows): the answers must not change."""
    from ledger.statement import service

    for n in range(8):
        give(w, amount_vnd=1_000_000 + n, received_on=f"2025-03-0{n + 1}", memo=f"ung ho dot {n}")
    give(w, amount_vnd=1_000_003, received_on="2025-03-09", memo="chuyen khoan")
    searches = [{}, {"q": "ung ho"}, {"q": "ung ho", "sort": "largest"}, {"q": "ung ho", "sort": "oldest"},
                {"q": "ung ho", "sort": "smallest", "page_size": 3, "page": 2}, {"min_vnd": 1_000_002},
                {"q": "ung ho", "amount_vnd": 1_000_003}, {"q": "ung ho d", "min_vnd": 1_000_005},
                {"q": "ung ho", "from": "2025-03-02", "to": "2025-03-04"}, {"q": "ung ho dot 3"},
                {"min_vnd": 1_000_001, "max_vnd": 1_000_004, "sort": "oldest"}]
    expected = [numbers(search(w, **params)) for params in searches]
    assert expected[1] == expected[3][::-1] and len(expected[1]) == 8
    assert [i["value_vnd"] for i in search(w, q="ung ho", sort="largest", page_size=3)["items"]] == [
        1_000_007, 1_000_006, 1_000_005]
    assert expected[6] == [search(w, q="ung ho dot 3")["items"][0]["receipt_number"]]
    monkeypatch.setattr(service, "PROBE", 2)
    monkeypatch.setattr(service, "WALK", 2)  # PostgreSQL: the walk falls short, the word index answers
    for params, answer in zip(searches, expected, strict=True):
        assert numbers(search(w, **params)) == answer, params
    broad = search(w, q="ung ho", page_size=3)
    assert (broad["total"], broad["has_next"]) == (None, True)
    assert search(w, q="ung ho dot 3")["total"] == 1
