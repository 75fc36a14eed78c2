"""The staff home: what matters today in the user's area."""
from __future__ import annotations

from flask import Blueprint, render_template

from ..web import staff_page

bp = Blueprint("staff_home", __name__)


@bp.get("/")
@staff_page()
def dashboard():
    return render_template("staff/dashboard.html")
