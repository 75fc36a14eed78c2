"""Staff pages (being built)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("audit_pages", __name__)
