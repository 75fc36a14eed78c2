"""Kept public summaries (ledger.public.summaries): the overview's sums are kept, shown at
once, and computed again in the background once older than LEDGER_PUBLIC_SUMMARY_SECONDS,
by one process at a time. On SQLite and PostgreSQL."""
from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from ledger.extensions import db
from ledger.journal.models import JournalTransaction
from ledger.public import service, summaries
from ledger.public.models import PublicSummary
from ledger.types import utcnow
from tests.test_public_portal import _text, seed_portal


@pytest.fixture()
def portal(ctx):
    return seed_portal(ctx)


def _summary(w, **params):
    db.session.rollback()  # the test's session serves the requests: a new snapshot, as a new request has
    return w.recorder.ok(w.recorder.get("/reports/summary", **params), 200)


def _kept(scope=""):
    db.session.rollback()  # see what other connections and threads committed
    return db.session.scalar(select(PublicSummary).where(PublicSummary.scope == scope))


def _age(seconds: int, **values):
    """Make the kept summaries look `seconds` old (and set `values`), as time passing would."""
    db.session.execute(update(PublicSummary).values(computed_at=utcnow() - timedelta(seconds=seconds), **values))
    db.session.commit()


def _give(w, amount_vnd=1_000_000):
    w.recorder.ok(w.contribute(amount_vnd=amount_vnd, received_on="2025-06-01"))


def test_the_kept_figures_are_the_ledgers(ctx, portal):
    w = portal.w
    kept = _summary(w)
    db.session.rollback()
    campaign = service.choose_campaign(None)
    live = service.overview(campaign)
    assert kept["kinds"]["cash"]["received_vnd"] == live.kinds["cash"].received_vnd == 152_500_000
    assert kept["kinds"]["material"]["remaining_vnd"] == live.kinds["material"].remaining_vnd
    assert kept["materials"][0]["remaining"] == live.materials[0].remaining
    assert [(a["area_code"], a["received_vnd"], a["households"]) for a in kept["areas"]] == [
        (a.code, a.received_vnd, a.households) for a in live.areas]
    assert {s["source"]: s["value_vnd"] for s in kept["sources"]} == dict(live.sources)
    assert [(m["month"], m["received_vnd"]) for m in kept["months"]] == live.months
    assert kept["houses"]["by_status"] == live.houses_by_status
    # When, and over how much of the journal: every entry recorded so far.
    entries = db.session.scalar(select(func.count()).select_from(JournalTransaction))
    assert kept["journal_entries"] == entries > 0
    assert kept["as_of"][:19] == _kept().computed_at.isoformat()[:19]


def test_a_kept_summary_is_shown_until_old_then_refreshed_in_the_background(ctx, portal):
    w = portal.w
    first = _summary(w)
    _give(w)
    again = _summary(w)  # young: shown as kept, without the new gift
    assert again["kinds"]["cash"]["received_vnd"] == first["kinds"]["cash"]["received_vnd"]
    assert again["as_of"] == first["as_of"] and again["journal_entries"] == first["journal_entries"]

    _age(61)
    stale = _summary(w)  # old: still shown at once, while a refresh runs
    assert stale["kinds"]["cash"]["received_vnd"] == first["kinds"]["cash"]["received_vnd"]
    summaries.wait_for_refreshes(30)
    fresh = _summary(w)
    assert fresh["kinds"]["cash"]["received_vnd"] == first["kinds"]["cash"]["received_vnd"] + 1_000_000
    assert fresh["journal_entries"] == first["journal_entries"] + 1
    assert fresh["as_of"] > first["as_of"]
    assert _kept().refreshing_since is None  # the claim ended with the refresh


def test_one_process_refreshes_a_summary_at_a_time(ctx, portal):
    w = portal.w
    before = _summary(w)["kinds"]["cash"]["received_vnd"]
    _give(w)
    _age(61, refreshing_since=utcnow())  # another server is computing it now
    _summary(w)
    summaries.wait_for_refreshes(30)
    assert _summary(w)["kinds"]["cash"]["received_vnd"] == before  # left to that server

    _age(61, refreshing_since=utcnow() - timedelta(minutes=11))  # that server died while at it
    _summary(w)
    summaries.wait_for_refreshes(30)
    assert _summary(w)["kinds"]["cash"]["received_vnd"] == before + 1_000_000


def test_a_failed_refresh_keeps_the_old_figures_and_lets_another_try(ctx, portal, monkeypatch, caplog):
    w = portal.w
    before = _summary(w)["kinds"]["cash"]["received_vnd"]
    _give(w)
    _age(61)

    def broken(*_args):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(summaries, "overview_figures", broken)
    with caplog.at_level(logging.ERROR):
        _summary(w)
        summaries.wait_for_refreshes(30)
    assert "refresh failed" in caplog.text
    assert _kept().refreshing_since is None  # released: the next visit may try again
    monkeypatch.undo()
    assert _summary(w)["kinds"]["cash"]["received_vnd"] == before  # the kept figures stay shown; it tries again
    summaries.wait_for_refreshes(30)
    assert _summary(w)["kinds"]["cash"]["received_vnd"] == before + 1_000_000


def test_each_area_is_kept_apart_and_an_unknown_area_keeps_nothing(ctx, portal):
    w = portal.w
    commune = _summary(w, area="00004")
    assert commune["kinds"]["cash"]["allocated_vnd"] == 10_000_000
    assert _kept("00004") is not None and _kept("") is None
    assert w.recorder.get("/reports/summary", area="99999").status_code == 404
    assert _kept("99999") is None


def test_the_page_says_when_its_figures_were_computed(ctx, portal):
    client = ctx.test_client()
    text = _text(client.get("/").get_data(as_text=True))
    kept = _kept()
    assert f"gồm {kept.journal_size} bút toán" in text and "Số liệu tính đến" in text
    english = _text(client.get("/?lang=en").get_data(as_text=True))
    assert f"covering {kept.journal_size} journal entries" in english


def test_with_no_age_the_figures_are_computed_on_every_visit(ctx, portal, monkeypatch):
    monkeypatch.setitem(ctx.config, "LEDGER_PUBLIC_SUMMARY_SECONDS", 0)
    w = portal.w
    before = _summary(w)["kinds"]["cash"]["received_vnd"]
    _give(w)
    assert _summary(w)["kinds"]["cash"]["received_vnd"] == before + 1_000_000
    assert _kept() is None


def test_the_command_warms_the_country_and_every_province(ctx, portal):
    result = ctx.test_cli_runner().invoke(args=["ledger", "public-summaries"])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    scopes = set(db.session.scalars(select(PublicSummary.scope)))
    assert {"", "01"} <= scopes and "00004" not in scopes
    assert "summaries kept" in result.output
