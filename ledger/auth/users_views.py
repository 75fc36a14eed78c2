"""Staff pages (being built)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("user_pages", __name__)
