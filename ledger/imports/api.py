import json

from flask import jsonify
from flask_smorest import Blueprint

from ..auth.guard import current_user, token_required
from ..idempotency.service import idempotent
from ..jobs.api import job_accepted
from ..jobs.schemas import JobOut
from ..journal.schemas import ReasonIn
from ..pagination import paginate
from . import jobs, service
from .reconciliation import reconcile
from .schemas import (
    BankLineOut,
    BatchOut,
    CommitOut,
    ImportReconciliationOut,
    PlanOut,
    StatementFile,
    StatementUploadForm,
)
from .statements import ColumnMapping

blp = Blueprint("imports", __name__, url_prefix="/imports/bank-statements",
                description="Bank statement imports: a dry run first, then the commit; batches, voids, reconciliation")


def _mapping(form: dict) -> ColumnMapping | None:
    return service.column_mapping(json.loads(form["mapping"])) if form.get("mapping") else None


@blp.post("")
@token_required("record")
@idempotent
@blp.arguments(StatementUploadForm(), location="form")
@blp.arguments(StatementFile(), location="files")
@blp.response(200, PlanOut, description="the dry run (commit=false): what would be recorded; nothing is")
@blp.alt_response(201, schema=CommitOut, description="commit=true: the batch recorded, all or nothing")
@blp.alt_response(202, schema=JobOut, description="commit=true on a large file (or background=true): a job")
def import_statement(form, files):
    """Upload a statement: a dry run by default; `commit=true` records it as one batch.
    A line imported before (same bank, account, reference, time, amount and memo) is
    never recorded again; a line the ledger refuses refuses the whole file."""
    user, upload = current_user(), files["file"]
    data, name = upload.read(), upload.filename or "statement"
    options = {"bank": form.get("bank"), "mapping": _mapping(form), "campaign_id": form.get("campaign_id")}
    if not form["commit"]:
        return service.plan_import(user, form["fund_id"], data, name, **options)
    if form["background"] or jobs.is_large(data, name):
        return job_accepted(jobs.queue_import(user, form["fund_id"], data, name, form))
    plan, batch = service.commit_import(user, form["fund_id"], data, name, **options)
    resp = jsonify(CommitOut().dump({"batch": batch, "plan": plan}))
    resp.status_code = 201
    return resp


@blp.get("")
@token_required()
@blp.response(200, BatchOut(many=True))
@blp.paginate()
def list_batches(pagination_parameters):
    """Imported batches, newest first (a user bound to an area: its funds only)."""
    return paginate(service.list_batches(current_user()), pagination_parameters)


@blp.get("/<int:batch_id>")
@token_required()
@blp.response(200, BatchOut)
def get_batch(batch_id):
    return service.get_batch(current_user(), batch_id)


@blp.get("/<int:batch_id>/lines")
@token_required()
@blp.response(200, BankLineOut(many=True))
@blp.paginate()
def batch_lines(batch_id, pagination_parameters):
    """The batch's lines as the bank wrote them, and what each became."""
    service.get_batch(current_user(), batch_id)
    return paginate(service.batch_lines(batch_id), pagination_parameters)


@blp.post("/<int:batch_id>/void")
@token_required("override")
@idempotent
@blp.arguments(ReasonIn())
@blp.response(200, BatchOut)
def void_batch(data, batch_id):
    """Void every contribution of the batch, with a reason (approvers and admins); 409
    naming the allocations that still draw on one."""
    return service.void_batch(current_user(), batch_id, data["reason"])


@blp.get("/<int:batch_id>/reconciliation")
@token_required()
@blp.response(200, ImportReconciliationOut)
def reconciliation(batch_id):
    """The statement's closing balance against the fund's cash in the ledger on its last
    day, and the items that make up the difference."""
    return reconcile(current_user(), batch_id)
