"""Events built from values the pure core has already checked, without validating them again.

pydantic's `model_construct` costs more than validation itself (it walks every field in
Python); these helpers set the four slots a validated model has, and nothing else. They are for
values the core computed itself (the parsers' figures, the ledger's deltas): tests prove every
event so built equals `Model.model_validate(event.model_dump())` and survives a JSON round trip.
"""

from __future__ import annotations

from typing import Final

from pydantic import BaseModel

from attrition.contracts.events import DeltaEvent

NEW: Final = object.__new__
# pydantic keeps these in slots; the slot descriptors' own setters skip the attribute lookup
# object.__setattr__ makes on every call.
SET_DICT: Final = BaseModel.__dict__["__dict__"].__set__
SET_FIELDS_SET: Final = BaseModel.__dict__["__pydantic_fields_set__"].__set__
SET_EXTRA: Final = BaseModel.__dict__["__pydantic_extra__"].__set__
SET_PRIVATE: Final = BaseModel.__dict__["__pydantic_private__"].__set__

DELTA_FIELDS: Final = frozenset(DeltaEvent.model_fields)


def delta(values: dict[str, object]) -> DeltaEvent:
    """A DeltaEvent from every one of its fields, in declaration order, already valid."""
    made = NEW(DeltaEvent)
    SET_DICT(made, values)
    SET_FIELDS_SET(made, set(DELTA_FIELDS))
    SET_EXTRA(made, None)
    SET_PRIVATE(made, None)
    return made
