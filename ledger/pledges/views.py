"""Staff pages (being built)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("pledge_pages", __name__)
