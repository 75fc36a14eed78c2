"""The staff forms' input: what a person types, made into what the API's schemas take, and
the ledger's refusals put back next to the fields they concern.

A page form is loaded through the same marshmallow schema as the API (one place per rule);
only the writing is friendlier here: amounts with or without separators ("1.500.000",
"1 500 000"), quantities with a decimal comma ("12,5"), dates as dd/mm/yyyy. Nothing is
ever a float: amounts become digit strings, quantities decimal strings, and the schema's
fields turn them into integers.
"""
from __future__ import annotations

import re
from datetime import date

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError
from wtforms import HiddenField, TextAreaField

from ..extensions import db
from ..idempotency.pages import FormAlreadyUsed, new_form_token, submit_once
from ..problems import Conflict, Forbidden, LedgerError, NotFound

# --- what people type ---------------------------------------------------------------------
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]+")
_CURRENCY = re.compile(r"\s*(?:₫|đồng|đ|vnđ|vnd)\s*$", re.IGNORECASE)
_GROUPED = re.compile(r"[0-9]{1,3}(?P<sep>[., ])[0-9]{3}(?:(?P=sep)[0-9]{3})*")
_DIGITS = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[0-9]+(?:[.,][0-9]+)?")
_GROUPED_DECIMAL = re.compile(r"([0-9]{1,3}(?:(?P<sep>[.,])[0-9]{3})+)(?P<point>[.,])([0-9]+)")
_GROUPED_WHOLE = re.compile(r"[0-9]{1,3}(?:(?P<sep>[.,])[0-9]{3}){2,}")
_DMY = re.compile(r"([0-9]{1,2})[/.-]([0-9]{1,2})[/.-]([0-9]{4})")


def money_input(text: str) -> str:
    """Whole đồng as typed ("1.500.000", "1,500,000", "1 500 000 ₫", "1500000") as the
    digit string the API takes. Anything else is returned as typed (trimmed), for the
    schema to say what is wrong with it: "1,5" is not a whole number of đồng."""
    value = _CURRENCY.sub("", _SPACES.sub(" ", text or "").strip()).strip()
    if _DIGITS.fullmatch(value):
        return value
    if _GROUPED.fullmatch(value):
        return re.sub(r"[^0-9]", "", value)
    return value


def quantity_input(text: str) -> str:
    """A quantity with a decimal comma or point ("12,5", "12.5") as the API's decimal string
    ("12.5"). Spaces may group thousands ("1 200,5"); with both marks, the last is the
    decimal one ("1.200,5", "1,200.5"); a mark repeated groups thousands ("1.200.000")."""
    value = _SPACES.sub("", text or "")
    match = _GROUPED_DECIMAL.fullmatch(value)
    if match and match.group("sep") != match.group("point"):
        return re.sub(r"[^0-9]", "", match.group(1)) + "." + match.group(4)
    if _GROUPED_WHOLE.fullmatch(value):
        return re.sub(r"[^0-9]", "", value)
    if _DECIMAL.fullmatch(value):
        return value.replace(",", ".")
    return value


def date_input(text: str) -> str:
    """A date as dd/mm/yyyy (also d/m/yyyy, dd-mm-yyyy, dd.mm.yyyy) or yyyy-mm-dd, as the
    API's yyyy-mm-dd. An impossible day (31/02/2025) goes on, for the schema to refuse."""
    value = (text or "").strip()
    match = _DMY.fullmatch(value)
    if match:
        day, month, year = (int(g) for g in match.groups())
        return f"{year:04d}-{month:02d}-{day:02d}"
    return value


def id_input(text):
    """An id from a select or a number field: an int, None when blank, else as typed."""
    if isinstance(text, int):
        return text
    value = (text or "").strip()
    if not value:
        return None
    return int(value) if _DIGITS.fullmatch(value) and len(value) < 19 else value


def show_money(amount: int | None) -> str:
    """An amount as a person would type it back into a form: 1500000 -> "1.500.000"."""
    if amount is None:
        return ""
    digits = str(int(amount))
    groups = []
    while digits:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    return ".".join(groups)


def show_date(day: date | None) -> str:
    return "" if day is None else f"{day.day:02d}/{day.month:02d}/{day.year:04d}"


def show_quantity(text: str | None) -> str:
    """A decimal string ("12.500") as typed in Vietnamese ("12,5")."""
    if not text:
        return ""
    whole, _, frac = text.partition(".")
    frac = frac.rstrip("0")
    return whole + ("," + frac if frac else "")


# --- the schema's messages, as a page says them ---------------------------------------------
# The API's wording names the API's formats; a page accepts more and says so.
PAGE_MESSAGES = {
    "Enter a date as YYYY-MM-DD, such as 2025-03-31.": _l("Enter a date as dd/mm/yyyy, such as 31/03/2025."),
    'Enter the quantity as a decimal string, such as "12.5".': _l("Enter a number, such as 12,5."),
    "Enter the amount as a whole number of đồng.": _l("Enter a whole number of đồng, such as 1.500.000."),
    "Missing data for required field.": _l("Fill in this field."),
    "Field may not be null.": _l("Fill in this field."),
    "Not a valid integer.": _l("Enter a number."),
}

# Refusals that name no field, and the field they concern (the first one a form has).
WHERE = {
    "Unknown donor %(id)s.": ("donor_id",),
    "Unknown fund %(id)s.": ("fund_id",),
    "Unknown campaign %(id)s.": ("campaign_id",),
    "Unknown pledge %(id)s.": ("pledge_id",),
    "Unknown household %(id)s.": ("household_id", "earmark_household_id"),
    "Unknown contribution %(id)s.": ("source_contribution",),
    "Unknown area code %(code)s.": ("commune_code", "earmark_area_code", "area_code"),
    "No receipt %(number)s.": ("source_contribution",),
    "This is outside your area (%(area)s).": ("fund_id", "commune_code"),
    "Received before the campaign started.": ("received_on",),
}


def _msgid(message) -> str | None:
    """The English msgid of a lazy message (the text the catalogue knows it by)."""
    if isinstance(message, LazyString) and message._args:
        return message._args[0]
    return None


def page_text(message) -> str:
    msgid = _msgid(message) or str(message)
    if msgid in PAGE_MESSAGES:
        return str(PAGE_MESSAGES[msgid])
    return str(message) if isinstance(message, LazyString) else gettext(str(message))


class RecordForm(FlaskForm):
    """A staff form loaded through an API schema. Subclasses say which of their fields hold
    amounts, quantities, dates and ids, and which API field a form field stands for."""

    form_token = HiddenField()  # double submission records once (ledger.idempotency.pages)

    money: tuple[str, ...] = ()
    quantities: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    # API field -> form field, where they differ.
    aliases: dict[str, str] = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.form_token.data:
            self.form_token.data = new_form_token()
        self.problems: list[str] = []
        self.already_sent: str | None = None  # where the first submission of this form went

    def value(self, name: str):
        """The typed value of a form field, in the API's form (digits, "12.5", ISO date)."""
        raw = self._fields[name].data
        if name in self.ids:
            return id_input(raw)
        text = (raw or "").strip() if isinstance(raw, str) else raw
        if text in ("", None):
            return None
        if name in self.money:
            return money_input(text)
        if name in self.quantities:
            return quantity_input(text)
        if name in self.dates:
            return date_input(text)
        return text

    def load(self, schema, names, *, blank_is_none=(), extra: dict | None = None) -> dict | None:
        """Load the fields `names` through `schema`. A blank field is left out (so a required
        one is said to be missing), or sent as None when named in `blank_is_none` (an edit
        that clears it); `extra` API fields are sent as given. None when something is
        wrong: the messages are on the fields."""
        body = dict(extra or {})
        for api_name in names:
            value = self.value(self.aliases.get(api_name, api_name))
            if value is None and api_name not in blank_is_none:
                continue
            body[api_name] = value
        try:
            return schema.load(body)
        except ValidationError as exc:
            self.bind(exc.messages)
            return None

    def bind(self, errors: dict) -> None:
        """{api field: [message, ...]} next to the form's fields; the rest for the page."""
        for name, messages in errors.items():
            if isinstance(messages, dict):  # nested: not used by these forms, said plainly
                self.bind({name: [m for ms in messages.values() for m in ms]})
                continue
            texts = [page_text(m) for m in (messages if isinstance(messages, list | tuple) else [messages])]
            self.attach(name, texts)

    def attach(self, api_name: str, texts: list[str]) -> bool:
        field = self._fields.get(self.aliases.get(api_name, api_name))
        if field is None or field.name in ("csrf_token", "form_token"):
            self.problems.extend(t for t in texts if t not in self.problems)
            return False
        field.errors = list(field.errors or []) + [t for t in texts if t not in (field.errors or [])]
        return True

    def refuse(self, err: LedgerError, where: dict[str, tuple[str, ...]] | None = None) -> int:
        """A refusal of the ledger on this form: its message at the top, and next to the
        fields it names (or, when it names none, the field it is about). The HTTP status."""
        detail = str(err.detail)
        self.problems.append(detail)
        for name, values in (err.errors or {}).items():
            # Some refusals list messages per field, others a hint (a code, a date): then
            # the refusal's own message is what the field needs to show.
            texts = [str(v) for v in values if isinstance(v, LazyString)] or [detail]
            self.attach(name, texts)
        if not err.errors:
            for candidate in {**WHERE, **(where or {})}.get(_msgid(err.detail), ()):
                if candidate in self._fields:
                    self.attach(candidate, [detail])
                    break
        return err.status

    def sent_before(self, location: str) -> None:
        """This form's token was used by a different submission: nothing new was recorded."""
        self.already_sent = location
        self.form_token.data = new_form_token()

    @property
    def has_errors(self) -> bool:
        return bool(self.problems) or any(f.errors for f in self)


class ReasonForm(RecordForm):
    """Why a pledge is cancelled, a contribution voided, an allocation or transfer reversed."""

    reason = TextAreaField(_l("Reason"))


# --- pages that refuse -----------------------------------------------------------------------
def refusal_page(err: LedgerError):
    """A clear page for a refusal outside a form: not allowed, not found, or a ledger rule."""
    return render_template("records/refused.html", error=err, forbidden=isinstance(err, Forbidden),
                           not_found=isinstance(err, NotFound)), err.status


def init_record_pages(bp) -> None:
    """What every page of the daily records needs: refusals answered with a page (not the
    API's problem+json), the vocabulary, and whether the user may record."""
    from .vocabulary import VOCABULARY

    bp.register_error_handler(LedgerError, refusal_page)

    @bp.context_processor
    def _record_page_helpers():
        from flask_login import current_user

        from ..auth.service import can

        may_record = bool(current_user.is_authenticated and can(current_user, "record"))
        return {"labels": VOCABULARY, "may_record": may_record, "page_url": page_url, "resource_of": resource_of}

    @bp.errorhandler(IntegrityError)
    def _made_at_the_same_time(_err):
        # Two writers made the same unique thing at once: the database kept the first.
        db.session.rollback()
        err = Conflict(gettext("This conflicts with a record made at the same time. Nothing was changed."))
        return refusal_page(err)


def approvals_link() -> Markup:
    """'Sent for approval' for a flash message, with a link to the approvals list if it exists."""
    text = escape(gettext("Sent for approval: a second person with the approver role must approve it "
                          "before it takes effect."))
    if "approval_pages.list_approvals" in current_app.view_functions:
        link = url_for("approval_pages.list_approvals")
        text += Markup(' <a href="{}">{}</a>').format(link, gettext("See the approvals"))
    return Markup(text)


def waiting_requests(kind: str, *, record_id: int | None = None, household_id: int | None = None) -> list:
    """Requests of this kind still waiting for a second person's approval: for one record
    (a void or a reversal), or the allocations asked for one household."""
    from sqlalchemy import select

    from ..approvals.models import Approval

    query = select(Approval).where(Approval.kind == kind, Approval.status == "pending").order_by(Approval.id)
    if record_id is not None:
        query = query.where(Approval.record_id == record_id)
    requests = db.session.scalars(query).unique().all()
    if household_id is not None:
        requests = [r for r in requests if (r.request or {}).get("household_id") == household_id]
    return list(requests)


def is_pending(result) -> bool:
    """Did the service keep the request for a second person's approval instead of doing it?"""
    return bool(getattr(result, "is_pending", False))


def page_url(number: int) -> str:
    """This list page with its filters, at page `number`."""
    args = {**request.view_args, **request.args.to_dict(), "page": number}
    return url_for(request.endpoint, **args)


def resource_of(record) -> dict:
    """What a pledge, contribution, allocation or transfer moves, in the API's words."""
    from ..journal.resources import describe

    return describe(record.kind, record.commodity, record.units, getattr(record, "value_vnd", None),
                    getattr(record, "unit_price_vnd", None))


def page_number() -> int:
    value = request.args.get("page", "1")
    return int(value) if value.isdigit() and 0 < int(value) < 100_000 else 1


# An unknown area code typed into a form is the form's mistake: shown at its field.
UNKNOWN_AREA = {"Unknown area code %(code)s.": ("area_code",)}


def form_status(status: int) -> int:
    """A form refused because something it names does not exist answers 422, not 404:
    the page exists, what was typed is wrong."""
    return 422 if status == 404 else status


def submit(form: RecordForm, action, *, done, where=None):
    """Carry out a loaded form's one service call, once per form token. On success (or a
    second submission of the same form) a redirect to where it leads, with a message; on a
    refusal the HTTP status to show the form again with, the messages bound to it."""
    from . import staff

    try:
        outcome = submit_once(staff().id, form.form_token.data, action)
    except FormAlreadyUsed as used:
        form.sent_before(used.location)
        return 409
    except LedgerError as err:
        return form.refuse(err, where)
    if outcome.note == "pending":
        flash(approvals_link(), "info")
    elif outcome.replayed:
        flash(_l("This form was sent twice; it was recorded once."), "success")
    else:
        flash(done, "success")
    return redirect(outcome.location, 303)
