"""What the public portal shows: a campaign's progress, where a contribution went, what an
organisation gave, what a household received. Read-only, public fields only: every name
of a person passes through ledger.public.privacy."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..allocations.models import Allocation, AllocationLine
from ..areas.models import Area
from ..areas.service import get_area
from ..campaigns.models import Campaign
from ..campaigns.service import get_campaign
from ..contributions.models import Contribution
from ..donors.models import ANONYMOUS_NAME, Donor
from ..extensions import db
from ..funds.models import Fund, Transfer, TransferLine
from ..households.models import STATUSES, Household
from ..journal.models import Holding
from ..journal.quantities import LABOUR, VND, format_units, kind_of
from ..journal.service import commodity_label, not_reversed
from ..pledges.models import Pledge, PledgeCancellation
from ..problems import NotFound
from ..web.vocabulary import DONOR_KINDS
from . import privacy

KINDS = ("cash", "material", "labour")
NO_CAMPAIGN = _l("No campaign has been recorded yet.")
SOURCE_LABELS = {**DONOR_KINDS, "anonymous": _l("Anonymous donors")}  # the overview's sources
DONE = ("completed", "handed_over")  # a house that stands: counted as done against the target
ORGANISATION_KINDS = ("business", "union", "agency", "state")  # individuals get no page of their own


# --- campaign overview -----------------------------------------------------------------

@dataclass
class KindTotals:
    """One kind (cash, materials, labour), valued in đồng; labour also in person-days."""

    kind: str
    pledged_vnd: int = 0
    received_vnd: int = 0
    allocated_vnd: int = 0
    remaining_vnd: int = 0
    received_units: int = 0  # labour: hundredths of a person-day
    allocated_units: int = 0
    remaining_units: int = 0
    transferred_in_vnd: int = 0  # from funds outside the scope
    transferred_out_vnd: int = 0  # to funds outside the scope
    transferred_in_units: int = 0  # labour only, as above
    transferred_out_units: int = 0

    def person_days(self, units: int) -> str:
        return format_units(units, "labour")


@dataclass
class MaterialLine:
    item: str
    unit: str
    received: str
    allocated: str
    remaining: str


@dataclass
class AreaProgress:
    """One area under the one shown: money and houses."""

    code: str
    name: str
    received_vnd: int = 0
    allocated_vnd: int = 0
    households: int = 0  # registered in the campaign
    done: int = 0  # completed or handed over
    by_status: dict[str, int] = field(default_factory=dict)

    @property
    def done_percent(self) -> int:
        return round(100 * self.done / self.households) if self.households else 0


@dataclass
class Overview:
    campaign: Campaign
    area: Area | None
    kinds: dict[str, KindTotals]
    materials: list[MaterialLine]
    areas: list[AreaProgress]
    houses_by_status: dict[str, int]
    target_houses: int | None
    sources: list[tuple[str, int]]  # donor kind -> đồng received
    months: list[tuple[str, int]]  # "2025-03" -> đồng received that month
    checkpoint: object | None
    campaigns: list[Campaign]
    # When the figures were computed, and how many journal entries they cover: a kept
    # summary (ledger.public.summaries) may be up to a minute old. None: computed just now.
    as_of: datetime | None = None
    journal_size: int | None = None

    @property
    def total(self) -> KindTotals:
        t = KindTotals("all")
        for k in self.kinds.values():
            t.pledged_vnd += k.pledged_vnd
            t.received_vnd += k.received_vnd
            t.allocated_vnd += k.allocated_vnd
            t.remaining_vnd += k.remaining_vnd
        return t

    @property
    def houses(self) -> int:
        return sum(self.houses_by_status.values())

    @property
    def houses_done(self) -> int:
        return sum(self.houses_by_status.get(s, 0) for s in DONE)


def public_campaigns() -> list[Campaign]:
    return db.session.scalars(select(Campaign).order_by(Campaign.starts_on.desc(), Campaign.id.desc())).all()


def choose_campaign(campaign_id: int | None) -> Campaign | None:
    """The campaign asked for, or the latest one; None when the ledger has none yet."""
    if campaign_id is not None:
        return get_campaign(campaign_id)
    return db.session.scalar(select(Campaign).order_by(Campaign.starts_on.desc(), Campaign.id.desc()).limit(1))


def _under(column, area: Area | None):
    """WHERE: the area code in `column` is `area` or below it (no condition for the whole country)."""
    if area is None:
        return True
    return column.in_(select(Area.code).where(Area.path.startswith(area.path, autoescape=True)))


def funds_in_scope(area: Area | None, fund_id: int | None = None):
    """SELECT the ids of the funds in `area` and below (every fund for the whole country),
    or only fund `fund_id` among them."""
    query = select(Fund.id).where(_under(Fund.area_code, area))
    return query.where(Fund.id == fund_id) if fund_id is not None else query


def lot_value(units: int, lot_units: int, lot_value_vnd: int) -> int:
    """The đồng value of `units` of a lot (a contribution) at its own unit value, rounded
    down; in Python, since units × value could overflow a 64-bit integer in SQL."""
    return units * lot_value_vnd // lot_units if lot_units else 0


@dataclass
class CommodityTotals:
    """One commodity (đồng, a material, labour person-days) in a set of funds: in its
    smallest units and valued in đồng. Units always reconcile:
    received + transferred in − transferred out − allocated = remaining (what the funds hold)."""

    commodity: str
    kind: str
    received_units: int = 0
    received_vnd: int = 0
    transferred_in_units: int = 0
    transferred_in_vnd: int = 0
    transferred_out_units: int = 0
    transferred_out_vnd: int = 0
    allocated_units: int = 0
    allocated_vnd: int = 0
    remaining_units: int = 0
    remaining_vnd: int = 0

    FIGURES = ("received", "transferred_in", "transferred_out", "allocated", "remaining")

    def add(self, other: CommodityTotals) -> None:
        for name in self.FIGURES:
            for suffix in ("_units", "_vnd"):
                setattr(self, name + suffix, getattr(self, name + suffix) + getattr(other, name + suffix))

    @property
    def expected_remaining_units(self) -> int:
        return self.received_units + self.transferred_in_units - self.transferred_out_units - self.allocated_units

    @property
    def balanced(self) -> bool:
        return self.expected_remaining_units == self.remaining_units

    @property
    def is_empty(self) -> bool:
        return not any(getattr(self, n + "_units") for n in self.FIGURES)


@dataclass
class CampaignLedger:
    """A campaign's figures per fund and commodity, read once in a few grouped queries; the
    totals of any set of those funds (an area, one fund) are summed from them, transfers
    counted only where they cross the set's edge."""

    campaign: Campaign
    fund_ids: set[int]
    by_fund: dict[int, dict[str, CommodityTotals]]
    pledged: dict[int, dict[str, int]]  # fund -> kind -> đồng pledged (cancelled pledges left out)
    transfers: list[tuple[int, int, str, int, int]]  # (from fund, to fund, commodity, units, đồng)

    def commodities(self, fund_ids: set[int] | None = None) -> dict[str, CommodityTotals]:
        fund_ids = self.fund_ids if fund_ids is None else fund_ids
        out: dict[str, CommodityTotals] = {}

        def line(commodity: str) -> CommodityTotals:
            if commodity not in out:
                out[commodity] = CommodityTotals(commodity, kind_of(commodity))
            return out[commodity]

        for fund_id in fund_ids:
            for commodity, totals in self.by_fund.get(fund_id, {}).items():
                line(commodity).add(totals)
        for source, target, commodity, units, value in self.transfers:
            if source in fund_ids and target not in fund_ids:
                t = line(commodity)
                t.transferred_out_units += units
                t.transferred_out_vnd += value
            elif target in fund_ids and source not in fund_ids:
                t = line(commodity)
                t.transferred_in_units += units
                t.transferred_in_vnd += value
        return {c: t for c, t in out.items() if not t.is_empty}

    def pledged_vnd(self, fund_ids: set[int] | None = None) -> dict[str, int]:
        fund_ids = self.fund_ids if fund_ids is None else fund_ids
        totals = {k: 0 for k in KINDS}
        for fund_id in fund_ids:
            for kind, value in self.pledged.get(fund_id, {}).items():
                totals[kind] += value
        return totals

    def kinds(self, fund_ids: set[int] | None = None) -> tuple[dict[str, KindTotals], list[MaterialLine]]:
        """Per kind, valued (labour also in person-days), and the materials per item."""
        kinds = {k: KindTotals(k) for k in KINDS}
        materials = []
        for commodity, c in self.commodities(fund_ids).items():
            totals = kinds[c.kind]
            for name in ("received", "transferred_in", "transferred_out", "allocated", "remaining"):
                setattr(totals, name + "_vnd", getattr(totals, name + "_vnd") + getattr(c, name + "_vnd"))
                if commodity == LABOUR:
                    setattr(totals, name + "_units", getattr(totals, name + "_units") + getattr(c, name + "_units"))
            if c.kind == "material":
                label = commodity_label(commodity)
                quantities = (format_units(c.received_units, "material"), format_units(c.allocated_units, "material"),
                              format_units(c.remaining_units, "material"))
                materials.append(MaterialLine(label["item"], label["unit"], *quantities))
        for kind, value in self.pledged_vnd(fund_ids).items():
            kinds[kind].pledged_vnd += value
        materials.sort(key=lambda m: m.item)
        return kinds, materials


def campaign_ledger(campaign: Campaign, funds) -> CampaignLedger:
    """What the funds selected by `funds` (a SELECT of fund ids) received of the campaign
    (contributions not voided), allocated (not reversed), hold now (Holding: the journal's
    balances) and moved between funds (transfers not reversed), per fund and commodity;
    and what was pledged to them (not cancelled)."""
    fund_ids = set(db.session.scalars(funds))
    by_fund: dict[int, dict[str, CommodityTotals]] = defaultdict(dict)

    def totals(fund_id: int, commodity: str) -> CommodityTotals:
        if commodity not in by_fund[fund_id]:
            by_fund[fund_id][commodity] = CommodityTotals(commodity, kind_of(commodity))
        return by_fund[fund_id][commodity]

    live = not_reversed(Contribution.txn_id)
    for fund_id, commodity, units, value in db.session.execute(
            select(Contribution.fund_id, Contribution.commodity, func.sum(Contribution.units),
                   func.sum(Contribution.value_vnd))
            .where(Contribution.campaign_id == campaign.id, Contribution.fund_id.in_(funds), live)
            .group_by(Contribution.fund_id, Contribution.commodity)):
        t = totals(fund_id, commodity)
        t.received_units, t.received_vnd = int(units or 0), int(value or 0)
    for fund_id, commodity, units, value in db.session.execute(
            select(Allocation.fund_id, Allocation.commodity, func.sum(Allocation.units), func.sum(Allocation.value_vnd))
            .join(Household, Household.id == Allocation.household_id)
            .where(Household.campaign_id == campaign.id, Allocation.fund_id.in_(funds),
                   not_reversed(Allocation.txn_id))
            .group_by(Allocation.fund_id, Allocation.commodity)):
        t = totals(fund_id, commodity)
        t.allocated_units, t.allocated_vnd = int(units or 0), int(value or 0)
    # What the funds still hold of this campaign's contributions: cash in đồng, a lot of
    # materials or labour at its own unit value.
    for fund_id, commodity, units, lot_units, lot_value_vnd in db.session.execute(
            select(Holding.fund_id, Holding.commodity, Holding.units, Contribution.units, Contribution.value_vnd)
            .join(Contribution, Contribution.id == Holding.contribution_id)
            .where(Contribution.campaign_id == campaign.id, Holding.fund_id.in_(funds), Holding.units > 0)):
        t = totals(fund_id, commodity)
        t.remaining_units += units
        t.remaining_vnd += units if commodity == VND else lot_value(units, lot_units, lot_value_vnd)
    moved: dict[tuple[int, int, str], list[int]] = defaultdict(lambda: [0, 0])
    for source, target, commodity, units, lot_units, lot_value_vnd in db.session.execute(
            select(Transfer.from_fund_id, Transfer.to_fund_id, Transfer.commodity, TransferLine.units,
                   Contribution.units, Contribution.value_vnd)
            .join(Transfer, Transfer.id == TransferLine.transfer_id)
            .join(Contribution, Contribution.id == TransferLine.contribution_id)
            .where(Contribution.campaign_id == campaign.id, not_reversed(Transfer.txn_id),
                   Transfer.from_fund_id.in_(funds) | Transfer.to_fund_id.in_(funds))):
        key = (source, target, commodity)
        moved[key][0] += units
        moved[key][1] += units if commodity == VND else lot_value(units, lot_units, lot_value_vnd)
    pledged: dict[int, dict[str, int]] = defaultdict(dict)
    for fund_id, kind, value in db.session.execute(
            select(Pledge.fund_id, Pledge.kind, func.sum(Pledge.value_vnd))
            .outerjoin(PledgeCancellation, PledgeCancellation.pledge_id == Pledge.id)
            .where(Pledge.campaign_id == campaign.id, Pledge.fund_id.in_(funds),
                   PledgeCancellation.pledge_id.is_(None))
            .group_by(Pledge.fund_id, Pledge.kind)):
        pledged[fund_id][kind] = int(value or 0)
    return CampaignLedger(campaign, fund_ids, dict(by_fund), dict(pledged),
                          [(s, t, c, u, v) for (s, t, c), (u, v) in moved.items()])


def overview(campaign: Campaign, area_code: str | None = None) -> Overview:
    """Pledged, received, allocated and remaining per kind; houses by status; the areas one
    level down; where the money came from and when. Resources are counted where the funds
    are (a fund of a province's commune counts in that commune), so that within any area
    received + transferred in − transferred out − allocated = remaining."""
    area = get_area(area_code) if area_code else None
    return assemble_overview(campaign, area, overview_figures(campaign, area))


@dataclass
class OverviewFigures:
    """What an overview sums from the ledger: all of it plain numbers and strings, so that
    ledger.public.summaries can keep it as JSON."""

    kinds: dict[str, KindTotals]
    materials: list[MaterialLine]
    areas: list[AreaProgress]
    houses_by_status: dict[str, int]
    sources: list[tuple[str, int]]
    months: list[tuple[str, int]]


def overview_figures(campaign: Campaign, area: Area | None) -> OverviewFigures:
    """The sums behind an overview: at national size the costly part (seconds)."""
    funds = funds_in_scope(area)
    live = not_reversed(Contribution.txn_id)
    in_scope = (Contribution.campaign_id == campaign.id, Contribution.fund_id.in_(funds), live)
    kinds, material_lines = campaign_ledger(campaign, funds).kinds()
    return OverviewFigures(kinds=kinds, materials=material_lines, areas=_area_progress(campaign, area, in_scope),
                           houses_by_status=houses_by_status(campaign, area), sources=_sources(in_scope),
                           months=_months(in_scope))


def assemble_overview(campaign: Campaign, area: Area | None, figures: OverviewFigures, *,
                      as_of: datetime | None = None, journal_size: int | None = None) -> Overview:
    """The overview page's data: the figures, and what is read afresh on every visit (the
    campaign, the latest checkpoint, the list of campaigns)."""
    from ..transparency.log import latest_checkpoint

    return Overview(campaign=campaign, area=area, kinds=figures.kinds, materials=figures.materials,
                    areas=figures.areas, houses_by_status=figures.houses_by_status,
                    target_houses=campaign.target_houses, sources=figures.sources, months=figures.months,
                    checkpoint=latest_checkpoint(), campaigns=public_campaigns(), as_of=as_of,
                    journal_size=journal_size)


def houses_by_status(campaign: Campaign, area: Area | None) -> dict[str, int]:
    """Households of the campaign in `area` and below, per status (every status, 0 too)."""
    counts = dict(db.session.execute(
        select(Household.status, func.count()).where(Household.campaign_id == campaign.id,
                                                     _under(Household.commune_code, area))
        .group_by(Household.status)).all())
    return {status: int(counts.get(status, 0)) for status in STATUSES}


def _area_progress(campaign: Campaign, area: Area | None, in_scope) -> list[AreaProgress]:
    """The areas one level below `area` (provinces for the whole country), each with what
    its funds received and allocated and its houses; only areas where something happened."""
    children = db.session.scalars(
        select(Area).where(Area.parent_code == area.code if area else Area.parent_code.is_(None))
        .order_by(Area.name)).all()
    by_path = {child.path: AreaProgress(child.code, child.name) for child in children}
    depth = (area.path.count("/") - 1) if area else 0  # path segments of `area`: "/01/" has 1

    def child_of(path: str) -> AreaProgress | None:
        parts = path.strip("/").split("/")
        if len(parts) <= depth:
            return None
        return by_path.get("/" + "/".join(parts[:depth + 1]) + "/")

    rows = db.session.execute(
        select(Area.path, func.sum(Contribution.value_vnd)).join(Fund, Fund.id == Contribution.fund_id)
        .join(Area, Area.code == Fund.area_code).where(*in_scope).group_by(Area.path))
    for path, value in rows:
        if (p := child_of(path)) is not None:
            p.received_vnd += int(value or 0)
    rows = db.session.execute(
        select(Area.path, func.sum(Allocation.value_vnd))
        .join(Household, Household.id == Allocation.household_id)
        .join(Area, Area.code == Household.commune_code)
        .where(Household.campaign_id == campaign.id, _under(Household.commune_code, area),
               not_reversed(Allocation.txn_id)).group_by(Area.path))
    for path, value in rows:
        if (p := child_of(path)) is not None:
            p.allocated_vnd += int(value or 0)
    rows = db.session.execute(
        select(Area.path, Household.status, func.count()).join(Area, Area.code == Household.commune_code)
        .where(Household.campaign_id == campaign.id, _under(Household.commune_code, area))
        .group_by(Area.path, Household.status))
    for path, status, count in rows:
        if (p := child_of(path)) is not None:
            p.households += count
            p.by_status[status] = p.by_status.get(status, 0) + count
            if status in DONE:
                p.done += count
    return [p for p in by_path.values() if p.received_vnd or p.allocated_vnd or p.households]


def _sources(in_scope) -> list[tuple[str, int]]:
    """Đồng received by kind of donor (anonymous gifts apart), largest first."""
    source = func.coalesce(Donor.kind, "anonymous")
    rows = db.session.execute(
        select(source, Donor.public_display, func.sum(Contribution.value_vnd))
        .outerjoin(Donor, Donor.id == Contribution.donor_id).where(*in_scope)
        .group_by(source, Donor.public_display)).all()
    totals: dict[str, int] = defaultdict(int)
    for kind, display, value in rows:
        totals["anonymous" if display == "anonymous" else kind] += int(value or 0)
    return sorted(totals.items(), key=lambda kv: -kv[1])


def _months(in_scope) -> list[tuple[str, int]]:
    """Đồng received per month, every month from the first to the last (empty ones too)."""
    rows = db.session.execute(select(Contribution.received_on, func.sum(Contribution.value_vnd))
                              .where(*in_scope).group_by(Contribution.received_on)).all()
    if not rows:
        return []
    per_month: dict[str, int] = defaultdict(int)
    for day, value in rows:
        per_month[day.strftime("%Y-%m")] += int(value or 0)
    first, last = min(per_month), max(per_month)
    year, month = int(first[:4]), int(first[5:])
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        key = f"{year:04d}-{month:02d}"
        months.append((key, per_month.get(key, 0)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


# --- where a contribution went ---------------------------------------------------------

@dataclass
class Trace:
    """A contribution's path: the households it reached, the transfers it went through,
    and what funds still hold of it."""

    kind: str
    households: list[dict]
    transfers: list[dict]
    held: list[dict]


def trace_contribution(contribution: Contribution) -> Trace:
    kind = contribution.kind
    reached = db.session.execute(
        select(AllocationLine.units, AllocationLine.value_vnd, Allocation.created_at, Household, Fund.name)
        .join(Allocation, Allocation.id == AllocationLine.allocation_id)
        .join(Household, Household.id == Allocation.household_id)
        .join(Fund, Fund.id == Allocation.fund_id)
        .where(AllocationLine.contribution_id == contribution.id, not_reversed(Allocation.txn_id))
        .order_by(Allocation.id))
    households = [{**household_summary(household), "quantity": format_units(units, kind), "value_vnd": value,
                   "on": created_at.date(), "fund": fund_name}
                  for units, value, created_at, household, fund_name in reached]
    source, target = Fund.__table__.alias("source"), Fund.__table__.alias("target")
    moved = db.session.execute(
        select(TransferLine.units, Transfer.created_at, source.c.name, target.c.name)
        .join(Transfer, Transfer.id == TransferLine.transfer_id)
        .join(source, source.c.id == Transfer.from_fund_id).join(target, target.c.id == Transfer.to_fund_id)
        .where(TransferLine.contribution_id == contribution.id, not_reversed(Transfer.txn_id))
        .order_by(Transfer.id))
    transfers = [{"from": from_name, "to": to_name, "quantity": format_units(units, kind),
                  "value_vnd": _value_of(contribution, units), "on": created_at.date()}
                 for units, created_at, from_name, to_name in moved]
    holdings = db.session.execute(
        select(Holding.units, Fund.name).join(Fund, Fund.id == Holding.fund_id)
        .where(Holding.contribution_id == contribution.id, Holding.units > 0).order_by(Fund.id))
    held = [{"fund": name, "quantity": format_units(units, kind), "value_vnd": _value_of(contribution, units)}
            for units, name in holdings]
    return Trace(kind, households, transfers, held)


def _value_of(contribution: Contribution, units: int) -> int:
    """The đồng value of part of a contribution, at its own unit value."""
    return lot_value(units, contribution.units, contribution.value_vnd)


def household_summary(household: Household) -> dict:
    """A household as any public page lists it."""
    return {"household_id": household.id, "household": privacy.household_name(household),
            "commune": household.commune.name, "support_type": household.support_type,
            "category": household.category, "status": household.status}


# --- an organisation's page --------------------------------------------------------------

@dataclass
class OrganisationPage:
    donor: Donor
    given: list[dict]  # per kind: count and đồng value
    total_vnd: int
    households: list[dict]  # each household reached, with the value from this donor
    contributions: list[dict]


def organisation_page(donor_id: int) -> OrganisationPage:
    """A named organisation (business, union, agency, state budget): what it gave and the
    households its gifts reached. Individuals and anonymous donors have no such page."""
    donor = db.session.get(Donor, donor_id)
    if organisation_link(donor) is None:
        raise NotFound(_l("No public page for donor %(id)s.", id=donor_id))
    live = not_reversed(Contribution.txn_id)
    given = [{"kind": kind, "count": int(count), "value_vnd": int(value or 0)}
             for kind, count, value in db.session.execute(
                 select(Contribution.kind, func.count(), func.sum(Contribution.value_vnd))
                 .where(Contribution.donor_id == donor.id, live).group_by(Contribution.kind))]
    reached = db.session.execute(
        _live_lines(Household, func.sum(AllocationLine.value_vnd), func.max(Allocation.created_at))
        .join(Household, Household.id == Allocation.household_id)
        .where(Contribution.donor_id == donor.id)
        .group_by(Household.id).order_by(func.max(Allocation.created_at).desc()))
    households = [{**household_summary(h), "value_vnd": int(value or 0), "on": last.date()}
                  for h, value, last in reached]
    contributions = [{"receipt_number": number, "received_on": received_on, "kind": kind, "value_vnd": value}
                     for number, received_on, kind, value in db.session.execute(
                         select(Contribution.receipt_number, Contribution.received_on, Contribution.kind,
                                Contribution.value_vnd)
                         .where(Contribution.donor_id == donor.id, live)
                         .order_by(Contribution.received_on.desc(), Contribution.id.desc()).limit(200))]
    return OrganisationPage(donor, given, sum(g["value_vnd"] for g in given), households, contributions)


def _live_lines(*columns):
    """SELECT columns over the allocation lines of allocations not reversed, each with its
    allocation and its source contribution: who reached whom."""
    return (select(*columns).select_from(AllocationLine)
            .join(Allocation, Allocation.id == AllocationLine.allocation_id)
            .join(Contribution, Contribution.id == AllocationLine.contribution_id)
            .where(not_reversed(Allocation.txn_id)))


def organisation_link(donor: Donor | None) -> int | None:
    """The donor's page id, when it has one."""
    if donor is not None and donor.kind in ORGANISATION_KINDS and donor.public_display == "named":
        return donor.id
    return None


# --- a household's page ------------------------------------------------------------------

@dataclass
class HouseholdPage:
    summary: dict
    approved_amount_vnd: int
    composition: dict
    timeline: list[tuple[str, date]]
    donors: list[dict]


def household_page(household_id: int) -> HouseholdPage:
    from ..households.service import funding_composition, get_household

    household = get_household(household_id)
    donors = db.session.execute(
        _live_lines(Donor, func.sum(AllocationLine.value_vnd))
        .outerjoin(Donor, Donor.id == Contribution.donor_id)
        .where(Allocation.household_id == household.id)
        .group_by(Donor.id).order_by(func.sum(AllocationLine.value_vnd).desc()))
    given_by = [{"name": donor.display_name if donor else ANONYMOUS_NAME, "organisation_id": organisation_link(donor),
                 "value_vnd": int(value or 0)} for donor, value in donors]
    return HouseholdPage(summary=household_summary(household), approved_amount_vnd=household.approved_amount_vnd,
                         composition=funding_composition(household),
                         timeline=[(e.status, e.on) for e in household.events], donors=given_by)
