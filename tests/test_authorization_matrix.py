"""The authorization matrix: every route of the app (API, staff pages, public pages and API),
taken from its route table, asked once by each persona (anonymous, each role in the world's
area, a recorder and an auditor of another area), against real objects of one small world.

ACCESS declares, for every (method, rule), who may use it; EXPECT says what each persona
should then get. A route missing from ACCESS, a declared route that no longer exists, or any
answer that differs from the declaration fails the test, all differences listed at once.
The requests that should be refused change nothing in the database.
"""
from __future__ import annotations

import itertools
import re
from urllib.parse import urlsplit

from sqlalchemy import select

from ledger.extensions import db

from .helpers import api_for, build_world, make_user
from .test_export_audit import _fingerprint
from .web_helpers import csrf_token, login, page_token

# --- who may do what ---------------------------------------------------------------------------
# Access classes:
#   public       anyone, logged in or not
#   login        any logged-in staff user, wherever its area (lists and forms show its own area)
#   read         staff of the object's area (or above): another area's user is refused
#   record       admin, recorder, approver (what the body names is checked by the ledger)
#   record_here  as record, on an object of the user's area: another area's recorder is refused
#   override     admin, approver (the world has no approver of another area)
#   manage       admin
#   audit        admin, auditor
#   audit_here   as audit, on what the world's auditor made: another area's auditor is refused
#   own          a job of the world's auditor: it, admins and auditors of its area
#   own_record   an import job of the world's recorder: it and admins (record roles only)
ACCESS = {
    # --- the API: public reads and the token ---
    "POST /api/v1/auth/token": "public",
    "GET /api/v1/areas": "public",
    "GET /api/v1/docs": "public",
    "GET /api/v1/docs-static/<path:filename>": "public",
    "GET /api/v1/openapi.json": "public",
    "GET /api/v1/ping": "public",
    "GET /api/v1/receipts/<string:number>": "public",
    "GET /api/v1/receipts/<string:number>.pdf": "public",
    "GET /api/v1/reports/summary": "public",
    "GET /api/v1/statement": "public",
    "GET /api/v1/statement.csv": "public",
    "GET /api/v1/transparency/checkpoint": "public",
    "GET /api/v1/transparency/consistency": "public",
    "GET /api/v1/transparency/entries": "public",
    "GET /api/v1/transparency/keys": "public",
    "GET /api/v1/transparency/proof": "public",
    # --- the API: staff ---
    "GET /api/v1/allocations": "login",
    "POST /api/v1/allocations": "record",
    "POST /api/v1/allocations/<int:allocation_id>/reverse": "record_here",
    "GET /api/v1/approvals": "login",
    "GET /api/v1/approvals/<int:approval_id>": "read",
    "POST /api/v1/approvals/<int:approval_id>/approve": "override",
    "POST /api/v1/approvals/<int:approval_id>/reject": "override",
    "GET /api/v1/campaigns": "login",
    "POST /api/v1/campaigns": "manage",
    "GET /api/v1/campaigns/<int:campaign_id>": "login",  # campaigns are public knowledge
    "GET /api/v1/contributions": "login",
    "POST /api/v1/contributions": "record",
    "GET /api/v1/contributions/<int:contribution_id>": "read",
    "POST /api/v1/contributions/<int:contribution_id>/void": "record_here",
    "GET /api/v1/donors": "login",  # donors are one national register
    "POST /api/v1/donors": "record",
    "GET /api/v1/donors/<int:donor_id>": "login",
    "PATCH /api/v1/donors/<int:donor_id>": "record",
    "GET /api/v1/exports/<what>.<fmt>": "audit",
    "GET /api/v1/exports/manifests/<manifest_id>/manifest.json": "audit_here",
    "GET /api/v1/exports/manifests/<manifest_id>/manifest.json.sig": "audit_here",
    "GET /api/v1/funds": "login",
    "POST /api/v1/funds": "manage",
    "GET /api/v1/funds/<int:fund_id>": "read",
    "PATCH /api/v1/funds/<int:fund_id>": "manage",
    "GET /api/v1/funds/<int:fund_id>/receipts.pdf": "read",
    "POST /api/v1/funds/<int:fund_id>/transfers": "record_here",
    "POST /api/v1/funds/<int:fund_id>/transfers/<int:transfer_id>/reverse": "record_here",
    "GET /api/v1/funds/<int:fund_id>/vietqr": "read",
    "GET /api/v1/households": "login",
    "POST /api/v1/households": "record",
    "GET /api/v1/households/<int:household_id>": "read",
    "PATCH /api/v1/households/<int:household_id>": "record_here",
    "POST /api/v1/households/<int:household_id>/status": "record_here",
    "GET /api/v1/imports/bank-statements": "login",
    "POST /api/v1/imports/bank-statements": "record",
    "GET /api/v1/imports/bank-statements/<int:batch_id>": "read",
    "GET /api/v1/imports/bank-statements/<int:batch_id>/lines": "read",
    "GET /api/v1/imports/bank-statements/<int:batch_id>/reconciliation": "read",
    "POST /api/v1/imports/bank-statements/<int:batch_id>/void": "override",
    "GET /api/v1/jobs": "login",
    "GET /api/v1/jobs/<int:job_id>": "own",
    "GET /api/v1/jobs/<int:job_id>/download": "own",
    "GET /api/v1/pledges": "login",
    "POST /api/v1/pledges": "record",
    "GET /api/v1/pledges/<int:pledge_id>": "read",
    "POST /api/v1/pledges/<int:pledge_id>/cancel": "record_here",
    "GET /api/v1/pledges/<int:pledge_id>/vietqr": "read",
    # The staff reports: a user bound to an area reports on its own area.
    "GET /api/v1/reports/<string:name>.xlsx": "login",
    "GET /api/v1/reports/commendations": "login",
    "GET /api/v1/reports/committee.pdf": "login",
    "GET /api/v1/reports/households": "login",
    "GET /api/v1/reports/overdue-pledges": "login",
    "GET /api/v1/reports/reconciliation": "login",
    "GET /api/v1/reports/unallocated": "login",
    # --- public pages ---
    "GET /": "public",
    "GET /ho/<int:household_id>": "public",
    "GET /kiem-chung": "public",
    "GET /r/<string:number>": "public",
    "GET /to-chuc/<int:donor_id>": "public",
    "GET /tra-cuu": "public",
    "GET /tra-cuu.csv": "public",
    # --- staff pages ---
    "GET /staff/login": "public",
    "POST /staff/login": "public",
    "POST /staff/logout": "login",
    "GET /staff/": "login",
    "GET /staff/allocations": "login",
    "GET /staff/allocations/<int:allocation_id>": "read",
    "POST /staff/allocations/<int:allocation_id>/reverse": "record_here",
    "GET /staff/allocations/availability": "login",
    "GET /staff/allocations/new": "record",
    "POST /staff/allocations/new": "record",
    "GET /staff/approvals": "login",
    "GET /staff/approvals/<int:approval_id>": "read",
    "POST /staff/approvals/<int:approval_id>/approve": "override",
    "POST /staff/approvals/<int:approval_id>/reject": "override",
    "GET /staff/areas": "login",
    "POST /staff/areas": "manage",
    "GET /staff/audit": "audit",
    "GET /staff/campaigns": "login",
    "POST /staff/campaigns": "manage",
    "GET /staff/contributions": "login",
    "GET /staff/contributions/<int:contribution_id>": "read",
    "GET /staff/contributions/<int:contribution_id>/receipt.pdf": "read",
    "POST /staff/contributions/<int:contribution_id>/void": "record_here",
    "GET /staff/contributions/new": "record",
    "POST /staff/contributions/new": "record",
    "GET /staff/donors": "login",
    "GET /staff/donors/<int:donor_id>": "login",
    "GET /staff/donors/<int:donor_id>/edit": "record",
    "POST /staff/donors/<int:donor_id>/edit": "record",
    "GET /staff/donors/lookup": "login",
    "GET /staff/donors/new": "record",
    "POST /staff/donors/new": "record",
    "GET /staff/exports": "audit",
    "POST /staff/exports": "audit",
    "GET /staff/exports/jobs/<int:job_id>": "own",
    "GET /staff/exports/jobs/<int:job_id>/download": "own",
    "GET /staff/funds": "login",
    "POST /staff/funds": "manage",
    "GET /staff/funds/<int:fund_id>": "read",
    "POST /staff/funds/<int:fund_id>/bank-account": "manage",
    "GET /staff/funds/<int:fund_id>/qr": "read",
    "GET /staff/households": "login",
    "GET /staff/households/<int:household_id>": "read",
    "GET /staff/households/<int:household_id>/edit": "record_here",
    "POST /staff/households/<int:household_id>/edit": "record_here",
    "POST /staff/households/<int:household_id>/status": "record_here",
    "GET /staff/households/new": "record",
    "POST /staff/households/new": "record",
    "GET /staff/imports": "record",
    "POST /staff/imports": "record",
    "GET /staff/imports/batches": "login",
    "GET /staff/imports/batches/<int:batch_id>": "read",
    "POST /staff/imports/batches/<int:batch_id>/void": "override",
    "POST /staff/imports/commit": "record",
    "GET /staff/imports/jobs/<int:job_id>": "own_record",
    "GET /staff/pledges": "login",
    "GET /staff/pledges/<int:pledge_id>": "read",
    "POST /staff/pledges/<int:pledge_id>/cancel": "record_here",
    "GET /staff/pledges/<int:pledge_id>/qr": "read",
    "GET /staff/pledges/for-donor": "login",
    "GET /staff/pledges/new": "record",
    "POST /staff/pledges/new": "record",
    "GET /staff/reports": "login",
    "GET /staff/reports/<string:name>.xlsx": "login",
    "GET /staff/reports/committee.pdf": "login",
    "GET /staff/transfers/<int:transfer_id>": "read",
    "POST /staff/transfers/<int:transfer_id>/reverse": "record_here",
    "GET /staff/users": "manage",
    "GET /staff/users/<int:user_id>": "manage",
    "POST /staff/users/<int:user_id>": "manage",
    "POST /staff/users/<int:user_id>/active": "manage",
    "POST /staff/users/<int:user_id>/password": "manage",
    "GET /staff/users/new": "manage",
    "POST /staff/users/new": "manage",
}

# What each persona gets from each access class:
#   ok               anything but 401/403 and never 5xx (200, 201, 202, 404 of a missing
#                    sub-resource, 409, 422 for a minimal body ...); never the log-in page
#   unauthenticated  API: 401 problem+json; page: a redirect to /staff/login
#   forbidden        403 (API: problem+json)
#   hidden           403 or 404 (API: problem+json): the object is outside the user's area
PERSONAS = ("anonymous", "admin", "recorder", "approver", "auditor", "other_recorder", "other_auditor")
OK, UNAUTH, FORBIDDEN, HIDDEN = "ok", "unauthenticated", "forbidden", "hidden"
EXPECT = {  # anonymous  admin  recorder   approver   auditor    other_recorder other_auditor
    "public":      (OK,     OK,  OK,        OK,        OK,        OK,        OK),
    "login":       (UNAUTH, OK,  OK,        OK,        OK,        OK,        OK),
    "read":        (UNAUTH, OK,  OK,        OK,        OK,        HIDDEN,    HIDDEN),
    "record":      (UNAUTH, OK,  OK,        OK,        FORBIDDEN, OK,        FORBIDDEN),
    "record_here": (UNAUTH, OK,  OK,        OK,        FORBIDDEN, HIDDEN,    FORBIDDEN),
    "override":    (UNAUTH, OK,  FORBIDDEN, OK,        FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "manage":      (UNAUTH, OK,  FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
    "audit":       (UNAUTH, OK,  FORBIDDEN, FORBIDDEN, OK,        FORBIDDEN, OK),
    "audit_here":  (UNAUTH, OK,  FORBIDDEN, FORBIDDEN, OK,        FORBIDDEN, HIDDEN),
    "own":         (UNAUTH, OK,  HIDDEN,    HIDDEN,    OK,        HIDDEN,    HIDDEN),
    "own_record":  (UNAUTH, OK,  OK,        HIDDEN,    FORBIDDEN, HIDDEN,    FORBIDDEN),
}
USERS = {"admin": "admin", "recorder": "recorder", "approver": "approver", "auditor": "auditor",
         "other_recorder": "recorder_hcm", "other_auditor": "auditor_hcm"}

# Path arguments that are not the world's ids, and routes whose argument names another object.
FIXED_ARGS = {"what": "contributions", "fmt": "csv", "name": "reconciliation", "filename": "swagger-ui.css"}
ARG_FOR_RULE = {"/staff/imports/jobs/<int:job_id>": {"job_id": "import_job_id"}}

# Minimal write bodies: a reason (what voids, reversals, cancels and rejections need). Where
# the route's schema would refuse that before it looks at the object, a valid change instead,
# so that the object's area is what decides.
API_BODIES = {
    "PATCH /api/v1/households/<int:household_id>": lambda ids: {"head_name": "Nguyễn Văn An"},
    "POST /api/v1/households/<int:household_id>/status": lambda ids: {"status": "building", "on": "2025-02-20"},
    "POST /api/v1/funds/<int:fund_id>/transfers": lambda ids: {"to_fund_id": ids["commune_fund_id"],
                                                               "kind": "cash", "amount_vnd": 100_000},
}
PAGE_BODIES = {
    "POST /staff/households/<int:household_id>/status": {"status": "building", "on": "20/02/2025"},
}
SIGN_OUT = "POST /staff/logout"  # ends the persona's session: asked last

STATEMENT = """\ufeffNGÂN HÀNG TMCP NGOẠI THƯƠNG VIỆT NAM - VIETCOMBANK
SAO KÊ TÀI KHOẢN / ACCOUNT STATEMENT
Số tài khoản / Account number:,0011001932418
Tên tài khoản / Account name:,UY BAN MAT TRAN TO QUOC VIET NAM TP HA NOI
Số dư đầu kỳ / Opening balance:,1.000.000

STT,Ngày giao dịch,Số CT,Số tiền ghi nợ,Số tiền ghi có,Số dư,Nội dung chi tiết
1,01/03/2025 07:02:22,1034.68377,,200.000,1.200.000,MBVCB.6969183373.736944.LY HUU NAM ung ho xoa nha tam
2,01/03/2025 07:06:59,9123.82464,,300.000,1.500.000,MBVCB.9714663815.332460.NGUYEN VAN AN ung ho nha dai doan ket
,Tổng cộng / Total,,0,500.000,,
,Số dư cuối kỳ / Closing balance,,,,1.500.000,
""".encode()


def _user(username):
    from ledger.auth.models import User

    return db.session.scalar(select(User).where(User.username == username))


def _world(app) -> dict:
    """Hà Nội's campaign with one of everything; users of Hà Nội and of Hồ Chí Minh. The ids."""
    from ledger.imports.jobs import JOB_KIND
    from ledger.imports.service import commit_import
    from ledger.jobs.service import enqueue

    w = build_world(app)
    make_user("auditor", "auditor", "01")
    make_user("recorder_hcm", "recorder", "79")
    make_user("auditor_hcm", "auditor", "79")
    target = make_user("target", "recorder", "00004").id  # the one the user pages change
    auditor = api_for(app, "auditor")
    rec = w.recorder
    gift = rec.ok(w.contribute(), 201)
    spare = rec.ok(w.contribute(amount_vnd=2_000_000, received_on="2025-03-05"), 201)
    approval = rec.post(f"/contributions/{spare['contribution_id']}/void", {"reason": "Nhập nhầm"})
    assert approval.status_code == 202, approval.get_data(as_text=True)
    household = w.household()
    allocation = rec.ok(w.allocate(household, amount_vnd=500_000), 201)
    transfer = rec.ok(rec.post(f"/funds/{w.fund_id}/transfers", {
        "to_fund_id": w.commune_fund_id, "kind": "cash", "amount_vnd": 1_000_000}), 201)
    pledge = rec.ok(rec.post("/pledges", {"campaign_id": w.campaign_id, "fund_id": w.fund_id, "donor_id": w.donor_id,
                                          "kind": "cash", "amount_vnd": 5_000_000, "due_on": "2025-12-31"}), 201)
    _, batch = commit_import(_user("recorder"), w.fund_id, STATEMENT, "sao-ke.csv")
    batch_id = batch.id
    job = auditor.get("/exports/contributions.csv", background="1")
    assert job.status_code == 202, job.get_data(as_text=True)
    streamed = auditor.get("/exports/contributions.csv")
    assert streamed.status_code == 200 and streamed.get_data()  # to its last byte: the manifest is kept
    import_job = enqueue(JOB_KIND, {"fund_id": w.fund_id, "file_name": "sao-ke.csv"}, _user("recorder")).id
    db.session.commit()
    return {"campaign_id": w.campaign_id, "fund_id": w.fund_id, "commune_fund_id": w.commune_fund_id,
            "donor_id": w.donor_id, "contribution_id": gift["contribution_id"], "number": gift["receipt"]["number"],
            "approval_id": approval.get_json()["approval_id"], "household_id": household,
            "allocation_id": allocation["allocation_id"], "transfer_id": transfer["transfer_id"],
            "pledge_id": pledge["pledge_id"], "batch_id": batch_id, "job_id": job.get_json()["job_id"],
            "manifest_id": streamed.headers["X-Export-Manifest-Id"], "import_job_id": import_job,
            "user_id": target, **FIXED_ARGS}


def _routes(app) -> list[tuple[str, object]]:
    """Every (method, rule) of the app but static files, HEAD and OPTIONS, as "METHOD rule"."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((f"{method} {rule.rule}", rule))
    return sorted(out, key=lambda r: r[0].split(" ", 1)[1] + " " + r[0])


def _path(rule, ids: dict) -> str:
    names = ARG_FOR_RULE.get(rule.rule, {})
    path = rule.rule
    for arg in rule.arguments:
        path = re.sub(r"<(?:[a-z]+:)?" + arg + ">", str(ids[names.get(arg, arg)]), path)
    return path


class Personas:
    """Each persona's API token and logged-in page client (with its CSRF token)."""

    def __init__(self, app):
        self.app = app
        self.api_client = app.test_client()  # no cookies: the API is token-only
        self.tokens = {p: api_for(app, u).token for p, u in USERS.items()}
        self.clients, self.csrf = {}, {}
        for persona in PERSONAS:
            self.log_in(persona)

    def log_in(self, persona: str) -> None:
        client = self.app.test_client()
        if persona == "anonymous":
            self.csrf[persona] = page_token(client, "/staff/login")
        else:
            login(client, USERS[persona])
            self.csrf[persona] = csrf_token(client.get("/staff/").get_data(as_text=True))
        self.clients[persona] = client
        db.session.rollback()


_keys = itertools.count(1)


def _send(personas: Personas, key: str, rule, persona: str, ids: dict):
    method, path = key.split(" ", 1)[0], _path(rule, ids)
    if rule.rule.startswith("/api/"):
        headers = {"Accept-Language": "vi"}
        if persona != "anonymous":
            headers["Authorization"] = f"Bearer {personas.tokens[persona]}"
        kwargs = {}
        if method != "GET":
            headers["Idempotency-Key"] = f"authz-{next(_keys)}"
            kwargs["json"] = API_BODIES[key](ids) if key in API_BODIES else {"reason": "Thử"}
        resp = personas.api_client.open(path, method=method, headers=headers, **kwargs)
    else:
        client = personas.clients[persona]
        data = None
        if method != "GET":
            data = {"csrf_token": personas.csrf[persona], "reason": "Thử", **PAGE_BODIES.get(key, {})}
        resp = client.open(path, method=method, data=data)
    resp.get_data()  # a streamed answer to its end
    resp.close()
    db.session.rollback()  # the requests share this test's session: end what they left open
    return resp


def _to_log_in(resp) -> bool:
    return resp.status_code in (302, 303) and urlsplit(resp.headers.get("Location", "")).path == "/staff/login"


def _mismatch(expected: str, key: str, resp) -> bool:
    api = key.split(" ", 1)[1].startswith("/api/")
    status, problem = resp.status_code, resp.mimetype == "application/problem+json"
    if status >= 500:
        return True
    if expected == OK:
        return status in (401, 403) or (_to_log_in(resp) and key != SIGN_OUT)
    if expected == UNAUTH:
        return not (status == 401 and problem) if api else not _to_log_in(resp)
    if expected == FORBIDDEN:
        return status != 403 or (api and not problem)
    if expected == HIDDEN:
        return status not in (403, 404) or (api and not problem)
    raise AssertionError(f"unknown expectation {expected}")


def _got(resp) -> str:
    where = f" → {urlsplit(resp.headers['Location']).path}" if resp.status_code in (301, 302, 303) else ""
    return f"{resp.status_code} {resp.mimetype}{where}"


def test_every_route_answers_every_persona_as_declared(ctx, monkeypatch):
    from argon2 import PasswordHasher

    # Seven users, ten tokens, six page logins: a cheap Argon2 keeps the test fast (what is
    # checked is who may do what, not how a password is hashed).
    monkeypatch.setattr("ledger.auth.service._hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    routes = _routes(ctx)
    walked = {key for key, _ in routes}
    undeclared = sorted(walked - ACCESS.keys())
    gone = sorted(ACCESS.keys() - walked)
    assert not undeclared and not gone, (
        f"declare every route in ACCESS: undeclared {undeclared}; declared but gone {gone}")
    assert set(ACCESS.values()) <= EXPECT.keys()

    ids = _world(ctx)
    personas = Personas(ctx)
    plan = [(key, rule, persona, EXPECT[ACCESS[key]][i]) for key, rule in routes for i, persona in enumerate(PERSONAS)]
    mismatches, sent = [], 0

    def run(batch):
        nonlocal sent
        for key, rule, persona, expected in batch:
            resp = _send(personas, key, rule, persona, ids)
            sent += 1
            if _mismatch(expected, key, resp):
                mismatches.append(f"{key:<68} {persona:<14} expected {expected:<15} got {_got(resp)}")

    # First everything that should be refused, on the world as built: it must change nothing.
    before = _fingerprint()
    run([p for p in plan if p[3] != OK])
    after = _fingerprint()
    changed = sorted(name for name in before if before[name] != after[name])
    # Then what should be allowed, logging out last. A success may change what a later
    # request finds (a second void or approval of the same thing answers 409: still "ok").
    run(sorted((p for p in plan if p[3] == OK), key=lambda p: p[0] == SIGN_OUT))

    assert sent == len(plan) == len(ACCESS) * len(PERSONAS) and len(walked) >= 150, (sent, len(walked))
    problems = [f"{len(mismatches)} answers differ from the declared matrix:", *mismatches] if mismatches else []
    if changed:
        problems.append(f"the refused requests changed the tables {changed}")
    assert not problems, "\n".join(problems)
