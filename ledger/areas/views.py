"""Areas: find them by name without diacritics or browse a unit's children; admins add
the legacy districts and communes that records of 2024 and before name."""
from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from wtforms import StringField

from ..auth.service import can
from ..extensions import db
from ..problems import LedgerError
from ..web import staff, staff_page
from ..web.form_input import RecordForm, form_status, init_record_pages, submit
from . import service

bp = Blueprint("area_pages", __name__)
init_record_pages(bp)


class AreaForm(RecordForm):
    code = StringField(_l("Code"))
    name = StringField(_l("Name"))
    division_type = StringField(_l("Type of unit"))
    parent_code = StringField(_l("Parent area code"))


def _page(form, status: int = 200):
    q, parent = request.args.get("q", "").strip(), request.args.get("parent", "").strip()
    try:
        found = db.session.scalars(service.search_areas(parent or None, q or None).limit(200)).all()
    except LedgerError:  # an unknown parent: nothing under it
        found = []
    return render_template("staff/admin/areas.html", form=form, found=found, q=q, parent=parent,
                           may_manage=can(staff(), "manage")), form_status(status)


@bp.get("/areas")
@staff_page()
def list_areas():
    return _page(AreaForm(data={"division_type": "huyện"}))


@bp.post("/areas")
@staff_page("manage")
def add_area():
    form = AreaForm()
    data = {name: (form.value(name) or None) for name in ("code", "name", "division_type", "parent_code")}
    missing = [n for n in ("code", "name", "division_type") if not data[n]]
    for name in missing:
        getattr(form, name).errors = [_l("Fill in this field.")]
    status = 422 if missing else submit(form, lambda: _added(data), done=_l("Area added."),
                                        where={"Unknown area code %(code)s.": ("parent_code",)})
    return status if not isinstance(status, int) else _page(form, status)


def _added(data) -> tuple[str, str]:
    area = service.add_legacy_area(staff(), **data)
    return url_for("area_pages.list_areas", parent=area.parent_code or ""), "created"
