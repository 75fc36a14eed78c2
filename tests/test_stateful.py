"""Random sequences of contributions, allocations, transfers, voids and reversals, and of
approvals and rejections of the requests that wait for a second person (maker–checker).

After every step every invariant holds, and the balances recomputed from the journal's
postings equal the ones the service reports. A refused step changes nothing; a request
moves nothing until it is approved, and then exactly once.
"""
from collections import defaultdict
from datetime import date

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import func, select

from ledger.allocations import service as allocations
from ledger.allocations.models import Allocation, AllocationLine
from ledger.approvals import service as approvals
from ledger.approvals.models import Approval
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
            self.checker = create_user("duyet", "correct horse battery", "approver")
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
            for fund_id in self.fund_ids:  # something to allocate from the first step
                contributions.record_contribution(self.user, {
                    "campaign_id": self.campaign_id, "fund_id": fund_id, "donor_id": self.donor_id,
                    "received_on": date(2025, 2, 1), "kind": "cash", "method": "bank_transfer",
                    "amount_vnd": 10_000_000})

        def attempt(self, operation, *args):
            before = db.session.scalar(select(func.count()).select_from(JournalTransaction))
            waiting = self.pending()
            try:
                result = operation(self.user, *args)
            except LedgerError:
                after = db.session.scalar(select(func.count()).select_from(JournalTransaction))
                assert after == before, "a refused operation changed the journal"
                assert self.pending() == waiting, "a refused operation changed the requests"
                return
            after = db.session.scalar(select(func.count()).select_from(JournalTransaction))
            if getattr(result, "is_pending", False):
                assert after == before, "a request waiting for approval moved something"
            else:
                assert after == before + 1, "one operation, one journal transaction"

        def pending(self):
            return db.session.scalars(select(Approval.id).where(Approval.status == "pending")
                                      .order_by(Approval.id)).all()

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
              material=st.booleans(), override=st.booleans())
        def allocate(self, fund, household, amount, named, material, override):
            data = {"fund_id": self.fund_ids[fund], "household_id": self.household_ids[household]}
            if override:
                data["override_reason"] = "Giá vật liệu tăng"
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

        @precondition(lambda self: self.pending())
        @rule(pick=st.integers(0, 50), by_admin=st.sampled_from([False, False, False, True]))
        def approve(self, pick, by_admin):
            ids = self.pending()
            approval_id = ids[pick % len(ids)]
            before = db.session.scalar(select(func.count()).select_from(JournalTransaction))
            try:
                # the requester (the admin) never approves its own: the approver does, or is refused
                approvals.approve(self.user if by_admin else self.checker, approval_id)
            except LedgerError:
                assert db.session.scalar(select(func.count()).select_from(JournalTransaction)) == before
                assert db.session.get(Approval, approval_id).status == "pending"
                return
            assert not by_admin, "the requester approved its own request"
            assert db.session.scalar(select(func.count()).select_from(JournalTransaction)) == before + 1
            try:  # approving twice does nothing twice
                approvals.approve(self.checker, approval_id)
                raise AssertionError("approved twice")
            except LedgerError:
                assert db.session.scalar(select(func.count()).select_from(JournalTransaction)) == before + 1

        @precondition(lambda self: self.pending())
        @rule(pick=st.integers(0, 50))
        def reject(self, pick):
            ids = self.pending()
            before = db.session.scalar(select(func.count()).select_from(JournalTransaction))
            rejected = approvals.reject(self.checker, ids[pick % len(ids)], "Không đủ chứng từ")
            assert rejected.status == "rejected" and rejected.txn_id is None
            assert db.session.scalar(select(func.count()).select_from(JournalTransaction)) == before

        @invariant()
        def requests_move_nothing_until_approved_and_then_once(self):
            for approval in db.session.scalars(select(Approval)):
                if approval.status == "approved":
                    assert approval.txn_id is not None and approval.decided_by_id == self.checker.id
                    assert approval.requested_by_id != approval.decided_by_id
                    if approval.kind == "allocation":
                        assert db.session.get(Allocation, approval.record_id).txn_id == approval.txn_id
                    else:
                        assert db.session.get(JournalTransaction, approval.txn_id).reverses_id is not None
                else:
                    assert approval.txn_id is None
            undone = db.session.execute(
                select(Approval.kind, Approval.record_id, func.count()).where(
                    Approval.status == "approved", Approval.kind != "allocation")
                .group_by(Approval.kind, Approval.record_id)).all()
            assert all(n == 1 for _, _, n in undone), undone

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
                # past the approved amount only by an override, allowed by an approver
                overrides = [a for a in live if a.household_id == household_id and a.override_reason]
                if not overrides:
                    assert households.allocated_value(household_id) <= 8_000_000
                for allocation in overrides:
                    approval = db.session.scalar(select(Approval).where(
                        Approval.kind == "allocation", Approval.record_id == allocation.id))
                    assert approval is not None and approval.decided_by.role in ("admin", "approver")

    LedgerMachine.TestCase.settings = settings(
        max_examples=12, stateful_step_count=20, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    # a low threshold, so that some allocations wait for approval and others do not
    threshold = app.config["LEDGER_APPROVAL_THRESHOLD_VND"]
    app.config["LEDGER_APPROVAL_THRESHOLD_VND"] = 1_000_000
    try:
        LedgerMachine.TestCase().runTest()
    finally:
        app.config["LEDGER_APPROVAL_THRESHOLD_VND"] = threshold


def test_random_sequences_keep_every_invariant(ctx):
    run_machine(ctx)
