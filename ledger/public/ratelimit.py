"""Rate limits on the public search, counted in the ledger's own database.

Flask-Limiter keeps its counters in a `limits` storage. The in-memory one counts per
process, so under gunicorn each worker would allow the limit again; Redis or memcached
would add a service to run. This storage keeps fixed-window counters in the
`rate_limit_counters` table of the ledger's database: shared by every worker and machine
that serves the ledger, on SQLite and PostgreSQL alike. LEDGER_RATELIMIT_STORAGE_URI
(redis://..., memcached://...) chooses another storage.
"""
from __future__ import annotations

import random
import time

from limits.storage import Storage
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..database import _WRITE

# One atomic statement: a new key starts a window; a key whose window ended starts over.
_INCR = text("""
INSERT INTO rate_limit_counters (key, hits, expires_at) VALUES (:key, :amount, :expires_at)
ON CONFLICT (key) DO UPDATE SET
  hits = CASE WHEN rate_limit_counters.expires_at <= :now THEN :amount
              ELSE rate_limit_counters.hits + :amount END,
  expires_at = CASE WHEN rate_limit_counters.expires_at <= :now THEN :expires_at
                    ELSE rate_limit_counters.expires_at END
RETURNING hits
""")
_SWEEP_CHANCE = 0.01  # about one increment in a hundred also deletes ended windows


class DatabaseStorage(Storage):
    """`ledgerdb://`: fixed-window counters in the ledger's database (the app's engine)."""

    STORAGE_SCHEME = ["ledgerdb"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self):
        return SQLAlchemyError

    @staticmethod
    def _engine():
        from ..extensions import db

        return db.engine  # the current app's: limits are only checked inside a request

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = int(time.time())
        with self._engine().connect().execution_options(**{_WRITE: True}) as conn:
            hits = conn.execute(_INCR, {"key": key, "amount": amount, "now": now,
                                        "expires_at": now + int(expiry)}).scalar_one()
            if random.random() < _SWEEP_CHANCE:
                conn.execute(text("DELETE FROM rate_limit_counters WHERE expires_at <= :now"), {"now": now})
            conn.commit()
        return int(hits)

    def get(self, key: str) -> int:
        with self._engine().connect() as conn:
            hits = conn.execute(text("SELECT hits FROM rate_limit_counters WHERE key = :key AND expires_at > :now"),
                                {"key": key, "now": int(time.time())}).scalar()
        return int(hits or 0)

    def get_expiry(self, key: str) -> float:
        with self._engine().connect() as conn:
            expires_at = conn.execute(text("SELECT expires_at FROM rate_limit_counters WHERE key = :key"),
                                      {"key": key}).scalar()
        return float(expires_at if expires_at is not None else time.time())

    def check(self) -> bool:
        try:
            with self._engine().connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with self._engine().begin() as conn:
            return conn.execute(text("DELETE FROM rate_limit_counters")).rowcount

    def clear(self, key: str) -> None:
        with self._engine().begin() as conn:
            conn.execute(text("DELETE FROM rate_limit_counters WHERE key = :key"), {"key": key})
