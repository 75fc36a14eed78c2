"""Every test of the ledger's rules runs twice: on SQLite and on PostgreSQL.

The schema is built once per backend by the real migrations; between tests every table
but `areas` is emptied, so tests (and their threads) commit for real and see only their
own data. PostgreSQL is skipped when unreachable, unless LEDGER_REQUIRE_POSTGRES=1 (CI),
where an unreachable server fails the run.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from ledger import create_app
from ledger.database import recreate_postgres_database
from ledger.extensions import db
from ledger.transparency.service import forget_registration

# The browser tests' `served` and `phone` fixtures (a module may define its own).
pytest_plugins = ["tests.browser_helpers"]

PG_URL = os.environ.get("LEDGER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/ledger_test")
PG_ADMIN_URL = os.environ.get("LEDGER_TEST_POSTGRES_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("LEDGER_REQUIRE_POSTGRES") == "1"

# A few real areas (codes of the vietnam-provinces package) and one legacy district.
TEST_AREAS = [
    ("01", "Thành phố Hà Nội", "thành phố trung ương", None),
    ("00004", "Phường Ba Đình", "phường", "01"),
    ("00008", "Phường Ngọc Hà", "phường", "01"),
    ("79", "Thành phố Hồ Chí Minh", "thành phố trung ương", None),
    ("26734", "Phường Sài Gòn", "phường", "79"),
]


def fresh_postgres_or_skip(url: str = PG_URL) -> None:
    """Empty (or create) the PostgreSQL database at `url`; when PostgreSQL is unreachable,
    skip, or fail under LEDGER_REQUIRE_POSTGRES=1 (CI)."""
    try:
        recreate_postgres_database(url, PG_ADMIN_URL)
    except sa.exc.OperationalError as exc:
        problem = str(exc).splitlines()[0]
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required (LEDGER_REQUIRE_POSTGRES=1) but unreachable: {problem}")
        pytest.skip(f"PostgreSQL unreachable: {problem}")


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def app(request, tmp_path_factory):
    if request.param == "postgresql":
        fresh_postgres_or_skip()
        url = PG_URL
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'ledger.sqlite3'}"
    instance = tempfile.mkdtemp(prefix="ledger-instance-")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": instance, "TESTING": True,
                      "LEDGER_PUBLIC_URL": "https://chungtay.example.vn",
                      # Tests search often from one address; test_public_portal lowers it to test it.
                      "LEDGER_SEARCH_RATE_LIMIT": "100000 per minute"})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        from ledger.areas.service import add_area

        for code, name, division_type, parent in TEST_AREAS:
            add_area(code, name, division_type, parent, legacy=False)
        add_area("001", "Quận Ba Đình (cũ)", "quận", "01", legacy=True)
    yield app
    with app.app_context():
        db.engine.dispose()


def _empty_tables(app):
    tables = [t for t in reversed(db.metadata.sorted_tables) if t.name != "areas"]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("TRUNCATE " + ", ".join(t.name for t in tables) + " RESTART IDENTITY CASCADE")
        else:
            for table in tables:
                conn.execute(table.delete())
        conn.exec_driver_sql("INSERT INTO ledger_sequence (id, last_seq) VALUES (1, -1)")
        conn.exec_driver_sql("INSERT INTO log_state (id, size) VALUES (1, 0)")
    forget_registration(app)  # the signing key's record went with the tables


@pytest.fixture()
def ctx(app):
    """An app context on an empty ledger (areas kept)."""
    with app.app_context():
        _empty_tables(app)
        yield app
        db.session.remove()


@pytest.fixture()
def backend(app) -> str:
    return "postgresql" if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") else "sqlite"


# --- tools some tests drive: Go's note/tlog packages and Chromium ---------------------------
# Locally a missing tool skips those tests; CI (.ci/run) installs them and sets
# LEDGER_REQUIRE_TOOLS=1, so there a missing tool fails instead.
REQUIRE_TOOLS = os.environ.get("LEDGER_REQUIRE_TOOLS") == "1"
GO_GOPATH = os.environ.get("LEDGER_GO_GOPATH", "/usr/share/gocode")
CHROMIUM = os.environ.get("LEDGER_CHROMIUM", "/usr/bin/chromium")


def missing_tool(why: str):
    if REQUIRE_TOOLS:
        pytest.fail(f"{why} (LEDGER_REQUIRE_TOOLS=1)")
    pytest.skip(why)


@pytest.fixture(scope="session")
def go_verifier(tmp_path_factory):
    """tests/go/verify_note built against Debian's golang.org/x/mod (sumdb/note, sumdb/tlog)."""
    go = shutil.which("go")
    if go is None or not (Path(GO_GOPATH) / "src/golang.org/x/mod/sumdb/note").is_dir():
        missing_tool("go or Debian's golang-golang-x-mod-dev is not installed")
    out = tmp_path_factory.mktemp("go") / "verify_note"
    env = {**os.environ, "GO111MODULE": "off", "GOPATH": GO_GOPATH,
           "GOCACHE": str(out.parent / "cache"), "GOFLAGS": ""}
    subprocess.run([go, "build", "-o", str(out), "."], cwd=Path(__file__).parent / "go" / "verify_note",
                   env=env, check=True, capture_output=True, timeout=300)
    return out


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        missing_tool(f"Chromium is not installed at {CHROMIUM}")
    return CHROMIUM
