"""Auth, errors as problem+json, the OpenAPI document and its offline docs page, areas."""
from ledger.auth.service import create_user
from tests.helpers import PASSWORD, Api, api_for, make_user


def test_token_for_good_password_and_problem_for_bad(ctx):
    make_user("lan", "recorder", "01")
    client = Api(ctx.test_client())
    ok = client.ok(client.post("/auth/token", {"username": "lan", "password": PASSWORD}), 201)
    assert ok["token"] and ok["expires_at"]
    bad = client.post("/auth/token", {"username": "lan", "password": "wrong password!"})
    assert bad.status_code == 401
    assert bad.content_type == "application/problem+json"
    body = bad.get_json()
    assert set(body) >= {"type", "title", "status", "detail"} and body["status"] == 401


def test_writes_need_a_token_and_a_role_that_may(ctx):
    anonymous = Api(ctx.test_client())
    resp = anonymous.post("/donors", {"kind": "individual", "name": "Lê Thị Hoa"})
    assert resp.status_code == 401 and resp.content_type == "application/problem+json"
    make_user("kiemtoan", "auditor")
    auditor = api_for(ctx, "kiemtoan")
    resp = auditor.post("/donors", {"kind": "individual", "name": "Lê Thị Hoa"})
    assert resp.status_code == 403
    assert auditor.ok(auditor.get("/donors")) == []


def test_a_token_works_until_it_expires_and_names_its_user(ctx):
    """A write with a token acts as its user; an expired or unknown token is refused with
    401 and records nothing."""
    from datetime import timedelta

    from sqlalchemy import func, select, update

    from ledger.auth.models import ApiToken
    from ledger.auth.service import _token_digest, issue_token
    from ledger.donors.models import Donor
    from ledger.extensions import db
    from ledger.types import utcnow

    lan = make_user("lan", "recorder", "01")
    token, _ = issue_token("lan", PASSWORD, 600)
    client = Api(ctx.test_client(), token)
    made = client.ok(client.post("/donors", {"kind": "individual", "name": "Lê Thị Hoa"}), 201)
    assert db.session.get(Donor, made["donor_id"]).created_by_id == lan.id
    db.session.execute(update(ApiToken).where(ApiToken.token_sha256 == _token_digest(token))
                       .values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    donors = db.session.scalar(select(func.count()).select_from(Donor))
    for refused in (client, Api(ctx.test_client(), token + "x")):
        for resp in (refused.post("/donors", {"kind": "individual", "name": "Lê Văn Nam"}), refused.get("/donors")):
            assert resp.status_code == 401 and resp.content_type == "application/problem+json"
    assert db.session.scalar(select(func.count()).select_from(Donor)) == donors


def test_password_is_hashed_slowly_and_too_short_refused(ctx):
    import pytest

    from ledger.problems import InvalidInput

    user = make_user("minh", "recorder")
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    with pytest.raises(InvalidInput):
        create_user("short", "abc", "recorder")


def test_unknown_api_path_is_problem_json(ctx):
    resp = ctx.test_client().get("/api/v1/nothing-here")
    assert resp.status_code == 404 and resp.content_type == "application/problem+json"


def test_openapi_document_and_offline_docs(ctx):
    client = ctx.test_client()
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for path in ("/api/v1/contributions", "/api/v1/allocations", "/api/v1/funds/{fund_id}/transfers",
                 "/api/v1/pledges/{pledge_id}/cancel", "/api/v1/households/{household_id}/status"):
        assert path in spec["paths"], path
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/api/v1/docs-static/" in page and "cdn" not in page.lower()
    assert client.get("/api/v1/docs-static/swagger-ui-bundle.js").status_code == 200


def test_areas_public_search_without_diacritics(ctx):
    client = Api(ctx.test_client())
    top = client.ok(client.get("/areas"))
    assert {"01", "79"} <= {a["code"] for a in top}
    found = client.ok(client.get("/areas", q="ba dinh"))
    assert {a["code"] for a in found} >= {"00004", "001"}
    children = client.ok(client.get("/areas", parent="79"))
    assert [a["name"] for a in children] == ["Phường Sài Gòn"]
    legacy = [a for a in found if a["code"] == "001"][0]
    assert legacy["legacy"] is True
    assert client.get("/areas", parent="99999").status_code == 404


def test_recorder_writes_only_in_its_area(ctx):
    from tests.helpers import build_world

    w = build_world(ctx)
    make_user("hcm", "recorder", "79")
    hcm = api_for(ctx, "hcm")
    resp = w.contribute(api=hcm)
    assert resp.status_code == 403
    assert w.admin.ok(w.admin.get("/contributions")) == []
    resp = hcm.post("/households", {"campaign_id": w.campaign_id, "commune_code": "00004", "head_name": "Trần B",
                                    "category": "poor", "support_type": "repair"})
    assert resp.status_code == 403
    # and it does not see Hà Nội's funds
    assert hcm.ok(hcm.get("/funds")) == []


def test_ping_answers_without_a_token_or_the_database(ctx):
    """The liveness check a load balancer (and bench/http_load.py's bare line) calls: no
    token, and not one SQL statement."""
    from sqlalchemy import event

    from ledger.extensions import db

    statements = []

    def count(*_args):
        statements.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        resp = ctx.test_client().get("/api/v1/ping")
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert resp.status_code == 200 and resp.get_json() == {"status": "ok"}
    assert statements == []
    assert "/api/v1/ping" in ctx.test_client().get("/api/v1/openapi.json").get_json()["paths"]


def test_numbers_past_what_the_database_stores_are_refused_cleanly(ctx):
    """Found by fuzzing the OpenAPI document (schemathesis): an id or filter of 20 digits
    was a server error (SQLite's driver refuses it; PostgreSQL refuses it in an insert)."""
    from tests.helpers import build_world

    world = build_world(ctx)
    huge = 10**20
    resp = world.admin.get("/contributions", campaign_id=huge)
    assert resp.status_code in (200, 422), resp.get_data(as_text=True)  # PostgreSQL compares it: no rows
    if resp.status_code == 422:
        assert resp.content_type == "application/problem+json"
    assert world.admin.get(f"/jobs/{huge}").status_code == 404  # past the largest id: no such route
    assert world.admin.get(f"/pledges/{huge}/vietqr").status_code == 404
    body = {"campaign_id": world.campaign_id, "fund_id": world.fund_id, "donor_id": huge, "kind": "cash",
            "method": "bank_transfer", "amount_vnd": 100_000, "received_on": "2025-03-01"}
    resp = world.recorder.post("/contributions", body)
    assert resp.status_code in (404, 422), resp.get_data(as_text=True)
    assert resp.content_type == "application/problem+json"
    assert world.recorder.ok(world.recorder.get("/contributions")) == []
    spec = ctx.test_client().get("/api/v1/openapi.json").get_json()
    param = next(p for p in spec["paths"]["/api/v1/jobs/{job_id}"]["parameters"] if p["name"] == "job_id")
    assert param["schema"]["type"] == "integer" and param["schema"]["maximum"] == 2**63 - 1


def test_a_nul_character_anywhere_is_refused_and_changes_nothing(ctx):
    """Found by fuzzing at 60 examples: U+0000 in a username or a query was a server error
    on PostgreSQL (its text cannot hold it). Now refused up front, the same on both."""
    from tests.helpers import build_world
    from tests.web_helpers import post_form

    world = build_world(ctx)
    client = ctx.test_client()
    donors = world.recorder.ok(world.recorder.get("/donors"))
    refusals = [
        client.post("/api/v1/auth/token", json={"username": "\x00", "password": ""}),
        client.get("/api/v1/areas", query_string={"parent": "\x00", "q": "Ha"}),
        client.get("/api/v1/receipts/HN%00-1"),
        world.recorder.post("/contributions", {
            "campaign_id": world.campaign_id, "fund_id": world.fund_id, "donor_id": world.donor_id,
            "kind": "cash", "method": "bank_transfer", "amount_vnd": 100_000, "received_on": "2025-03-01",
            "memo": "ủng hộ\x00"}),
        world.recorder.post("/donors", {"kind": "individual", "name": "Nguyễn\x00 An"}),
    ]
    for resp in refusals:
        assert resp.status_code == 422, (resp.request.path, resp.get_data(as_text=True))
        assert resp.content_type == "application/problem+json"
        assert "U+0000" in resp.get_json()["detail"]
    assert world.recorder.ok(world.recorder.get("/contributions")) == []
    assert world.recorder.ok(world.recorder.get("/donors")) == donors
    # A page answers with a readable page, not a server error.
    for page in (post_form(client, "/staff/login", {"username": "admin\x00", "password": "x"}),
                 client.get("/tra-cuu", query_string={"q": "Nguyễn\x00"}), client.get("/r/HN%00-1")):
        assert page.status_code == 422 and page.mimetype == "text/html", page.request.path
        assert "U+0000" in page.get_data(as_text=True)
