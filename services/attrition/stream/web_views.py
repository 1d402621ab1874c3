"""The worker's HTTP views of its own state: current totals straight from the ledger table.

`GET /totals` and `GET /totals/{claimant}/{subject}` answer from the partitions this worker
owns; with several workers, ask each (or read the compacted current-totals topic)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from attrition.contracts.vocabulary import DocumentKind
from attrition.totals.totals_ledger import TotalsLedger

if TYPE_CHECKING:
    from attrition.stream.app import AttritionApp


def current_rows(
    table: Any, claimant: str | None = None, subject: str | None = None
) -> list[dict[str, Any]]:
    rows = []
    for key, state in list(table.items()):
        if not state:
            continue
        ledger = TotalsLedger.from_bytes(state)
        key_claimant, key_subject, category = key.decode().split("/")
        if (claimant and key_claimant != claimant) or (subject and key_subject != subject):
            continue
        for kind in DocumentKind:
            current = ledger.current_total(kind)
            if current is not None:
                rows.append(
                    {
                        "claimant": key_claimant,
                        "subject": key_subject,
                        "category": category,
                        "source_kind": kind.value,
                        "total": current.total,
                        "as_of": current.as_of.isoformat(),
                        "delta_id": current.delta_id,
                    }
                )
    rows.sort(key=lambda r: (r["claimant"], r["subject"], r["category"], r["source_kind"]))
    return rows


def register(app: AttritionApp) -> None:
    table = getattr(app, "totals_table", None)
    if table is None:
        return  # this worker does not run the totals stage: it holds no totals to show

    @app.page("/totals/")
    async def all_totals(web: Any, request: Any) -> Any:
        return web.json({"totals": current_rows(table)})

    @app.page("/totals/{claimant}/{subject}/")
    async def totals_of(web: Any, request: Any, claimant: str, subject: str) -> Any:
        return web.json({"totals": current_rows(table, claimant, subject)})
