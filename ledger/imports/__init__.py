"""Imports from outside the ledger: banks' statements read into plain data."""
