"""Staff pages of allocations: the form (household, amount or quantity, the fund's pool or a
named contribution, the fund's available balance and the household's remaining need shown
live), the list, one allocation's page with its lines and reversal; transfers' pages and
their reversal."""
from __future__ import annotations

import re

from flask import Blueprint, jsonify, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import RadioField, SelectField, StringField, TextAreaField

from ..areas.service import within_clause
from ..auth.service import require_area
from ..extensions import db
from ..funds.models import Fund, Transfer
from ..journal.schemas import ReasonIn
from ..problems import LedgerError
from ..web import staff, staff_page
from ..web.form_input import (
    ReasonForm,
    id_input,
    init_record_pages,
    is_pending,
    page_number,
    submit,
    waiting_requests,
)
from ..web.record_forms import ResourceForm, fund_choices, household_choices
from ..web.vocabulary import options
from . import service
from .availability import fund_availability
from .models import Allocation
from .schemas import AllocationIn

bp = Blueprint("allocation_pages", __name__)
init_record_pages(bp)

PER_PAGE = 50
_CONTRIBUTION_ID = re.compile(r"[0-9]{1,18}")


class AllocationForm(ResourceForm):
    household_id = SelectField(_l("Household"))
    fund_id = SelectField(_l("From fund"))
    source = RadioField(_l("Drawn from"), choices=options([("pool", _l("The fund's pool, oldest first")),
                                                           ("named", _l("One named contribution"))]), default="pool")
    source_contribution = StringField(_l("Receipt number of the contribution"))
    override_reason = TextAreaField(_l("Reason to go past the approved amount"))
    note = TextAreaField(_l("Note"))

    ids = ("household_id", "fund_id")
    aliases = {"source_contribution_id": "source_contribution"}


def allocation_form(user) -> AllocationForm:
    if request.method == "GET":
        form = AllocationForm(data={"household_id": request.args.get("household_id", ""),
                                    "fund_id": request.args.get("fund_id", "")})
    else:
        form = AllocationForm()
    form.household_id.choices = options(household_choices(user, id_input(form.household_id.data)))
    funds = fund_choices(user)
    form.fund_id.choices = options(funds)
    if request.method == "GET" and not form.fund_id.data and funds:
        form.fund_id.data = funds[0][0]  # what the select shows first: the panel shows that fund
    return form


def _named_source(form) -> int | None:
    """The contribution a named source gives, by receipt number (or id); None for the pool.
    A wrong one is said on the field."""
    from ..contributions.service import get_by_receipt_number

    if form.source.data != "named":
        return None
    text = (form.source_contribution.data or "").strip()
    if not text:
        form.attach("source_contribution", [str(_l("Fill in this field."))])
        return None
    if _CONTRIBUTION_ID.fullmatch(text):
        return int(text)
    try:
        return get_by_receipt_number(text).id
    except LedgerError as err:
        form.attach("source_contribution", [str(err.detail)])
        return None


@bp.route("/allocations/new", methods=["GET", "POST"])
@staff_page("record")
def new_allocation():
    user = staff()
    form = allocation_form(user)
    status = 200
    if request.method == "POST":
        source_id = _named_source(form)
        names = [*form.resource_names(priced=False), "fund_id", "household_id", "override_reason", "note"]
        data = form.load(AllocationIn(), names, extra={"source_contribution_id": source_id} if source_id else None)
        if data is None or form.source_contribution.errors:
            status = 422
        else:
            where = {
                "Not enough available: %(wanted)s asked, %(available)s available for this use.":
                    (form.quantity_field(),),
                "This would take the household to %(after)s đồng, over its approved %(approved)s đồng. "
                "An override needs a reason.": ("override_reason",),
                "Your role (%(role)s) may not allocate past the approved amount.": ("override_reason",),
                "Contribution %(receipt)s is earmarked for another use.": ("source_contribution",),
                "This is outside your area (%(area)s).": (),
            }
            status = submit(form, lambda: _allocated(data), done=_l("Allocation recorded."), where=where)
            if not isinstance(status, int):
                return status
    return render_template("records/allocation_form.html", form=form, **_context(form)), status


def _allocated(data) -> tuple[str, str]:
    result = service.allocate_to_household(staff(), data)
    if is_pending(result):
        return url_for("household_pages.show_household", household_id=data["household_id"]), "pending"
    return url_for("allocation_pages.show_allocation", allocation_id=result.id), "recorded"


def _context(form) -> dict:
    return availability_context(id_input(form.fund_id.data), id_input(form.household_id.data))


def availability_context(fund_id, household_id) -> dict:
    """The live panel's content: the fund's holdings and what may go to the household, and
    the household's need. Ids outside the user's area or unknown are left out."""
    from ..households.models import Household
    from ..households.service import funding_composition

    user = staff()
    fund = db.session.get(Fund, fund_id) if isinstance(fund_id, int) else None
    household = db.session.get(Household, household_id) if isinstance(household_id, int) else None
    if fund is not None and not _mine(user, fund.area_code):
        fund = None
    if household is not None and not _mine(user, household.commune_code):
        household = None
    return {"fund": fund, "household": household,
            "holdings": fund_availability(fund, household) if fund is not None else [],
            "funding": funding_composition(household) if household is not None else None}


def _mine(user, area_code) -> bool:
    from ..areas.service import is_within

    return user.area_code is None or is_within(area_code, user.area_code)


@bp.get("/allocations/availability")
@staff_page()
def availability():
    """JSON for allocations.js: the panel (as HTML rendered by the page's own template) and
    the figures in it."""
    context = availability_context(id_input(request.args.get("fund_id", "")),
                                   id_input(request.args.get("household_id", "")))
    funding = context["funding"]
    return jsonify({
        "html": render_template("records/_availability.html", **context),
        "fund_id": context["fund"].id if context["fund"] else None,
        "household_id": context["household"].id if context["household"] else None,
        "available": [{"kind": h["kind"], "commodity": h["commodity"], **{
            k: v for k, v in h["available"].items() if k != "kind"}} for h in context["holdings"]],
        "remaining_need_vnd": funding["remaining_need_vnd"] if funding else None,
    })


@bp.get("/allocations")
@staff_page()
def list_allocations():
    user = staff()
    filters = {"household_id": id_input(request.args.get("household_id", "")) or None}
    if not isinstance(filters["household_id"], int):
        filters["household_id"] = None
    query = service.list_allocations(user, filters).order_by(None).order_by(Allocation.id.desc())
    page = db.paginate(query, page=page_number(), per_page=PER_PAGE, error_out=False)
    transfers = db.session.scalars(_transfers(user).limit(20)).unique().all()
    return render_template("records/allocations.html", page=page, transfers=transfers)


def _transfers(user):
    """Transfers from or to a fund of the user's area, newest first."""
    query = select(Transfer).order_by(Transfer.id.desc())
    if user.area_code:
        mine = select(Fund.id).where(within_clause(Fund.area_code, user.area_code))
        query = query.where(Transfer.from_fund_id.in_(mine) | Transfer.to_fund_id.in_(mine))
    return query


def _allocation_page(allocation, reason_form=None, status=200):
    from ..journal.schemas import dump_lines
    from ..journal.service import reversal_of

    return render_template("records/allocation.html", a=allocation, lines=dump_lines(allocation),
                           reversal=reversal_of(allocation.txn_id),
                           reason_form=reason_form or ReasonForm(formdata=None),
                           waiting=waiting_requests("reversal_allocation", record_id=allocation.id)), status


def _allocation(allocation_id):
    allocation = service.get_allocation(allocation_id)
    require_area(staff(), allocation.fund.area_code)
    return allocation


@bp.get("/allocations/<int:allocation_id>")
@staff_page()
def show_allocation(allocation_id):
    return _allocation_page(_allocation(allocation_id))


@bp.post("/allocations/<int:allocation_id>/reverse")
@staff_page("record")
def reverse_allocation(allocation_id):
    allocation = _allocation(allocation_id)
    form = ReasonForm()
    data = form.load(ReasonIn(), ["reason"])
    status = 422 if data is None else submit(
        form, lambda: _reversed(allocation_id, data["reason"]),
        done=_l("Allocation reversed: its resources are back in the fund."))
    if not isinstance(status, int):
        return status
    db.session.expire_all()
    return _allocation_page(service.get_allocation(allocation.id), form, status)


def _reversed(allocation_id, reason) -> tuple[str, str]:
    result = service.reverse_allocation(staff(), allocation_id, reason)
    location = url_for("allocation_pages.show_allocation", allocation_id=allocation_id)
    return location, "pending" if is_pending(result) else "reversed"


# --- transfers between funds -------------------------------------------------------------
def _transfer(transfer_id):
    from ..funds.service import get_transfer

    transfer = get_transfer(transfer_id)
    if not _mine(staff(), transfer.to_fund.area_code):  # the receiving fund's staff see it too
        require_area(staff(), transfer.from_fund.area_code)
    return transfer


def _transfer_page(transfer, reason_form=None, status=200):
    from ..journal.schemas import dump_lines
    from ..journal.service import reversal_of

    return render_template("records/transfer.html", t=transfer, lines=dump_lines(transfer),
                           reversal=reversal_of(transfer.txn_id),
                           reason_form=reason_form or ReasonForm(formdata=None),
                           waiting=waiting_requests("reversal_transfer", record_id=transfer.id),
                           may_reverse=_mine(staff(), transfer.from_fund.area_code)), status


@bp.get("/transfers/<int:transfer_id>")
@staff_page()
def show_transfer(transfer_id):
    return _transfer_page(_transfer(transfer_id))


@bp.post("/transfers/<int:transfer_id>/reverse")
@staff_page("record")
def reverse_transfer(transfer_id):
    transfer = _transfer(transfer_id)
    form = ReasonForm()
    data = form.load(ReasonIn(), ["reason"])
    status = 422 if data is None else submit(
        form, lambda: _transfer_reversed(transfer.from_fund_id, transfer_id, data["reason"]),
        done=_l("Transfer reversed: its resources are back in the fund they came from."))
    if not isinstance(status, int):
        return status
    db.session.expire_all()
    return _transfer_page(_transfer(transfer_id), form, status)


def _transfer_reversed(fund_id, transfer_id, reason) -> tuple[str, str]:
    from ..funds.service import reverse_transfer as reverse

    result = reverse(staff(), fund_id, transfer_id, reason)
    location = url_for("allocation_pages.show_transfer", transfer_id=transfer_id)
    return location, "pending" if is_pending(result) else "reversed"
