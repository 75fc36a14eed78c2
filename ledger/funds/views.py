"""Admin pages for funds: everyone reads the list with what each holds, admins create; a
fund's page with its bank account and its VietQR code, printable."""
from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms import SelectField, StringField

from receipts.vietqr import BANKS, bank_name, vietqr_svg

from ..auth.service import can
from ..extensions import db
from ..problems import Conflict
from ..web import staff, staff_page
from ..web.form_input import UNKNOWN_AREA, RecordForm, form_status, init_record_pages, submit
from ..web.vocabulary import options
from . import service
from .schemas import FundBankAccountIn, FundIn

bp = Blueprint("fund_pages", __name__)
init_record_pages(bp)

BANK_FIELDS = ["bank_bin", "bank_account", "bank_account_name"]


def bank_choices(blank) -> list:
    """The common banks for a select: "Vietcombank (970436)"."""
    return options([("", blank), *((bin_, f"{name} ({bin_})") for bin_, name in BANKS.items())])


class FundForm(RecordForm):
    code = StringField(_l("Code"))
    name = StringField(_l("Name"))
    area_code = StringField(_l("Area code"))
    parent_fund_id = SelectField(_l("Parent fund"))
    bank_bin = SelectField(_l("Bank"))
    bank_account = StringField(_l("Account number"))
    bank_account_name = StringField(_l("Account name"))

    ids = ("parent_fund_id",)


class BankAccountForm(RecordForm):
    bank_bin = SelectField(_l("Bank"))
    bank_account = StringField(_l("Account number"))
    bank_account_name = StringField(_l("Account name"))


def payment_view(make_code) -> dict:
    """What a page shows of a VietQR code: the code with its QR as SVG, or why there is none."""
    try:
        code = make_code()
    except Conflict as refused:
        return {"code": None, "problem": str(refused.detail)}
    svg = vietqr_svg(code["payload"], title=f"VietQR {code['memo']}")
    return {"code": code, "svg": Markup(svg), "problem": None}


def _page(form, status: int = 200):
    user = staff()
    listed = db.session.scalars(service.list_funds(user)).all()
    choices = [(str(f.id), f"{f.name} ({f.code})") for f in listed]
    form.parent_fund_id.choices = options([("", _l("— none —")), *choices])
    form.bank_bin.choices = bank_choices(_l("— none yet —"))
    return render_template("staff/admin/funds.html", form=form, may_manage=can(user, "manage"),
                           funds=[(f, service.balances(f)) for f in listed], bank_name=bank_name), form_status(status)


@bp.get("/funds")
@staff_page()
def list_funds():
    return _page(FundForm())


@bp.post("/funds")
@staff_page("manage")
def create_fund():
    form = FundForm()
    form.bank_bin.choices = bank_choices("")
    data = form.load(FundIn(), ["code", "name", "area_code", "parent_fund_id", *BANK_FIELDS],
                     blank_is_none=("parent_fund_id",))
    status = 422 if data is None else submit(form, lambda: _created(data), done=_l("Fund created."),
                                             where=UNKNOWN_AREA)
    return status if not isinstance(status, int) else _page(form, status)


def _created(data) -> tuple[str, str]:
    fund = service.create_fund(staff(), **data)
    return url_for("fund_pages.show_fund", fund_id=fund.id), "created"


def _fund_page(fund, form=None, status: int = 200):
    user = staff()
    form = form or BankAccountForm(formdata=None)
    form.bank_bin.choices = bank_choices(_l("— choose —"))
    return render_template("staff/admin/fund.html", fund=fund, bank_name=bank_name(fund.bank_bin),
                           payment=payment_view(lambda: service.fund_payment_code(fund)), form=form,
                           may_manage=can(user, "manage")), form_status(status)


def _visible_fund(fund_id: int):
    fund = service.get_fund(fund_id, seen_by=staff())
    return fund


@bp.get("/funds/<int:fund_id>")
@staff_page()
def show_fund(fund_id):
    return _fund_page(_visible_fund(fund_id))


@bp.post("/funds/<int:fund_id>/bank-account")
@staff_page("manage")
def set_bank_account(fund_id):
    _visible_fund(fund_id)  # unknown or out of the user's area: refused before the form is read
    form = BankAccountForm()
    form.bank_bin.choices = bank_choices("")
    data = form.load(FundBankAccountIn(), BANK_FIELDS)
    status = 422 if data is None else submit(form, lambda: _account_set(fund_id, data),
                                             done=_l("Bank account saved."))
    if not isinstance(status, int):
        return status
    db.session.expire_all()
    return _fund_page(service.get_fund(fund_id), form, status)


def _account_set(fund_id, data) -> tuple[str, str]:
    service.set_bank_account(staff(), fund_id, **data)
    return url_for("fund_pages.show_fund", fund_id=fund_id), "saved"


@bp.get("/funds/<int:fund_id>/qr")
@staff_page()
def print_fund_qr(fund_id):
    """The fund's general code alone on a page, to print and pin up."""
    fund = _visible_fund(fund_id)
    return render_template("records/vietqr_print.html", subject=_l("Fund %(code)s", code=fund.code),
                           heading=fund.name, payment=payment_view(lambda: service.fund_payment_code(fund)),
                           back=url_for("fund_pages.show_fund", fund_id=fund.id))
