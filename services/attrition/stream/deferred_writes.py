"""A stage's state kept in memory and written to its table once per key per flush, with the
messages whose effects that state holds acked only after the write.

Writing a key's state back after every batch sends a changelog record per key per batch: the
totals ledger is the key's whole history (about 100 KB), the spike detector's state some 8 KB,
and at a steady 100 documents/s a 20 ms batch window touches every key about 50 times a
second. Quix Streams writes one record per key per checkpoint; so does this, every
`flush_every` seconds under load, or as soon as the input has been quiet for `quiet_after`.

At-least-once is kept by the acks: a message is held (stream/batches.py) until the state
holding its effects is in the table and its changelog records are on the broker
(stream/state_table.py), so a crash before then redelivers it and the replay onto the table's
older state re-sends the same outputs (same ids, idempotent downstream). The stage goes on
with its next batches while those records are delivered."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from attrition.stream.batches import hold, release
from attrition.stream.fatal import stop_worker

log = logging.getLogger(__name__)

#: How long a stopping worker waits for its last changelog records to be delivered.
SHUTDOWN_DELIVERY_SECONDS = 10.0


class DeferredWrites:
    """`write(key, last)` stores a key's state (and sends whatever goes out with it); it is
    called for each key marked `changed` since the last flush, with the key's last message
    (what the table write takes its partition from, StateTable.set_for). `sent()` returns the
    changelog sends of those writes, to be delivered before the messages are acked. Process
    each batch inside `batch(events)`."""

    def __init__(
        self,
        write: Callable[[bytes, Any], Awaitable[None]],
        *,
        flush_every: float,
        quiet_after: float,
        on_forget: Callable[[], None] = lambda: None,
        sent: Callable[[], Sequence[Awaitable[Any]]] = list,
        on_quiet_release: Callable[[], None] = lambda: None,
    ) -> None:
        self._write = write
        self._on_forget = on_forget
        self._on_quiet_release = on_quiet_release
        self._sent = sent
        self._delivering: set[asyncio.Future[None]] = set()
        self.failed: BaseException | None = None
        self.flush_every = flush_every
        self.quiet_after = quiet_after
        self.lock = asyncio.Lock()
        self._changed: dict[bytes, Any] = {}  # key → its last message
        self._held: list[Any] = []
        self._given_up: list[Any] = []  # held, never to be acked (see forget)
        self._stopping = False
        self._last_flush = self._last_batch = time.monotonic()

    def changed(self, key: bytes, last_message: Any) -> None:
        """The key's in-memory state is now ahead of its table entry."""
        self._changed[key] = last_message

    def is_changed(self, key: bytes) -> bool:
        return key in self._changed

    @asynccontextmanager
    async def batch(self, events: Sequence[Any]) -> AsyncIterator[None]:
        """Around the processing of one batch from `take_events`: its messages held so that
        the batch iterator's ack cannot commit them, no flush in between, and then either
        `batch_done`, or after a failure `forget` and the error passed on."""
        hold(events)
        async with self.lock:
            try:
                yield
                await self.batch_done(events)
            except BaseException:
                self.forget(events)
                raise

    async def batch_done(self, batch: Sequence[Any]) -> None:
        """Every effect of `batch` has been handed to the producer or is in `changed` state:
        hold its messages until the next flush, and flush if one is due."""
        self._held.extend(batch)
        self._last_batch = time.monotonic()
        if self._last_batch - self._last_flush >= self.flush_every:
            await self.flush()

    async def flush(self) -> None:
        """Write every changed key's state; ack the messages held once its changelog records
        are delivered. A write that fails leaves every message held unacked for good, and
        the worker stops on `failed` (see `register`)."""
        if self.failed is not None:
            return
        self._last_flush = time.monotonic()
        # The input has stopped: once released, these are a burst's last messages here.
        quiet = self._last_flush - self._last_batch >= self.quiet_after
        changed, self._changed = self._changed, {}
        try:
            for key, last in changed.items():
                await self._write(key, last)
        except Exception as exc:
            log.critical("state not written, messages left unacked: %s", exc)
            self.failed = exc
            return
        flushed, self._held = self._held, []
        sends = self._sent()
        if not sends:
            self._release(flushed, quiet)
            return
        delivering = asyncio.ensure_future(self._release_when_delivered(sends, flushed, quiet))
        self._delivering.add(delivering)
        delivering.add_done_callback(self._delivering.discard)

    def _release(self, flushed: Sequence[Any], quiet: bool) -> None:
        release(flushed)
        if quiet:
            self._on_quiet_release()

    async def _release_when_delivered(
        self, sends: Sequence[Awaitable[Any]], flushed: Sequence[Any], quiet: bool
    ) -> None:
        try:
            await asyncio.gather(*sends)
        except Exception as exc:
            # Never acked: the offsets stop here and a restart redelivers these messages onto
            # the state the broker does have. The worker stops on `failed` (see register).
            log.critical("state not written to its changelog, messages left unacked: %r", exc)
            self.failed = exc
            self._held.extend(flushed)  # abandoned with the rest when the worker stops
            return
        self._release(flushed, quiet)

    async def delivered(self) -> None:
        """Wait until every flushed state's changelog records are delivered (and acked)."""
        while self._delivering:
            await asyncio.gather(*self._delivering, return_exceptions=True)

    def forget(self, failed: Sequence[Any] = ()) -> None:
        """After a failure (of the batch `failed`): drop the state ahead of the table and never
        ack what it holds, nor `failed`; those messages are redelivered after a restart and
        replayed onto the table's state."""
        self._changed.clear()
        self._given_up.extend(self._held)
        self._given_up.extend(failed)
        self._held.clear()
        self._on_forget()

    def unacked(self) -> list[Any]:
        """The messages held and not acked yet (those given up after a failure included): what
        a worker stopping on a failure leaves to the next one (fatal.stop_worker)."""
        return [*self._given_up, *self._held]

    def due(self) -> bool:
        """A flush the timer should make: the input has gone quiet, or the interval has run."""
        now = time.monotonic()
        return bool(self._held) and (
            now - self._last_batch >= self.quiet_after or now - self._last_flush >= self.flush_every
        )

    def register(self, app: Any, name: str) -> None:
        """The timer that flushes a stream that has stopped (no batch comes to flush on, and
        its last messages must still be committed), and the flush at shutdown."""
        interval = min(self.quiet_after, self.flush_every)

        async def flush_when_due() -> None:
            if self.failed is not None:
                if not self._stopping:
                    self._stopping = True
                    await stop_worker(app, self.failed, unacked=self.unacked())
                return
            async with self.lock:
                if self.due():
                    await self.flush()

        flush_when_due.__name__ = flush_when_due.__qualname__ = f"flush_{name}"
        app.timer(interval=interval, name=f"attrition.{name}.flush")(flush_when_due)

        async def flush_at_shutdown(app: Any, **kwargs: Any) -> None:
            if self.failed is not None:
                return  # nothing more is acked: what is held goes to the next worker
            async with self.lock:
                if self._held:
                    await self.flush()
            try:
                # Bounded: after a crash the producer may never deliver them, and a stop that
                # waited for ever would have to be killed.
                await asyncio.wait_for(self.delivered(), SHUTDOWN_DELIVERY_SECONDS)
            except TimeoutError:
                log.warning("state still on its way to the changelog at shutdown: unacked")

        app.on_before_shutdown.connect(flush_at_shutdown, weak=False)
