"""Background jobs: long exports and imports run by a worker, not inside a request."""
