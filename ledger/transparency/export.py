"""An export of the public log for offline verification (`python -m receipts verify-log`).

JSON Lines: first {"origin", "verifier_keys"}, then one {"index", "data"} per entry in
order, then one {"checkpoint": note} per signed checkpoint. Only public data: the leaves
already hold commitments, never the salts or the personal data behind them.
"""
from __future__ import annotations

import json

from sqlalchemy import select

from ..extensions import db
from ..journal.models import JournalTransaction
from .log import note_verifier_key, origin, publish
from .models import Checkpoint
from .service import public_keys


def export_log(path: str) -> int:
    publish()
    count = 0
    with open(path, "w", encoding="utf-8") as out:
        header = {"origin": origin(), "verifier_keys": [note_verifier_key(k) for k in public_keys().values()]}
        out.write(json.dumps(header, ensure_ascii=False) + "\n")
        for seq, data in db.session.execute(select(JournalTransaction.seq, JournalTransaction.public_json)
                                            .order_by(JournalTransaction.seq)).yield_per(10000):
            out.write(json.dumps({"index": seq, "data": data}, ensure_ascii=False) + "\n")
            count += 1
        for note in db.session.scalars(select(Checkpoint.note).order_by(Checkpoint.size)):
            out.write(json.dumps({"checkpoint": note}, ensure_ascii=False) + "\n")
    return count
