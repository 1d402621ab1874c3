"""DuckDB's rows read from the loss events' and deltas' messages (sinks/frame_rows.py) are the
rows read from the event objects, value for value, and that path is taken only where it may
be: every id once, every event with its message."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from attrition.contracts.batches import chunks, encode_delta_batch, encode_loss_batch
from attrition.contracts.events import DeltaEvent, LossEvent, TextSpan
from attrition.contracts.vocabulary import (
    Category,
    Claimant,
    DeltaFlag,
    DocumentKind,
    Measure,
    Qualifier,
    QualityFlag,
    Subject,
)
from attrition.sinks import duckdb_sink, frame_rows, statements
from attrition.sinks.rows import unique_deltas
from attrition.sinks.statements import FramedUpsert, Upsert
from attrition.sinks.warehouse import TABLES, WriteBatch
from attrition.sinks.warehouse_writer import _merged
from attrition.totals.totals_ledger import TotalsLedger

TEXTS = ["танки ‒ 3150 (+8)", 'a "quoted" \\ line\twith a tab', "emoji 🚀 and \u2028 separator", ""]


def _losses() -> list[LossEvent]:
    """Every kind of value a loss event holds: each enum member, None and set optionals,
    negative deltas, ranges, fractions, flags, and text that JSON escapes."""
    events = []
    categories = list(Category)
    for i in range(60):
        text = TEXTS[i % len(TEXTS)]
        start = 7 * i
        events.append(
            LossEvent(
                event_id=f"e{i:03}",
                source_id=f"doc-{i % 7}",
                source_kind=list(DocumentKind)[i % len(DocumentKind)],
                claimant=list(Claimant)[i % len(Claimant)],
                subject=list(Subject)[i % len(Subject)],
                category=categories[i % len(categories)],
                label=None if i % 5 == 0 else f"label {text}",
                as_of=date(2022, 2, 24) + timedelta(days=13 * i),
                total=None if i % 9 == 4 else 1000 + 37 * i,
                delta=None if i % 4 == 1 else (-3 if i % 6 == 0 else i),
                period_days=None if i % 3 else 1 + i % 4,
                qualifier=list(Qualifier)[i % len(Qualifier)],
                low=900 + i if i % 8 == 2 else None,
                high=1100 + i if i % 8 == 2 else None,
                measure=None if i % 2 else list(Measure)[i % len(Measure)],
                span=TextSpan(start=start, end=start + len(text), text=text),
                official=i % 3 != 2,
                confidence=[1.0, 0.5, 0.875, 0.1][i % 4],
                quality=list(QualityFlag)[: i % 4] if i % 5 else [QualityFlag.unknown_label],
            )
        )
    return events


def _deltas() -> list[DeltaEvent]:
    """Deltas as a ledger emits them (the last of each id: the ledger re-sends an id whose
    flags moved), and hand-made ones with every flag and a `replaces`."""
    out: list[DeltaEvent] = []
    for category in (Category.personnel, Category.tanks):
        ledger = TotalsLedger(Claimant.ua_general_staff, Subject.russia, category)
        for day, total in enumerate([100, 120, 115, 140, 140]):
            event = LossEvent(
                event_id=f"{category.value}-{day}",
                source_id=f"r{day}",
                source_kind=DocumentKind.report,
                claimant=Claimant.ua_general_staff,
                subject=Subject.russia,
                category=category,
                as_of=date(2024, 1, 1) + timedelta(days=day * (1 + day % 2)),
                total=total,
                delta=7,
                span=TextSpan(start=0, end=1, text="x"),
            )
            out.extend(ledger.apply(event))
    out = unique_deltas(out)
    for i, flag in enumerate(DeltaFlag):
        out.append(
            out[i].model_copy(
                update={"delta_id": f"hand-{i}", "flags": [flag, DeltaFlag.gap], "replaces": "r"}
            )
        )
    return out


def _frames(events: Sequence[Any], encode: Any) -> list[bytes]:
    # Several messages, as the sinks receive them.
    return [encode(part) for part in chunks(list(events), 7)]


def _dump(batch: WriteBatch, framed: bool) -> dict[str, list[tuple[Any, ...]]]:
    con = duckdb.connect()
    duckdb_sink.migrate(con)
    steps = statements.write_steps(batch, framed=framed)
    assert any(isinstance(s, FramedUpsert) for s in steps) is framed
    duckdb_sink.run_steps(con, steps)
    return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in TABLES}


def test_rows_from_frames_are_the_rows_from_the_events() -> None:
    losses, deltas = _losses(), _deltas()
    batch = WriteBatch(
        loss_events=losses,
        deltas=deltas,
        loss_event_frames=_frames(losses, encode_loss_batch),
        delta_frames=_frames(deltas, encode_delta_batch),
    )
    from_objects = _dump(batch, framed=False)
    from_frames = _dump(batch, framed=True)
    assert len(from_objects["loss_events"]) == len(losses)
    assert len(from_objects["deltas"]) == len(deltas)
    assert from_objects["current_totals"]
    assert from_frames == from_objects


def test_a_repeated_id_or_an_event_without_its_message_takes_the_objects_path() -> None:
    losses, deltas = _losses(), _deltas()
    twice = WriteBatch(
        loss_events=[*losses, losses[0]],
        deltas=[*deltas, deltas[0]],
        loss_event_frames=_frames([*losses, losses[0]], encode_loss_batch),
        delta_frames=_frames([*deltas, deltas[0]], encode_delta_batch),
    )
    assert not any(isinstance(s, FramedUpsert) for s in statements.write_steps(twice, framed=True))
    assert _dump(twice, framed=False) == _dump(WriteBatch(losses, deltas), framed=False)

    framed = WriteBatch(loss_events=losses, loss_event_frames=_frames(losses, encode_loss_batch))
    merged = _merged(
        [framed, WriteBatch(loss_events=[losses[0].model_copy(update={"event_id": "x"})])]
    )
    assert merged.loss_event_frames == []  # one part came without its messages
    steps = statements.write_steps(merged, framed=True)
    assert [type(s) for s in steps] == [Upsert]
    both = _merged([framed, framed])
    assert list(both.loss_event_frames) == [*framed.loss_event_frames, *framed.loss_event_frames]


@pytest.mark.parametrize(("table", "model"), [("loss_events", LossEvent), ("deltas", DeltaEvent)])
def test_the_frame_schemas_hold_every_field_of_their_models(table: str, model: Any) -> None:
    events = frame_rows.FRAME_SCHEMAS[table].field("events").type.value_type
    assert [events.field(i).name for i in range(events.num_fields)] == list(model.model_fields)
    if model is LossEvent:
        span = events.field("span").type
        assert [span.field(i).name for i in range(span.num_fields)] == list(TextSpan.model_fields)


def test_a_field_the_schema_does_not_know_fails_the_read() -> None:
    frame = encode_loss_batch(_losses()[:1]).replace(b'"event_id"', b'"novel":1,"event_id"', 1)
    with pytest.raises(pa.ArrowInvalid):
        frame_rows.frames_table("loss_events", [frame])
