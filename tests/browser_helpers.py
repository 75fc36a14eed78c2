"""What the browser tests share: the app on a real port, a phone-sized Chromium page,
screenshots to $LEDGER_SCREENSHOTS. conftest.py loads it as a plugin, so `served` and
`phone` are fixtures everywhere; a test module using `phone` sets PHONE, its viewport."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

SHOTS = os.environ.get("LEDGER_SCREENSHOTS")


@pytest.fixture()
def served(ctx, backend):
    """The app on a real HTTP port (the browser needs one)."""
    if backend != "sqlite":
        pytest.skip("the pages do not depend on the database here; they run once, on SQLite")
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, ctx, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture()
def phone(request, served, chromium):
    """A Chromium page of the test module's PHONE size; page.errors collects script errors."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        context = browser.new_context(viewport=request.module.PHONE, accept_downloads=True)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        yield page
        browser.close()


def shot(page, name):
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def fits_the_phone(page) -> bool:
    """No sideways scrolling at the page's width."""
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
