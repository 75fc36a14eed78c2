"""Staff pages of donors: search (no diacritics needed), create, edit, and the edit history.
Private fields (ID number, phone, address) are shown here, to staff only."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField

from ..extensions import db
from ..web import staff, staff_page
from ..web.form_input import RecordForm, init_record_pages, page_number, submit
from ..web.record_forms import donor_label
from ..web.vocabulary import DONOR_KINDS, PUBLIC_DISPLAYS, STATE_LEVELS, choices, history_rows
from . import service
from .schemas import DonorIn

bp = Blueprint("donor_pages", __name__)
init_record_pages(bp)

PER_PAGE = 50
OPTIONAL = ("tax_code", "state_level", "area_code", "id_number", "phone", "address")


class DonorForm(RecordForm):
    kind = SelectField(_l("Kind of donor"), choices=choices(DONOR_KINDS))
    name = StringField(_l("Name"))
    public_display = SelectField(_l("On public pages and receipts"), choices=choices(PUBLIC_DISPLAYS))
    tax_code = StringField(_l("Tax code"))
    state_level = SelectField(_l("State budget level"), choices=choices(STATE_LEVELS, blank="—"))
    area_code = StringField(_l("Area code"))
    id_number = StringField(_l("Citizen ID number"))
    phone = StringField(_l("Phone"))
    address = TextAreaField(_l("Address"))


def _values_of(donor) -> dict:
    return {name: getattr(donor, name) or "" for name in service.EDITABLE} | {"kind": donor.kind}


@bp.get("/donors")
@staff_page()
def list_donors():
    q, kind = request.args.get("q", "").strip(), request.args.get("kind", "")
    query = service.search_donors(q or None, kind if kind in DONOR_KINDS else None)
    page = db.paginate(query, page=page_number(), per_page=PER_PAGE, error_out=False)
    return render_template("records/donors.html", page=page, q=q, kind=kind)


@bp.get("/donors/lookup")
@staff_page()
def lookup_donors():
    """The contribution form's donor search, as JSON: [{id, label}], at most 20."""
    q = request.args.get("q", "").strip()
    donors = db.session.scalars(service.search_donors(q or None).limit(20)).all() if q else []
    return jsonify([{"id": d.id, "label": donor_label(d)} for d in donors])


@bp.route("/donors/new", methods=["GET", "POST"])
@staff_page("record")
def new_donor():
    form = DonorForm()
    status = 200
    if request.method == "POST":
        data = form.load(DonorIn(), DonorIn().fields)
        status = 422 if data is None else submit(form, lambda: _created(data), done=_l("Donor recorded."))
        if not isinstance(status, int):
            return status
    return render_template("records/donor_form.html", form=form, donor=None), status


def _created(data) -> tuple[str, str]:
    donor = service.create_donor(staff(), data)
    return url_for("donor_pages.show_donor", donor_id=donor.id), "recorded"


@bp.get("/donors/<int:donor_id>")
@staff_page()
def show_donor(donor_id):
    from ..contributions.models import Contribution
    from ..contributions.service import list_contributions
    from ..pledges.service import list_pledges

    donor = service.get_donor(donor_id)
    user = staff()
    contributions = db.session.scalars(
        list_contributions(user, {"donor_id": donor.id}).order_by(None).order_by(Contribution.id.desc())
        .limit(20)).unique().all()
    pledges = db.session.scalars(list_pledges(user, {"donor_id": donor.id}).limit(20)).unique().all()
    return render_template("records/donor.html", donor=donor, contributions=contributions, pledges=pledges,
                           history=history_rows(service.donor_history(donor.id)))


@bp.route("/donors/<int:donor_id>/edit", methods=["GET", "POST"])
@staff_page("record")
def edit_donor(donor_id):
    donor = service.get_donor(donor_id)
    form = DonorForm(data=_values_of(donor))
    form.kind.data = donor.kind  # the kind is fixed once recorded
    status = 200
    if request.method == "POST":
        changes = form.load(DonorIn(exclude=("kind",)), service.EDITABLE, blank_is_none=OPTIONAL)
        done = _l("Changes saved. The old values are kept in the history.")
        status = 422 if changes is None else submit(form, lambda: _updated(donor_id, changes), done=done)
        if not isinstance(status, int):
            return status
    return render_template("records/donor_form.html", form=form, donor=donor), status


def _updated(donor_id, changes) -> tuple[str, str]:
    service.update_donor(staff(), donor_id, changes)
    return url_for("donor_pages.show_donor", donor_id=donor_id), "saved"
