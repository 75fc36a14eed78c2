"""The bulk paths (a statement import, a generated national campaign) keep every rule of
the one-at-a-time ones: many contributions written together get gapless seqs and receipt
numbers, receipts and statement rows, and a log that `verify` rebuilds from the rows;
donors and households of different shapes keep every field; a household's timeline and
commune are checked as change_status and create_household check them."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, text

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
from tests.helpers import build_world, make_user


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


# --- allocations in bulk ---------------------------------------------------------------------

def _side(world, code: str) -> tuple[int, list[int], list[int]]:
    """A fund of Hà Nội with the same lots as every other side (two cash gifts, one earmarked
    for the side's second household, and cement), and four approved households:
    (fund id, contribution ids, household ids)."""
    admin, recorder = world.admin, world.recorder
    fund_id = admin.ok(admin.post("/funds", {"code": code, "name": f"Quỹ {code}", "area_code": "01"}))["fund_id"]
    households = [world.household(support_type="new_build" if i != 2 else "repair") for i in range(4)]
    gifts = [{"amount_vnd": 20_000_000, "received_on": "2025-03-01"},
             {"amount_vnd": 12_000_000, "received_on": "2025-03-02", "earmark_household_id": households[1]},
             {"amount_vnd": 25_000_000, "received_on": "2025-03-03"},
             {"kind": "material", "method": "in_kind", "item": "Xi măng", "unit": "bao", "quantity": "200",
              "unit_value_vnd": 90_000, "received_on": "2025-03-04"}]
    ids = [recorder.ok(world.contribute(fund_id=fund_id, **gift))["contribution_id"] for gift in gifts]
    return fund_id, ids, households


def _requests(households: list[int]) -> list[dict]:
    return [{"household_id": households[0], "kind": "cash", "amount_vnd": 15_000_000},
            {"household_id": households[1], "kind": "cash", "amount_vnd": 14_000_000},  # its earmarked lot too
            {"household_id": households[2], "kind": "cash", "amount_vnd": 9_000_000},
            {"household_id": households[0], "kind": "cash", "amount_vnd": 10_000_000},
            {"household_id": households[3], "kind": "material", "item": "Xi măng", "unit": "bao", "quantity": "150"}]


def _counts() -> tuple[int, int, int]:
    from ledger.allocations.models import Allocation, AllocationLine
    from ledger.journal.models import Holding

    db.session.rollback()
    return (db.session.scalar(select(func.count()).select_from(Allocation)),
            db.session.scalar(select(func.count()).select_from(AllocationLine)),
            db.session.scalar(select(func.count()).select_from(JournalTransaction))
            + db.session.scalar(select(func.sum(Holding.units))))


def test_allocations_in_bulk_draw_and_record_as_one_at_a_time(world):
    """The same requests, in bulk from one fund and one by one from another with the same lots,
    draw the same lots (FIFO, the earmarked lot only for its household), leave the same in
    the funds, and write leaves that `verify` rebuilds."""
    from ledger.allocations.models import Allocation
    from ledger.allocations.schemas import AllocationIn
    from ledger.allocations.service import allocate_in_bulk, allocate_to_household
    from ledger.journal.models import Holding

    user = _recorder()
    bulk_fund, bulk_gifts, bulk_households = _side(world, "BULK")
    one_fund, one_gifts, one_households = _side(world, "ONEBYONE")
    ids = allocate_in_bulk(user, bulk_fund, _requests(bulk_households))
    for data in _requests(one_households):  # read as the API reads them, as allocate_in_bulk does
        allocate_to_household(user, AllocationIn().load({**data, "fund_id": one_fund}))
    db.session.rollback()

    def drawn(fund_id, gifts, households):
        allocations = db.session.scalars(select(Allocation).where(Allocation.fund_id == fund_id)
                                         .order_by(Allocation.id)).all()
        return [(households.index(a.household_id), a.commodity == "VND", a.units, a.value_vnd,
                 [(gifts.index(line.contribution_id), line.units, line.value_vnd) for line in a.lines])
                for a in allocations]

    def left(fund_id, gifts):
        return sorted((gifts.index(h.contribution_id), h.units)
                      for h in db.session.scalars(select(Holding).where(Holding.fund_id == fund_id)))

    expected = drawn(one_fund, one_gifts, one_households)
    assert drawn(bulk_fund, bulk_gifts, bulk_households) == expected
    assert expected[1][4] == [(0, 5_000_000, 5_000_000), (1, 9_000_000, 9_000_000)]  # earmarked lot for its own
    assert expected[2][4] == [(2, 9_000_000, 9_000_000)]  # ... and skipped for another
    assert expected[4][4] == [(3, 150_000, 13_500_000)]  # 150 bags, in thousandths
    assert left(bulk_fund, bulk_gifts) == left(one_fund, one_gifts)
    assert [a.id for a in db.session.scalars(select(Allocation).where(Allocation.fund_id == bulk_fund)
                                               .order_by(Allocation.id))] == ids
    # The API lists a bulk allocation as any other, with its lines and its log entry.
    listed = world.recorder.ok(world.recorder.get("/allocations", fund_id=bulk_fund), 200)
    assert [a["allocation_id"] for a in listed] == ids
    assert all(a["status"] == "valid" and a["leaf_index"] is not None and a["lines"] for a in listed)
    publish()
    assert verify_journal() == [] and verify_ledger() == []


def test_allocations_in_bulk_refused_record_nothing(world):
    """One request that breaks a rule, or would need a second person, refuses the lot, says
    which, and changes nothing."""
    from ledger.allocations.service import allocate_in_bulk
    from ledger.problems import Conflict, Forbidden, NotFound

    fund_id, gifts, households = _side(world, "BULK")
    surveyed = world.household(approved=False)
    ok = {"household_id": households[0], "kind": "cash", "amount_vnd": 1_000_000}
    before = _counts()
    refused = [  # (error, requests, the request named)
        (Conflict, [ok, {**ok, "amount_vnd": 50_000_000}], 1),  # the pool runs dry at the second
        (Conflict, [ok, {**ok, "household_id": surveyed}], 1),  # not approved
        (Conflict, [{**ok, "household_id": households[2], "amount_vnd": 31_000_000}], 0),  # a repair: 30 M
        (InvalidInput, [{**ok, "source_contribution_id": gifts[0]}], None),  # the pool only
        (NotFound, [ok, {**ok, "household_id": 999_999}], 1),
        (InvalidInput, [ok, {**ok, "amount_vnd": 0}], 1),
        (InvalidInput, [{**ok, "amount_vnd": 1.5}], 0),  # no floats for money
    ]
    for error, requests, named in refused:
        with pytest.raises(error) as caught:
            allocate_in_bulk(_recorder(), fund_id, requests)
        if named is not None:
            assert all(key.startswith(f"requests.{named}") for key in caught.value.errors), caught.value.errors
            assert f"{named + 1}" in str(caught.value.detail)
        assert _counts() == before, requests
    # Above the approval threshold: a second person must approve it, so not in bulk.
    world.recorder.ok(world.contribute(fund_id=fund_id, amount_vnd=60_000_000, received_on="2025-03-05"))
    before = _counts()
    with pytest.raises(Conflict, match="người thứ hai phê duyệt"):
        allocate_in_bulk(_recorder(), fund_id, [{**ok, "amount_vnd": 55_000_000}])
    assert _counts() == before
    make_user("recorder_hcm", "recorder", "79")
    other = db.session.scalar(select(User).where(User.username == "recorder_hcm"))
    with pytest.raises(Forbidden):
        allocate_in_bulk(other, fund_id, [ok])
    assert _counts() == before


@pytest.mark.parametrize("count", [1, 3, 120])  # one row; a few (SQLite: ids given, one executemany); COPY
def test_rows_written_together_get_their_own_ids_in_order(world, count):
    from ledger.database import insert_rows
    from ledger.journal.models import Material

    with write_transaction():
        ids = insert_rows(Material.__table__, [{"item": f"Gạch {i}", "unit": "viên", "key": f"gạch {i}|viên"}
                                               for i in range(count)], returning_ids=True)
    db.session.rollback()
    stored = dict(db.session.execute(select(Material.key, Material.id).where(Material.id.in_(ids))).all())
    assert [stored[f"gạch {i}|viên"] for i in range(count)] == ids and len(set(ids)) == count


def test_plain_sql_takes_named_values_and_a_percent_sign_on_both_databases(world):
    """execute_plainly writes :name in each driver's own style (psycopg's %(name)s, where a
    % of the SQL itself must be doubled); the values are bound, never spliced in."""
    from ledger.database import execute_plainly

    row = execute_plainly("SELECT :word || '%', :n + 1, :word", {"word": "50'; --", "n": 41}).one()
    assert tuple(row) == ("50'; --%", 42, "50'; --")


def test_a_table_filled_in_bulk_from_empty_is_planned_as_full(world, backend):
    """Rows written in bulk into an empty table (PostgreSQL's COPY path) leave the planner
    statistics that count them: generating the full campaign, the foreign-key checks of
    allocation lines were planned against an empty allocations table, a sequential scan
    per line, and the step ran quadratic."""
    from ledger.database import insert_rows
    from ledger.journal.models import Material

    if backend != "postgresql":
        pytest.skip("SQLite's planner has no statistics to miss: its foreign keys are checked by index")
    with write_transaction():
        insert_rows(Material.__table__, [{"item": f"Gạch {i}", "unit": "viên", "key": f"gạch {i}|viên"}
                                         for i in range(3000)])
    db.session.rollback()
    known = db.session.execute(text("SELECT reltuples FROM pg_class WHERE oid = 'materials'::regclass")).scalar()
    assert known == 3000


def test_verify_reads_the_lots_of_a_long_transfer_in_parts(world, monkeypatch):
    """A transfer between funds can draw on more lots than a statement may name (a national
    ledger's did); `verify` reads their receipt numbers in parts and rebuilds its leaf."""
    from ledger.transparency import audit

    for i in range(7):
        world.recorder.ok(world.contribute(amount_vnd=1_000_000, received_on=f"2025-03-0{i + 1}"))
    world.recorder.ok(world.recorder.post(f"/funds/{world.fund_id}/transfers", {
        "to_fund_id": world.commune_fund_id, "kind": "cash", "amount_vnd": 7_000_000}))
    monkeypatch.setattr(audit, "LOTS_PER_QUERY", 3)  # seven lots: three parts
    db.session.rollback()
    publish()
    assert verify_ledger() == []


def test_rows_loaded_together_are_as_the_orm_loads_them(world):
    """load_together reads a campaign, a fund with its area and a donor in one statement and
    leaves them in the session as a query would: the same values, nothing to write, found by
    get() without another statement; a row the session holds already is not read again; an
    unknown key loads nothing, and its get() then reports it unknown."""
    from sqlalchemy import event, inspect

    from ledger.database import load_together
    from ledger.funds.models import Fund

    def column_values(obj) -> dict:
        return {attr.key: getattr(obj, attr.key) for attr in inspect(type(obj)).column_attrs}

    keys = ((Campaign, world.campaign_id), (Fund, world.fund_id), (Donor, world.donor_id))
    expected = [column_values(db.session.get(model, key)) for model, key in keys]
    expected_area = column_values(db.session.get(Fund, world.fund_id).area)
    db.session.rollback()
    db.session.expunge_all()

    statements = []

    def count(_conn, _cursor, statement, *_args):
        if not statement.startswith("BEGIN"):  # SQLite's BEGIN IMMEDIATE
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        with write_transaction():
            loaded = load_together(*keys)
            assert len(statements) == 1
            assert [column_values(obj) for obj in loaded] == expected
            campaign, fund, donor = loaded
            assert column_values(fund.area) == expected_area
            for obj in (campaign, fund, fund.area, donor):
                assert inspect(obj).persistent and obj not in db.session.dirty
            assert db.session.get(Fund, world.fund_id) is fund and db.session.get(Donor, world.donor_id) is donor
            db.session.flush()
            assert len(statements) == 1  # nothing written, nothing read again

            statements.clear()
            again = load_together((Campaign, world.campaign_id), (Fund, world.commune_fund_id),
                                  (Donor, world.state_donor_id))
            assert [type(obj) for obj in again] == [Fund, Donor]  # the campaign was held already
            assert again[0].id == world.commune_fund_id and again[0].area.code == "00004"
            assert len(statements) == 1

            assert load_together((Fund, 999_999), (Donor, 999_998)) == ()
            assert db.session.get(Fund, 999_999) is None
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_rows_of_several_tables_are_written_together_with_their_ids_given(world):
    """new_ids gives ids above every row's, ascending, each once; insert_together writes rows
    that refer to each other (a journal transaction, its salt) by those ids, on PostgreSQL in
    one statement. A row whose parent is missing fails the whole statement with SQLAlchemy's
    IntegrityError (what the API answers as a conflict) and leaves nothing written."""
    from sqlalchemy.exc import IntegrityError

    from ledger.database import insert_together, new_ids
    from ledger.journal.models import LeafSalt
    from ledger.types import utcnow

    def transaction(txn_id: int, seq: int) -> dict:
        return {"id": txn_id, "seq": seq, "kind": "contribution", "recorded_at": utcnow(),
                "recorded_by_id": _recorder().id, "reverses_id": None, "reason": None,
                "public_json": "{}", "sha256": "0" * 64}

    highest = db.session.scalar(select(func.max(JournalTransaction.id))) or 0
    last_seq = db.session.scalar(select(func.max(JournalTransaction.seq))) or 0
    highest_contribution = db.session.scalar(select(func.max(Contribution.id))) or 0
    txn_ids, [contribution_id] = new_ids((JournalTransaction.__table__, 3), (Contribution.__table__, 1))
    assert txn_ids == sorted(txn_ids) and min(txn_ids) > highest and len(set(txn_ids)) == 3
    assert contribution_id > highest_contribution
    insert_together([
        (JournalTransaction.__table__, [transaction(txn_id, last_seq + 1 + i) for i, txn_id in enumerate(txn_ids)]),
        (LeafSalt.__table__, [{"txn_id": txn_id, "salt": f"{txn_id:032x}"} for txn_id in txn_ids])])
    written = dict(db.session.execute(select(LeafSalt.txn_id, LeafSalt.salt)
                                      .where(LeafSalt.txn_id.in_(txn_ids))).all())
    assert written == {txn_id: f"{txn_id:032x}" for txn_id in txn_ids}
    db.session.rollback()

    [[txn_id]] = new_ids((JournalTransaction.__table__, 1))
    with pytest.raises(IntegrityError):
        insert_together([(JournalTransaction.__table__, [transaction(txn_id, last_seq + 1)]),
                          (LeafSalt.__table__, [{"txn_id": txn_id + 1000, "salt": "ab" * 16}])])
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(JournalTransaction)
                             .where(JournalTransaction.id == txn_id)) == 0
