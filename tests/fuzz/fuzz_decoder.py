"""Coverage-guided fuzzing of the raw-message decoder with atheris.

    .venv/bin/python tests/fuzz/fuzz_decoder.py -runs=20000 -max_len=4096

Any exception out of process_raw is a crash; atheris prints the input that caused it."""

from __future__ import annotations

import sys
from datetime import date

import atheris

with atheris.instrument_imports():
    from attrition.parse.document_parser import process_raw

TODAY = date(2030, 1, 1)


def one_input(data: bytes) -> None:
    outcome = process_raw(data, topic="raw.reports", key=b"fuzz", today=TODAY, max_bytes=65_536)
    if (outcome.dead_letter is None) != bool(outcome.events):
        raise AssertionError("an outcome must be events or a dead letter, never both or neither")


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
