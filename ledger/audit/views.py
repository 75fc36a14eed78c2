"""The audit trail page: who did what and when, for administrators and auditors (read-only)."""
from __future__ import annotations

import re
from datetime import date

from flask import Blueprint, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from wtforms import Form, SelectField, StringField

from ..web import page_allowed, staff, staff_page
from . import service

bp = Blueprint("audit_pages", __name__)

_DMY = re.compile(r"\s*([0-9]{1,2})[/.-]([0-9]{1,2})[/.-]([0-9]{4})\s*")
_ISO = re.compile(r"\s*([0-9]{4})-([0-9]{2})-([0-9]{2})\s*")


def parse_day(text: str | None) -> date | None:
    """dd/mm/yyyy (or yyyy-mm-dd) as a date; None when blank; ValueError when not a date."""
    if not text or not text.strip():
        return None
    if match := _DMY.fullmatch(text):
        day, month, year = (int(g) for g in match.groups())
    elif match := _ISO.fullmatch(text):
        year, month, day = (int(g) for g in match.groups())
    else:
        raise ValueError(text)
    return date(year, month, day)


class AuditFilterForm(Form):
    """A GET form: filters are in the address, so a filtered page can be bookmarked or sent."""

    user = SelectField(_l("User"), choices=[], validate_choice=False)
    action = SelectField(_l("Kind of action"), choices=[], validate_choice=False)
    date_from = StringField(_l("From (dd/mm/yyyy)"))
    date_to = StringField(_l("To (dd/mm/yyyy)"))


def _filters(form: AuditFilterForm) -> service.AuditFilters:
    """The filters as typed; a field that is not understood says so and is left out."""
    user_id = int(form.user.data) if (form.user.data or "").isdigit() else None
    action = form.action.data if form.action.data in service.ACTIONS else None
    days = {}
    for name in ("date_from", "date_to"):
        field = getattr(form, name)
        try:
            days[name] = parse_day(field.data)
        except ValueError:
            field.errors = [_l("Enter a date as dd/mm/yyyy, such as 31/03/2025.")]
            days[name] = None
    if days["date_from"] and days["date_to"] and days["date_from"] > days["date_to"]:
        form.date_to.errors = [_l("The end is before the start.")]
        days["date_to"] = None
    return service.AuditFilters(user_id=user_id, action=action, **days)


def _link(event) -> str | None:
    """The record's page, when that page exists (parts of the app are built separately) and
    the viewer may open it."""
    for candidate in (event.link, event.fallback_link):
        if candidate is None:
            continue
        endpoint, values = candidate
        if page_allowed(endpoint) and all(v is not None for v in values.values()):
            return url_for(endpoint, **values)
    return None


@bp.get("/audit")
@staff_page("audit")
def audit_trail():
    viewer = staff()
    form = AuditFilterForm(request.args)
    form.user.choices = [("", _l("Everyone"))] + [(str(uid), label) for uid, label in service.audit_users(viewer)]
    form.action.choices = [("", _l("Every kind"))] + [(key, label) for key, label in service.ACTIONS.items()]
    filters = _filters(form)
    page = service.audit_trail(viewer, filters, request.args.get("after"))
    base_args = {k: v for k, v in request.args.items() if k not in ("after", "lang") and v}
    next_url = url_for("audit_pages.audit_trail", **base_args, after=page.next_cursor) if page.next_cursor else None
    first_url = url_for("audit_pages.audit_trail", **base_args) if request.args.get("after") else None
    return render_template("staff/audit/trail.html", form=form, page=page, link=_link,
                           next_url=next_url, first_url=first_url,
                           filtered=any(base_args.get(k) for k in ("user", "action", "date_from", "date_to")))
