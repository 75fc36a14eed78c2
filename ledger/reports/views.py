"""The reports page for staff: the five reports on one page with a filter form (GET only:
a filtered page can be bookmarked or sent), and the same reports as XLSX and PDF downloads."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import Form, IntegerField, SelectField, StringField
from wtforms.validators import NumberRange, Optional

from ..areas.models import Area
from ..audit.views import parse_day
from ..campaigns.models import Campaign
from ..extensions import db
from ..funds.service import list_funds
from ..problems import Forbidden, InvalidInput, NotFound
from ..web import staff, staff_page
from ..web.vocabulary import DONOR_KINDS, HOUSEHOLD_STATUSES, RESOURCE_KINDS, SUPPORT_TYPES
from . import service
from .api import download

bp = Blueprint("report_pages", __name__)
PAGE_LIST_LIMIT = 50  # rows of a long list on the page; the workbook has them all


class ReportFilterForm(Form):
    campaign_id = SelectField(_l("Campaign"), choices=[], validate_choice=False)
    fund_id = SelectField(_l("Fund"), choices=[], validate_choice=False)
    area_code = SelectField(_l("Area"), choices=[], validate_choice=False)
    date_from = StringField(_l("From (dd/mm/yyyy)"))
    date_to = StringField(_l("To (dd/mm/yyyy)"))
    older_than_days = IntegerField(_l("Not allocated for more than (days)"), default=service.DEFAULT_OLDER_THAN_DAYS,
                                   validators=[Optional(), NumberRange(min=0, max=36500)])
    top = IntegerField(_l("Donors per list"), default=service.DEFAULT_TOP,
                       validators=[Optional(), NumberRange(min=1, max=100)])


def _choices(form: ReportFilterForm, user) -> None:
    form.campaign_id.choices = [("", _l("Every campaign"))] + [
        (str(c.id), f"{c.code} · {c.name}")
        for c in db.session.scalars(select(Campaign).order_by(Campaign.starts_on.desc(), Campaign.id.desc()))]
    form.fund_id.choices = [("", _l("Every fund"))] + [
        (str(f.id), f"{f.code} · {f.name}") for f in db.session.scalars(list_funds(user))]
    # The area chosen, the areas one level below it to go down, and its parent to go back up:
    # a drill-down that needs no JavaScript.
    top = db.session.get(Area, user.area_code) if user.area_code else None
    chosen = db.session.get(Area, form.area_code.data) if form.area_code.data else None
    base = chosen or top
    options = [("", top.name if top else _l("Whole country"))]
    if chosen is not None and base is not top:
        parent = db.session.get(Area, chosen.parent_code) if chosen.parent_code else None
        if parent is not None and parent is not top and (top is None or f"/{top.code}/" in parent.path):
            options.append((parent.code, f"↑ {parent.name}"))
        options.append((chosen.code, chosen.name))
    below = select(Area).where(Area.parent_code == base.code if base else Area.parent_code.is_(None))
    options += [(a.code, f"– {a.name}") for a in db.session.scalars(below.order_by(Area.name))]
    form.area_code.choices = options


def _args(form: ReportFilterForm) -> dict:
    """The form as the reports' filters; a field that is not understood says so and is left out."""
    args: dict = {}
    for name in ("campaign_id", "fund_id"):
        value = getattr(form, name).data
        if value and str(value).isdigit():
            args[name] = int(value)
    if form.area_code.data:
        args["area_code"] = form.area_code.data
    for name in ("date_from", "date_to"):
        field = getattr(form, name)
        try:
            day = parse_day(field.data)
        except ValueError:
            field.errors = [_l("Enter a date as dd/mm/yyyy, such as 31/03/2025.")]
            continue
        if day is not None:
            args[name] = day
    if args.get("date_from") and args.get("date_to") and args["date_from"] > args["date_to"]:
        form.date_to.errors = [_l("The end is before the start.")]
        del args["date_to"]
    for name in ("older_than_days", "top"):
        field = getattr(form, name)
        if field.validate(form) and field.data is not None:
            args[name] = field.data
    return args


def _scope(latest_only: bool = False):
    """The filters from the address, checked: (form, scope). Another area's filter is a 403
    page; an unknown campaign, fund or area is said next to its field."""
    user = staff()
    form = ReportFilterForm(request.args)
    _choices(form, user)
    args = _args(form)
    while True:
        try:
            return form, service.report_scope(user, args, latest_only=latest_only)
        except Forbidden:
            abort(403)
        except InvalidInput as error:
            bad = [name for name in (error.errors or {}) if name in args]
            if not bad:
                raise
            for name in bad:
                getattr(form, name).errors = list(getattr(form, name).errors or []) + list(error.errors[name])
                del args[name]


def _query() -> dict:
    return {k: v for k, v in request.args.items() if v and k != "lang"}


@bp.get("/reports")
@staff_page("read")
def reports():
    form, scope = _scope()
    query = _query()
    links = {name: url_for("report_pages.report_xlsx", name=name, **query) for name in service.REPORTS}
    return render_template(
        "reports/page.html", form=form, scope=scope, reconciliation=service.reconciliation(scope),
        coverage=service.coverage(scope), overdue=service.overdue_pledges(scope),
        unallocated=service.unallocated(scope), commendations=service.commendations(scope),
        xlsx=links, pdf=url_for("report_pages.committee_pdf", **query), limit=PAGE_LIST_LIMIT,
        filtered=bool(query), kinds=RESOURCE_KINDS, donor_kinds=DONOR_KINDS, statuses=HOUSEHOLD_STATUSES,
        support_types=SUPPORT_TYPES)


@bp.get("/reports/<string:name>.xlsx")
@staff_page("read")
def report_xlsx(name):
    from .xlsx import CONTENT_TYPE, workbook

    if name not in service.REPORTS:
        abort(404)
    _form, scope = _scope()
    return download(workbook(name, service.build_report(name, scope)), CONTENT_TYPE, f"{name}.xlsx")


@bp.get("/reports/committee.pdf")
@staff_page("read")
def committee_pdf():
    from .pdf import committee_pdf as render

    _form, scope = _scope(latest_only=True)
    try:
        summary = service.committee_summary(scope)
    except NotFound:
        abort(404)
    return download(render(summary), "application/pdf", "bao-cao-ban-van-dong.pdf")
