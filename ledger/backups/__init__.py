"""Backups of the whole database, taken while the service runs, and their restore."""
