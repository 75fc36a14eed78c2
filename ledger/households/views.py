"""Staff pages of beneficiary households: the list by commune and status, create, the page of
one household (status timeline and its update form, funding composition, allocations, edit
history) and edit."""
from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import SelectField, StringField, TextAreaField

from ..areas.models import Area
from ..extensions import db
from ..fields import today_in_vietnam
from ..web import staff, staff_page
from ..web.form_input import (
    RecordForm,
    init_record_pages,
    page_number,
    show_date,
    show_money,
    submit,
    waiting_requests,
)
from ..web.record_forms import campaign_choices
from ..web.vocabulary import CATEGORIES, HOUSEHOLD_STATUSES, SUPPORT_TYPES, choices, history_rows, options
from . import service
from .models import STATUSES
from .schemas import HouseholdIn, StatusIn

bp = Blueprint("household_pages", __name__)
init_record_pages(bp)

PER_PAGE = 50
PRIVATE = ("id_number", "phone", "address")


class HouseholdForm(RecordForm):
    campaign_id = SelectField(_l("Campaign"))
    commune_code = SelectField(_l("Commune or ward"))
    head_name = StringField(_l("Head of household"))
    category = SelectField(_l("Category"), choices=choices(CATEGORIES))
    support_type = SelectField(_l("Support type"), choices=choices(SUPPORT_TYPES))
    approved_amount_vnd = StringField(_l("Approved amount (đồng)"))
    own_contribution_vnd = StringField(_l("Household's own contribution (đồng)"))
    surveyed_on = StringField(_l("Surveyed on"))
    id_number = StringField(_l("Citizen ID number"))
    phone = StringField(_l("Phone"))
    address = TextAreaField(_l("Address"))

    money = ("approved_amount_vnd", "own_contribution_vnd")
    dates = ("surveyed_on",)
    ids = ("campaign_id",)


class StatusForm(RecordForm):
    status = SelectField(_l("New status"))
    on = StringField(_l("Date"))
    note = TextAreaField(_l("Note"))

    dates = ("on",)


def area_options(user, chosen: str | None = None) -> list[tuple[str, str]]:
    """Areas to choose a list's filter from: the user's area and everything below it; for a
    user of the whole country, the provinces, and below the chosen one."""
    roots = [user.area_code] if user.area_code else None
    if roots is None:
        provinces = db.session.scalars(select(Area).where(Area.parent_code.is_(None)).order_by(Area.name_folded))
        options = []
        chosen_area = db.session.get(Area, chosen) if chosen else None
        province = chosen_area.path.strip("/").split("/")[0] if chosen_area else None
        for p in provinces:
            options.append((p.code, p.name))
            if p.code == province:
                options += [(a.code, f"— {a.name}") for a in _below(p)]
        return options
    root = db.session.get(Area, user.area_code)
    return [(root.code, root.name)] + [(a.code, f"— {a.name}") for a in _below(root)]


def _below(area) -> list[Area]:
    return list(db.session.scalars(select(Area).where(Area.path.startswith(area.path, autoescape=True),
                                                      Area.code != area.code).order_by(Area.name_folded)))


def commune_choices(user) -> list[tuple[str, str]]:
    """Communes a household may be recorded in: below the user's area, or (for a user of
    the whole country) below the campaigns' areas."""
    from ..campaigns.models import Campaign

    codes = [user.area_code] if user.area_code else list(dict.fromkeys(db.session.scalars(select(Campaign.area_code))))
    options = [("", _l("— choose —"))]
    for code in codes:
        root = db.session.get(Area, code)
        if root is None:
            continue
        below = _below(root)
        options += [(a.code, f"{a.name} ({a.code})") for a in (below or [root])]
    return options


@bp.get("/households")
@staff_page()
def list_households():
    user = staff()
    area = request.args.get("area", "").strip()
    status = request.args.get("status", "")
    q = request.args.get("q", "").strip()
    areas = area_options(user, area or None)
    known = {code for code, _label in areas}
    filters = {"area_code": area if area in known else None, "status": status if status in STATUSES else None,
               "q": q or None}
    page = db.paginate(service.list_households(user, filters), page=page_number(), per_page=PER_PAGE,
                       error_out=False)
    rows = [(h, service.allocated_value(h.id)) for h in page.items]
    return render_template("records/households.html", page=page, rows=rows, areas=areas, area=area,
                           status=status, q=q)


@bp.route("/households/new", methods=["GET", "POST"])
@staff_page("record")
def new_household():
    user = staff()
    form = HouseholdForm(data={"surveyed_on": show_date(today_in_vietnam())} if request.method == "GET" else None)
    form.campaign_id.choices = options(campaign_choices())
    form.commune_code.choices = options(commune_choices(user))
    status = 200
    if request.method == "POST":
        data = form.load(HouseholdIn(), HouseholdIn().fields)
        status = 422 if data is None else submit(form, lambda: _created(data), done=_l("Household recorded."))
        if not isinstance(status, int):
            return status
    return render_template("records/household_form.html", form=form, household=None), status


def _created(data) -> tuple[str, str]:
    household = service.create_household(staff(), data)
    return url_for("household_pages.show_household", household_id=household.id), "recorded"


def _household(household_id):
    household = service.get_household(household_id, seen_by=staff())
    return household


def _household_page(household, status_form=None, status=200):
    from ..allocations.service import list_allocations
    from ..auth.models import User

    current = STATUSES.index(household.status)
    following = STATUSES[current + 1] if current + 1 < len(STATUSES) else None
    if status_form is None:
        status_form = StatusForm(formdata=None, data={"status": following, "on": show_date(today_in_vietnam())})
    status_form.status.choices = options([(following, HOUSEHOLD_STATUSES[following])] if following else [])
    recorders = {u.id: u for u in db.session.scalars(
        select(User).where(User.id.in_({e.recorded_by_id for e in household.events} or {0})))}
    allocations = db.session.scalars(list_allocations(staff(), {"household_id": household.id})).unique().all()
    return render_template(
        "records/household.html", h=household, following=following, status_form=status_form,
        funding=service.funding_composition(household), allocations=allocations, recorders=recorders,
        history=history_rows(service.household_history(household.id)),
        may_allocate=current >= STATUSES.index("approved"),
        waiting=waiting_requests("allocation", household_id=household.id)), status


@bp.get("/households/<int:household_id>")
@staff_page()
def show_household(household_id):
    return _household_page(_household(household_id))


@bp.post("/households/<int:household_id>/status")
@staff_page("record")
def change_status(household_id):
    household = _household(household_id)
    form = StatusForm()
    form.status.choices = options([(s, HOUSEHOLD_STATUSES[s]) for s in STATUSES])
    data = form.load(StatusIn(), ["status", "on", "note"])
    status = 422 if data is None else submit(
        form, lambda: _status_changed(household_id, data), done=_l("Status updated."))
    if not isinstance(status, int):
        return status
    db.session.expire_all()
    return _household_page(service.get_household(household.id), form, status)


def _status_changed(household_id, data) -> tuple[str, str]:
    service.change_status(staff(), household_id, data["status"], data["on"], data.get("note"))
    return url_for("household_pages.show_household", household_id=household_id), "recorded"


@bp.route("/households/<int:household_id>/edit", methods=["GET", "POST"])
@staff_page("record")
def edit_household(household_id):
    household = _household(household_id)
    values = {name: getattr(household, name) or "" for name in service.EDITABLE}
    values.update(approved_amount_vnd=show_money(household.approved_amount_vnd),
                  own_contribution_vnd=show_money(household.own_contribution_vnd))
    form = HouseholdForm(data=values)
    status = 200
    if request.method == "POST":
        changes = form.load(HouseholdIn(only=service.EDITABLE), service.EDITABLE, blank_is_none=PRIVATE)
        if changes is not None and changes.get("approved_amount_vnd") is None:
            form.attach("approved_amount_vnd", [str(_l("Fill in this field."))])
            changes = None
        status = 422 if changes is None else submit(
            form, lambda: _updated(household_id, changes),
            done=_l("Changes saved. The old values are kept in the history."))
        if not isinstance(status, int):
            return status
    return render_template("records/household_form.html", form=form, household=household), status


def _updated(household_id, changes) -> tuple[str, str]:
    service.update_household(staff(), household_id, changes)
    return url_for("household_pages.show_household", household_id=household_id), "saved"

