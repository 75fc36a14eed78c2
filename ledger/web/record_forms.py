"""Form pieces the pledge, contribution and allocation pages share: the resource of the three
kinds, and the choice lists of campaigns, funds, donors and households a user may use."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import SelectField, StringField

from ..extensions import db
from ..journal.resources import FIELDS_BY_KIND, PRICE_FIELD
from .form_input import RecordForm, show_date
from .vocabulary import RESOURCE_KINDS, choices


class ResourceForm(RecordForm):
    """kind, then amount | item, unit, quantity, unit value | person-days, day rate."""

    kind = SelectField(_l("Kind"), choices=choices(RESOURCE_KINDS))
    amount_vnd = StringField(_l("Amount (đồng)"))
    item = StringField(_l("Item"))
    unit = StringField(_l("Unit"))
    quantity = StringField(_l("Quantity"))
    unit_value_vnd = StringField(_l("Value of one unit (đồng)"))
    person_days = StringField(_l("Person-days"))
    day_rate_vnd = StringField(_l("Value of one person-day (đồng)"))

    money = ("amount_vnd", "unit_value_vnd", "day_rate_vnd")
    quantities = ("quantity", "person_days")

    def resource_names(self, *, priced: bool) -> tuple[str, ...]:
        """The API fields of the chosen kind only: what was typed for another kind stays in
        the form (in case the kind was chosen wrong) but is not sent."""
        kind = self.kind.data if self.kind.data in FIELDS_BY_KIND else "cash"
        names = FIELDS_BY_KIND[kind]
        if not priced:
            names = tuple(n for n in names if n not in PRICE_FIELD.values())
        return ("kind", *names)

    def quantity_field(self) -> str:
        """The field that holds how much of the chosen kind: where "not enough" is said."""
        return {"material": "quantity", "labour": "person_days"}.get(self.kind.data, "amount_vnd")


def campaign_choices() -> list[tuple[str, str]]:
    from ..campaigns.models import Campaign

    campaigns = db.session.scalars(select(Campaign).order_by(Campaign.starts_on.desc(), Campaign.id)).all()
    return [(str(c.id), f"{c.name} ({c.code})") for c in campaigns]


def fund_choices(user) -> list[tuple[str, str]]:
    """The funds in the user's area and below: the only ones it may record into."""
    from ..funds.service import list_funds

    return [(str(f.id), f"{f.name} ({f.code})") for f in db.session.scalars(list_funds(user)).unique()]


def donor_choices(selected_id, q: str | None, blank) -> list[tuple[str, str]]:
    """The donor list of a form: `blank` first (anonymous, or "choose"), the chosen donor,
    then the donors matching the search `q` (or the latest recorded when there is none)."""
    from ..donors.models import Donor
    from ..donors.service import search_donors

    query = search_donors(q) if q else select(Donor).order_by(Donor.id.desc())
    found = list(db.session.scalars(query.limit(30)))
    if isinstance(selected_id, int) and all(d.id != selected_id for d in found):
        chosen = db.session.get(Donor, selected_id)
        if chosen is not None:
            found.insert(0, chosen)
    return [("", blank)] + [(str(d.id), donor_label(d)) for d in found]


def choose_donor(form, blank) -> None:
    """Fill a form's donor list (`donor_id`) from its search (`donor_q`): a search that finds
    one donor, made without JavaScript (the page reloaded with ?donor_q=), chooses it."""
    from flask import request

    from .form_input import id_input
    from .vocabulary import options

    donors = donor_choices(id_input(form.donor_id.data), form.donor_q.data or None, blank)
    if request.method == "GET" and form.donor_q.data and not form.donor_id.data and len(donors) == 2:
        form.donor_id.data = donors[1][0]
    form.donor_id.choices = options(donors)


def donor_label(donor) -> str:
    """How a donor is named in a choice list: its name, and its tax code when it has one."""
    return f"{donor.name} · {donor.tax_code}" if donor.tax_code else donor.name


def household_choices(user, selected_id=None, *, approved_only: bool = True) -> list[tuple[str, str]]:
    """Households in the user's area (for an allocation: approved ones, those that may
    receive), named "#12 Nguyễn Văn An · Phường Ba Đình"."""
    from ..households.models import STATUSES, Household
    from ..households.service import list_households

    query = list_households(user, {})
    if approved_only:
        query = query.where(Household.status.in_(STATUSES[STATUSES.index("approved"):]))
    households = list(db.session.scalars(query.limit(500)).unique())
    if isinstance(selected_id, int) and all(h.id != selected_id for h in households):
        chosen = db.session.get(Household, selected_id)
        if chosen is not None:
            households.insert(0, chosen)
    return [("", _l("— choose —"))] + [(str(h.id), household_label(h)) for h in households]


def household_label(household) -> str:
    return f"#{household.id} {household.head_name} · {household.commune.name}"


def pledge_choices(user, donor_id, selected_id=None) -> list[tuple[str, str]]:
    """The donor's pledges still waiting for contributions, in the user's area."""
    from ..pledges.service import list_pledges, pledge_status
    from .form_input import resource_of

    options = [("", _l("— none —"))]
    if not isinstance(donor_id, int):
        return options
    for pledge in db.session.scalars(list_pledges(user, {"donor_id": donor_id}).limit(100)).unique():
        status = pledge_status(pledge)
        if status in ("cancelled", "fulfilled") and pledge.id != selected_id:
            continue
        options.append((str(pledge.id), pledge_label(pledge, resource_of(pledge))))
    return options


def pledge_label(pledge, resource: dict) -> str:
    from receipts.words import format_decimal, format_vnd

    if resource["kind"] == "cash":
        what = format_vnd(resource["amount_vnd"])
    elif resource["kind"] == "material":
        what = f"{format_decimal(resource['quantity'])} {resource['unit']} {resource['item']}"
    else:
        what = _l("%(days)s person-days", days=format_decimal(resource["person_days"]))
    due = f" · {show_date(pledge.due_on)}" if pledge.due_on else ""
    return f"{pledge.code} · {what}{due}"

