"""The public portal in a real browser (Debian's Chromium, driven by Playwright) at phone
width: a donor scans the QR code printed on the receipt PDF and sees the households the
gift reached; someone searches the statement without diacritics; the overview with its
charts. Screenshots go to $LEDGER_SCREENSHOTS if set."""
from __future__ import annotations

from urllib.parse import urlsplit

from tests.browser_helpers import fits_the_phone, shot
from tests.test_public_portal import seed_portal
from tests.test_receipts_pdf import decode_qr

PHONE = {"width": 375, "height": 812}


def test_the_receipt_qr_leads_to_the_households_it_reached(ctx, served, phone):
    p = seed_portal(ctx)
    number, _url = p.receipts["business"]
    pdf = ctx.test_client().get(f"/api/v1/receipts/{number}.pdf").get_data()
    [scanned] = decode_qr(pdf)
    parts = urlsplit(scanned)
    assert parts.netloc == "chungtay.example.vn" and parts.path == f"/r/{number}"
    phone.goto(f"{served}{parts.path}?{parts.query}")  # the printed QR, pointed at this server
    assert "XÁC THỰC" in phone.inner_text(".verdict")
    where = phone.inner_text(".where")
    assert "Hộ Nguyễn V. A." in where and "Phường Ba Đình" in where and "30.000.000\xa0₫" in where
    assert "Hộ Trần T. B." in where and "Phường Ngọc Hà" in where
    assert fits_the_phone(phone)
    shot(phone, "portal-receipt-where-it-went")
    phone.click("text=Hộ Nguyễn V. A.")
    phone.wait_for_url("**/ho/*")
    assert "Công ty Cổ phần Sữa Việt Nam" in phone.inner_text("main")
    assert fits_the_phone(phone)
    shot(phone, "portal-household")
    assert phone.errors == []


def test_search_the_statement_without_diacritics(ctx, served, phone):
    seed_portal(ctx)
    phone.goto(f"{served}/tra-cuu")
    phone.fill("input[name=q]", "le van binh")
    phone.press("input[name=q]", "Enter")
    phone.wait_for_url("**/tra-cuu?*")
    results = phone.inner_text("main")
    assert "Lê Văn Bình" in results and "2.000.000\xa0₫" in results
    assert "0903112233" not in results  # the memo's phone is masked
    assert fits_the_phone(phone)
    shot(phone, "portal-statement-search")
    phone.fill("input[name=q]", "ung ho")  # not in any memo here: says so, plainly
    phone.press("input[name=q]", "Enter")
    phone.wait_for_load_state()
    assert "Lê Văn Bình" not in phone.inner_text("main")
    assert phone.errors == []


def test_the_overview_on_a_phone(ctx, served, phone):
    seed_portal(ctx)
    phone.goto(f"{served}/")
    main = phone.inner_text("main")
    assert "166.500.000\xa0₫" in main and "Đã hoàn thành 1/2 căn nhà" in main
    for chart in ("svg.bar", "svg.stack", "svg.columns"):
        box = phone.locator(chart).first.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 5, chart  # drawn, and wide enough to read
    assert fits_the_phone(phone)
    shot(phone, "portal-overview")
    phone.click("text=Thành phố Hà Nội")
    phone.wait_for_url("**area=01*")
    assert "Phường Ba Đình" in phone.inner_text("main")
    assert fits_the_phone(phone)
    shot(phone, "portal-overview-hanoi")
    assert phone.errors == []
