from marshmallow import Schema, fields


class AreaQuery(Schema):
    parent = fields.String(metadata={"description": "children of this area code"})
    q = fields.String(metadata={"description": "part of the name, diacritics optional"})


class AreaOut(Schema):
    code = fields.String()
    name = fields.String()
    division_type = fields.String()
    parent_code = fields.String(allow_none=True)
    legacy = fields.Boolean()
