"""The audit trail: who did what and when, read from what the ledger already records.

Nothing is written for it: every event comes from a row the ledger keeps anyway (journal
transactions, pledges and their cancellations, donors, households and their histories and
status steps, users and their changes, funds, campaigns, approval requests and decisions).

Paging is by keyset, so a page costs about the page, not the table: each source is read
newest first along its primary key (ids grow with time), at most one page plus one row
per source, after that source's position in the cursor; the sources are merged by time
and the cursor of the next page keeps, per source, the last row shown. Filters (user,
kind of action, date range) are WHERE clauses of each source's query; a filter that
matches rarely makes a source read further back.

Personal data (ID numbers, phones, addresses, memos, notes, household heads' names) never
appears: an event names records by number, code or id, kinds, amounts, and the fields
that changed (never their values, except a user's role and area).
"""
from __future__ import annotations

import base64
import heapq
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, exists, literal, select

from receipts import words

from ..areas.models import Area
from ..areas.service import within_clause
from ..auth.models import User, UserChange
from ..auth.service import describe_user_change, require, usernames
from ..campaigns.models import Campaign
from ..donors.models import Donor, DonorChange
from ..extensions import db
from ..fields import end_of_day, start_of_day
from ..funds.models import Fund, Transfer
from ..households.models import Household, HouseholdChange, HouseholdStatusEvent
from ..journal.models import JournalTransaction, Posting
from ..journal.quantities import kind_of
from ..journal.service import commodity_label
from ..pledges.models import Pledge, PledgeCancellation
from ..web.vocabulary import HOUSEHOLD_STATUSES

PAGE_SIZE = 50

# The kinds of action a person can filter on, in the order the filter lists them.
ACTIONS = {
    "contribution": _l("Contribution recorded"),
    "void": _l("Contribution voided"),
    "allocation": _l("Allocation"),
    "transfer": _l("Transfer between funds"),
    "reversal": _l("Allocation or transfer reversed"),
    "pledge": _l("Pledge recorded"),
    "pledge_cancelled": _l("Pledge cancelled"),
    "donor_created": _l("Donor created"),
    "donor_changed": _l("Donor edited"),
    "household_created": _l("Household created"),
    "household_changed": _l("Household edited"),
    "household_status": _l("Household status"),
    "approval_requested": _l("Approval requested"),
    "approval_decided": _l("Approval decided"),
    "user_created": _l("User created"),
    "user_changed": _l("User changed"),
    "fund_created": _l("Fund created"),
    "campaign_created": _l("Campaign created"),
}

FIELD_LABELS = {
    "name": _l("name"), "kind": _l("kind"), "public_display": _l("public display"), "tax_code": _l("tax code"),
    "state_level": _l("state level"), "area_code": _l("area"), "id_number": _l("ID number"), "phone": _l("phone"),
    "address": _l("address"), "head_name": _l("head's name"), "category": _l("category"),
    "support_type": _l("support type"), "approved_amount_vnd": _l("approved amount"),
    "own_contribution_vnd": _l("own contribution"), "commune_code": _l("commune"),
}
# The staff pages' one vocabulary. (Lower-case msgids equal to stored values such as
# "surveyed" would also translate those raw values where the API reports them.)
STATUS_LABELS = HOUSEHOLD_STATUSES
DECISION_LABELS = {"approved": _l("Approved"), "rejected": _l("Rejected")}


@dataclass(frozen=True)
class AuditFilters:
    user_id: int | None = None
    action: str | None = None
    date_from: date | None = None  # local dates (Asia/Ho_Chi_Minh), both included
    date_to: date | None = None


@dataclass(frozen=True)
class AuditEvent:
    at: datetime
    actor_id: int | None
    action: str
    subject: str
    summary: str
    source: str
    key: tuple  # the row's position in its source (the cursor's unit)
    link: tuple[str, dict] | None = None  # (endpoint, values) of the record's page, when there is one
    fallback_link: tuple[str, dict] | None = None  # when the first page does not exist
    ref: dict | None = None  # what names the record, to find its id (journal events)

    @property
    def action_label(self) -> str:
        return str(ACTIONS.get(self.action, self.action))


@dataclass
class AuditPage:
    events: list[AuditEvent]
    actors: dict[int, str]
    next_cursor: str | None
    filters: AuditFilters = field(default_factory=AuditFilters)


# --- sources -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Source:
    """One kind of row the trail reads. `query(viewer_area)` selects the rows (area-scoped
    when the viewer has an area); `at`, `actor` and `key` are its columns; `action` is the
    filter's value(s) it yields and, when it yields several, `action_col` tells them apart;
    `event` makes a row into an AuditEvent."""

    name: str
    actions: tuple[str, ...]
    query: Callable[[str | None], Select]
    at: ColumnElement
    actor: ColumnElement
    key: tuple[ColumnElement, ...]
    event: Callable[[object], AuditEvent]
    action_col: ColumnElement | None = None
    time_ordered: bool = False  # key is (moment, id): rows are not created in this order


def _vnd(value) -> str:
    return words.format_vnd(int(value))


def _amount(commodity: str, units: str) -> str:
    """A posting's amount for people: "5.000.000 ₫", "40 tấm", "12,5 ngày công"."""
    kind = kind_of(commodity)
    if kind == "cash":
        return _vnd(abs(int(units)))
    number = words.format_decimal(units.lstrip("-"))
    if kind == "labour":
        return str(_l("%(n)s person-days", n=number))
    label = commodity_label(commodity)  # the session keeps each material once
    return f"{number} {label['unit']} {label['item']}"


def _journal_query(area: str | None) -> Select:
    query = select(JournalTransaction.id, JournalTransaction.seq, JournalTransaction.kind,
                   JournalTransaction.recorded_at, JournalTransaction.recorded_by_id, JournalTransaction.reason,
                   JournalTransaction.public_json, JournalTransaction.reverses_id)
    if area is not None:
        in_area = (select(Fund.id).join(Posting, Posting.account == literal("fund:") + Fund.code)
                   .where(Posting.txn_id == JournalTransaction.id, within_clause(Fund.area_code, area)))
        query = query.where(exists(in_area))
    return query


def _journal_event(row) -> AuditEvent:
    body = json.loads(row.public_json)
    postings = body.get("postings", [])
    moved = {}
    for p in postings:  # what moved, per commodity: the positive side (a reversal: the negative)
        amount = p["amount"]
        if not amount.startswith("-"):
            moved.setdefault(p["commodity"], amount)
    amounts = ", ".join(_amount(c, u) for c, u in moved.items())
    subject, parts = f"#{row.seq}", []
    if row.kind == "contribution":
        c = body.get("contribution", {})
        subject = c.get("receipt", subject)
        parts = [amounts, str(_l("fund %(code)s", code=c.get("fund", "")))]
        if c.get("donor"):
            parts.append(c["donor"])
        link = ("public.receipt_page", {"number": c["receipt"]}) if c.get("receipt") else None
        return AuditEvent(row.recorded_at, row.recorded_by_id, "contribution", subject, " · ".join(parts), "j",
                          (row.id,), fallback_link=link, ref={"receipt": c.get("receipt")})
    if row.kind == "allocation":
        a = body.get("allocation", {})
        subject = str(_l("household %(id)s", id=a.get("household")))
        parts = [amounts, str(_l("fund %(code)s", code=a.get("fund", "")))]
        if a.get("override"):
            parts.append(str(_l("over the approved amount")))
        household_page = ("household_pages.show_household", {"household_id": a.get("household")})
        return AuditEvent(row.recorded_at, row.recorded_by_id, "allocation", subject, " · ".join(parts), "j",
                          (row.id,), fallback_link=household_page, ref={"txn": row.id})
    if row.kind == "transfer":
        t = body.get("transfer", {})
        subject = f"{t.get('from', '')} → {t.get('to', '')}"
        return AuditEvent(row.recorded_at, row.recorded_by_id, "transfer", subject, amounts, "j", (row.id,),
                          ref={"txn": row.id})
    # a void (of a contribution) or a reversal (of an allocation or transfer)
    undone = {k: v for k, v in body.items() if k in ("contribution", "allocation", "transfer")}
    if "contribution" in undone:
        subject = undone["contribution"].get("receipt", subject)
    elif "allocation" in undone:
        subject = str(_l("household %(id)s", id=undone["allocation"].get("household")))
    elif "transfer" in undone:
        subject = f"{undone['transfer'].get('from', '')} → {undone['transfer'].get('to', '')}"
    undo_amounts = ", ".join(_amount(p["commodity"], p["amount"]) for p in postings if p["amount"].startswith("-")
                             and not p["account"].startswith("fund:")) or amounts
    parts = [str(_l("undoes entry %(seq)s", seq=body.get("reverses", "?"))), undo_amounts]
    if row.reason:
        parts.append(str(_l("reason: %(reason)s", reason=row.reason)))
    action = "void" if row.kind == "void" else "reversal"
    ref = ({"receipt": undone["contribution"].get("receipt")} if "contribution" in undone
           else {"txn": row.reverses_id})
    return AuditEvent(row.recorded_at, row.recorded_by_id, action, subject, " · ".join(parts), "j", (row.id,),
                      ref=ref)


def _link_journal_records(events: list[AuditEvent]) -> list[AuditEvent]:
    """Point journal events at their record's staff page: the contribution (by receipt
    number), the allocation or the transfer (by journal transaction). Three small queries
    for the whole page."""
    from ..allocations.models import Allocation
    from ..contributions.models import Contribution

    receipts = {e.ref["receipt"] for e in events if e.ref and e.ref.get("receipt")}
    txns = {e.ref["txn"] for e in events if e.ref and e.ref.get("txn")}
    contributions = dict(db.session.execute(
        select(Contribution.receipt_number, Contribution.id).where(Contribution.receipt_number.in_(receipts))
    ).all()) if receipts else {}
    allocations = dict(db.session.execute(select(Allocation.txn_id, Allocation.id)
                                          .where(Allocation.txn_id.in_(txns))).all()) if txns else {}
    transfers = dict(db.session.execute(select(Transfer.txn_id, Transfer.id)
                                        .where(Transfer.txn_id.in_(txns))).all()) if txns else {}
    linked = []
    for event in events:
        link = None
        if event.ref and event.ref.get("receipt") in contributions:
            link = ("contribution_pages.show_contribution", {"contribution_id": contributions[event.ref["receipt"]]})
        elif event.ref and event.ref.get("txn") in allocations:
            link = ("allocation_pages.show_allocation", {"allocation_id": allocations[event.ref["txn"]]})
        elif event.ref and event.ref.get("txn") in transfers:
            link = ("allocation_pages.show_transfer", {"transfer_id": transfers[event.ref["txn"]]})
        linked.append(replace(event, link=link) if link else event)
    return linked


def _pledge_query(area: str | None) -> Select:
    query = (select(Pledge.id, Pledge.created_at, Pledge.created_by_id, Pledge.kind, Pledge.value_vnd, Pledge.due_on,
                    Fund.code.label("fund_code"))
             .join(Fund, Fund.id == Pledge.fund_id))
    return query.where(within_clause(Fund.area_code, area)) if area else query


def _pledge_event(row) -> AuditEvent:
    parts = [_vnd(row.value_vnd), str(_l("fund %(code)s", code=row.fund_code))]
    if row.due_on:
        parts.append(str(_l("due %(date)s", date=row.due_on.strftime("%d/%m/%Y"))))
    return AuditEvent(row.created_at, row.created_by_id, "pledge", f"P{row.id:06d}", " · ".join(parts), "p",
                      (row.id,), ("pledge_pages.show_pledge", {"pledge_id": row.id}))


def _pledge_cancel_query(area: str | None) -> Select:
    query = (select(PledgeCancellation.pledge_id, PledgeCancellation.cancelled_at, PledgeCancellation.cancelled_by_id,
                    PledgeCancellation.reason)
             .join(Pledge, Pledge.id == PledgeCancellation.pledge_id).join(Fund, Fund.id == Pledge.fund_id))
    return query.where(within_clause(Fund.area_code, area)) if area else query


def _pledge_cancel_event(row) -> AuditEvent:
    return AuditEvent(row.cancelled_at, row.cancelled_by_id, "pledge_cancelled", f"P{row.pledge_id:06d}",
                      str(_l("reason: %(reason)s", reason=row.reason)), "pc", (row.cancelled_at, row.pledge_id),
                      ("pledge_pages.show_pledge", {"pledge_id": row.pledge_id}))


def _actor_in_area(actor_col, area: str | None):
    """Donors belong to no area: an area's viewer sees those its own area's users touched."""
    return actor_col.in_(select(User.id).where(within_clause(User.area_code, area)))


def _donor_query(area: str | None) -> Select:
    query = select(Donor.id, Donor.created_at, Donor.created_by_id, Donor.kind, Donor.name, Donor.public_display)
    return query.where(_actor_in_area(Donor.created_by_id, area)) if area else query


_DONOR_KINDS = {"business": _l("business"), "union": _l("union or association"), "agency": _l("agency"),
                "state": _l("state budget"), "individual": _l("individual")}


def _donor_event(row) -> AuditEvent:
    from ..donors.models import ANONYMOUS_NAME

    name = row.name if row.public_display == "named" else ANONYMOUS_NAME
    return AuditEvent(row.created_at, row.created_by_id, "donor_created", str(_l("donor %(id)s", id=row.id)),
                      f"{_DONOR_KINDS.get(row.kind, row.kind)} · {name}", "d", (row.id,),
                      ("donor_pages.show_donor", {"donor_id": row.id}))


def _fields_changed(changes: dict) -> str:
    names = ", ".join(str(FIELD_LABELS.get(name, name)) for name in changes)
    return str(_l("changed: %(fields)s", fields=names))


def _donor_change_query(area: str | None) -> Select:
    query = select(DonorChange.id, DonorChange.changed_at, DonorChange.changed_by_id, DonorChange.donor_id,
                   DonorChange.changes)
    return query.where(_actor_in_area(DonorChange.changed_by_id, area)) if area else query


def _donor_change_event(row) -> AuditEvent:
    return AuditEvent(row.changed_at, row.changed_by_id, "donor_changed", str(_l("donor %(id)s", id=row.donor_id)),
                      _fields_changed(row.changes), "dc", (row.id,),
                      ("donor_pages.show_donor", {"donor_id": row.donor_id}))


_SUPPORT = {"new_build": _l("new build"), "repair": _l("repair")}


def _household_query(area: str | None) -> Select:
    query = (select(Household.id, Household.created_at, Household.created_by_id, Household.support_type,
                    Household.approved_amount_vnd, Area.name.label("commune"))
             .join(Area, Area.code == Household.commune_code))
    return query.where(within_clause(Household.commune_code, area)) if area else query


def _household_event(row) -> AuditEvent:
    summary = " · ".join([row.commune, str(_SUPPORT.get(row.support_type, row.support_type)),
                          str(_l("approved amount %(amount)s", amount=_vnd(row.approved_amount_vnd)))])
    return AuditEvent(row.created_at, row.created_by_id, "household_created",
                      str(_l("household %(id)s", id=row.id)), summary, "h", (row.id,),
                      ("household_pages.show_household", {"household_id": row.id}))


def _household_change_query(area: str | None) -> Select:
    query = select(HouseholdChange.id, HouseholdChange.changed_at, HouseholdChange.changed_by_id,
                   HouseholdChange.household_id, HouseholdChange.changes)
    if area:
        query = query.join(Household, Household.id == HouseholdChange.household_id).where(
            within_clause(Household.commune_code, area))
    return query


def _household_change_event(row) -> AuditEvent:
    return AuditEvent(row.changed_at, row.changed_by_id, "household_changed",
                      str(_l("household %(id)s", id=row.household_id)), _fields_changed(row.changes), "hc", (row.id,),
                      ("household_pages.show_household", {"household_id": row.household_id}))


def _status_query(area: str | None) -> Select:
    query = select(HouseholdStatusEvent.id, HouseholdStatusEvent.recorded_at, HouseholdStatusEvent.recorded_by_id,
                   HouseholdStatusEvent.household_id, HouseholdStatusEvent.status, HouseholdStatusEvent.on)
    if area:
        query = query.join(Household, Household.id == HouseholdStatusEvent.household_id).where(
            within_clause(Household.commune_code, area))
    return query


def _status_event(row) -> AuditEvent:
    summary = str(_l("%(status)s on %(date)s", status=STATUS_LABELS.get(row.status, row.status),
                     date=row.on.strftime("%d/%m/%Y")))
    return AuditEvent(row.recorded_at, row.recorded_by_id, "household_status",
                      str(_l("household %(id)s", id=row.household_id)), summary, "hs", (row.id,),
                      ("household_pages.show_household", {"household_id": row.household_id}))


def _user_query(area: str | None) -> Select:
    query = select(User.id, User.created_at, User.created_by_id, User.username, User.role, User.area_code)
    return query.where(within_clause(User.area_code, area)) if area else query


def _user_event(row) -> AuditEvent:
    from ..web import role_label

    summary = f"{role_label(row.role)} · {row.area_code or _l('whole country')}"
    return AuditEvent(row.created_at, row.created_by_id, "user_created", row.username, summary, "u", (row.id,),
                      ("user_pages.edit_user", {"user_id": row.id}))


def _user_change_query(area: str | None) -> Select:
    query = (select(UserChange.id, UserChange.changed_at, UserChange.changed_by_id, UserChange.changes,
                    User.username).join(User, User.id == UserChange.user_id))
    return query.where(within_clause(User.area_code, area)) if area else query


def _user_change_event(row) -> AuditEvent:
    return AuditEvent(row.changed_at, row.changed_by_id, "user_changed", row.username,
                      describe_user_change(row.changes), "uc", (row.id,))


def _fund_query(area: str | None) -> Select:
    query = select(Fund.id, Fund.created_at, Fund.created_by_id, Fund.code, Fund.area_code)
    return query.where(within_clause(Fund.area_code, area)) if area else query


def _fund_event(row) -> AuditEvent:
    return AuditEvent(row.created_at, row.created_by_id, "fund_created", row.code,
                      str(_l("area %(code)s", code=row.area_code)), "f", (row.id,))


def _campaign_query(area: str | None) -> Select:
    query = select(Campaign.id, Campaign.created_at, Campaign.created_by_id, Campaign.code, Campaign.area_code)
    return query.where(within_clause(Campaign.area_code, area)) if area else query


def _campaign_event(row) -> AuditEvent:
    return AuditEvent(row.created_at, row.created_by_id, "campaign_created", row.code,
                      str(_l("area %(code)s", code=row.area_code)), "c", (row.id,))


def _approval_sources() -> list[Source]:
    from ..approvals.models import Approval

    kinds = {"allocation": _l("allocation"), "void": _l("void of a contribution"),
             "reversal_allocation": _l("reversal of an allocation"), "reversal_transfer": _l("reversal of a transfer")}

    def requests(area):
        query = select(Approval.id, Approval.requested_at, Approval.requested_by_id, Approval.kind,
                       Approval.value_vnd, Approval.reason)
        return query.where(within_clause(Approval.area_code, area)) if area else query

    def request_event(row):
        parts = [str(kinds.get(row.kind, row.kind))]
        if row.value_vnd is not None:
            parts.append(_vnd(row.value_vnd))
        if row.reason:
            parts.append(str(_l("reason: %(reason)s", reason=row.reason)))
        return AuditEvent(row.requested_at, row.requested_by_id, "approval_requested",
                          str(_l("request %(id)s", id=row.id)), " · ".join(parts), "ar", (row.id,),
                          ("approval_pages.show_approval", {"approval_id": row.id}))

    def decisions(area):
        query = (select(Approval.id, Approval.decided_at, Approval.decided_by_id, Approval.kind, Approval.status,
                        Approval.decision_reason).where(Approval.decided_at.is_not(None)))
        return query.where(within_clause(Approval.area_code, area)) if area else query

    def decision_event(row):
        parts = [str(DECISION_LABELS.get(row.status, row.status)), str(kinds.get(row.kind, row.kind))]
        if row.decision_reason:
            parts.append(str(_l("reason: %(reason)s", reason=row.decision_reason)))
        return AuditEvent(row.decided_at, row.decided_by_id, "approval_decided",
                          str(_l("request %(id)s", id=row.id)), " · ".join(parts), "ad", (row.decided_at, row.id),
                          ("approval_pages.show_approval", {"approval_id": row.id}))

    return [
        Source("ar", ("approval_requested",), requests, Approval.requested_at, Approval.requested_by_id,
               (Approval.id,), request_event),
        Source("ad", ("approval_decided",), decisions, Approval.decided_at, Approval.decided_by_id,
               (Approval.decided_at, Approval.id), decision_event, time_ordered=True),
    ]


def sources() -> list[Source]:
    journal = JournalTransaction
    return [
        Source("j", ("contribution", "void", "allocation", "transfer", "reversal"), _journal_query,
               journal.recorded_at, journal.recorded_by_id, (journal.id,), _journal_event, action_col=journal.kind),
        Source("p", ("pledge",), _pledge_query, Pledge.created_at, Pledge.created_by_id, (Pledge.id,), _pledge_event),
        Source("pc", ("pledge_cancelled",), _pledge_cancel_query, PledgeCancellation.cancelled_at,
               PledgeCancellation.cancelled_by_id, (PledgeCancellation.cancelled_at, PledgeCancellation.pledge_id),
               _pledge_cancel_event, time_ordered=True),
        Source("d", ("donor_created",), _donor_query, Donor.created_at, Donor.created_by_id, (Donor.id,), _donor_event),
        Source("dc", ("donor_changed",), _donor_change_query, DonorChange.changed_at, DonorChange.changed_by_id,
               (DonorChange.id,), _donor_change_event),
        Source("h", ("household_created",), _household_query, Household.created_at, Household.created_by_id,
               (Household.id,), _household_event),
        Source("hc", ("household_changed",), _household_change_query, HouseholdChange.changed_at,
               HouseholdChange.changed_by_id, (HouseholdChange.id,), _household_change_event),
        Source("hs", ("household_status",), _status_query, HouseholdStatusEvent.recorded_at,
               HouseholdStatusEvent.recorded_by_id, (HouseholdStatusEvent.id,), _status_event),
        *_approval_sources(),
        Source("u", ("user_created",), _user_query, User.created_at, User.created_by_id, (User.id,), _user_event),
        Source("uc", ("user_changed",), _user_change_query, UserChange.changed_at, UserChange.changed_by_id,
               (UserChange.id,), _user_change_event),
        Source("f", ("fund_created",), _fund_query, Fund.created_at, Fund.created_by_id, (Fund.id,), _fund_event),
        Source("c", ("campaign_created",), _campaign_query, Campaign.created_at, Campaign.created_by_id,
               (Campaign.id,), _campaign_event),
    ]


# --- the cursor ----------------------------------------------------------------------------
def encode_cursor(positions: dict[str, tuple]) -> str:
    plain = {name: [v.isoformat() if isinstance(v, datetime) else v for v in key] for name, key in positions.items()}
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(text: str | None) -> dict[str, tuple]:
    """The positions a cursor holds; an unreadable cursor is the first page."""
    if not text:
        return {}
    try:
        plain = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        positions = {}
        for name, key in plain.items():
            if not isinstance(name, str) or not isinstance(key, list) or not 1 <= len(key) <= 2:
                return {}
            if len(key) == 2:
                moment = datetime.fromisoformat(key[0])
                if moment.tzinfo is None or not isinstance(key[1], int):
                    return {}
                positions[name] = (moment, key[1])
            elif isinstance(key[0], int):
                positions[name] = (key[0],)
            else:
                return {}
        return positions
    except (ValueError, TypeError, json.JSONDecodeError, UnicodeDecodeError):
        return {}


def _after(source: Source, position: tuple):
    """WHERE: the rows after `position` in the source's newest-first order."""
    if len(source.key) == 1:
        return source.key[0] < position[0]
    moment_col, id_col = source.key
    return (moment_col < position[0]) | ((moment_col == position[0]) & (id_col < position[1]))


# --- the trail -----------------------------------------------------------------------------
def audit_trail(viewer: User, filters: AuditFilters, cursor: str | None = None,
                page_size: int = PAGE_SIZE) -> AuditPage:
    """One page of the trail, newest first, and the cursor of the next (None: the last)."""
    require(viewer, "audit")
    positions = decode_cursor(cursor)
    streams: list[list[AuditEvent]] = []
    for source in sources():
        if filters.action and filters.action not in source.actions:
            continue
        query = source.query(viewer.area_code)
        if filters.action and source.action_col is not None:
            query = query.where(source.action_col == filters.action)
        if filters.user_id is not None:
            query = query.where(source.actor == filters.user_id)
        if filters.date_from is not None:
            query = query.where(source.at >= start_of_day(filters.date_from))
        if filters.date_to is not None:
            query = query.where(source.at < end_of_day(filters.date_to))
        if source.name in positions:
            query = query.where(_after(source, positions[source.name]))
        query = query.order_by(*(col.desc() for col in source.key)).limit(page_size + 1)
        streams.append([source.event(row) for row in db.session.execute(query)])
    fetched = sum(len(stream) for stream in streams)
    # Each stream is in its own key order; merging by the heads keeps what a page takes a
    # prefix of every stream, so the next page resumes exactly after it.
    merged = heapq.merge(*streams, key=lambda e: e.at, reverse=True)
    events = _link_journal_records([event for _, event in zip(range(page_size), merged, strict=False)])
    next_positions = dict(positions)
    for event in events:
        next_positions[event.source] = event.key
    next_cursor = encode_cursor(next_positions) if fetched > page_size else None
    return AuditPage(events, usernames(e.actor_id for e in events), next_cursor, filters)


def audit_users(viewer: User) -> list[tuple[int, str]]:
    """The users the filter offers: (id, "username (display name)")."""
    require(viewer, "audit")
    query = select(User.id, User.username, User.display_name).order_by(User.username)
    if viewer.area_code:
        query = query.where(within_clause(User.area_code, viewer.area_code))
    return [(uid, f"{username} ({name})") for uid, username, name in db.session.execute(query)]
