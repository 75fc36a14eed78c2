"""Offline verification: a receipt PDF, or a receipt URL, against a published public key.

Trust comes from the public key alone (published at /api/v1/transparency/keys and in the
README): a PDF carries its signed envelope; a URL carries the signature, and its payload is
fetched from the ledger's public API, so a lying server cannot make a forged URL verify.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .envelope import NOT_GENUINE, VOIDED, Envelope, Verdict, verify_envelope, verify_payload
from .qr import parse_receipt_url
from .signing import key_id_of, load_public_key

EXIT_CODES = {"genuine": 0, NOT_GENUINE: 1, VOIDED: 2}  # 3: the check itself could not run


def load_keys(paths: list[Path]) -> dict[str, Ed25519PublicKey]:
    """Public keys from files (PEM or base64 raw), by key id."""
    keys = {}
    for path in paths:
        key = load_public_key(Path(path).read_bytes())
        keys[key_id_of(key)] = key
    return keys


def verify_pdf(pdf: bytes, keys: dict[str, Ed25519PublicKey]) -> list[Verdict]:
    """One verdict per receipt the PDF carries (a batch PDF carries many)."""
    from .pdf import read_envelopes

    return [verify_envelope(envelope, keys) for envelope in read_envelopes(pdf)]


def fetch_json(url: str, timeout: float = 15) -> dict:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310 (http/https checked by caller)
        return json.loads(resp.read())


def verify_url(url: str, keys: dict[str, Ed25519PublicKey], fetch=fetch_json) -> Verdict:
    """Check the signature a QR URL carries against the payload the ledger publishes."""
    base, number, signature = parse_receipt_url(url)
    if not signature:
        return Verdict(NOT_GENUINE, "the URL carries no signature (?s=...)", number)
    try:
        answer = fetch(f"{base}/api/v1/receipts/{number}")
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return Verdict(NOT_GENUINE, f"the ledger has no receipt {number}", number)
        raise
    payload = answer.get("payload")
    if not isinstance(payload, dict) or payload.get("number") != number:
        return Verdict(NOT_GENUINE, "the ledger's answer is not this receipt", number)
    verdict = verify_payload(payload, signature, keys)
    if not verdict.genuine:
        return verdict
    void = answer.get("void")
    if void is not None:
        # The ledger says it is voided: believe it only with a valid signed void statement.
        voided = verify_envelope(Envelope(payload, signature, void), keys)
        if voided.status == VOIDED:
            return voided
        return Verdict(NOT_GENUINE, "the ledger's void statement is not genuine", number)
    return verdict
