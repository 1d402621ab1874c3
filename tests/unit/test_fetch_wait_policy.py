"""The embedded mode's fetch-wait policy (broker/tansu_fetch_wait.FetchWait), alone."""

from __future__ import annotations

from attrition.broker.tansu_fetch_wait import EMBEDDED_FETCH_WAIT_MS, IDLE_FETCH_WAIT_MS, FetchWait


def test_empty_fetches_double_the_wait_up_to_the_idle_wait() -> None:
    wait = FetchWait()
    assert wait.current_ms == EMBEDDED_FETCH_WAIT_MS == 25
    assert IDLE_FETCH_WAIT_MS == 100
    assert [wait.after(False) for _ in range(4)] == [50, 100, 100, 100]


def test_a_fetch_that_brings_records_gives_the_short_wait_back_at_once() -> None:
    wait = FetchWait(busy_ms=10, idle_ms=300, current_ms=300)
    assert wait.after(True) == 10
    assert wait.after(True) == 10
    assert [wait.after(False) for _ in range(6)] == [20, 40, 80, 160, 300, 300]
