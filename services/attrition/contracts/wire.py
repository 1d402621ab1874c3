"""How events travel: orjson bytes of the model's JSON form, with schema headers.

Every message carries `attrition-schema` (the schema id, e.g. `loss-event`) and
`attrition-schema-version` headers so a consumer can route and check it without parsing."""

from __future__ import annotations

from typing import TypeVar

import orjson
from pydantic import BaseModel

from attrition.contracts.batches import DeltaBatch, LossEventBatch
from attrition.contracts.events import (
    AlertEvent,
    CurrentTotal,
    DeadLetter,
    DeltaEvent,
    LossEvent,
    RawDocument,
)

SCHEMA_HEADER = "attrition-schema"
VERSION_HEADER = "attrition-schema-version"

#: schema id and major version per model: the file in schemas/ is `{id}.v{version}.json`.
SCHEMA_IDS: dict[type[BaseModel], tuple[str, int]] = {
    RawDocument: ("raw-document", 1),
    LossEvent: ("loss-event", 1),
    DeltaEvent: ("delta-event", 1),
    CurrentTotal: ("current-total", 1),
    AlertEvent: ("alert-event", 1),
    DeadLetter: ("dead-letter", 1),
    # What the loss-events and deltas topics carry: one partition's events per message.
    LossEventBatch: ("loss-event-batch", 1),
    DeltaBatch: ("delta-batch", 1),
}

M = TypeVar("M", bound=BaseModel)


def encode(event: BaseModel) -> bytes:
    return orjson.dumps(event.model_dump(mode="json", exclude_none=False))


def decode(model: type[M], payload: bytes | str) -> M:
    return model.model_validate_json(payload)


def headers_for(model: type[BaseModel]) -> list[tuple[str, bytes]]:
    schema_id, version = SCHEMA_IDS[model]
    return [(SCHEMA_HEADER, schema_id.encode()), (VERSION_HEADER, str(version).encode())]
