"""Imports every model, so that metadata (and Alembic) sees the whole schema."""
from .allocations.models import Allocation, AllocationLine  # noqa: F401
from .approvals.models import Approval  # noqa: F401
from .areas.models import Area  # noqa: F401
from .auth.models import ApiToken, User  # noqa: F401
from .campaigns.models import Campaign  # noqa: F401
from .contributions.models import Contribution, ReceiptCounter  # noqa: F401
from .donors.models import Donor, DonorChange  # noqa: F401
from .exports.models import StreamedExportManifest  # noqa: F401
from .funds.models import Fund, Transfer, TransferLine  # noqa: F401
from .households.models import Household, HouseholdChange, HouseholdStatusEvent  # noqa: F401
from .idempotency.models import IdempotencyRecord  # noqa: F401
from .imports.models import BankLine, ImportBatch, ImportBatchVoid  # noqa: F401
from .jobs.models import Job  # noqa: F401
from .journal.models import Holding, JournalTransaction, LeafSalt, LedgerSequence, Material, Posting  # noqa: F401
from .pledges.models import Pledge, PledgeCancellation  # noqa: F401
from .public.models import RateLimitCounter  # noqa: F401
from .receipts.models import Receipt, ReceiptVoid  # noqa: F401
from .statement.models import StatementEntry  # noqa: F401
from .transparency.models import Checkpoint, LogNode, LogState, SigningKeyRecord  # noqa: F401
