"""The registers an auditor checks beside the journal: pledges and their fulfilment,
households and their funding, fund balances at a date, the receipts register, and the
transparency log's leaves and signed checkpoints. DATASETS, at the end, names every export.

Each is one SELECT read with yield_per (see Dataset): sums come from grouped or correlated
subqueries, never from a query per row. The rules stay where they live: a pledge's status
is pledges.service.derive_status, a household's funding source households.service's
from_state_budget, a leaf's hash the log's own RFC 6962 function.

What the filters mean here (a filter that does not fit a dataset is not applied):
- pledges: campaign, fund (and its area), kind; dates = when the pledge was recorded;
  status = the derived status as of today in Vietnam.
- households: campaign, area = the household's commune (and areas below); dates = when
  the household was recorded; status = its place on the timeline.
- fund_balances: campaign and kind of the contributions the units trace to, fund (and
  its area); date_to = the balance date (default today in Vietnam, to the end of that day),
  date_from = the start of the period (opening balance at the start of that day; else 0).
- receipts: campaign, fund (and its area), kind of the contribution; dates = when issued;
  status issued (standing) or voided; include_reversed=false leaves out voided ones.
- log_entries, checkpoints: public already; only the dates apply (recorded, signed).
"""
from __future__ import annotations

import base64
from collections.abc import Callable

from sqlalchemy import Date, Select, and_, case, extract, func, literal, select, true
from sqlalchemy.orm import aliased

from receipts import merkle
from receipts.exports import DATE, DATETIME, INTEGER, QUANTITY, VND, Column, TotalsBy

from ..allocations.models import Allocation, AllocationLine
from ..campaigns.models import Campaign
from ..contributions.models import Contribution
from ..donors.models import Donor
from ..fields import end_of_day, start_of_day, today_in_vietnam
from ..funds.models import Fund
from ..households.models import STATUSES as HOUSEHOLD_STATUSES
from ..households.models import Household
from ..households.service import from_state_budget
from ..imports.models import ImportBatch, ImportBatchVoid
from ..journal.models import JournalTransaction, Posting
from ..journal.quantities import LABOUR
from ..journal.service import not_reversed
from ..pledges.models import Pledge, PledgeCancellation
from ..pledges.schemas import STATUSES as PLEDGE_STATUSES
from ..pledges.service import derive_status, fulfilled_units_subquery
from ..receipts.models import Receipt, ReceiptVoid
from ..transparency.models import Checkpoint, LogState
from ..transparency.schemas import b64
from .datasets import (
    ALLOCATIONS,
    CONTRIBUTIONS,
    ITEM_COLUMNS,
    POSTINGS,
    Dataset,
    apply_filters,
    item_and_unit,
    public_donor,
    quantity,
)

# --- pledges -------------------------------------------------------------------------------

def _pledges_query(filters: dict) -> Select:
    cancelled = PledgeCancellation.pledge_id.is_not(None)
    query = (select(Pledge.id, Campaign.code.label("campaign"), Fund.code.label("fund"), Fund.area_code,
                    Donor.name.label("donor_name"), Donor.public_display, Pledge.kind, Pledge.commodity,
                    Pledge.units, Pledge.value_vnd, fulfilled_units_subquery().label("received"), Pledge.due_on,
                    Pledge.earmark_area_code, Pledge.earmark_household_id, cancelled.label("cancelled"),
                    Pledge.created_at)
             .join(Campaign, Campaign.id == Pledge.campaign_id)
             .join(Fund, Fund.id == Pledge.fund_id)
             .join(Donor, Donor.id == Pledge.donor_id)
             .outerjoin(PledgeCancellation, PledgeCancellation.pledge_id == Pledge.id)
             .order_by(Pledge.id))
    # SQL only narrows (a cancellation alone makes "cancelled"); derive_status decides each
    # row in the stream (_pledge_status_is).
    narrow = {status: cancelled if status == "cancelled" else ~cancelled for status in PLEDGE_STATUSES}
    return apply_filters(query, filters, campaign=Pledge.campaign_id, fund=Fund, kind=Pledge.kind,
                         moment=Pledge.created_at, statuses=narrow)


def _pledge_row(r) -> tuple:
    received = int(r.received)
    status = derive_status(cancelled=bool(r.cancelled), pledged_units=r.units, received_units=received,
                           due_on=r.due_on, today=today_in_vietnam())
    return (r.id, Pledge.code.fget(r),  # the model's own code rule; it reads only .id
            r.campaign, r.fund, r.area_code, public_donor(r.donor_name, r.public_display), r.kind, r.commodity,
            *item_and_unit(r.commodity),
            quantity(r.commodity, r.units), r.value_vnd, quantity(r.commodity, received),
            quantity(r.commodity, max(r.units - received, 0)), r.due_on, r.earmark_area_code,
            r.earmark_household_id, status, r.created_at)


def _pledge_status_is(filters: dict) -> Callable[[tuple], bool] | None:
    wanted = filters.get("status")
    return None if not wanted else (lambda row: row[_PLEDGE_STATUS_AT] == wanted)


PLEDGES = Dataset(
    "pledges",
    (Column("pledge_id", "Mã cam kết", INTEGER), Column("code", "Số cam kết"), Column("campaign", "Chiến dịch"),
     Column("fund", "Quỹ"), Column("area_code", "Mã địa bàn của quỹ"), Column("donor", "Nhà hảo tâm"),
     Column("kind", "Hình thức"), Column("commodity", "Loại tài sản"), *ITEM_COLUMNS,
     Column("pledged_quantity", "Số lượng cam kết", QUANTITY), Column("value_vnd", "Giá trị cam kết (đồng)", VND),
     Column("received_quantity", "Số lượng đã nhận", QUANTITY),
     Column("remaining_quantity", "Số lượng còn lại", QUANTITY), Column("due_on", "Hạn thực hiện", DATE),
     Column("earmark_area_code", "Chỉ định địa bàn"), Column("earmark_household_id", "Chỉ định hộ", INTEGER),
     Column("status", "Trạng thái"), Column("recorded_at", "Thời điểm ghi (UTC)", DATETIME)),
    TotalsBy("commodity", "pledged_quantity"),
    _pledges_query, _pledge_row, statuses=PLEDGE_STATUSES, keep=_pledge_status_is)
_PLEDGE_STATUS_AT = [c.name for c in PLEDGES.columns].index("status")  # its place in the row


# --- households: funding composition in one grouped subquery ------------------------------

def _funding_subquery():
    """Per household, what its live allocations brought, as funding_composition counts it."""
    value, kind = AllocationLine.value_vnd, Allocation.kind

    def total(condition, amount=value):
        return func.sum(case((condition, amount), else_=0))

    return (select(Allocation.household_id.label("household_id"), func.sum(value).label("allocated"),
                   total(from_state_budget(Donor.kind)).label("state_budget"),
                   total(kind == "cash").label("cash"), total(kind == "material").label("materials"),
                   total(kind == "labour").label("labour"),
                   total(kind == "labour", AllocationLine.units).label("labour_units"))
            .select_from(AllocationLine)
            .join(Allocation, Allocation.id == AllocationLine.allocation_id)
            .join(Contribution, Contribution.id == AllocationLine.contribution_id)
            .outerjoin(Donor, Donor.id == Contribution.donor_id)
            .where(not_reversed(Allocation.txn_id))
            .group_by(Allocation.household_id)
            .subquery("funding"))


def _households_query(filters: dict) -> Select:
    funding = _funding_subquery()
    sums = [func.coalesce(funding.c[name], 0).label(name)
            for name in ("allocated", "state_budget", "cash", "materials", "labour", "labour_units")]
    # No ID number, phone or address: the head's name only.
    query = (select(Household.id, Campaign.code.label("campaign"), Household.commune_code, Household.head_name,
                    Household.category, Household.support_type, Household.status, Household.created_at,
                    Household.approved_amount_vnd, Household.own_contribution_vnd, *sums)
             .join(Campaign, Campaign.id == Household.campaign_id)
             .outerjoin(funding, funding.c.household_id == Household.id)
             .order_by(Household.id))
    return apply_filters(query, filters, campaign=Household.campaign_id, area=Household.commune_code,
                         moment=Household.created_at,
                         statuses={status: Household.status == status for status in HOUSEHOLD_STATUSES})


def _household_row(r) -> tuple:
    allocated, state, approved = int(r.allocated), int(r.state_budget), r.approved_amount_vnd
    return (r.id, r.campaign, r.commune_code, r.head_name, r.category, r.support_type, r.status, r.created_at,
            approved, state, allocated - state, int(r.cash), int(r.materials), int(r.labour),
            quantity(LABOUR, int(r.labour_units)), allocated, r.own_contribution_vnd,
            max(approved - allocated, 0), 1 if allocated >= approved else 0, 1 if allocated > approved else 0)


HOUSEHOLDS = Dataset(
    "households",
    (Column("household_id", "Mã hộ", INTEGER), Column("campaign", "Chiến dịch"),
     Column("commune_code", "Mã xã/phường"), Column("head_name", "Chủ hộ"), Column("category", "Diện hộ"),
     Column("support_type", "Hình thức hỗ trợ"), Column("status", "Trạng thái"),
     Column("recorded_at", "Thời điểm ghi (UTC)", DATETIME),
     Column("approved_amount_vnd", "Mức hỗ trợ được duyệt (đồng)", VND),
     Column("state_budget_vnd", "Từ ngân sách nhà nước (đồng)", VND),
     Column("social_vnd", "Từ nguồn xã hội hóa (đồng)", VND), Column("cash_vnd", "Tiền mặt (đồng)", VND),
     Column("materials_vnd", "Vật liệu, quy ra đồng", VND), Column("labour_vnd", "Ngày công, quy ra đồng", VND),
     Column("labour_person_days", "Số ngày công", QUANTITY),
     Column("allocated_vnd", "Tổng đã phân bổ (đồng)", VND),
     Column("own_contribution_vnd", "Hộ tự đóng góp (đồng)", VND),
     Column("remaining_need_vnd", "Còn thiếu so với mức duyệt (đồng)", VND),
     Column("fully_funded", "Đã đủ kinh phí (1 = có)", INTEGER),
     Column("over_approved", "Vượt mức duyệt (1 = có)", INTEGER)),
    TotalsBy("campaign", "allocated_vnd"),
    _households_query, _household_row, statuses=HOUSEHOLD_STATUSES)


# The same with the household's private fields, for users granted them (Dataset.private).
HOUSEHOLDS_PRIVATE = Dataset(
    "households_private",
    HOUSEHOLDS.columns + (Column("id_number", "Số định danh (riêng tư)"), Column("phone", "Điện thoại (riêng tư)"),
                          Column("address", "Địa chỉ (riêng tư)")),
    HOUSEHOLDS.totals,
    lambda filters: _households_query(filters).add_columns(Household.id_number, Household.phone, Household.address),
    lambda r: _household_row(r) + (r.id_number, r.phone, r.address),
    statuses=HOUSEHOLD_STATUSES, private=True)


# --- fund balances at a date, from the journal --------------------------------------------

def _fund_balances_query(filters: dict) -> Select:
    until = end_of_day(filters.get("date_to") or today_in_vietnam())
    since = start_of_day(filters["date_from"]) if filters.get("date_from") else None
    at = JournalTransaction.recorded_at
    undone = aliased(JournalTransaction)  # what a void or reversal undoes: it counts where that did
    source = func.coalesce(undone.kind, JournalTransaction.kind)
    # A reversal's postings are the original's negated: the original's sign says which way it went.
    outward = case((JournalTransaction.reverses_id.is_(None), Posting.units), else_=-Posting.units) < 0
    in_period = at >= since if since is not None else true()

    def total(*where, negated=False):
        return func.sum(case((and_(*where), -Posting.units if negated else Posting.units), else_=0))

    query = (select(Fund.code.label("fund"), Fund.area_code, Posting.commodity,
                    (total(at < since) if since is not None else literal(0)).label("opening"),
                    total(in_period, source == "contribution").label("received"),
                    total(in_period, source == "transfer", ~outward).label("transferred_in"),
                    total(in_period, source == "transfer", outward, negated=True).label("transferred_out"),
                    total(in_period, source == "allocation", negated=True).label("allocated"),
                    func.sum(Posting.units).label("closing"))
             .select_from(Posting)
             .join(JournalTransaction, JournalTransaction.id == Posting.txn_id)
             .outerjoin(undone, undone.id == JournalTransaction.reverses_id)
             .join(Fund, Posting.account == "fund:" + Fund.code)  # Fund.account's form
             .join(Contribution, Contribution.id == Posting.contribution_id)
             .where(at < until)
             .group_by(Fund.code, Fund.area_code, Posting.commodity)
             .order_by(Fund.code, Posting.commodity))
    # The period's bounds go into each row (the query's rows carry them to _balance_row).
    query = query.add_columns(literal(filters.get("date_from"), Date()).label("since"),
                              literal(filters.get("date_to") or today_in_vietnam(), Date()).label("until"))
    return apply_filters(query, filters, campaign=Contribution.campaign_id, fund=Fund, kind=Contribution.kind)


def _balance_row(r) -> tuple:
    c = r.commodity
    amounts = (r.opening, r.received, r.transferred_in, r.transferred_out, r.allocated, r.closing)
    return (r.fund, r.area_code, c, *item_and_unit(c), r.since, r.until, *(quantity(c, int(a)) for a in amounts))


FUND_BALANCES = Dataset(
    "fund_balances",
    (Column("fund", "Quỹ"), Column("area_code", "Mã địa bàn của quỹ"), Column("commodity", "Loại tài sản"),
     *ITEM_COLUMNS, Column("period_from", "Từ ngày", DATE), Column("period_to", "Đến ngày", DATE),
     Column("opening", "Số dư đầu kỳ", QUANTITY), Column("received", "Nhận trong kỳ", QUANTITY),
     Column("transferred_in", "Nhận chuyển đến", QUANTITY), Column("transferred_out", "Chuyển đi", QUANTITY),
     Column("allocated", "Đã phân bổ cho hộ", QUANTITY), Column("closing", "Số dư cuối kỳ", QUANTITY)),
    TotalsBy("commodity", "closing"),
    _fund_balances_query, _balance_row)


# --- the receipts register ----------------------------------------------------------------
# Numbers run {FUND}-{YYYY}-{NNNNNN} per fund and year (contributions.recording.number_receipts).
# The previous number of each one's series comes from a window over the whole register,
# so a filtered export still shows whether each number follows the one before it.

def _receipts_query(filters: dict) -> Select:
    year = extract("year", Contribution.received_on)
    in_series = (func.length(Receipt.number), Receipt.number)  # numeric order, even past 6 digits
    previous = (select(Receipt.id.label("receipt_id"),
                       func.lag(Receipt.number).over(partition_by=(Contribution.fund_id, year),
                                                     order_by=in_series).label("previous"))
                .join(Contribution, Contribution.id == Receipt.contribution_id)
                .subquery("previous"))
    query = (select(Receipt.number, Receipt.contribution_id, Fund.code.label("fund"), Receipt.issued_at,
                    Receipt.key_id, ReceiptVoid.voided_at, Contribution.value_vnd, previous.c.previous)
             .join(Contribution, Contribution.id == Receipt.contribution_id)
             .join(Fund, Fund.id == Contribution.fund_id)
             .join(previous, previous.c.receipt_id == Receipt.id)
             .outerjoin(ReceiptVoid, ReceiptVoid.receipt_id == Receipt.id)
             .order_by(Fund.code, year, *in_series))
    standing = ReceiptVoid.id.is_(None)
    return apply_filters(query, filters, campaign=Contribution.campaign_id, fund=Fund, kind=Contribution.kind,
                         moment=Receipt.issued_at, reversed_txn=standing,
                         statuses={"issued": standing, "voided": ~standing})


def _in_series(number: str) -> tuple[str, int]:
    series, _, n = number.rpartition("-")
    return series, int(n)


def _receipt_row(r) -> tuple:
    series, n = _in_series(r.number)
    follows = _in_series(r.previous) == (series, n - 1) if r.previous is not None else n == 1
    return (r.number, series, r.contribution_id, r.fund, r.issued_at, r.key_id, 0 if r.voided_at is None else 1,
            r.voided_at, r.value_vnd, r.previous, 1 if follows else 0)


RECEIPTS = Dataset(
    "receipts",
    (Column("receipt_number", "Số biên nhận"), Column("series", "Dãy số (quỹ-năm)"),
     Column("contribution_id", "Mã khoản đóng góp", INTEGER), Column("fund", "Quỹ"),
     Column("issued_at", "Thời điểm cấp (UTC)", DATETIME), Column("key_id", "Mã khóa ký"),
     Column("voided", "Đã hủy (1 = có)", INTEGER), Column("voided_at", "Thời điểm hủy (UTC)", DATETIME),
     Column("value_vnd", "Giá trị (đồng)", VND), Column("previous_number", "Số liền trước trong dãy"),
     Column("follows_previous", "Liền số, không hở (1 = có)", INTEGER)),
    TotalsBy("voided", "value_vnd"),  # standing (0) and voided (1) receipts apart
    _receipts_query, _receipt_row, statuses=("issued", "voided"))


# --- imported bank statements: one row per batch ------------------------------------------

def _import_batches_query(filters: dict) -> Select:
    standing = ImportBatchVoid.batch_id.is_(None)
    query = (select(ImportBatch.id, Fund.code.label("fund"), Fund.area_code, Campaign.code.label("campaign"),
                    ImportBatch.bank, ImportBatch.account_number, ImportBatch.file_name, ImportBatch.file_sha256,
                    ImportBatch.period_from, ImportBatch.period_to, ImportBatch.opening_balance_vnd,
                    ImportBatch.closing_balance_vnd, ImportBatch.lines_in_file, ImportBatch.credits_recorded,
                    ImportBatch.credits_recorded_vnd, ImportBatch.debits, ImportBatch.debits_vnd,
                    ImportBatch.duplicates, ImportBatch.created_at, ImportBatchVoid.voided_at,
                    ImportBatchVoid.reason.label("void_reason"))
             .join(Fund, Fund.id == ImportBatch.fund_id)
             .join(Campaign, Campaign.id == ImportBatch.campaign_id)
             .outerjoin(ImportBatchVoid, ImportBatchVoid.batch_id == ImportBatch.id)
             .order_by(ImportBatch.id))
    return apply_filters(query, filters, campaign=ImportBatch.campaign_id, fund=Fund, moment=ImportBatch.created_at,
                         reversed_txn=standing, statuses={"live": standing, "voided": ~standing})


def _import_batch_row(r) -> tuple:
    return (r.id, r.fund, r.area_code, r.campaign, r.bank, r.account_number, r.file_name, r.file_sha256,
            r.period_from, r.period_to, r.opening_balance_vnd, r.closing_balance_vnd, r.lines_in_file,
            r.credits_recorded, r.credits_recorded_vnd, r.debits, r.debits_vnd, r.duplicates, r.created_at,
            1 if r.voided_at else 0, r.voided_at, r.void_reason)


IMPORT_BATCHES = Dataset(
    "import_batches",
    (Column("batch_id", "Mã lô nhập", INTEGER), Column("fund", "Quỹ"), Column("area_code", "Mã địa bàn của quỹ"),
     Column("campaign", "Chiến dịch"), Column("bank", "Ngân hàng"), Column("account_number", "Số tài khoản"),
     Column("file_name", "Tệp sao kê"), Column("file_sha256", "SHA-256 của tệp"),
     Column("period_from", "Từ ngày", DATE), Column("period_to", "Đến ngày", DATE),
     Column("opening_balance_vnd", "Số dư đầu kỳ (đồng)", VND),
     Column("closing_balance_vnd", "Số dư cuối kỳ (đồng)", VND), Column("lines_in_file", "Số dòng trong tệp", INTEGER),
     Column("credits_recorded", "Số khoản ghi có đã ghi sổ", INTEGER),
     Column("credits_recorded_vnd", "Tiền ghi có đã ghi sổ (đồng)", VND), Column("debits", "Số khoản ghi nợ", INTEGER),
     Column("debits_vnd", "Tiền ghi nợ (đồng)", VND), Column("duplicates", "Số dòng đã nhập trước đó", INTEGER),
     Column("imported_at", "Thời điểm nhập (UTC)", DATETIME), Column("voided", "Đã hủy (1 = có)", INTEGER),
     Column("voided_at", "Thời điểm hủy (UTC)", DATETIME), Column("void_reason", "Lý do hủy")),
    TotalsBy("fund", "credits_recorded_vnd"),
    _import_batches_query, _import_batch_row, statuses=("live", "voided"))


# --- the transparency log: leaves and signed checkpoints (public data only) -------------

def _log_entries_query(filters: dict) -> Select:
    in_log = JournalTransaction.seq < select(LogState.size).where(LogState.id == 1).scalar_subquery()
    query = (select(JournalTransaction.seq, JournalTransaction.kind, JournalTransaction.recorded_at,
                    JournalTransaction.public_json)
             .where(in_log).order_by(JournalTransaction.seq))
    return apply_filters(query, filters, moment=JournalTransaction.recorded_at)


def _log_entry_row(r) -> tuple:
    leaf = r.public_json.encode("utf-8")  # exactly the bytes /transparency/entries gives and the tree hashes
    return (r.seq, r.kind, r.recorded_at, merkle.leaf_hash(leaf).hex(), base64.b64encode(leaf).decode("ascii"))


LOG_ENTRIES = Dataset(
    "log_entries",
    (Column("leaf_index", "Số thứ tự lá (= số thứ tự giao dịch)", INTEGER), Column("txn_kind", "Loại giao dịch"),
     Column("recorded_at", "Thời điểm ghi (UTC)", DATETIME),
     Column("leaf_hash", "Băm lá SHA-256(0x00 ‖ dữ liệu), hex"), Column("leaf_b64", "Dữ liệu lá (base64)")),
    None, _log_entries_query, _log_entry_row)


def _checkpoints_query(filters: dict) -> Select:
    query = (select(Checkpoint.size, Checkpoint.root_hash, Checkpoint.key_id, Checkpoint.signed_at, Checkpoint.note)
             .order_by(Checkpoint.size))
    return apply_filters(query, filters, moment=Checkpoint.signed_at)


def _checkpoint_row(r) -> tuple:
    return (r.size, b64(r.root_hash), r.key_id, r.signed_at, r.note)


CHECKPOINTS = Dataset(
    "checkpoints",
    (Column("size", "Số lá", INTEGER), Column("root_hash", "Băm gốc (base64)"), Column("key_id", "Mã khóa ký"),
     Column("signed_at", "Thời điểm ký (UTC)", DATETIME), Column("note", "Bản ghi đã ký (signed note)")),
    None, _checkpoints_query, _checkpoint_row)


# Every export by name, in the order the API lists them.
DATASETS = {d.name: d for d in (POSTINGS, CONTRIBUTIONS, ALLOCATIONS, PLEDGES, HOUSEHOLDS, HOUSEHOLDS_PRIVATE,
                                 FUND_BALANCES, RECEIPTS, IMPORT_BATCHES, LOG_ENTRIES, CHECKPOINTS)}
