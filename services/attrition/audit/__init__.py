"""Accounting for every raw message and every delta: the ledger (pure) and its collector."""
