"""How well the report parser reads the real corpus: exact values against the expected files,
agreement with the structured truth dataset, and throughput.

Expected files (`<stem>.expected.jsonl`, one line per report: `{"id", "as_of", "figures":
{category: {"total", "delta"}}}`) are looked up beside the corpus file first, then in
`expected_dir` (by default the ones shipped in `attrition/evaluation/expected/`, written by
hand-checking the text against the truth data). The truth dataset (petroivaniuk) names its
fields differently; `TRUTH_FIELDS` maps them onto categories. Where truth and text differ,
the text is the primary source: truth disagreements are listed, not counted as errors.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError

from attrition.contracts.events import RawDocument
from attrition.contracts.vocabulary import Category
from attrition.evaluation.throughput import Throughput, measure
from attrition.history.petroivaniuk import FIELD_CATEGORIES
from attrition.parse.report_parser import NotAReport, ReportParse, parse_report

DEFAULT_EXPECTED_DIR: Final = Path(__file__).parent / "expected"
TRUTH_SUBDIR: Final = Path("truth") / "petroivaniuk"

# petroivaniuk field name → category: one table, kept with the history loader.
TRUTH_FIELDS: Final[Mapping[str, Category]] = FIELD_CATEGORIES


@dataclass(frozen=True, slots=True)
class Disagreement:
    report_id: str
    as_of: str
    field: str  # a category, "<category>.delta", or "as_of"
    parsed: object
    reference: object


@dataclass(slots=True)
class FileEval:
    file: str
    reports: int = 0
    not_reports: list[str] = field(default_factory=list)
    expected_file: str | None = None
    values: int = 0
    exact: int = 0
    mismatches: list[Disagreement] = field(default_factory=list)
    truth_compared: int = 0
    truth_agree: int = 0
    truth_disagreements: list[Disagreement] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ReportEvalResult:
    files: tuple[FileEval, ...]
    reports_per_second: float  # the median pass's, per core (throughput.median)
    reports_timed: int
    repetitions: int
    throughput: Throughput


Figures = dict[str, dict[str, Any]]


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                rows.append(json.loads(line))
    return rows


def load_truth(corpus_dir: Path) -> dict[tuple[str, Category], int]:
    """(ISO date, category) → cumulative figure, from the petroivaniuk dataset if present."""
    truth: dict[tuple[str, Category], int] = {}
    folder = corpus_dir / TRUTH_SUBDIR
    for name in ("russia_losses_equipment.json", "russia_losses_personnel.json"):
        path = folder / name
        if not path.exists():
            continue
        for row in json.loads(path.read_text(encoding="utf-8")):
            for key, category in TRUTH_FIELDS.items():
                value = row.get(key)
                if isinstance(value, int):
                    truth[(str(row["date"]), category)] = value
    return truth


def figures_of(parsed: ReportParse) -> Figures:
    """A parse in the expected files' shape; a repeated category keeps its first figure."""
    figures: Figures = {}
    for event in parsed.events:
        figures.setdefault(event.category.value, {"total": event.total, "delta": event.delta})
    return figures


def _compare_expected(
    result: FileEval, report_id: str, parsed: ReportParse | None, expected: dict[str, Any]
) -> None:
    as_of = str(expected["as_of"])
    got_as_of = parsed.as_of.isoformat() if parsed is not None else None
    got: Figures = figures_of(parsed) if parsed is not None else {}
    want: Figures = expected["figures"]
    result.values += 1
    if got_as_of == as_of:
        result.exact += 1
    else:
        result.mismatches.append(Disagreement(report_id, as_of, "as_of", got_as_of, as_of))
    for category in list(want) + [c for c in got if c not in want]:
        for part in ("total", "delta"):
            result.values += 1
            reference = want.get(category, {}).get(part)
            value = got.get(category, {}).get(part)
            present = category in want and category in got
            if present and value == reference:
                result.exact += 1
                continue
            name = category if part == "total" else f"{category}.delta"
            shown_value = value if category in got else "missing"
            shown_reference = reference if category in want else "absent"
            result.mismatches.append(
                Disagreement(report_id, as_of, name, shown_value, shown_reference)
            )


def _compare_truth(
    result: FileEval, parsed: ReportParse, truth: dict[tuple[str, Category], int]
) -> None:
    day = parsed.as_of.isoformat()
    for event in parsed.events:
        if event.total is None:
            continue
        reference = truth.get((day, event.category))
        if reference is None:
            continue
        result.truth_compared += 1
        if reference == event.total:
            result.truth_agree += 1
        else:
            result.truth_disagreements.append(
                Disagreement(event.source_id, day, event.category.value, event.total, reference)
            )


def _expected_for(corpus_file: Path, expected_dir: Path) -> Path | None:
    name = corpus_file.name.removesuffix(".jsonl") + ".expected.jsonl"
    for folder in (corpus_file.parent, expected_dir):
        candidate = folder / name
        if candidate.exists():
            return candidate
    return None


def _documents(path: Path, result: FileEval) -> list[RawDocument]:
    documents: list[RawDocument] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                documents.append(RawDocument.model_validate_json(line))
            except ValidationError as error:
                result.not_reports.append(
                    f"line {number}: invalid document ({error.error_count()} errors)"
                )
    return documents


def evaluate_reports(
    corpus_dir: Path,
    expected_dir: Path | None = None,
    *,
    repetitions: int = 20,
    today: date | None = None,
) -> ReportEvalResult:
    """Parse every `corpus_dir/reports/*.jsonl` (not the `.expected`/`.provenance` files) and
    compare with the expected files and the truth dataset; then time `repetitions` passes
    over all the documents in this one process (reports per second on one core)."""
    expected_dir = expected_dir if expected_dir is not None else DEFAULT_EXPECTED_DIR
    truth = load_truth(corpus_dir)
    files: list[FileEval] = []
    every_document: list[RawDocument] = []
    corpus_files = sorted(
        path
        for path in (corpus_dir / "reports").glob("*.jsonl")
        if not path.name.endswith((".expected.jsonl", ".provenance.jsonl"))
    )
    for path in corpus_files:
        result = FileEval(file=path.name)
        documents = _documents(path, result)
        every_document.extend(documents)
        expected_path = _expected_for(path, expected_dir)
        expected: dict[str, dict[str, Any]] = {}
        if expected_path is not None:
            result.expected_file = str(expected_path)
            expected = {str(row["id"]): row for row in _read_jsonl(expected_path)}
        for document in documents:
            result.reports += 1
            parsed: ReportParse | None
            try:
                parsed = parse_report(document, today=today)
            except NotAReport as error:
                parsed = None
                result.not_reports.append(f"{document.id}: {error}")
            if document.id in expected:
                _compare_expected(result, document.id, parsed, expected[document.id])
            if parsed is not None:
                _compare_truth(result, parsed, truth)
        files.append(result)
    speed = report_throughput(every_document, repetitions=repetitions, today=today)
    return ReportEvalResult(
        tuple(files), speed.median, len(every_document), speed.repetitions, speed
    )


def report_throughput(
    documents: list[RawDocument], *, repetitions: int = 20, today: date | None = None
) -> Throughput:
    """Reports parsed per second by this process (one core): best and median of
    `repetitions` separately timed passes over all the documents, after a warm-up pass."""
    day = today if today is not None else date.today()

    def parse(document: RawDocument) -> None:
        # try/except, not contextlib.suppress: a context manager per report would be
        # timed along with the parser.
        try:
            parse_report(document, today=day)
        except NotAReport:
            return

    return measure(parse, documents, repetitions)


def measure_throughput(
    documents: list[RawDocument], *, repetitions: int = 20, today: date | None = None
) -> float:
    """The median pass's reports per second (see `report_throughput`)."""
    return report_throughput(documents, repetitions=repetitions, today=today).median


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:6.2f}%" if whole else "     –"


def format_report_eval(result: ReportEvalResult) -> str:
    """A table per corpus file, throughput, then every disagreement."""
    lines = [
        f"{'file':<32} {'reports':>7} {'values':>7} {'exact':>7} {'':>7}"
        f" {'truth':>6} {'agree':>6} {'':>7}"
    ]
    for item in result.files:
        values = f"{item.values:>7} {item.exact:>7} {_percent(item.exact, item.values):>7}"
        if item.expected_file is None:
            values = f"{'–':>7} {'–':>7} {'':>7}"
        lines.append(
            f"{item.file:<32} {item.reports:>7} {values}"
            f" {item.truth_compared:>6} {item.truth_agree:>6}"
            f" {_percent(item.truth_agree, item.truth_compared):>7}"
        )
    lines.append(f"throughput: {result.throughput.describe('reports')}")
    for item in result.files:
        if item.not_reports:
            lines.append(f"\n{item.file}: {len(item.not_reports)} not read as reports")
            lines.extend(f"  {reason}" for reason in item.not_reports)
        if item.mismatches:
            lines.append(f"\n{item.file}: {len(item.mismatches)} values differ from expected")
            lines.extend(
                f"  {d.report_id} {d.field}: parsed {d.parsed}, expected {d.reference}"
                for d in item.mismatches
            )
        if item.truth_disagreements:
            lines.append(
                f"\n{item.file}: {len(item.truth_disagreements)} totals differ from truth "
                "(the report text is the primary source)"
            )
            lines.extend(
                f"  {d.report_id} {d.as_of} {d.field}: parsed {d.parsed}, truth {d.reference}"
                for d in item.truth_disagreements
            )
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("../shared/corpus")
    print(format_report_eval(evaluate_reports(corpus)))
