from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..types import Amount, Id, UTCDateTime, utcnow


class Fund(db.Model):
    """An account that receives and holds resources, run by a Front committee."""

    __tablename__ = "funds"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    # Upper-case code used in receipt numbers: {CODE}-{YYYY}-{NNNNNN}.
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    parent_fund_id: Mapped[int | None] = mapped_column(ForeignKey("funds.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The bank account transfers to the fund go to (VietQR codes): the bank's NAPAS BIN,
    # the account number and the name it is held in. Set once, when the fund has none.
    bank_bin: Mapped[str | None] = mapped_column(String(6))
    bank_account: Mapped[str | None] = mapped_column(String(19))
    bank_account_name: Mapped[str | None] = mapped_column(String(100))

    area = relationship("Area", lazy="joined")

    @property
    def account(self) -> str:
        return f"fund:{self.code}"

    @property
    def has_bank_account(self) -> bool:
        return bool(self.bank_bin and self.bank_account)


class Transfer(db.Model):
    """Resources moved from one fund to another, lot by lot."""

    __tablename__ = "transfers"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    from_fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), index=True)
    to_fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), index=True)
    commodity: Mapped[str] = mapped_column(String(40))
    units: Mapped[int] = mapped_column(Amount)
    source_contribution_id: Mapped[int | None] = mapped_column(ForeignKey("contributions.id"))
    note: Mapped[str | None] = mapped_column(String(500))
    txn_id: Mapped[int] = mapped_column(ForeignKey("journal_transactions.id"), unique=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lines: Mapped[list[TransferLine]] = relationship(order_by="TransferLine.id", lazy="selectin")
    from_fund = relationship(Fund, foreign_keys=[from_fund_id])
    to_fund = relationship(Fund, foreign_keys=[to_fund_id])
    txn = relationship("JournalTransaction")

    @property
    def kind(self) -> str:
        from ..journal.quantities import kind_of

        return kind_of(self.commodity)


class TransferLine(db.Model):
    __tablename__ = "transfer_lines"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    transfer_id: Mapped[int] = mapped_column(ForeignKey("transfers.id"), index=True)
    contribution_id: Mapped[int] = mapped_column(ForeignKey("contributions.id"), index=True)
    units: Mapped[int] = mapped_column(Amount)
