"""A report as an XLSX workbook: typed cells (numbers as numbers, dates as dates, đồng with
a thousands separator), headers in the reader's language (Vietnamese by default).

Reports are aggregates, small enough to build in the request, in memory."""
from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..households.models import STATUSES
from ..web.vocabulary import DONOR_KINDS, HOUSEHOLD_STATUSES, RESOURCE_KINDS, SUPPORT_TYPES
from . import service

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEXT, VND, INTEGER, QUANTITY, DATE = "text", "vnd", "integer", "quantity", "date"
_WIDTHS = {TEXT: 24, VND: 16, INTEGER: 10, QUANTITY: 12, DATE: 12}


@dataclass(frozen=True)
class Column:
    header: Any  # a lazy message: translated when the workbook is written
    type: str
    value: Callable[[Any], Any]


@dataclass(frozen=True)
class Sheet:
    title: Any
    columns: list[Column]
    rows: list[Any]


def _label(table: dict, code: str | None) -> str:
    return str(table.get(code, code)) if code else ""


def _yes(flag: bool) -> str:
    return _("Yes") if flag else _("No")


# --- the sheets of each report -------------------------------------------------------------

def _reconciliation(report: service.Reconciliation) -> list[Sheet]:
    kinds, items = [], []
    for section in report.campaigns:
        levels = [(_l("Total"), section.totals)] + [(_l("Fund"), b) for b in section.funds] + [
            (_l("Area"), b) for b in section.areas]
        for level, block in levels:
            for kind, figures in block.kinds.items():
                kinds.append((section.campaign, level, block, kind, figures))
            for line in block.lines:
                items.append((section.campaign, level, block, line))
    campaign = Column(_l("Campaign"), TEXT, lambda r: r[0].code)
    level = Column(_l("Level"), TEXT, lambda r: str(r[1]))
    name = Column(_l("Name"), TEXT, lambda r: r[2].label)
    code = Column(_l("Code"), TEXT, lambda r: r[2].code)
    by_kind = Sheet(_l("By kind"), [
        campaign, level, name, code,
        Column(_l("Kind"), TEXT, lambda r: _label(RESOURCE_KINDS, r[3])),
        Column(_l("Pledged (đồng)"), VND, lambda r: r[4].pledged_vnd),
        Column(_l("Received (đồng)"), VND, lambda r: r[4].received_vnd),
        Column(_l("Transferred in (đồng)"), VND, lambda r: r[4].transferred_in_vnd),
        Column(_l("Transferred out (đồng)"), VND, lambda r: r[4].transferred_out_vnd),
        Column(_l("Allocated (đồng)"), VND, lambda r: r[4].allocated_vnd),
        Column(_l("Remaining (đồng)"), VND, lambda r: r[4].remaining_vnd),
    ], kinds)
    by_item = Sheet(_l("By item"), [
        campaign, level, name, code,
        Column(_l("Kind"), TEXT, lambda r: _label(RESOURCE_KINDS, r[3].kind)),
        Column(_l("Item"), TEXT, lambda r: r[3].item),
        Column(_l("Unit"), TEXT, lambda r: r[3].unit),
        *[Column(header, QUANTITY, lambda r, f=figure: r[3].quantity(f)) for header, figure in (
            (_l("Received"), "received"), (_l("Transferred in"), "transferred_in"),
            (_l("Transferred out"), "transferred_out"), (_l("Allocated"), "allocated"),
            (_l("Remaining"), "remaining"))],
        Column(_l("Received (đồng)"), VND, lambda r: r[3].totals.received_vnd),
        Column(_l("Allocated (đồng)"), VND, lambda r: r[3].totals.allocated_vnd),
        Column(_l("Remaining (đồng)"), VND, lambda r: r[3].totals.remaining_vnd),
        Column(_l("Reconciles"), TEXT, lambda r: _yes(r[3].totals.balanced)),
    ], items)
    return [by_kind, by_item]


def _coverage(report: service.Coverage) -> list[Sheet]:
    summary, under, overrides = [], [], []
    for section in report.campaigns:
        summary += [(section.campaign, f) for f in [section.totals, *section.areas]]
        under += [(section.campaign, h) for h in section.under_funded]
        overrides += [(section.campaign, o) for o in section.overrides]
    campaign = Column(_l("Campaign"), TEXT, lambda r: r[0].code)
    return [
        Sheet(_l("Coverage"), [
            campaign, Column(_l("Name"), TEXT, lambda r: r[1].label), Column(_l("Code"), TEXT, lambda r: r[1].code),
            Column(_l("Households"), INTEGER, lambda r: r[1].households),
            *[Column(HOUSEHOLD_STATUSES[s], INTEGER, lambda r, s=s: r[1].by_status.get(s, 0)) for s in STATUSES],
            Column(_l("Approved amount (đồng)"), VND, lambda r: r[1].approved_vnd),
            Column(_l("Allocated (đồng)"), VND, lambda r: r[1].allocated_vnd),
            Column(_l("Fully funded"), INTEGER, lambda r: r[1].fully_funded),
            Column(_l("Under-funded"), INTEGER, lambda r: r[1].under_funded),
        ], summary),
        Sheet(_l("Under-funded"), [
            campaign, Column(_l("Household"), INTEGER, lambda r: r[1].household_id),
            Column(_l("Head of household"), TEXT, lambda r: r[1].head_name),
            Column(_l("Commune"), TEXT, lambda r: r[1].commune),
            Column(_l("Status"), TEXT, lambda r: _label(HOUSEHOLD_STATUSES, r[1].status)),
            Column(_l("Support type"), TEXT, lambda r: _label(SUPPORT_TYPES, r[1].support_type)),
            Column(_l("Approved amount (đồng)"), VND, lambda r: r[1].approved_vnd),
            Column(_l("Allocated (đồng)"), VND, lambda r: r[1].allocated_vnd),
            Column(_l("Shortfall (đồng)"), VND, lambda r: r[1].shortfall_vnd),
        ], under),
        Sheet(_l("Overrides"), [
            campaign, Column(_l("Allocation"), INTEGER, lambda r: r[1].allocation_id),
            Column(_l("Household"), INTEGER, lambda r: r[1].household_id),
            Column(_l("Head of household"), TEXT, lambda r: r[1].head_name),
            Column(_l("Commune"), TEXT, lambda r: r[1].commune),
            Column(_l("Norm (đồng)"), VND, lambda r: r[1].norm_vnd),
            Column(_l("Approved amount (đồng)"), VND, lambda r: r[1].approved_vnd),
            Column(_l("Allocated (đồng)"), VND, lambda r: r[1].household_allocated_vnd),
            Column(_l("This allocation (đồng)"), VND, lambda r: r[1].value_vnd),
            Column(_l("Reason"), TEXT, lambda r: r[1].reason),
            Column(_l("Requested by"), TEXT, lambda r: r[1].requested_by),
            Column(_l("Approved by"), TEXT, lambda r: r[1].approved_by),
            Column(_l("Date"), DATE, lambda r: r[1].on),
        ], overrides),
    ]


def _overdue(report: service.OverduePledges) -> list[Sheet]:
    return [Sheet(_l("Overdue pledges"), [
        Column(_l("Pledge"), TEXT, lambda p: p.code),
        Column(_l("Campaign"), TEXT, lambda p: p.campaign_code),
        Column(_l("Fund"), TEXT, lambda p: p.fund_code),
        Column(_l("Donor"), TEXT, lambda p: p.donor),
        Column(_l("Kind of donor"), TEXT, lambda p: _label(DONOR_KINDS, p.donor_kind)),
        Column(_l("Kind"), TEXT, lambda p: _label(RESOURCE_KINDS, p.kind)),
        Column(_l("Item"), TEXT, lambda p: p.item),
        Column(_l("Unit"), TEXT, lambda p: p.unit),
        Column(_l("Due date"), DATE, lambda p: p.due_on),
        Column(_l("Days overdue"), INTEGER, lambda p: p.days_overdue),
        Column(_l("Pledged"), QUANTITY, lambda p: p.quantity("pledged")),
        Column(_l("Received"), QUANTITY, lambda p: p.quantity("received")),
        Column(_l("Remaining"), QUANTITY, lambda p: p.quantity("remaining")),
        Column(_l("Pledged (đồng)"), VND, lambda p: p.pledged_vnd),
        Column(_l("Received (đồng)"), VND, lambda p: p.received_vnd),
        Column(_l("Remaining (đồng)"), VND, lambda p: p.remaining_vnd),
    ], report.pledges)]


def _unallocated(report: service.Unallocated) -> list[Sheet]:
    return [Sheet(_l("Not yet allocated"), [
        Column(_l("Receipt number"), TEXT, lambda c: c.receipt_number),
        Column(_l("Received on"), DATE, lambda c: c.received_on),
        Column(_l("Days"), INTEGER, lambda c: c.days),
        Column(_l("Campaign"), TEXT, lambda c: c.campaign_code),
        Column(_l("Fund"), TEXT, lambda c: c.fund_code),
        Column(_l("Donor"), TEXT, lambda c: c.donor),
        Column(_l("Kind"), TEXT, lambda c: _label(RESOURCE_KINDS, c.kind)),
        Column(_l("Item"), TEXT, lambda c: c.item),
        Column(_l("Unit"), TEXT, lambda c: c.unit),
        Column(_l("Received"), QUANTITY, lambda c: c.quantity("received")),
        Column(_l("Allocated"), QUANTITY, lambda c: c.quantity("allocated")),
        Column(_l("Transferred on"), QUANTITY, lambda c: c.quantity("transferred")),
        Column(_l("Remaining"), QUANTITY, lambda c: c.quantity("remaining")),
        Column(_l("Received (đồng)"), VND, lambda c: c.received_vnd),
        Column(_l("Remaining (đồng)"), VND, lambda c: c.remaining_vnd),
        Column(_l("Held by other funds (đồng)"), VND, lambda c: c.elsewhere_vnd),
    ], report.contributions)]


def _commendations(report: service.Commendations) -> list[Sheet]:
    def rows(rankings: list[service.Ranking]) -> list[tuple]:
        out = []
        for ranking in rankings:
            out += [(ranking.label, c.rank, c.name, c.contributions, c.cash_vnd, c.material_vnd, c.labour_vnd,
                     c.total_vnd) for c in ranking.top]
            if ranking.anonymous_donors:  # never ranked, never named
                out.append((ranking.label, None, _("Anonymous donors (%(n)s)", n=ranking.anonymous_donors), None,
                            None, None, None, ranking.anonymous_vnd))
        return out

    def columns(group) -> list[Column]:
        return [Column(group, TEXT, lambda r: r[0]), Column(_l("Rank"), INTEGER, lambda r: r[1]),
                Column(_l("Donor"), TEXT, lambda r: r[2]), Column(_l("Contributions"), INTEGER, lambda r: r[3]),
                Column(_l("Cash (đồng)"), VND, lambda r: r[4]), Column(_l("Materials (đồng)"), VND, lambda r: r[5]),
                Column(_l("Labour (đồng)"), VND, lambda r: r[6]), Column(_l("Total (đồng)"), VND, lambda r: r[7])]

    return [Sheet(_l("By kind of donor"), columns(_l("Kind of donor")), rows(report.by_kind)),
            Sheet(_l("By area"), columns(_l("Area")), rows(report.by_area))]


SHEETS = {"reconciliation": _reconciliation, "households": _coverage, "overdue-pledges": _overdue,
          "unallocated": _unallocated, "commendations": _commendations}
TITLES = {"reconciliation": _l("Reconciliation"), "households": _l("Household coverage"),
          "overdue-pledges": _l("Overdue pledges"), "unallocated": _l("Not yet allocated"),
          "commendations": _l("Commendation list")}


# --- writing -------------------------------------------------------------------------------

def _sheet_name(title: str, taken: set[str]) -> str:
    """Excel's sheet names: at most 31 characters, none of []:*?/\\, each once."""
    base = re.sub(r"[\[\]:*?/\\]", " ", title).strip()[:31] or "Sheet"
    name, n = base, 2
    while name.casefold() in taken:
        suffix = f" ({n})"
        name, n = base[:31 - len(suffix)] + suffix, n + 1
    taken.add(name.casefold())
    return name


def workbook(name: str, report) -> bytes:
    import xlsxwriter

    out = io.BytesIO()
    # Typed write_* calls below never guess; these options make sure nothing else does.
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
                                     "strings_to_urls": False, "default_date_format": "dd/mm/yyyy"})
    bold = book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    formats = {VND: book.add_format({"num_format": "#,##0"}), INTEGER: book.add_format({"num_format": "0"}),
               QUANTITY: book.add_format({"num_format": "#,##0.###"}),
               DATE: book.add_format({"num_format": "dd/mm/yyyy"})}
    taken: set[str] = set()
    for sheet in SHEETS[name](report):
        ws = book.add_worksheet(_sheet_name(str(sheet.title), taken))
        for col, column in enumerate(sheet.columns):
            ws.write_string(0, col, str(column.header), bold)
            ws.set_column(col, col, max(_WIDTHS[column.type], min(len(str(column.header)) + 2, 40)))
        _write_rows(ws, sheet.columns, sheet.rows, formats)
        ws.freeze_panes(1, 0)
        if sheet.rows:
            ws.autofilter(0, 0, len(sheet.rows), len(sheet.columns) - 1)
    book.set_properties({"title": str(TITLES[name]), "author": "chung-tay-ledger"})
    book.close()
    return out.getvalue()


def _write_rows(ws, columns: list[Column], rows: Iterable[Any], formats: dict) -> None:
    for r, row in enumerate(rows, 1):
        for col, column in enumerate(columns):
            value = column.value(row)
            if value is None:
                continue
            if column.type == TEXT:
                ws.write_string(r, col, str(value))
            elif column.type in (VND, INTEGER):
                ws.write_number(r, col, int(value), formats[column.type])
            elif column.type == QUANTITY:
                # No float on the way: XlsxWriter writes a Decimal's digits as they are ("%.16G").
                ws.write_number(r, col, Decimal(value), formats[QUANTITY])
            else:
                ws.write_datetime(r, col, value, formats[DATE])
