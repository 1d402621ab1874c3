"""Throughput as the evaluation commands report it: items per second in this one process (so on
one core), from separately timed passes after an untimed warm-up pass. Both the best pass and
the median are given: the best is what the code can do, the median what a shared machine
gave; a mean would hide either."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Throughput:
    items: int  # per pass
    repetitions: int  # timed passes
    best: float  # items per second in the fastest pass
    median: float  # items per second in the median pass

    def describe(self, unit: str) -> str:
        return (
            f"{self.best:,.0f} {unit}/s best, {self.median:,.0f} median, per core "
            f"(one process; {self.items} {unit} × {self.repetitions} timed passes "
            "after a warm-up pass)"
        )


NONE: Throughput = Throughput(0, 0, 0.0, 0.0)


def measure(run: Callable[[T], object], items: Sequence[T], repetitions: int) -> Throughput:
    """Time `repetitions` passes of `run` over every item, after one untimed pass that fills
    caches and pays first-call costs."""
    if not items or repetitions < 1:
        return NONE
    for item in items:
        run(item)
    rates: list[float] = []
    clock = time.perf_counter
    for _ in range(repetitions):
        started = clock()
        for item in items:
            run(item)
        elapsed = clock() - started
        rates.append(len(items) / elapsed if elapsed > 0 else float("inf"))
    return Throughput(len(items), repetitions, max(rates), statistics.median(rates))
