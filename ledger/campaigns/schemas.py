from marshmallow import Schema, fields

from ..fields import LocalDate, MoneyVND, Text


class CampaignIn(Schema):
    code = Text(required=True, max_length=32)
    name = Text(required=True, max_length=300)
    area_code = Text(required=True, max_length=16)
    starts_on = LocalDate(required=True)
    ends_on = LocalDate(allow_none=True)
    norm_new_build_vnd = MoneyVND(load_default=60_000_000)
    norm_repair_vnd = MoneyVND(load_default=30_000_000)
    target_houses = fields.Integer(strict=True, allow_none=True, validate=lambda n: n >= 0)
    publish_household_names = fields.Boolean(load_default=False, metadata={
        "description": "public pages show household heads' full names (the committee publishes its list); "
                       "otherwise masked, e.g. Nguyễn V. A."})


class CampaignOut(Schema):
    campaign_id = fields.Integer(attribute="id")
    code = fields.String()
    name = fields.String()
    area_code = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date(allow_none=True)
    norm_new_build_vnd = fields.Integer()
    norm_repair_vnd = fields.Integer()
    target_houses = fields.Integer(allow_none=True)
    publish_household_names = fields.Boolean()
