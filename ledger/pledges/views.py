"""Staff pages of pledges: record one, a campaign's pledges with their derived status, and
cancelling with a reason."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import SelectField, StringField, TextAreaField

from ..extensions import db
from ..journal.schemas import ReasonIn
from ..web import staff, staff_page
from ..web.form_input import ReasonForm, id_input, init_record_pages, page_number, submit
from ..web.record_forms import ResourceForm, campaign_choices, choose_donor, fund_choices, pledge_choices
from ..web.vocabulary import options
from . import service
from .schemas import PledgeIn

bp = Blueprint("pledge_pages", __name__)
init_record_pages(bp)

PER_PAGE = 50


class PledgeForm(ResourceForm):
    campaign_id = SelectField(_l("Campaign"))
    fund_id = SelectField(_l("Fund"))
    donor_q = StringField(_l("Find a donor"))
    donor_id = SelectField(_l("Donor"))
    due_on = StringField(_l("Due date"))
    earmark_area_code = StringField(_l("Earmarked for an area (code)"))
    earmark_household_id = StringField(_l("Earmarked for a household (number)"))
    note = TextAreaField(_l("Note"))

    dates = ("due_on",)
    ids = ("campaign_id", "fund_id", "donor_id", "earmark_household_id")


def pledge_form(user) -> PledgeForm:
    if request.method == "GET":
        form = PledgeForm(data={name: request.args.get(name, "") for name in ("donor_id", "donor_q")})
    else:
        form = PledgeForm()
    form.campaign_id.choices = options(campaign_choices())
    form.fund_id.choices = options(fund_choices(user))
    choose_donor(form, _l("— choose —"))
    return form


@bp.route("/pledges/new", methods=["GET", "POST"])
@staff_page("record")
def new_pledge():
    user = staff()
    form = pledge_form(user)
    status = 200
    if request.method == "POST":
        names = [*form.resource_names(priced=True), "campaign_id", "fund_id", "donor_id", "due_on",
                 "earmark_area_code", "earmark_household_id", "note"]
        data = form.load(PledgeIn(), names)
        status = 422 if data is None else submit(form, lambda: _created(data), done=_l("Pledge recorded."))
        if not isinstance(status, int):
            return status
    return render_template("records/pledge_form.html", form=form), status


def _created(data) -> tuple[str, str]:
    pledge = service.create_pledge(staff(), data)
    return url_for("pledge_pages.show_pledge", pledge_id=pledge.id), "recorded"


@bp.get("/pledges")
@staff_page()
def list_pledges():
    """A campaign's pledges (the latest campaign by default), each with its derived status."""
    from ..campaigns.models import Campaign

    campaigns = campaign_choices()
    campaign_id = id_input(request.args.get("campaign_id", "")) or (int(campaigns[0][0]) if campaigns else None)
    q = request.args.get("q", "").strip()
    filters = {"campaign_id": campaign_id if isinstance(campaign_id, int) else -1, "q": q or None}
    page = db.paginate(service.list_pledges(staff(), filters), page=page_number(), per_page=PER_PAGE,
                       error_out=False)
    rows = [(pledge, service.pledge_status(pledge)) for pledge in page.items]
    campaign = db.session.get(Campaign, campaign_id) if isinstance(campaign_id, int) else None
    return render_template("records/pledges.html", page=page, rows=rows, campaigns=campaigns, campaign=campaign,
                           q=q)


def _pledge_page(pledge, reason_form=None, status=200):
    from ..contributions.models import Contribution
    from ..journal.quantities import format_units

    fulfilling = db.session.scalars(select(Contribution).where(Contribution.pledge_id == pledge.id)
                                    .order_by(Contribution.id)).unique().all()
    status_now = service.pledge_status(pledge)
    return render_template(
        "records/pledge.html", pledge=pledge, status=status_now, contributions=fulfilling,
        fulfilled=format_units(service.fulfilled_units(pledge), pledge.kind),
        payment=None if status_now == "cancelled" else _payment(pledge),
        reason_form=reason_form or ReasonForm(formdata=None)), status


def _payment(pledge) -> dict:
    from ..funds.service import pledge_payment_code
    from ..funds.views import payment_view

    return payment_view(lambda: pledge_payment_code(pledge))


@bp.get("/pledges/<int:pledge_id>")
@staff_page()
def show_pledge(pledge_id):
    pledge = service.get_pledge(pledge_id, seen_by=staff())
    return _pledge_page(pledge)


@bp.get("/pledges/<int:pledge_id>/qr")
@staff_page()
def print_pledge_qr(pledge_id):
    """The pledge's VietQR code alone on a page, to print or send to the donor."""
    pledge = service.get_pledge(pledge_id, seen_by=staff())
    return render_template("records/vietqr_print.html", subject=_l("Pledge %(code)s", code=pledge.code),
                           heading=f"{pledge.fund.name} ({pledge.fund.code})", payment=_payment(pledge),
                           back=url_for("pledge_pages.show_pledge", pledge_id=pledge.id))


@bp.post("/pledges/<int:pledge_id>/cancel")
@staff_page("record")
def cancel_pledge(pledge_id):
    pledge = service.get_pledge(pledge_id, seen_by=staff())  # before its page shows
    form = ReasonForm()
    data = form.load(ReasonIn(), ["reason"])
    status = 422 if data is None else submit(
        form, lambda: _cancelled(pledge_id, data["reason"]), done=_l("Pledge cancelled."))
    if not isinstance(status, int):
        return status
    db.session.expire_all()
    return _pledge_page(service.get_pledge(pledge.id), form, status)


def _cancelled(pledge_id, reason) -> tuple[str, str]:
    service.cancel_pledge(staff(), pledge_id, reason)
    return url_for("pledge_pages.show_pledge", pledge_id=pledge_id), "cancelled"


@bp.get("/pledges/for-donor")
@staff_page()
def pledges_for_donor():
    """The contribution form's pledge list for the chosen donor, as JSON: [{id, label}]."""
    donor_id = id_input(request.args.get("donor_id", ""))
    options = pledge_choices(staff(), donor_id)
    return jsonify([{"id": value, "label": str(label)} for value, label in options if value])

