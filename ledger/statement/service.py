"""The public statement: its rows kept in step with the ledger, and searching them.

The rules of what the public sees of a contribution live here once: the contributions,
donors and approvals services write statement_row, call mark_voided_in_statement and
restate_donor inside their own transactions, so the statement never lags the ledger.

A text search finds the words typed, in that order, without diacritics, a last word of
1-3 letters as the start of a word: "nguyen van a" finds "Nguyễn Văn An" and "Nguyễn Văn Anh". The words are
indexed (SQLite FTS5, PostgreSQL full text); searching is planned for millions of rows
(bench/search.py): one index is read for at most PROBE matches, and a set that small is
filtered and sorted whole; otherwise the rows are read in the order asked for and checked
until the page is full. A page never lies deeper than DEPTH results (the CSV has them all).
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.sql.util import ClauseAdapter

from ..database import execute_plainly, in_parts
from ..extensions import db
from ..journal.resources import describe
from ..problems import InvalidInput
from ..public import privacy
from ..text import clean_text, fold
from .models import StatementEntry

EPOCH = date(2000, 1, 1)
ID_SPAN = 2**32  # contribution ids below this fit beside the day in one 64-bit key
PROBE = 5_000  # matches read from one index to choose a plan; a set this small is sorted whole
DEPTH = 10_000  # the deepest result a page reaches
MAX_PAGE_SIZE = 100
MIN_QUERY = 3  # letters or digits: fewer would match most of the statement
PREFIX_LETTERS = 3  # the FTS5 table's prefix='1 2 3': see last_is_prefix
MIN_REFERENCE = 3
MAX_REFERENCE = 20
SORTS = ("newest", "oldest", "largest", "smallest")

_entries = StatementEntry.__table__
_c = _entries.c
# SQLite's FTS5 word index over search_text (external content: statement_entries,
# rowid = sort_key), kept in step by the triggers the migration creates; PostgreSQL's
# generated tsvector column, indexed by GIN.
_fts = sa.table("statement_fts", sa.column("rowid", sa.BigInteger))
_search_vector = sa.literal_column("statement_entries.search_vector")
_WORD = re.compile(r"[^\W_]+")


# --- keeping the statement in step with the ledger ----------------------------------------

def sort_key_of(received_on: date, contribution_id: int) -> int:
    if not 0 < contribution_id < ID_SPAN:
        raise ValueError("contribution id out of the statement key's range")
    return day_key(received_on) + contribution_id


def day_key(day: date) -> int:
    """The smallest sort key of a day: a date range is a range of keys."""
    return (day - EPOCH).days * ID_SPAN


def words_of(text: str) -> list[str]:
    """The searchable words of a text: folded (no diacritics, lower case), letters and digits."""
    return _WORD.findall(fold(text))


def search_text_of(donor_name: str, memo: str | None) -> str:
    """The words of the donor's display name and the public memo, one space apart: both
    databases' word splitters then see exactly the words words_of sees."""
    return " ".join(words_of(f"{donor_name} {memo or ''}"))


def search_pairs_of(search_text: str) -> str:
    """Each two neighbouring words joined: "nguyen thi tuan" -> "nguyenthi thituan"."""
    words = search_text.split(" ")
    return " ".join(a + b for a, b in zip(words, words[1:], strict=False))


def last_is_prefix(words: list[str]) -> bool:
    """A last word of up to PREFIX_LETTERS letters is the start of a word ("nguyen van a":
    An, Anh); a longer one is a whole word. The indexes keep every word's first 1 to 3
    letters, so a short prefix is read like a word; a long prefix would have to merge
    every word it starts (and a Vietnamese syllable of 4 letters or more is seldom typed
    cut short)."""
    return len(words[-1]) <= PREFIX_LETTERS


def text_matches(words: list[str], search_text: str) -> bool:
    """The text search's rule, for rows another index found: the words in this order, next
    to each other, the last one maybe a prefix (as the FTS5 and tsquery expressions below)."""
    tokens = search_text.split(" ")
    *whole, last = words
    n = len(words)
    prefix = last_is_prefix(words)
    return any(tokens[i:i + n - 1] == whole
               and (tokens[i + n - 1].startswith(last) if prefix else tokens[i + n - 1] == last)
               for i in range(len(tokens) - n + 1))


def reference_digits_reversed(reference: str | None) -> str | None:
    """The bank reference's digits, last first: "ends with 4321" is an indexed prefix."""
    digits = "".join(ch for ch in (reference or "") if "0" <= ch <= "9")
    return digits[::-1][:MAX_REFERENCE] or None


def statement_names(donor_ids) -> dict[int, str]:
    """{donor id: display name}, read under a share lock: a rename committing meanwhile
    (which rewrites that donor's rows) is waited for, so new rows get the name it left."""
    from ..donors.models import Donor

    ids, names = sorted(set(donor_ids) - {None}), {}
    share_lock = " FOR SHARE" if db.session.get_bind().dialect.name == "postgresql" else ""  # SQLite: BEGIN IMMEDIATE
    for part in in_parts(ids):
        marks = ", ".join(f":d{n}" for n in range(len(part)))
        rows = execute_plainly(f"SELECT id, name, public_display FROM donors WHERE id IN ({marks}){share_lock}",
                               {f"d{n}": donor_id for n, donor_id in enumerate(part)})
        names.update({i: Donor.display_name_of(name, display) for i, name, display in rows})
    return names


def statement_row(contribution, donor_name: str | None) -> dict:
    """The statement row of a contribution being recorded (a Contribution or a
    contributions.recording.NewContribution, with its id): what the public sees of it."""
    from ..donors.models import ANONYMOUS_NAME

    donor_name = donor_name if contribution.donor_id is not None else ANONYMOUS_NAME
    described = describe(contribution.kind, contribution.commodity, contribution.units)
    memo = privacy.mask_memo(contribution.memo)
    search_text = search_text_of(donor_name, memo)
    return {"sort_key": sort_key_of(contribution.received_on, contribution.id),
            "contribution_id": contribution.id, "receipt_number": contribution.receipt_number,
            "received_on": contribution.received_on, "campaign_id": contribution.campaign_id,
            "fund_id": contribution.fund_id, "fund_name": contribution.fund.name, "kind": contribution.kind,
            "method": contribution.method, "item": described.get("item"), "unit": described.get("unit"),
            "quantity": described.get("quantity") or described.get("person_days"),
            "value_vnd": contribution.value_vnd, "donor_id": contribution.donor_id, "donor_name": donor_name,
            "memo": memo, "reference_masked": privacy.masked_reference(contribution.bank_reference),
            "reference_reversed": reference_digits_reversed(contribution.bank_reference),
            "search_text": search_text, "search_pairs": search_pairs_of(search_text), "voided": False}


def mark_voided_in_statement(contribution) -> None:
    """The contribution was voided (in the caller's transaction): its row says so."""
    db.session.execute(update(StatementEntry).where(StatementEntry.contribution_id == contribution.id)
                       .values(voided=True))


def restate_donor(donor) -> int:
    """The donor's name or display choice changed: every row of theirs follows (in the
    caller's transaction, after the donor row was written). Returns the rows changed."""
    name = donor.display_name
    rows = db.session.execute(select(StatementEntry.sort_key, StatementEntry.memo)
                              .where(StatementEntry.donor_id == donor.id)).all()
    if rows:
        texts = [(key, search_text_of(name, memo)) for key, memo in rows]
        db.session.execute(update(StatementEntry), [
            {"sort_key": key, "donor_name": name, "search_text": text, "search_pairs": search_pairs_of(text)}
            for key, text in texts])
    return len(rows)


# --- searching ---------------------------------------------------------------------------

@dataclass(frozen=True)
class StatementSearch:
    """A checked search: what statement_search and statement_csv take."""

    q: str | None = None  # folded
    amount_vnd: int | None = None
    min_vnd: int | None = None
    max_vnd: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    receipt: str | None = None
    reference: str | None = None  # last digits
    campaign_id: int | None = None
    fund_id: int | None = None
    sort: str = "newest"
    page: int = 1
    page_size: int = 20

    def filters(self) -> dict:
        """The filters as the query string names them (pagination links, the CSV link)."""
        names = {"date_from": "from", "date_to": "to"}
        out = {}
        for name in ("q", "amount_vnd", "min_vnd", "max_vnd", "date_from", "date_to", "receipt", "reference",
                     "campaign_id", "fund_id"):
            value = getattr(self, name)
            if value is not None:
                out[names.get(name, name)] = value.isoformat() if isinstance(value, date) else value
        if self.sort != "newest":
            out["sort"] = self.sort
        return out


@dataclass
class StatementPage:
    search: StatementSearch
    items: list[dict]
    total: int | None  # every match, when the plan saw them all (at most PROBE); else None
    has_next: bool  # a next page exists (within DEPTH)
    pages: int | None = field(init=False)

    def __post_init__(self):
        self.pages = max(1, -(-self.total // self.search.page_size)) if self.total is not None else None


def check_search(args: dict) -> StatementSearch:
    """The search of a parsed query string (schemas.StatementQuery), its rules checked."""
    errors: dict[str, list] = {}
    q = None
    if args.get("q"):
        words = words_of(args["q"])
        q = " ".join(words) or None
        if sum(len(w) for w in words) < MIN_QUERY:
            errors["q"] = [_l("Type at least %(n)s letters or digits to search.", n=MIN_QUERY)]
    reference = args.get("reference")
    if reference is not None:
        reference = clean_text(reference).replace(" ", "")
        if not reference.isascii() or not reference.isdigit() or not MIN_REFERENCE <= len(reference) <= MAX_REFERENCE:
            errors["reference"] = [_l("Give the last %(min)s to %(max)s digits of the bank reference.",
                                      min=MIN_REFERENCE, max=MAX_REFERENCE)]
    if args.get("amount_vnd") is not None and (args.get("min_vnd") is not None or args.get("max_vnd") is not None):
        errors["amount_vnd"] = [_l("Give an exact amount or a range, not both.")]
    if args.get("min_vnd") is not None and args.get("max_vnd") is not None and args["min_vnd"] > args["max_vnd"]:
        errors["max_vnd"] = [_l("The largest amount is below the smallest.")]
    if args.get("date_from") and args.get("date_to") and args["date_from"] > args["date_to"]:
        errors["to"] = [_l("The end date is before the start date.")]
    page, page_size = args.get("page", 1), args.get("page_size", 20)
    if page < 1:
        errors["page"] = [_l("Pages are numbered from 1.")]
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        errors["page_size"] = [_l("A page holds 1 to %(max)s entries.", max=MAX_PAGE_SIZE)]
    elif page >= 1 and page * page_size > DEPTH:
        errors["page"] = [_l("Only the first %(cap)s results can be paged through: narrow the search, or "
                             "download the CSV.", cap=f"{DEPTH:,}".replace(",", "."))]
    if errors:
        first = next(iter(errors.values()))[0]
        raise InvalidInput(first, errors=errors)
    receipt = clean_text(args["receipt"]).upper() if args.get("receipt") else None
    return StatementSearch(q=q, amount_vnd=args.get("amount_vnd"), min_vnd=args.get("min_vnd"),
                           max_vnd=args.get("max_vnd"), date_from=args.get("date_from"),
                           date_to=args.get("date_to"), receipt=receipt, reference=reference,
                           campaign_id=args.get("campaign_id"), fund_id=args.get("fund_id"),
                           sort=args.get("sort") or "newest", page=page, page_size=page_size)


def _key_range(s: StatementSearch, column) -> list:
    conds = []
    if s.date_from:
        conds.append(column >= day_key(s.date_from))
    if s.date_to:
        conds.append(column < day_key(s.date_to + timedelta(days=1)))
    return conds


def _filters(s: StatementSearch) -> list:
    """Every filter but the text: each answered by a B-tree."""
    conds = _key_range(s, _c.sort_key)
    if s.receipt:
        conds.append(_c.receipt_number == s.receipt)
    if s.amount_vnd is not None:
        conds.append(_c.value_vnd == s.amount_vnd)
    if s.min_vnd is not None:
        conds.append(_c.value_vnd >= s.min_vnd)
    if s.max_vnd is not None:
        conds.append(_c.value_vnd <= s.max_vnd)
    if s.reference:
        prefix = s.reference[::-1]
        conds += [_c.reference_reversed >= prefix, _c.reference_reversed < prefix[:-1] + chr(ord(prefix[-1]) + 1)]
    if s.campaign_id is not None:
        conds.append(_c.campaign_id == s.campaign_id)
    if s.fund_id is not None:
        conds.append(_c.fund_id == s.fund_id)
    return conds


def _sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


def _text_condition(s: StatementSearch, vector=_search_vector):
    """The words of the search, in order, the last one maybe a prefix: FTS5's phrase on
    SQLite (a condition on the FTS table), the tsquery on PostgreSQL (on `vector`)."""
    words = s.q.split(" ")
    prefix = last_is_prefix(words)
    if _sqlite():
        return sa.literal_column("statement_fts").op("MATCH")('"' + " ".join(words) + '"' + (" *" if prefix else ""))
    phrase = " <-> ".join(words) + (":*" if prefix else "")
    config = sa.literal_column("'simple'::regconfig")
    if len(words) == 1:
        return vector.op("@@")(func.to_tsquery(config, phrase))
    # The word pairs find the rows by the index (a pair is rare where its words are not);
    # the phrase then checks those rows. As a function call, not the @@ operator, so that
    # the index does not also read the long lists of the single words.
    pairs = [a + b for a, b in zip(words, words[1:], strict=False)]
    pairs[-1] += ":*" if prefix else ""
    return sa.and_(vector.op("@@")(func.to_tsquery(config, " & ".join(pairs))),
                   func.ts_match_vq(vector, func.to_tsquery(config, phrase)))


def _text_keys(s: StatementSearch, limit: int) -> list[int]:
    """The sort keys of rows whose text matches (and in the date range), newest first, at
    most `limit`: the index reads about that many and stops."""
    if _sqlite():
        query = select(_fts.c.rowid).where(_text_condition(s), *_key_range(s, _fts.c.rowid))
        order = _fts.c.rowid.desc()
    else:
        query = select(_c.sort_key).where(_text_condition(s), *_key_range(s, _c.sort_key))
        order = _c.sort_key.desc()
    return list(db.session.scalars(query.order_by(order).limit(limit)))


def _order(sort: str, key=_c.sort_key, value=_c.value_vnd) -> tuple:
    """ORDER BY of a sort, over the statement's key and amount (or another table's, e.g.
    the FTS rowid or a subquery's columns)."""
    return {"newest": (key.desc(),), "oldest": (key.asc(),), "largest": (value.desc(), key.desc()),
            "smallest": (value.asc(), key.asc())}[sort]


_PY_ORDER = {  # the same orders, for rows sorted in Python
    "newest": (lambda row: row.sort_key, True),
    "oldest": (lambda row: row.sort_key, False),
    "largest": (lambda row: (row.value_vnd, row.sort_key), True),
    "smallest": (lambda row: (row.value_vnd, row.sort_key), False),
}


def _broad_amount_filters(s: StatementSearch, filters: list) -> list:
    """SQLite's planner walks the amount index for any amount range and sorts what it
    finds; for a range holding many rows, reading newest (or oldest) first in the primary
    key's order and checking the amount on each stops far sooner. `value_vnd + 0` keeps
    the index out."""
    if not _sqlite() or s.sort not in ("newest", "oldest") or (s.min_vnd is None and s.max_vnd is None):
        return filters
    amount = [c for c in (_c.value_vnd >= s.min_vnd if s.min_vnd is not None else None,
                          _c.value_vnd <= s.max_vnd if s.max_vnd is not None else None) if c is not None]
    if _count_up_to(select(_c.sort_key).where(*amount), PROBE) <= PROBE:
        return filters
    unindexed = _c.value_vnd + 0
    kept = [f for f in filters if not any(f.compare(c) for c in amount)]
    if s.min_vnd is not None:
        kept.append(unindexed >= s.min_vnd)
    if s.max_vnd is not None:
        kept.append(unindexed <= s.max_vnd)
    return kept


def _count_up_to(query, cap: int) -> int:
    """How many rows a query gives, counting at most cap + 1: bounded work."""
    return db.session.scalar(select(func.count()).select_from(query.limit(cap + 1).subquery()))


def statement_search(s: StatementSearch) -> StatementPage:
    """One page of the statement: public fields only, newest first unless asked otherwise."""
    offset = (s.page - 1) * s.page_size
    wanted = offset + s.page_size + 1  # this page, and one more row to know a next one exists
    filters = _filters(s)
    total = None
    if not s.q:
        query = select(_entries).where(*_broad_amount_filters(s, filters)).order_by(*_order(s.sort))
        rows = db.session.execute(query.limit(s.page_size + 1).offset(offset)).all()
        counted = _count_up_to(select(_c.sort_key).where(*filters), PROBE)
        total = counted if counted <= PROBE else None
    else:
        rows, total = _text_search(s, filters, offset, wanted)
    has_next = len(rows) > s.page_size and offset + s.page_size < DEPTH
    rows = rows[:s.page_size]
    signatures = _signatures([row.contribution_id for row in rows])
    items = [public_entry(row, signatures.get(row.contribution_id)) for row in rows]
    return StatementPage(s, items, total, has_next)


def _keys_in(keys: list[int]):
    """WHERE sort_key is one of `keys`, as one parameter (a JSON array on SQLite, an array on
    PostgreSQL): thousands of keys without thousands of placeholders."""
    import json

    if _sqlite():
        return _c.sort_key.in_(select(sa.column("value")).select_from(func.json_each(json.dumps(keys))))
    from sqlalchemy.dialects.postgresql import ARRAY

    return _c.sort_key == sa.any_(sa.bindparam("statement_keys", keys, type_=ARRAY(sa.BigInteger)))


def _page_rows(found: list, s: StatementSearch, offset: int) -> list:
    """The full rows of one page (and one more) of `found` (rows with sort_key and value_vnd),
    sorted in the search's order."""
    key, reverse = _PY_ORDER[s.sort]
    found = sorted(found, key=key, reverse=reverse)[offset:offset + s.page_size + 1]
    wanted = [row.sort_key for row in found]
    by_key = {row.sort_key: row for row in db.session.execute(select(_entries).where(_keys_in(wanted)))} \
        if wanted else {}
    return [by_key[k] for k in wanted]


WALK = 5_000  # PostgreSQL: rows read in the asked order before turning to the word index


def _pg_text_search(s: StatementSearch, filters: list, offset: int) -> tuple[list, int | None]:
    """PostgreSQL: the newest (or largest ...) WALK rows passing the other filters are read
    in order and their words checked: a common word or name fills the page there. If it
    does not, the words are rare, and the GIN index finds every match at little cost. (Its
    planner, left alone, often takes the index for a common pair of words and then reads
    and sorts tens of thousands of rows.)"""
    bound = WALK * s.page
    walked = select(_entries, _search_vector.label("search_vector")).where(*filters) \
        .order_by(*_order(s.sort)).limit(bound).subquery()
    in_walk = select(*[walked.c[c.key] for c in _entries.columns]).where(
        _text_condition(s, walked.c.search_vector))
    rows = db.session.execute(in_walk.order_by(*_order(s.sort, walked.c.sort_key, walked.c.value_vnd))
                              .limit(s.page_size + 1).offset(offset)).all()
    if len(rows) > s.page_size:
        return rows, None
    if _count_up_to(select(_c.sort_key).where(*filters), bound) <= bound:
        # The walk read every row the filters allow: these are all the matches.
        total = db.session.scalar(select(func.count()).select_from(in_walk.subquery()))
        return rows, total
    # Rare words: every row they name, by the word index alone (OFFSET 0 keeps PostgreSQL
    # from also reading, say, a date range's 100,000 keys to AND them in), then filtered.
    named = select(_entries).where(_text_condition(s)).offset(0).subquery()
    on_named = ClauseAdapter(named)
    matches = select(named.c.sort_key, named.c.value_vnd).where(*[on_named.traverse(f) for f in filters])
    found = db.session.execute(matches.limit(PROBE + 1)).all()
    if len(found) <= PROBE:
        return _page_rows(found, s, offset), len(found)
    rows = db.session.execute(select(named).where(*[on_named.traverse(f) for f in filters])
                              .order_by(*_order(s.sort, named.c.sort_key, named.c.value_vnd))
                              .limit(s.page_size + 1).offset(offset)).all()
    return rows, None


def _text_search(s: StatementSearch, filters: list, offset: int, wanted: int) -> tuple[list, int | None]:
    """(the rows from `offset` on, up to a page and one more; the number of matches if known)."""
    if not _sqlite():
        return _pg_text_search(s, filters, offset)
    # SQLite's planner cannot see inside FTS5: the plan is chosen here, from bounded probes.
    other_filters = filters[len(_key_range(s, _c.sort_key)):]  # the date range is applied with the text
    keys = _text_keys(s, PROBE + 1)
    if len(keys) <= PROBE:
        # Few rows have these words: every match is in hand; filter and sort them.
        found = db.session.execute(select(_c.sort_key, _c.value_vnd).where(_keys_in(keys), *other_filters)).all() \
            if keys else []
        return _page_rows(found, s, offset), len(found)
    if filters and _count_up_to(select(_c.sort_key).where(*filters), PROBE) <= PROBE:
        # Many rows have these words, few pass the other filters: check the words on those.
        words = s.q.split(" ")
        found = [row for row in db.session.execute(select(_c.sort_key, _c.value_vnd, _c.search_text)
                                                   .where(*filters))
                 if text_matches(words, row.search_text)]
        return _page_rows(found, s, offset), len(found)
    order = _order(s.sort)
    if s.sort in ("newest", "oldest"):
        # Common words, broad filters: read the text index in the statement's order,
        # checking the filters on each row, until the page is full.
        if _sqlite():
            query = (select(_entries).select_from(_fts.join(_entries, _c.sort_key == _fts.c.rowid))
                     .where(_text_condition(s), *_key_range(s, _fts.c.rowid), *other_filters)
                     .order_by(*_order(s.sort, _fts.c.rowid)))
        else:
            query = select(_entries).where(_text_condition(s), *filters).order_by(*order)
        return db.session.execute(query.limit(s.page_size + 1).offset(offset)).all(), None
    # Common words, sorted by amount: read the amount index in order and check the words on
    # each row (more than PROBE rows match, so a page comes soon).
    words = s.q.split(" ")
    found = []
    result = db.session.execute(select(_entries).where(*filters).order_by(*order)
                                .execution_options(yield_per=500))
    for row in result:
        if text_matches(words, row.search_text):
            found.append(row)
            if len(found) >= wanted:
                break
    result.close()
    return found[offset:], None


def _signatures(contribution_ids: list[int]) -> dict[int, str]:
    from ..receipts.models import Receipt

    if not contribution_ids:
        return {}
    return dict(db.session.execute(select(Receipt.contribution_id, Receipt.signature)
                                   .where(Receipt.contribution_id.in_(contribution_ids))).all())


def receipt_link(number: str, signature: str | None) -> str | None:
    """The receipt's public page, with its signature (without it the page says NOT GENUINE)."""
    from flask import current_app

    from receipts.qr import receipt_url

    if signature is None:  # recorded before receipts were signed
        return None
    return receipt_url(current_app.config["LEDGER_PUBLIC_URL"], number, signature)


def public_entry(row, signature: str | None) -> dict:
    """A statement row as the public sees it (the API's and the page's)."""
    return {
        "receipt_number": row.receipt_number,
        "receipt_url": receipt_link(row.receipt_number, signature),
        "received_on": row.received_on,
        "donor": row.donor_name,
        "memo": row.memo,
        "kind": row.kind,
        "method": row.method,
        "amount_vnd": row.value_vnd if row.kind == "cash" else None,
        "item": row.item,
        "unit": row.unit,
        "quantity": row.quantity,
        "value_vnd": row.value_vnd,
        "fund_id": row.fund_id,
        "fund": row.fund_name,
        "campaign_id": row.campaign_id,
        "bank_reference": row.reference_masked,
        "status": "voided" if row.voided else "valid",
    }


# --- the CSV of a search -----------------------------------------------------------------

def csv_header() -> list[str]:
    return [gettext("Receipt number"), gettext("Received on"), gettext("Donor"), gettext("Memo"),
            gettext("Kind"), gettext("Method"), gettext("Amount or value (VND)"), gettext("Item"),
            gettext("Quantity"), gettext("Unit"), gettext("Fund"), gettext("Bank reference"),
            gettext("Status"), gettext("Receipt page")]


def _csv_query(s: StatementSearch):
    """Every matching row, in the search's order: no cap (the index only narrows)."""
    from ..receipts.models import Receipt

    conds = _filters(s)
    if s.q:
        if _sqlite():
            conds.append(_c.sort_key.in_(select(_fts.c.rowid).where(_text_condition(s))))
        else:
            conds.append(_text_condition(s))
    return (select(_entries, Receipt.signature)
            .select_from(_entries.outerjoin(Receipt.__table__, Receipt.contribution_id == _c.contribution_id))
            .where(*conds).order_by(*_order(s.sort)))


def statement_csv(s: StatementSearch) -> Iterator[str]:
    """The CSV of every row the search matches, streamed in chunks: UTF-8 with a BOM (so
    spreadsheet programs read Vietnamese right), a header row in the reader's language."""
    kinds = {"cash": gettext("Cash"), "material": gettext("Materials"), "labour": gettext("Labour")}
    methods = {"bank_transfer": gettext("Bank transfer"), "cash": gettext("Cash"), "in_kind": gettext("In kind"),
               "labour": gettext("Labour")}
    statuses = {False: gettext("Valid"), True: gettext("Voided")}
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(csv_header())
    result = db.session.execute(_csv_query(s).execution_options(yield_per=1000))
    for n, row in enumerate(result, 1):
        writer.writerow([row.receipt_number, row.received_on.isoformat(), row.donor_name, row.memo or "",
                         kinds.get(row.kind, row.kind), methods.get(row.method, row.method), row.value_vnd,
                         row.item or "", row.quantity or "", row.unit or "", row.fund_name,
                         row.reference_masked or "", statuses[bool(row.voided)],
                         receipt_link(row.receipt_number, row.signature) or ""])
        if n % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
