"""Regenerate reports.jsonl: four weeks of General Staff reports (January 2023) rendered in
the official English wording from the real daily figures (PetroIvaniuk's dataset, MIT).

    python services/attrition/samples/make_sample.py ../shared/corpus/truth/petroivaniuk

The output is committed, so users need neither this script nor the dataset."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

LINES = [  # (label as the General Staff writes it, dataset field, unit)
    ("personnel ‒ about", "personnel", " persons"),
    ("tanks ‒", "tank", ""),
    ("APV ‒", "APC", ""),
    ("artillery systems ‒", "field artillery", ""),
    ("MLRS ‒", "MRL", ""),
    ("Anti-aircraft warfare systems ‒", "anti-aircraft warfare", ""),
    ("aircraft ‒", "aircraft", ""),
    ("helicopters ‒", "helicopter", ""),
    ("UAV operational-tactical level ‒", "drone", ""),
    ("cruise missiles ‒", "cruise missiles", ""),
    ("warships / boats ‒", "naval ship", ""),
    ("vehicles and fuel tanks ‒", "vehicles and fuel tanks", ""),
    ("special equipment ‒", "special equipment", ""),
]
FIRST, LAST = date(2023, 1, 1), date(2023, 1, 28)


def main(truth_dir: Path, out: Path) -> None:
    equipment = {
        r["date"]: r for r in json.loads((truth_dir / "russia_losses_equipment.json").read_text())
    }
    personnel = {
        r["date"]: r for r in json.loads((truth_dir / "russia_losses_personnel.json").read_text())
    }
    days = sorted(d for d in equipment if FIRST.isoformat() <= d <= LAST.isoformat())
    with out.open("w", encoding="utf-8") as fh:
        for prev_day, day in zip([None, *days], days, strict=False):
            record = {**equipment[day], **personnel[day]}
            before = {**equipment[prev_day], **personnel[prev_day]} if prev_day else {}
            d = date.fromisoformat(day)
            body = []
            for label, field, unit in LINES:
                total = int(record[field])
                change = f" (+{total - int(before[field])})" if field in before else ""
                body.append(f"{label} {total}{change}{unit}")
            text = (
                f"The total combat losses of the enemy from 24.02.22 to {d:%d.%m.%y} were "
                "approximately:\n\n" + ",\n".join(body) + ".\n\nThe data are being updated."
            )
            doc = {
                "id": f"sample-gs-en-{day}",
                "kind": "report",
                "published": day,
                "lang": "en",
                "title": f"General Staff report {day}",
                "text": text,
            }
            fh.write(json.dumps(doc, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(__file__).with_name("reports.jsonl"))
