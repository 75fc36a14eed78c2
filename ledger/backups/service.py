"""A consistent copy of the whole database while the service runs, and restoring it.

SQLite: the online backup API (a consistent snapshot, copied page by page; writers wait
only for a step). PostgreSQL: pg_dump's custom format (one snapshot of a read-only
transaction), restored by pg_restore in a single transaction. Beside the copy, a manifest
(JSON): when, which database, the file's SHA-256 and size, and the log's latest signed
checkpoint (size and root) that the copy holds. A restore checks the file against its
manifest before touching anything, and afterwards that the checkpoint is there and that
`verify` rebuilds the whole log from the restored rows.

The signing key is not in the database, so not in the backup: keep the instance folder's
key file (or LEDGER_SIGNING_KEY_FILE) in its own safe place.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from ..extensions import db

MANIFEST_SUFFIX = ".manifest.json"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why (nothing was changed)."""


@dataclass
class Manifest:
    file: str
    database: str  # sqlite | postgresql
    taken_at: str
    sha256: str
    bytes: int
    checkpoint_size: int | None
    checkpoint_root: str | None  # hex

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=1) + "\n")

    @classmethod
    def read(cls, path: Path) -> Manifest:
        try:
            return cls(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError) as err:
            raise BackupError(f"no readable manifest at {path}: {err}") from err


def _url() -> sa.engine.URL:
    return db.engine.url


def _sqlite_path(url: sa.engine.URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(url.database)


def _libpq_url(url: sa.engine.URL) -> str:
    """The URL pg_dump and pg_restore take: the driver name dropped, the password kept."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _latest_checkpoint(connection) -> tuple[int | None, str | None]:
    row = connection.execute(sa.text("SELECT size, root_hash FROM checkpoints ORDER BY size DESC LIMIT 1")).first()
    return (None, None) if row is None else (int(row[0]), bytes(row[1]).hex())


def backup(destination: Path) -> tuple[Path, Manifest]:
    """Copy the database to `destination` (a folder: a new file named by the time in it),
    with its manifest beside it. Returns (the copy, its manifest)."""
    url = _url()
    kind = url.get_backend_name()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    if destination.is_dir() or not destination.suffix:
        destination.mkdir(parents=True, exist_ok=True)
        destination = destination / f"ledger-{stamp}.{'sqlite3' if kind == 'sqlite' else 'dump'}"
    if destination.exists():
        raise BackupError(f"{destination} exists: a backup never overwrites another")
    partial = destination.with_name(destination.name + ".part")
    if kind == "sqlite":
        source = sqlite3.connect(_sqlite_path(url))
        target = sqlite3.connect(partial)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        engine = sa.create_engine(f"sqlite:///{partial}")
        with engine.connect() as connection:  # the checkpoint the copy itself holds
            size, root = _latest_checkpoint(connection)
        engine.dispose()
    elif kind == "postgresql":
        with db.engine.connect() as connection:
            # Read before the dump starts: checkpoints only grow, so the dump holds this one.
            size, root = _latest_checkpoint(connection)
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={partial}", f"--dbname={_libpq_url(url)}"])
    else:
        raise BackupError(f"no backup for a {kind} database")
    os.replace(partial, destination)
    manifest = Manifest(file=destination.name, database=kind, taken_at=stamp, sha256=sha256_of(destination),
                        bytes=destination.stat().st_size, checkpoint_size=size, checkpoint_root=root)
    manifest.write(destination.with_name(destination.name + MANIFEST_SUFFIX))
    return destination, manifest


def _run(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (Debian: postgresql-client)")
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        # The URL (with any password) is not echoed: only the tool's own message.
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()[-2000:]}")


def _holds_a_ledger(connection) -> bool:
    inspector = sa.inspect(connection)
    if "journal_transactions" not in inspector.get_table_names():
        return False
    return connection.execute(sa.text("SELECT 1 FROM journal_transactions LIMIT 1")).first() is not None


def restore(source: Path, *, replace: bool = False) -> Manifest:
    """Restore the copy at `source` into the configured database, after checking it against
    its manifest; refused when the database already holds a ledger, unless `replace`.
    Then the manifest's checkpoint must be in it and `verify` must pass (else BackupError,
    with the restored database left for inspection)."""
    manifest = Manifest.read(source.with_name(source.name + MANIFEST_SUFFIX))
    if not source.is_file():
        raise BackupError(f"no backup file at {source}")
    if sha256_of(source) != manifest.sha256:
        raise BackupError(f"{source.name} does not match its manifest's SHA-256: damaged or changed")
    url = _url()
    kind = url.get_backend_name()
    if kind != manifest.database:
        raise BackupError(f"a {manifest.database} backup cannot be restored into a {kind} database")
    db.session.remove()
    with db.engine.connect() as connection:
        if _holds_a_ledger(connection) and not replace:
            raise BackupError("the database already holds a ledger: restoring replaces all of it "
                              "(pass --replace to do so)")
    db.engine.dispose()
    if kind == "sqlite":
        source_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        target = sqlite3.connect(_sqlite_path(url))
        try:
            source_db.backup(target)  # the whole target replaced, in one step
        finally:
            target.close()
            source_db.close()
    else:
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
              f"--dbname={_libpq_url(url)}", str(source)])
    _check_restored(manifest)
    return manifest


def _check_restored(manifest: Manifest) -> None:
    from ..transparency.audit import verify_ledger

    with db.engine.connect() as connection:
        if manifest.checkpoint_size is not None:
            row = connection.execute(sa.text("SELECT root_hash FROM checkpoints WHERE size = :s"),
                                     {"s": manifest.checkpoint_size}).first()
            if row is None or bytes(row[0]).hex() != manifest.checkpoint_root:
                raise BackupError(f"the restored database lacks the manifest's checkpoint of size "
                                  f"{manifest.checkpoint_size}")
    problems = verify_ledger()
    if problems:
        raise BackupError("the restored database does not verify: " + "; ".join(problems[:5]))
