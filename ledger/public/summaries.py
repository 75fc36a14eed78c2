"""Kept public summaries: a campaign's overview of an area, computed from the ledger and
kept, so that a visit to the home page does not sum the whole ledger.

At national size an overview sums 2,000,000 contributions, their lots, allocations and
households: the country's took 5.7 s on PostgreSQL and 30 s on SQLite, for every visit.
Kept, a visit reads one row. A kept summary younger than LEDGER_PUBLIC_SUMMARY_SECONDS
(60) is shown as it is; an older one is shown too, while one process (whichever claims
it first) computes it again in a background thread, so no visitor waits for the sums
after the first. Every page and API answer says when its figures were computed and how
many journal entries they cover. 0 computes the figures on every visit instead.

The figures of one summary are computed in one snapshot of the ledger (PostgreSQL:
REPEATABLE READ), so received + transferred in − transferred out − allocated = remaining
holds in them even while gifts are being recorded. They are aggregates only: no name of
a person, no personal data (the privacy scan reads the pages they feed).
"""
from __future__ import annotations

import json
import threading
from dataclasses import asdict
from datetime import timedelta

from flask import Flask, current_app
from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from ..areas.models import Area
from ..areas.service import get_area
from ..campaigns.models import Campaign
from ..database import _WRITE
from ..extensions import db
from ..journal.models import LedgerSequence
from ..types import utcnow
from .models import PublicSummary
from .service import (
    AreaProgress,
    KindTotals,
    MaterialLine,
    Overview,
    OverviewFigures,
    assemble_overview,
    overview_figures,
)

CLAIM_EXPIRES = timedelta(minutes=10)  # a refresh whose process died is taken over after this
_refreshing: set[threading.Thread] = set()
_lock = threading.Lock()


def kept_overview(campaign: Campaign, area_code: str | None) -> Overview:
    """The overview the public pages and the summary API show: the kept figures (computed
    now if there are none yet), with a refresh started when they are older than the
    configured age."""
    area = get_area(area_code) if area_code else None  # an unknown area: NotFound, nothing kept
    max_age = current_app.config["LEDGER_PUBLIC_SUMMARY_SECONDS"]
    if max_age <= 0:
        return assemble_overview(campaign, area, overview_figures(campaign, area), as_of=utcnow(),
                                 journal_size=_journal_size())
    scope = area.code if area else ""
    kept = db.session.execute(select(PublicSummary.computed_at, PublicSummary.journal_size, PublicSummary.payload)
                              .where(PublicSummary.campaign_id == campaign.id, PublicSummary.scope == scope)).first()
    if kept is None:
        kept = refresh(campaign.id, scope)
    elif utcnow() - kept.computed_at > timedelta(seconds=max_age) and _claim(campaign.id, scope):
        _refresh_in_background(current_app._get_current_object(), campaign.id, scope)
    return assemble_overview(campaign, area, from_payload(kept.payload), as_of=kept.computed_at,
                             journal_size=kept.journal_size)


def refresh(campaign_id: int, scope: str) -> PublicSummary:
    """Compute the summary from the ledger, in one snapshot, and keep it (released from
    any claim); returns what was kept. Ends the session's transaction."""
    session = db.session
    session.rollback()  # a snapshot of its own, begun below
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    try:
        campaign = session.get(Campaign, campaign_id)
        area = session.scalar(select(Area).where(Area.code == scope)) if scope else None
        figures = overview_figures(campaign, area)
        journal_size = _journal_size()
        computed_at = utcnow()
    finally:
        session.rollback()
    values = {"computed_at": computed_at, "journal_size": journal_size, "payload": to_payload(figures),
              "refreshing_since": None}
    if _update_kept(campaign_id, scope, **values) == 0:
        with db.engine.connect().execution_options(**{_WRITE: True}) as conn:
            try:
                conn.execute(insert(PublicSummary.__table__).values(campaign_id=campaign_id, scope=scope, **values))
                conn.commit()
            except IntegrityError:  # another visitor's first computation was kept first: as good
                conn.rollback()
    return PublicSummary(campaign_id=campaign_id, scope=scope, **values)


def refresh_all(campaign_id: int) -> int:
    """Compute and keep the summaries of the country and of every province: to warm them
    before the public first comes (a commune's takes well under a second). How many."""
    provinces = db.session.scalars(select(Area.code).where(Area.parent_code.is_(None)).order_by(Area.code)).all()
    for scope in ["", *provinces]:
        refresh(campaign_id, scope)
    return 1 + len(provinces)


def wait_for_refreshes(timeout: float | None = None) -> None:
    """Until the background refreshes started so far have ended (tests, the CLI)."""
    with _lock:
        running = list(_refreshing)
    for thread in running:
        thread.join(timeout)


# --- what is kept ------------------------------------------------------------------------

def to_payload(figures: OverviewFigures) -> str:
    """The figures as JSON: integers stay exact (no floats anywhere)."""
    return json.dumps({
        "kinds": {kind: asdict(totals) for kind, totals in figures.kinds.items()},
        "materials": [asdict(m) for m in figures.materials],
        "areas": [asdict(a) for a in figures.areas],
        "houses_by_status": figures.houses_by_status,
        "sources": figures.sources,
        "months": figures.months,
    }, ensure_ascii=False, separators=(",", ":"))


def from_payload(payload: str) -> OverviewFigures:
    data = json.loads(payload)
    return OverviewFigures(
        kinds={kind: KindTotals(**totals) for kind, totals in data["kinds"].items()},
        materials=[MaterialLine(**m) for m in data["materials"]],
        areas=[AreaProgress(**a) for a in data["areas"]],
        houses_by_status=data["houses_by_status"],
        sources=[tuple(s) for s in data["sources"]],
        months=[tuple(m) for m in data["months"]])


# --- refreshing in the background -----------------------------------------------------------

def _journal_size() -> int:
    last = db.session.scalar(select(LedgerSequence.last_seq).where(LedgerSequence.id == 1))
    return 0 if last is None else int(last) + 1


def _update_kept(campaign_id: int, scope: str, *where, **values) -> int:
    """UPDATE the kept summary (where `where` holds) on a write connection of its own,
    committed at once, leaving the request's session as it is; how many rows changed."""
    table = PublicSummary.__table__
    with db.engine.connect().execution_options(**{_WRITE: True}) as conn:
        changed = conn.execute(update(table).where(table.c.campaign_id == campaign_id, table.c.scope == scope, *where)
                               .values(**values)).rowcount
        conn.commit()
    return changed


def _claim(campaign_id: int, scope: str) -> bool:
    """Mark the summary as being refreshed by this process; False when another process
    already is (unless its claim is old enough to have died with it)."""
    now = utcnow()
    since = PublicSummary.__table__.c.refreshing_since
    return _update_kept(campaign_id, scope, or_(since.is_(None), since < now - CLAIM_EXPIRES),
                        refreshing_since=now) == 1


def _refresh_in_background(app: Flask, campaign_id: int, scope: str) -> None:
    def run():
        try:
            with app.app_context():
                try:
                    refresh(campaign_id, scope)
                except Exception:
                    app.logger.exception("public summary of campaign %s, area %r: refresh failed; the kept "
                                         "one stays", campaign_id, scope or "(country)")
                    _release(campaign_id, scope)
                finally:
                    db.session.remove()
        finally:
            with _lock:
                _refreshing.discard(threading.current_thread())

    thread = threading.Thread(target=run, name="ledger-public-summary", daemon=True)
    with _lock:
        _refreshing.add(thread)
    thread.start()


def _release(campaign_id: int, scope: str) -> None:
    _update_kept(campaign_id, scope, refreshing_since=None)
