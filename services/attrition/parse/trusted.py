"""LossEvents built from values the parsers have already checked, without validating them again.

The slot setters are in `contracts/trusted.py` (the ledger builds its deltas the same way);
these are for the parsers' own values only: tests prove every event so built equals
`LossEvent.model_validate(event.model_dump())` and survives a JSON round trip.
"""

from __future__ import annotations

from typing import Final

from attrition.contracts.events import LossEvent, TextSpan
from attrition.contracts.trusted import NEW, SET_DICT, SET_EXTRA, SET_FIELDS_SET, SET_PRIVATE

__all__ = ["NEW", "SET_DICT", "SET_EXTRA", "SET_FIELDS_SET", "SET_PRIVATE", "event", "span"]

EVENT_FIELDS: Final = frozenset(LossEvent.model_fields)
SPAN_FIELDS: Final = frozenset(TextSpan.model_fields)


def span(start: int, end: int, text: str) -> TextSpan:
    """A TextSpan; the caller guarantees 0 <= start <= end."""
    made = NEW(TextSpan)
    SET_DICT(made, {"start": start, "end": end, "text": text})
    SET_FIELDS_SET(made, set(SPAN_FIELDS))
    SET_EXTRA(made, None)
    SET_PRIVATE(made, None)
    return made


def event(values: dict[str, object]) -> LossEvent:
    """A LossEvent from every one of its fields, in declaration order, already valid."""
    made = NEW(LossEvent)
    SET_DICT(made, values)
    SET_FIELDS_SET(made, set(EVENT_FIELDS))
    SET_EXTRA(made, None)
    SET_PRIVATE(made, None)
    return made
