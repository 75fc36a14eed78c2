"""The staff web application's shared parts: sessions (Flask-Login), CSRF (Flask-WTF), the
page guard, the navigation, and the security headers.

Pages live in each domain's views.py and call the same service functions as the API;
the API stays token-only (no session cookie is accepted there).

Sessions: a signed cookie (HttpOnly, SameSite=Lax, Secure when LEDGER_PUBLIC_URL is https)
that holds the user id, when the user logged in and when it was last seen; it ends after
LEDGER_SESSION_HOURS (8) of life or LEDGER_SESSION_IDLE_MINUTES (60) without a request,
at log-out, and as soon as the user is deactivated.
"""
from __future__ import annotations

import functools
import time
from datetime import timedelta

from flask import abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from flask_wtf import CSRFProtect
from flask_wtf.csrf import CSRFError

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
    """Decorate a page: log in first; a role that may not `action` sees a clear 403 page.
    The action is kept on the view (`staff_action`): the navigation shows a link only to
    the users its page admits."""

    def decorator(view):
        @functools.wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if not can(staff(), action):
                abort(403)
            return view(*args, **kwargs)

        wrapper.staff_action = action
        return wrapper

    return decorator


# --- sessions ------------------------------------------------------------------------------
LOGGED_IN_AT = "ledger_login_at"  # seconds since the epoch, in the signed session cookie
SEEN_AT = "ledger_seen_at"
_SEEN_GRANULARITY = 60  # seconds: the cookie is not rewritten on every request


def _forget_session() -> None:
    session.clear()
    # The CSRF secret went with the session: a token made earlier in this context is void.
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)


def start_session(user) -> None:
    """Log a user in: a fresh session (nothing kept from before, a new CSRF secret), its
    clocks started."""
    _forget_session()
    login_user(user)
    session.permanent = True  # expires with PERMANENT_SESSION_LIFETIME, not with the browser only
    now = int(time.time())
    session[LOGGED_IN_AT] = now
    session[SEEN_AT] = now


def end_session() -> None:
    """Log out: forget everything the session held."""
    logout_user()
    _forget_session()


def _session_expired(now: float) -> bool:
    started, seen = session.get(LOGGED_IN_AT), session.get(SEEN_AT)
    if not isinstance(started, int) or not isinstance(seen, int):
        return True  # a session without its clocks is not one this code made
    config = current_app.config
    return (now - started > config["LEDGER_SESSION_HOURS"] * 3600
            or now - seen > config["LEDGER_SESSION_IDLE_MINUTES"] * 60)


def _configure_sessions(app) -> None:
    config = app.config
    config.setdefault("LEDGER_SESSION_HOURS", 8)
    config.setdefault("LEDGER_SESSION_IDLE_MINUTES", 60)
    config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=config["LEDGER_SESSION_HOURS"])
    config["SESSION_COOKIE_HTTPONLY"] = True
    config["SESSION_COOKIE_SAMESITE"] = "Lax"
    secure = config.get("LEDGER_SESSION_COOKIE_SECURE")
    if secure is None:  # by default, as the public URL says
        secure = str(config.get("LEDGER_PUBLIC_URL", "")).startswith("https://")
    config["SESSION_COOKIE_SECURE"] = bool(secure)
    config["REMEMBER_COOKIE_HTTPONLY"] = True
    config["REMEMBER_COOKIE_SAMESITE"] = "Lax"
    config["REMEMBER_COOKIE_SECURE"] = bool(secure)

    @app.before_request
    def _expire_staff_sessions():
        if request.path.startswith(("/api/", "/static/")) or "_user_id" not in session:
            return None
        now = time.time()
        if _session_expired(now):
            end_session()
            if request.path.startswith("/staff"):
                flash(_l("Your session has ended. Please log in again."), "info")
                target = request.full_path if request.method == "GET" else None
                return redirect(url_for("auth_pages.login", next=target))
            return None
        if now - session[SEEN_AT] >= _SEEN_GRANULARITY:
            session[SEEN_AT] = int(now)
        return None


# --- navigation ----------------------------------------------------------------------------
# (endpoint, label): every staff page a person goes to from the menu. A link is shown only
# when its page exists (parts are built separately) and admits the user's role.
NAV_ITEMS = (
    ("staff_home.dashboard", _l("Dashboard")),
    ("donor_pages.list_donors", _l("Donors")),
    ("pledge_pages.new_pledge", _l("New pledge")),
    ("contribution_pages.new_contribution", _l("New contribution")),
    ("import_pages.upload", _l("Bank statements")),
    ("import_pages.list_batches", _l("Imported statements")),
    ("household_pages.list_households", _l("Households")),
    ("allocation_pages.new_allocation", _l("New allocation")),
    ("approval_pages.list_approvals", _l("Approvals")),
    ("campaign_pages.list_campaigns", _l("Campaigns")),
    ("fund_pages.list_funds", _l("Funds")),
    ("area_pages.list_areas", _l("Areas")),
    ("user_pages.list_users", _l("Users")),
    ("audit_pages.audit_trail", _l("Audit trail")),
    ("report_pages.reports", _l("Reports")),
    ("export_pages.exports_page", _l("Exports")),
)


ROLE_LABELS = {
    "admin": _l("Administrator"),
    "recorder": _l("Recorder"),
    "approver": _l("Approver"),
    "auditor": _l("Auditor"),
}


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role)


def page_allowed(endpoint: str) -> bool:
    """Does the page exist, and may the logged-in user open it?"""
    view = current_app.view_functions.get(endpoint)
    if view is None or not current_user.is_authenticated:
        return False
    action = getattr(view, "staff_action", None)
    return action is None or can(current_user, action)


def staff_nav() -> list[dict]:
    """The menu for the logged-in user: [{url, label, current}]."""
    here = request.endpoint
    return [{"url": url_for(endpoint), "label": label, "current": endpoint == here,
             "endpoint": endpoint}
            for endpoint, label in NAV_ITEMS if page_allowed(endpoint)]


def init_web(app) -> None:
    def _fresh_request_state():
        # Flask-Login, Flask-WTF and Flask-Babel keep the request's user, CSRF token and
        # locale in `g`, which lives as long as the app context. When requests share one
        # (tests that hold an app context open), each must still find its own from its own
        # session and cookies.
        g.pop("_login_user", None)
        g.pop(app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
        g.pop("_flask_babel", None)
        g.pop("ledger_user", None)  # the API's token user (auth.guard): never a later page's

    app.before_request_funcs.setdefault(None, []).insert(0, _fresh_request_state)  # before every other

    login_manager.init_app(app)
    csrf.init_app(app)
    _configure_sessions(app)
    from ..auth.privacy import private_data_visible

    app.jinja_env.globals.update(page_allowed=page_allowed, staff_nav=staff_nav, role_label=role_label,
                                 private_data_visible=private_data_visible)

    @app.template_filter("datetime_vi")
    def _datetime_vi(moment) -> str:
        """A stored UTC moment as the committee's local time: 31/03/2025 14:05."""
        from ..fields import VN_TZ

        return moment.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M") if moment is not None else ""

    @app.errorhandler(CSRFError)
    def csrf_refused(_error):
        # Pages only (the API checks no CSRF): say what happened and what to do, not Werkzeug's 400.
        return render_template("staff/csrf_error.html"), 400

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
