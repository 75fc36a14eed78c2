"""The resource fields every input and output schema of the three kinds shares."""
from marshmallow import Schema, fields, post_dump

from ..fields import Choice, MoneyVND, Quantity, Text
from .quantities import KINDS
from .resources import describe


class ResourceIn(Schema):
    """kind, then amount_vnd | item, unit, quantity, unit_value_vnd | person_days, day_rate_vnd.
    Which are required for which kind is checked in one place: journal.resources."""

    kind = Choice(KINDS, required=True)
    amount_vnd = MoneyVND(metadata={"description": "cash: whole đồng"})
    item = Text(max_length=200, metadata={"description": "material: e.g. Xi măng PCB40"})
    unit = Text(max_length=40, metadata={"description": "material: e.g. bao"})
    quantity = Quantity("material", metadata={"description": 'material: decimal string, e.g. "12.5"'})
    unit_value_vnd = MoneyVND(metadata={"description": "material: value of one unit"})
    person_days = Quantity("labour", metadata={"description": 'labour: decimal string, e.g. "3.5"'})
    day_rate_vnd = MoneyVND(metadata={"description": "labour: value of one person-day"})


class ResourceOut(Schema):
    """Dumps an object with kind, commodity, units, value_vnd (and unit_price_vnd)."""

    kind = fields.String()
    amount_vnd = fields.Integer()
    item = fields.String()
    unit = fields.String()
    quantity = fields.String()
    unit_value_vnd = fields.Integer()
    person_days = fields.String()
    day_rate_vnd = fields.Integer()
    value_vnd = fields.Integer()

    @post_dump(pass_original=True)
    def _resource(self, data, original, **_):
        data.update(describe(original.kind, original.commodity, original.units, getattr(original, "value_vnd", None),
                             getattr(original, "unit_price_vnd", None)))
        return data


def dump_lines(record) -> list[dict]:
    """The lines of an allocation or transfer: one per source contribution."""
    from ..contributions.service import receipt_numbers

    numbers = receipt_numbers(line.contribution_id for line in record.lines)
    return [{"contribution_id": line.contribution_id, "receipt_number": numbers[line.contribution_id],
             **describe(record.kind, record.commodity, line.units, getattr(line, "value_vnd", None))}
            for line in record.lines]


class ReasonIn(Schema):
    """Why a void, reversal or cancellation is made: kept with it, for ever."""

    reason = Text(required=True, max_length=2000)


class ChangeOut(Schema):
    """One edit of a donor or household, as kept in its history: {field: [old, new]}."""

    changes = fields.Method("_changes")
    changed_by_id = fields.Integer()
    changed_at = fields.DateTime()

    def _changes(self, change) -> dict:
        from ..auth.privacy import private_data_visible, without_private_changes

        return change.changes if private_data_visible() else without_private_changes(change.changes)
