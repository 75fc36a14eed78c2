"""Staff pages of bank statement imports: upload a statement and see what it would record
(the dry run, nothing written), record it in one step (a large file by a background job
whose page shows its progress), the imported batches, a batch with its lines and its
reconciliation with the bank's balance, and voiding a whole batch with a reason.

The uploaded file is kept between the preview and the commit under
instance/uploads/preview-<sha256>.statement, so "Record it" needs no second upload; the
commit reads it again and checks its hash. A form sent twice records once (its one-time
token), and a statement imported before records nothing new (the service compares every
line's identity): the page says so instead of failing.
"""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms import HiddenField, SelectField, StringField

from ..auth.models import User
from ..auth.privacy import sees_private_data
from ..auth.service import can
from ..extensions import db
from ..idempotency.pages import FormAlreadyUsed, submit_once
from ..jobs.service import get_job
from ..jobs.views import progress_view
from ..journal.schemas import ReasonIn
from ..problems import Conflict, InvalidInput, LedgerError, NotFound
from ..web import staff, staff_page
from ..web.form_input import (
    ReasonForm,
    RecordForm,
    form_status,
    id_input,
    init_record_pages,
    page_number,
    show_money,
    submit,
)
from ..web.record_forms import campaign_choices, fund_choices
from ..web.vocabulary import options
from . import jobs, reconciliation, service
from .statements import PRESETS

bp = Blueprint("import_pages", __name__)
init_record_pages(bp)

PREVIEW_LINES = 200  # lines shown in the preview; the counts cover them all
LINES_PER_PAGE = 100
BATCHES_PER_PAGE = 50
PREVIEW_KEPT_SECONDS = 24 * 3600  # an upload never recorded is deleted after this
_SHA256 = re.compile(r"[0-9a-f]{64}")

OUTCOME_LABELS = {
    "pledge": _l("Fulfils a pledge"),
    "donor": _l("Known donor"),
    "new_donor": _l("New donor to create"),
    "anonymous": _l("Anonymous gift"),
    "debit": _l("Money out (not a gift)"),
    "duplicate": _l("Already imported"),
}
# What each item of a reconciliation is, as a person reads it.
RECONCILIATION_LABELS = {
    "opening_balance": _l("Opening balance of the statement (money held before it)"),
    "bank_debit": _l("Money out on the statement"),
    "credit_not_in_ledger": _l("Credit on the statement that the ledger does not hold"),
    "imported_from_other_statements": _l("Credits imported from other statements"),
    "not_on_statement": _l("Gift received otherwise (not through this account)"),
    "allocated_or_transferred": _l("Allocated to households or transferred to other funds"),
}


class UploadForm(RecordForm):
    file = FileField(_l("Statement file (CSV or XLSX, as the bank exports it)"))
    fund_id = SelectField(_l("Fund the bank account belongs to"))
    campaign_id = SelectField(_l("Campaign"))
    bank = SelectField(_l("Bank"))
    # Another bank's layout (bank = custom): the header of each column, as printed.
    map_date = StringField(_l("Date column"))
    map_memo = StringField(_l("Memo column"))
    map_amount = StringField(_l("Amount column (signed: + in, - out)"))
    map_credit = StringField(_l("Credit column (money in)"))
    map_debit = StringField(_l("Debit column (money out)"))
    map_reference = StringField(_l("Reference column"))
    map_balance = StringField(_l("Balance column"))
    map_payer_name = StringField(_l("Payer name column"))
    map_payer_account = StringField(_l("Payer account column"))
    map_date_format = StringField(_l("Date format"))
    map_header_row = StringField(_l("Header row number"))

    ids = ("fund_id", "campaign_id")

    def mapping_values(self) -> dict:
        """The mapping as typed: {field: text}, empty fields left out; header_row a number
        when it reads as one (else kept as typed, and refused by the mapping's rules)."""
        values = {name[4:]: (getattr(self, name).data or "").strip() for name in MAPPING_FIELDS}
        row = values.get("header_row")
        if row and row.isdigit():
            values["header_row"] = int(row)
        return {k: v for k, v in values.items() if v != ""}


MAPPING_FIELDS = ("map_date", "map_memo", "map_amount", "map_credit", "map_debit", "map_reference",
                  "map_balance", "map_payer_name", "map_payer_account", "map_date_format", "map_header_row")


class CommitForm(RecordForm):
    """The preview's "Record it": what was previewed, named by the file's SHA-256."""

    sha256 = HiddenField()
    file_name = HiddenField()
    fund_id = HiddenField()
    campaign_id = HiddenField()
    bank = HiddenField()
    mapping = HiddenField()  # bank = custom: the column mapping previewed, as JSON


def bank_choices() -> list:
    return options([("", _l("Recognise automatically"))] + [(name, p.label) for name, p in PRESETS.items()]
                   + [("custom", _l("Another bank: name its columns below"))])


def upload_form(user) -> UploadForm:
    form = UploadForm()
    form.fund_id.choices = options([("", _l("Choose a fund"))] + fund_choices(user))
    form.campaign_id.choices = options([("", _l("The latest campaign covering the fund"))] + campaign_choices())
    form.bank.choices = bank_choices()
    return form


# --- the kept upload ------------------------------------------------------------------------

def uploads_directory() -> Path:
    return Path(current_app.config["INSTANCE_PATH"]) / "uploads"


def preview_path(sha256: str) -> Path:
    if not _SHA256.fullmatch(sha256 or ""):
        raise InvalidInput(_l("This preview is not one this page made: upload the statement again."))
    return uploads_directory() / f"preview-{sha256}.statement"


def keep_upload(data: bytes) -> str:
    """Keep the uploaded bytes for the commit; forget uploads never recorded for a day."""
    sha = service.file_sha256(data)
    folder = uploads_directory()
    folder.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - PREVIEW_KEPT_SECONDS
    for old in folder.glob("preview-*.statement"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except FileNotFoundError:
            pass
    path = preview_path(sha)
    temporary = path.with_suffix(f".{time.time_ns()}.part")
    temporary.write_bytes(data)
    temporary.replace(path)  # whole or not at all: a commit never reads half a file
    return sha


def kept_upload(sha256: str) -> bytes:
    """The previewed bytes again, refused when gone or changed."""
    path = preview_path(sha256)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise NotFound(_l("The previewed statement is no longer kept here: upload it again.")) from None
    if service.file_sha256(data) != sha256:
        raise InvalidInput(_l("The kept statement does not match what was previewed: upload it again."))
    return data


# --- what the pages show ---------------------------------------------------------------------

def when(moment) -> str:
    return moment.strftime("%d/%m/%Y %H:%M") if moment is not None else ""


def planned_row(p) -> dict:
    line = p.line
    donor_name = p.donor.name if p.donor is not None else p.donor_name
    return {"row": line.row, "time": when(line.posted_at), "reference": line.reference, "amount": line.amount_vnd,
            "outcome": p.outcome, "outcome_label": OUTCOME_LABELS.get(p.outcome, p.outcome),
            "pledge_id": p.pledge.id if p.pledge is not None else None,
            "pledge_code": p.pledge.code if p.pledge is not None else None,
            "donor_id": p.donor.id if p.donor is not None else None, "donor_name": donor_name,
            "earlier_batch_id": p.earlier_batch_id, "note": p.note, "memo": line.memo}


def refusal_rows(err: InvalidInput) -> list[dict]:
    """A refusal's errors keyed "row N" (and "file") as rows a person reads, in file order."""
    rows = []
    for key, messages in (err.errors or {}).items():
        match = re.fullmatch(r"row (\d+)", key)
        rows.append({"row": int(match.group(1)) if match else None,
                     "where": _l("The column mapping") if key == "mapping" else _l("The file"),
                     "messages": [str(m) for m in (messages if isinstance(messages, list | tuple) else [messages])]})
    return sorted(rows, key=lambda r: (r["row"] is not None, r["row"] or 0))


def _render_upload(form, *, plan=None, large=False, commit_form=None, refusal=None, status=200):
    preview = None
    if plan is not None:
        preview = {"plan": plan, "statement": plan.statement,
                   "rows": [planned_row(p) for p in plan.lines[:PREVIEW_LINES]],
                   "more": max(0, len(plan.lines) - PREVIEW_LINES),
                   "large": large,
                   "bank_label": PRESETS[plan.statement.bank].label if plan.statement.bank in PRESETS
                   else plan.statement.bank}
    return render_template("imports/upload.html", form=form, preview=preview, commit_form=commit_form,
                           refusal=refusal, show_memos=sees_private_data(staff())), status


@bp.route("/imports", methods=["GET", "POST"])
@staff_page("record")
def upload():
    """The upload form; sent, the dry run of the statement on the same page."""
    user = staff()
    form = upload_form(user)
    if request.method == "GET":
        return _render_upload(form)
    ok = True
    upload_file = request.files.get("file")
    if upload_file is None or not upload_file.filename:
        form.file.errors = [_l("Choose the statement file.")]
        ok = False
    fund_id = id_input(form.fund_id.data)
    if not isinstance(fund_id, int):
        form.fund_id.errors = [_l("Choose a fund.")]
        ok = False
    campaign_id = id_input(form.campaign_id.data)
    if campaign_id is not None and not isinstance(campaign_id, int):
        form.campaign_id.errors = [_l("Choose a campaign.")]
        ok = False
    bank = form.bank.data or None
    if bank is not None and bank not in PRESETS and bank != "custom":
        form.bank.errors = [_l("Choose a bank from the list.")]
        ok = False
    mapping_values = form.mapping_values() if bank == "custom" else {}
    if bank == "custom" and not mapping_values:
        form.map_date.errors = [_l("Another bank: name at least its date, memo and amount columns.")]
        ok = False
    if not ok:
        return _render_upload(form, status=422)
    data, name = upload_file.read(), upload_file.filename
    try:
        mapping = service.column_mapping(mapping_values)
        plan = service.plan_import(user, fund_id, data, name, bank=bank, mapping=mapping, campaign_id=campaign_id)
    except InvalidInput as err:
        if err.errors and any(k in ("file", "mapping") or k.startswith("row ") for k in err.errors):
            return _render_upload(form, refusal={"detail": str(err.detail), "rows": refusal_rows(err)}, status=422)
        return _render_upload(form, status=form_status(form.refuse(err)))
    except LedgerError as err:
        return _render_upload(form, status=form_status(form.refuse(err)))
    sha = keep_upload(data)
    commit_form = CommitForm(formdata=None, sha256=sha, file_name=name, fund_id=str(fund_id),
                             campaign_id=str(plan.campaign.id), bank=bank or "",
                             mapping=json.dumps(mapping_values, ensure_ascii=False) if mapping else "")
    return _render_upload(form, plan=plan, large=jobs.is_large(data, name), commit_form=commit_form)


def _recorded(user, fund_id, campaign_id, bank, mapping_json, sha, name) -> tuple[str, str]:
    """The commit, inside the form's one-time transaction: (where to go, what happened)."""
    data = kept_upload(sha)
    if jobs.is_large(data, name):
        job = jobs.queue_import(user, fund_id, data, name,
                                {"campaign_id": campaign_id, "bank": bank, "mapping": mapping_json})
        return url_for("import_pages.job_page", job_id=job.id), "queued"
    mapping = service.column_mapping(json.loads(mapping_json)) if mapping_json else None
    plan, batch = service.commit_import(user, fund_id, data, name, bank=bank, mapping=mapping,
                                        campaign_id=campaign_id)
    if batch is None:
        earlier = next((p.earlier_batch_id for p in plan.lines if p.earlier_batch_id), None)
        location = (url_for("import_pages.show_batch", batch_id=earlier) if earlier
                    else url_for("import_pages.list_batches"))
        return location, "nothing_new"
    return (url_for("import_pages.show_batch", batch_id=batch.id),
            f"recorded:{plan.counts['new']}:{plan.totals['new_credits_vnd']}:{plan.counts['duplicate']}")


def _say(note: str, replayed: bool) -> None:
    if replayed:
        flash(_l("This form was already sent: the statement is already imported, nothing was recorded twice."),
              "success")
    elif note == "queued":
        flash(_l("The statement is large: it is being recorded in the background. This page shows how far it "
                 "got."), "success")
    elif note == "nothing_new":
        flash(_l("Nothing new: every line was imported before. Nothing was recorded."), "info")
    elif note.startswith("recorded:"):
        _, count, total, duplicates = note.split(":")
        flash(_l("Recorded %(count)s contributions, %(total)s, each with its receipt. Lines already imported "
                 "before: %(duplicates)s.", count=show_money(int(count)),
                 total=show_money(int(total)) + " ₫", duplicates=show_money(int(duplicates))), "success")


def _json_object(text: str | None) -> bool:
    """No mapping, or one as the preview wrote it: a JSON object."""
    if text is None:
        return True
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


@bp.post("/imports/commit")
@staff_page("record")
def commit():
    """Record the previewed statement: one batch, all or nothing (or a job, when large)."""
    user = staff()
    form = CommitForm()
    sha = (form.sha256.data or "").strip().lower()
    fund_id, campaign_id = id_input(form.fund_id.data), id_input(form.campaign_id.data)
    bank = form.bank.data or None
    mapping_json = form.mapping.data or None
    name = (form.file_name.data or "").strip() or "statement"
    upload = upload_form(user)
    if not isinstance(fund_id, int) or not (campaign_id is None or isinstance(campaign_id, int)) or (
            bank is not None and bank not in PRESETS and bank != "custom") or not _json_object(mapping_json):
        upload.problems.append(str(_l("This preview is not one this page made: upload the statement again.")))
        return _render_upload(upload, status=422)
    try:
        outcome = submit_once(user.id, form.form_token.data,
                              lambda: _recorded(user, fund_id, campaign_id, bank, mapping_json, sha, name))
    except FormAlreadyUsed as used:
        _say("", True)
        return redirect(used.location, 303)
    except InvalidInput as err:
        if err.errors and any(k.startswith("row ") for k in err.errors):
            return _render_upload(upload, refusal={"detail": str(err.detail), "rows": refusal_rows(err)},
                                  status=422)
        return _render_upload(upload, status=form_status(upload.refuse(err)))
    except LedgerError as err:
        return _render_upload(upload, status=form_status(upload.refuse(err)))
    _say(outcome.note, outcome.replayed)
    return redirect(outcome.location, 303)


# --- a background import ---------------------------------------------------------------------

def import_job_view(job) -> dict:
    result = job.result or {}
    return {**progress_view(job), "file_name": (job.params or {}).get("file_name"), "batch_id": result.get("batch_id"),
            "counts": result.get("counts"), "totals": result.get("totals")}


@bp.get("/imports/jobs/<int:job_id>")
@staff_page("record")
def job_page(job_id: int):
    """A background import: its progress (the page refreshes itself), then its batch."""
    job = get_job(staff(), job_id)
    if job.kind != jobs.JOB_KIND:
        raise NotFound(_l("Unknown job %(id)s.", id=job_id))
    return render_template("imports/job.html", job=import_job_view(job))


# --- batches -----------------------------------------------------------------------------------

def _users(ids) -> dict[int, User]:
    ids = {i for i in ids if i is not None}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}


@bp.get("/imports/batches")
@staff_page()
def list_batches():
    page = db.paginate(service.list_batches(staff()), page=page_number(), per_page=BATCHES_PER_PAGE,
                       error_out=False)
    batches = list(page.items)
    return render_template("imports/batches.html", page=page, batches=batches,
                           users=_users(b.created_by_id for b in batches),
                           bank_labels={name: p.label.split(" (")[0] for name, p in PRESETS.items()})


def reconciliation_rows(rec) -> list[dict]:
    rows = []
    for item in rec.items:
        what = item["what"]
        detail = []
        if item.get("row") is not None:
            detail.append(str(_l("row %(row)s", row=item["row"])))
        if item.get("reference"):
            detail.append(str(item["reference"]))
        if item.get("receipt_number"):
            detail.append(str(item["receipt_number"]))
        rows.append({"what": what, "label": RECONCILIATION_LABELS.get(what, what), "detail": " · ".join(detail),
                     "amount": item["amount_vnd"], "contribution_id": item.get("contribution_id")})
    return rows


def _batch_page(batch_id: int, void_form=None, status=200):
    user = staff()
    batch = service.get_batch(user, batch_id)
    page = db.paginate(service.batch_lines(batch.id), page=page_number(), per_page=LINES_PER_PAGE, error_out=False)
    try:
        rec = reconciliation.reconcile(user, batch.id)
        rec_problem = None
    except Conflict as err:
        rec, rec_problem = None, str(err.detail)
    pledge_codes = {line.pledge_id: f"P{line.pledge_id:06d}" for line in page.items if line.pledge_id}
    users = _users([batch.created_by_id, batch.void.voided_by_id if batch.void else None])
    return render_template(
        "imports/batch.html", batch=batch, page=page, lines=page.items, pledge_codes=pledge_codes,
        outcome_labels=OUTCOME_LABELS, rec=rec, rec_rows=reconciliation_rows(rec) if rec else [],
        rec_problem=rec_problem, users=users, show_memos=sees_private_data(staff()),
        bank_label=PRESETS[batch.bank].label if batch.bank in PRESETS else batch.bank,
        may_void=can(user, "override") and not batch.is_voided,
        void_form=void_form or ReasonForm(formdata=None), when=when), status


@bp.get("/imports/batches/<int:batch_id>")
@staff_page()
def show_batch(batch_id: int):
    return _batch_page(batch_id)


@bp.post("/imports/batches/<int:batch_id>/void")
@staff_page("override")
def void_batch(batch_id: int):
    """Void every contribution of the batch, with a reason (approvers and admins)."""
    service.get_batch(staff(), batch_id)  # unknown or outside the area: refused as a page
    form = ReasonForm()
    data = form.load(ReasonIn(), ["reason"])
    status = 422 if data is None else submit(
        form, lambda: _voided(batch_id, data["reason"]),
        done=_l("The batch is voided: every contribution in it is voided and its receipts say VOIDED. Its lines may "
                "be imported again."))
    if not isinstance(status, int):
        return status
    db.session.expire_all()
    return _batch_page(batch_id, form, status)


def _voided(batch_id: int, reason: str) -> tuple[str, str]:
    service.void_batch(staff(), batch_id, reason)
    return url_for("import_pages.show_batch", batch_id=batch_id), "voided"

