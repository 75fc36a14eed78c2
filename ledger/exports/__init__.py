"""Exports of the ledger: postings, contributions and allocations as CSV, JSONL or XLSX."""
