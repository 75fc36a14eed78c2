"""Admin pages for campaigns: everyone reads the list, admins create."""
from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, StringField

from ..auth.service import can
from ..extensions import db
from ..web import staff, staff_page
from ..web.form_input import UNKNOWN_AREA, RecordForm, form_status, init_record_pages, submit
from . import service
from .schemas import CampaignIn

bp = Blueprint("campaign_pages", __name__)
init_record_pages(bp)


class CampaignForm(RecordForm):
    code = StringField(_l("Code"))
    name = StringField(_l("Name"))
    area_code = StringField(_l("Area code"))
    starts_on = StringField(_l("Starts on"))
    ends_on = StringField(_l("Ends on"))
    norm_new_build_vnd = StringField(_l("Norm for a new house (đồng)"))
    norm_repair_vnd = StringField(_l("Norm for a repair (đồng)"))
    publish_household_names = BooleanField(_l("Publish household heads' full names on public pages"))

    dates = ("starts_on", "ends_on")
    money = ("norm_new_build_vnd", "norm_repair_vnd")


def _page(form, status: int = 200):
    return render_template("staff/admin/campaigns.html", form=form, may_manage=can(staff(), "manage"),
                           campaigns=db.session.scalars(service.list_campaigns()).all()), form_status(status)


@bp.get("/campaigns")
@staff_page()
def list_campaigns():
    return _page(CampaignForm(data={"norm_new_build_vnd": "60.000.000", "norm_repair_vnd": "30.000.000"}))


@bp.post("/campaigns")
@staff_page("manage")
def create_campaign():
    form = CampaignForm()
    data = form.load(CampaignIn(), ["code", "name", "area_code", "starts_on", "ends_on",
                                    "norm_new_build_vnd", "norm_repair_vnd"], blank_is_none=("ends_on",),
                     extra={"publish_household_names": form.publish_household_names.data})
    status = 422 if data is None else submit(form, lambda: _created(data), done=_l("Campaign created."),
                                             where=UNKNOWN_AREA)
    return status if not isinstance(status, int) else _page(form, status)


def _created(data) -> tuple[str, str]:
    service.create_campaign(staff(), **data)
    return url_for("campaign_pages.list_campaigns"), "created"
