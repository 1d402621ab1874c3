"""LossEvents built from values the parsers have already checked, without validating them again.

pydantic's `model_construct` costs more than validation itself (it walks every field in
Python); these helpers set the four slots a validated model has, and nothing else. They are
for the parsers' own values only: tests prove every event so built equals
`LossEvent.model_validate(event.model_dump())` and survives a JSON round trip.
"""

from __future__ import annotations

from typing import Final

from pydantic import BaseModel

from attrition.contracts.events import LossEvent, TextSpan

NEW: Final = object.__new__
# pydantic keeps these in slots; the slot descriptors' own setters skip the attribute lookup
# object.__setattr__ makes on every call.
SET_DICT: Final = BaseModel.__dict__["__dict__"].__set__
SET_FIELDS_SET: Final = BaseModel.__dict__["__pydantic_fields_set__"].__set__
SET_EXTRA: Final = BaseModel.__dict__["__pydantic_extra__"].__set__
SET_PRIVATE: Final = BaseModel.__dict__["__pydantic_private__"].__set__

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
