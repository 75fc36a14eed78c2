"""Reconciliation reports (issue 7): the committee's figures as JSON, XLSX, PDF and a staff page."""
