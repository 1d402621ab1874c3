"""The pure core must import without Kafka or Faust: it is reused by batch backfills."""

from __future__ import annotations

import subprocess
import sys

PURE_MODULES = [
    "attrition.contracts.events",
    "attrition.contracts.wire",
    "attrition.contracts.schema_files",
    "attrition.parse.document_parser",
    "attrition.parse.report_parser",
    "attrition.parse.article_extractor",
    "attrition.totals.totals_ledger",
    "attrition.alerts.spike_detector",
    "attrition.audit.ledger",
    "attrition.settings",
]


def test_pure_core_imports_no_kafka_or_faust() -> None:
    probe = (
        "import sys\n"
        f"for name in {PURE_MODULES!r}:\n"
        "    __import__(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('faust', 'aiokafka', 'mode', 'kafka', 'duckdb', 'psycopg'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "", f"pure core pulled in: {result.stdout.strip()}"
