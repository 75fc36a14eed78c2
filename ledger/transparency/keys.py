"""The ledger's signing key: loaded (or generated on first run) once per process.

The private key lives in a file readable by its owner only: LEDGER_SIGNING_KEY_FILE, or
signing_key.pem in the instance folder. It never enters the database, a log, an error or
an export; only its public half and key id are stored and published.
"""
from __future__ import annotations

import os
from pathlib import Path

from flask import current_app

from receipts.signing import SigningKey

_EXTENSION = "ledger_signing_key"


def key_file(app=None) -> Path:
    app = app or current_app
    configured = app.config.get("LEDGER_SIGNING_KEY_FILE")
    return Path(configured) if configured else Path(app.config["INSTANCE_PATH"]) / "signing_key.pem"


def load_or_create(path: Path) -> SigningKey:
    """Read the key; generate it when the file does not exist yet. Two workers starting at
    once both end up reading the one file the first of them created (O_EXCL)."""
    if not path.exists():
        try:
            SigningKey.generate().save(path)
        except FileExistsError:
            pass
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        os.chmod(path, 0o600)  # a key file others can read is tightened, not trusted as is
    return SigningKey.load(path)


def signing_key() -> SigningKey:
    """The key that signs now (cached per process: rotation takes effect on restart)."""
    key = current_app.extensions.get(_EXTENSION)
    if key is None:
        key = current_app.extensions[_EXTENSION] = load_or_create(key_file())
    return key


def forget_signing_key(app) -> None:
    app.extensions.pop(_EXTENSION, None)
