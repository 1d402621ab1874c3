"""Structured histories of the claimants' figures, loaded from public datasets (for backfill and
for backtesting the alerts)."""

from attrition.history.petroivaniuk import (
    History,
    day_record_text,
    history_loss_events,
    load_history,
)

__all__ = ["History", "day_record_text", "history_loss_events", "load_history"]
