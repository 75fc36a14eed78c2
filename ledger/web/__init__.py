"""The staff web application's shared parts: sessions (Flask-Login), CSRF (Flask-WTF), the
page guard, money and date parsing for forms, and the security headers.

Pages live in each domain's views.py and call the same service functions as the API;
the API stays token-only (no session cookie is accepted there).
"""
from __future__ import annotations

import functools

from flask import abort, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_required
from flask_wtf import CSRFProtect

from ..auth.service import can

login_manager = LoginManager()
login_manager.login_view = "auth_pages.login"
login_manager.login_message = _l("Please log in to continue.")
login_manager.login_message_category = "info"
csrf = CSRFProtect()


def staff() -> object:
    """The logged-in staff user (a ledger.auth.models.User)."""
    return current_user._get_current_object()


def staff_page(action: str = "read"):
    """Decorate a page: log in first; a role that may not `action` sees a clear 403 page."""

    def decorator(view):
        @functools.wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if not can(staff(), action):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def init_web(app) -> None:
    login_manager.init_app(app)
    csrf.init_app(app)

    @login_manager.user_loader
    def load_user(user_id: str):
        from ..auth.service import user_for_session

        return user_for_session(user_id)

    @app.after_request
    def security_headers(response):
        # No inline scripts: every script is a file under /static.
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    @app.errorhandler(403)
    def forbidden(_error):
        if request.path.startswith("/api/"):
            from ..problems import Forbidden, problem_response

            err = Forbidden(_l("You may not do this."))
            return problem_response(err.status, err.slug, err.title, err.detail)
        return render_template("staff/forbidden.html"), 403
