"""The staff exports page: who may open it, a CSV streamed from the form (the same bytes as
the API's), an XLSX prepared as a job whose page shows its progress and then its download,
refusals that queue nothing, a double submission that queues once, another's job unseen;
and the page on a phone in a real browser."""
from __future__ import annotations

import io
import re
import zipfile
from html import unescape

import pytest
from sqlalchemy import func, select

from ledger.exports import service as exports
from ledger.extensions import db
from ledger.jobs.models import Job
from ledger.jobs.runner import work
from tests.browser_helpers import fits_the_phone, shot
from tests.helpers import PASSWORD, api_for, build_world, make_user
from tests.web_helpers import login, page_token, text_of

PAGE = "/staff/exports"
PHONE = {"width": 375, "height": 812}


def _world(app):
    w = build_world(app)  # admin, recorder and approver of Hà Nội (01)
    make_user("auditor", "auditor")
    w.auditor = api_for(app, "auditor")
    hcm = w.admin.ok(w.admin.post("/funds", {"code": "HCMVNN", "name": "Quỹ Vì người nghèo TP Hồ Chí Minh",
                                             "area_code": "79"}))
    w.recorder.ok(w.contribute(amount_vnd=10_000_000), 201)
    w.recorder.ok(w.contribute(fund_id=w.commune_fund_id, amount_vnd=3_000_000, received_on="2025-03-05"), 201)
    w.recorder.ok(w.contribute(kind="material", method="in_kind", item="Xi măng PCB40", unit="bao",
                               quantity="2.5", unit_value_vnd=95_001, donor_id=None), 201)
    w.admin.ok(w.contribute(api=w.admin, fund_id=hcm["fund_id"], amount_vnd=7_000_000), 201)
    return w


def _client(app, username):
    client = app.test_client()
    login(client, username)
    return client


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', html)
    assert match, f"no {name} on the page"
    return match.group(1)


def _tokens(client) -> dict:
    resp = client.get(PAGE)
    assert resp.status_code == 200, text_of(resp)[:500]
    html = text_of(resp)
    return {"csrf_token": _hidden(html, "csrf_token"), "form_token": _hidden(html, "form_token")}


def _send(client, tokens=None, **fields):
    body = {"dataset": "contributions", "file_format": "csv", "include_reversed": "y", "mode": "download",
            **(tokens or _tokens(client)), **fields}
    return client.post(PAGE, data=body)


def _jobs() -> int:
    db.session.rollback()  # the test's requests share its session: see what the pages committed
    return db.session.scalar(select(func.count()).select_from(Job))


def _errors(html: str) -> str:
    return unescape(" ".join(re.findall(r'class="error"[^>]*>([^<]*)<', html)))


def test_who_may_open_the_exports_page(ctx):
    _world(ctx)
    for username in ("auditor", "admin"):
        resp = _client(ctx, username).get(PAGE)
        html = text_of(resp)
        assert resp.status_code == 200, username
        assert '<html lang="vi">' in html and "Bộ lọc" in html and "Mã địa bàn" in html  # Vietnamese first
        for name, data in exports.DATASETS.items():  # every dataset the exports know, whoever added it
            # Private fields only for those who may read them: the admin, not this auditor.
            offered = not data.private or username == "admin"
            assert (f'value="{name}"' in html) == offered, (username, name)
        assert 'href="/staff/exports"' in html  # the menu's link
    resp = _client(ctx, "recorder").get(PAGE)
    assert resp.status_code == 403 and 'class="card"' in text_of(resp)
    assert 'href="/staff/exports"' not in text_of(_client(ctx, "recorder").get("/staff/"))  # no link either
    resp = ctx.test_client().get(PAGE)
    assert resp.status_code == 302 and "/staff/login" in resp.headers["Location"]
    recorder = _client(ctx, "recorder")
    resp = recorder.post(PAGE, data={"csrf_token": page_token(recorder, "/staff/"), "dataset": "contributions",
                                     "file_format": "xlsx", "mode": "background"})
    assert resp.status_code == 403
    assert _jobs() == 0


def test_the_form_streams_the_same_csv_as_the_api(ctx):
    w = _world(ctx)
    client = _client(ctx, "auditor")
    # (A streamed answer is read before the next request: the test client shares one context.)
    resp = _send(client, area_code="01", date_from="01/03/2025", date_to="31/03/2025", status="live")
    assert resp.status_code == 200, text_of(resp)[:1000]
    page = resp.get_data()
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert resp.headers["Content-Disposition"] == 'attachment; filename="contributions.csv"'
    api = w.auditor.get("/exports/contributions.csv", area_code="01", date_from="2025-03-01", date_to="2025-03-31",
                        status="live")
    assert api.status_code == 200
    assert page == api.get_data()
    assert b"HCMVNN" not in page and b"BADINH" in page
    # Without "include reversed", other filters, JSON Lines: still the API's bytes.
    page = _send(client, dataset="allocations", file_format="jsonl", include_reversed="", kind="cash").get_data()
    assert page == w.auditor.get("/exports/allocations.jsonl", include_reversed="false", kind="cash").get_data()
    page = _send(client, dataset="postings", fund_id=str(w.commune_fund_id)).get_data()
    assert page and page == w.auditor.get("/exports/postings.csv", fund_id=w.commune_fund_id).get_data()
    assert _jobs() == 0  # a direct download queues nothing


def test_every_dataset_streams_from_the_page_as_from_the_api(ctx):
    w = _world(ctx)
    client = _client(ctx, "admin")  # the admin may read every dataset, private ones too
    for name in exports.DATASETS:  # those added later too
        for fmt in exports.STREAMED:
            resp = _send(client, dataset=name, file_format=fmt)
            assert resp.status_code == 200, (name, fmt, text_of(resp)[:500])
            page = resp.get_data()
            api = w.admin.get(f"/exports/{name}.{fmt}")
            assert api.status_code == 200 and page == api.get_data(), (name, fmt)
    assert _jobs() == 0


def test_an_xlsx_is_a_job_whose_page_shows_progress_then_the_download(ctx):
    _world(ctx)
    client = _client(ctx, "auditor")
    resp = _send(client, file_format="xlsx", mode="download", area_code="01")  # XLSX: always in the background
    assert resp.status_code == 303, text_of(resp)[:1000]
    job_url = resp.headers["Location"]
    [job] = db.session.scalars(select(Job)).all() if _jobs() == 1 else pytest.fail("one job expected")
    assert job_url.endswith(f"/staff/exports/jobs/{job.id}")
    assert job.params == {"what": "contributions", "format": "xlsx",
                          "filters": {"area_code": "01", "include_reversed": True}}

    page = client.get(job_url)
    html = text_of(page)
    assert page.status_code == 200
    assert '<meta http-equiv="refresh" content="2">' in html  # refreshes itself, no script
    assert "Đang chờ" in html and "<progress" in html and "Thành phố Hà Nội (01)" in html
    assert "/download" not in html
    assert client.get(f"{job_url}/download").status_code == 409  # not ready yet

    db.session.rollback()
    assert work(ctx, once=True) == 1
    page = client.get(job_url)
    html = unescape(text_of(page))
    assert 'http-equiv="refresh"' not in html  # finished: no more refreshing
    assert "Hoàn tất" in html or "Xong" in html or "Đã xong" in html, html
    assert re.search(r"3 / 3 [^<]*\(100%\)", html), html
    download = re.search(r'href="([^"]+/download)"', html).group(1)
    resp = client.get(download)
    assert resp.status_code == 200 and resp.mimetype == "application/zip"
    assert "attachment" in resp.headers["Content-Disposition"]
    names = set(zipfile.ZipFile(io.BytesIO(resp.get_data())).namelist())
    assert names == {"contributions.xlsx", "manifest.json", "manifest.json.sig"}
    listing = text_of(client.get(PAGE))  # the page lists the job with its download
    assert f'href="/staff/exports/jobs/{job.id}/download"' in listing and "100%" in listing


def test_a_failed_job_says_why(ctx):
    _world(ctx)
    client = _client(ctx, "auditor")
    resp = _send(client, dataset="contributions", file_format="jsonl", mode="background")
    job_url = resp.headers["Location"]
    db.session.rollback()
    job = db.session.scalars(select(Job)).one()
    job.status, job.error = "failed", "Không đọc được dữ liệu."
    db.session.commit()
    html = text_of(client.get(job_url))
    assert "Không đọc được dữ liệu." in html and 'http-equiv="refresh"' not in html
    assert client.get(f"{job_url}/download").status_code == 409


@pytest.mark.parametrize(("fields", "where", "message"), [
    ({"area_code": "99999"}, "area_code", "Không tìm thấy mã địa bàn 99999."),
    ({"date_from": "10/03/2025", "date_to": "01/03/2025"}, "date_to", "Ngày kết thúc đang trước ngày bắt đầu."),
    ({"date_from": "31/02/2025"}, "date_from", "dd/mm/yyyy"),
    ({"dataset": "postings", "status": "live"}, "status", "postings"),
])
@pytest.mark.parametrize("mode", ["download", "background"])
def test_bad_input_shows_the_form_again_and_queues_nothing(ctx, fields, where, message, mode):
    _world(ctx)
    client = _client(ctx, "auditor")
    resp = _send(client, file_format="xlsx" if mode == "background" else "csv", mode=mode, **fields)
    html = text_of(resp)
    assert resp.status_code == 422, html[:500]
    assert resp.mimetype == "text/html"
    assert message in _errors(html), _errors(html)
    assert re.search(rf'class="field has-error">\s*<label for="{where}"', html)
    for value in fields.values():  # what was typed stays in the form
        assert f'value="{value}"' in html
    assert _jobs() == 0


def test_an_area_bound_auditor_exports_only_its_area(ctx):
    _world(ctx)
    make_user("hn_auditor", "auditor", "01")
    client = _client(ctx, "hn_auditor")
    resp = _send(client, area_code="79")
    assert resp.status_code in (403, 422) and "(01)" in text_of(resp)
    resp = _send(client)  # no area: its own
    assert resp.status_code == 200 and "HCMVNN" not in resp.get_data(as_text=True)
    assert _jobs() == 0


def test_a_double_post_or_a_reload_queues_one_job(ctx):
    _world(ctx)
    client = _client(ctx, "auditor")
    tokens = _tokens(client)
    first = _send(client, tokens, file_format="xlsx", mode="background")
    second = _send(client, tokens, file_format="xlsx", mode="background")  # a double click
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert _jobs() == 1
    # The same export asked again at once from a fresh form (another tab): the same job.
    third = _send(client, None, file_format="xlsx", mode="background")
    assert third.status_code == 303 and third.headers["Location"] == first.headers["Location"]
    assert _jobs() == 1
    # Post/redirect/get: reloading the job's page asks for nothing.
    for _ in range(2):
        assert client.get(first.headers["Location"]).status_code == 200
    assert _jobs() == 1
    # Another export is another job.
    other = _send(client, None, dataset="allocations", file_format="xlsx", mode="background")
    assert other.status_code == 303 and other.headers["Location"] != first.headers["Location"]
    assert _jobs() == 2


def test_another_users_job_is_not_shown_to_a_recorder(ctx):
    _world(ctx)
    auditor = _client(ctx, "auditor")
    job_url = _send(auditor, file_format="xlsx", mode="background").headers["Location"]
    db.session.rollback()
    assert work(ctx, once=True) == 1
    recorder = _client(ctx, "recorder")
    for url in (job_url, f"{job_url}/download"):
        resp = recorder.get(url)
        assert resp.status_code == 404, (url, resp.status_code)
        html = text_of(resp)
        assert "Không có tác vụ" in html and ".zip" not in html and "<progress" not in html
    assert _client(ctx, "admin").get(job_url).status_code == 200  # admins see every job
    assert ctx.test_client().get(job_url).status_code == 302  # log in first


def test_the_page_in_english_and_preset_from_the_address(ctx):
    _world(ctx)
    client = _client(ctx, "auditor")
    html = text_of(client.get(PAGE + "?lang=en"))
    assert "Exports of the ledger" in html and "Contributions received" in html
    assert "Prepare in the background" in html
    assert re.search(r'<input[^>]*checked[^>]*name="include_reversed"|name="include_reversed"[^>]*checked', html)
    html = text_of(client.get(PAGE + "?dataset=allocations&area_code=79"))
    assert re.search(r'<option selected value="allocations"|<option value="allocations" selected', html), html
    assert 'value="79"' in html and re.search(r'name="include_reversed"[^>]*checked|checked[^>]*name="include_reversed"', html)
    html = text_of(client.get(PAGE + "?dataset=allocations&include_reversed="))
    assert not re.search(r'name="include_reversed"[^>]*checked|checked[^>]*name="include_reversed"', html)


# --- in a real browser, on a phone ---------------------------------------------------------


def test_the_exports_page_on_a_phone(ctx, served, phone):
    _world(ctx)
    phone.goto(f"{served}/staff/login")
    phone.fill("#username", "auditor")
    phone.fill("#password", PASSWORD)
    phone.click("main button[type=submit]")
    phone.wait_for_url(f"{served}/staff/")
    phone.goto(f"{served}{PAGE}")
    assert fits_the_phone(phone)
    main = phone.inner_text("main")
    assert "Bộ lọc" in main and "Cuộc vận động" in main and "Mã địa bàn" in main
    # The menu on a phone links to the page.
    phone.click("details.menu > summary")
    assert phone.locator("details.menu a[href='/staff/exports']").is_visible()
    phone.click("details.menu > summary")
    phone.screenshot(path="/tmp/exports_phone.png", full_page=True)
    shot(phone, "staff-exports")
    # A CSV downloads at once from the form.
    phone.select_option("#dataset", "contributions")
    phone.fill("#area_code", "01")
    with phone.expect_download() as info:
        phone.click("button[value=download]")
    assert info.value.suggested_filename == "contributions.csv"
    # An XLSX goes to its job's page, which fits the phone too.
    phone.check("input[name=file_format][value=xlsx]")
    with phone.expect_navigation():
        phone.click("button[value=background]")
    assert "/staff/exports/jobs/" in phone.url
    assert fits_the_phone(phone)
    assert "Đang chờ" in phone.inner_text("main")
    phone.screenshot(path="/tmp/exports_job_phone.png", full_page=True)
    assert phone.errors == []
