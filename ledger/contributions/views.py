"""Staff pages (being built)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("contribution_pages", __name__)
