"""Hostile raw messages: the decoder and both parsers never raise, finish in bounded time and
memory, and every refusal is a dead letter with a reason."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attrition.contracts.events import RawDocument
from attrition.contracts.vocabulary import DeadLetterReason
from attrition.parse.article_extractor import extract_claims
from attrition.parse.document_parser import process_raw
from attrition.parse.report_parser import NotAReport, parse_report

# Bounded per example: a decoder that goes quadratic fails the deadline, not a timing assert.
BOUNDED = settings(
    max_examples=150, deadline=timedelta(seconds=2), suppress_health_check=[HealthCheck.too_slow]
)
TODAY = date(2030, 1, 1)
MB = 1 << 20


def outcome_of(payload: bytes, **limits: int) -> None:
    outcome = process_raw(payload, topic="raw.reports", key=b"k", today=TODAY, **limits)
    assert (outcome.dead_letter is None) == bool(outcome.events)
    if outcome.dead_letter is not None:
        assert outcome.dead_letter.detail
        assert outcome.dead_letter.payload_size == len(payload)
        assert len(outcome.dead_letter.payload_excerpt) <= 2000


def envelope(text: str, **extra: object) -> bytes:
    return orjson.dumps(
        {"id": "h1", "kind": "report", "published": "2023-01-10", "text": text, **extra}
    )


@BOUNDED
@given(st.binary(max_size=4096))
def test_arbitrary_bytes_never_raise(payload: bytes) -> None:
    outcome_of(payload)


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@BOUNDED
@given(
    st.dictionaries(
        st.sampled_from(["id", "kind", "published", "text", "lang", "url", "title", "x"]),
        JSON_VALUES,
    )
)
def test_arbitrary_json_objects_never_raise(document: dict[str, object]) -> None:
    outcome_of(orjson.dumps(document))


HOSTILE_TEXT = st.lists(
    st.sampled_from(
        [
            *"0123456789 ‒-–—(+)\n.,:",
            "tanks",
            "APV",
            "personnel",
            "about",
            "танки",
            "особового складу",
            "близько",
            "\u202e",
            "\u202d",
            "\u200f",
            "\u2066",
            "\x00",
            "\x1b[31m",
            "\r",
            "\u2028",
            "\ufeff",
            "9" * 1000,
            "Anti-aircraft warfare systems",
            "24.02.22",
            "12.04.2023",
            "\u00a0",
        ]
    ),
    max_size=60,
).map("".join)


@BOUNDED
@given(HOSTILE_TEXT, st.sampled_from(["report", "article"]))
def test_hostile_text_in_a_valid_envelope_never_raises(text: str, kind: str) -> None:
    outcome_of(envelope(text, kind=kind))


@BOUNDED
@given(HOSTILE_TEXT)
def test_both_parsers_read_or_refuse_hostile_text(text: str) -> None:
    doc = RawDocument(id="h", kind="report", published=date(2023, 1, 10), text=text)
    with contextlib.suppress(NotAReport):
        parse_report(doc, today=TODAY)
    article = doc.model_copy(update={"kind": "article"})
    extract_claims(article)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"[" * 100_000 + b"]" * 100_000, DeadLetterReason.not_json),
        (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, DeadLetterReason.not_json),
        (b"\xc3\x28\xa0\xa1\xe2\x28\xa1", DeadLetterReason.not_utf8),
        (b"\xed\xa0\x80", DeadLetterReason.not_utf8),  # an encoded lone surrogate
        (b"1" * 5000, DeadLetterReason.not_json),  # a number far past any float
        (envelope("x", published="9" * 1000), DeadLetterReason.invalid_document),
        (envelope("x", id="\u202e" * 500), DeadLetterReason.invalid_document),
        (b'{"id": 1' + b"0" * 30 + b'}', DeadLetterReason.invalid_document),
        (b"\x00" * 1000, DeadLetterReason.not_json),
        (b'"just a string"', DeadLetterReason.invalid_document),
    ],
    ids=[
        "deep-array", "deep-object", "bad-utf8", "surrogate", "huge-number", "huge-date",
        "rtl-id", "int-id", "nul-bytes", "bare-string",
    ],
)  # fmt: skip
def test_bombs_become_dead_letters_with_a_reason(payload: bytes, reason: DeadLetterReason) -> None:
    outcome = process_raw(payload, topic="raw.reports", key=b"k", today=TODAY)
    assert outcome.dead_letter is not None
    assert outcome.dead_letter.reason is reason


def test_a_thousand_digit_figure_is_no_figure() -> None:
    line = "tanks ‒ " + "7" * 1000 + " (+5)"
    text = f"The total combat losses of the enemy from 24.02.22 to 10.01.23 were:\n{line}"
    outcome = process_raw(envelope(text), topic="raw.reports", key=b"k", today=TODAY)
    assert all(e.total is None or e.total <= 10**12 for e in outcome.events)
    if not outcome.events:
        assert outcome.dead_letter is not None


def test_labels_in_the_wrong_language_are_refused_not_guessed() -> None:
    text = (
        "Les pertes totales de l'ennemi du 24.02.22 au 10.01.23:\n"
        "chars ‒ 3000 (+7),\nhélicoptères ‒ 280 (+1)."
    )
    outcome = process_raw(envelope(text), topic="raw.reports", key=b"k", today=TODAY)
    assert all(e.category.value in ("other", "tanks", "helicopters") for e in outcome.events)
    assert outcome.events or outcome.dead_letter is not None


def test_a_50_mb_string_is_refused_as_too_large_without_decoding_it() -> None:
    payload = envelope("A" * (50 * MB))
    tracemalloc.start()
    try:
        outcome = process_raw(payload, topic="raw.reports", key=b"k", today=TODAY)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert outcome.dead_letter is not None
    assert outcome.dead_letter.reason is DeadLetterReason.too_large
    assert peak < 1 * MB  # no copy, no decode of the 50 MB: the size check comes first


def test_a_string_under_the_limit_is_read_in_memory_proportional_to_it() -> None:
    text = "tanks ‒ 3000 (+7)\n" + "filler line of prose.\n" * 40_000  # about 0.9 MB
    payload = envelope(text)
    tracemalloc.start()
    try:
        outcome_of(payload)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 40 * len(payload)


def test_a_bounded_atheris_run_finds_no_crash(tmp_path: Path) -> None:
    pytest.importorskip("atheris")
    script = Path(__file__).parents[2] / "fuzz" / "fuzz_decoder.py"
    result = subprocess.run(
        [sys.executable, str(script), "-runs=3000", "-max_len=2048", "-seed=1"],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,  # crash files, if any, land here
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Done 3000 runs" in result.stderr
