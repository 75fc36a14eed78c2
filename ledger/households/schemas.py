from marshmallow import Schema, fields

from ..auth.privacy import HidesPrivateFields
from ..fields import Choice, CitizenId, LocalDate, MoneyVND, Text, VietnamPhone
from ..journal.schemas import ChangeOut
from .models import CATEGORIES, STATUSES, SUPPORT_TYPES
from .service import funding_composition, household_history


class HouseholdIn(Schema):
    campaign_id = fields.Integer(required=True, strict=True)
    commune_code = Text(required=True, max_length=16)
    head_name = Text(required=True, max_length=200)
    category = Choice(CATEGORIES, required=True)
    support_type = Choice(SUPPORT_TYPES, required=True)
    approved_amount_vnd = MoneyVND(allow_none=True, metadata={"description": "default: the campaign's norm"})
    own_contribution_vnd = MoneyVND(allow_zero=True, load_default=0)
    surveyed_on = LocalDate(not_future=True, load_default=None)
    id_number = CitizenId(allow_none=True, metadata={"description": "private"})
    phone = VietnamPhone(allow_none=True, metadata={"description": "private"})
    address = Text(max_length=500, allow_none=True, metadata={"description": "private"})


class HouseholdPatch(Schema):
    head_name = Text(max_length=200)
    category = Choice(CATEGORIES)
    support_type = Choice(SUPPORT_TYPES)
    approved_amount_vnd = MoneyVND()
    own_contribution_vnd = MoneyVND(allow_zero=True)
    id_number = CitizenId(allow_none=True)
    phone = VietnamPhone(allow_none=True)
    address = Text(max_length=500, allow_none=True)


class StatusIn(Schema):
    status = Choice(STATUSES, required=True)
    on = LocalDate(required=True, not_future=True)
    note = Text(max_length=2000, allow_none=True)


class HouseholdQuery(Schema):
    campaign_id = fields.Integer()
    area_code = fields.String(metadata={"description": "commune, or an area above it"})
    status = Choice(STATUSES)
    category = Choice(CATEGORIES)
    support_type = Choice(SUPPORT_TYPES)
    q = fields.String(metadata={"description": "head's name, diacritics optional"})


class StatusEventOut(Schema):
    status = fields.String()
    on = fields.Date()
    note = fields.String(allow_none=True)
    recorded_at = fields.DateTime()


class HouseholdOut(HidesPrivateFields, Schema):
    household_id = fields.Integer(attribute="id")
    campaign_id = fields.Integer()
    commune_code = fields.String()
    commune_name = fields.Function(lambda h: h.commune.name)
    head_name = fields.String()
    category = fields.String()
    support_type = fields.String()
    approved_amount_vnd = fields.Integer()
    own_contribution_vnd = fields.Integer()
    status = fields.String()
    id_number = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    created_at = fields.DateTime()


class HouseholdDetailOut(HouseholdOut):
    timeline = fields.List(fields.Nested(StatusEventOut), attribute="events")
    funding = fields.Function(funding_composition)
    history = fields.Method("_history")

    def _history(self, household):
        return ChangeOut(many=True).dump(household_history(household.id))
