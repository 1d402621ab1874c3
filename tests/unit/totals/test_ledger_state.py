"""The ledger state's encoding: cached per day, always equal to encoding everything afresh."""

from __future__ import annotations

import random

import orjson

from attrition.contracts.vocabulary import Category, Claimant, DocumentKind, Subject
from attrition.totals.ledger_state import (
    FORMAT_VERSION,
    Figure,
    LedgerState,
    decode_state,
    encode_state,
)


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


def test_the_wire_format_is_the_documented_json() -> None:
    state = LedgerState(Claimant.ua_general_staff, Subject.russia, Category.tanks)
    state.book(DocumentKind.report).record(738_001, "r2", Figure(12, 2, True, "e2"))
    state.book(DocumentKind.report).record(738_000, "r1", Figure(10, None, False, "e1"))
    state.book(DocumentKind.article).record(738_001, "a1", Figure(None, 3, False, "e3"))
    assert orjson.loads(encode_state(state)) == {
        "v": FORMAT_VERSION,
        "key": ["ua_general_staff", "russia", "tanks"],
        "books": {
            "article": [[738_001, "a1", None, 3, 0, "e3"]],
            "report": [[738_000, "r1", 10, None, 0, "e1"], [738_001, "r2", 12, 2, 1, "e2"]],
        },
    }
