"""Reconciliation reports for the committee and its auditors: what was pledged, received,
moved, allocated and is left; which households are covered; which pledges are late; which
gifts still wait to be used; who gave most. Read-only, a few grouped queries each.

The figures come from the rules' own places: ledger.public.service (the campaign's totals
per fund and commodity, households by status, the value of part of a lot) and
ledger.pledges.service (a pledge's status). Reports never look at `request`; a user bound
to an area reports on that area and below only.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from ..allocations.models import Allocation, AllocationLine
from ..approvals.models import Approval
from ..areas.models import Area
from ..areas.service import is_within, within_clause
from ..auth.models import User
from ..auth.service import require, require_area
from ..campaigns.models import Campaign
from ..contributions.models import Contribution
from ..donors.models import ANONYMOUS_NAME, DONOR_KINDS, Donor
from ..extensions import db
from ..fields import today_in_vietnam
from ..funds.models import Fund, Transfer, TransferLine
from ..households.models import STATUSES, Household
from ..journal.models import Holding
from ..journal.quantities import LABOUR, VND, format_units
from ..journal.service import commodity_label, not_reversed
from ..pledges.models import Pledge, PledgeCancellation
from ..pledges.service import derive_status, fulfilled_units_subquery
from ..problems import InvalidInput, NotFound
from ..public import service as public
from ..public.service import CampaignLedger, CommodityTotals, KindTotals, lot_value
from ..web.vocabulary import DONOR_KINDS as KIND_LABELS

REPORTS = ("reconciliation", "households", "overdue-pledges", "unallocated", "commendations")
DEFAULT_OLDER_THAN_DAYS = 30
DEFAULT_TOP = 10
FUNDED_STATUSES = STATUSES[STATUSES.index("approved"):]  # approved and after: the amount is decided


# --- the filters ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Scope:
    """The filters, checked: the campaigns reported on, a fund, an area (None: the whole
    country), a period and the report's own parameters."""

    campaigns: list[Campaign]
    fund: Fund | None
    area: Area | None
    date_from: date | None
    date_to: date | None
    older_than_days: int = DEFAULT_OLDER_THAN_DAYS
    top: int = DEFAULT_TOP
    today: date = field(default_factory=today_in_vietnam)

    @property
    def funds(self):
        """SELECT the ids of the funds in scope."""
        return public.funds_in_scope(self.area, self.fund.id if self.fund else None)

    @property
    def campaign_ids(self) -> list[int]:
        return [c.id for c in self.campaigns]


def _unknown(name: str, message) -> InvalidInput:
    return InvalidInput(message, errors={name: [message]})


def report_scope(user: User, args: dict, *, latest_only: bool = False, today: date | None = None) -> Scope:
    """The filters as the reports take them, after the permission and area checks: a user
    bound to an area reports on that area and below (its own area when none is given).
    No campaign given: every campaign, latest first (`latest_only`: the latest one)."""
    require(user, "read")
    campaign_id, fund_id, code = args.get("campaign_id"), args.get("fund_id"), args.get("area_code")
    if campaign_id is not None:
        campaign = db.session.get(Campaign, campaign_id)
        if campaign is None:
            raise _unknown("campaign_id", _l("Unknown campaign %(id)s.", id=campaign_id))
        campaigns = [campaign]
    else:
        campaigns = list(db.session.scalars(select(Campaign).order_by(Campaign.starts_on.desc(), Campaign.id.desc())))
        campaigns = campaigns[:1] if latest_only else campaigns
    area = None
    if code:
        area = db.session.get(Area, code)
        if area is None:
            raise _unknown("area_code", _l("Unknown area code %(code)s.", code=code))
        require_area(user, code)
    elif user.area_code:
        area = db.session.get(Area, user.area_code)
    fund = None
    if fund_id is not None:
        fund = db.session.get(Fund, fund_id)
        if fund is None:
            raise _unknown("fund_id", _l("Unknown fund %(id)s.", id=fund_id))
        require_area(user, fund.area_code)
        if area is not None and not is_within(fund.area_code, area.code):
            raise _unknown("fund_id", _l("Fund %(code)s is not in the chosen area.", code=fund.code))
    return Scope(campaigns=campaigns, fund=fund, area=area, date_from=args.get("date_from"),
                 date_to=args.get("date_to"),
                 older_than_days=args.get("older_than_days", DEFAULT_OLDER_THAN_DAYS),
                 top=args.get("top", DEFAULT_TOP), today=today or today_in_vietnam())


def _period(column, scope: Scope) -> list:
    where = []
    if scope.date_from:
        where.append(column >= scope.date_from)
    if scope.date_to:
        where.append(column <= scope.date_to)
    return where


def _campaign_filter(column, scope: Scope) -> list:
    return [column.in_(scope.campaign_ids)] if scope.campaigns else [False]


def _children(area: Area | None) -> list[Area]:
    """The areas one level below `area` (provinces for the whole country)."""
    return list(db.session.scalars(
        select(Area).where(Area.parent_code == area.code if area else Area.parent_code.is_(None)).order_by(Area.name)))


def _child_of(paths: list[str], path: str) -> str | None:
    """The path among `paths` (children of one area) that `path` lies under, if any."""
    for child in paths:
        if path.startswith(child):
            return child
    return None


def _kind_label(commodity: str) -> tuple[str | None, str]:
    label = commodity_label(commodity)
    return label.get("item"), label["unit"]


def _quantity(units: int, kind: str) -> str | None:
    """A quantity as a decimal string; None for cash (its figure is the đồng amount)."""
    return None if kind == "cash" else format_units(units, kind)


# --- 1. reconciliation ---------------------------------------------------------------------

@dataclass
class CommodityLine:
    """One commodity of a block: quantities (materials, labour) and đồng values."""

    totals: CommodityTotals
    item: str | None
    unit: str

    @property
    def kind(self) -> str:
        return self.totals.kind

    def quantity(self, figure: str) -> str | None:
        return _quantity(getattr(self.totals, figure + "_units"), self.kind)


@dataclass
class Block:
    """The figures of a set of funds: per kind (valued; labour also in person-days), the
    commodities one by one, and whether every one reconciles with what the funds hold."""

    label: str
    code: str | None
    kinds: dict[str, KindTotals]
    lines: list[CommodityLine]

    @property
    def balanced(self) -> bool:
        return all(line.totals.balanced for line in self.lines)

    @property
    def total(self) -> KindTotals:
        t = KindTotals("all")
        for k in self.kinds.values():
            for name in ("pledged_vnd", "received_vnd", "transferred_in_vnd", "transferred_out_vnd",
                         "allocated_vnd", "remaining_vnd"):
                setattr(t, name, getattr(t, name) + getattr(k, name))
        return t

    @property
    def is_empty(self) -> bool:
        return not self.lines and not self.total.pledged_vnd


def _commodity_order(line: CommodityLine) -> tuple:
    return (0 if line.totals.commodity == VND else 2 if line.totals.commodity == LABOUR else 1, line.item or "")


def _block(ledger: CampaignLedger, fund_ids: set[int], label: str, code: str | None = None) -> Block:
    kinds, _materials = ledger.kinds(fund_ids)
    lines = [CommodityLine(t, *_kind_label(c)) for c, t in ledger.commodities(fund_ids).items()]
    return Block(label, code, kinds, sorted(lines, key=_commodity_order))


@dataclass
class CampaignReconciliation:
    campaign: Campaign
    totals: Block
    funds: list[Block]
    areas: list[Block]


@dataclass
class Reconciliation:
    scope: Scope
    campaigns: list[CampaignReconciliation]


def _fund_areas(fund_ids: set[int]) -> list[tuple[int, str, str, str]]:
    """(id, code, name, area path) of the funds, by code."""
    if not fund_ids:
        return []
    return list(db.session.execute(
        select(Fund.id, Fund.code, Fund.name, Area.path).join(Area, Area.code == Fund.area_code)
        .where(Fund.id.in_(fund_ids)).order_by(Fund.code)))


def reconciliation(scope: Scope) -> Reconciliation:
    """Per campaign: the totals of the funds in scope, each fund, and the areas one level
    down (with the chosen area's own funds apart). Balances are as they stand today: the
    period does not apply, or remaining would no longer be what the funds hold."""
    out = []
    children = _children(scope.area)
    child_paths = [c.path for c in children]
    for campaign in scope.campaigns:
        ledger = public.campaign_ledger(campaign, scope.funds)
        funds = _fund_areas(ledger.fund_ids)
        fund_blocks = [_block(ledger, {fid}, name, code) for fid, code, name, _path in funds]
        by_child: dict[str, set[int]] = defaultdict(set)
        own: set[int] = set()
        for fid, _code, _name, path in funds:
            child = _child_of(child_paths, path)
            (by_child[child] if child else own).add(fid)
        area_blocks = []
        if own and scope.area is not None:
            area_blocks.append(_block(ledger, own, scope.area.name, scope.area.code))
        area_blocks += [_block(ledger, by_child[c.path], c.name, c.code) for c in children if by_child.get(c.path)]
        out.append(CampaignReconciliation(
            campaign, _block(ledger, ledger.fund_ids, campaign.name, campaign.code),
            [b for b in fund_blocks if not b.is_empty], [b for b in area_blocks if not b.is_empty]))
    return Reconciliation(scope, out)


# --- 2. household coverage -----------------------------------------------------------------

@dataclass
class HouseholdLine:
    household_id: int
    head_name: str
    commune: str
    status: str
    support_type: str
    approved_vnd: int
    allocated_vnd: int

    @property
    def shortfall_vnd(self) -> int:
        return max(self.approved_vnd - self.allocated_vnd, 0)


@dataclass
class OverrideLine:
    """An allocation recorded past the household's approved amount, and why."""

    allocation_id: int
    household_id: int
    head_name: str
    commune: str
    approved_vnd: int
    norm_vnd: int
    household_allocated_vnd: int
    value_vnd: int
    reason: str
    requested_by: str
    approved_by: str | None
    on: date


@dataclass
class CoverageFigures:
    label: str
    code: str | None
    by_status: dict[str, int]
    approved_vnd: int = 0  # households approved or further on
    allocated_vnd: int = 0
    fully_funded: int = 0
    under_funded: int = 0

    @property
    def households(self) -> int:
        return sum(self.by_status.values())


@dataclass
class CampaignCoverage:
    campaign: Campaign
    totals: CoverageFigures
    areas: list[CoverageFigures]
    under_funded: list[HouseholdLine]
    overrides: list[OverrideLine]


@dataclass
class Coverage:
    scope: Scope
    campaigns: list[CampaignCoverage]


def _allocated_by_household(households):
    """Đồng allocated to each household of the SELECT `households` (ids), reversals left
    out: ledger.households.service.allocated_value's rule, for many households at once."""
    return (select(Allocation.household_id, func.sum(Allocation.value_vnd))
            .where(Allocation.household_id.in_(households), not_reversed(Allocation.txn_id))
            .group_by(Allocation.household_id))


def coverage(scope: Scope) -> Coverage:
    """Per campaign, households in the chosen area and below (the fund filter does not
    apply: a house is funded from any fund): by status, approved against allocated, fully
    funded, under-funded (listed, largest gap first) and allocations past the approved
    amount with the override's reason and who approved it."""
    out = []
    children = _children(scope.area)
    child_paths = [c.path for c in children]
    for campaign in scope.campaigns:
        in_scope = [Household.campaign_id == campaign.id]
        if scope.area is not None:
            in_scope.append(within_clause(Household.commune_code, scope.area.code))
        ids = select(Household.id).where(*in_scope)
        allocated = {hid: int(v or 0) for hid, v in db.session.execute(_allocated_by_household(ids))}
        totals = CoverageFigures(campaign.name, campaign.code, public.houses_by_status(campaign, scope.area))
        areas = {c.path: CoverageFigures(c.name, c.code, {s: 0 for s in STATUSES}) for c in children}
        own = CoverageFigures(scope.area.name, scope.area.code, {s: 0 for s in STATUSES}) if scope.area else None
        under = []
        rows = db.session.execute(
            select(Household.id, Household.head_name, Household.status, Household.support_type,
                   Household.approved_amount_vnd, Area.name, Area.path)
            .join(Area, Area.code == Household.commune_code).where(*in_scope).order_by(Household.id))
        for hid, head, status, support, approved, commune, path in rows:
            child = _child_of(child_paths, path)
            figures = [totals, areas[child] if child else own]
            for f in figures:
                if f is not None and f is not totals:
                    f.by_status[status] += 1
            if status not in FUNDED_STATUSES:
                continue
            got = allocated.get(hid, 0)
            for f in figures:
                if f is None:
                    continue
                f.approved_vnd += approved
                f.allocated_vnd += got
                if got >= approved:
                    f.fully_funded += 1
                else:
                    f.under_funded += 1
            if got < approved:
                under.append(HouseholdLine(hid, head, commune, status, support, approved, got))
        under.sort(key=lambda h: (-h.shortfall_vnd, h.household_id))
        area_rows = ([own] if own is not None and own.households else []) + [
            a for a in areas.values() if a.households]
        out.append(CampaignCoverage(campaign, totals, area_rows, under, _overrides(campaign, ids, allocated)))
    return Coverage(scope, out)


def _overrides(campaign: Campaign, households, allocated: dict[int, int]) -> list[OverrideLine]:
    """Live allocations recorded with an override reason (ledger.allocations keeps the reason
    only when the allocation went past the approved amount), with the user who asked and the
    one whose approval carried it out (ledger.approvals: the request's record is the allocation)."""
    maker, checker = aliased(User), aliased(User)
    decided = (select(Approval.record_id, Approval.decided_by_id)
               .where(Approval.kind == "allocation", Approval.status == "approved").subquery())
    rows = db.session.execute(
        select(Allocation, Household, Area.name, maker.display_name, checker.display_name)
        .join(Household, Household.id == Allocation.household_id)
        .join(Area, Area.code == Household.commune_code)
        .join(maker, maker.id == Allocation.created_by_id)
        .outerjoin(decided, decided.c.record_id == Allocation.id)
        .outerjoin(checker, checker.id == decided.c.decided_by_id)
        .where(Allocation.household_id.in_(households), Allocation.override_reason.is_not(None),
               not_reversed(Allocation.txn_id))
        .order_by(Allocation.id))
    return [OverrideLine(a.id, h.id, h.head_name, commune, h.approved_amount_vnd, campaign.norm_for(h.support_type),
                         allocated.get(h.id, 0), a.value_vnd, a.override_reason, requested_by, approved_by,
                         a.created_at.date())
            for a, h, commune, requested_by, approved_by in rows]


# --- 3. overdue pledges --------------------------------------------------------------------

@dataclass
class OverduePledge:
    pledge_id: int
    code: str
    campaign_code: str
    fund_code: str
    donor: str
    donor_kind: str
    kind: str
    item: str | None
    unit: str
    pledged_units: int
    received_units: int
    pledged_vnd: int
    received_vnd: int
    due_on: date
    days_overdue: int

    @property
    def remaining_units(self) -> int:
        return self.pledged_units - self.received_units

    @property
    def remaining_vnd(self) -> int:
        return self.pledged_vnd - self.received_vnd

    def quantity(self, figure: str) -> str | None:
        return _quantity(getattr(self, figure + "_units"), self.kind)


@dataclass
class OverduePledges:
    scope: Scope
    pledges: list[OverduePledge]

    @property
    def count(self) -> int:
        return len(self.pledges)

    @property
    def pledged_vnd(self) -> int:
        return sum(p.pledged_vnd for p in self.pledges)

    @property
    def remaining_vnd(self) -> int:
        return sum(p.remaining_vnd for p in self.pledges)


def overdue_pledges(scope: Scope) -> OverduePledges:
    """Pledges to funds in scope whose status is overdue today (ledger.pledges' one rule),
    oldest due first; the period filters the due date."""
    fulfilled = fulfilled_units_subquery()
    rows = db.session.execute(
        select(Pledge, fulfilled.label("fulfilled"), Campaign.code, Fund.code)
        .join(Campaign, Campaign.id == Pledge.campaign_id).join(Fund, Fund.id == Pledge.fund_id)
        # Narrowing only (a pledge without a due date, or due from today on, is never
        # overdue); derive_status decides.
        .where(Pledge.fund_id.in_(scope.funds), *_campaign_filter(Pledge.campaign_id, scope),
               Pledge.due_on.is_not(None), Pledge.due_on < scope.today, *_period(Pledge.due_on, scope),
               ~select(PledgeCancellation.pledge_id).where(PledgeCancellation.pledge_id == Pledge.id).exists())
        .order_by(Pledge.due_on, Pledge.id))
    out = []
    for pledge, got, campaign_code, fund_code in rows:
        got = int(got or 0)
        status = derive_status(cancelled=pledge.cancellation is not None, pledged_units=pledge.units,
                               received_units=got, due_on=pledge.due_on, today=scope.today)
        if status != "overdue":
            continue
        item, unit = _kind_label(pledge.commodity)
        out.append(OverduePledge(
            pledge.id, pledge.code, campaign_code, fund_code, pledge.donor.display_name, pledge.donor.kind,
            pledge.kind, item, unit, pledge.units, got, pledge.value_vnd,
            lot_value(got, pledge.units, pledge.value_vnd), pledge.due_on, (scope.today - pledge.due_on).days))
    return OverduePledges(scope, out)


# --- 4. contributions not yet allocated ----------------------------------------------------

@dataclass
class WaitingContribution:
    """A contribution received long ago of which something has reached no household yet.

    remaining = received − allocated from its own fund − transferred on (net) from it: what
    its own fund still holds; `elsewhere`: what the funds it was transferred to still hold."""

    contribution_id: int
    receipt_number: str
    received_on: date
    days: int
    campaign_code: str
    fund_code: str
    donor: str
    kind: str
    item: str | None
    unit: str
    received_units: int
    received_vnd: int
    allocated_units: int  # to households, from any fund
    transferred_units: int  # net, from its own fund to others
    remaining_units: int
    elsewhere_units: int
    held_units: int  # what its own fund holds (Holding): equals remaining_units

    @property
    def remaining_vnd(self) -> int:
        return lot_value(self.remaining_units, self.received_units, self.received_vnd)

    @property
    def elsewhere_vnd(self) -> int:
        return lot_value(self.elsewhere_units, self.received_units, self.received_vnd)

    @property
    def balanced(self) -> bool:
        return self.remaining_units == self.held_units

    def quantity(self, figure: str) -> str | None:
        return _quantity(getattr(self, figure + "_units"), self.kind)


@dataclass
class Unallocated:
    scope: Scope
    cutoff: date
    contributions: list[WaitingContribution]

    @property
    def count(self) -> int:
        return len(self.contributions)

    @property
    def remaining_vnd(self) -> int:
        return sum(c.remaining_vnd + c.elsewhere_vnd for c in self.contributions)


def unallocated(scope: Scope) -> Unallocated:
    """Contributions received into funds in scope more than `older_than_days` days ago (and
    within the period), not voided, of which something is not allocated yet, oldest first."""
    cutoff = scope.today - timedelta(days=scope.older_than_days)
    waiting = (select(Contribution.id)
               .where(Contribution.fund_id.in_(scope.funds), *_campaign_filter(Contribution.campaign_id, scope),
                      Contribution.received_on < cutoff, *_period(Contribution.received_on, scope),
                      not_reversed(Contribution.txn_id),
                      # something is still held somewhere (held = received − allocated, by the journal)
                      select(Holding.contribution_id).where(Holding.contribution_id == Contribution.id,
                                                            Holding.units > 0).exists()))
    contributions = db.session.execute(
        select(Contribution, Campaign.code).join(Campaign, Campaign.id == Contribution.campaign_id)
        .where(Contribution.id.in_(waiting)).order_by(Contribution.received_on, Contribution.id)).all()
    if not contributions:
        return Unallocated(scope, cutoff, [])
    own_fund = {c.id: c.fund_id for c, _code in contributions}
    allocated: dict[int, int] = defaultdict(int)
    allocated_here: dict[int, int] = defaultdict(int)
    for cid, fund_id, units in db.session.execute(
            select(AllocationLine.contribution_id, Allocation.fund_id, func.sum(AllocationLine.units))
            .join(Allocation, Allocation.id == AllocationLine.allocation_id)
            .where(AllocationLine.contribution_id.in_(waiting), not_reversed(Allocation.txn_id))
            .group_by(AllocationLine.contribution_id, Allocation.fund_id)):
        allocated[cid] += int(units)
        if fund_id == own_fund[cid]:
            allocated_here[cid] += int(units)
    transferred: dict[int, int] = defaultdict(int)  # out of its own fund, less what came back
    for cid, source, target, units in db.session.execute(
            select(TransferLine.contribution_id, Transfer.from_fund_id, Transfer.to_fund_id,
                   func.sum(TransferLine.units))
            .join(Transfer, Transfer.id == TransferLine.transfer_id)
            .where(TransferLine.contribution_id.in_(waiting), not_reversed(Transfer.txn_id))
            .group_by(TransferLine.contribution_id, Transfer.from_fund_id, Transfer.to_fund_id)):
        if source == own_fund[cid]:
            transferred[cid] += int(units)
        elif target == own_fund[cid]:
            transferred[cid] -= int(units)
    held: dict[int, int] = defaultdict(int)
    elsewhere: dict[int, int] = defaultdict(int)
    for cid, fund_id, units in db.session.execute(
            select(Holding.contribution_id, Holding.fund_id, Holding.units)
            .where(Holding.contribution_id.in_(waiting), Holding.units > 0)):
        (held if fund_id == own_fund[cid] else elsewhere)[cid] += int(units)
    out = []
    for c, campaign_code in contributions:
        item, unit = _kind_label(c.commodity)
        remaining = c.units - allocated_here[c.id] - transferred[c.id]
        out.append(WaitingContribution(
            c.id, c.receipt_number, c.received_on, (scope.today - c.received_on).days, campaign_code, c.fund.code,
            c.donor.display_name if c.donor else ANONYMOUS_NAME, c.kind, item, unit, c.units, c.value_vnd,
            allocated[c.id], transferred[c.id], remaining, elsewhere[c.id], held[c.id]))
    return Unallocated(scope, cutoff, out)


# --- 5. commendations ----------------------------------------------------------------------

@dataclass
class Contributor:
    rank: int
    donor_id: int
    name: str
    kind: str
    contributions: int
    cash_vnd: int
    material_vnd: int
    labour_vnd: int

    @property
    def total_vnd(self) -> int:
        return self.cash_vnd + self.material_vnd + self.labour_vnd


@dataclass
class Ranking:
    label: str
    code: str  # a donor kind, or an area code
    top: list[Contributor]
    named_donors: int  # how many named donors gave (the top shows `scope.top` of them)
    anonymous_donors: int  # gifts from donors who chose not to be named, counted apart
    anonymous_vnd: int


@dataclass
class Commendations:
    scope: Scope
    by_kind: list[Ranking]
    by_area: list[Ranking]


def _rank(totals: dict[int, dict], top: int) -> list[Contributor]:
    ordered = sorted(totals.values(), key=lambda d: (-(d["cash"] + d["material"] + d["labour"]), d["name"], d["id"]))
    return [Contributor(i, d["id"], d["name"], d["kind"], d["count"], d["cash"], d["material"], d["labour"])
            for i, d in enumerate(ordered[:top], 1)]


def commendations(scope: Scope) -> Commendations:
    """The donors who gave most in đồng value (cash, materials and labour valued) to funds in
    scope in the period (received on), voided gifts left out: per kind of donor, and per
    area one level down. Donors who chose anonymity are never ranked by name: only their
    number and total are shown, apart."""
    rows = db.session.execute(
        select(Donor.id, Donor.kind, Donor.name, Donor.public_display, Area.path, Contribution.kind,
               func.count(), func.sum(Contribution.value_vnd))
        .select_from(Contribution)
        .outerjoin(Donor, Donor.id == Contribution.donor_id)
        .join(Fund, Fund.id == Contribution.fund_id).join(Area, Area.code == Fund.area_code)
        .where(Contribution.fund_id.in_(scope.funds), *_campaign_filter(Contribution.campaign_id, scope),
               not_reversed(Contribution.txn_id), *_period(Contribution.received_on, scope))
        .group_by(Donor.id, Donor.kind, Donor.name, Donor.public_display, Area.path, Contribution.kind))
    children = _children(scope.area)
    child_paths = [c.path for c in children]
    code_of = {c.path: c.code for c in children}
    groups: dict[tuple[str, str], dict[int, dict]] = defaultdict(dict)  # ("kind"|"area", key) -> donor -> sums
    hidden: dict[tuple[str, str], set] = defaultdict(set)
    hidden_vnd: dict[tuple[str, str], int] = defaultdict(int)
    own_code = scope.area.code if scope.area else None
    for donor_id, donor_kind, name, display, path, kind, count, value in rows:
        child = _child_of(child_paths, path)
        keys = [("kind", donor_kind or "anonymous"), ("area", code_of[child] if child else own_code or "")]
        for key in keys:
            if donor_id is None or display != "named":
                hidden[key].add(donor_id)  # None: one walk-in "anonymous" counted once
                hidden_vnd[key] += int(value or 0)
                continue
            d = groups[key].setdefault(donor_id, {"id": donor_id, "name": name, "kind": donor_kind, "count": 0,
                                                  "cash": 0, "material": 0, "labour": 0})
            d["count"] += int(count)
            d[kind] += int(value or 0)

    def ranking(key: tuple[str, str], label: str) -> Ranking:
        return Ranking(label, key[1], _rank(groups.get(key, {}), scope.top), len(groups.get(key, {})),
                       len(hidden.get(key, ())), hidden_vnd.get(key, 0))

    by_kind = [ranking(("kind", k), str(KIND_LABELS[k])) for k in DONOR_KINDS]
    if ("kind", "anonymous") in hidden:  # gifts without a donor record at all
        by_kind.append(ranking(("kind", "anonymous"), str(_l("Anonymous donors"))))
    by_area = []
    if own_code and (("area", own_code) in groups or ("area", own_code) in hidden):
        by_area.append(ranking(("area", own_code), scope.area.name))
    for c in children:
        if ("area", c.code) in groups or ("area", c.code) in hidden:
            by_area.append(ranking(("area", c.code), c.name))
    return Commendations(scope, by_kind, by_area)


# --- all together --------------------------------------------------------------------------

def build_report(name: str, scope: Scope):
    """One report by its name in the address."""
    return {"reconciliation": reconciliation, "households": coverage, "overdue-pledges": overdue_pledges,
            "unallocated": unallocated, "commendations": commendations}[name](scope)


@dataclass
class CommitteeSummary:
    """What the committee's signed summary holds: every report, on one campaign."""

    scope: Scope
    reconciliation: Reconciliation
    coverage: Coverage
    overdue: OverduePledges
    unallocated: Unallocated
    commendations: Commendations
    # The latest signed checkpoint (size, base64 root) when the figures were read: anyone can
    # later prove the ledger behind them was not rewritten (a consistency proof from it).
    checkpoint: tuple[int, str] | None = None


def committee_summary(scope: Scope) -> CommitteeSummary:
    """Every report on the scope's one campaign (report_scope(..., latest_only=True))."""
    if len(scope.campaigns) != 1:
        raise NotFound(public.NO_CAMPAIGN)
    import base64

    from ..transparency.log import latest_checkpoint

    latest = latest_checkpoint()  # read first: the figures cover at least what it covers
    checkpoint = (int(latest.size), base64.b64encode(bytes(latest.root_hash)).decode()) if latest else None
    return CommitteeSummary(scope, reconciliation(scope), coverage(scope), overdue_pledges(scope),
                            unallocated(scope), commendations(scope), checkpoint)


__all__ = ["REPORTS", "build_report", "committee_summary", "report_scope"]
