"""The staff pages of bank statement imports: the upload with its preview (nothing
recorded), "Record it" from the kept upload (a second time: nothing new), a malformed file
refused row by row, a large file committed by a background job, the batches, a batch with
its reconciliation, voiding a batch (approvers only), who may see and who may upload; and
the preview on a phone in a real browser."""
from __future__ import annotations

import io
import json
import re
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ledger.contributions.models import Contribution
from ledger.extensions import db
from ledger.imports.models import ImportBatch
from ledger.imports.service import file_sha256
from ledger.jobs.runner import work
from ledger.journal.service import not_reversed
from tests.browser_helpers import fits_the_phone, shot
from tests.helpers import PASSWORD, api_for, build_world, make_user
from tests.web_helpers import csrf_token, login, text_of

SAMPLES = Path(__file__).resolve().parent / "data" / "statements"
VCB1 = SAMPLES / "vietcombank-2025-03-part1.csv"
VTB1 = SAMPLES / "vietinbank-2025-03-part1.xlsx"
PAGE = "/staff/imports"
PHONE = {"width": 375, "height": 812}


def expected(path: Path) -> dict:
    return json.loads(path.with_name(path.name.rsplit(".", 1)[0] + ".expected.json").read_text())


@pytest.fixture()
def world(ctx):
    w = build_world(ctx)
    make_user("auditor", "auditor")
    # Fifteen cash pledges to the province fund: the samples' memos name P000001 … P000015.
    for _ in range(15):
        w.recorder.ok(w.recorder.post("/pledges", {
            "campaign_id": w.campaign_id, "fund_id": w.fund_id, "donor_id": w.donor_id, "kind": "cash",
            "amount_vnd": 500_000_000}), 201)
    return w


def _client(app, username):
    client = app.test_client()
    login(client, username)
    return client


def _contributions() -> tuple[int, int]:
    db.session.rollback()
    count, total = db.session.execute(select(func.count(), func.coalesce(func.sum(Contribution.units), 0))
                                      .where(not_reversed(Contribution.txn_id))).one()
    return int(count), int(total)


def _batches() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(ImportBatch))


def _preview(client, world, path: Path, data: bytes | None = None, **fields):
    token = csrf_token(text_of(client.get(PAGE)))
    body = {"csrf_token": token, "fund_id": str(world.fund_id), "campaign_id": "", "bank": "",
            "file": (io.BytesIO(path.read_bytes() if data is None else data), path.name)}
    body.update(fields)
    return client.post(PAGE, data=body, content_type="multipart/form-data")


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', html)
    assert match, f"no {name} on the page"
    return unescape(match.group(1))


def _commit_fields(html: str) -> dict:
    """The hidden fields of the preview's "Record it" form."""
    form = html[html.index('action="/staff/imports/commit"'):]
    form = form[:form.index("</form>")]
    return {name: _hidden(form, name)
            for name in ("csrf_token", "form_token", "sha256", "file_name", "fund_id", "campaign_id", "bank",
                         "mapping")}


def _figure(html: str, ident: str) -> str:
    match = re.search(rf'id="{ident}">([^<]*)<', html)
    assert match, ident
    return unescape(match.group(1)).strip()


def test_the_preview_counts_and_records_nothing(ctx, world):
    truth = expected(VCB1)
    client = _client(ctx, "recorder")
    resp = _preview(client, world, VCB1)
    html = text_of(resp)
    assert resp.status_code == 200, html[:2000]
    assert _figure(html, "count-lines") == str(truth["lines"])
    assert _figure(html, "count-new") == str(truth["credits"])
    assert _figure(html, "count-debit") == str(truth["debits"])
    assert _figure(html, "count-duplicate") == "0"
    assert int(_figure(html, "count-pledge")) > 0
    assert _figure(html, "total-new").replace("\u00a0", " ") == "727.650.000 ₫"
    assert "Vietcombank" in html and truth["account"] in html
    assert "1.250.000.000" in html and "1.631.084.000" in html  # opening and closing balances
    assert "P000002" in html and truth["refs"][0] in html
    assert html.count('<tr class="line-') == 200  # the first 200 lines of 400
    assert "0011001932418" in html
    # Memos are shown to a recorder (who enters them), not to an auditor without the grant.
    assert "LY HUU NAM UH P000002" in html
    assert _contributions() == (0, 0) and _batches() == 0
    # The upload is kept for the commit, named by its hash.
    sha = file_sha256(VCB1.read_bytes())
    assert _commit_fields(html)["sha256"] == sha
    assert (Path(ctx.config["INSTANCE_PATH"]) / "uploads" / f"preview-{sha}.statement").read_bytes() == \
        VCB1.read_bytes()


def test_record_it_then_again_records_nothing_new(ctx, world):
    truth = expected(VCB1)
    client = _client(ctx, "recorder")
    client.get(PAGE + "?lang=en")  # the messages checked below, in English (the msgids)
    fields = _commit_fields(text_of(_preview(client, world, VCB1)))
    done = client.post("/staff/imports/commit", data=fields)
    assert done.status_code == 303, text_of(done)[:2000]
    assert re.fullmatch(r".*/staff/imports/batches/\d+", done.headers["Location"])
    assert _contributions() == (truth["credits"], truth["credit_total_vnd"])
    batch_page = text_of(client.get(done.headers["Location"]))
    assert "Recorded 385 contributions, 727.650.000 ₫" in batch_page
    # The same form again (a double click): recorded once, and the page says so.
    again = client.post("/staff/imports/commit", data=fields)
    assert again.status_code == 303 and again.headers["Location"] == done.headers["Location"]
    assert "already imported" in text_of(client.get(again.headers["Location"]))
    assert _contributions()[0] == truth["credits"] and _batches() == 1
    # A new upload of the same file: its preview says every line is already there…
    html = text_of(_preview(client, world, VCB1))
    assert _figure(html, "count-duplicate") == str(truth["lines"]) and _figure(html, "count-new") == "0"
    assert 'action="/staff/imports/commit"' not in html
    # …and a "Record it" sent anyway (another tab) records nothing new, without failing.
    fresh = dict(fields, form_token="another-form-token-123456")
    nothing = client.post("/staff/imports/commit", data=fresh)
    assert nothing.status_code == 303, text_of(nothing)[:1000]
    assert nothing.headers["Location"] == done.headers["Location"]
    assert _contributions()[0] == truth["credits"] and _batches() == 1
    assert "Nothing new: every line was imported before" in text_of(client.get(nothing.headers["Location"]))


def test_a_commit_refuses_an_unknown_or_changed_upload(ctx, world):
    client = _client(ctx, "recorder")
    fields = _commit_fields(text_of(_preview(client, world, VCB1)))
    unknown = client.post("/staff/imports/commit", data=dict(fields, sha256="0" * 64))
    assert unknown.status_code == 422
    traversal = client.post("/staff/imports/commit", data=dict(fields, sha256="../../etc/passwd"))
    assert traversal.status_code == 422
    kept = Path(ctx.config["INSTANCE_PATH"]) / "uploads" / f"preview-{fields['sha256']}.statement"
    kept.write_bytes(VCB1.read_bytes().replace(b"20.000", b"30.000", 1))
    changed = client.post("/staff/imports/commit", data=fields)
    assert changed.status_code == 422
    assert _contributions() == (0, 0) and _batches() == 0


def test_a_malformed_file_is_refused_with_its_row_and_reason(ctx, world):
    data = VCB1.read_bytes().decode("utf-8-sig")
    first = data.index(",20.000,")
    bad = (data[:first] + ",20.0x0," + data[first + len(",20.000,"):]).encode("utf-8-sig")
    row = data[:first].count("\n") + 1
    client = _client(ctx, "recorder")
    resp = _preview(client, world, VCB1, data=bad)
    html = text_of(resp)
    assert resp.status_code == 422, html[:2000]
    refusal = html[html.index('id="refusal"'):]
    refusal = unescape(refusal[:refusal.index("</div>")])
    assert re.search(rf"\b{row}\b", refusal) and "20.0x0" in refusal, refusal
    assert 'action="/staff/imports/commit"' not in html
    assert _contributions() == (0, 0) and _batches() == 0


# A bank without a preset: headers in English, one signed amount column, month first.
OTHER_BANK = (
    b"Techcombank - Lich su giao dich\n"
    b"Account: 19036612345678\n"
    b"\n"
    b"Booking date,Ref,Remitter,Description,Amount,Balance\n"
    b"03/01/2025 09:15,TCB001,NGUYEN VAN AN,UH P000005 ung ho,\"+1,000,000\",\"11,000,000\"\n"
    b"03/02/2025 10:00,TCB002,,Phi SMS,-11000,\"10,989,000\"\n"
    b"03/03/2025,TCB003,TRAN THI BINH,ung ho xoa nha tam,\"500,000\",\"11,489,000\"\n"
)
OTHER_BANK_COLUMNS = {"map_date": "booking date", "map_memo": "DESCRIPTION", "map_amount": "Amount",
                      "map_reference": "Ref", "map_balance": "Balance", "map_payer_name": "Remitter",
                      "map_date_format": "%m/%d/%Y"}


def test_another_banks_statement_by_its_columns(ctx, world):
    """Bank "another": the columns named on the form are read, previewed and recorded; a
    mapping missing its memo column is refused, saying so, and records nothing."""
    client = _client(ctx, "recorder")
    path = Path("techcombank.csv")
    missing = _preview(client, world, path, OTHER_BANK, bank="custom",
                       **{k: v for k, v in OTHER_BANK_COLUMNS.items() if k != "map_memo"})
    assert missing.status_code == 422
    assert "phải có cột nội dung" in text_of(missing) and _contributions() == (0, 0)
    nothing = _preview(client, world, path, OTHER_BANK, bank="custom")
    assert nothing.status_code == 422 and _contributions() == (0, 0)

    html = text_of(_preview(client, world, path, OTHER_BANK, bank="custom", **OTHER_BANK_COLUMNS))
    assert _figure(html, "count-new") == "2" and _figure(html, "count-debit") == "1"
    assert _figure(html, "count-pledge") == "1" and "P000005" in html
    fields = _commit_fields(html)
    assert fields["bank"] == "custom" and json.loads(fields["mapping"])["memo"] == "DESCRIPTION"
    done = client.post("/staff/imports/commit", data=fields)
    assert done.status_code == 303, text_of(done)[:2000]
    assert _contributions() == (2, 1_500_000) and _batches() == 1


def test_a_large_statement_is_recorded_by_a_background_job(ctx, world, monkeypatch):
    monkeypatch.setitem(ctx.config, "LEDGER_IMPORT_SYNC_LINES", 50)
    truth = expected(VCB1)
    client = _client(ctx, "recorder")
    fields = _commit_fields(text_of(_preview(client, world, VCB1)))
    queued = client.post("/staff/imports/commit", data=fields)
    assert queued.status_code == 303, text_of(queued)[:1000]
    job_url = queued.headers["Location"]
    assert re.fullmatch(r".*/staff/imports/jobs/\d+", job_url)
    page = text_of(client.get(job_url))
    assert 'http-equiv="refresh"' in page and "<progress" in page
    assert _contributions() == (0, 0)
    assert work(ctx, once=True) == 1
    db.session.rollback()
    page = text_of(client.get(job_url))
    assert 'http-equiv="refresh"' not in page
    batch_id = db.session.scalar(select(ImportBatch.id))
    assert f"/staff/imports/batches/{batch_id}" in page
    assert _contributions() == (truth["credits"], truth["credit_total_vnd"])


def test_the_batch_page_the_reconciliation_and_the_void(ctx, world):
    truth = expected(VTB1)
    recorder = _client(ctx, "recorder")
    fields = _commit_fields(text_of(_preview(recorder, world, VTB1)))
    batch_url = recorder.post("/staff/imports/commit", data=fields).headers["Location"]
    assert _contributions()[0] == truth["credits"]
    html = text_of(recorder.get(batch_url))
    assert 'id="reconciliation"' in html
    closing = f"{truth['closing_vnd']:,}".replace(",", ".")
    assert closing in _figure(html, "bank-closing")
    assert _figure(html, "unexplained").startswith("0")
    assert html.count('<tr class="line-') == 100 and "?page=2" in html  # 100 lines a page
    assert html.count('<tr class="line-', 0) == 100
    assert 'action="' + batch_url + '/void"' not in html  # a recorder may not void
    token = csrf_token(html)
    refused = recorder.post(batch_url + "/void", data={"csrf_token": token, "reason": "sai quỹ"})
    assert refused.status_code == 403
    assert _contributions()[0] == truth["credits"]
    # The list of batches.
    listing = text_of(recorder.get("/staff/imports/batches"))
    assert batch_url in listing and VTB1.name in listing
    # The approver voids it, with a reason.
    approver = _client(ctx, "approver")
    html = text_of(approver.get(batch_url))
    assert 'action="' + batch_url + '/void"' in html
    form = html[html.index('action="' + batch_url + '/void"'):]
    empty = approver.post(batch_url + "/void", data={"csrf_token": _hidden(form, "csrf_token"),
                                                      "form_token": _hidden(form, "form_token"), "reason": ""})
    assert empty.status_code == 422 and _contributions()[0] == truth["credits"]
    voided = approver.post(batch_url + "/void", data={"csrf_token": _hidden(form, "csrf_token"),
                                                       "form_token": _hidden(form, "form_token"),
                                                       "reason": "Nhập nhầm quỹ"})
    assert voided.status_code == 303, text_of(voided)[:1000]
    assert _contributions() == (0, 0)
    html = text_of(approver.get(batch_url))
    assert "Nhập nhầm quỹ" in html and 'action="' + batch_url + '/void"' not in html
    # Voided again (an old form): a readable refusal, not an error page.
    again = approver.post(batch_url + "/void", data={"csrf_token": _hidden(form, "csrf_token"),
                                                     "form_token": "another-form-token-123456",
                                                     "reason": "lần nữa"})
    assert again.status_code == 409 and "<html" in text_of(again)


def test_an_auditor_sees_batches_without_memos_but_may_not_upload(ctx, world):
    recorder = _client(ctx, "recorder")
    fields = _commit_fields(text_of(_preview(recorder, world, VCB1)))
    batch_url = recorder.post("/staff/imports/commit", data=fields).headers["Location"]
    auditor = _client(ctx, "auditor")
    assert auditor.get(PAGE).status_code == 403
    token = csrf_token(text_of(auditor.get("/staff/imports/batches")))
    upload = auditor.post(PAGE, data={"csrf_token": token, "fund_id": str(world.fund_id),
                                      "file": (io.BytesIO(VCB1.read_bytes()), VCB1.name)},
                          content_type="multipart/form-data")
    assert upload.status_code == 403
    assert auditor.post("/staff/imports/commit", data=dict(fields, csrf_token=token)).status_code == 403
    assert auditor.get("/staff/imports/batches").status_code == 200
    html = text_of(auditor.get(batch_url))
    assert 'id="reconciliation"' in html and "LY HUU NAM UH P000002" not in html
    assert "LY HUU NAM UH P000002" in text_of(recorder.get(batch_url))
    # The menu: the upload page for those who may record, not for the auditor.
    assert 'href="/staff/imports"' in text_of(recorder.get("/staff/"))
    assert 'href="/staff/imports"' not in text_of(auditor.get("/staff/"))
    assert ctx.test_client().get("/staff/imports/batches").status_code == 302  # log in first


def test_the_preview_on_a_phone(ctx, world, served, phone):
    db.session.commit()
    api_for(ctx, "recorder")
    phone.goto(f"{served}/staff/login")
    phone.fill("#username", "recorder")
    phone.fill("#password", PASSWORD)
    phone.click("main button[type=submit]")
    phone.wait_for_url(f"{served}/staff/")
    phone.goto(f"{served}{PAGE}")
    assert fits_the_phone(phone)
    phone.click("#column-mapping summary")  # another bank's columns: folded away until asked for
    assert phone.locator("#map_date").is_visible() and fits_the_phone(phone)
    phone.screenshot(path="/tmp/import_mapping_phone.png", full_page=True)
    phone.set_input_files("#file", str(VCB1))
    phone.select_option("#fund_id", str(world.fund_id))
    with phone.expect_navigation():
        phone.click("form.import-form button[type=submit]")
    assert phone.locator("#count-new").inner_text() == str(expected(VCB1)["credits"])
    assert fits_the_phone(phone)
    phone.locator("#preview").scroll_into_view_if_needed()
    phone.evaluate("document.getElementById('preview').scrollIntoView()")
    phone.screenshot(path="/tmp/import_phone.png", full_page=False)  # the preview's figures
    phone.screenshot(path="/tmp/import_phone_full.png", full_page=True)
    shot(phone, "staff-import-preview")
    with phone.expect_navigation():
        phone.click("form.import-commit button[type=submit]")
    assert "/staff/imports/batches/" in phone.url
    assert fits_the_phone(phone)
    phone.evaluate("document.getElementById('reconciliation').scrollIntoView()")
    phone.screenshot(path="/tmp/import_batch_phone.png", full_page=False)
    shot(phone, "staff-import-batch")
    assert phone.errors == []
