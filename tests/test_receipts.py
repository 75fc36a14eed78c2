"""Signed receipts as a donor, a passer-by with a phone and an auditor meet them."""
from __future__ import annotations

import copy
import io
import os
import stat
from urllib.parse import urlsplit

import pytest

from ledger.transparency.keys import key_file, signing_key
from ledger.transparency.service import rotate_signing_key
from receipts.__main__ import main as verifier
from receipts.envelope import GENUINE, NOT_GENUINE, VOIDED, Envelope, verify_envelope, verify_payload
from receipts.signing import b64url, from_b64url, load_public_key
from receipts.verify import verify_url
from tests.helpers import build_world

SECRETS = ("Phạm Văn Bình", "001090001234", "0912345678", "Đội Cấn", "ghi chú nội bộ")


def published_keys(client) -> dict:
    keys = client.get("/api/v1/transparency/keys").get_json()["keys"]
    return {k["key_id"]: load_public_key(k["public_key"]) for k in keys}


def public_receipt(client, number) -> dict:
    resp = client.get(f"/api/v1/receipts/{number}")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def envelope_from(answer: dict) -> Envelope:
    return Envelope(answer["payload"], answer["signature"], answer["void"])


def page(client, url: str, lang="vi"):
    """Open a receipt URL as a phone would: only its path and query matter here."""
    parts = urlsplit(url)
    # An app context of its own, as in production: Flask-Babel caches the locale on `g`.
    with client.application.app_context():
        return client.get(parts.path + ("?" + parts.query if parts.query else ""), headers={"Accept-Language": lang})


def three_kinds(w):
    cash = w.recorder.ok(w.contribute(amount_vnd=5_000_000), 201)
    material = w.recorder.ok(w.contribute(kind="material", method="in_kind", item="Xi măng PCB40", unit="bao",
                                          quantity="120.5", unit_value_vnd=95_000), 201)
    labour = w.recorder.ok(w.contribute(kind="labour", method="labour", person_days="12.25",
                                        day_rate_vnd=300_000), 201)
    return cash, material, labour


def test_every_contribution_gets_a_receipt_that_verifies_with_the_published_key(ctx):
    w = build_world(ctx)
    client = w.recorder.client
    keys = published_keys(client)
    assert len(keys) == 1
    for c in three_kinds(w):
        answer = public_receipt(client, c["receipt"]["number"])
        assert answer["status"] == "valid" and answer["void"] is None
        assert answer["url"] == c["receipt"]["url"]
        assert answer["url"].endswith("?s=" + answer["signature"])
        assert verify_envelope(envelope_from(answer), keys).status == GENUINE
        payload = answer["payload"]
        assert payload["number"] == c["receipt"]["number"]
        assert payload["key_id"] in keys and payload["leaf_index"] == c["leaf_index"]
        assert payload["fund"] == {"code": "HNVNN", "name": "Quỹ Vì người nghèo TP Hà Nội",
                                   "committee": "Ủy ban Mặt trận Tổ quốc Việt Nam Thành phố Hà Nội"}
        assert payload["donor"] == "Công ty Cổ phần Sữa Việt Nam"
        assert payload["issued_by"]
    material = public_receipt(client, "HNVNN-2025-000002")["payload"]["given"]
    assert material == {"kind": "material", "item": "Xi măng PCB40", "unit": "bao", "quantity": "120.500",
                        "unit_value_vnd": "95000", "value_vnd": "11447500"}
    labour = public_receipt(client, "HNVNN-2025-000003")["payload"]["given"]
    assert labour == {"kind": "labour", "person_days": "12.25", "day_rate_vnd": "300000", "value_vnd": "3675000"}


def test_receipt_payload_holds_no_personal_data(ctx):
    w = build_world(ctx)
    donor = w.recorder.ok(w.recorder.post("/donors", {
        "kind": "individual", "name": "Phạm Văn Bình", "public_display": "anonymous",
        "id_number": "001090001234", "phone": "0912 345 678", "address": "12 Ngõ 5, Đội Cấn"}), 201)
    c = w.recorder.ok(w.contribute(donor_id=donor["donor_id"], memo="ghi chú nội bộ"), 201)
    number = c["receipt"]["number"]
    answer = w.recorder.client.get(f"/api/v1/receipts/{number}").get_data(as_text=True)
    pdf = w.recorder.client.get(f"/api/v1/receipts/{number}.pdf").get_data()
    html = page(w.recorder.client, c["receipt"]["url"]).get_data(as_text=True)
    assert "Nhà hảo tâm ẩn danh" in answer and "Nhà hảo tâm ẩn danh" in html
    for secret in SECRETS:
        assert secret not in answer and secret not in html
        assert secret.encode() not in pdf
    from receipts.pdf import read_envelopes

    assert read_envelopes(pdf)[0].payload["donor"] == "Nhà hảo tâm ẩn danh"


def _leaves(value, path=()):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, path + (k,))
    else:
        yield path, value


def _altered(value):
    if isinstance(value, bool) or value is None:
        return "x"
    if isinstance(value, int):
        return value + 1
    return value + "0" if value and value[-1].isdigit() else value + "x"


def test_every_single_field_alteration_and_a_flipped_bit_fail(ctx):
    w = build_world(ctx)
    c = w.recorder.ok(w.contribute(amount_vnd=5_000_000, earmark_area_code="00004"), 201)
    answer = public_receipt(w.recorder.client, c["receipt"]["number"])
    keys = published_keys(w.recorder.client)
    payload, signature = answer["payload"], answer["signature"]
    assert verify_payload(payload, signature, keys).status == GENUINE
    leaves = list(_leaves(payload))
    assert len(leaves) >= 20
    for path, value in leaves:
        forged = copy.deepcopy(payload)
        target = forged
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = _altered(value)
        verdict = verify_payload(forged, signature, keys)
        assert verdict.status == NOT_GENUINE, path
    # a pasted name: the same receipt with another donor
    assert verify_payload({**payload, "donor": "Nguyễn Văn Giả"}, signature, keys).status == NOT_GENUINE
    raw = bytearray(from_b64url(signature))
    for bit in (0, 7, 200, 511):
        flipped = bytearray(raw)
        flipped[bit // 8] ^= 1 << (bit % 8)
        assert verify_payload(payload, b64url(bytes(flipped)), keys).status == NOT_GENUINE
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    # the last character's low 4 bits are unused: another spelling of the same bytes is refused
    respelled = signature[:-1] + alphabet[alphabet.index(signature[-1]) ^ 1]
    assert from_b64url(signature) and verify_payload(payload, respelled, keys).status == NOT_GENUINE
    assert verify_payload(payload, "not base64!", keys).status == NOT_GENUINE
    assert verify_payload(payload, "", keys).status == NOT_GENUINE


def test_the_page_says_genuine_not_genuine_or_voided_never_a_server_error(ctx):
    w = build_world(ctx)
    client = w.recorder.client
    c = w.recorder.ok(w.contribute(amount_vnd=5_000_000), 201)
    url = c["receipt"]["url"]
    genuine = page(client, url)
    assert genuine.status_code == 200
    text = genuine.get_data(as_text=True)
    assert "XÁC THỰC" in text and "KHÔNG XÁC THỰC" not in text
    assert "5.000.000" in text and "Công ty Cổ phần Sữa Việt Nam" in text
    # a phone set to English still reads Vietnamese; English is one tap away, and remembered
    assert "XÁC THỰC" in page(client, url, lang="en").get_data(as_text=True)
    english = page(client, url + "&lang=en")
    assert "GENUINE" in english.get_data(as_text=True) and "lang=en" in english.headers["Set-Cookie"]
    assert "GENUINE" in page(client, url).get_data(as_text=True)
    assert "XÁC THỰC" in page(client, url + "&lang=vi").get_data(as_text=True)

    base, _, signature = url.partition("?s=")
    raw = bytearray(from_b64url(signature))
    raw[10] ^= 0x04
    for wrong in (f"{base}?s={b64url(bytes(raw))}", f"{base}?s=%%%", f"{base}?s=", base, f"{base}?s=abc"):
        resp = page(client, wrong)
        assert resp.status_code == 200, wrong
        body = resp.get_data(as_text=True)
        assert "KHÔNG XÁC THỰC" in body, wrong
        assert "5.000.000" in body  # what the ledger records, to compare with the paper
    unknown = page(client, url.replace("000001", "000099"))
    assert unknown.status_code == 404
    assert "KHÔNG XÁC THỰC" in unknown.get_data(as_text=True)

    w.approve(w.recorder.post(f"/contributions/{c['contribution_id']}/void", {"reason": "Nhập trùng giao dịch"}))
    voided = page(client, url).get_data(as_text=True)
    assert "ĐÃ HỦY" in voided and "Nhập trùng giao dịch" in voided
    assert "KHÔNG XÁC THỰC" not in voided


def test_the_page_shows_where_the_contribution_went(ctx):
    w = build_world(ctx)
    c = w.recorder.ok(w.contribute(amount_vnd=5_000_000), 201)
    h = w.household(head_name="Trần Thị Mai")
    w.recorder.ok(w.allocate(h, amount_vnd=2_000_000), 201)
    text = page(w.recorder.client, c["receipt"]["url"]).get_data(as_text=True)
    assert "Hộ Trần T. M." in text and "Phường Ba Đình" in text and "2.000.000" in text
    assert "Trần Thị Mai" not in text


def test_a_voided_receipt_verifies_as_voided_online_and_offline(ctx, tmp_path):
    w = build_world(ctx)
    client = w.recorder.client
    c = w.recorder.ok(w.contribute(amount_vnd=5_000_000), 201)
    w.approve(w.recorder.post(f"/contributions/{c['contribution_id']}/void", {"reason": "Nhập nhầm quỹ"}))
    answer = public_receipt(client, c["receipt"]["number"])
    assert answer["status"] == "voided"
    keys = published_keys(client)
    verdict = verify_envelope(envelope_from(answer), keys)
    assert verdict.status == VOIDED and verdict.details["reason"] == "Nhập nhầm quỹ"
    # a void statement cannot be moved onto another receipt
    other = w.recorder.ok(w.contribute(amount_vnd=1_000_000), 201)
    other_answer = public_receipt(client, other["receipt"]["number"])
    moved = Envelope(other_answer["payload"], other_answer["signature"], answer["void"])
    assert verify_envelope(moved, keys).status == NOT_GENUINE

    pdf = client.get(f"/api/v1/receipts/{c['receipt']['number']}.pdf").get_data()
    (tmp_path / "voided.pdf").write_bytes(pdf)
    key_path = tmp_path / "key.pem"
    key_path.write_text(client.get("/api/v1/transparency/keys").get_json()["keys"][0]["public_key_pem"])
    assert verifier(["verify", str(tmp_path / "voided.pdf"), "--public-key", str(key_path)]) == 2
    assert verify_url(c["receipt"]["url"], keys, fetch=_fetch_with(client)).status == VOIDED


def _fetch_with(client):
    def fetch(url):
        resp = client.get(urlsplit(url).path)
        if resp.status_code == 404:
            import urllib.error

            raise urllib.error.HTTPError(url, 404, "Not Found", {}, io.BytesIO(b""))
        return resp.get_json()
    return fetch


def test_the_qr_code_in_the_pdf_opens_a_page_that_says_genuine(ctx):
    pypdfium2 = pytest.importorskip("pypdfium2")
    zxingcpp = pytest.importorskip("zxingcpp")
    w = build_world(ctx)
    client = w.recorder.client
    c = w.recorder.ok(w.contribute(kind="material", method="in_kind", item="Tôn lạnh", unit="tấm",
                                   quantity="40", unit_value_vnd=180_000), 201)
    resp = client.get(f"/api/v1/receipts/{c['receipt']['number']}.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    image = pypdfium2.PdfDocument(resp.get_data())[0].render(scale=200 / 72).to_pil()
    codes = zxingcpp.read_barcodes(image)
    assert [code.text for code in codes] == [c["receipt"]["url"]]
    assert codes[0].ec_level == "M"  # error correction M, as the issue asks
    opened = page(client, codes[0].text).get_data(as_text=True)
    assert "XÁC THỰC" in opened and "KHÔNG XÁC THỰC" not in opened


def test_offline_verifier_on_pdfs_and_urls(ctx, tmp_path, capsys):
    from receipts.pdf import render_pdf

    w = build_world(ctx)
    client = w.recorder.client
    c = w.recorder.ok(w.contribute(amount_vnd=5_000_000), 201)
    number = c["receipt"]["number"]
    pdf_path, key_path = tmp_path / "r.pdf", tmp_path / "key.pub"
    pdf_path.write_bytes(client.get(f"/api/v1/receipts/{number}.pdf").get_data())
    key_path.write_text(client.get("/api/v1/transparency/keys").get_json()["keys"][0]["public_key"])
    assert verifier(["verify", str(pdf_path), "--public-key", str(key_path)]) == 0
    assert "GENUINE" in capsys.readouterr().out

    answer = public_receipt(client, number)
    forged = Envelope({**answer["payload"], "given": {**answer["payload"]["given"], "amount_vnd": "50000000"}},
                      answer["signature"])
    (tmp_path / "forged.pdf").write_bytes(render_pdf([(forged, c["receipt"]["url"])]))
    assert verifier(["verify", str(tmp_path / "forged.pdf"), "--public-key", str(key_path)]) == 1
    assert "NOT GENUINE" in capsys.readouterr().out

    other_key = tmp_path / "other.pub"
    other_key.write_text(b64url(os.urandom(32)))
    assert verifier(["verify", str(pdf_path), "--public-key", str(other_key)]) == 1
    (tmp_path / "junk.pdf").write_bytes(b"not a pdf")
    assert verifier(["verify", str(tmp_path / "junk.pdf"), "--public-key", str(key_path)]) == 3

    keys = published_keys(client)
    fetch = _fetch_with(client)
    assert verify_url(c["receipt"]["url"], keys, fetch=fetch).status == GENUINE
    base, _, signature = c["receipt"]["url"].partition("?s=")
    assert verify_url(base, keys, fetch=fetch).status == NOT_GENUINE
    assert verify_url(base.replace("000001", "000009") + "?s=" + signature, keys, fetch=fetch).status == NOT_GENUINE
    other = w.recorder.ok(w.contribute(amount_vnd=1_000_000), 201)
    # a genuine signature pasted onto another receipt's number
    swapped = other["receipt"]["url"].partition("?s=")[0] + "?s=" + signature
    assert verify_url(swapped, keys, fetch=fetch).status == NOT_GENUINE


def test_batch_pdf_of_a_fund_and_date_range(ctx):
    from receipts.pdf import read_envelopes

    w = build_world(ctx)
    for day in ("2025-03-01", "2025-03-05", "2025-03-09"):
        w.recorder.ok(w.contribute(received_on=day), 201)
    w.recorder.ok(w.contribute(fund_id=w.commune_fund_id, received_on="2025-03-05"), 201)
    resp = w.recorder.get(f"/funds/{w.fund_id}/receipts.pdf", received_from="2025-03-02", received_to="2025-03-09")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert [e.number for e in read_envelopes(resp.get_data())] == ["HNVNN-2025-000002", "HNVNN-2025-000003"]
    assert w.recorder.client.get(f"/api/v1/funds/{w.fund_id}/receipts.pdf").status_code == 401
    empty = w.recorder.get(f"/funds/{w.fund_id}/receipts.pdf", received_from="2025-04-01")
    assert empty.status_code == 404 and empty.mimetype == "application/problem+json"


def test_key_rotation_keeps_old_receipts_verifiable(ctx):
    w = build_world(ctx)
    client = w.recorder.client
    before = w.recorder.ok(w.contribute(amount_vnd=1_000_000), 201)
    old_id, new_id, archived = rotate_signing_key(ctx)
    assert old_id != new_id and archived.exists()
    after = w.recorder.ok(w.contribute(amount_vnd=2_000_000), 201)
    keys = client.get("/api/v1/transparency/keys").get_json()["keys"]
    assert [(k["key_id"], k["status"]) for k in keys] == [(new_id, "active"), (old_id, "retired")]
    assert public_receipt(client, before["receipt"]["number"])["payload"]["key_id"] == old_id
    assert public_receipt(client, after["receipt"]["number"])["payload"]["key_id"] == new_id
    for c in (before, after):
        text = page(client, c["receipt"]["url"]).get_data(as_text=True)
        assert "XÁC THỰC" in text and "KHÔNG XÁC THỰC" not in text


def test_the_private_key_stays_in_its_owner_only_file(ctx):
    w = build_world(ctx)
    w.recorder.ok(w.contribute(), 201)
    path = key_file(ctx)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    private_pem = path.read_text()
    key = signing_key()
    assert key.key_id in repr(key) and "PRIVATE" not in repr(key)
    body = w.recorder.client.get("/api/v1/transparency/keys").get_data(as_text=True)
    secret_line = private_pem.splitlines()[1]
    assert "PRIVATE" not in body and secret_line not in body
    assert key.key_id in body


def test_contributions_recorded_before_receipts_get_theirs_without_touching_the_journal(ctx):
    """A database of the previous version: contributions, no receipts. The backfill (run by
    `make run`) signs them; a voided one gets its void statement; the journal is unchanged."""
    from ledger.extensions import db
    from ledger.journal.service import verify_journal
    from ledger.receipts.models import Receipt, ReceiptVoid
    from ledger.receipts.service import issue_missing_receipts

    w = build_world(ctx)
    kept = w.recorder.ok(w.contribute(amount_vnd=1_000_000), 201)
    voided = w.recorder.ok(w.contribute(amount_vnd=2_000_000), 201)
    w.approve(w.recorder.post(f"/contributions/{voided['contribution_id']}/void", {"reason": "Ghi trùng"}))
    db.session.execute(ReceiptVoid.__table__.delete())
    db.session.execute(Receipt.__table__.delete())
    db.session.commit()
    assert w.recorder.client.get(f"/api/v1/receipts/{kept['receipt']['number']}").status_code == 404

    assert issue_missing_receipts() == 2
    assert issue_missing_receipts() == 0
    keys = published_keys(w.recorder.client)
    assert verify_envelope(envelope_from(public_receipt(w.recorder.client, kept["receipt"]["number"])),
                           keys).status == GENUINE
    again = verify_envelope(envelope_from(public_receipt(w.recorder.client, voided["receipt"]["number"])), keys)
    assert again.status == VOIDED and again.details["reason"] == "Ghi trùng"
    assert verify_journal() == []


def test_the_signing_key_file_can_be_named_by_the_operator(monkeypatch, tmp_path):
    from ledger.config import load_settings
    from ledger.transparency.keys import load_or_create
    from receipts.signing import SigningKey

    path = tmp_path / "keys" / "ledger.pem"
    monkeypatch.setenv("LEDGER_SIGNING_KEY_FILE", str(path))
    monkeypatch.setenv("LEDGER_INSTANCE_PATH", str(tmp_path / "instance"))
    assert load_settings()["LEDGER_SIGNING_KEY_FILE"] == str(path)
    made = load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    os.chmod(path, 0o644)  # a key others can read is tightened, not used as is
    assert load_or_create(path).key_id == made.key_id == SigningKey.load(path).key_id
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
