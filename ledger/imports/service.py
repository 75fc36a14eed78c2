"""Bank statement imports: read, plan (the dry run), commit as one batch, void a batch
(the reconciliation with the bank's balance is in reconciliation.py).

The plan says what each line of the statement would become, without writing anything:
a credit becomes a cash contribution (matched to a pledge by the code in its memo, to a
donor known by the payer's account or name, to a donor created from the sender's name,
or anonymous); a debit is kept for the reconciliation; a line whose identity an earlier
batch (not voided) already holds is a duplicate and adds nothing. The commit makes the
same plan again under the ledger's write lock (so two imports of overlapping statements
cannot both record a line) and records it in that one transaction: every contribution,
its receipt and its journal entry, or nothing.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..auth.models import User
from ..auth.service import require, require_area
from ..campaigns.models import Campaign
from ..contributions.models import Contribution
from ..database import in_parts, insert_rows, refresh_statistics, write_transaction
from ..donors.models import Donor
from ..extensions import db
from ..funds.models import Fund
from ..journal.service import lock_ledger
from ..pledges.models import Pledge
from ..problems import Conflict, InvalidInput, NotFound
from ..text import clean_text, fold
from .models import BankLine, ImportBatch, ImportBatchVoid
from .statements import (
    ColumnMapping,
    ParsedStatement,
    StatementError,
    StatementLine,
    find_pledge_code,
    line_identity,
    parse_statement,
    sender_name_from_memo,
)

BUSINESS_WORDS = ("cong ty", "cty", "tnhh", "tap doan", "ngan hang", "doanh nghiep", "hop tac xa")
CHUNK = 200  # lines recorded together (and progress reported): few statements per line, memory flat
UNION_WORDS = ("cong doan", "hoi ", "doan thanh nien", "hoi lien hiep")


@dataclass
class PlannedLine:
    line: StatementLine
    identity: str
    outcome: str  # pledge, donor, new_donor, anonymous, debit, duplicate
    pledge: Pledge | None = None
    donor: Donor | None = None
    donor_name: str | None = None  # of a donor to create
    donor_kind: str | None = None
    earlier_batch_id: int | None = None  # a duplicate: the batch that has it
    note: str | None = None  # why a pledge code was not used, for the person checking


@dataclass
class ImportPlan:
    statement: ParsedStatement
    file_name: str
    file_sha256: str
    fund: Fund
    campaign: Campaign
    lines: list[PlannedLine]
    counts: dict[str, int] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)

    @property
    def new_lines(self) -> list[PlannedLine]:
        """The lines to record: new credits (counts["new"]) and new debits."""
        return [p for p in self.lines if p.outcome != "duplicate"]


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_statement(data: bytes, file_name: str, bank: str | None = None,
                   mapping: ColumnMapping | None = None) -> ParsedStatement:
    """The statement, or InvalidInput naming each row, column and reason it cannot read
    (Vietnamese first; `errors` keyed "row N" so a form or a script can show them)."""
    if not data:
        raise InvalidInput(_l("The file is empty."), errors={"file": [_l("The file is empty.")]})
    try:
        return parse_statement(data, file_name, bank=bank, mapping=mapping)
    except StatementError as err:
        errors: dict[str, list[str]] = {}
        for problem in err.problems:
            key = f"row {problem.row}" if problem.row is not None else "file"
            where = f"{problem.column}: " if problem.column else ""
            errors.setdefault(key, []).append(where + problem.message_vi)
        raise InvalidInput(_l("The statement cannot be read: %(count)s problem(s), listed by row. Nothing was "
                              "recorded.", count=len(err.problems)), errors=errors) from err


def column_mapping(values: dict | None) -> ColumnMapping | None:
    """A user's column mapping (bank=custom) from its fields, or InvalidInput saying what
    is missing or unknown (keyed "mapping"); None when no field is given."""
    values = {k: v for k, v in (values or {}).items() if v not in (None, "")}
    if not values:
        return None
    try:
        return ColumnMapping.from_dict(values)
    except StatementError as err:
        raise InvalidInput(_l("The column mapping is not complete."),
                           errors={"mapping": [(f"{p.column}: " if p.column else "") + p.message_vi
                                               for p in err.problems]}) from err


def import_scope(user: User, fund_id: int, campaign_id: int | None) -> tuple[Fund, Campaign]:
    """The fund the statement belongs to and the campaign its gifts go to (by default the
    latest campaign whose area holds the fund)."""
    require(user, "record")
    fund = db.session.get(Fund, fund_id)
    if fund is None:
        raise NotFound(_l("Unknown fund %(id)s.", id=fund_id))
    require_area(user, fund.area_code)
    if campaign_id is not None:
        campaign = db.session.get(Campaign, campaign_id)
        if campaign is None:
            raise NotFound(_l("Unknown campaign %(id)s.", id=campaign_id))
        return fund, campaign
    from ..areas.service import is_within

    campaigns = db.session.scalars(select(Campaign).order_by(Campaign.starts_on.desc(), Campaign.id.desc())).all()
    for campaign in campaigns:
        if is_within(fund.area_code, campaign.area_code):
            return fund, campaign
    raise InvalidInput(_l("No campaign covers this fund's area: choose one."),
                       errors={"campaign_id": [_l("Required.")]})


def _earlier_lines(identities: list[str]) -> dict[str, int]:
    """identity -> batch id, among the lines of batches not voided. The lines alone are
    read by their identity index (a join let PostgreSQL, before it had statistics on a
    freshly filled table, scan the batch for every chunk; a commit now leaves those
    statistics, see `_record`); the few voided batches are left out afterwards."""
    voided = set(db.session.scalars(select(ImportBatchVoid.batch_id)))
    found: dict[str, int] = {}
    for part in in_parts(identities):
        rows = db.session.execute(
            select(BankLine.identity, BankLine.batch_id)
            .where(BankLine.identity.in_(part), BankLine.outcome != "duplicate"))
        found.update({identity: batch_id for identity, batch_id in rows if batch_id not in voided})
    return found


def _donor_kind(name: str) -> tuple[str, str | None]:
    """The kind of a donor created from a sender's name, and a note for the person
    checking. A business is recorded with its tax code, which a bank line does not give:
    an unknown business becomes an individual donor until staff add its tax code."""
    folded = f" {fold(name)} "
    if any(f" {w}" in folded for w in UNION_WORDS):
        return "union", None
    if any(f" {w}" in folded for w in BUSINESS_WORDS):
        return "individual", str(_l("%(name)s looks like a business: recorded as an individual donor until its tax "
                                    "code is added.", name=name))
    return "individual", None


class _Donors:
    """Who sent a credit: known by the payer's account (a donor an earlier imported line of
    that account went to), else by name (the oldest donor with that name, diacritics and
    case aside), else a donor to create (one per name, however many lines it sends).
    Looked up for the whole statement at once (preload), a few hundred names a query."""

    def __init__(self):
        self.by_account: dict[str, Donor | None] = {}
        self.by_name: dict[str, Donor | None] = {}

    def preload(self, accounts: set[str], folded_names: set[str]) -> None:
        accounts, folded_names = sorted(accounts - set(self.by_account)), sorted(folded_names - set(self.by_name))
        self.by_account.update(dict.fromkeys(accounts))
        self.by_name.update(dict.fromkeys(folded_names))
        for part in in_parts(accounts):
            rows = db.session.execute(
                select(BankLine.payer_account, Donor).join(Contribution, BankLine.contribution_id == Contribution.id)
                .join(Donor, Donor.id == Contribution.donor_id)
                .where(BankLine.payer_account.in_(part)).order_by(BankLine.id))
            self.by_account.update((a, d) for a, d in rows)  # the latest line of each account wins
        for part in in_parts(folded_names):
            rows = db.session.execute(select(Donor.name_folded, Donor).where(
                Donor.name_folded.in_(part)).order_by(Donor.id.desc()))
            self.by_name.update((n, d) for n, d in rows)  # the oldest donor of each name wins

    def by_payer_account(self, account: str | None) -> Donor | None:
        if not account:
            return None
        if account not in self.by_account:
            self.preload({account}, set())
        return self.by_account[account]

    def by_folded_name(self, name: str) -> Donor | None:
        key = fold(name)
        if key not in self.by_name:
            self.preload(set(), {key})
        return self.by_name[key]


def _sender_name(line: StatementLine, bank: str) -> str | None:
    """The sender's name: the bank's column for it, else what the memo shows."""
    return clean_text(line.payer_name or sender_name_from_memo(line.memo, bank) or "") or None


def _pledge_for(code: str | None, fund: Fund) -> tuple[Pledge | None, str | None]:
    """The pledge a memo's code names, when it can take a cash gift into this fund; else
    (None, why not) so the line is recorded without it and the person checking sees why."""
    if code is None:
        return None, None
    pledge = db.session.get(Pledge, int(code[1:]))
    if pledge is None or pledge.code != code:  # P0001234 is nobody's code: pledge 1234 is P001234
        return None, str(_l("Pledge %(code)s does not exist: recorded without it.", code=code))
    if pledge.cancellation is not None:
        return None, str(_l("Pledge %(code)s is cancelled: recorded without it.", code=code))
    if pledge.kind != "cash":
        return None, str(_l("Pledge %(code)s is not a cash pledge: recorded without it.", code=code))
    if pledge.fund_id != fund.id:
        return None, str(_l("Pledge %(code)s was made to another fund: recorded without it.", code=code))
    return pledge, None


def plan_import(user: User, fund_id: int, data: bytes, file_name: str, *, bank: str | None = None,
                mapping: ColumnMapping | None = None, campaign_id: int | None = None) -> ImportPlan:
    """What the import would do, line by line, with counts and totals: writes nothing."""
    fund, campaign = import_scope(user, fund_id, campaign_id)
    statement = read_statement(data, file_name, bank, mapping)
    identities = [line_identity(statement.bank, statement.account_number, line) for line in statement.lines]
    earlier = _earlier_lines(identities)
    names = {id(line): _sender_name(line, statement.bank) for line in statement.lines if line.amount_vnd > 0}
    donors = _Donors()
    donors.preload({line.payer_account for line in statement.lines if line.payer_account and line.amount_vnd > 0},
                   {fold(name) for name in names.values() if name})
    planned: list[PlannedLine] = []
    seen: set[str] = set()
    for line, identity in zip(statement.lines, identities, strict=True):
        if identity in earlier or identity in seen:
            # In an earlier batch, or twice in this very file (kept once).
            planned.append(PlannedLine(line, identity, "duplicate", earlier_batch_id=earlier.get(identity)))
            continue
        seen.add(identity)
        if line.amount_vnd < 0:
            planned.append(PlannedLine(line, identity, "debit"))
            continue
        planned.append(_plan_credit(line, identity, fund, donors, names[id(line)]))
    plan = ImportPlan(statement, file_name, file_sha256(data), fund, campaign, planned)
    _count(plan)
    return plan


def _plan_credit(line: StatementLine, identity: str, fund: Fund, donors: _Donors, name: str | None) -> PlannedLine:
    pledge, note = _pledge_for(find_pledge_code(line.memo), fund)
    if pledge is not None:
        return PlannedLine(line, identity, "pledge", pledge=pledge, donor=pledge.donor)
    donor = donors.by_payer_account(line.payer_account)
    if donor is None and name:
        donor = donors.by_folded_name(name)
    if donor is not None:
        return PlannedLine(line, identity, "donor", donor=donor, note=note)
    if name:
        kind, why = _donor_kind(name)
        return PlannedLine(line, identity, "new_donor", donor_name=name, donor_kind=kind,
                           note=" ".join(n for n in (note, why) if n) or None)
    return PlannedLine(line, identity, "anonymous", note=note)


def _count(plan: ImportPlan) -> None:
    counts = {k: 0 for k in ("lines", "new", "pledge", "donor", "new_donor", "anonymous", "debit", "duplicate")}
    totals = {"new_credits_vnd": 0, "debits_vnd": 0, "duplicates_vnd": 0, "pledged_credits_vnd": 0}
    new_names = set()
    for p in plan.lines:
        counts["lines"] += 1
        counts[p.outcome] += 1
        amount = p.line.amount_vnd
        if p.outcome == "duplicate":
            totals["duplicates_vnd"] += amount
            continue
        if p.outcome == "debit":
            totals["debits_vnd"] += -amount
            continue
        counts["new"] += 1
        totals["new_credits_vnd"] += amount
        if p.outcome == "pledge":
            totals["pledged_credits_vnd"] += amount
        if p.outcome == "new_donor":
            new_names.add(fold(p.donor_name))
    counts["new_donors"] = len(new_names)  # donors to create (several lines may share one)
    plan.counts, plan.totals = counts, totals


# --- the commit ------------------------------------------------------------------------------

def commit_import(user: User, fund_id: int, data: bytes, file_name: str, *, bank: str | None = None,
                  mapping: ColumnMapping | None = None, campaign_id: int | None = None,
                  progress: Callable[[int, int], None] | None = None) -> tuple[ImportPlan, ImportBatch | None]:
    """Record the plan, all or nothing, as one batch; (plan, None) when every line was
    imported before (nothing new to record)."""
    with write_transaction():
        lock_ledger()  # first: a concurrent import of an overlapping statement waits here
        plan = plan_import(user, fund_id, data, file_name, bank=bank, mapping=mapping, campaign_id=campaign_id)
        if not plan.new_lines:
            return plan, None
        return plan, _record(user, plan, progress)


def _record(user: User, plan: ImportPlan, progress) -> ImportBatch:
    """The batch, and its lines in chunks: the senders new to the ledger created, each
    credit checked by the rules of any contribution (contributions.service) and written
    with the others of its chunk (contributions.recording), then the chunk's bank lines."""
    statement = plan.statement
    batch = ImportBatch(
        fund_id=plan.fund.id, campaign_id=plan.campaign.id, bank=statement.bank,
        account_number=statement.account_number, file_name=plan.file_name[:255], file_sha256=plan.file_sha256,
        period_from=statement.period_from, period_to=statement.period_to,
        opening_balance_vnd=statement.opening_balance_vnd, closing_balance_vnd=statement.closing_balance_vnd,
        lines_in_file=len(statement.lines), credits_recorded=plan.counts["new"],
        credits_recorded_vnd=plan.totals["new_credits_vnd"], debits=plan.counts["debit"],
        debits_vnd=plan.totals["debits_vnd"], duplicates=plan.counts["duplicate"], created_by_id=user.id)
    db.session.add(batch)
    db.session.flush()
    created: dict[str, Donor] = {}  # folded name -> the donor created for it (one per name)
    lines = plan.lines
    for start in range(0, len(lines), CHUNK):
        chunk = lines[start:start + CHUNK]
        _record_chunk(user, plan, batch.id, chunk, created)
        if progress is not None:
            progress(start + len(chunk), len(lines))
    # Without statistics on the new lines PostgreSQL read the whole table for each chunk of
    # identities `_earlier_lines` looks up: re-importing a statement straight after its
    # commit was quadratic (200,364 lines: 139 ms a chunk of 500). Autovacuum would refresh
    # them within a minute or so; a second upload of the same file often comes sooner.
    refresh_statistics(BankLine.__table__, len(lines))
    return batch


def _record_chunk(user: User, plan: ImportPlan, batch_id: int, chunk: list[PlannedLine],
                  created: dict[str, Donor]) -> None:
    from ..contributions.recording import record_checked
    from ..contributions.service import check_contribution
    from ..donors.service import create_donors

    to_create = {}
    for p in chunk:
        if p.outcome == "new_donor" and fold(p.donor_name) not in created:
            to_create.setdefault(fold(p.donor_name), {"kind": p.donor_kind, "name": p.donor_name,
                                                      "public_display": "named"})
    created.update(zip(to_create, create_donors(user, list(to_create.values())), strict=True))

    credits, checked = [], []
    for p in chunk:
        if p.outcome in ("debit", "duplicate"):
            continue
        line = p.line
        donor = created[fold(p.donor_name)] if p.outcome == "new_donor" else p.donor
        try:
            checked.append(check_contribution(plan.campaign, plan.fund, {
                "donor_id": donor.id if donor else None,
                "pledge_id": p.pledge.id if p.pledge else None, "kind": "cash", "method": "bank_transfer",
                "amount_vnd": line.amount_vnd, "received_on": line.posted_at.date(),
                "bank_reference": line.reference, "memo": line.memo}, donor=donor))
        except InvalidInput as err:
            # One line the ledger refuses refuses the whole statement: say which.
            raise InvalidInput(_l("Row %(row)s cannot be recorded: %(why)s Nothing was recorded.",
                                  row=line.row, why=err.detail),
                               errors={f"row {line.row}": [str(err.detail)]}) from err
        credits.append(p)
    contribution_of = dict(zip(map(id, credits), record_checked(user, checked), strict=True))
    insert_rows(BankLine.__table__, [
        {"batch_id": batch_id, "identity": p.identity, "row": p.line.row, "posted_at": p.line.posted_at,
         "reference": p.line.reference, "amount_vnd": p.line.amount_vnd, "memo": p.line.memo,
         "payer_name": p.line.payer_name, "payer_account": p.line.payer_account,
         "balance_vnd": p.line.balance_vnd, "outcome": p.outcome, "pledge_id": p.pledge.id if p.pledge else None,
         "contribution_id": contribution_of.get(id(p))}
        for p in chunk])


# --- looking, voiding ------------------------------------------------------------------------

def get_batch(user: User, batch_id: int) -> ImportBatch:
    require(user, "read")
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None:
        raise NotFound(_l("Unknown import batch %(id)s.", id=batch_id))
    require_area(user, batch.fund.area_code)
    return batch


def list_batches(user: User, fund_id: int | None = None):
    from ..areas.service import within_clause

    require(user, "read")
    query = select(ImportBatch).join(Fund, Fund.id == ImportBatch.fund_id).order_by(ImportBatch.id.desc())
    if user.area_code:
        query = query.where(within_clause(Fund.area_code, user.area_code))
    if fund_id is not None:
        query = query.where(ImportBatch.fund_id == fund_id)
    return query


def batch_lines(batch_id: int):
    return select(BankLine).where(BankLine.batch_id == batch_id).order_by(BankLine.row)


def void_batch(user: User, batch_id: int, reason: str) -> ImportBatch:
    """Void a whole batch: every contribution in it voided with the reason, in one
    transaction; refused (naming them) while an allocation or transfer draws on one.
    Approvers and admins only: it undoes many gifts at once. The lines may then be
    imported again."""
    from ..contributions.service import carry_out_void

    reason = clean_text(reason or "")
    if not reason:
        raise InvalidInput(_l("Say why the batch is voided."), errors={"reason": [_l("Required.")]})
    with write_transaction():
        lock_ledger()
        require(user, "override")
        batch = get_batch(user, batch_id)
        if batch.is_voided:
            raise Conflict(_l("This import batch is already voided."))
        ids = db.session.scalars(select(BankLine.contribution_id).where(
            BankLine.batch_id == batch.id, BankLine.contribution_id.is_not(None)).order_by(BankLine.id)).all()
        for contribution_id in ids:
            carry_out_void(user, contribution_id, reason)
        db.session.add(ImportBatchVoid(batch_id=batch.id, reason=reason, voided_by_id=user.id))
        db.session.flush()
        db.session.refresh(batch)
        return batch
