"""The connection pool: a connection that died while resting is replaced before anyone uses
it, and a read served outside a transaction leaves no connection behind in that mode."""
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from ledger import database
from ledger.extensions import db
from tests.helpers import build_world


def _receipt_number(w) -> str:
    return w.recorder.ok(w.contribute(), 201)["receipt"]["number"]


def test_a_connection_killed_while_resting_in_the_pool_is_replaced(ctx, backend, monkeypatch):
    """A database restart (here: every other backend terminated) must not turn the next
    requests into errors: a connection that rested is pinged, and a dead one replaced."""
    if backend != "postgresql":
        pytest.skip("SQLite has no server connection to lose")
    w = build_world(ctx)
    number = _receipt_number(w)
    assert ctx.test_client().get(f"/api/v1/receipts/{number}").status_code == 200
    db.session.remove()  # as at the end of a request: its connection goes back to the pool
    outside = create_engine(db.engine.url, poolclass=NullPool)  # not one of the pool's
    with outside.connect() as admin:
        killed = admin.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
    outside.dispose()
    assert killed >= 1  # the pool's resting connections
    monkeypatch.setattr(database, "PING_AFTER_IDLE", 0.0)  # every pooled connection has rested
    for _ in range(3):
        resp = ctx.test_client().get(f"/api/v1/receipts/{number}")
        assert resp.status_code == 200, resp.get_data(as_text=True)
        db.session.remove()
    assert w.contribute(amount_vnd=1_000_000).status_code == 201


def test_a_read_outside_a_transaction_hands_back_a_transactional_connection(ctx, backend):
    """The receipt's verification reads without a transaction (PostgreSQL); the connection
    it used goes back to the pool as it was, so the next write is one transaction still."""
    w = build_world(ctx)
    number = _receipt_number(w)
    client = ctx.test_client()
    for _ in range(3):
        assert client.get(f"/api/v1/receipts/{number}").status_code == 200
        assert client.get(f"/r/{number}").status_code == 200
    db.session.remove()
    resting = db.engine.pool.checkedin()
    assert resting >= 1
    conns = [db.engine.connect() for _ in range(resting)]  # every connection the pool holds
    try:
        for conn in conns:
            if backend == "postgresql":
                assert conn.connection.driver_connection.autocommit is False
            conn.execute(text("SELECT 1"))
            assert conn.in_transaction()
    finally:
        for conn in conns:
            conn.close()
