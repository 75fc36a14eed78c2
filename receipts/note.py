"""C2SP signed notes and transparency-log checkpoints, as Go's golang.org/x/mod/sumdb/note.

Signed note (https://c2sp.org/signed-note): a text ending in a newline, a blank line,
then signature lines "— <key name> <base64(key ID ‖ signature)>" (U+2014, a space).
For Ed25519 the key ID is SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ 32-byte public key)[:4] and
the signature covers the text including its final newline. A verifier key ("vkey", Go's
format) is "<name>+<hex key ID>+<base64(0x01 ‖ public key)>".

Checkpoint (https://c2sp.org/tlog-checkpoint): the note text "<origin>\\n<size>\\n
<base64 root>\\n", optionally followed by non-empty extension lines.

`open_note` follows the spec and Go's note.Open: signatures by unknown keys are ignored,
a signature by a known key that does not verify rejects the whole note, and a note with
no verified signature from a known key is rejected. Base64 here is the standard alphabet
with padding (RFC 4648 §4), unlike the base64url of receipt signatures.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from receipts.signing import from_b64url, load_public_key, raw_public_bytes

ALG_ED25519 = 0x01
SIG_PREFIX = "\u2014 "  # em dash, space
MAX_SIGNATURES = 100  # Go's limit; the spec asks for at least 16
HASH_SIZE = 32

_SIZE = re.compile(r"0|[1-9][0-9]*")
_HEX8 = re.compile(r"[0-9a-fA-F]{8}")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _from_b64(text: str, what: str, canonical: bool = True) -> bytes:
    """Standard base64 with padding; `canonical` also refuses a second spelling of a value."""
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise ValueError(f"{what} is not base64") from None
    if canonical and _b64(data) != text:
        raise ValueError(f"{what} is not canonical base64")
    return data


def _check_name(name: object) -> str:
    """Key names are non-empty, with no Unicode space, no plus and no control character."""
    if not isinstance(name, str) or not name:
        raise ValueError("a key name must be a non-empty string")
    if any(c.isspace() or c == "+" or ord(c) < 0x20 for c in name):
        raise ValueError(f"key name {name!r} must not contain spaces, '+' or control characters")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("a key name must be valid UTF-8") from None
    return name


def _check_text(text: str, what: str) -> None:
    """Signed notes are valid UTF-8 with no ASCII control characters but newline."""
    bad = next((c for c in text if ord(c) < 0x20 and c != "\n"), None)
    if bad is not None:
        raise ValueError(f"{what} contains the control character {bad!r}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{what} is not valid UTF-8") from None


def _raw_key(public_key: Ed25519PublicKey | bytes) -> bytes:
    if isinstance(public_key, Ed25519PublicKey):
        return raw_public_bytes(public_key)
    if isinstance(public_key, bytes | bytearray) and len(public_key) == 32:
        return bytes(public_key)
    raise ValueError("an Ed25519 public key (object or 32 raw bytes) is needed")


# --- keys ---------------------------------------------------------------------------------

def note_key_id(name: str, public_key: Ed25519PublicKey | bytes) -> bytes:
    """The 4-byte key ID: SHA-256(name ‖ 0x0A ‖ 0x01 ‖ raw public key)[:4] (signed-note, Ed25519)."""
    _check_name(name)
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + _raw_key(public_key)).digest()[:4]


def verifier_key(name: str, public_key: Ed25519PublicKey | bytes) -> str:
    """Go's verifier key text: "<name>+<hex8 key ID>+<base64(0x01 ‖ public key)>"."""
    raw = _raw_key(public_key)
    return f"{name}+{note_key_id(name, raw).hex()}+{_b64(bytes([ALG_ED25519]) + raw)}"


def parse_verifier_key(text: str) -> tuple[str, bytes, Ed25519PublicKey]:
    """(name, 4-byte key ID, public key) from a verifier key; ValueError when malformed.

    The key ID must be the one the name and key give: a vkey whose ID was edited is
    refused here, as Go's note.NewVerifier refuses it.
    """
    if not isinstance(text, str):
        raise ValueError("a verifier key is a string")
    name, sep1, rest = text.strip().partition("+")
    hex_id, sep2, key64 = rest.partition("+")
    if not sep1 or not sep2 or not _HEX8.fullmatch(hex_id):
        raise ValueError("a verifier key reads <name>+<8 hex digits>+<base64 key>")
    _check_name(name)
    key = _from_b64(key64, "the verifier key's public key")
    if not key or key[0] != ALG_ED25519:
        raise ValueError("the verifier key is not an Ed25519 key (algorithm 0x01)")
    if len(key) != 33:
        raise ValueError("an Ed25519 verifier key holds 32 bytes after the algorithm byte")
    key_id = bytes.fromhex(hex_id)
    if key_id != note_key_id(name, key[1:]):
        raise ValueError("the verifier key's ID does not match its name and public key")
    return name, key_id, Ed25519PublicKey.from_public_bytes(key[1:])


# --- checkpoints --------------------------------------------------------------------------

def checkpoint_body(origin: str, size: int, root: bytes) -> str:
    """The tlog-checkpoint note text: "<origin>\\n<size>\\n<base64 root>\\n"."""
    if not isinstance(origin, str) or not origin or "\n" in origin:
        raise ValueError("the origin is one non-empty line")
    _check_text(origin, "the origin")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ValueError("the tree size is an integer >= 0")
    if not isinstance(root, bytes | bytearray) or len(root) != HASH_SIZE:
        raise ValueError("the root hash has 32 bytes")
    return f"{origin}\n{size}\n{_b64(bytes(root))}\n"


def parse_checkpoint(body: str) -> tuple[str, int, bytes]:
    """(origin, size, root) from checkpoint note text; extension lines are allowed, not returned.

    Strict: the text ends in a newline, has at least three lines and no empty line, the
    size is ASCII decimal with no leading zero (and fits Go's int64), the root is
    canonical base64 of 32 bytes.
    """
    if not isinstance(body, str):
        raise ValueError("a checkpoint is text")
    _check_text(body, "the checkpoint")
    if not body.endswith("\n"):
        raise ValueError("a checkpoint ends with a newline")
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise ValueError("a checkpoint has an origin, a size and a root hash line")
    if any(not line for line in lines):
        raise ValueError("a checkpoint has no empty lines")
    origin, size_text, root_text = lines[:3]
    if not _SIZE.fullmatch(size_text):
        raise ValueError(f"the tree size {size_text!r} is not a decimal number without leading zeros")
    size = int(size_text)
    if size >= 1 << 63:
        raise ValueError("the tree size is too large")
    root = _from_b64(root_text, "the root hash")
    if len(root) != HASH_SIZE:
        raise ValueError("the root hash has 32 bytes")
    return origin, size, root


# --- notes --------------------------------------------------------------------------------

def sign_note(body: str, name: str, signing_key) -> str:
    """The signed note: body, a blank line, "— <name> base64(key ID ‖ Ed25519 signature)".

    `signing_key` is a receipts.signing.SigningKey (its .sign() returns base64url).
    """
    if not isinstance(body, str) or not body.endswith("\n"):
        raise ValueError("a note's text ends with a newline")
    _check_text(body, "the note text")
    _check_name(name)
    signature = from_b64url(signing_key.sign(body.encode("utf-8")))
    key_id = note_key_id(name, signing_key.public_key)
    return f"{body}\n{SIG_PREFIX}{name} {_b64(key_id + signature)}\n"


def _known_keys(known) -> dict[tuple[str, bytes], Ed25519PublicKey | None]:
    """(name, key ID) → key from vkey strings, or from a {name: public key} mapping.

    A (name, ID) pair claimed by two different keys maps to None: a note signed under it
    is refused rather than checked against either key.
    """
    entries: list[tuple[str, bytes, Ed25519PublicKey]] = []
    if isinstance(known, str):
        known = [known]
    if isinstance(known, Mapping):
        for name, key in known.items():
            if isinstance(key, str):
                key = load_public_key(key)
            raw = _raw_key(key)
            entries.append((name, note_key_id(name, raw), Ed25519PublicKey.from_public_bytes(raw)))
    elif isinstance(known, Iterable):
        entries.extend(parse_verifier_key(vkey) for vkey in known)
    else:
        raise ValueError("known keys are a list of verifier keys or a {name: public key} dict")
    out: dict[tuple[str, bytes], Ed25519PublicKey | None] = {}
    for name, key_id, key in entries:
        prior = out.get((name, key_id), key)
        same = prior is not None and raw_public_bytes(prior) == raw_public_bytes(key)
        out[(name, key_id)] = key if same else None
    return out


def open_note(note: str, known) -> str:
    """The text of a signed note once a known key's signature on it verifies.

    `known`: verifier keys ("name+hex+base64", a list or one string) or a dict
    {name: public key}. ValueError when the note is malformed, when a known key's
    signature does not verify, or when no known key signed it. Signatures by unknown keys
    are ignored (signed-note: "Verifiers MUST ignore signatures from unknown keys").
    """
    keys = _known_keys(known)
    if isinstance(note, bytes | bytearray):
        try:
            note = bytes(note).decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("malformed note: not valid UTF-8") from None
    if not isinstance(note, str):
        raise ValueError("malformed note: not text")
    _check_text(note, "the note")
    split = note.rfind("\n\n")  # the text ends at the last blank line
    if split < 0:
        raise ValueError("malformed note: no blank line before the signatures")
    text, sig_block = note[:split + 1], note[split + 2:]
    if not sig_block or not sig_block.endswith("\n"):
        raise ValueError("malformed note: the signature lines must end with a newline")

    lines = sig_block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise ValueError(f"malformed note: more than {MAX_SIGNATURES} signatures")
    message = text.encode("utf-8")
    verified, seen = [], set()
    for line in lines:
        if not line.startswith(SIG_PREFIX):
            raise ValueError(f"malformed note: signature line {line!r} does not start with '— '")
        name, _, sig64 = line[len(SIG_PREFIX):].partition(" ")
        try:
            _check_name(name)
            # Not canonical-only: Go accepts any padded spelling, and the signature covers
            # the text, not this line.
            sig = _from_b64(sig64, "the signature", canonical=False)
        except ValueError as exc:
            raise ValueError(f"malformed note: {exc}") from None
        if len(sig) < 5:
            raise ValueError("malformed note: a signature is a key ID and at least one byte")
        key_id, sig = sig[:4], sig[4:]
        if (name, key_id) not in keys:
            continue  # an unknown key, perhaps a witness or a rotated key
        if (name, key_id) in seen:
            continue  # as Go: a known key's repeated signature is not looked at again
        seen.add((name, key_id))
        key = keys[(name, key_id)]
        if key is None:
            raise ValueError(f"key {name} {key_id.hex()} is ambiguous: two known keys share its name and ID")
        try:
            key.verify(sig, message)
        except InvalidSignature:
            raise ValueError(f"the signature by {name} (key {key_id.hex()}) does not verify") from None
        verified.append(name)
    if not verified:
        raise ValueError("the note carries no signature by a known key")
    return text
