"""The staff home: what matters today in the user's area."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, url_for

from ..web import page_allowed, staff, staff_page
from .service import DUE_WINDOW_DAYS, dashboard_for

bp = Blueprint("staff_home", __name__)


def link_if(endpoint: str, **values) -> str | None:
    """A link to another part's page, when that page exists and admits the user."""
    if endpoint not in current_app.view_functions or not page_allowed(endpoint):
        return None
    return url_for(endpoint, **values)


@bp.get("/")
@staff_page()
def dashboard():
    return render_template("staff/dashboard.html", board=dashboard_for(staff()), link_if=link_if,
                           window=DUE_WINDOW_DAYS)
