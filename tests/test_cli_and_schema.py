"""Operator commands, the migrations matching the models, and tamper detection."""
from sqlalchemy import select, text, update

from ledger.auth.models import User
from ledger.extensions import db
from ledger.journal.models import JournalTransaction, Posting
from tests.helpers import build_world


def test_user_create_reads_the_password_from_stdin(ctx):
    runner = ctx.test_cli_runner()
    result = runner.invoke(args=["ledger", "user", "create", "thu", "--role", "recorder", "--area", "00004"],
                           input="mat khau du dai\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "thu"))
    assert (user.role, user.area_code) == ("recorder", "00004")
    assert "mat khau" not in result.output
    bad = runner.invoke(args=["ledger", "user", "create", "thu2", "--role", "recorder", "--area", "99999"],
                        input="mat khau du dai\n")
    assert bad.exit_code != 0


def test_ensure_admin_creates_one_admin_once_with_a_random_password(ctx):
    runner = ctx.test_cli_runner()
    first = runner.invoke(args=["ledger", "user", "ensure-admin"])
    second = runner.invoke(args=["ledger", "user", "ensure-admin"])
    assert "password:" in first.output and "password:" not in second.output
    admins = db.session.scalars(select(User).where(User.role == "admin")).all()
    assert len(admins) == 1


def test_legacy_area_can_be_added_below_a_province(ctx):
    runner = ctx.test_cli_runner()
    result = runner.invoke(args=["ledger", "areas", "add", "00031", "Phường Quán Thánh (cũ)", "--type", "phường",
                                 "--parent", "001"])
    assert result.exit_code == 0, result.output
    from ledger.areas.service import is_within

    assert is_within("00031", "01") and is_within("00031", "001")
    again = runner.invoke(args=["ledger", "areas", "add", "00031", "x", "--parent", "001"])
    assert again.exit_code != 0


def test_verify_passes_then_detects_a_direct_edit_of_the_database(ctx):
    w = build_world(ctx)
    w.recorder.ok(w.contribute(amount_vnd=5_000_000))
    h = w.household()
    w.recorder.ok(w.allocate(h, amount_vnd=1_000_000))
    runner = ctx.test_cli_runner()
    assert runner.invoke(args=["ledger", "verify"]).exit_code == 0
    db.session.execute(update(Posting).where(Posting.id == 1).values(units=Posting.units + 1))
    db.session.commit()
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 1 and "does not balance" in result.output
    db.session.execute(update(Posting).where(Posting.id == 1).values(units=Posting.units - 1))
    db.session.execute(update(JournalTransaction).where(JournalTransaction.seq == 0)
                       .values(public_json=JournalTransaction.public_json + " "))
    db.session.commit()
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 1 and "SHA-256" in result.output


def test_migrations_match_the_models(ctx):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from ledger.statement.models import include_name

    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True, "include_name": include_name}), db.metadata)
    assert diff == []


def test_sqlite_connections_enforce_foreign_keys(ctx, backend):
    if backend != "sqlite":
        return
    with db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_an_existing_sqlite_ledger_upgrades_through_table_rebuilds(tmp_path):
    """SQLite alters a table by rebuilding it; with foreign keys enforced, dropping the old
    `users` (which others point to) would fail. An instance with data must still upgrade."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from ledger import create_app
    from ledger.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.sqlite3'}",
                      "INSTANCE_PATH": str(tmp_path), "TESTING": True})
    with app.app_context():
        upgrade(revision="e3e875100019")  # the schema before the staff pages
        with db.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO areas (code, name, name_folded, division_type, path, legacy) "
                                 "VALUES ('01', 'Thành phố Hà Nội', 'thanh pho ha noi', 'thành phố', '/01/', 0)"))
            conn.execute(sa.text("INSERT INTO users (id, username, display_name, password_hash, role, active, "
                                 "created_at) VALUES (1, 'admin', 'Quản trị', 'x', 'admin', 1, '2025-01-01')"))
            conn.execute(sa.text("INSERT INTO campaigns (id, code, name, area_code, starts_on, norm_new_build_vnd, "
                                 "norm_repair_vnd, created_by_id, created_at) VALUES (1, 'CT2025', 'Chung tay', '01', "
                                 "'2025-01-01', 60000000, 30000000, 1, '2025-01-01')"))
        upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT username FROM users")).scalars().all() == ["admin"]
            assert conn.execute(sa.text("SELECT created_by_id FROM campaigns")).scalar() == 1
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        db.engine.dispose()
