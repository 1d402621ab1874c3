"""`attrition audit`: account for every raw message and every delta; non-zero on any gap."""

from __future__ import annotations

import asyncio

import orjson
import typer

from attrition.audit.collect import collect
from attrition.cli.options import settings_with, warehouse_url


def audit(
    warehouse: str | None = typer.Option(None, help="DuckDB file path or warehouse URL."),
    as_json: bool = typer.Option(False, "--json", help="The ledger as one JSON object."),
    max_gaps: int = typer.Option(20, help="Gaps listed one by one (all are counted)."),
) -> None:
    """Read the topics (beginning to true end) and the warehouse; print the ledger.

    Exits 1 when anything is unexplained: a raw message with neither loss events nor a dead
    letter, a delta on the topic missing from the warehouse, one delta id with two contents,
    or a warehouse's current deltas that differ from the topic's."""
    from attrition.audit.ledger import audit as run_audit

    settings = settings_with(warehouse=warehouse_url(warehouse))
    collected = asyncio.run(collect(settings))
    report = run_audit(collected.data)
    if as_json:
        body = {
            "ok": report.ok,
            "raw_messages": report.raw_messages,
            "raw_distinct_ids": report.raw_distinct_ids,
            "raw_duplicates": report.raw_duplicates,
            "raw_revisions": report.raw_revisions,
            "loss_event_ids": report.loss_event_ids,
            "loss_events_by_kind": report.loss_events_by_kind,
            "dead_letters_by_reason": report.dead_letters_by_reason,
            "delta_ids": report.delta_ids,
            "current_deltas_on_topic": report.current_deltas_on_topic,
            "warehouse_current_deltas": report.warehouse_current_deltas,
            "undecodable": collected.undecodable,
            "gaps": [
                {"kind": g.kind.value, "id": g.ident, "detail": g.detail}
                for g in report.gaps[:max_gaps]
            ],
            "gap_counts": report.gap_counts(),
        }
        typer.echo(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode())
    else:
        for line in report.lines(max_gaps=max_gaps):
            typer.echo(line)
        for topic, count in sorted(collected.undecodable.items()):
            typer.echo(f"skipped {count} undecodable messages on {topic}")
    if not report.ok:
        raise typer.Exit(1)
