"""What each export holds: its columns (for receipts.exports) and its rows, streamed.

A dataset is a select() built from the filters plus a function from one result row to the
tuple the writers take. Rows are read with yield_per, so an export of any size holds one
batch in memory; there is no row cap. Quantities are decimal strings in the commodity's
unit (đồng, the material's unit, person-days), never floats. Private fields of donors and
households (ID numbers, phones, addresses) are not exported.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, DateTime, Select, and_, false, func, select, type_coerce

from receipts.exports import DATE, DATETIME, INTEGER, QUANTITY, VND, Column, TotalsBy

from ..allocations.models import Allocation, AllocationLine
from ..areas.service import within_clause
from ..campaigns.models import Campaign
from ..contributions.models import Contribution
from ..donors.models import ANONYMOUS_NAME, Donor
from ..extensions import db
from ..fields import end_of_day, start_of_day
from ..funds.models import Fund
from ..households.models import Household
from ..journal import quantities
from ..journal.models import JournalTransaction, Posting
from ..journal.quantities import format_units, kind_of
from ..journal.service import commodity_label, not_reversed

BATCH = 2000  # rows per fetch: memory stays flat whatever the export's size


@dataclass(frozen=True)
class Dataset:
    name: str
    columns: tuple[Column, ...]
    totals: TotalsBy | None  # None: nothing in it adds up (log leaves, checkpoints)
    query: Callable[[dict], Select]
    row: Callable[[Any], tuple]
    # The values the `status` filter takes for this dataset; () refuses the filter.
    statuses: tuple[str, ...] = ()
    # For a filter SQL cannot apply (a pledge's status is derived by a Python rule): given
    # the filters, a test of each finished row, or None when SQL did all the filtering.
    keep: Callable[[dict], Callable[[tuple], bool] | None] | None = None
    # Holds ID numbers, phones or addresses: only for users who may read them
    # (ledger.auth.privacy: the recording staff, and auditors with the grant).
    private: bool = False

    def rows(self, filters: dict) -> Iterator[tuple]:
        """The rows for these filters, in a stable order, fetched in batches. Read through
        the session's connection (Core, not the ORM's result machinery): a million rows
        pay for each layer once per row."""
        result = db.session.connection().execute(self.query(filters).execution_options(yield_per=BATCH))
        to_row = self.row
        keep = self.keep(filters) if self.keep is not None else None
        if keep is None:
            for r in result:
                yield to_row(r)
            return
        for r in result:
            row = to_row(r)
            if keep(row):
                yield row

    def count(self, filters: dict) -> int:
        """As many as rows() yields: by SQL, or through the rows when Python filters them."""
        if self.keep is not None and self.keep(filters) is not None:
            return sum(1 for _ in self.rows(filters))
        return db.session.scalar(select(func.count()).select_from(self.query(filters).order_by(None).subquery()))


def apply_filters(query: Select, filters: dict, *, campaign=None, fund=None, kind=None, day=None, moment=None,
                  reversed_txn=None, area=None, statuses: dict[str, ColumnElement] | None = None) -> Select:
    """The one place the export filters become WHERE clauses. `fund` is the Fund entity
    joined in the query (its id and area), the others the columns each filter reads; a
    filter whose column is not given does not apply to the dataset. `area` is the area
    column when it is not the fund's (a household's commune); `statuses` maps each value
    of the status filter to its clause (checked against Dataset.statuses beforehand)."""
    if filters.get("campaign_id") is not None and campaign is not None:
        query = query.where(campaign == filters["campaign_id"])
    if filters.get("fund_id") is not None and fund is not None:
        query = query.where(fund.id == filters["fund_id"])
    if filters.get("area_code") and (area is not None or fund is not None):
        query = query.where(within_clause(area if area is not None else fund.area_code, filters["area_code"]))
    if filters.get("status") and statuses is not None:
        # Checked against Dataset.statuses first (service.check_status): no match, no rows.
        query = query.where(statuses.get(filters["status"], false()))
    if filters.get("kind") and kind is not None:
        query = query.where(kind == filters["kind"])
    if day is not None:
        if filters.get("date_from"):
            query = query.where(day >= filters["date_from"])
        if filters.get("date_to"):
            query = query.where(day <= filters["date_to"])
    if moment is not None:
        if filters.get("date_from"):
            query = query.where(moment >= start_of_day(filters["date_from"]))
        if filters.get("date_to"):
            query = query.where(moment < end_of_day(filters["date_to"]))
    if not filters.get("include_reversed", True) and reversed_txn is not None:
        query = query.where(reversed_txn)
    return query


VND_COMMODITY = quantities.VND


def naive_utc(column):
    """A moment as the writers take it, without UTCDateTime's zone round trip per row: a
    naive UTC time on SQLite, an aware one on PostgreSQL (the writers bring both to UTC)."""
    return type_coerce(column, DateTime()).label(column.key)


def quantity(commodity: str, units: int) -> str:
    return format_units(units, kind_of(commodity))


# The ledger names a material by its row (MAT-12); a person needs the item and its unit.
ITEM_COLUMNS = (Column("item", "Hàng hóa, vật liệu"), Column("unit", "Đơn vị tính"))
_UNITS = {quantities.VND: "đồng", quantities.LABOUR: "ngày công"}


def item_and_unit(commodity: str) -> tuple[str | None, str]:
    """("Xi măng PCB40", "bao") for a material, (None, "đồng") or (None, "ngày công")
    otherwise. The material comes from the session's identity map after its first row."""
    if commodity in _UNITS:
        return None, _UNITS[commodity]
    label = commodity_label(commodity)
    return label["item"], label["unit"]


# --- postings ------------------------------------------------------------------------------
# Filtered through the contribution each posting traces to: a transaction's postings
# balance per contribution, so a filtered export still balances per commodity.

def _postings_query(filters: dict) -> Select:
    query = (select(JournalTransaction.seq, naive_utc(JournalTransaction.recorded_at), JournalTransaction.kind,
                    Posting.account, Posting.commodity, Posting.units, Posting.contribution_id)
             .join(JournalTransaction, JournalTransaction.id == Posting.txn_id)
             .join(Contribution, Contribution.id == Posting.contribution_id)
             .join(Fund, Fund.id == Contribution.fund_id)
             .order_by(JournalTransaction.seq, Posting.id))
    # Without reversals: neither a reversed transaction nor the reversal itself.
    kept = and_(not_reversed(JournalTransaction.id), JournalTransaction.reverses_id.is_(None))
    return apply_filters(query, filters, campaign=Contribution.campaign_id, fund=Fund, kind=Contribution.kind,
                         moment=JournalTransaction.recorded_at, reversed_txn=kept)


def _posting_row(r) -> tuple:
    seq, recorded_at, kind, account, commodity, units, contribution_id = r  # by position: the hot path
    return (seq, recorded_at, kind, account, commodity, str(units) if commodity == VND_COMMODITY
            else quantity(commodity, units), contribution_id)


POSTINGS = Dataset(
    "postings",
    (Column("txn_seq", "Số thứ tự giao dịch", INTEGER), Column("recorded_at", "Thời điểm ghi (UTC)", DATETIME),
     Column("txn_kind", "Loại giao dịch"), Column("account", "Tài khoản"), Column("commodity", "Loại tài sản"),
     Column("units", "Số lượng", QUANTITY), Column("contribution_id", "Mã khoản đóng góp", INTEGER)),
    TotalsBy("account", "units"),  # per account: a trial balance of the rows exported
    _postings_query, _posting_row)


# --- contributions -------------------------------------------------------------------------

def _contributions_query(filters: dict) -> Select:
    voided = ~not_reversed(Contribution.txn_id)
    query = (select(Contribution.id, Contribution.receipt_number, Contribution.received_on,
                    Campaign.code.label("campaign"), Fund.code.label("fund"), Fund.area_code,
                    Donor.name.label("donor_name"), Donor.public_display, Contribution.kind,
                    Contribution.commodity, Contribution.units, Contribution.value_vnd,
                    Contribution.method, voided.label("voided"))
             .join(Campaign, Campaign.id == Contribution.campaign_id)
             .join(Fund, Fund.id == Contribution.fund_id)
             .outerjoin(Donor, Donor.id == Contribution.donor_id)
             .order_by(Contribution.id))
    live = not_reversed(Contribution.txn_id)
    return apply_filters(query, filters, campaign=Contribution.campaign_id, fund=Fund, kind=Contribution.kind,
                         day=Contribution.received_on, reversed_txn=live,
                         statuses={"live": live, "voided": ~live})


def public_donor(name: str | None, public_display: str | None) -> str:
    """The donor as exports show it: the name only when the donor chose to be named."""
    return name if name is not None and public_display == "named" else ANONYMOUS_NAME


def _contribution_row(r) -> tuple:
    donor = public_donor(r.donor_name, r.public_display)
    return (r.id, r.receipt_number, r.received_on, r.campaign, r.fund, r.area_code, donor, r.kind, r.commodity,
            *item_and_unit(r.commodity), quantity(r.commodity, r.units), r.value_vnd, r.method, 1 if r.voided else 0)


CONTRIBUTIONS = Dataset(
    "contributions",
    (Column("contribution_id", "Mã khoản đóng góp", INTEGER), Column("receipt_number", "Số biên nhận"),
     Column("received_on", "Ngày nhận", DATE), Column("campaign", "Chiến dịch"), Column("fund", "Quỹ"),
     Column("area_code", "Mã địa bàn của quỹ"), Column("donor", "Nhà hảo tâm"), Column("kind", "Hình thức"),
     Column("commodity", "Loại tài sản"), *ITEM_COLUMNS, Column("quantity", "Số lượng", QUANTITY),
     Column("value_vnd", "Giá trị (đồng)", VND), Column("method", "Phương thức"),
     Column("voided", "Đã hủy (1 = có)", INTEGER)),
    TotalsBy("commodity", "quantity"),
    _contributions_query, _contribution_row, statuses=("live", "voided"))


# --- allocations: one row per line (the part drawn from one contribution) ------------------

def _allocations_query(filters: dict) -> Select:
    reversed_ = ~not_reversed(Allocation.txn_id)
    query = (select(Allocation.id, JournalTransaction.recorded_at, Fund.code.label("fund"), Allocation.household_id,
                    Household.commune_code, AllocationLine.contribution_id, Allocation.commodity,
                    AllocationLine.units, AllocationLine.value_vnd, reversed_.label("reversed"))
             .join(Allocation, Allocation.id == AllocationLine.allocation_id)
             .join(JournalTransaction, JournalTransaction.id == Allocation.txn_id)
             .join(Fund, Fund.id == Allocation.fund_id)
             .join(Household, Household.id == Allocation.household_id)
             .order_by(Allocation.id, AllocationLine.id))
    live = not_reversed(Allocation.txn_id)
    return apply_filters(query, filters, campaign=Household.campaign_id, fund=Fund, kind=Allocation.kind,
                         moment=JournalTransaction.recorded_at, reversed_txn=live,
                         statuses={"live": live, "reversed": ~live})


def _allocation_row(r) -> tuple:
    return (r.id, r.recorded_at, r.fund, r.household_id, r.commune_code, r.contribution_id, r.commodity,
            *item_and_unit(r.commodity), quantity(r.commodity, r.units), r.value_vnd, 1 if r.reversed else 0)


ALLOCATIONS = Dataset(
    "allocations",
    (Column("allocation_id", "Mã phân bổ", INTEGER), Column("recorded_at", "Thời điểm ghi (UTC)", DATETIME),
     Column("fund", "Quỹ"), Column("household_id", "Mã hộ", INTEGER), Column("commune_code", "Mã xã/phường"),
     Column("source_contribution_id", "Mã khoản đóng góp nguồn", INTEGER), Column("commodity", "Loại tài sản"),
     *ITEM_COLUMNS,
     Column("quantity", "Số lượng", QUANTITY), Column("value_vnd", "Giá trị (đồng)", VND),
     Column("reversed", "Đã đảo (1 = có)", INTEGER)),
    TotalsBy("commodity", "quantity"),
    _allocations_query, _allocation_row, statuses=("live", "reversed"))

# The registers (pledges, households, balances, receipts, the log) are in registers.py,
# which builds on this module and names every export in its DATASETS.
