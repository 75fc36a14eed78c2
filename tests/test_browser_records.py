"""The daily records in a real browser (Debian's Chromium, driven by Playwright) at phone
width: a cash contribution ending on its receipt (printed and downloaded), materials and
labour typed the Vietnamese way, a household created and allocated to from the pool with
the live panel, a refused over-allocation. Screenshots go to $LEDGER_SCREENSHOTS if set."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from ledger.allocations.models import Allocation
from ledger.contributions.models import Contribution
from ledger.extensions import db
from tests.browser_helpers import fits_the_phone, shot
from tests.helpers import PASSWORD, build_world

PHONE = {"width": 360, "height": 740}


def log_in(page, served, username="recorder"):
    page.goto(f"{served}/staff/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: "/staff/login" not in url)


def test_a_cash_contribution_on_a_phone_ends_on_its_receipt(ctx, served, phone):
    from playwright.sync_api import expect

    w = build_world(ctx)
    page = phone
    log_in(page, served)
    page.goto(f"{served}/staff/contributions/new")
    assert fits_the_phone(page)
    assert page.is_visible("#amount_vnd") and not page.is_visible("#quantity")  # the chosen kind's fields only
    page.fill("#donor_q", "sua viet")
    page.press("#donor_q", "Enter")  # searches without leaving the page
    expect(page.locator("#donor_id")).to_have_value(str(w.donor_id))
    page.fill("#amount_vnd", "1,5 triệu")
    page.fill("#received_on", "01/03/2025")
    page.click("button[data-once]")
    page.wait_for_selector(".field.has-error #amount_vnd")  # said where
    assert page.input_value("#amount_vnd") == "1,5 triệu"  # and what was typed is kept
    page.fill("#amount_vnd", "1.500.000")
    page.click("button[data-once]")
    page.wait_for_selector(".receipt-number")
    shot(page, "records-receipt-360")
    number = page.inner_text(".receipt-number").strip()
    assert number == db.session.scalar(select(Contribution.receipt_number))
    assert "1.500.000" in page.inner_text(".receipt-given") and fits_the_phone(page)
    with page.expect_download() as download:
        page.click(".receipt-actions .button.secondary")
    assert download.value.suggested_filename == f"{number}.pdf"
    assert Path(download.value.path()).read_bytes()[:5] == b"%PDF-"
    with page.context.expect_page() as printed:
        page.click(".receipt-actions .button >> nth=0")
    assert printed.value.url.endswith(f"/api/v1/receipts/{number}.pdf")
    assert page.errors == []


def test_materials_and_labour_typed_the_vietnamese_way(ctx, served, phone):
    build_world(ctx)
    page = phone
    log_in(page, served)
    page.goto(f"{served}/staff/contributions/new")
    page.select_option("#kind", "material")
    assert page.input_value("#method") == "in_kind" and not page.is_visible("#amount_vnd")
    page.fill("#item", "Xi măng PCB40")
    page.fill("#unit", "bao")
    page.fill("#quantity", "12,5")
    page.fill("#unit_value_vnd", "95.000")
    page.fill("#received_on", "02/03/2025")
    page.click("button[data-once]")
    page.wait_for_selector(".receipt-number")
    assert "12,5 bao Xi măng PCB40" in page.inner_text(".receipt-given")
    page.goto(f"{served}/staff/contributions/new")
    page.select_option("#kind", "labour")
    page.fill("#person_days", "3,5")
    page.fill("#day_rate_vnd", "300 000")
    page.fill("#received_on", "03/03/2025")
    page.click("button[data-once]")
    page.wait_for_selector(".receipt-number")
    rows = db.session.execute(select(Contribution.units, Contribution.value_vnd).order_by(Contribution.id)).all()
    assert rows == [(12_500, 1_187_500), (350, 1_050_000)]
    assert page.errors == []


def test_a_household_created_and_allocated_to_from_the_pool(ctx, served, phone):
    w = build_world(ctx)
    w.recorder.ok(w.contribute(amount_vnd=5_000_000), 201)
    page = phone
    log_in(page, served)
    page.goto(f"{served}/staff/households/new")
    page.select_option("#commune_code", "00004")
    page.fill("#head_name", "Trần Thị Bình")
    page.fill("#surveyed_on", "10/02/2025")
    page.click("main form button[type=submit]")
    page.wait_for_selector("ol.timeline")
    assert fits_the_phone(page)
    page.select_option("#status", "approved")
    page.fill("#on", "20/02/2025")
    page.click(".status-form button[type=submit]")
    page.wait_for_selector(".badge-approved")
    page.click("text=" + page.inner_text(".actions .button"))  # "Allocate to this household"
    page.wait_for_selector("#availability .remaining")
    assert "60.000.000" in page.inner_text("#availability .remaining")  # the need, shown at once
    assert "5.000.000" in page.inner_text("#availability .available")
    assert fits_the_phone(page)
    shot(page, "records-allocation-360")
    page.fill("#amount_vnd", "8.000.000")
    page.click("#allocation-form button[type=submit]")
    page.wait_for_selector(".field.has-error #amount_vnd")
    assert "5000000" in page.inner_text("#form-problems")  # refused: how much is available
    shot(page, "records-over-allocation-360")
    page.fill("#amount_vnd", "2.000.000")
    page.click("#allocation-form button[type=submit]")
    page.wait_for_url("**/staff/allocations/*")
    assert db.session.scalar(select(Allocation.units)) == 2_000_000
    assert page.errors == []


def test_the_live_panel_follows_the_household(ctx, served, phone):
    from playwright.sync_api import expect

    w = build_world(ctx)
    w.recorder.ok(w.contribute(amount_vnd=5_000_000), 201)
    first, second = w.household(), w.household(head_name="Lê Văn Cường", approved_amount_vnd=30_000_000)
    page = phone
    log_in(page, served)
    page.goto(f"{served}/staff/allocations/new?household_id={first}")
    assert "60.000.000" in page.inner_text("#availability .remaining")
    page.select_option("#household_id", str(second))
    expect(page.locator("#availability")).to_contain_text("Lê Văn Cường")  # no page string eval: the CSP forbids it
    assert "30.000.000" in page.inner_text("#availability .remaining")
    page.click("#availability details summary")
    page.click("[data-use-lot]")  # a named contribution, chosen from the panel
    assert page.is_checked("input[name=source][value=named]")
    assert page.input_value("#source_contribution").startswith("HNVNN-2025-")
    assert page.errors == []
