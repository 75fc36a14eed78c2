"""Maker–checker: what needs a second person's approval, and the approving itself.

The rule, stated once (`needs_approval`): an allocation worth more than
LEDGER_APPROVAL_THRESHOLD_VND (50,000,000 đồng by default; exactly the threshold needs
none), an allocation that overrides a household's approved amount, a void of a
contribution, and a reversal of an allocation or a transfer.

The service functions of those operations (allocate_to_household, void_contribution,
reverse_allocation, reverse_transfer) check the request at once, as far as the ledger
stands, and then either carry it out or return a pending `Approval` that moves nothing.
`approve()` carries the request out then, in one transaction under the ledger lock, with
every rule checked again at that moment; when one fails (the fund no longer holds
enough, a household reached its approved amount, ...) the approval is refused with a 409
and the request stays pending: it can be approved later or rejected. The requester never
decides its own request; a decided request is never decided again.
"""
from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from receipts import words

from ..areas.service import within_clause
from ..auth.models import User
from ..auth.service import can, require_area
from ..database import transactional
from ..extensions import db
from ..journal.quantities import format_units
from ..journal.service import hold_ledger
from ..problems import Conflict, Forbidden, InvalidInput, LedgerError, NotFound
from ..text import clean_text
from ..types import utcnow
from .models import KINDS, STATUSES, Approval

ALWAYS = ("void", "reversal_allocation", "reversal_transfer")  # undoing always takes two people


def approval_threshold_vnd() -> int:
    return int(current_app.config["LEDGER_APPROVAL_THRESHOLD_VND"])


def needs_approval(kind: str, *, value_vnd: int = 0, override: bool = False) -> bool:
    """Does this operation wait for a second user's approval? The maker–checker rule."""
    if kind in ALWAYS:
        return True
    if kind == "allocation":
        return override or value_vnd > approval_threshold_vnd()
    raise ValueError(f"unknown kind of request: {kind!r}")


def may_decide(user: User) -> bool:
    """Approvers and admins decide requests: the roles that may allow an override."""
    return can(user, "override")


def request_approval(user: User, kind: str, request: dict, *, area_code: str, value_vnd: int | None = None,
                     reason: str | None = None, record_id: int | None = None) -> Approval:
    """Leave a checked request waiting for approval (in the caller's transaction, which holds
    the ledger lock). A void or reversal already waiting is not asked for twice."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of request: {kind!r}")
    if record_id is not None:
        waiting = db.session.scalar(select(Approval.id).where(
            Approval.kind == kind, Approval.record_id == record_id, Approval.status == "pending"))
        if waiting is not None:
            raise Conflict(_l("This is already waiting for approval (request %(id)s).", id=waiting),
                           approval_id=waiting)
    approval = Approval(kind=kind, status="pending", request=request, value_vnd=value_vnd,
                        reason=clean_text(reason) if reason else None, area_code=area_code,
                        record_id=record_id, requested_by_id=user.id, requested_at=utcnow())
    db.session.add(approval)
    db.session.flush()
    return approval


def get_approval(user: User, approval_id: int) -> Approval:
    """A request the user may see: one of its area or below."""
    approval = db.session.get(Approval, approval_id)
    if approval is None:
        raise NotFound(_l("Unknown approval request %(id)s.", id=approval_id))
    require_area(user, approval.area_code)
    return approval


def _decidable(user: User, approval_id: int) -> Approval:
    if not may_decide(user):
        raise Forbidden(_l("Your role (%(role)s) may not approve or reject requests.", role=user.role))
    approval = get_approval(user, approval_id)
    if approval.requested_by_id == user.id:
        raise Forbidden(_l("You made this request: another approver must decide it."))
    if not approval.is_pending:
        raise Conflict(_l("This request was already decided (%(status)s).", status=status_label(approval.status)),
                       approval_status=approval.status)
    return approval


@transactional
def approve(user: User, approval_id: int) -> Approval:
    """Approve a pending request: carry it out now, every rule checked again, in this one
    transaction. If a rule refuses it now, nothing changes (409) and it stays pending."""
    hold_ledger()  # first: two approvers at once wait for each other, the second sees it decided
    approval = _decidable(user, approval_id)
    try:
        record, txn = _carry_out(approval, user)
    except LedgerError as err:
        raise Conflict(_l("It cannot be carried out now: %(why)s The request stays pending: approve it later "
                          "or reject it.", why=err.detail),
                       errors=err.errors, approval_id=approval.id, **err.extra) from err
    approval.status = "approved"
    approval.decided_by_id, approval.decided_at = user.id, utcnow()
    approval.record_id, approval.txn = record.id, txn
    db.session.flush()
    db.session.expire(approval, ["decided_by"])  # loaded again by its new id
    return approval


def _carry_out(approval: Approval, approver: User):
    """(record, journal transaction) of the request, made now in the requester's name."""
    requester, request = approval.requested_by, approval.request
    if approval.kind == "allocation":
        from ..allocations.service import carry_out_allocation

        return carry_out_allocation(requester, request, approver)
    if approval.kind == "reversal_allocation":
        from ..allocations.service import carry_out_allocation_reversal

        return carry_out_allocation_reversal(requester, request["allocation_id"], request["reason"])
    if approval.kind == "void":
        from ..contributions.service import carry_out_void

        return carry_out_void(requester, request["contribution_id"], request["reason"])
    from ..funds.service import carry_out_transfer_reversal

    return carry_out_transfer_reversal(requester, request["fund_id"], request["transfer_id"], request["reason"])


@transactional
def reject(user: User, approval_id: int, reason: str) -> Approval:
    """Reject a pending request, with a reason: it will never move anything."""
    hold_ledger()
    approval = _decidable(user, approval_id)
    reason = clean_text(reason or "")
    if not reason:
        raise InvalidInput(_l("Say why the request is rejected."), errors={"reason": [_l("Required.")]})
    approval.status = "rejected"
    approval.decided_by_id, approval.decided_at = user.id, utcnow()
    approval.decision_reason = reason
    db.session.flush()
    db.session.expire(approval, ["decided_by"])
    return approval


def list_approvals(user: User, status: str | None = None, kind: str | None = None):
    """The requests of the user's area and below, newest first; `status` and `kind` filter."""
    query = select(Approval).order_by(Approval.id.desc())
    if user.area_code:
        query = query.where(within_clause(Approval.area_code, user.area_code))
    if status is not None:
        if status not in STATUSES:
            raise InvalidInput(_l("Unknown status."), errors={"status": [", ".join(STATUSES)]})
        query = query.where(Approval.status == status)
    if kind is not None:
        query = query.where(Approval.kind == kind)
    return query


def count_pending(user: User) -> int:
    """How many requests wait, for the dashboard: for an approver or admin, those it may
    decide (of its area, made by someone else); for others, all waiting in its area."""
    query = list_approvals(user, "pending").order_by(None)
    if may_decide(user):
        query = query.where(Approval.requested_by_id != user.id)
    return db.session.scalar(select(func.count()).select_from(query.subquery()))


def may_decide_this(user: User, approval: Approval) -> bool:
    """Would approve/reject be offered to this user for this request?"""
    return approval.is_pending and may_decide(user) and approval.requested_by_id != user.id


# --- the request in words, in the reader's language -------------------------------------------

_STATUS_LABELS = {"pending": _l("Waiting for approval"), "approved": _l("Approved"), "rejected": _l("Rejected")}
_KIND_LABELS = {
    "allocation": _l("Allocation"),
    "void": _l("Void of a contribution"),
    "reversal_allocation": _l("Reversal of an allocation"),
    "reversal_transfer": _l("Reversal of a transfer"),
}


def status_label(status: str) -> str:
    return str(_STATUS_LABELS[status])


def kind_label(kind: str) -> str:
    return str(_KIND_LABELS[kind])


def money(vnd: int) -> str:
    """1500000 -> "1.500.000 ₫", as every page writes it."""
    return words.format_vnd(vnd)


def _quantity(units: int, kind: str) -> str:
    """12500 thousandths -> "12,5"."""
    return words.format_decimal(format_units(units, kind))


def _resource_words(kind: str, data: dict) -> str:
    """What moves: "1.500.000 ₫", "2,5 tấm Tôn lợp", "3 ngày công"."""
    if kind == "cash":
        return money(data["amount_vnd"])
    if kind == "material":
        return str(_l("%(quantity)s %(unit)s of %(item)s", quantity=_quantity(data["quantity"], "material"),
                      unit=data["unit"], item=data["item"]))
    return str(_l("%(days)s person-days of labour", days=_quantity(data["person_days"], "labour")))


def _recorded_resource(record) -> str:
    from ..journal.service import commodity_label

    if record.kind == "cash":
        return money(record.units)
    label = commodity_label(record.commodity)
    data = {"quantity": record.units, "person_days": record.units, "unit": label.get("unit"), "item": label.get("item")}
    return _resource_words(record.kind, data)


def _household_words(household) -> str:
    from ..areas.models import Area

    commune = db.session.get(Area, household.commune_code)
    return str(_l("the household of %(name)s (%(commune)s)", name=household.head_name,
                  commune=commune.name if commune else household.commune_code))


def summary_of(approval: Approval) -> str:
    """What the request would do, in words, in the reader's language (Vietnamese first)."""
    request = approval.request
    if approval.kind == "allocation":
        from ..funds.models import Fund
        from ..households.models import Household

        fund = db.session.get(Fund, request["fund_id"])
        household = db.session.get(Household, request["household_id"])
        text = _l("Allocate %(what)s from fund %(fund)s to %(household)s.",
                  what=_resource_words(request["kind"], request), fund=fund.code,
                  household=_household_words(household))
        if request.get("source_contribution_id"):
            from ..contributions.models import Contribution

            source = db.session.get(Contribution, request["source_contribution_id"])
            text = _l("%(text)s Drawn from contribution %(receipt)s.", text=text, receipt=source.receipt_number)
        return str(text)
    if approval.kind == "void":
        from ..contributions.models import Contribution

        c = db.session.get(Contribution, request["contribution_id"])
        return str(_l("Void contribution %(receipt)s: %(what)s from %(donor)s, received on %(date)s into fund "
                      "%(fund)s.", receipt=c.receipt_number, what=_recorded_resource(c),
                      donor=c.donor.display_name if c.donor else _l("an anonymous donor"),
                      date=words.format_date(c.received_on.isoformat()), fund=c.fund.code))
    if approval.kind == "reversal_allocation":
        from ..allocations.models import Allocation

        a = db.session.get(Allocation, request["allocation_id"])
        return str(_l("Reverse allocation %(id)s: %(what)s from fund %(fund)s to %(household)s.",
                      id=a.id, what=_recorded_resource(a), fund=a.fund.code,
                      household=_household_words(a.household)))
    from ..funds.models import Transfer

    t = db.session.get(Transfer, request["transfer_id"])
    return str(_l("Reverse transfer %(id)s: %(what)s from fund %(source)s to fund %(target)s.",
                  id=t.id, what=_recorded_resource(t), source=t.from_fund.code, target=t.to_fund.code))


def why_needed(approval: Approval) -> list[str]:
    """Why the request waits for a second person."""
    if approval.kind in ALWAYS:
        return [str(_l("Voids and reversals are always approved by a second person."))]
    reasons = []
    if approval.request.get("override_reason"):
        reasons.append(str(_l("It takes the household past its approved amount (an override).")))
    if (approval.value_vnd or 0) > approval_threshold_vnd():
        reasons.append(str(_l("It is worth %(value)s, more than %(threshold)s.", value=money(approval.value_vnd),
                              threshold=money(approval_threshold_vnd()))))
    return reasons
