"""The receipt document, independent of Flask and the database.

A receipt is a signed *envelope*: the canonical public payload of one contribution, its
Ed25519 signature, and, once the contribution is voided, a signed void statement. The
same envelope is stored by the ledger, embedded in the PDF and checked by the offline
verifier (`python -m receipts verify`).
"""
from .envelope import Envelope, Verdict, verify_envelope
from .payload import ANONYMOUS_DONOR, PAYLOAD_VERSION, canonical_bytes
from .signing import SigningKey, key_id_of, load_public_key

__all__ = ["ANONYMOUS_DONOR", "PAYLOAD_VERSION", "Envelope", "SigningKey", "Verdict", "canonical_bytes",
           "key_id_of", "load_public_key", "verify_envelope"]
