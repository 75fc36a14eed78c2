"""The bulk paths (a statement import, a generated national campaign) keep every rule of
the one-at-a-time ones: many contributions written together get gapless seqs and receipt
numbers, receipts and statement rows, and a log that `verify` rebuilds from the rows;
donors and households of different shapes keep every field; a household's timeline and
commune are checked as change_status and create_household check them."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from ledger.auth.models import User
from ledger.campaigns.models import Campaign
from ledger.contributions.models import Contribution
from ledger.contributions.recording import record_checked
from ledger.contributions.service import check_contribution, check_scope
from ledger.database import write_transaction
from ledger.donors.models import Donor
from ledger.donors.service import create_donors
from ledger.extensions import db
from ledger.households.models import Household, HouseholdStatusEvent
from ledger.households.service import create_households
from ledger.journal.models import JournalTransaction
from ledger.journal.service import lock_ledger, verify_journal
from ledger.problems import InvalidInput
from ledger.receipts.models import Receipt
from ledger.statement.models import StatementEntry
from ledger.transparency.audit import verify_ledger
from ledger.transparency.log import publish
from tests.helpers import build_world


@pytest.fixture()
def world(ctx):
    return build_world(ctx)


def _recorder() -> User:
    return db.session.scalar(select(User).where(User.username == "recorder"))


def test_donors_of_every_shape_keep_every_field(world):
    """One statement for rows naming different columns: the business's tax code and the
    state's level are not lost behind an individual that has neither."""
    with write_transaction():
        made = create_donors(_recorder(), [
            {"kind": "individual", "name": "Nguyễn Văn An", "public_display": "anonymous"},
            {"kind": "business", "name": "Công ty TNHH Xây dựng Hòa Bình", "tax_code": "0300588569",
             "public_display": "named"},
            {"kind": "state", "name": "Ngân sách tỉnh", "state_level": "province", "public_display": "named"}])
    db.session.rollback()
    stored = {d.name: d for d in db.session.scalars(select(Donor).where(Donor.id.in_([m.id for m in made])))}
    assert stored["Công ty TNHH Xây dựng Hòa Bình"].tax_code == "0300588569"
    assert stored["Ngân sách tỉnh"].state_level == "province"
    assert stored["Nguyễn Văn An"].public_display == "anonymous" and stored["Nguyễn Văn An"].tax_code is None
    assert all(d.created_at is not None and d.name_folded for d in stored.values())
    with pytest.raises(InvalidInput), write_transaction():  # a business without its tax code
        create_donors(_recorder(), [{"kind": "individual", "name": "A"}, {"kind": "business", "name": "B"}])
    assert db.session.scalar(select(func.count()).select_from(Donor).where(Donor.name == "A")) == 0


@pytest.mark.parametrize("count", [1, 120])  # one INSERT; PostgreSQL's COPY from 50 rows
def test_many_contributions_written_together_keep_every_rule(world, count):
    user = _recorder()
    with write_transaction():
        donors = create_donors(user, [{"kind": "individual", "name": f"Trần Thị Bình {i}", "public_display": "named"}
                                      for i in range(3)] + [
            {"kind": "business", "name": "Công ty Cổ phần Vật liệu Minh Long", "tax_code": "0300588569",
             "public_display": "named"}])
    before = db.session.scalar(select(func.count()).select_from(JournalTransaction))
    with write_transaction():
        lock_ledger()
        campaign, fund = check_scope(user, world.campaign_id, world.fund_id)
        checked = []
        for i in range(count):
            data = ({"kind": "cash", "method": "bank_transfer", "amount_vnd": 100_000 * (i + 1),
                     "bank_reference": f"FT{i:08d}"} if i % 3 else
                    {"kind": "material", "method": "in_kind", "item": "Xi măng", "unit": "bao",
                     "quantity": 5_000, "unit_value_vnd": 90_000})
            donor = None if i % 7 == 0 else donors[i % len(donors)]
            checked.append(check_contribution(campaign, fund, {**data, "received_on": date(2025, 3, 1 + i % 28),
                                                               "memo": "ủng hộ xóa nhà tạm"}, donor=donor))
        ids = record_checked(user, checked)
    db.session.rollback()
    assert len(ids) == count
    contributions = db.session.scalars(select(Contribution).where(Contribution.id.in_(ids))
                                       .order_by(Contribution.id)).all()
    seqs = [c.txn.seq for c in contributions]
    assert seqs == list(range(before, before + count))  # gapless, in order, after what was there
    numbers = [int(c.receipt_number.rsplit("-", 1)[1]) for c in contributions]
    assert numbers == list(range(numbers[0], numbers[0] + count))
    assert db.session.scalar(select(func.count()).select_from(Receipt).where(Receipt.contribution_id.in_(ids))) == count
    entries = db.session.scalar(select(func.count()).select_from(StatementEntry)
                                .where(StatementEntry.contribution_id.in_(ids)))
    assert entries == count
    assert verify_journal() == []
    publish()
    assert verify_ledger() == []
    # A receipt issued in bulk checks like any other, through the API.
    receipt = world.recorder.ok(world.recorder.get(f"/contributions/{ids[-1]}"))["receipt"]
    assert receipt["number"] == contributions[-1].receipt_number and receipt["url"]


def test_households_in_bulk_keep_the_timeline_and_area_rules(world):
    user = db.session.scalar(select(User).where(User.username == "admin"))  # any area: the campaign's rule
    campaign = db.session.get(Campaign, world.campaign_id)
    row = {"commune_code": "00004", "head_name": "Lê Văn Cường", "category": "poor", "support_type": "repair"}
    with write_transaction():
        ids = create_households(user, campaign, [row, {**row, "support_type": "new_build", "phone": "0912345678"}],
                                [[("surveyed", date(2025, 2, 1))],
                                 [("surveyed", date(2025, 2, 1)), ("approved", date(2025, 2, 5)),
                                  ("building", date(2025, 3, 1))]])
    db.session.rollback()
    first, second = (db.session.get(Household, i) for i in ids)
    assert (first.status, first.approved_amount_vnd) == ("surveyed", 30_000_000)
    assert (second.status, second.approved_amount_vnd, second.phone) == ("building", 60_000_000, "0912345678")
    assert [e.status for e in second.events] == ["surveyed", "approved", "building"]
    count = db.session.scalar(select(func.count()).select_from(Household))
    refused = [
        ([{**row, "commune_code": "26734"}], [[("surveyed", date(2025, 2, 1))]]),  # outside Hà Nội
        ([row], [[("surveyed", date(2025, 2, 1)), ("building", date(2025, 2, 2))]]),  # a step skipped
        ([row], [[("approved", date(2025, 2, 1))]]),  # not starting at surveyed
        ([row], [[("surveyed", date(2025, 2, 9)), ("approved", date(2025, 2, 1))]]),  # back in time
    ]
    for rows, timelines in refused:
        with pytest.raises(InvalidInput), write_transaction():
            create_households(user, campaign, rows, timelines)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Household)) == count
    assert db.session.scalar(select(func.count()).select_from(HouseholdStatusEvent)) == 4
