"""What matters today in a user's area (and below; a national user sees the whole country):
resources received, allocated and remaining by kind, pledges due and overdue, households
by status, and requests waiting for approval. Read-only: a few grouped queries."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select

from receipts import words

from ..allocations.models import Allocation
from ..areas.service import within_clause
from ..auth.models import User
from ..contributions.models import Contribution
from ..extensions import db
from ..fields import today_in_vietnam
from ..funds.models import Fund
from ..households.models import STATUSES, Household
from ..journal.models import Holding
from ..journal.quantities import LABOUR, VND, format_units, kind_of
from ..journal.service import commodity_label, not_reversed
from ..pledges.models import Pledge, PledgeCancellation
from ..pledges.service import fulfilled_units_subquery

DUE_WINDOW_DAYS = 30
LIST_LIMIT = 10  # pledges listed per group; the counts say how many there are


@dataclass(frozen=True)
class ResourceLine:
    """One commodity: cash (đồng), a material (its unit) or labour (person-days)."""

    commodity: str
    kind: str
    item: str | None
    unit: str
    received: int  # the commodity's smallest units
    transferred_in: int  # net, from funds outside the area (negative: sent out)
    allocated: int
    remaining: int

    def show(self, units: int) -> str:
        """An amount of this commodity for people: "1.500.000 ₫", "12,5" (the unit apart)."""
        if self.kind == "cash":
            return words.format_vnd(units)
        return words.format_decimal(format_units(units, self.kind))


@dataclass(frozen=True)
class PledgeLine:
    pledge_id: int
    code: str
    donor: str
    kind: str
    amount: str  # what was promised, for people
    value_vnd: int
    received: str
    due_on: date


@dataclass
class Dashboard:
    area_name: str | None
    resources: list[ResourceLine]
    received_value_vnd: int
    allocated_value_vnd: int
    due_soon: list[PledgeLine]
    due_soon_count: int
    overdue: list[PledgeLine]
    overdue_count: int
    households_by_status: dict[str, int]
    pending_approvals: int | None  # None: the approvals part says nothing
    today: date = field(default_factory=today_in_vietnam)

    @property
    def shows_transfers(self) -> bool:
        return any(line.transferred_in for line in self.resources)

    @property
    def households_total(self) -> int:
        return sum(self.households_by_status.values())


def _funds_in(user: User):
    """The ids of the funds in the user's area and below (every fund for a national user)."""
    query = select(Fund.id)
    return query.where(within_clause(Fund.area_code, user.area_code)) if user.area_code else query


def _by_commodity(query) -> dict[str, int]:
    return {commodity: int(units or 0) for commodity, units in db.session.execute(query)}


def _commodity_order(commodity: str) -> tuple:
    return (0 if commodity == VND else 2 if commodity == LABOUR else 1, commodity_label(commodity).get("item", ""))


def resource_lines(user: User) -> tuple[list[ResourceLine], int, int]:
    """Per commodity: received (contributions not voided), allocated (not reversed) and
    remaining (what the funds hold now), and the net of transfers across the area's edge,
    so that received + transferred − allocated = remaining. Also the đồng value received
    and allocated, all kinds together."""
    funds = _funds_in(user)
    received = _by_commodity(select(Contribution.commodity, func.sum(Contribution.units))
                             .where(Contribution.fund_id.in_(funds), not_reversed(Contribution.txn_id))
                             .group_by(Contribution.commodity))
    allocated = _by_commodity(select(Allocation.commodity, func.sum(Allocation.units))
                              .where(Allocation.fund_id.in_(funds), not_reversed(Allocation.txn_id))
                              .group_by(Allocation.commodity))
    remaining = _by_commodity(select(Holding.commodity, func.sum(Holding.units))
                              .where(Holding.fund_id.in_(funds)).group_by(Holding.commodity))
    received_value = db.session.scalar(select(func.coalesce(func.sum(Contribution.value_vnd), 0))
                                       .where(Contribution.fund_id.in_(funds), not_reversed(Contribution.txn_id)))
    allocated_value = db.session.scalar(select(func.coalesce(func.sum(Allocation.value_vnd), 0))
                                        .where(Allocation.fund_id.in_(funds), not_reversed(Allocation.txn_id)))
    lines = []
    for commodity in sorted(set(received) | set(allocated) | set(remaining), key=_commodity_order):
        r, a, h = received.get(commodity, 0), allocated.get(commodity, 0), remaining.get(commodity, 0)
        if not (r or a or h):
            continue
        label = commodity_label(commodity)
        lines.append(ResourceLine(commodity, kind_of(commodity), label.get("item"), label["unit"],
                                  received=r, transferred_in=h - r + a, allocated=a, remaining=h))
    return lines, int(received_value or 0), int(allocated_value or 0)


def _open_pledges(user: User):
    """Pledges of the area neither cancelled nor fulfilled, with their fulfilled units."""
    fulfilled = fulfilled_units_subquery()
    query = (select(Pledge, fulfilled.label("fulfilled"))
             .where(Pledge.fund_id.in_(_funds_in(user)), Pledge.due_on.is_not(None),
                    ~select(PledgeCancellation.pledge_id).where(PledgeCancellation.pledge_id == Pledge.id).exists(),
                    fulfilled < Pledge.units))
    return query


def _pledge_line(pledge: Pledge, fulfilled: int) -> PledgeLine:
    label = commodity_label(pledge.commodity)
    if pledge.kind == "cash":
        amount, received = words.format_vnd(pledge.units), words.format_vnd(fulfilled)
    else:
        unit = label["unit"] if pledge.kind == "material" else ""
        amount = f"{words.format_decimal(format_units(pledge.units, pledge.kind))} {unit} {label.get('item', '')}"
        received = words.format_decimal(format_units(fulfilled, pledge.kind))
    return PledgeLine(pledge.id, pledge.code, pledge.donor.display_name, pledge.kind, amount.strip(),
                      pledge.value_vnd, received, pledge.due_on)


def pledges_due(user: User, today: date) -> tuple[list[PledgeLine], int, list[PledgeLine], int]:
    """Pledges due in the next DUE_WINDOW_DAYS (today included) and overdue ones (due before
    today), neither fulfilled nor cancelled: the first LIST_LIMIT of each, soonest or
    oldest first, and how many there are."""
    base = _open_pledges(user)
    soon_where = (Pledge.due_on >= today, Pledge.due_on <= today + timedelta(days=DUE_WINDOW_DAYS))
    late_where = (Pledge.due_on < today,)

    def count(where) -> int:
        return db.session.scalar(select(func.count()).select_from(base.where(*where).subquery()))

    def first(where) -> list[PledgeLine]:
        rows = db.session.execute(base.where(*where).order_by(Pledge.due_on, Pledge.id).limit(LIST_LIMIT)).all()
        return [_pledge_line(pledge, int(fulfilled)) for pledge, fulfilled in rows]

    return first(soon_where), count(soon_where), first(late_where), count(late_where)


def households_by_status(user: User) -> dict[str, int]:
    query = select(Household.status, func.count()).group_by(Household.status)
    if user.area_code:
        query = query.where(within_clause(Household.commune_code, user.area_code))
    counts = dict(db.session.execute(query).all())
    return {status: int(counts.get(status, 0)) for status in STATUSES}


def pending_approvals(user: User) -> int | None:
    """How many requests wait for approval, if the approvals part can say (else None)."""
    try:
        from ..approvals import service as approvals
    except ImportError:
        return None
    count = getattr(approvals, "count_pending", None)
    return count(user) if callable(count) else None


def dashboard_for(user: User, today: date | None = None) -> Dashboard:
    today = today or today_in_vietnam()
    resources, received_value, allocated_value = resource_lines(user)
    soon, soon_count, late, late_count = pledges_due(user, today)
    return Dashboard(area_name=user.area.name if user.area_code else None, resources=resources,
                     received_value_vnd=received_value, allocated_value_vnd=allocated_value,
                     due_soon=soon, due_soon_count=soon_count, overdue=late, overdue_count=late_count,
                     households_by_status=households_by_status(user), pending_approvals=pending_approvals(user),
                     today=today)
