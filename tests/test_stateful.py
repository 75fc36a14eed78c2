"""Random sequences of contributions, allocations, transfers, voids and reversals.

After every step every invariant holds, and the balances recomputed from the journal's
postings equal the ones the service reports. A refused step changes nothing.
"""
from collections import defaultdict
from datetime import date

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import func, select

from ledger.allocations import service as allocations
from ledger.allocations.models import Allocation, AllocationLine
from ledger.auth.service import create_user
from ledger.campaigns.service import create_campaign
from ledger.contributions import service as contributions
from ledger.contributions.models import Contribution
from ledger.donors.service import create_donor
from ledger.extensions import db
from ledger.funds import service as funds
from ledger.funds.models import Fund
from ledger.households import service as households
from ledger.households.models import Household
from ledger.journal.models import JournalTransaction, Posting
from ledger.journal.service import fund_balances, is_reversed, verify_journal
from ledger.problems import LedgerError
from tests.conftest import _empty_tables

AMOUNTS = st.integers(min_value=1, max_value=5).map(lambda n: n * 1_000_000)


def run_machine(app):
    class LedgerMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            db.session.remove()  # end the last example's transaction before emptying the tables
            _empty_tables(app)
            self.user = create_user("may", "correct horse battery", "admin")
            campaign = create_campaign(self.user, code="CT", name="Chung tay", area_code="01",
                                       starts_on=date(2025, 1, 1))
            self.campaign_id = campaign.id
            self.fund_ids = [funds.create_fund(self.user, code="TINH", name="Quỹ tỉnh", area_code="01").id,
                             funds.create_fund(self.user, code="XA", name="Quỹ phường", area_code="00004").id]
            self.donor_id = create_donor(self.user, {"kind": "individual", "name": "Trần Thị Mai"}).id
            self.household_ids = []
            for commune in ("00004", "00008"):
                h = households.create_household(self.user, {
                    "campaign_id": self.campaign_id, "commune_code": commune, "head_name": "Hộ A",
                    "category": "poor", "support_type": "repair", "approved_amount_vnd": 8_000_000,
                    "surveyed_on": date(2025, 1, 2)})
                households.change_status(self.user, h.id, "approved", date(2025, 1, 3))
                self.household_ids.append(h.id)
            self.day = 1

        def attempt(self, operation, *args):
            before = db.session.scalar(select(func.count()).select_from(JournalTransaction))
            try:
                operation(self.user, *args)
            except LedgerError:
                after = db.session.scalar(select(func.count()).select_from(JournalTransaction))
                assert after == before, "a refused operation changed the journal"

        def ids(self, model):
            return db.session.scalars(select(model.id).order_by(model.id)).all()

        @rule(fund=st.integers(0, 1), amount=AMOUNTS, earmark=st.sampled_from([None, "00004", "00008"]),
              material=st.booleans())
        def contribute(self, fund, amount, earmark, material):
            self.day = min(self.day + 1, 28)
            data = {"campaign_id": self.campaign_id, "fund_id": self.fund_ids[fund], "donor_id": self.donor_id,
                    "received_on": date(2025, 2, self.day), "earmark_area_code": earmark}
            if material:
                data.update(kind="material", method="in_kind", item="Xi măng", unit="bao",
                            quantity=amount // 10_000, unit_value_vnd=97_531)  # 100..500 bags, in thousandths
            else:
                data.update(kind="cash", method="bank_transfer", amount_vnd=amount)
            self.attempt(contributions.record_contribution, data)

        @rule(fund=st.integers(0, 1), household=st.integers(0, 1), amount=AMOUNTS, named=st.booleans(),
              material=st.booleans())
        def allocate(self, fund, household, amount, named, material):
            data = {"fund_id": self.fund_ids[fund], "household_id": self.household_ids[household]}
            if material:
                data.update(kind="material", item="xi măng", unit="Bao", quantity=amount // 20_000)
            else:
                data.update(kind="cash", amount_vnd=amount // 2)
            if named and self.ids(Contribution):
                data["source_contribution_id"] = self.ids(Contribution)[-1]
            self.attempt(allocations.allocate_to_household, data)

        @rule(direction=st.booleans(), amount=AMOUNTS)
        def transfer(self, direction, amount):
            src, dst = self.fund_ids if direction else list(reversed(self.fund_ids))
            self.attempt(funds.transfer_between_funds, src, {"to_fund_id": dst, "kind": "cash", "amount_vnd": amount})

        @precondition(lambda self: self.ids(Contribution))
        @rule(pick=st.integers(0, 50))
        def void(self, pick):
            ids = self.ids(Contribution)
            self.attempt(contributions.void_contribution, ids[pick % len(ids)], "Nhập sai")

        @precondition(lambda self: self.ids(Allocation))
        @rule(pick=st.integers(0, 50))
        def reverse_allocation(self, pick):
            ids = self.ids(Allocation)
            self.attempt(allocations.reverse_allocation, ids[pick % len(ids)], "Phân bổ sai")

        @invariant()
        def journal_is_sound(self):
            assert verify_journal() == []

        @invariant()
        def reported_balances_equal_the_journal(self):
            for fund in db.session.scalars(select(Fund)):
                recomputed = defaultdict(int)
                for commodity, units in db.session.execute(
                        select(Posting.commodity, Posting.units).where(Posting.account == fund.account)):
                    recomputed[commodity] += units
                assert fund_balances(fund.id) == {c: u for c, u in recomputed.items() if u}
                assert all(u >= 0 for u in recomputed.values())

        @invariant()
        def contributions_and_households_are_not_overdrawn(self):
            live = [a for a in db.session.scalars(select(Allocation)) if not is_reversed(a)]
            drawn = defaultdict(int)
            for allocation in live:
                for line in db.session.scalars(select(AllocationLine).where(AllocationLine.allocation_id == allocation.id)):
                    drawn[line.contribution_id] += line.units
                    c = db.session.get(Contribution, line.contribution_id)
                    assert c.earmark_area_code in (None, db.session.get(Household, allocation.household_id).commune_code)
            for contribution_id, units in drawn.items():
                assert units <= db.session.get(Contribution, contribution_id).units
            for household_id in self.household_ids:
                assert households.allocated_value(household_id) <= 8_000_000

    LedgerMachine.TestCase.settings = settings(
        max_examples=12, stateful_step_count=14, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    LedgerMachine.TestCase().runTest()


def test_random_sequences_keep_every_invariant(ctx):
    run_machine(ctx)
