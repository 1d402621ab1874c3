"""Stopping the worker on an error it cannot go on from, and making sure it stops.

`app.crash(reason)` makes Faust stop the worker and exit non-zero. Its stop waits until every
message in flight is acked, so the messages the failure leaves unacked are first taken out of
that count (`unacked`, stream/batches.abandon). The stop still commits through the consumer,
and after a crash the consumer's thread may never answer: a worker whose totals ledger
outgrew a record was seen waiting in `Consumer.wait_empty` until it was killed, in 1 run of 5.
Nothing is lost by not waiting: every message not acked is delivered again to the next worker.
So the worker process (`attrition worker` arms it) exits by itself `HARD_EXIT_SECONDS` after
such a crash if Faust has not let it go.

`stop_on_failure` is the same stop for an error a stage has no answer for (a table entry that
does not decode, a bug). Faust's default for an agent that raises is to restart it on the
messages after the failed batch: that batch is never acked, so the commits stop there while
the worker looks alive, and a stage that keeps state between flushes drops what it had built
and goes on from the table's older state."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from attrition.stream.batches import abandon, abandon_in_flight

log = logging.getLogger(__name__)

HARD_EXIT_SECONDS = 15.0
#: How long a graceful stop waits for the messages in flight to be acked (see
#: `give_up_in_flight_after`).
STOP_GRACE_SECONDS = 10.0
HARD_EXIT_CODE = 1

_armed = False


def arm_hard_exit() -> None:
    """Let `stop_worker` end this process if the stop hangs (the worker command calls it; an
    app run inside a test process is not to be ended)."""
    global _armed
    _armed = True


async def stop_worker(app: Any, reason: BaseException, unacked: Sequence[Any] = ()) -> None:
    """Crash the app with `reason`, leaving the `unacked` events (held, never to be acked) to
    the next worker; once armed, exit the process if it is still here `HARD_EXIT_SECONDS`
    later."""
    if unacked:
        abandon(unacked, app.consumer)
    if _armed:
        timer = threading.Timer(HARD_EXIT_SECONDS, _exit_now, args=(reason,))
        timer.daemon = True
        timer.start()
    await app.crash(reason)


@asynccontextmanager
async def stop_on_failure(
    app: Any, stage: str, unacked: Callable[[], Sequence[Any]]
) -> AsyncIterator[None]:
    """Around a stage's loop over its batches: an exception that leaves it is logged CRITICAL
    under the stage's name and stops the worker, leaving `unacked()` (the events the stage
    holds and will not ack) to the next worker. The loop ends there."""
    try:
        yield
    except Exception as exc:
        logging.getLogger(stage).critical(
            "%s: %s; the worker stops, and what this stage had not acked goes to the next worker",
            stage,
            exc,
            exc_info=exc,
        )
        await stop_worker(app, exc, unacked=unacked())


async def give_up_in_flight_after(consumer: Any, seconds: float) -> None:
    """Bound a graceful stop: Faust's stop waits until every message delivered to a stream is
    acked (`Consumer.wait_empty`), however long that takes. Messages still in a stage's buffer
    when the stop began, or held by a sink that gave up its write, may never be: a worker
    stopped during a warehouse outage waited until it was killed, in 3 of 10 runs of its test
    on the code of 2026-12-02 (0 of 4 on the code before). After `seconds`, what is still in
    flight is given up: never acked, so never committed, and delivered again to the next
    worker."""
    await asyncio.sleep(seconds)
    left = abandon_in_flight(consumer)
    if left:
        log.warning(
            "stopping: %d messages not acked %.0f s after the stop began; left to the next worker",
            left,
            seconds,
        )


def _exit_now(reason: BaseException) -> None:
    # ERROR, not CRITICAL: the reason itself was logged CRITICAL, and stays the last word.
    log.error(
        "the worker did not stop within %.0f s of %r: exiting now (unacked messages go to "
        "the next worker)",
        HARD_EXIT_SECONDS,
        reason,
    )
    for handler in logging.getLogger().handlers:
        handler.flush()
    os._exit(HARD_EXIT_CODE)
