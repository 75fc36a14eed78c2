"""A background job: what to run, who asked, how far it got and what it made.

The row is the queue: a worker claims the oldest queued job (row lock, SKIP LOCKED on
PostgreSQL; the write lock on SQLite), so it survives restarts and is never run by two
workers at once. `claimed_by` and `attempts` together name one run: a worker writes to
the job only while both still match (a run taken back as stale cannot finish it).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..types import Amount, Id, UTCDateTime, utcnow

STATUSES = ("queued", "running", "done", "failed")
FINISHED = ("done", "failed")


class Job(db.Model):
    __tablename__ = "jobs"
    # The claim reads "the oldest queued job": status first, then id order.
    __table_args__ = (Index("ix_jobs_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    progress_done: Mapped[int] = mapped_column(Amount, default=0)
    progress_total: Mapped[int | None] = mapped_column(Amount)  # None: not known yet
    # What the handler made, e.g. {"file": "donors.csv", "size": 1234, "sha256": "..."}.
    result: Mapped[dict | None] = mapped_column(JSON)
    # For a person: never a stack trace or personal data (those go to the server log only).
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # runs started
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    # When its files were deleted, LEDGER_JOB_KEEP_DAYS after it finished (the row stays:
    # who asked for what, when, and the hash of what it made).
    files_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED

    @property
    def percent(self) -> int | None:
        """How far it got, for a progress bar; None while its total is not known."""
        if self.status == "done":
            return 100
        if self.progress_total:
            return min(100, (self.progress_done or 0) * 100 // self.progress_total)
        return None

    @property
    def has_file(self) -> bool:
        """Done, it made a file, and the file is still kept (LEDGER_JOB_KEEP_DAYS)."""
        return self.status == "done" and bool((self.result or {}).get("file")) and self.files_deleted_at is None
