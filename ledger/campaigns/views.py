"""Admin pages: campaigns and funds (the admin's part of the staff application; areas are
loaded by `flask ledger areas import` and legacy ones added with `ledger areas add`)."""
from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField

from ..extensions import db
from ..funds import service as funds
from ..funds.schemas import FundIn
from ..problems import LedgerError
from ..web import staff, staff_page
from ..web.form_input import RecordForm, init_record_pages, submit
from ..web.vocabulary import options
from . import service
from .schemas import CampaignIn

bp = Blueprint("admin_pages", __name__)
# An unknown area code is the form's mistake: shown at its field, answered 422, not 404.
UNKNOWN_AREA = {"Unknown area code %(code)s.": ("area_code",)}
init_record_pages(bp)


class CampaignForm(RecordForm):
    code = StringField(_l("Code"))
    name = StringField(_l("Name"))
    area_code = StringField(_l("Area code"))
    starts_on = StringField(_l("Starts on"))
    ends_on = StringField(_l("Ends on"))
    norm_new_build_vnd = StringField(_l("Norm for a new house (đồng)"))
    norm_repair_vnd = StringField(_l("Norm for a repair (đồng)"))

    dates = ("starts_on", "ends_on")
    money = ("norm_new_build_vnd", "norm_repair_vnd")


class FundForm(RecordForm):
    code = StringField(_l("Code"))
    name = StringField(_l("Name"))
    area_code = StringField(_l("Area code"))
    parent_fund_id = SelectField(_l("Parent fund"))

    ids = ("parent_fund_id",)


def _fund_choices(user):
    return [("", _l("— none —"))] + [(str(f.id), f"{f.name} ({f.code})")
                                      for f in db.session.scalars(funds.list_funds(user))]


@bp.route("/campaigns", methods=["GET", "POST"])
@staff_page()
def campaigns():
    form = CampaignForm(data={"norm_new_build_vnd": "60.000.000", "norm_repair_vnd": "30.000.000"}
                        if request.method == "GET" else None)
    status = 200
    if request.method == "POST":
        if not staff_may_manage():
            return render_template("staff/forbidden.html"), 403
        data = form.load(CampaignIn(), ["code", "name", "area_code", "starts_on", "ends_on",
                                        "norm_new_build_vnd", "norm_repair_vnd"], blank_is_none=("ends_on",))
        status = 422 if data is None else submit(form, lambda: _campaign_created(data), done=_l("Campaign created."),
                                                 where=UNKNOWN_AREA)
        if not isinstance(status, int):
            return status
    return render_template("staff/admin/campaigns.html", form=form,
                           campaigns=db.session.scalars(service.list_campaigns()).all()), _form_status(status)


def _campaign_created(data) -> tuple[str, str]:
    service.create_campaign(staff(), **data)
    return url_for("admin_pages.campaigns"), "created"


@bp.route("/funds", methods=["GET", "POST"])
@staff_page()
def funds_page():
    user = staff()
    form = FundForm()
    form.parent_fund_id.choices = options(_fund_choices(user))
    status = 200
    if request.method == "POST":
        if not staff_may_manage():
            return render_template("staff/forbidden.html"), 403
        data = form.load(FundIn(), ["code", "name", "area_code", "parent_fund_id"], blank_is_none=("parent_fund_id",))
        status = 422 if data is None else submit(form, lambda: _fund_created(data), done=_l("Fund created."),
                                                 where=UNKNOWN_AREA)
        if not isinstance(status, int):
            return status
    return render_template("staff/admin/funds.html", form=form,
                           funds=[(f, funds.balances(f)) for f in db.session.scalars(funds.list_funds(user))]), \
        _form_status(status)


def _fund_created(data) -> tuple[str, str]:
    funds.create_fund(staff(), **data)
    return url_for("admin_pages.funds_page"), "created"


def staff_may_manage() -> bool:
    from ..auth.service import can

    return can(staff(), "manage")


def _form_status(status: int) -> int:
    return 422 if status == 404 else status


class AreaForm(RecordForm):
    code = StringField(_l("Code"))
    name = StringField(_l("Name"))
    division_type = StringField(_l("Type of unit"))
    parent_code = StringField(_l("Parent area code"))


@bp.route("/areas", methods=["GET", "POST"])
@staff_page()
def areas():
    """Find areas by name without diacritics, or browse a unit's children; admins add the
    legacy districts and communes that records of 2024 and before name."""
    from ..areas.service import add_area, search_areas

    form = AreaForm(data={"division_type": "huyện"} if request.method == "GET" else None)
    status = 200
    if request.method == "POST":
        if not staff_may_manage():
            return render_template("staff/forbidden.html"), 403
        data = {name: (form.value(name) or None) for name in ("code", "name", "division_type", "parent_code")}
        missing = [n for n in ("code", "name", "division_type") if not data[n]]
        for name in missing:
            getattr(form, name).errors = [_l("Fill in this field.")]
        status = 422 if missing else submit(
            form, lambda: _area_added(add_area, data), done=_l("Area added."),
            where={"Unknown area code %(code)s.": ("parent_code",)})
        if not isinstance(status, int):
            return status
    q, parent = request.args.get("q", "").strip(), request.args.get("parent", "").strip()
    try:
        found = db.session.scalars(search_areas(parent or None, q or None).limit(200)).all()
    except LedgerError:
        found = []
    return render_template("staff/admin/areas.html", form=form, found=found, q=q, parent=parent), \
        _form_status(status)


def _area_added(add_area, data) -> tuple[str, str]:
    area = add_area(data["code"], data["name"], data["division_type"], data["parent_code"], legacy=True)
    return url_for("admin_pages.areas", parent=area.parent_code or "", q=""), "created"
