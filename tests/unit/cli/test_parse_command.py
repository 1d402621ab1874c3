"""`attrition parse` end to end on documents of our own: reports, an article checked against
them, and input that is not a document."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import orjson
from typer.testing import CliRunner

from attrition.cli.main import app
from attrition.contracts.events import RawDocument
from attrition.contracts.vocabulary import Category, QualityFlag
from attrition.contracts.wire import encode
from report_fixtures import figures_for, render_report


def _article(text: str) -> RawDocument:
    return RawDocument(id="art-1", kind="article", published=date(2023, 1, 4), lang="en", text=text)


def test_parse_prints_events_and_checks_articles_against_reports(tmp_path: Path) -> None:
    report = RawDocument(
        id="gs-1",
        kind="report",
        published=date(2023, 1, 3),
        lang="en",
        text=render_report(date(2023, 1, 3), figures_for(2), figures_for(1)),
    )
    tanks = figures_for(2)[Category.tanks]
    article = _article(
        "Russia has lost a total of "
        f"{tanks:,} tanks since the start of the invasion, the General Staff of the Armed "
        "Forces of Ukraine said in its report on Tuesday. It also reported "
        f"{tanks + 40:,} armored fighting vehicles destroyed in total."
    )
    source = tmp_path / "in.jsonl"
    source.write_bytes(encode(report) + b"\n" + encode(article) + b"\nnot json\n")
    result = CliRunner().invoke(app, ["parse", "--input", str(source)])
    assert result.exit_code == 0, result.output
    events = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert sum(e["source_id"] == "gs-1" for e in events) == 13
    claims = {e["category"]: e for e in events if e["source_id"] == "art-1"}
    assert claims["tanks"]["total"] == tanks
    assert claims["tanks"]["as_of"] == "2023-01-03"
    assert QualityFlag.matches_report.value in claims["tanks"]["quality"]
    assert QualityFlag.contradicts_report.value in claims["armoured_combat_vehicles"]["quality"]
    assert "not_json" in result.stderr
