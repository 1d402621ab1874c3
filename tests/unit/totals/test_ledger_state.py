"""The ledger state's encoding: cached per day, always equal to encoding everything afresh."""

from __future__ import annotations

import random
import zlib

import orjson
import pytest

from attrition.contracts.vocabulary import Category, Claimant, DocumentKind, Subject
from attrition.totals.ledger_state import (
    BLOCK_DAYS,
    FORMAT_VERSION,
    Figure,
    LedgerState,
    decode_state,
    encode_state,
    state_from_record,
    state_record,
)
from attrition.totals.ledger_state import _unframe as unframe


def _fresh(state: LedgerState) -> bytes:
    """The encoding of a state that has never been encoded: no day cached."""
    return encode_state(decode_state(encode_state(state)))


def test_encoding_after_changes_equals_encoding_from_scratch() -> None:
    rng = random.Random(7)
    state = LedgerState(Claimant.ua_general_staff, Subject.russia, Category.tanks)
    for step in range(400):
        kind = rng.choice(list(DocumentKind))
        ordinal = 738_000 + rng.randrange(60)
        figure = Figure(
            rng.choice([None, rng.randrange(10**6)]),
            rng.choice([None, rng.randrange(-5, 50)]),
            rng.random() < 0.5,
            f"e{step}",
        )
        state.book(kind).record(ordinal, rng.choice(["a", "b", 'c "quoted" ü']), figure)
        if rng.random() < 0.3:  # encode now and then: later changes must invalidate the cache
            assert encode_state(state) == _fresh(state)
    assert encode_state(state) == _fresh(state)


def test_a_record_after_changes_holds_the_encoding_from_scratch() -> None:
    """Its blocks are compressed once and kept: a change to any day of a block, late days
    before the first block and after the last included, must compress that block again."""
    rng = random.Random(5)
    state = LedgerState(Claimant.ua_general_staff, Subject.russia, Category.tanks)
    span = 7 * BLOCK_DAYS
    for step in range(600):
        kind = rng.choice(list(DocumentKind))
        ordinal = 738_000 + (step // 2 if rng.random() < 0.7 else rng.randrange(span))
        figure = Figure(rng.choice([None, rng.randrange(10**6)]), None, True, f"e{step}")
        state.book(kind).record(ordinal, rng.choice(["a", "b"]), figure)
        if rng.random() < 0.2:
            record = state_record(state)
            assert unframe(record) == _fresh(state)
            assert encode_state(state_from_record(record)) == encode_state(state)
    record = state_record(state)
    assert unframe(record) == _fresh(state)
    assert record == state_record(decode_state(encode_state(state)))  # nothing stale kept


def test_a_framed_record_cut_short_is_refused() -> None:
    state = _busy_personnel_state()
    record = state_record(state)
    # Inside a frame's data; inside the head of the last frame (`]}}` behind a 5-byte head).
    for cut in (len(record) // 2, len(record) - 6):
        with pytest.raises(ValueError, match="cut short"):
            state_from_record(record[:cut])


def test_the_wire_format_is_the_documented_json() -> None:
    state = LedgerState(Claimant.ua_general_staff, Subject.russia, Category.tanks)
    state.book(DocumentKind.report).record(738_001, "r2", Figure(12, 2, True, "e2"))
    state.book(DocumentKind.report).record(738_000, "r1", Figure(10, None, False, "e1"))
    state.book(DocumentKind.report).record(738_001, "r0", Figure(12, None, False, "e4"))
    state.book(DocumentKind.article).record(738_001, "a1", Figure(None, 3, False, "e3"))
    # Only the figure each day's total is taken from keeps its event id: r2 (official) on
    # 738_001, r1 on 738_000; a1 states no total, r0 ranks below r2.
    assert orjson.loads(encode_state(state)) == {
        "v": FORMAT_VERSION,
        "key": ["ua_general_staff", "russia", "tanks"],
        "books": {
            "article": [[738_001, "a1", None, 3, 0, ""]],
            "report": [
                [738_000, "r1", 10, None, 0, "e1"],
                [738_001, "r0", 12, None, 0, ""],
                [738_001, "r2", 12, 2, 1, "e2"],
            ],
        },
    }


def _busy_personnel_state() -> LedgerState:
    """Four years of daily reports, and for the last two twenty articles a day quoting the
    figure: document and event ids as random as real ones (hashes)."""
    rng = random.Random(11)
    state = LedgerState(Claimant.ua_general_staff, Subject.russia, Category.personnel)
    first = 738_000
    for day in range(1_460):
        total = 40_000 + 700 * day
        state.book(DocumentKind.report).record(
            first + day, f"gs-{day}", Figure(total, 700, True, f"{rng.getrandbits(128):032x}")
        )
        if day >= 730:
            for _ in range(20):
                state.book(DocumentKind.article).record(
                    first + day,
                    f"{rng.getrandbits(64):016x}",
                    Figure(total, 700, False, f"{rng.getrandbits(128):032x}"),
                )
    return state


def test_a_busy_keys_state_fits_one_kafka_record_once_compressed() -> None:
    state = _busy_personnel_state()
    plain, record = encode_state(state), state_record(state)
    # With every figure's event id this was 1.21 MB of JSON, which Faust's producer refused
    # (the totals stage hung), and 0.56 MB compressed. Only each day's chosen figure keeps its
    # id now: 0.76 MB and 0.26 MB.
    assert len(plain) < 800_000
    assert len(record) < 300_000
    assert encode_state(state_from_record(record)) == plain


def test_records_written_before_compression_still_read() -> None:
    state = LedgerState(Claimant.ua_general_staff, Subject.russia, Category.tanks)
    state.book(DocumentKind.report).record(738_000, "r1", Figure(10, None, True, "e1"))
    plain = encode_state(state)
    assert plain.startswith(b"{")  # a plain JSON record, as the changelog holds from before
    assert encode_state(state_from_record(plain)) == plain
    assert state_from_record(state_record(state)) == state_from_record(plain)
    # Then the whole JSON in one zlib stream, before the blocks.
    assert encode_state(state_from_record(zlib.compress(plain, 1))) == plain
