from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class Area(db.Model):
    """An administrative unit. Codes are the official ones: 2 digits for a province,
    3 for a (legacy) district, 5 for a commune or ward; the tree may be of any depth."""

    __tablename__ = "areas"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_folded: Mapped[str] = mapped_column(String(200), index=True)
    division_type: Mapped[str] = mapped_column(String(40))  # tỉnh, xã, phường, huyện, ...
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"), index=True)
    # "/01/00004/": every ancestor's code, so "this area and below" is one prefix match.
    path: Mapped[str] = mapped_column(String(200), index=True)
    # True for units abolished by the 2025 reform, kept for records made before it.
    legacy: Mapped[bool] = mapped_column(default=False)
