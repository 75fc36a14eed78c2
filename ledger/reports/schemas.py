"""The reports' filters and their JSON: money as integers of đồng, quantities as decimal strings."""
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..fields import N_, LocalDate, Text
from ..journal.quantities import format_units


class ReportQuery(Schema):
    """The filters of every report (each applies those that fit it)."""

    campaign_id = fields.Integer(strict=False, metadata={"description": "none: every campaign (the PDF: the latest)"})
    fund_id = fields.Integer(strict=False)
    area_code = Text(max_length=16, metadata={
        "description": "the area and every area below it; none: the user's own area, or the whole country"})
    date_from = LocalDate(metadata={"description": "commendations and unallocated: received on; pledges: due on"})
    date_to = LocalDate(metadata={"description": "inclusive"})
    older_than_days = fields.Integer(strict=False, load_default=30, validate=validate.Range(
        min=0, max=36500, error=N_("Enter a number of days from 0 to 36500.")), metadata={
        "description": "unallocated: received more than this many days ago"})
    top = fields.Integer(strict=False, load_default=10, validate=validate.Range(
        min=1, max=100, error=N_("Enter a number from 1 to 100.")), metadata={
        "description": "commendations: how many donors per list"})

    @validates_schema
    def _period(self, data, **kwargs):
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise ValidationError(N_("The end date is before the start date."), field_name="date_to")


def _campaign(c) -> dict:
    return {"campaign_id": c.id, "code": c.code, "name": c.name}


def _scope(scope) -> dict:
    return {
        "campaign_ids": scope.campaign_ids,
        "area": {"area_code": scope.area.code, "name": scope.area.name} if scope.area else None,
        "fund": {"fund_id": scope.fund.id, "code": scope.fund.code, "name": scope.fund.name} if scope.fund else None,
        "date_from": scope.date_from.isoformat() if scope.date_from else None,
        "date_to": scope.date_to.isoformat() if scope.date_to else None,
        "as_of": scope.today.isoformat(),
    }


FIGURES = ("received", "transferred_in", "transferred_out", "allocated", "remaining")


class KindFiguresOut(Schema):
    pledged_vnd = fields.Integer()
    received_vnd = fields.Integer()
    transferred_in_vnd = fields.Integer(metadata={"description": "from funds outside the scope"})
    transferred_out_vnd = fields.Integer(metadata={"description": "to funds outside the scope"})
    allocated_vnd = fields.Integer()
    remaining_vnd = fields.Integer(metadata={"description": "what the funds hold now, valued"})


class LabourFiguresOut(KindFiguresOut):
    received_person_days = fields.Function(lambda k: format_units(k.received_units, "labour"))
    transferred_in_person_days = fields.Function(lambda k: format_units(k.transferred_in_units, "labour"))
    transferred_out_person_days = fields.Function(lambda k: format_units(k.transferred_out_units, "labour"))
    allocated_person_days = fields.Function(lambda k: format_units(k.allocated_units, "labour"))
    remaining_person_days = fields.Function(lambda k: format_units(k.remaining_units, "labour"))


class ReportKindsOut(Schema):
    cash = fields.Nested(KindFiguresOut)
    material = fields.Nested(KindFiguresOut)
    labour = fields.Nested(LabourFiguresOut)


class CommodityLineOut(Schema):
    commodity = fields.Function(lambda line: line.totals.commodity)
    kind = fields.String()
    item = fields.String(allow_none=True)
    unit = fields.String()
    received = fields.Function(lambda line: line.quantity("received"),
                               metadata={"description": "decimal quantity; null for cash"})
    transferred_in = fields.Function(lambda line: line.quantity("transferred_in"))
    transferred_out = fields.Function(lambda line: line.quantity("transferred_out"))
    allocated = fields.Function(lambda line: line.quantity("allocated"))
    remaining = fields.Function(lambda line: line.quantity("remaining"))
    received_vnd = fields.Function(lambda line: line.totals.received_vnd)
    transferred_in_vnd = fields.Function(lambda line: line.totals.transferred_in_vnd)
    transferred_out_vnd = fields.Function(lambda line: line.totals.transferred_out_vnd)
    allocated_vnd = fields.Function(lambda line: line.totals.allocated_vnd)
    remaining_vnd = fields.Function(lambda line: line.totals.remaining_vnd)
    balanced = fields.Function(lambda line: line.totals.balanced, metadata={
        "description": "received + transferred in − transferred out − allocated = remaining, in units"})


class BlockOut(Schema):
    name = fields.String(attribute="label")
    code = fields.String(allow_none=True)
    totals = fields.Function(lambda b: KindFiguresOut().dump(b.total))
    kinds = fields.Nested(ReportKindsOut)
    lines = fields.List(fields.Nested(CommodityLineOut))
    balanced = fields.Boolean()


class CampaignReconciliationOut(Schema):
    campaign = fields.Function(lambda r: _campaign(r.campaign))
    totals = fields.Nested(BlockOut)
    funds = fields.List(fields.Nested(BlockOut))
    areas = fields.List(fields.Nested(BlockOut), metadata={
        "description": "the chosen area's own funds, then each area one level down"})


class ReconciliationOut(Schema):
    scope = fields.Function(lambda r: _scope(r.scope))
    campaigns = fields.List(fields.Nested(CampaignReconciliationOut))


class CoverageFiguresOut(Schema):
    name = fields.String(attribute="label")
    code = fields.String(allow_none=True)
    households = fields.Integer()
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer())
    approved_vnd = fields.Integer(metadata={"description": "households approved or further on"})
    allocated_vnd = fields.Integer()
    fully_funded = fields.Integer()
    under_funded = fields.Integer()


class HouseholdLineOut(Schema):
    household_id = fields.Integer()
    head_name = fields.String()
    commune = fields.String()
    status = fields.String()
    support_type = fields.String()
    approved_vnd = fields.Integer()
    allocated_vnd = fields.Integer()
    shortfall_vnd = fields.Integer()


class OverrideLineOut(Schema):
    allocation_id = fields.Integer()
    household_id = fields.Integer()
    head_name = fields.String()
    commune = fields.String()
    approved_vnd = fields.Integer()
    norm_vnd = fields.Integer()
    household_allocated_vnd = fields.Integer()
    value_vnd = fields.Integer()
    reason = fields.String()
    requested_by = fields.String()
    approved_by = fields.String(allow_none=True)
    on = fields.Date()


class CampaignCoverageOut(Schema):
    campaign = fields.Function(lambda r: _campaign(r.campaign))
    totals = fields.Nested(CoverageFiguresOut)
    areas = fields.List(fields.Nested(CoverageFiguresOut))
    under_funded = fields.List(fields.Nested(HouseholdLineOut))
    overrides = fields.List(fields.Nested(OverrideLineOut))


class CoverageOut(Schema):
    scope = fields.Function(lambda r: _scope(r.scope))
    campaigns = fields.List(fields.Nested(CampaignCoverageOut))


class OverduePledgeOut(Schema):
    pledge_id = fields.Integer()
    code = fields.String()
    campaign = fields.String(attribute="campaign_code")
    fund = fields.String(attribute="fund_code")
    donor = fields.String()
    donor_kind = fields.String()
    kind = fields.String()
    item = fields.String(allow_none=True)
    unit = fields.String()
    pledged = fields.Function(lambda p: p.quantity("pledged"), metadata={"description": "null for cash"})
    received = fields.Function(lambda p: p.quantity("received"))
    remaining = fields.Function(lambda p: p.quantity("remaining"))
    pledged_vnd = fields.Integer()
    received_vnd = fields.Integer()
    remaining_vnd = fields.Integer()
    due_on = fields.Date()
    days_overdue = fields.Integer()


class OverduePledgesOut(Schema):
    scope = fields.Function(lambda r: _scope(r.scope))
    count = fields.Integer()
    pledged_vnd = fields.Integer()
    remaining_vnd = fields.Integer()
    pledges = fields.List(fields.Nested(OverduePledgeOut))


class WaitingContributionOut(Schema):
    contribution_id = fields.Integer()
    receipt_number = fields.String()
    received_on = fields.Date()
    days = fields.Integer(metadata={"description": "days since it was received"})
    campaign = fields.String(attribute="campaign_code")
    fund = fields.String(attribute="fund_code")
    donor = fields.String()
    kind = fields.String()
    item = fields.String(allow_none=True)
    unit = fields.String()
    received = fields.Function(lambda c: c.quantity("received"), metadata={"description": "null for cash"})
    allocated = fields.Function(lambda c: c.quantity("allocated"))
    transferred = fields.Function(lambda c: c.quantity("transferred"))
    remaining = fields.Function(lambda c: c.quantity("remaining"))
    elsewhere = fields.Function(lambda c: c.quantity("elsewhere"))
    received_vnd = fields.Integer()
    allocated_units = fields.Integer(metadata={"description": "in the commodity's smallest unit"})
    transferred_units = fields.Integer()
    remaining_units = fields.Integer()
    elsewhere_units = fields.Integer()
    remaining_vnd = fields.Integer(metadata={"description": "what its own fund still holds, valued"})
    elsewhere_vnd = fields.Integer(metadata={"description": "what funds it was transferred to still hold"})
    balanced = fields.Boolean(metadata={"description": "remaining equals what its fund holds in the journal"})


class UnallocatedOut(Schema):
    scope = fields.Function(lambda r: _scope(r.scope))
    older_than_days = fields.Function(lambda r: r.scope.older_than_days)
    received_before = fields.Date(attribute="cutoff")
    count = fields.Integer()
    remaining_vnd = fields.Integer()
    contributions = fields.List(fields.Nested(WaitingContributionOut))


class ContributorOut(Schema):
    rank = fields.Integer()
    donor_id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    contributions = fields.Integer()
    cash_vnd = fields.Integer()
    material_vnd = fields.Integer()
    labour_vnd = fields.Integer()
    total_vnd = fields.Integer()


class RankingOut(Schema):
    name = fields.String(attribute="label")
    code = fields.String()
    top = fields.List(fields.Nested(ContributorOut))
    named_donors = fields.Integer()
    anonymous = fields.Function(lambda r: {"donors": r.anonymous_donors, "total_vnd": r.anonymous_vnd}, metadata={
        "description": "donors who chose not to be named: counted, never ranked"})


class CommendationsOut(Schema):
    scope = fields.Function(lambda r: _scope(r.scope))
    top = fields.Function(lambda r: r.scope.top)
    by_kind = fields.List(fields.Nested(RankingOut))
    by_area = fields.List(fields.Nested(RankingOut))


OUTPUTS = {"reconciliation": ReconciliationOut, "households": CoverageOut, "overdue-pledges": OverduePledgesOut,
           "unallocated": UnallocatedOut, "commendations": CommendationsOut}
