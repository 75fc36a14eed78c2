from marshmallow import Schema, fields

from ..fields import LocalDate
from . import service


class ReceiptOut(Schema):
    """A receipt as anyone may see it: the signed payload (no personal data), its signature,
    and the void statement once voided. Verify it with a key of /transparency/keys."""

    number = fields.String()
    status = fields.Function(service.status_of, metadata={"description": "valid | voided"})
    url = fields.Function(service.url_of, metadata={"description": "what the QR code carries"})
    payload = fields.Function(lambda r: service.envelope_of(r).payload)
    signature = fields.String(metadata={"description": "Ed25519 over the canonical payload, base64url"})
    void = fields.Function(lambda r: service.envelope_of(r).void, allow_none=True)
    key_id = fields.String()


class BatchQuery(Schema):
    received_from = LocalDate()
    received_to = LocalDate()
