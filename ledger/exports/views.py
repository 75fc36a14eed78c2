"""The staff exports page: choose what to export, its format and filters; download a CSV or
JSONL at once, or have it (and every XLSX) prepared in the background and follow the job.

The form is built from the exports' own definitions, so a dataset added to DATASETS or a
filter added to ExportQuery appears here without a change: the filters are loaded through
ExportQuery (the API's schema) and checked by `service.checked_filters`, as the API does.
A job's page refreshes itself (no JavaScript) until the job is finished.
"""
from __future__ import annotations

import base64
from datetime import date, timedelta

from flask import Blueprint, Response, render_template, request, send_file, stream_with_context, url_for
from flask_babel import lazy_gettext as _l
from marshmallow import fields as ma_fields
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, RadioField, SelectField, StringField

from receipts.exports import FORMATS

from ..auth.privacy import sees_private_data
from ..extensions import db
from ..fields import LocalDate
from ..jobs.models import Job
from ..jobs.service import get_job, list_jobs, result_file
from ..jobs.views import progress_view
from ..problems import LedgerError
from ..types import utcnow
from ..web import staff, staff_page
from ..web.form_input import RecordForm, form_status, refusal_page, show_date, show_money, submit
from ..web.record_forms import campaign_choices, fund_choices
from ..web.vocabulary import HOUSEHOLD_STATUSES, PLEDGE_STATUSES, RECORD_STATUSES, RESOURCE_KINDS, options
from . import service
from .schemas import ExportQuery

bp = Blueprint("export_pages", __name__)
bp.register_error_handler(LedgerError, refusal_page)

# What each export is called on the page; a dataset without a label shows its name.
DATASET_LABELS = {
    "postings": _l("Journal postings (double entry)"),
    "contributions": _l("Contributions received"),
    "allocations": _l("Allocations to households"),
    "pledges": _l("Pledges"),
    "households": _l("Beneficiary households"),
    "households_private": _l("Beneficiary households, with ID numbers, phones and addresses"),
    "fund_balances": _l("Fund balances"),
    "receipts": _l("Receipts issued"),
    "import_batches": _l("Imported bank statements"),
    "log_entries": _l("Transparency log entries"),
    "checkpoints": _l("Signed log checkpoints"),
}
FORMAT_LABELS = {
    "csv": _l("CSV (opens in Excel, UTF-8)"),
    "jsonl": _l("JSON Lines (one record per line)"),
    "xlsx": _l("Excel workbook XLSX (always prepared in the background)"),
}
# The filters of ExportQuery as a person reads them; a filter without a label shows its name.
FILTER_LABELS = {
    "campaign_id": _l("Campaign"),
    "fund_id": _l("Fund"),
    "area_code": _l("Area code"),
    "kind": _l("Kind"),
    "date_from": _l("From (dd/mm/yyyy)"),
    "date_to": _l("To (dd/mm/yyyy)"),
    "include_reversed": _l("Include voided and reversed records"),
    "status": _l("Status"),
}
FILTER_HINTS = {
    "area_code": _l("The fund's area and every area under it, e.g. 01 or 00004."),
    "date_from": _l("The day received (contributions), issued (receipts) or recorded, Vietnam time. "
                    "Fund balances: the start of the period."),
    "date_to": _l("Inclusive. Fund balances: the balance date (today when empty)."),
}
# The values of choice filters, as the other pages name them.
VALUE_LABELS = {
    "kind": RESOURCE_KINDS,
    "status": {"live": _l("In force (not voided or reversed)"), "issued": _l("Issued (not voided)"),
               **RECORD_STATUSES, **PLEDGE_STATUSES, **HOUSEHOLD_STATUSES},
}
NOT_ON_THE_PAGE = frozenset({"background"})  # the page's two buttons say it instead
# The page's own fields: a filter of the same name would be hidden by them.
OWN_FIELDS = frozenset({"dataset", "file_format", "mode", "csrf_token", "form_token"})
RECENT_JOBS = 10
SAME_REQUEST_WINDOW = timedelta(seconds=10)  # the same export asked again this soon: the same job


def dataset_label(name: str) -> str:
    return str(DATASET_LABELS.get(name, name))


def format_label(name: str) -> str:
    return str(FORMAT_LABELS.get(name, name.upper()))


def filter_hints() -> dict:
    hints = dict(FILTER_HINTS)
    with_statuses = [dataset_label(d.name) for d in service.DATASETS.values() if getattr(d, "statuses", ())]
    if with_statuses:
        hints["status"] = _l("Only for: %(names)s.", names=", ".join(with_statuses))
    return hints


def filter_names() -> list[str]:
    """ExportQuery's filters, in its order, that the page shows."""
    return [name for name in ExportQuery().fields if name not in NOT_ON_THE_PAGE | OWN_FIELDS]


def _filter_field(name: str, schema_field, user):
    """The form field for one filter of ExportQuery, from its kind of field."""
    label = FILTER_LABELS.get(name, name)
    if name == "campaign_id":
        return SelectField(label, choices=options([("", _l("All campaigns"))] + campaign_choices()))
    if name == "fund_id":
        return SelectField(label, choices=options([("", _l("All funds"))] + fund_choices(user)))
    values = getattr(schema_field, "values", None)  # ledger.fields.Choice
    if name == "status":  # each dataset has its own statuses: every one of them, once
        values = tuple(dict.fromkeys(v for d in service.DATASETS.values() for v in getattr(d, "statuses", ())))
    if values is not None:
        named = VALUE_LABELS.get(name, {})
        return SelectField(label, choices=options([("", _l("All"))] + [(v, named.get(v, v)) for v in values]))
    if isinstance(schema_field, ma_fields.Boolean):
        default = schema_field.load_default if isinstance(schema_field.load_default, bool) else False
        return BooleanField(label, default=default)
    return StringField(label)


def export_form(user) -> RecordForm:
    """The exports form, built from DATASETS and ExportQuery as they are now."""
    schema_fields = ExportQuery().fields
    names = filter_names()
    # A dataset of private fields is offered only to those who may read them.
    datasets = [name for name, data in service.DATASETS.items() if not data.private or sees_private_data(user)]
    attrs = {
        "dataset": SelectField(_l("What to export"), choices=options([(n, dataset_label(n)) for n in datasets]),
                               default="contributions" if "contributions" in datasets else datasets[0]),
        "file_format": RadioField(_l("File format"), choices=options([(f, format_label(f)) for f in FORMATS]),
                                  default="csv"),
        "filter_names": tuple(names),
        "dates": tuple(n for n in names if isinstance(schema_fields[n], LocalDate)),
        "ids": tuple(n for n in names if isinstance(schema_fields[n], ma_fields.Integer)),
        "booleans": tuple(n for n in names if isinstance(schema_fields[n], ma_fields.Boolean)),
    }
    for name in names:
        attrs[name] = _filter_field(name, schema_fields[name], user)
    form_class = type("ExportForm", (RecordForm,), attrs)
    if request.method == "POST":
        return form_class()
    # A GET may preset the form (?dataset=allocations&area_code=01); a check box left out of
    # the address keeps its default (present and empty: unchecked).
    if not any(k in OWN_FIELDS | set(names) for k in request.args):
        return form_class()
    preset = MultiDict(request.args)
    for name in attrs["booleans"]:
        if name not in preset and attrs[name].kwargs.get("default"):
            preset[name] = "y"
    return form_class(formdata=preset)


def _load(form) -> tuple[str, str, dict] | None:
    """(dataset, format, ExportQuery's filters) as typed; None with the messages on the form."""
    ok = True
    if form.dataset.data not in service.DATASETS:
        form.dataset.errors = [_l("Choose what to export.")]
        ok = False
    if form.file_format.data not in FORMATS:
        form.file_format.errors = [_l("Choose a file format.")]
        ok = False
    args = form.load(ExportQuery(), form.filter_names)
    if args is None or not ok:
        return None
    return form.dataset.data, form.file_format.data, args


def _stream(user, data, fmt: str, filters: dict) -> Response:
    """The file, streamed as the API streams it (same bytes, same headers, and its signed
    manifest kept when the last byte is out)."""
    signed = service.SignedStream(user, data, fmt, filters)
    resp = Response(stream_with_context(iter(signed)), mimetype=None, content_type=service.CONTENT_TYPES[fmt])
    resp.headers["X-Export-Manifest-Id"] = signed.manifest_id
    resp.headers["Content-Disposition"] = f'attachment; filename="{service.file_name(data.name, fmt)}"'
    resp.headers["Cache-Control"] = "private, no-cache"
    return resp


def _same_job_just_asked(user, what: str, fmt: str, filters: dict) -> Job | None:
    """The user's job for exactly this export asked a few seconds ago, if there is one: a
    second click (or a second tab) follows the first job instead of starting another."""
    params = {"what": what, "format": fmt, "filters": service.filters_to_json(filters)}
    recent = db.session.scalars(
        list_jobs(user, kind=service.JOB_KIND)
        .where(Job.requested_by_id == user.id, Job.created_at >= utcnow() - SAME_REQUEST_WINDOW,
               Job.status != "failed")
        .limit(5))
    return next((job for job in recent if job.params == params), None)


def _queue(user, what: str, fmt: str, filters: dict) -> tuple[str, str]:
    job = _same_job_just_asked(user, what, fmt, filters) or service.queue_export(user, what, fmt, filters)
    return url_for("export_pages.job_page", job_id=job.id), "queued"


@bp.route("/exports", methods=["GET", "POST"])
@staff_page("audit")
def exports_page():
    user = staff()
    form = export_form(user)
    status = 200
    if request.method == "POST":
        loaded = _load(form)
        if loaded is None:
            status = 422
        else:
            what, fmt, args = loaded
            try:
                data = service.dataset(what, fmt)
                filters = service.checked_filters(user, args, data)
            except LedgerError as err:
                status = form_status(form.refuse(err, {"This is outside your area (%(area)s).": ("area_code",)}))
            else:
                if request.form.get("mode") == "download" and fmt in service.STREAMED:
                    return _stream(user, data, fmt, filters)
                outcome = submit(form, lambda: _queue(user, what, fmt, filters),
                                 done=_l("The export is being prepared in the background; this page shows how far "
                                         "it got, and its download once it is ready."))
                if not isinstance(outcome, int):
                    return outcome
                status = outcome
    jobs = db.session.scalars(list_jobs(user, kind=service.JOB_KIND).where(Job.requested_by_id == user.id)
                              .limit(RECENT_JOBS)).all()
    return render_template("exports/index.html", form=form, jobs=[job_view(j) for j in jobs],
                           filter_hints=filter_hints()), status


# --- a job ---------------------------------------------------------------------------------

def job_view(job: Job) -> dict:
    """What the pages show of a job: its progress, what it exports, its file."""
    params = job.params or {}
    is_export = job.kind == service.JOB_KIND
    result = job.result or {}
    return {
        **progress_view(job),
        "what": dataset_label(params.get("what", "")) if is_export else job.kind,
        "format": str(params.get("format", "")).upper() if is_export else "",
        "filters": describe_filters(params.get("filters") or {}) if is_export else [],
        "url": url_for("export_pages.job_page", job_id=job.id),
        "download_url": url_for("export_pages.download", job_id=job.id) if job.has_file else None,
        "file": result.get("file"),
        "size_text": show_money(result["size"]) if isinstance(result.get("size"), int) else None,
        "rows_text": show_money(result["rows"]) if isinstance(result.get("rows"), int) else None,
        "sha256": result.get("sha256"),
    }


def describe_filters(filters: dict) -> list[tuple[str, str]]:
    """A job's filters (JSON, as queued) as (label, value) a person reads."""
    from ..areas.models import Area
    from ..campaigns.models import Campaign
    from ..funds.models import Fund

    described = []
    for name, value in sorted(filters.items(), key=lambda item: _filter_order(item[0])):
        if value is None or value == "":
            continue
        label = str(FILTER_LABELS.get(name, name))
        if name.startswith("date_") and isinstance(value, str):
            try:
                text = show_date(date.fromisoformat(value))
            except ValueError:
                text = value
        elif isinstance(value, bool):
            text = str(_l("Yes") if value else _l("No"))
        elif name == "campaign_id":
            campaign = db.session.get(Campaign, value)
            text = f"{campaign.name} ({campaign.code})" if campaign else str(value)
        elif name == "fund_id":
            fund = db.session.get(Fund, value)
            text = f"{fund.name} ({fund.code})" if fund else str(value)
        elif name == "area_code":
            area = db.session.get(Area, value)
            text = f"{area.name} ({value})" if area else str(value)
        else:
            text = str(VALUE_LABELS.get(name, {}).get(value, value))
        described.append((label, text))
    return described


def _filter_order(name: str) -> int:
    names = list(ExportQuery().fields)
    return names.index(name) if name in names else len(names)


@bp.get("/exports/jobs/<int:job_id>")
@staff_page()
def job_page(job_id: int):
    """A job's status and progress; it refreshes itself every 2 seconds until finished."""
    job = get_job(staff(), job_id)
    return render_template("exports/job.html", job=job_view(job))


@bp.get("/exports/jobs/<int:job_id>/download")
@staff_page()
def download(job_id: int):
    """The finished job's file, under the same rules as the API's download."""
    path, result = result_file(staff(), job_id)
    resp = send_file(path, mimetype=result.get("content_type"), as_attachment=True, download_name=path.name,
                     conditional=True, max_age=0)
    resp.headers["Cache-Control"] = "private, no-cache"
    if result.get("sha256"):
        resp.headers["Repr-Digest"] = f"sha-256=:{base64.b64encode(bytes.fromhex(result['sha256'])).decode()}:"
    return resp
