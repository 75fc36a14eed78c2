"""The receipt PDF and the Vietnamese formatting it prints: no database, no Flask."""
from __future__ import annotations

import io
import re
import unicodedata

import pypdfium2 as pdfium
import pytest
import zxingcpp
from pypdf import PdfReader
from reportlab.pdfgen.canvas import Canvas

from receipts.envelope import Envelope, verify_envelope
from receipts.payload import build_payload, build_void_statement, canonical_bytes
from receipts.pdf import PAGE_H, PAGE_W, read_envelopes, render_pdf
from receipts.qr import receipt_url
from receipts.signing import SigningKey
from receipts.words import format_date, format_decimal, format_vnd, vnd_in_words

KEY = SigningKey.generate()
PUBLIC_URL = "https://minhbach.mattran.hanoi.gov.vn"
LONG_FUND = ("Quỹ Vì người nghèo và An sinh xã hội thành phố Hà Nội do Ủy ban Mặt trận Tổ quốc Việt Nam "
             "thành phố quản lý và điều hành")
LONG_DONOR = ("Tổng Công ty Cổ phần Đầu tư Xây dựng và Thương mại Dịch vụ Phát triển Nông thôn Miền núi "
              "phía Bắc Việt Nam (chi nhánh Thanh Hóa), Công đoàn cơ sở và Đoàn Thanh niên Cộng sản Hồ Chí Minh")
CASH = {"kind": "cash", "amount_vnd": 5_000_000, "value_vnd": 5_000_000}
CEMENT = {"kind": "material", "item": "Xi măng PCB40", "unit": "tấn", "quantity": "1250.500",
          "unit_value_vnd": 1_450_000, "value_vnd": 1_813_225_000}
LABOUR = {"kind": "labour", "person_days": "12.50", "day_rate_vnd": 300_000, "value_vnd": 3_750_000}


def receipt(number: str, resource: dict, *, donor: str = "Công ty Cổ phần Sữa Việt Nam", fund_name: str = "Quỹ Vì "
            "người nghèo thành phố Hà Nội", void_reason: str | None = None, earmark: dict | None = None
            ) -> tuple[Envelope, str]:
    payload = build_payload(
        number=number, fund={"code": "HN-VNN", "name": fund_name,
                             "committee": "ỦY BAN MẶT TRẬN TỔ QUỐC VIỆT NAM THÀNH PHỐ HÀ NỘI"},
        campaign={"code": "XNT-2025", "name": "Chung tay xóa nhà tạm, nhà dột nát"}, received_on="2025-07-05",
        donor=donor, donor_kind="business", method="bank_transfer", resource=resource, earmark=earmark,
        issued_by="Nguyễn Thị Thu Hà", issued_at="2025-07-05T02:15:00Z", key_id=KEY.key_id, leaf_index=4242)
    envelope = Envelope(payload, KEY.sign(canonical_bytes(payload)))
    if void_reason:
        statement = build_void_statement(number=number, voided_on="2025-07-10", reason=void_reason,
                                         key_id=KEY.key_id)
        envelope.void = {"statement": statement, "signature": KEY.sign(canonical_bytes(statement))}
    return envelope, receipt_url(PUBLIC_URL, number, envelope.signature)


def page_texts(pdf: bytes) -> list[str]:
    """Each page's text, NFC, with every run of white space (NBSP included) as one space."""
    reader = PdfReader(io.BytesIO(pdf))
    return [re.sub(r"\s+", " ", unicodedata.normalize("NFC", page.extract_text())) for page in reader.pages]


def decode_qr(pdf: bytes, page: int = 0, dpi: int = 170) -> list[str]:
    image = pdfium.PdfDocument(pdf)[page].render(scale=dpi / 72).to_pil()
    return [barcode.text for barcode in zxingcpp.read_barcodes(image)]


# --- what the page says --------------------------------------------------------------------------------------

def test_cash_material_and_labour_pages_print_their_vietnamese_text_intact():
    pdf = render_pdf([receipt("HN-2025-000123", CASH), receipt("HN-2025-000124", CEMENT),
                      receipt("HN-2025-000125", LABOUR)])
    cash, material, labour = page_texts(pdf)
    for text in (cash, material, labour):
        assert "GIẤY XÁC NHẬN ĐÓNG GÓP" in text
        assert "ỦY BAN MẶT TRẬN TỔ QUỐC VIỆT NAM THÀNH PHỐ HÀ NỘI" in text
        assert "Quỹ Vì người nghèo thành phố Hà Nội" in text
        assert "Công ty Cổ phần Sữa Việt Nam" in text
        assert "Chung tay xóa nhà tạm, nhà dột nát" in text
        assert "Người lập: Nguyễn Thị Thu Hà" in text
        assert "Mã khóa ký: " + KEY.key_id in text
        assert "4242" in text
        assert "Quét mã QR bằng camera điện thoại để kiểm tra giấy xác nhận này là thật." in text
        assert "ĐÃ HỦY" not in text
    assert "Số: HN-2025-000123" in cash and "05/07/2025" in cash
    assert "5.000.000 ₫" in cash
    assert "Bằng chữ: Năm triệu đồng chẵn" in cash
    assert "Chuyển khoản" in cash
    assert "Xi măng PCB40" in material
    assert "1.250,5 tấn" in material
    assert "1.450.000 ₫/tấn" in material
    assert "1.813.225.000 ₫" in material
    assert "Một tỷ tám trăm mười ba triệu hai trăm hai mươi lăm nghìn đồng chẵn" in material
    assert "12,5 ngày công × 300.000 ₫ = 3.750.000 ₫" in labour
    assert "Ba triệu bảy trăm năm mươi nghìn đồng chẵn" in labour


def test_earmark_and_anonymous_donor_are_printed():
    earmark = {"area_code": "38001", "area_name": "Xã Mường Lát", "household": "Hộ ông Lò Văn Minh"}
    envelope, url = receipt("HN-2025-000130", CASH, earmark=earmark)
    envelope.payload["donor"] = "Nhà hảo tâm ẩn danh"
    (text,) = page_texts(render_pdf([(envelope, url)]))
    assert "Chỉ định: Hộ ông Lò Văn Minh — Xã Mường Lát (mã 38001)" in text
    assert "Nhà hảo tâm ẩn danh" in text


def test_long_names_wrap_inside_the_page_margins():
    envelope, url = receipt("HN-2025-000131", CEMENT, donor=LONG_DONOR, fund_name=LONG_FUND,
                            earmark={"household": "Hộ bà " + "Nguyễn Thị Minh Khai " * 6})
    pdf = render_pdf([(envelope, url)])
    page = pdfium.PdfDocument(pdf)[0]
    textpage = page.get_textpage()
    left, right = 15 * 72 / 25.4 - 1, PAGE_W - 15 * 72 / 25.4 + 1
    for i in range(textpage.count_chars()):
        x0, y0, x1, y1 = textpage.get_charbox(i)
        if x1 > x0:  # spaces have empty boxes
            assert left <= x0 and x1 <= right and 0 <= y0 and y1 <= PAGE_H, f"character {i} outside the margins"
    text = re.sub(r"\s+", " ", textpage.get_text_range())
    assert LONG_DONOR in text and LONG_FUND in text  # wrapped, not cut


def char_boxes(textpage, needle: str) -> list[tuple[float, float, float, float]]:
    found = textpage.search(needle).get_next()
    assert found is not None, f"{needle!r} is not on the page"
    index, count = found
    return [textpage.get_charbox(i) for i in range(index, index + count)]


def test_fields_at_their_longest_stay_clear_of_the_footer():
    # Every text at its column's limit (donor, fund, campaign 300; item, area, household 200).
    words = "Mường Lát Quỳnh Phụ Hưởng Đoàn Nguyễn " * 20
    envelope, url = receipt("HN-2025-000299", {**CEMENT, "item": words[:200]}, donor=words[:300],
                            fund_name=words[:300], void_reason=words[:500],
                            earmark={"area_code": "38001", "area_name": words[:200], "household": words[:200]})
    envelope.payload["campaign"]["name"] = words[:300]
    envelope.payload["fund"]["committee"] = words[:300].upper()
    pdf = render_pdf([(envelope, url)])
    textpage = pdfium.PdfDocument(pdf)[0].get_textpage()
    body_bottom = min(box[1] for box in char_boxes(textpage, "Xin trân trọng cảm ơn!"))
    footer_top = max(box[3] for box in char_boxes(textpage, "Quét mã QR"))
    assert body_bottom > footer_top + 10
    title = char_boxes(textpage, "GIẤY XÁC NHẬN ĐÓNG GÓP")
    void_box_text = char_boxes(textpage, "ĐÃ HỦY ngày 10/07/2025")
    assert min(b[1] for b in title) > max(b[3] for b in void_box_text)
    assert decode_qr(pdf, dpi=150) == [url]


# --- the QR code ---------------------------------------------------------------------------------------------

def test_qr_code_on_the_page_decodes_to_the_given_url():
    envelope, url = receipt("HN-2025-000123", CASH)
    assert decode_qr(render_pdf([(envelope, url)])) == [url]


def test_qr_code_of_a_voided_long_receipt_still_decodes():
    envelope, url = receipt("HN-2025-000126", CEMENT, donor=LONG_DONOR, fund_name=LONG_FUND,
                            void_reason="Nhập trùng giao dịch")
    assert decode_qr(render_pdf([(envelope, url)]), dpi=150) == [url]


# --- attached envelopes --------------------------------------------------------------------------------------

def test_read_envelopes_returns_a_batchs_envelopes_in_page_order():
    # Pages deliberately out of number order: the name tree is sorted, the pages are not.
    docs = [receipt("HN-2025-000300", CASH), receipt("HN-2025-000100", CEMENT, void_reason="Sai số tiền"),
            receipt("HN-2025-000200", LABOUR)]
    pdf = render_pdf(docs)

    envelopes = read_envelopes(pdf)

    assert [e.number for e in envelopes] == ["HN-2025-000300", "HN-2025-000100", "HN-2025-000200"]
    for got, (sent, _) in zip(envelopes, docs, strict=True):
        assert got.payload == sent.payload
        assert got.signature == sent.signature
        assert got.void == sent.void
    statuses = [verify_envelope(e, {KEY.key_id: KEY.public_key}).status for e in envelopes]
    assert statuses == ["genuine", "voided", "genuine"]
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 3
    assert sorted(reader.attachments) == ["HN-2025-000100.json", "HN-2025-000200.json", "HN-2025-000300.json"]
    assert reader.attachments["HN-2025-000100.json"] == [docs[1][0].to_json().encode()]
    tree = reader.trailer["/Root"]["/Names"]["/EmbeddedFiles"]["/Names"]
    keys = [str(tree[i]) for i in range(0, len(tree), 2)]
    assert keys == sorted(keys)


def test_a_batch_with_one_number_twice_is_refused():
    with pytest.raises(ValueError, match="same number"):
        render_pdf([receipt("HN-2025-000001", CASH), receipt("HN-2025-000001", LABOUR)])


def test_read_envelopes_refuses_what_is_not_a_receipt_pdf():
    with pytest.raises(ValueError, match="not a PDF"):
        read_envelopes(b"GIF89a not a pdf at all")
    with pytest.raises(ValueError, match="PDF"):
        read_envelopes(b"%PDF-1.4\n garbage")
    out = io.BytesIO()
    canvas = Canvas(out)
    canvas.drawString(100, 100, "a PDF without a receipt")
    canvas.showPage()
    canvas.save()
    with pytest.raises(ValueError, match="no receipt"):
        read_envelopes(out.getvalue())


# --- voided receipts -----------------------------------------------------------------------------------------

def test_a_voided_receipt_says_so_with_the_reason_and_the_date():
    reason = "Nhập trùng giao dịch chuyển khoản, đã lập lại giấy xác nhận số HN-2025-000127"
    pdf = render_pdf([receipt("HN-2025-000126", CASH, void_reason=reason, donor=LONG_DONOR, fund_name=LONG_FUND)])
    (text,) = page_texts(pdf)
    assert "ĐÃ HỦY" in text
    assert "VOIDED" in text
    assert "10/07/2025" in text
    assert reason in text
    assert "5.000.000 ₫" in text  # what was received stays legible under the mark


# --- formatting ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("amount", "expected"), [
    (0, "0\u00a0₫"), (999, "999\u00a0₫"), (1000, "1.000\u00a0₫"), (5_000_000, "5.000.000\u00a0₫"),
    ("5000000", "5.000.000\u00a0₫"), (9_999_999_999_999, "9.999.999.999.999\u00a0₫"), (-1500, "-1.500\u00a0₫"),
])
def test_format_vnd(amount, expected):
    assert format_vnd(amount) == expected


@pytest.mark.parametrize(("amount", "expected"), [
    (0, "Không đồng chẵn"),
    (15, "Mười lăm đồng chẵn"),
    (21, "Hai mươi mốt đồng chẵn"),
    (24, "Hai mươi tư đồng chẵn"),
    (105, "Một trăm linh năm đồng chẵn"),
    (1010, "Một nghìn không trăm mười đồng chẵn"),
    (1_000_005, "Một triệu không trăm linh năm đồng chẵn"),
    (1_500_000, "Một triệu năm trăm nghìn đồng chẵn"),
    (2_005_000, "Hai triệu không trăm linh năm nghìn đồng chẵn"),
    (5_000_000, "Năm triệu đồng chẵn"),
    ("5000000", "Năm triệu đồng chẵn"),
    (10_000_000_000, "Mười tỷ đồng chẵn"),
    (1_000_000_000_000, "Một nghìn tỷ đồng chẵn"),
    (9_999_999_999_999, "Chín nghìn chín trăm chín mươi chín tỷ chín trăm chín mươi chín triệu chín trăm chín mươi "
                        "chín nghìn chín trăm chín mươi chín đồng chẵn"),
])
def test_vnd_in_words_follows_accounting_usage(amount, expected):
    assert vnd_in_words(amount) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("1234.5", "1.234,5"), ("0.001", "0,001"), ("12.500", "12,5"), ("50.000", "50"), ("0", "0"),
    ("1234567.125", "1.234.567,125"), ("9999999999999.999", "9.999.999.999.999,999"), ("-1234.50", "-1.234,5"),
])
def test_format_decimal_in_vietnamese_notation(text, expected):
    assert format_decimal(text) == expected


def test_no_float_is_accepted_for_money_or_quantities():
    with pytest.raises(TypeError):
        format_vnd(5e6)
    with pytest.raises(TypeError):
        vnd_in_words(5e6)
    with pytest.raises(TypeError):
        format_decimal(0.001)
    with pytest.raises(ValueError):
        format_vnd("5000000.5")  # not a whole number of đồng
    with pytest.raises(ValueError):
        vnd_in_words(-1)


def test_format_date():
    assert format_date("2025-07-05") == "05/07/2025"
    assert format_date("2026-12-31") == "31/12/2026"
    with pytest.raises(ValueError):
        format_date("05/07/2025")
