from marshmallow import Schema, fields

from ..auth.privacy import HidesPrivateFields
from ..fields import Choice, CitizenId, TaxCode, Text, VietnamPhone
from ..journal.schemas import ChangeOut
from .models import DONOR_KINDS, PUBLIC_DISPLAYS
from .service import donor_history

STATE_LEVELS = ("central", "province", "commune")


class DonorIn(Schema):
    kind = Choice(DONOR_KINDS, required=True)
    name = Text(required=True, max_length=300)
    public_display = Choice(PUBLIC_DISPLAYS, load_default="named")
    tax_code = TaxCode(allow_none=True)
    state_level = Choice(STATE_LEVELS, allow_none=True)
    area_code = Text(max_length=16, allow_none=True)
    id_number = CitizenId(allow_none=True, metadata={"description": "private: CCCD, 12 digits"})
    phone = VietnamPhone(allow_none=True, metadata={"description": "private"})
    address = Text(max_length=500, allow_none=True, metadata={"description": "private"})


class DonorPatch(DonorIn):
    class Meta:
        exclude = ("kind",)

    name = Text(max_length=300)
    public_display = Choice(PUBLIC_DISPLAYS)


class DonorQuery(Schema):
    q = fields.String(metadata={"description": "name without diacritics, in part; or tax code"})
    kind = Choice(DONOR_KINDS)


class DonorOut(HidesPrivateFields, Schema):
    donor_id = fields.Integer(attribute="id")
    kind = fields.String()
    name = fields.String()
    display_name = fields.String()
    public_display = fields.String()
    tax_code = fields.String(allow_none=True)
    state_level = fields.String(allow_none=True)
    area_code = fields.String(allow_none=True)
    id_number = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    created_at = fields.DateTime()


class DonorDetailOut(DonorOut):
    history = fields.Method("_history")

    def _history(self, donor):
        return ChangeOut(many=True).dump(donor_history(donor.id))
