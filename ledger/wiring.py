"""Binds the extensions, blueprints, error handlers and commands to an app."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import swagger_ui_bundle
from flask import Flask, request, send_from_directory
from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter

from .extensions import api, babel, db, limiter, migrate
from .problems import register_problem_handlers

LANGUAGES = ("vi", "en")
SLOW_DOWN = _l("You have searched many times in a short while. Please wait a minute and try again.")
LANG_COOKIE = "lang"


def _holds_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_holds_nul(v) for v in value)
    return False


def _refuse_nul_characters():
    """PostgreSQL cannot store U+0000 in text (its driver raises, a server error), and no
    field of the ledger has a use for it: a request with one anywhere (path, query, form,
    JSON body) is refused before any query runs, the same on both databases; problem+json
    for the API, a readable page for people."""
    from .problems import InvalidInput

    if not (_holds_nul(request.path) or _holds_nul(list(request.args.items(multi=True)))
            or (request.method in ("POST", "PUT", "PATCH")
                and (_holds_nul(list(request.form.items(multi=True)))
                     or (request.is_json and _holds_nul(request.get_json(silent=True)))))):
        return None
    err = InvalidInput(_l("The request contains a NUL character (U+0000), which no field accepts. "
                          "Nothing was changed."))
    if request.path.startswith("/api/"):
        raise err
    from .web.form_input import refusal_page

    return refusal_page(err)


def select_locale() -> str:
    """The API follows Accept-Language (Vietnamese by default). Pages are Vietnamese unless
    the reader chose English with ?lang=en (remembered in a cookie): a phone set to English
    still opens a Vietnamese receipt in Vietnamese."""
    if not request:
        return "vi"
    if request.args.get("lang") in LANGUAGES:
        return request.args["lang"]
    if not request.path.startswith("/api/"):
        return request.cookies.get(LANG_COOKIE) if request.cookies.get(LANG_COOKIE) in LANGUAGES else "vi"
    return request.accept_languages.best_match(LANGUAGES, default="vi")


def _remember_language(response):
    chosen = request.args.get("lang")
    if chosen in LANGUAGES and not request.path.startswith("/api/"):
        response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax")
    return response


def _page_helpers() -> dict:
    from flask_babel import get_locale

    def query_with(**changes) -> str:
        """This page's query string with some parameters changed (the language links keep ?s=)."""
        args = request.args.to_dict()
        args.update(changes)
        return urlencode(args)

    return {"current_locale": str(get_locale()), "query_with": query_with}


class IdConverter(IntegerConverter):
    """<int:...> in every route: at most the largest id a database stores (64-bit), so a
    longer number is a 404 like any unknown id, not a number the database refuses."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


MAX_ID = 2**63 - 1


def init_app(app: Flask) -> None:
    from . import models  # noqa: F401  (every model registered before migrations look)

    app.url_map.converters["int"] = IdConverter  # before any route is added

    app.json.ensure_ascii = False  # Vietnamese stays readable
    app.json.sort_keys = False
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"),
                     render_as_batch=True, compare_type=True)
    babel.init_app(app, locale_selector=select_locale)
    api.init_app(app)
    from flask_smorest.spec.plugins import integerconverter2paramschema

    api.register_converter(IdConverter, integerconverter2paramschema)  # documented as an integer
    from .public import ratelimit  # noqa: F401  (registers the ledgerdb:// storage)

    limiter.init_app(app)
    if app.config.get("LEDGER_PROXY_HOPS"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["LEDGER_PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    _document_fields()
    register_problem_handlers(app)
    app.before_request(_refuse_nul_characters)

    from .allocations.api import blp as allocations_blp
    from .approvals.api import blp as approvals_blp
    from .areas.api import blp as areas_blp
    from .auth.api import blp as auth_blp
    from .campaigns.api import blp as campaigns_blp
    from .contributions.api import blp as contributions_blp
    from .donors.api import blp as donors_blp
    from .exports.api import blp as exports_blp
    from .funds.api import blp as funds_blp
    from .households.api import blp as households_blp
    from .imports.api import blp as imports_blp
    from .jobs.api import blp as jobs_blp
    from .pledges.api import blp as pledges_blp
    from .public.api import blp as reports_blp
    from .public.api import ping_blp
    from .receipts.api import blp as receipts_blp
    from .receipts.api import fund_receipts_blp
    from .reports.api import blp as staff_reports_blp
    from .statement.api import blp as statement_blp
    from .transparency.api import blp as transparency_blp

    for blp in (auth_blp, areas_blp, campaigns_blp, funds_blp, donors_blp, pledges_blp,
                contributions_blp, households_blp, allocations_blp, approvals_blp, receipts_blp, fund_receipts_blp,
                transparency_blp, reports_blp, statement_blp, jobs_blp, exports_blp, staff_reports_blp, imports_blp,
                ping_blp):
        api.register_blueprint(blp, url_prefix="/api/v1" + blp.url_prefix)

    swagger_dir = Path(swagger_ui_bundle.swagger_ui_path)

    @app.get("/api/v1/docs-static/<path:filename>")
    def swagger_static(filename):
        return send_from_directory(swagger_dir, filename)

    from .public.views import bp as public_bp

    app.register_blueprint(public_bp)
    from .statement.views import bp as statement_pages

    app.register_blueprint(statement_pages)

    @app.errorhandler(429)
    def _too_many(error):
        # Flask-Limiter's refusal: problem+json for the API, a readable page for people.
        if request.path.startswith("/api/"):
            from .problems import TOO_MANY_REQUESTS, problem_response

            return problem_response(429, "http-429", TOO_MANY_REQUESTS, SLOW_DOWN)
        from flask import render_template

        return render_template("public/too_many.html", slow_down=SLOW_DOWN), 429
    _init_staff_pages(app)
    app.context_processor(_page_helpers)
    app.after_request(_remember_language)

    from .transparency.log import start_publisher

    @app.before_request
    def _publish_the_log():
        # Started by the first request a worker serves, not at import: commands such as
        # `flask db upgrade` must not publish, and forked gunicorn workers get their own thread.
        if not app.testing:
            start_publisher(app)

    from .jobs.runner import start_in_process_worker

    @app.before_request
    def _run_jobs_in_process():
        # Like the publisher: on a worker's first request (never during commands or tests),
        # when LEDGER_JOBS_IN_PROCESS (default: on SQLite) says so.
        if not app.testing:
            start_in_process_worker(app)

    from .cli import ledger_cli

    app.cli.add_command(ledger_cli)


def _init_staff_pages(app: Flask) -> None:
    """The staff web application under /staff: sessions, CSRF, one blueprint per domain."""
    from .allocations.views import bp as allocation_pages
    from .approvals.views import bp as approval_pages
    from .areas.views import bp as area_pages
    from .audit.views import bp as audit_pages
    from .auth.users_views import bp as user_pages
    from .auth.views import bp as auth_pages
    from .campaigns.views import bp as campaign_pages
    from .contributions.views import bp as contribution_pages
    from .dashboard.views import bp as dashboard_pages
    from .donors.views import bp as donor_pages
    from .exports.views import bp as export_pages
    from .funds.views import bp as fund_pages
    from .households.views import bp as household_pages
    from .imports.views import bp as import_pages
    from .pledges.views import bp as pledge_pages
    from .reports.views import bp as report_pages
    from .web import csrf, init_web

    # CSRF is checked on pages only: the API takes no cookies, only bearer tokens.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    init_web(app)

    @app.before_request
    def _csrf_on_pages():
        if not request.path.startswith("/api/"):
            csrf.protect()

    for blueprint in (auth_pages, dashboard_pages, donor_pages, pledge_pages, contribution_pages, household_pages,
                      allocation_pages, approval_pages, user_pages, audit_pages, campaign_pages, fund_pages,
                      area_pages, export_pages, report_pages, import_pages):
        app.register_blueprint(blueprint, url_prefix="/staff")


def _document_fields() -> None:
    """How the custom input fields appear in the OpenAPI document."""
    from . import fields

    api.register_field(fields.MoneyVND, "integer", "int64")
    api.register_field(fields.Quantity, "string", "decimal")
    api.register_field(fields.LocalDate, "string", "date")
    for field in (fields.TaxCode, fields.VietnamPhone, fields.CitizenId):
        api.register_field(field, "string", None)
