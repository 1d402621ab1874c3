"""DuckDB only: loss events and deltas written from the messages they came in, read by Arrow and
DuckDB instead of the interpreter.

The sinks receive loss events and deltas as framed messages (contracts/batches.py): JSON of
`{"events": [...]}`, the events' own fields. Reading a table's columns from the event objects
(sinks/rows.py) takes the worker's interpreter about 3 µs a loss event and 2 µs a delta, and
Arrow tables built from those columns more; in the worker that is time the parse, totals and
alert stages wait for (one interpreter runs them all, and the sinks' writes too). Arrow's JSON
reader parses the messages' bytes into typed columns, and DuckDB unnests and converts them,
both without holding the interpreter.

The rows are the same as from the objects (tests/sinks/test_frame_rows.py compares them for
every kind of value): `as_of` and the other dates come as ISO text and are cast to DATE, lists
are stored as the JSON text `orjson` gives them (`to_json`), the span's fields become
`span_start`, `span_end` and `span_text`. A field the schema below does not know fails the
read (`unexpected_field_behavior="error"`): the test holds the schemas to the models.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import pyarrow as pa
import pyarrow.json as pa_json

from attrition.sinks.rows import DELTA_COLUMNS, LOSS_EVENT_COLUMNS

_TEXT, _INT = pa.string(), pa.int64()


def _frames_of(events: pa.StructType) -> pa.Schema:
    return pa.schema([("events", pa.list_(events))])


#: The JSON of a LossEventBatch, as Arrow reads it: every field of LossEvent (and TextSpan).
LOSS_EVENT_FRAMES: Final = _frames_of(
    pa.struct(
        [
            ("event_id", _TEXT),
            ("source_id", _TEXT),
            ("source_kind", _TEXT),
            ("claimant", _TEXT),
            ("subject", _TEXT),
            ("category", _TEXT),
            ("label", _TEXT),
            ("as_of", _TEXT),
            ("total", _INT),
            ("delta", _INT),
            ("period_days", _INT),
            ("qualifier", _TEXT),
            ("low", _INT),
            ("high", _INT),
            ("measure", _TEXT),
            ("span", pa.struct([("start", _INT), ("end", _INT), ("text", _TEXT)])),
            ("official", pa.bool_()),
            ("confidence", pa.float64()),
            ("quality", pa.list_(_TEXT)),
        ]
    )
)

#: The JSON of a DeltaBatch, as Arrow reads it: every field of DeltaEvent.
DELTA_FRAMES: Final = _frames_of(
    pa.struct(
        [
            ("delta_id", _TEXT),
            ("claimant", _TEXT),
            ("subject", _TEXT),
            ("category", _TEXT),
            ("source_kind", _TEXT),
            ("as_of", _TEXT),
            ("total", _INT),
            ("previous_as_of", _TEXT),
            ("previous_total", _INT),
            ("change", _INT),
            ("reported_delta", _INT),
            ("days", _INT),
            ("flags", pa.list_(_TEXT)),
            ("replaces", _TEXT),
            ("source_id", _TEXT),
            ("event_id", _TEXT),
        ]
    )
)

FRAME_SCHEMAS: Final = {"loss_events": LOSS_EVENT_FRAMES, "deltas": DELTA_FRAMES}

# How each column of a table is read from an unnested event `e`; the rest are `e.<column>`.
_EXPRESSIONS: Final = {
    "as_of": "CAST(e.as_of AS DATE)",
    "previous_as_of": "CAST(e.previous_as_of AS DATE)",
    "span_start": "e.span.start",
    "span_end": 'e.span."end"',
    "span_text": "e.span.text",
    "quality": "CAST(to_json(e.quality) AS VARCHAR)",
    "flags": "CAST(to_json(e.flags) AS VARCHAR)",
}
_COLUMNS: Final = {"loss_events": LOSS_EVENT_COLUMNS, "deltas": DELTA_COLUMNS}


#: One thread: the write's own, which runs beside the worker's busy interpreter on a machine
#: of two cores. Arrow's pool of threads parsed 15,000 loss events in about half the time and
#: grew the process's peak memory by 60-75 MB against 35 (in a loop of five).
_READ: Final = pa_json.ReadOptions(use_threads=False)


def frames_table(table: str, frames: Sequence[bytes]) -> pa.Table:
    """The messages of `table`'s topic as one Arrow table: a row per message, its events in a
    list column. Parsed without the interpreter."""
    options = pa_json.ParseOptions(
        explicit_schema=FRAME_SCHEMAS[table], unexpected_field_behavior="error"
    )
    # A message is one line: JSON text holds no raw newline.
    text = pa.py_buffer(b"\n".join(frames))
    return pa_json.read_json(pa.BufferReader(text), read_options=_READ, parse_options=options)


def select_rows(table: str, relation: str) -> str:
    """A SELECT of `table`'s columns, in order, from the events of the registered `relation`
    (a `frames_table`)."""
    columns = ", ".join(_EXPRESSIONS.get(c, f"e.{c}") for c in _COLUMNS[table])
    return f"SELECT {columns} FROM (SELECT unnest(events) AS e FROM {relation})"
