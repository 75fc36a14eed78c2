from marshmallow import Schema, fields

from receipts.signing import load_public_key, public_key_pem


class KeyOut(Schema):
    key_id = fields.String()
    algorithm = fields.String()
    public_key = fields.String(metadata={"description": "the raw 32-byte Ed25519 key, base64url"})
    public_key_pem = fields.Function(lambda k: public_key_pem(load_public_key(k.public_key)))
    status = fields.Function(lambda k: "retired" if k.retired_at else "active")
    created_at = fields.DateTime()
    retired_at = fields.DateTime(allow_none=True)


class KeysOut(Schema):
    keys = fields.List(fields.Nested(KeyOut))
