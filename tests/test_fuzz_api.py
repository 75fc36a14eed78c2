"""Every operation of /api/v1/openapi.json fuzzed by schemathesis, with an admin's token, on
SQLite and PostgreSQL: no answer is a server error, and every refusal is problem+json
(RFC 9457) with its type, title, status and detail. A ledger with a campaign, funds,
donors, a pledge, gifts and an allocation is there, so ids the generator tries may exist.

LEDGER_FUZZ_EXAMPLES sets the examples per operation (6 in CI; 100 for a long run)."""
from __future__ import annotations

import json
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from ledger.extensions import db
from tests.helpers import build_world

# per operation and database: about a thousand requests in all at 6
EXAMPLES = int(os.environ.get("LEDGER_FUZZ_EXAMPLES", 6))


@pytest.fixture()
def fuzz_world(ctx):
    world = build_world(ctx)
    world.contribute()
    world.contribute(amount_vnd=30_000_000)
    world.allocate(world.household())
    world.recorder.ok(world.recorder.post("/pledges", {
        "campaign_id": world.campaign_id, "fund_id": world.fund_id, "donor_id": world.donor_id, "kind": "cash",
        "amount_vnd": 5_000_000}), 201)
    db.session.commit()
    return world


def _document_app():
    """An app that only serves the OpenAPI document (it is the same for every database);
    each example is sent to the test's own app."""
    import tempfile

    from ledger import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "INSTANCE_PATH": tempfile.mkdtemp(),
                       "TESTING": True})


schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _document_app())


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_server_error_and_every_refusal_is_a_problem(case, ctx, fuzz_world):
    response = case.call(app=ctx, headers={"Authorization": f"Bearer {fuzz_world.admin.token}"})
    where = f"{case.method} {case.formatted_path} {case.query or ''}"
    assert response.status_code < 500, (where, response.text[:500])
    if response.status_code >= 400:
        content_type = (response.headers.get("content-type") or [""])[0]  # lower-case names, lists of values
        assert content_type.startswith("application/problem+json"), (where, response.status_code, content_type)
        body = json.loads(response.text)
        assert {"type", "title", "status", "detail"} <= set(body), (where, body)
        assert body["status"] == response.status_code, (where, body)
    db.session.rollback()  # the requests share the test's session: see what they committed
