"""The signed envelope of a receipt, and the one check every verifier runs.

An envelope is {"payload": ..., "signature": ..., "void": null | {"statement": ..., "signature": ...}}.
The ledger stores it, the PDF embeds it (one attached file per receipt, named
`{number}.json`), and `verify_envelope` decides: genuine, voided, or not genuine.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .payload import canonical_bytes
from .signing import verify_signature

GENUINE, VOIDED, NOT_GENUINE = "genuine", "voided", "not_genuine"
ATTACHMENT_SUFFIX = ".json"


@dataclass
class Envelope:
    payload: dict[str, Any]
    signature: str
    void: dict[str, Any] | None = None  # {"statement": {...}, "signature": "..."}

    @property
    def number(self) -> str:
        return self.payload["number"]

    def to_json(self) -> str:
        return canonical_bytes({"payload": self.payload, "signature": self.signature,
                                "void": self.void}).decode("utf-8")

    @classmethod
    def from_json(cls, text: str | bytes) -> Envelope:
        """Parse an envelope; ValueError when it does not have an envelope's shape."""
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError("not JSON") from exc
        if not isinstance(data, dict) or not isinstance(data.get("payload"), dict) \
                or not isinstance(data.get("signature"), str) or not isinstance(data["payload"].get("number"), str):
            raise ValueError("not a receipt envelope")
        void = data.get("void")
        if void is not None and not (isinstance(void, dict) and isinstance(void.get("statement"), dict)
                                     and isinstance(void.get("signature"), str)):
            raise ValueError("a malformed void statement")
        return cls(data["payload"], data["signature"], void)


@dataclass
class Verdict:
    status: str  # GENUINE | VOIDED | NOT_GENUINE
    reason: str  # one line, English; pages translate the status, not this
    number: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def genuine(self) -> bool:
        return self.status == GENUINE


def verify_payload(payload: dict[str, Any], signature: str,
                   public_keys: dict[str, Ed25519PublicKey]) -> Verdict:
    """Is `signature` the signature of `payload` by the key the payload names?"""
    number = payload.get("number") if isinstance(payload.get("number"), str) else None
    key_id = payload.get("key_id")
    key = public_keys.get(key_id) if isinstance(key_id, str) else None
    if key is None:
        known = ", ".join(sorted(public_keys)) or "none"
        return Verdict(NOT_GENUINE, f"signed with key {key_id!r}, which is not among the keys given ({known})", number)
    try:
        message = canonical_bytes(payload)
    except TypeError:
        return Verdict(NOT_GENUINE, "the payload holds a float", number)
    if not verify_signature(key, signature, message):
        return Verdict(NOT_GENUINE, "the signature does not match the payload: altered or forged", number)
    return Verdict(GENUINE, f"signed by key {key_id}", number)


def verify_envelope(envelope: Envelope, public_keys: dict[str, Ed25519PublicKey]) -> Verdict:
    """Genuine when the payload's signature holds; voided when, besides, a valid void
    statement for the same number is attached; not genuine otherwise."""
    verdict = verify_payload(envelope.payload, envelope.signature, public_keys)
    if not verdict.genuine or envelope.void is None:
        return verdict
    statement = envelope.void["statement"]
    if not _verify_statement(statement, envelope.void["signature"], public_keys):
        return Verdict(NOT_GENUINE, "the attached void statement is not genuine", envelope.number)
    if statement.get("voids") != envelope.number:
        return Verdict(NOT_GENUINE, "the attached void statement is for another receipt", envelope.number)
    return Verdict(VOIDED, f"voided on {statement.get('voided_on')}: {statement.get('reason')}", envelope.number,
                   {"voided_on": statement.get("voided_on"), "reason": statement.get("reason")})


def _verify_statement(statement: dict[str, Any], signature: str, public_keys: dict[str, Ed25519PublicKey]) -> bool:
    key = public_keys.get(statement.get("key_id")) if isinstance(statement.get("key_id"), str) else None
    if key is None:
        return False
    try:
        return verify_signature(key, signature, canonical_bytes(statement))
    except TypeError:
        return False
