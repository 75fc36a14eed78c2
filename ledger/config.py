"""Settings, read from LEDGER_* environment variables.

Every setting has a safe default for a developer's machine: SQLite in the instance
folder. Production sets LEDGER_DATABASE_URL to PostgreSQL and a real secret key.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path


def _instance_path() -> Path:
    default = Path(__file__).resolve().parent.parent / "instance"
    return Path(os.environ.get("LEDGER_INSTANCE_PATH", default)).resolve()


def _secret_key(instance: Path) -> str:
    """The secret from the environment, or one generated once into the instance folder."""
    if os.environ.get("LEDGER_SECRET_KEY"):
        return os.environ["LEDGER_SECRET_KEY"]
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def load_settings() -> dict:
    instance = _instance_path()
    db_url = os.environ.get("LEDGER_DATABASE_URL") or f"sqlite:///{instance / 'ledger.sqlite3'}"
    return {
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": _secret_key(instance),
        "SQLALCHEMY_DATABASE_URI": db_url,
        # No pool_pre_ping: database.py pings only connections that rested in the pool.
        "LEDGER_PUBLIC_URL": os.environ.get("LEDGER_PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/"),
        # Bearer tokens live this long (seconds).
        "LEDGER_TOKEN_TTL": int(os.environ.get("LEDGER_TOKEN_TTL", 8 * 3600)),
        # Staff page sessions: absolute life (hours) and idle limit (minutes). The session
        # cookie is Secure when the public URL is https, unless LEDGER_SESSION_COOKIE_SECURE
        # (0 or 1) says otherwise.
        "LEDGER_SESSION_HOURS": float(os.environ.get("LEDGER_SESSION_HOURS", 8)),
        "LEDGER_SESSION_IDLE_MINUTES": float(os.environ.get("LEDGER_SESSION_IDLE_MINUTES", 60)),
        "LEDGER_SESSION_COOKIE_SECURE": (os.environ["LEDGER_SESSION_COOKIE_SECURE"] == "1"
                                         if os.environ.get("LEDGER_SESSION_COOKIE_SECURE") in ("0", "1") else None),
        # The committee's timezone: dates people type are local dates.
        "LEDGER_TIMEZONE": os.environ.get("LEDGER_TIMEZONE", "Asia/Ho_Chi_Minh"),
        # The transparency log: its name (default: the public URL's host and path + "/log")
        # and how often each worker brings it up to date and signs a checkpoint (seconds).
        "LEDGER_LOG_ORIGIN": os.environ.get("LEDGER_LOG_ORIGIN"),
        "LEDGER_LOG_INTERVAL": float(os.environ.get("LEDGER_LOG_INTERVAL", 2)),
        "LEDGER_SIGNING_KEY_FILE": os.environ.get("LEDGER_SIGNING_KEY_FILE"),
        # Maker–checker: allocations worth more than this (đồng) wait for a second user's approval.
        "LEDGER_APPROVAL_THRESHOLD_VND": int(os.environ.get("LEDGER_APPROVAL_THRESHOLD_VND", 50_000_000)),
        # Public search: how often one address may search (Flask-Limiter syntax), and where
        # the counters live: the ledger's database (shared by every gunicorn worker) unless
        # this names Redis or memcached (redis://127.0.0.1:6379).
        "LEDGER_SEARCH_RATE_LIMIT": os.environ.get("LEDGER_SEARCH_RATE_LIMIT", "60 per minute"),
        "RATELIMIT_STORAGE_URI": os.environ.get("LEDGER_RATELIMIT_STORAGE_URI", "ledgerdb://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # Reverse proxies in front of the app (nginx: 1): the client's address, which the
        # rate limits count by, is then read from X-Forwarded-For. 0: no proxy is trusted.
        "LEDGER_PROXY_HOPS": int(os.environ.get("LEDGER_PROXY_HOPS", 0)),
        # Seconds public pages may be cached by browsers and proxies.
        "LEDGER_PUBLIC_CACHE_SECONDS": int(os.environ.get("LEDGER_PUBLIC_CACHE_SECONDS", 60)),
        # A campaign's overview (the public home and area pages, the summary API) is kept and
        # computed again in the background once older than this; 0: computed on every visit.
        "LEDGER_PUBLIC_SUMMARY_SECONDS": int(os.environ.get("LEDGER_PUBLIC_SUMMARY_SECONDS", 60)),
        # Background jobs (long exports, imports): a running job whose worker has not beaten
        # its heartbeat for this long is taken back (its worker died), at most this many runs;
        # idle workers look for work this often. LEDGER_JOBS_IN_PROCESS (0 or 1): whether each
        # web process also runs a worker thread; unset: yes on SQLite, no on PostgreSQL (run
        # `flask ledger worker` there).
        "LEDGER_JOB_STALE_SECONDS": float(os.environ.get("LEDGER_JOB_STALE_SECONDS", 300)),
        "LEDGER_JOB_MAX_ATTEMPTS": int(os.environ.get("LEDGER_JOB_MAX_ATTEMPTS", 3)),
        "LEDGER_JOB_POLL_SECONDS": float(os.environ.get("LEDGER_JOB_POLL_SECONDS", 2)),
        # A finished job's files (exports hold the ledger's data) are deleted after this.
        "LEDGER_JOB_KEEP_DAYS": float(os.environ.get("LEDGER_JOB_KEEP_DAYS", 7)),
        # A statement longer than this is committed by a background job, not in the request.
        "LEDGER_IMPORT_SYNC_LINES": int(os.environ.get("LEDGER_IMPORT_SYNC_LINES", 2000)),
        "LEDGER_IMPORT_SYNC_BYTES": int(os.environ.get("LEDGER_IMPORT_SYNC_BYTES", 200_000)),
        # The largest upload (a statement); larger requests get 413 before anything is read.
        "MAX_CONTENT_LENGTH": int(float(os.environ.get("LEDGER_MAX_UPLOAD_MB", 64)) * 1024 * 1024),
        "LEDGER_JOBS_IN_PROCESS": (os.environ["LEDGER_JOBS_IN_PROCESS"] == "1"
                                   if os.environ.get("LEDGER_JOBS_IN_PROCESS") in ("0", "1") else None),
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
        "API_TITLE": "Chung tay ledger API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        # Served from our own static route: the machines have no internet.
        "OPENAPI_SWAGGER_UI_URL": "/api/v1/docs-static/",
        "API_SPEC_OPTIONS": {
            "components": {
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}
            }
        },
        "JSON_SORT_KEYS": False,
    }
