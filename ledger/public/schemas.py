"""The public summary's JSON: the overview page's figures, public fields only."""
from marshmallow import Schema, fields

from ..transparency.schemas import b64


class SummaryQuery(Schema):
    campaign = fields.Integer(metadata={"description": "a campaign id; none: the latest campaign"})
    area = fields.String(metadata={"description": "an area code: that area and below; none: the whole country"})


class KindOut(Schema):
    pledged_vnd = fields.Integer()
    received_vnd = fields.Integer()
    allocated_vnd = fields.Integer()
    remaining_vnd = fields.Integer()


class LabourOut(KindOut):
    received_person_days = fields.Function(lambda k: k.person_days(k.received_units))
    allocated_person_days = fields.Function(lambda k: k.person_days(k.allocated_units))
    remaining_person_days = fields.Function(lambda k: k.person_days(k.remaining_units))


class KindsOut(Schema):
    cash = fields.Nested(KindOut)
    material = fields.Nested(KindOut)
    labour = fields.Nested(LabourOut)


class MaterialOut(Schema):
    item = fields.String()
    unit = fields.String()
    received = fields.String(metadata={"description": "decimal quantity"})
    allocated = fields.String()
    remaining = fields.String()


class AreaProgressOut(Schema):
    area_code = fields.String(attribute="code")
    name = fields.String()
    received_vnd = fields.Integer()
    allocated_vnd = fields.Integer()
    households = fields.Integer()
    houses_done = fields.Integer(attribute="done")
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer())


class SummaryOut(Schema):
    campaign = fields.Function(lambda o: {"id": o.campaign.id, "code": o.campaign.code, "name": o.campaign.name})
    area = fields.Function(lambda o: {"area_code": o.area.code, "name": o.area.name} if o.area else None)
    totals = fields.Function(lambda o: KindOut().dump(o.total))
    kinds = fields.Nested(KindsOut)
    materials = fields.List(fields.Nested(MaterialOut))
    houses = fields.Function(lambda o: {"by_status": o.houses_by_status, "total": o.houses, "done": o.houses_done,
                                        "target": o.target_houses})
    areas = fields.List(fields.Nested(AreaProgressOut))
    sources = fields.Function(lambda o: [{"source": k, "value_vnd": v} for k, v in o.sources])
    months = fields.Function(lambda o: [{"month": m, "received_vnd": v} for m, v in o.months])
    checkpoint = fields.Function(lambda o: None if o.checkpoint is None else {
        "size": o.checkpoint.size, "root_hash": b64(o.checkpoint.root_hash),
        "signed_at": o.checkpoint.signed_at.isoformat()})
    as_of = fields.DateTime(metadata={"description": "when these figures were computed from the ledger"})
    journal_entries = fields.Integer(attribute="journal_size",
                                     metadata={"description": "journal entries the figures cover"})


class PingOut(Schema):
    status = fields.String(metadata={"description": "always ok"})
