from marshmallow import Schema, fields

from ..fields import Choice, LocalDate, MoneyVND, Text
from .service import MAX_PAGE_SIZE, SORTS


class StatementQuery(Schema):
    """The search, as the API's and the page's query string give it."""

    q = Text(max_length=200, metadata={
        "description": "donor name or memo, diacritics optional (\"nguyen van a\", \"ung ho\"): whole words in "
                       "this order, the last one may be its first 1-3 letters; at least 3 letters"})
    amount_vnd = MoneyVND(metadata={"description": "exactly this amount (or value) in đồng"})
    min_vnd = MoneyVND()
    max_vnd = MoneyVND()
    date_from = LocalDate(data_key="from", metadata={"description": "received on or after"})
    date_to = LocalDate(data_key="to", metadata={"description": "received on or before"})
    receipt = Text(max_length=40, metadata={"description": "receipt number, exactly"})
    reference = Text(max_length=30, metadata={"description": "the last 3 or more digits of the bank reference"})
    campaign_id = fields.Integer()
    fund_id = fields.Integer()
    sort = Choice(SORTS, load_default="newest")
    page = fields.Integer(load_default=1)
    page_size = fields.Integer(load_default=20, metadata={"maximum": MAX_PAGE_SIZE})


class StatementEntryOut(Schema):
    receipt_number = fields.String()
    receipt_url = fields.String(allow_none=True, metadata={"description": "the receipt's page, with its signature"})
    received_on = fields.Date()
    donor = fields.String(metadata={"description": "the donor's name, or \"Nhà hảo tâm ẩn danh\""})
    memo = fields.String(allow_none=True, metadata={"description": "phone and account numbers masked"})
    kind = fields.String()
    method = fields.String()
    amount_vnd = fields.Integer(allow_none=True, metadata={"description": "cash only"})
    item = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    quantity = fields.String(allow_none=True)
    value_vnd = fields.Integer()
    fund_id = fields.Integer()
    fund = fields.String()
    campaign_id = fields.Integer()
    bank_reference = fields.String(allow_none=True, metadata={"description": "its last digits only"})
    status = fields.String(metadata={"enum": ["valid", "voided"]})


class StatementPageOut(Schema):
    items = fields.List(fields.Nested(StatementEntryOut))
    page = fields.Function(lambda p: p.search.page)
    page_size = fields.Function(lambda p: p.search.page_size)
    pages = fields.Integer(allow_none=True, metadata={"description": "when `total` is known"})
    sort = fields.Function(lambda p: p.search.sort)
    total = fields.Integer(allow_none=True, metadata={
        "description": "how many contributions match, when the search saw them all (up to 5,000); null when "
                       "more rows match than were counted: page with `has_next`, or take the CSV"})
    has_next = fields.Boolean(metadata={"description": "a next page exists (pages reach the first 10,000 results)"})
