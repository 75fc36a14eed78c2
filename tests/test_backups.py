"""`flask ledger backup` and `flask ledger restore`, on SQLite and PostgreSQL: a copy taken
while the ledger holds data restores into an empty database that verifies and holds the
same checkpoint (and nothing written after the copy); a damaged copy, or a database that
already holds a ledger, is refused and nothing changes."""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from ledger import create_app
from ledger.backups.service import MANIFEST_SUFFIX, Manifest
from ledger.contributions.models import Contribution
from ledger.database import recreate_postgres_database
from ledger.extensions import db
from ledger.transparency.audit import verify_ledger
from ledger.transparency.log import latest_checkpoint, publish
from tests.conftest import PG_ADMIN_URL
from tests.helpers import build_world


def _other_database(app, tmp_path: Path) -> str:
    """An empty database of the same kind as the app's, for the restore."""
    url = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        return f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    other = url.set(database=f"{url.database}_restored").render_as_string(hide_password=False)
    recreate_postgres_database(other, PG_ADMIN_URL)
    return other


def _app_on(app, url: str):
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": app.config["INSTANCE_PATH"],
                       "TESTING": True, "LEDGER_PUBLIC_URL": app.config["LEDGER_PUBLIC_URL"]})


def _contributions() -> int:
    db.session.rollback()  # see what the API's requests committed
    return db.session.scalar(select(func.count()).select_from(Contribution))


@pytest.fixture()
def backed_up(ctx, tmp_path):
    """A ledger with gifts and a checkpoint, its backup, then one more gift after it."""
    world = build_world(ctx)
    for amount in (1_000_000, 2_500_000, 300_000):
        world.contribute(amount_vnd=amount)
    checkpoint = publish()
    db.session.commit()
    out = ctx.test_cli_runner().invoke(args=["ledger", "backup", str(tmp_path / "backups")])
    assert out.exit_code == 0, out.output
    copy = next(p for p in (tmp_path / "backups").iterdir() if not p.name.endswith(MANIFEST_SUFFIX))
    world.contribute(amount_vnd=777_000)  # after the copy: not in it
    return world, copy, checkpoint.size, bytes(checkpoint.root_hash).hex()


def test_a_backup_restores_into_an_empty_database_that_verifies(ctx, tmp_path, backed_up):
    _world, copy, size, root = backed_up
    manifest = Manifest.read(copy.with_name(copy.name + MANIFEST_SUFFIX))
    assert (manifest.checkpoint_size, manifest.checkpoint_root) == (size, root)
    target = _app_on(ctx, _other_database(ctx, tmp_path))
    with target.app_context():
        out = target.test_cli_runner().invoke(args=["ledger", "restore", str(copy)])
        assert out.exit_code == 0, out.output
        assert "the log verifies" in out.output
        assert verify_ledger() == []
        latest = latest_checkpoint()
        assert (latest.size, bytes(latest.root_hash).hex()) == (size, root)
        assert _contributions() == 3  # the gift recorded after the copy is not in it
        db.session.remove()
        db.engine.dispose()


def test_a_damaged_copy_or_a_full_database_is_refused(ctx, tmp_path, backed_up):
    _world, copy, _size, _root = backed_up
    # Into the database that holds the ledger: refused without --replace, nothing changed.
    out = ctx.test_cli_runner().invoke(args=["ledger", "restore", str(copy)])
    assert out.exit_code != 0 and "already holds a ledger" in out.output
    assert _contributions() == 4
    # A changed byte: refused before anything is touched.
    damaged = tmp_path / "damaged" / copy.name
    damaged.parent.mkdir()
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    manifest = copy.with_name(copy.name + MANIFEST_SUFFIX)
    damaged.with_name(manifest.name).write_bytes(manifest.read_bytes())
    target = _app_on(ctx, _other_database(ctx, tmp_path))
    with target.app_context():
        out = target.test_cli_runner().invoke(args=["ledger", "restore", str(damaged)])
        assert out.exit_code != 0 and "does not match its manifest" in out.output
        assert "journal_transactions" not in sa.inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_replace_restores_over_a_ledger(ctx, tmp_path, backed_up):
    """--replace: the ledger as it was at the copy, the later gift gone, and it verifies."""
    _world, copy, size, _root = backed_up
    db.session.remove()
    out = ctx.test_cli_runner().invoke(args=["ledger", "restore", str(copy), "--replace"])
    assert out.exit_code == 0, out.output
    assert _contributions() == 3 and latest_checkpoint().size == size
    assert verify_ledger() == []


def test_backups_never_overwrite(ctx, tmp_path):
    build_world(ctx)
    db.session.commit()
    target = Path(tempfile.mkdtemp(dir=tmp_path)) / "ledger.copy"
    runner = ctx.test_cli_runner()
    assert runner.invoke(args=["ledger", "backup", str(target)]).exit_code == 0
    again = runner.invoke(args=["ledger", "backup", str(target)])
    assert again.exit_code != 0 and "never overwrites" in again.output
