"""Admin pages for funds: everyone reads the list with what each holds, admins create."""
from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField

from ..auth.service import can
from ..extensions import db
from ..web import staff, staff_page
from ..web.form_input import UNKNOWN_AREA, RecordForm, form_status, init_record_pages, submit
from ..web.vocabulary import options
from . import service
from .schemas import FundIn

bp = Blueprint("fund_pages", __name__)
init_record_pages(bp)


class FundForm(RecordForm):
    code = StringField(_l("Code"))
    name = StringField(_l("Name"))
    area_code = StringField(_l("Area code"))
    parent_fund_id = SelectField(_l("Parent fund"))

    ids = ("parent_fund_id",)


def _page(form, status: int = 200):
    user = staff()
    listed = db.session.scalars(service.list_funds(user)).all()
    choices = [(str(f.id), f"{f.name} ({f.code})") for f in listed]
    form.parent_fund_id.choices = options([("", _l("— none —")), *choices])
    return render_template("staff/admin/funds.html", form=form, may_manage=can(user, "manage"),
                           funds=[(f, service.balances(f)) for f in listed]), form_status(status)


@bp.get("/funds")
@staff_page()
def list_funds():
    return _page(FundForm())


@bp.post("/funds")
@staff_page("manage")
def create_fund():
    form = FundForm()
    data = form.load(FundIn(), ["code", "name", "area_code", "parent_fund_id"], blank_is_none=("parent_fund_id",))
    status = 422 if data is None else submit(form, lambda: _created(data), done=_l("Fund created."),
                                             where=UNKNOWN_AREA)
    return status if not isinstance(status, int) else _page(form, status)


def _created(data) -> tuple[str, str]:
    service.create_fund(staff(), **data)
    return url_for("fund_pages.list_funds"), "created"
