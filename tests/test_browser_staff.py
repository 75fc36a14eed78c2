"""The staff's daily work in a real browser (Debian's Chromium, headless, via Playwright),
at a phone's width: log in, record, print, allocate, approve, be refused."""
from __future__ import annotations

import pytest

from ledger.extensions import db
from tests.helpers import PASSWORD, build_world
from tests.test_browser import served  # noqa: F401 (the app on a real port, SQLite only)

PHONE = {"width": 360, "height": 740}


@pytest.fixture()
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium)
        yield browser
        browser.close()


def logged_in(browser, base: str, username: str):
    page = browser.new_context(viewport=PHONE).new_page()
    page.goto(f"{base}/staff/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]:not([form])")
    page.wait_for_url(f"{base}/staff/")
    return page


def fits_the_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], page.url


def record(page, base: str, w, **fields) -> str:
    """Fill the contribution form as a person would; return the receipt page's text."""
    page.goto(f"{base}/staff/contributions/new")
    fits_the_phone(page)
    page.select_option("#donor_id", str(w.donor_id))
    page.select_option("#fund_id", str(w.fund_id))
    page.select_option("#kind", fields.pop("kind", "cash"))
    for name, value in fields.items():
        if name in ("method",):
            page.select_option(f"#{name}", value)
        else:
            page.fill(f"#{name}", value)
    page.fill("#received_on", "01/03/2025")
    with page.expect_navigation():
        page.click("form.record-form button[type=submit]:not([form])")
    problems = page.locator(".error, .flash-error").all_inner_texts()
    assert "/staff/contributions/new" not in page.url, problems
    return page.inner_text("main")


def test_record_contributions_of_the_three_kinds_and_download_the_receipt(ctx, served, browser):  # noqa: F811
    w = build_world(ctx)
    page = logged_in(browser, served, "recorder")
    text = record(page, served, w, amount_vnd="1.500.000", method="bank_transfer")
    assert "HNVNN-2025-000001" in text and "1.500.000" in text
    fits_the_phone(page)
    href = page.get_attribute("a[download]", "href")
    pdf = page.request.get(served + href if href.startswith("/") else href)
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body()[:5] == b"%PDF-"
    assert page.get_attribute("a[target=_blank].button", "href").endswith("HNVNN-2025-000001.pdf")

    text = record(page, served, w, kind="material", item="Xi măng PCB40", unit="bao", quantity="120,5",
                  unit_value_vnd="95000", method="in_kind")
    assert "HNVNN-2025-000002" in text and "Xi măng PCB40" in text
    text = record(page, served, w, kind="labour", person_days="12,5", day_rate_vnd="300.000", method="labour")
    assert "HNVNN-2025-000003" in text
    page.screenshot(path="/tmp/staff-receipt-phone.png", full_page=True)


def test_a_household_created_approved_and_allocated_to_from_the_pool(ctx, served, browser):  # noqa: F811
    w = build_world(ctx)
    w.recorder.ok(w.contribute(amount_vnd=3_000_000), 201)
    page = logged_in(browser, served, "recorder")
    page.goto(f"{served}/staff/households/new")
    fits_the_phone(page)
    page.select_option("#commune_code", "00004")
    page.fill("#head_name", "Trần Thị Mai")
    page.fill("#surveyed_on", "01/02/2025")
    with page.expect_navigation():
        page.click("form:has(#head_name) button[type=submit]:not([form])")
    assert "Trần Thị Mai" in page.inner_text("main")
    fits_the_phone(page)
    page.select_option("#status", "approved")
    page.fill("#on", "10/02/2025")
    with page.expect_navigation():
        page.click("form:has(#status) button[type=submit]:not([form])")
    household_url = page.url
    household_id = household_url.rstrip("/").split("/")[-1]

    page.goto(f"{served}/staff/allocations/new?household_id={household_id}&fund_id={w.fund_id}")
    page.wait_for_selector(".availability, [data-availability]")
    fits_the_phone(page)
    page.fill("#amount_vnd", "2.000.000")
    with page.expect_navigation():
        page.click("#allocation-form button[type=submit]:not([form])")
    assert "2.000.000" in page.inner_text("main")

    # more than the pool holds: refused, saying how much is available, and the form keeps the amount
    page.goto(f"{served}/staff/allocations/new?household_id={household_id}&fund_id={w.fund_id}")
    page.fill("#amount_vnd", "5.000.000")
    with page.expect_navigation():
        page.click("#allocation-form button[type=submit]:not([form])")
    text = page.inner_text("main")
    assert "1.000.000" in text  # what is left
    assert page.input_value("#amount_vnd").replace(".", "") == "5000000"
    fits_the_phone(page)
    page.screenshot(path="/tmp/staff-refused-phone.png", full_page=True)


def test_an_allocation_above_the_threshold_waits_for_a_second_person(ctx, served, browser):  # noqa: F811
    w = build_world(ctx)
    w.recorder.ok(w.contribute(amount_vnd=10_000_000), 201)
    household = w.household()
    ctx.config["LEDGER_APPROVAL_THRESHOLD_VND"] = 1_000_000
    try:
        page = logged_in(browser, served, "recorder")
        page.goto(f"{served}/staff/allocations/new?household_id={household}&fund_id={w.fund_id}")
        page.fill("#amount_vnd", "4000000")
        with page.expect_navigation():
            page.click("#allocation-form button[type=submit]:not([form])")
        assert w.recorder.ok(w.recorder.get(f"/funds/{w.fund_id}"))["balances"][0]["amount_vnd"] == 10_000_000

        checker = logged_in(browser, served, "approver")
        checker.goto(f"{served}/staff/approvals")
        fits_the_phone(checker)
        with checker.expect_navigation():
            checker.click("main a[href*='/staff/approvals/']")
        assert "4.000.000" in checker.inner_text("main")
        with checker.expect_navigation():
            checker.click("form[action$='/approve'] button[type=submit]:not([form])")
        db.session.rollback()  # this test's own session: see what the browser's requests committed
        assert w.recorder.ok(w.recorder.get(f"/funds/{w.fund_id}"))["balances"][0]["amount_vnd"] == 6_000_000
        checker.screenshot(path="/tmp/staff-approved-phone.png", full_page=True)
    finally:
        ctx.config["LEDGER_APPROVAL_THRESHOLD_VND"] = 50_000_000
