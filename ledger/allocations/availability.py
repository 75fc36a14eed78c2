"""What the allocation form shows while it is filled in: what a fund holds and how much of
it may go to the chosen household (the same earmark and campaign rule, `may_fund`, that
allocation applies), and the household's remaining need. Reads only."""
from __future__ import annotations

from sqlalchemy import literal_column, select
from sqlalchemy.orm import lazyload

from ..contributions.models import Contribution
from ..contributions.service import may_fund
from ..extensions import db
from ..journal.models import Holding
from ..journal.quantities import kind_of
from ..journal.resources import describe

LOTS_SHOWN = 20  # per commodity: the first lots in the order the pool draws them


def fund_availability(fund, household=None) -> list[dict]:
    """Per commodity the fund holds: {kind, commodity, held, available, lots}, where `held`
    and `available` describe the resource (describe()'s shape) and `lots` are the
    contributions a named source may be chosen from, first-in-first-out."""
    rows = db.session.execute(
        select(Contribution, Holding.commodity, Holding.units)
        .options(lazyload("*"))
        .join(Holding, Holding.contribution_id == Contribution.id)
        .where(Holding.fund_id == fund.id, Holding.units > literal_column("0"))
        .order_by(Holding.commodity, Holding.received_on, Holding.contribution_id))
    by_commodity: dict[str, dict] = {}
    for contribution, commodity, units in rows:
        entry = by_commodity.setdefault(commodity, {"held": 0, "available": 0, "lots": []})
        entry["held"] += units
        eligible = household is None or may_fund(contribution, household)
        if eligible:
            entry["available"] += units
            if len(entry["lots"]) < LOTS_SHOWN:
                entry["lots"].append({"contribution_id": contribution.id, "receipt": contribution.receipt_number,
                                      "resource": describe(kind_of(commodity), commodity, units)})
    return [{"kind": kind_of(commodity), "commodity": commodity,
             "held": describe(kind_of(commodity), commodity, entry["held"]),
             "available": describe(kind_of(commodity), commodity, entry["available"]),
             "lots": entry["lots"]}
            for commodity, entry in sorted(by_commodity.items(), key=lambda kv: (kv[0] != "VND", kv[0]))]
