from marshmallow import Schema, fields

from ..fields import Text


class TokenIn(Schema):
    username = Text(required=True, max_length=80)
    password = fields.String(required=True, load_only=True)


class TokenOut(Schema):
    token = fields.String()
    expires_at = fields.DateTime()
