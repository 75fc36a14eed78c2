"""The signed manifest of an export directory, and its offline check (`verify-export`).

An export is a directory: the data files (receipts.exports), `manifest.json` and
`manifest.json.sig`. The manifest says what was exported, with which filters, when, at
which transparency-log checkpoint (size and root, and the signed checkpoint note), the
columns, and per file its name, format, rows, bytes, SHA-256 and totals per commodity
(decimal strings). `manifest.json` holds exactly canonical_bytes(manifest) (UTF-8, NFC,
sorted keys, no white space), and `manifest.json.sig` the Ed25519 signature, base64url,
by the ledger's key (the receipts' key), of SIGNING_CONTEXT followed by those bytes.

Why a detached signature over the file's bytes, not an envelope: the signed bytes are the
file itself, so anyone can check it with any Ed25519 tool (no JSON canonicalisation to
reproduce), and the verifier still requires the file to be canonical, so a JSON document
with duplicate keys or another spelling, read differently by different parsers, fails.
The context prefix keeps the ledger key's signature on a manifest from passing as its
signature on anything else it signs (a receipt payload is bare canonical JSON; a
checkpoint note's text ends in a newline).

Trust comes from the public key alone: take it from the ledger's
`GET /api/v1/transparency/keys` (or `flask ledger keys show`) once, keep it, and pass it.
Without a key every file is still checked against the manifest, but whether the manifest
is the ledger's cannot be said, and the answer is "cannot check" (exit 3).
"""
from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .exports import (
    FORMATS,
    INTEGER_TYPES,
    QUANTITY,
    TEXT,
    TYPES,
    Column,
    FormatError,
    ReaderMissing,
    TotalsBy,
    WrittenFile,
    file_sha256,
    format_of,
    parse_amount,
    read_records,
)
from .note import open_note, parse_checkpoint, verifier_key
from .payload import canonical_bytes
from .signing import SigningKey, key_id_of, load_public_key, verify_signature

MANIFEST = "manifest.json"
SIGNATURE = "manifest.json.sig"
MANIFEST_VERSION = 1
MANIFEST_TYPE = "chung-tay-ledger/export-manifest"
SIGNING_CONTEXT = b"chung-tay-ledger export manifest v1\n"


def build_manifest(*, export: str, filters: dict[str, Any], created_at: str, columns: Sequence[Column],
                   files: Sequence[WrittenFile], checkpoint: dict[str, Any] | None, key_id: str,
                   totals_by: TotalsBy | None = None) -> dict[str, Any]:
    """The manifest body. `checkpoint`: {"origin", "size", "root_hash" (base64 or bytes), "note"?}."""
    names = [f.name for f in files]
    if len(set(names)) != len(names) or any(n in (MANIFEST, SIGNATURE) for n in names):
        raise ValueError("file names must be distinct and not the manifest's own")
    body = {
        "v": MANIFEST_VERSION,
        "type": MANIFEST_TYPE,
        "export": export,
        "filters": filters,
        "created_at": created_at,
        "checkpoint": _checkpoint(checkpoint) if checkpoint is not None else None,
        "columns": [c.as_dict() for c in columns],
        "totals_by": {"by": totals_by.by, "amount": totals_by.amount} if totals_by else None,
        "files": [f.as_manifest_entry() for f in files],
        "key_id": key_id,
    }
    canonical_bytes(body)  # TypeError now, at export time, if a filter holds a float
    return body


def _checkpoint(checkpoint: dict[str, Any]) -> dict[str, Any]:
    root = checkpoint["root_hash"]
    if isinstance(root, bytes | bytearray):
        root = base64.b64encode(bytes(root)).decode("ascii")
    out = {"origin": checkpoint["origin"], "size": int(checkpoint["size"]), "root_hash": root}
    note = checkpoint.get("note")
    if note is not None:
        body = note[:note.rfind("\n\n") + 1]
        origin, size, root_bytes = parse_checkpoint(body)
        if (origin, size, base64.b64encode(root_bytes).decode("ascii")) != (out["origin"], out["size"], root):
            raise ValueError("the checkpoint note does not say the origin, size and root given")
        out["note"] = note
    return out


def signed_message(manifest_bytes: bytes) -> bytes:
    return SIGNING_CONTEXT + manifest_bytes


def write_manifest(directory: Path | str, manifest: dict[str, Any], signing_key: SigningKey) -> Path:
    """Write manifest.json (its canonical bytes) and manifest.json.sig; the manifest's path."""
    if manifest.get("key_id") != signing_key.key_id:
        raise ValueError("the manifest names another key than the one signing it")
    directory = Path(directory)
    data = canonical_bytes(manifest)
    (directory / MANIFEST).write_bytes(data)
    (directory / SIGNATURE).write_text(signing_key.sign(signed_message(data)) + "\n", encoding="ascii")
    return directory / MANIFEST


# --- keys ---------------------------------------------------------------------------------

def load_key_arguments(arguments: Iterable[str]) -> dict[str, Ed25519PublicKey]:
    """Public keys by key id, each argument a file or inline base64: a PEM, the raw key in
    base64/base64url, or the JSON answer of GET /api/v1/transparency/keys saved to a file."""
    keys: dict[str, Ed25519PublicKey] = {}
    for argument in arguments:
        path = Path(argument)
        data = path.read_bytes() if path.is_file() else argument.encode("utf-8")
        if data.lstrip().startswith(b"{"):
            try:
                published = [k["public_key"] for k in json.loads(data)["keys"]]
            except (ValueError, KeyError, TypeError):
                raise ValueError(f"{argument}: JSON, but not the ledger's /transparency/keys answer") from None
        else:
            published = [data]
        for raw in published:
            try:
                key = load_public_key(raw)
            except ValueError as exc:
                raise ValueError(f"{argument}: not a public key ({exc})") from None
            keys[key_id_of(key)] = key
    return keys


# --- verification -------------------------------------------------------------------------

@dataclass
class ExportCheck:
    problems: list[str] = field(default_factory=list)  # each one: not genuine, or altered
    unchecked: list[str] = field(default_factory=list)  # what could not be checked, and why
    notes: list[str] = field(default_factory=list)  # checks skipped that do not change the verdict
    manifest: dict[str, Any] | None = None

    @property
    def exit_code(self) -> int:
        """As the other verify commands: 0 genuine, 1 not genuine or altered, 3 cannot check."""
        if self.problems:
            return 1
        return 3 if self.unchecked else 0


def verify_export(directory: Path | str, keys: dict[str, Ed25519PublicKey]) -> ExportCheck:
    directory = Path(directory)
    check = ExportCheck()
    if not directory.is_dir():
        check.unchecked.append(f"{directory} is not a directory")
        return check
    try:
        data = (directory / MANIFEST).read_bytes()
    except OSError as exc:
        check.unchecked.append(f"cannot read {MANIFEST}: {exc.strerror or exc}")
        return check
    manifest = _parse_manifest(data, check)
    if manifest is None:
        return check
    check.manifest = manifest
    _check_signature(directory, data, manifest, keys, check)
    _check_checkpoint(manifest.get("checkpoint"), keys, check)
    columns = [Column(c["name"], c["header"], c["type"]) for c in manifest["columns"]]
    totals_by = manifest.get("totals_by")
    listed = {entry["name"] for entry in manifest["files"]}
    present = {p.name for p in directory.iterdir()}
    for name in sorted(present - listed - {MANIFEST, SIGNATURE}):
        check.problems.append(f"{name}: not listed in the manifest (an extra file)")
    for entry in manifest["files"]:
        if entry["name"] not in present:
            check.problems.append(f"{entry['name']}: missing")
        else:
            try:
                _check_file(directory / entry["name"], entry, columns, totals_by, check)
            except OSError as exc:
                check.problems.append(f"{entry['name']}: unreadable ({exc.strerror or exc})")
    return check


def _parse_manifest(data: bytes, check: ExportCheck) -> dict[str, Any] | None:
    try:
        manifest = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        check.problems.append(f"{MANIFEST}: not JSON")
        return None
    try:
        canonical = canonical_bytes(manifest) == data
    except TypeError:
        canonical = False  # a float: never written by the ledger
    if not canonical:
        check.problems.append(f"{MANIFEST}: not in canonical form (sorted keys, no white space, NFC, no floats): "
                              "edited after signing")
    shape = _shape_problem(manifest)
    if shape:
        check.problems.append(f"{MANIFEST}: {shape}")
        return None
    return manifest


def _shape_problem(manifest: Any) -> str | None:
    """What is wrong with the manifest's shape, so the checks below can trust its types."""
    if not isinstance(manifest, dict) or manifest.get("type") != MANIFEST_TYPE:
        return "not an export manifest"
    if manifest.get("v") != MANIFEST_VERSION:
        return f"version {manifest.get('v')!r}, this verifier reads version {MANIFEST_VERSION}"
    columns, files = manifest.get("columns"), manifest.get("files")
    if not isinstance(columns, list) or not all(
            isinstance(c, dict) and isinstance(c.get("name"), str) and isinstance(c.get("header"), str)
            and c.get("type") in TYPES for c in columns):
        return "malformed columns"
    totals_by = manifest.get("totals_by")
    names = [c["name"] for c in columns]
    if totals_by is not None and not (isinstance(totals_by, dict) and totals_by.get("by") in names
                                      and totals_by.get("amount") in names):
        return "malformed totals_by"
    if not isinstance(files, list) or not files:
        return "lists no files"
    for entry in files:
        if not (isinstance(entry, dict) and isinstance(entry.get("name"), str)
                and isinstance(entry.get("rows"), int) and isinstance(entry.get("bytes"), int)
                and isinstance(entry.get("sha256"), str) and entry.get("format") in FORMATS):
            return f"malformed file entry {entry!r}"
        name = entry["name"]
        # A plain name in this directory: the verifier never reads a path the manifest invents.
        if Path(name).name != name or name.startswith(".") or name in (MANIFEST, SIGNATURE):
            return f"file name {name!r} is not a plain file name"
        try:
            if format_of(name) != entry["format"]:
                return f"{name}: the name's suffix is not its format {entry['format']}"
        except ValueError as exc:
            return str(exc)
        totals = entry.get("totals")
        if totals is not None and not (isinstance(totals, dict) and all(isinstance(v, str) for v in totals.values())):
            return f"{name}: malformed totals"
    if len({e["name"] for e in files}) != len(files):
        return "a file is listed twice"
    if not isinstance(manifest.get("key_id"), str):
        return "names no key id"
    return None


def _check_signature(directory: Path, data: bytes, manifest: dict[str, Any],
                     keys: dict[str, Ed25519PublicKey], check: ExportCheck) -> None:
    try:
        signature = (directory / SIGNATURE).read_text(encoding="ascii").strip()
    except FileNotFoundError:
        check.problems.append(f"{SIGNATURE}: missing: the manifest is unsigned")
        return
    except (OSError, UnicodeDecodeError):
        check.problems.append(f"{SIGNATURE}: unreadable or not base64url")
        return
    key_id = manifest["key_id"]
    if not keys:
        check.unchecked.append(
            f"the signature: no public key given (the manifest names key id {key_id}; take the ledger's key "
            "from GET /api/v1/transparency/keys and pass it with --public-key)")
        return
    key = keys.get(key_id)
    if key is None:
        check.problems.append(f"{SIGNATURE}: signed with key {key_id!r}, which is not among the keys given "
                              f"({', '.join(sorted(keys))})")
    elif not verify_signature(key, signature, signed_message(data)):
        check.problems.append(f"{SIGNATURE}: the signature does not match {MANIFEST}: altered or forged")


def _check_checkpoint(checkpoint: Any, keys: dict[str, Ed25519PublicKey], check: ExportCheck) -> None:
    if checkpoint is None:
        return
    if not (isinstance(checkpoint, dict) and isinstance(checkpoint.get("origin"), str)
            and isinstance(checkpoint.get("size"), int) and isinstance(checkpoint.get("root_hash"), str)):
        check.problems.append(f"{MANIFEST}: malformed checkpoint")
        return
    note = checkpoint.get("note")
    if note is None or not keys:
        return  # the manifest's signature covers size and root; the note is for the log's own checks
    try:
        origin, size, root = parse_checkpoint(open_note(note, [verifier_key(checkpoint["origin"], k)
                                                               for k in keys.values()]))
    except ValueError as exc:
        check.problems.append(f"checkpoint note: {exc}")
        return
    if (origin, size, base64.b64encode(root).decode("ascii")) != \
            (checkpoint["origin"], checkpoint["size"], checkpoint["root_hash"]):
        check.problems.append("checkpoint note: it does not say the origin, size and root the manifest says")


def _check_file(path: Path, entry: dict[str, Any], columns: list[Column], totals_by: dict | None,
                check: ExportCheck) -> None:
    name = entry["name"]
    size = path.stat().st_size
    if size != entry["bytes"]:
        check.problems.append(f"{name}: {size} bytes, the manifest says {entry['bytes']}")
    digest = file_sha256(path)
    if digest != entry["sha256"]:
        check.problems.append(f"{name}: SHA-256 {digest} is not the manifest's {entry['sha256']}: altered")
    names = [c.name for c in columns]
    tally: dict[str, Decimal | int] | None = None
    if totals_by and entry.get("totals") is not None:
        by, amount = names.index(totals_by["by"]), names.index(totals_by["amount"])
        kind = columns[amount].type
        if kind not in INTEGER_TYPES + (QUANTITY,):
            check.problems.append(f"{MANIFEST}: totals of column {totals_by['amount']!r}, which is {kind}")
            return
        tally = {}
    rows = 0
    try:
        for record in read_records(path, columns):
            rows += 1
            if tally is not None:
                value = parse_amount(record[amount], kind)
                if value is not None:
                    key = record[by] if columns[by].type == TEXT else str(record[by])
                    tally[key] = tally.get(key, 0) + value
    except ReaderMissing as exc:
        check.notes.append(f"{name}: rows not re-counted ({exc}; pip install openpyxl); its SHA-256 was checked")
        return
    except (FormatError, ValueError) as exc:
        check.problems.append(f"{name}: {exc}")
        return
    if rows != entry["rows"]:
        check.problems.append(f"{name}: {rows} rows, the manifest says {entry['rows']}")
    if tally is not None:
        _compare_totals(name, entry["totals"], tally, check)


def _compare_totals(name: str, stated: dict[str, str], counted: dict[str, Any], check: ExportCheck) -> None:
    for key in sorted(set(stated) | set(counted)):
        try:
            said = Decimal(stated[key]) if key in stated else None
        except ArithmeticError:
            check.problems.append(f"{name}: the manifest's total for {key!r} is not a number")
            continue
        found = counted.get(key)
        if said is None or found is None or Decimal(found) != said:
            check.problems.append(f"{name}: total of {key}: the rows sum to "
                                  f"{'nothing' if found is None else found}, the manifest says "
                                  f"{'nothing' if said is None else stated[key]}")
