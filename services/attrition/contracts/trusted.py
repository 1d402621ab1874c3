"""Events built from values the pure core has already checked, without validating them again.

pydantic's `model_construct` costs more than validation itself (it walks every field in
Python); these helpers set the four slots a validated model has, and nothing else. They are for
values the core computed itself (the parsers' figures, the ledger's deltas): tests prove every
event so built equals `Model.model_validate(event.model_dump())` and survives a JSON round trip.
"""

from __future__ import annotations

from typing import Final, TypeVar

from pydantic import BaseModel

from attrition.contracts.events import DeltaEvent, LossEvent, TextSpan

NEW: Final = object.__new__
# pydantic keeps these in slots; the slot descriptors' own setters skip the attribute lookup
# object.__setattr__ makes on every call. The report parser's line loop inlines them.
SET_DICT: Final = BaseModel.__dict__["__dict__"].__set__
SET_FIELDS_SET: Final = BaseModel.__dict__["__pydantic_fields_set__"].__set__
SET_EXTRA: Final = BaseModel.__dict__["__pydantic_extra__"].__set__
SET_PRIVATE: Final = BaseModel.__dict__["__pydantic_private__"].__set__

# One fields-set per model, shared by every instance built here (and by the report parser's
# inlined loop): every field is always set, and pydantic changes only a copy's set
# (`model_copy` copies it first; a frozen model is never assigned to). A set per instance
# cost a set's construction each.
EVENT_FIELDS_SET: Final = set(LossEvent.model_fields)
SPAN_FIELDS_SET: Final = set(TextSpan.model_fields)
DELTA_FIELDS_SET: Final = set(DeltaEvent.model_fields)
_FIELDS_SETS: Final[dict[type[BaseModel], set[str]]] = {
    LossEvent: EVENT_FIELDS_SET,
    TextSpan: SPAN_FIELDS_SET,
    DeltaEvent: DELTA_FIELDS_SET,
}

M = TypeVar("M", bound=BaseModel)


def built(model: type[M], values: dict[str, object]) -> M:
    """A `model` from every one of its fields, in declaration order, already valid."""
    made: M = NEW(model)
    SET_DICT(made, values)
    SET_FIELDS_SET(made, _FIELDS_SETS[model])
    SET_EXTRA(made, None)
    SET_PRIVATE(made, None)
    return made


def span(start: int, end: int, text: str) -> TextSpan:
    """A TextSpan; the caller guarantees 0 <= start <= end."""
    return built(TextSpan, {"start": start, "end": end, "text": text})


def event(values: dict[str, object]) -> LossEvent:
    """A LossEvent from the parsers' own values."""
    return built(LossEvent, values)


def delta(values: dict[str, object]) -> DeltaEvent:
    """A DeltaEvent from the ledger's own values."""
    return built(DeltaEvent, values)
