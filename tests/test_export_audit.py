"""What an auditor relies on: every export's manifest verifies (streamed ones too), an
export taken at a checkpoint still verifies, and is still covered by the log, after more
writes; and an auditor can read and export but change nothing."""
from __future__ import annotations

import base64
import hashlib
import re

import pytest
from sqlalchemy import select

from ledger.extensions import db
from receipts.export_manifest import MANIFEST, SIGNATURE, verify_export
from receipts.merkle import verify_consistency

from .helpers import api_for, build_world, make_user
from .test_exports import _run_export, _world
from .web_helpers import csrf_token, login


def _streamed(api, path, directory, name, **params):
    """Download a streamed export and its manifest into `directory`, as an auditor would."""
    resp = api.get(path, **params)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_data()
    manifest_id = resp.headers["X-Export-Manifest-Id"]
    links = re.findall(r"<([^>]+)>; rel=\"describedby\"", resp.headers["Link"])
    assert links == [f"/api/v1/exports/manifests/{manifest_id}/{MANIFEST}",
                     f"/api/v1/exports/manifests/{manifest_id}/{SIGNATURE}"]
    directory.mkdir()
    (directory / name).write_bytes(body)
    for link, file in zip(links, (MANIFEST, SIGNATURE), strict=True):
        got = api.client.get(link, headers=api._headers())
        assert got.status_code == 200, got.get_data(as_text=True)
        (directory / file).write_bytes(got.get_data())
    return body, manifest_id


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_streamed_export_has_a_signed_manifest_of_exactly_the_bytes_sent(ctx, tmp_path, fmt):
    from ledger.transparency.log import publish
    from ledger.transparency.service import public_keys

    w = _world(ctx)
    checkpoint = publish()
    db.session.rollback()
    body, _ = _streamed(w.auditor, f"/exports/contributions.{fmt}", tmp_path / "e", f"contributions.{fmt}",
                        area_code="01")
    check = verify_export(tmp_path / "e", public_keys())
    assert check.exit_code == 0, (check.problems, check.unchecked)
    entry = check.manifest["files"][0]
    assert entry["sha256"] == hashlib.sha256(body).hexdigest() and entry["bytes"] == len(body)
    assert entry["rows"] == 4  # Hà Nội's four gifts (the voided one included), not Hồ Chí Minh's
    assert check.manifest["filters"] == {"area_code": "01", "include_reversed": True}
    assert check.manifest["checkpoint"]["size"] == checkpoint.size
    # A changed byte fails it.
    data = bytearray(body)
    data[-5] ^= 1
    (tmp_path / "e" / f"contributions.{fmt}").write_bytes(bytes(data))
    assert verify_export(tmp_path / "e", public_keys()).exit_code == 1


def test_an_unfinished_download_has_no_manifest_and_others_cannot_read_one(ctx, tmp_path):
    w = _world(ctx)
    resp = w.auditor.client.get("/api/v1/exports/postings.csv", headers=w.auditor._headers(), buffered=False)
    manifest_id = resp.headers["X-Export-Manifest-Id"]
    chunks = iter(resp.response)
    next(chunks)  # the BOM: the client hangs up after the first chunk
    resp.close()
    missing = w.auditor.get(f"/exports/manifests/{manifest_id}/{MANIFEST}")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    # A finished one: its owner reads it, a recorder may not, an area-bound auditor of
    # someone else's export may not, an unknown id is 404.
    _, manifest_id = _streamed(w.auditor, "/exports/postings.csv", tmp_path / "p", "postings.csv")
    assert w.recorder.get(f"/exports/manifests/{manifest_id}/{MANIFEST}").status_code == 403
    make_user("auditor_hcm", "auditor", "79")
    other = api_for(ctx, "auditor_hcm")
    assert other.get(f"/exports/manifests/{manifest_id}/{MANIFEST}").status_code == 404
    assert w.admin.get(f"/exports/manifests/{manifest_id}/{SIGNATURE}").status_code == 200
    assert w.auditor.get(f"/exports/manifests/{'0' * 32}/{MANIFEST}").status_code == 404


def test_an_export_at_a_checkpoint_still_verifies_after_more_writes(ctx, tmp_path):
    """The zip of a background export, checked again after the ledger moved on: the files
    still match the signed manifest, and the checkpoint it names is a prefix of today's log
    (a consistency proof from the ledger checks out), so nothing it covered was rewritten."""
    import io
    import zipfile

    from ledger.transparency.log import publish
    from ledger.transparency.service import public_keys

    w = _world(ctx)
    first = publish()
    db.session.rollback()
    _, data = _run_export(ctx, w.auditor, "/exports/postings.csv", background="1")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        archive.extractall(tmp_path / "then")
    stream_body, _ = _streamed(w.auditor, "/exports/contributions.jsonl", tmp_path / "stream", "contributions.jsonl")

    # More writes, a void and a new checkpoint.
    for amount in (2_000_000, 3_500_000):
        w.recorder.ok(w.contribute(amount_vnd=amount), 201)
    later = w.recorder.ok(w.contribute(amount_vnd=900_000), 201)
    w.approved(w.recorder.post(f"/contributions/{later['contribution_id']}/void", {"reason": "Trùng"}))
    second = publish()
    db.session.rollback()
    assert second.size > first.size

    keys = public_keys()
    for directory in (tmp_path / "then", tmp_path / "stream"):
        check = verify_export(directory, keys)
        assert check.exit_code == 0, (directory, check.problems, check.unchecked)
        stated = check.manifest["checkpoint"]
        assert stated["size"] == first.size
        proof = w.auditor.ok(w.auditor.get("/transparency/consistency", **{"from": stated["size"],
                                                                           "to": second.size}))
        now = w.auditor.ok(w.auditor.get("/transparency/checkpoint"))
        assert now["size"] == second.size
        assert verify_consistency(stated["size"], second.size, base64.b64decode(stated["root_hash"]),
                                  base64.b64decode(now["root_hash"]),
                                  [base64.b64decode(h) for h in proof["hashes"]])
    # The same export today is longer: the old one was a true prefix, not today's answer.
    today = w.auditor.get("/exports/contributions.jsonl").get_data()
    assert today != stream_body and today.startswith(stream_body.splitlines(keepends=True)[0])


# --- the auditor changes nothing -------------------------------------------------------------

# Bookkeeping of sessions and reads, not the ledger: logging in, an export's job and
# manifest, a rate counter and the answer kept for an idempotency key may change.
_NOT_LEDGER = {"api_tokens", "jobs", "export_manifests", "rate_limit_counters", "idempotency_records"}


def _fingerprint() -> dict[str, str]:
    db.session.rollback()
    out = {}
    for table in db.metadata.sorted_tables:
        if table.name in _NOT_LEDGER:
            continue
        rows = db.session.execute(select(table).order_by(*table.primary_key.columns)).all()
        out[table.name] = hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()
    return out


def _fill(rule, ids: dict) -> str:
    """A concrete path for a route: real ids where the ledger has them."""
    path = rule.rule
    for arg in rule.arguments:
        path = re.sub(r"<(?:[a-z]+:)?" + arg + ">", str(ids.get(arg, 1)), path)
    return path


def _world_with_everything(app):
    w = _world(app)
    household = w.household()
    w.recorder.ok(w.allocate(household, amount_vnd=500_000), 201)
    pledge = w.recorder.ok(w.recorder.post("/pledges", {
        "campaign_id": w.campaign_id, "fund_id": w.fund_id, "donor_id": w.donor_id, "kind": "cash",
        "amount_vnd": 5_000_000, "due_on": "2025-12-31"}), 201)
    return w, {"household_id": household, "pledge_id": pledge["pledge_id"], "fund_id": w.fund_id,
               "donor_id": w.donor_id, "campaign_id": w.campaign_id}


def test_an_auditor_can_change_nothing_through_the_api(ctx):
    w, ids = _world_with_everything(ctx)
    before = _fingerprint()
    tried = 0
    for rule in ctx.url_map.iter_rules():
        writes = rule.methods & {"POST", "PUT", "PATCH", "DELETE"}
        if not rule.rule.startswith("/api/v1/") or not writes or rule.rule == "/api/v1/auth/token":
            continue
        for method in writes:
            tried += 1
            resp = w.auditor.client.open(_fill(rule, ids), method=method, json={"reason": "Thử", "amount_vnd": 1},
                                         headers=w.auditor._headers(key=f"audit-{tried}"))
            assert resp.status_code == 403, (method, rule.rule, resp.status_code, resp.get_data(as_text=True))
            assert resp.mimetype == "application/problem+json"
    assert tried >= 15  # every write endpoint of the API was tried, not a handful
    assert _fingerprint() == before


def test_an_auditor_can_change_nothing_through_the_pages(ctx):
    w, ids = _world_with_everything(ctx)
    client = ctx.test_client()
    login(client, "auditor")
    token = csrf_token(client.get("/staff/").get_data(as_text=True))
    before = _fingerprint()
    tried = 0
    # Their own session and password, and asking for an export, are theirs to change.
    own = ("/staff/login", "/staff/logout", "/staff/account", "/staff/exports")
    for rule in ctx.url_map.iter_rules():
        if not rule.rule.startswith("/staff/") or "POST" not in rule.methods or rule.rule.startswith(own):
            continue
        tried += 1
        resp = client.post(_fill(rule, ids), data={"csrf_token": token, "reason": "Thử", "amount_vnd": "1"})
        assert resp.status_code == 403, (rule.rule, resp.status_code)
    assert tried >= 15
    assert _fingerprint() == before


def test_an_auditor_sees_no_write_forms(ctx):
    _world_with_everything(ctx)
    client = ctx.test_client()
    login(client, "auditor")
    page = client.get("/staff/").get_data(as_text=True)
    for link in ("/staff/contributions/new", "/staff/allocations/new", "/staff/donors/new"):
        assert link not in page


def test_audit_helpers_see_a_write(ctx):
    """The fingerprint is not blind: one contribution changes it."""
    w = build_world(ctx)
    before = _fingerprint()
    w.recorder.ok(w.contribute(), 201)
    assert _fingerprint() != before
