"""Pages in a real browser (Debian's Chromium, driven by Playwright): what a donor's phone does."""
from __future__ import annotations

import threading
from urllib.parse import urlsplit

import pytest

from ledger.transparency import log
from receipts.signing import b64url, from_b64url
from tests.helpers import build_world

PHONE = {"width": 375, "height": 812}


@pytest.fixture()
def served(ctx, backend):
    """The app on a real HTTP port (the browser needs one)."""
    if backend != "sqlite":
        pytest.skip("the browser's checks do not depend on the database; they run once, on SQLite")
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, ctx, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _outcomes(page) -> dict[str, str]:
    page.wait_for_selector("#browser-check[data-done=true]", timeout=15000)
    return {li.get_attribute("data-check"): li.get_attribute("data-outcome")
            for li in page.query_selector_all(".checks li")}


def test_the_receipt_page_checks_the_receipt_and_its_log_entry_in_the_browser(ctx, served, chromium):
    from playwright.sync_api import sync_playwright

    w = build_world(ctx)
    first = w.recorder.ok(w.contribute(amount_vnd=5_000_000), 201)
    log.publish()
    c = w.recorder.ok(w.contribute(kind="material", method="in_kind", item="Tôn lạnh", unit="tấm",
                                   quantity="40", unit_value_vnd=180_000), 201)
    w.recorder.ok(w.contribute(amount_vnd=1_000_000), 201)  # the checkpoint is larger than the entry
    parts = urlsplit(c["receipt"]["url"])
    url = f"{served}{parts.path}?{parts.query}"
    raw = bytearray(from_b64url(parts.query.removeprefix("s=")))
    raw[0] ^= 1
    altered = f"{served}{parts.path}?s={b64url(bytes(raw))}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium)
        page = browser.new_page(viewport=PHONE)
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        assert _outcomes(page) == {"receipt": "ok", "entry": "ok", "inclusion": "ok", "checkpoint": "ok"}
        assert "XÁC THỰC" in page.inner_text(".verdict")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
        page.goto(altered)
        outcomes = _outcomes(page)
        assert outcomes["receipt"] == "bad" and outcomes["inclusion"] == "ok"
        assert "KHÔNG XÁC THỰC" in page.inner_text(".verdict")
        page.goto(f"{served}{urlsplit(first['receipt']['url']).path}?lang=en")
        assert _outcomes(page)["inclusion"] == "ok" and "NOT GENUINE" in page.inner_text(".verdict")
        assert errors == []
        browser.close()


def test_the_how_to_verify_page(ctx, served, chromium):
    from playwright.sync_api import sync_playwright

    w = build_world(ctx)
    w.recorder.ok(w.contribute(), 201)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium)
        page = browser.new_page(viewport=PHONE)
        page.goto(f"{served}/kiem-chung")
        text = page.inner_text("main")
        assert "Kiểm chứng" in text and "python -m receipts verify-log" in text
        assert "BEGIN PUBLIC KEY" in text and "/log+" in text  # the key, and the note verifier key
        page.goto(f"{served}/kiem-chung?lang=en")
        assert "How to verify" in page.inner_text("main")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        browser.close()
