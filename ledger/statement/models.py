"""The public statement's projection: one row per contribution, public fields only.

Derived data, not the ledger: rebuilt from contributions, donors and funds, kept in step
with them in the same transaction (statement.service). No ID number, phone or address is
ever copied here; the memo is masked and the bank reference kept only as its digits,
reversed, for "ends with" searches.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..types import Amount, Id

# The bank reference's digits compared byte by byte whatever the database's locale: a
# prefix range on them must not depend on collation rules.
ReferenceDigits = String(20).with_variant(String(20, collation="C"), "postgresql")


class StatementEntry(db.Model):
    __tablename__ = "statement_entries"
    __table_args__ = (
        Index("ix_statement_entries_value_order", "value_vnd", "sort_key"),
        Index("ix_statement_entries_campaign_order", "campaign_id", "sort_key"),
        Index("ix_statement_entries_fund_order", "fund_id", "sort_key"),
    )

    # received_on's day number × 2^32 + contribution id (sort_key_of): the statement's
    # order is the primary key's, so the B-tree and SQLite's FTS5 (whose rowid it is)
    # read newest-first in order and stop after a page, and a date range is a key range.
    sort_key: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=False)
    contribution_id: Mapped[int] = mapped_column(ForeignKey("contributions.id"), unique=True)
    receipt_number: Mapped[str] = mapped_column(String(40), unique=True)
    received_on: Mapped[date]
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"))
    fund_name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(10))
    method: Mapped[str] = mapped_column(String(20))
    item: Mapped[str | None] = mapped_column(String(200))  # materials: what and in which unit
    unit: Mapped[str | None] = mapped_column(String(40))
    quantity: Mapped[str | None] = mapped_column(String(30))  # decimal string; materials, labour
    value_vnd: Mapped[int] = mapped_column(Amount)  # the amount for cash
    # Only to find a donor's rows when the name or the display choice changes; not shown.
    donor_id: Mapped[int | None] = mapped_column(ForeignKey("donors.id"), index=True)
    donor_name: Mapped[str] = mapped_column(String(300))  # Donor.display_name
    memo: Mapped[str | None] = mapped_column(Text)  # privacy.mask_memo
    reference_masked: Mapped[str | None] = mapped_column(String(10))  # privacy.masked_reference
    reference_reversed: Mapped[str | None] = mapped_column(ReferenceDigits, index=True)
    search_text: Mapped[str] = mapped_column(Text)  # the words of donor name + memo, folded (search_text_of)
    # Each two neighbouring words joined ("nguyenthi thituan"), for PostgreSQL's index: a
    # pair is far rarer than either word, so a name's rows are found without reading the
    # long lists of "nguyen" and "thi" (search_pairs_of).
    search_pairs: Mapped[str] = mapped_column(Text, default="")
    voided: Mapped[bool] = mapped_column(Boolean, default=False)


# The text index of the statement, made by the migration outside the models (one per
# database): SQLite's FTS5 word index (and its shadow tables); PostgreSQL's generated
# tsvector column and its GIN index. Alembic's comparisons must leave them out.
FTS_TABLE = "statement_fts"
SEARCH_VECTOR = "search_vector"
SEARCH_VECTOR_INDEX = "ix_statement_entries_search_vector"


def is_search_index_table(name: str | None) -> bool:
    return bool(name) and (name == FTS_TABLE or name.startswith(FTS_TABLE + "_"))


def include_name(name, type_, parent_names) -> bool:
    """For Alembic's `include_name` (migrations/env.py and the schema test)."""
    if type_ == "table":
        return not is_search_index_table(name)
    if type_ == "column":
        return name != SEARCH_VECTOR
    return not (type_ == "index" and name == SEARCH_VECTOR_INDEX)
