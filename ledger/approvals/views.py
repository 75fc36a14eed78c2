"""Staff pages of maker–checker: the requests waiting for a second person, and the approve
and reject forms. The approver sees what the request does and why (the requester's reason);
approving carries it out then, with every rule checked again."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..extensions import db
from ..idempotency.pages import FormAlreadyUsed, new_form_token, submit_once
from ..problems import Forbidden, InvalidInput, LedgerError, NotFound
from ..web import staff, staff_page
from . import service
from .models import KINDS, STATUSES

bp = Blueprint("approval_pages", __name__)

PER_PAGE = 50
FILTERS = ("pending", "approved", "rejected", "all")


class ApproveForm(FlaskForm):
    form_token = HiddenField()  # a double click approves once, and says so


class RejectForm(FlaskForm):
    form_token = HiddenField()
    reason = TextAreaField(_l("Why it is rejected"),
                           validators=[DataRequired(_l("Say why the request is rejected.")), Length(max=2000)])


def _with_token(form: FlaskForm) -> FlaskForm:
    if not form.form_token.data:
        form.form_token.data = new_form_token()
    return form


def _approval_or_abort(approval_id: int):
    try:
        return service.get_approval(staff(), approval_id)
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)


@bp.get("/approvals")
@staff_page()
def list_approvals():
    shown = request.args.get("status", "pending")
    shown = shown if shown in FILTERS else "pending"
    kind = request.args.get("kind") if request.args.get("kind") in KINDS else None
    query = service.list_approvals(staff(), None if shown == "all" else shown, kind)
    page_no = request.args.get("page", "1")
    page = db.paginate(query, page=int(page_no) if page_no.isdigit() and 0 < int(page_no) < 100_000 else 1,
                       per_page=PER_PAGE, error_out=False)
    return render_template("staff/approvals/list.html", page=page, shown=shown, kind=kind, filters=FILTERS,
                           statuses=STATUSES, service=service, user=staff())


def _page(endpoint: str, **values) -> str | None:
    """The URL of another part's page, if that page exists."""
    return url_for(endpoint, **values) if endpoint in current_app.view_functions else None


RECORD_PAGES = {"allocation": ("allocation_pages.show_allocation", "allocation_id"),
                "contribution": ("contribution_pages.show_contribution", "contribution_id"),
                "transfer": ("allocation_pages.show_transfer", "transfer_id")}


def _record_label(record_type: str, record_id: int) -> str:
    if record_type == "allocation":
        return str(_l("Allocation %(id)s", id=record_id))
    if record_type == "contribution":
        return str(_l("Contribution %(id)s", id=record_id))
    return str(_l("Transfer %(id)s", id=record_id))


def _facts(approval) -> list[tuple[str, str, str | None]]:
    """What the approver may want to know beside the request: (label, value, link)."""
    from receipts import words

    from ..households.service import allocated_value, get_household

    facts = []
    if approval.record_id is not None:
        endpoint, name = RECORD_PAGES[approval.record_type]
        facts.append((str(_l("Record")), _record_label(approval.record_type, approval.record_id),
                      _page(endpoint, **{name: approval.record_id})))
    if approval.kind == "allocation":
        household = get_household(approval.request["household_id"])
        facts.append((str(_l("Household's approved amount")), words.format_vnd(household.approved_amount_vnd),
                      _page("household_pages.show_household", household_id=household.id)))
        facts.append((str(_l("Allocated to it so far")), words.format_vnd(allocated_value(household.id)), None))
    if approval.leaf_index is not None:
        facts.append((str(_l("Transparency log entry")), str(approval.leaf_index), None))
    return facts


def _detail(approval, approve_form=None, reject_form=None, problems=(), status=200):
    user = staff()
    return render_template(
        "staff/approvals/detail.html", approval=approval, service=service, user=user, facts=_facts(approval),
        may_decide=service.may_decide_this(user, approval), own=approval.requested_by_id == user.id,
        approve_form=_with_token(approve_form or ApproveForm()),
        reject_form=_with_token(reject_form or RejectForm()), problems=list(problems)), status


@bp.get("/approvals/<int:approval_id>")
@staff_page()
def show_approval(approval_id):
    return _detail(_approval_or_abort(approval_id))


def _decide(approval_id: int, form: FlaskForm, action, done):
    """Run one decision once per form token; on a refusal show the request again with why."""
    user = staff()
    approval = _approval_or_abort(approval_id)
    if not form.validate_on_submit():
        forms = {"reject_form": form} if isinstance(form, RejectForm) else {"approve_form": form}
        return _detail(approval, **forms, status=422)
    location = url_for("approval_pages.show_approval", approval_id=approval_id)

    def decide() -> tuple[str, str]:
        action()
        return location, "decided"

    try:
        outcome = submit_once(user.id, form.form_token.data, decide)
    except FormAlreadyUsed:
        return _detail(approval, problems=[_l("This form was already used; nothing was done this time.")],
                       status=409)
    except InvalidInput as err:
        if isinstance(form, RejectForm):
            form.reason.errors = [str(err.detail)]
        db.session.rollback()
        return _detail(service.get_approval(user, approval_id), reject_form=form if isinstance(form, RejectForm)
                       else None, problems=[err.detail], status=err.status)
    except LedgerError as err:
        db.session.rollback()
        return _detail(service.get_approval(user, approval_id), problems=[err.detail], status=err.status)
    flash(_l("This form was sent twice; it was done once.") if outcome.replayed else done, "success")
    return redirect(outcome.location, 303)


@bp.post("/approvals/<int:approval_id>/approve")
@staff_page("override")
def approve(approval_id):
    return _decide(approval_id, ApproveForm(), lambda: service.approve(staff(), approval_id),
                   _l("Approved: it is carried out and recorded."))


@bp.post("/approvals/<int:approval_id>/reject")
@staff_page("override")
def reject(approval_id):
    form = RejectForm()
    return _decide(approval_id, form, lambda: service.reject(staff(), approval_id, form.reason.data),
                   _l("Rejected: it will not be carried out."))
