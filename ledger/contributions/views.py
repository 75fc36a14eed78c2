"""Staff pages of contributions: the form for cash, materials and labour, which ends on the
receipt (print, download, public verification link); the list; voiding with a reason."""
from __future__ import annotations

from flask import Blueprint, Response, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError
from sqlalchemy import select
from wtforms import SelectField, StringField, TextAreaField

from ..extensions import db
from ..fields import today_in_vietnam
from ..journal.schemas import ReasonIn
from ..web import staff, staff_page
from ..web.form_input import (
    ReasonForm,
    date_input,
    id_input,
    init_record_pages,
    is_pending,
    page_number,
    page_text,
    show_date,
    submit,
    waiting_requests,
)
from ..web.record_forms import ResourceForm, campaign_choices, choose_donor, fund_choices, pledge_choices
from ..web.vocabulary import METHODS, choices, options
from . import service
from .models import METHODS_BY_KIND, Contribution
from .schemas import ContributionIn, ContributionQuery

bp = Blueprint("contribution_pages", __name__)
init_record_pages(bp)

PER_PAGE = 50
FIELDS = ("campaign_id", "fund_id", "donor_id", "pledge_id", "method", "received_on", "bank_reference", "memo",
          "earmark_area_code", "earmark_household_id")


class ContributionForm(ResourceForm):
    campaign_id = SelectField(_l("Campaign"))
    fund_id = SelectField(_l("Into fund"))
    donor_q = StringField(_l("Find a donor"))
    donor_id = SelectField(_l("Donor"))
    pledge_id = SelectField(_l("Fulfils a pledge of this donor"))
    received_on = StringField(_l("Received on"))
    method = SelectField(_l("Method"), choices=choices(METHODS))
    bank_reference = StringField(_l("Bank reference"))
    memo = TextAreaField(_l("Memo (private)"))
    earmark_area_code = StringField(_l("Earmarked for an area (code)"))
    earmark_household_id = StringField(_l("Earmarked for a household (number)"))

    dates = ("received_on",)
    ids = ("campaign_id", "fund_id", "donor_id", "pledge_id", "earmark_household_id")


def contribution_form(user) -> ContributionForm:
    if request.method == "GET":
        defaults = {"received_on": show_date(today_in_vietnam()), "donor_id": request.args.get("donor_id", ""),
                    "pledge_id": request.args.get("pledge_id", ""), "donor_q": request.args.get("donor_q", "")}
        form = ContributionForm(data=defaults)
    else:
        form = ContributionForm()
    form.campaign_id.choices = options(campaign_choices())
    form.fund_id.choices = options(fund_choices(user))
    choose_donor(form, _l("Anonymous: no donor recorded"))
    pledges = pledge_choices(user, id_input(form.donor_id.data), id_input(form.pledge_id.data))
    form.pledge_id.choices = options(pledges)
    if request.method == "GET" and form.pledge_id.data:
        _follow_pledge(form)
    return form


def _follow_pledge(form) -> None:
    """A contribution for a pledge starts as the pledge: its campaign, fund and kind."""
    from ..pledges.models import Pledge

    pledge = db.session.get(Pledge, id_input(form.pledge_id.data) or 0)
    if pledge is not None:
        form.campaign_id.data, form.fund_id.data = str(pledge.campaign_id), str(pledge.fund_id)
        form.kind.data = pledge.kind
        if pledge.kind == "material":
            from ..journal.service import commodity_label

            label = commodity_label(pledge.commodity)
            form.item.data, form.unit.data = label["item"], label["unit"]


@bp.route("/contributions/new", methods=["GET", "POST"])
@staff_page("record")
def new_contribution():
    user = staff()
    form = contribution_form(user)
    status = 200
    if request.method == "POST":
        methods = METHODS_BY_KIND.get(form.kind.data, ())
        if len(methods) == 1:  # materials come in kind, labour as labour: nothing to choose
            form.method.data = methods[0]
        data = form.load(ContributionIn(), [*form.resource_names(priced=True), *FIELDS])
        status = 422 if data is None else submit(
            form, lambda: _recorded(data), done=_l("Contribution recorded. Its receipt is below."),
            where={"Unknown household %(id)s.": ("earmark_household_id",)})
        if not isinstance(status, int):
            return status
    return render_template("records/contribution_form.html", form=form), status


def _recorded(data) -> tuple[str, str]:
    contribution = service.record_contribution(staff(), data)
    return url_for("contribution_pages.show_contribution", contribution_id=contribution.id), "recorded"


@bp.get("/contributions")
@staff_page()
def list_contributions():
    args = {k: v for k, v in request.args.items() if v.strip() and k in ("q", "kind", "received_from", "received_to")}
    for name in ("received_from", "received_to"):
        if name in args:
            args[name] = date_input(args[name])
    problems = []
    try:
        filters = ContributionQuery().load(args)
    except ValidationError as exc:
        problems = [page_text(m) for messages in exc.messages.values() for m in messages]
        filters = {}
    query = service.list_contributions(staff(), filters).order_by(None).order_by(
        Contribution.received_on.desc(), Contribution.id.desc())
    page = db.paginate(query, page=page_number(), per_page=PER_PAGE, error_out=False)
    return render_template("records/contributions.html", page=page, problems=problems, args=request.args)


def _contribution_page(contribution, reason_form=None, status=200):
    from ..allocations.models import Allocation, AllocationLine
    from ..funds.models import Transfer, TransferLine
    from ..journal.service import reversal_of
    from ..receipts.service import url_of

    receipt = contribution.receipt
    allocations = db.session.execute(
        select(Allocation, AllocationLine).join(AllocationLine, AllocationLine.allocation_id == Allocation.id)
        .where(AllocationLine.contribution_id == contribution.id).order_by(Allocation.id)).unique().all()
    transfers = db.session.execute(
        select(Transfer, TransferLine).join(TransferLine, TransferLine.transfer_id == Transfer.id)
        .where(TransferLine.contribution_id == contribution.id).order_by(Transfer.id)).unique().all()
    void = reversal_of(contribution.txn_id)
    return render_template(
        "records/contribution.html", c=contribution, receipt=receipt,
        verify_url=url_of(receipt) if receipt is not None else None, void=void,
        allocations=allocations, transfers=transfers, reason_form=reason_form or ReasonForm(formdata=None),
        waiting=waiting_requests("void", record_id=contribution.id)), status


@bp.get("/contributions/<int:contribution_id>")
@staff_page()
def show_contribution(contribution_id):
    contribution = service.get_contribution(contribution_id, seen_by=staff())
    return _contribution_page(contribution)


@bp.get("/contributions/<int:contribution_id>/receipt.pdf")
@staff_page()
def download_receipt(contribution_id):
    """The receipt's PDF as a file to keep (the public PDF link opens it in the browser)."""
    from ..receipts.service import receipt_pdf

    contribution = service.get_contribution(contribution_id, seen_by=staff())
    resp = Response(receipt_pdf(contribution.receipt_number), mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'attachment; filename="{contribution.receipt_number}.pdf"'
    return resp


@bp.post("/contributions/<int:contribution_id>/void")
@staff_page("record")
def void_contribution(contribution_id):
    contribution = service.get_contribution(contribution_id, seen_by=staff())  # before its page shows
    form = ReasonForm()
    data = form.load(ReasonIn(), ["reason"])
    status = 422 if data is None else submit(
        form, lambda: _voided(contribution_id, data["reason"]),
        done=_l("Contribution voided. Its receipt now says VOIDED and still verifies."))
    if not isinstance(status, int):
        return status
    db.session.expire_all()
    return _contribution_page(service.get_contribution(contribution.id), form, status)


def _voided(contribution_id, reason) -> tuple[str, str]:
    result = service.void_contribution(staff(), contribution_id, reason)
    location = url_for("contribution_pages.show_contribution", contribution_id=contribution_id)
    return location, "pending" if is_pending(result) else "voided"
