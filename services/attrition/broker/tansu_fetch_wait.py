"""Embedded mode only: a short fetch wait while records flow, a longer one while none do.

Apache Kafka answers a waiting fetch as soon as a record arrives; Tansu (measured: one idle
consumer, one record produced every 0.3 s) answers at the end of `fetch_max_wait_ms`. Faust
hard-codes 1,500 ms for its worker consumer, so on Tansu each hop between stages waited 0.5-1.3 s
for records that were already there (publish → delta p50 about 1.3 s at 100 documents/s). With
100 ms the same probe reads each record within 1-4 ms; 25 ms keeps the hops of a pipeline
short when records come sparsely.

But an empty fetch is not free on Tansu: it reads every partition the fetch names, about 0.1 ms
each plus some 0.6 ms a fetch (measured with one consumer of 24 partitions: 1.29 CPU-s of the
broker in 10 idle seconds at 25 ms, 0.52 at 100 ms). An idle worker fetching every 25 ms kept
the broker at 0.15-0.19 of a core and itself at about 0.1. So the wait is adaptive
(`FetchWait`): 25 ms after a fetch that brought records, doubled after each one that brought
none, up to `IDLE_FETCH_WAIT_MS`; idle, the broker then used 0.06-0.08 of a core and the worker
0.05-0.07. While records flow every fetch brings some and the wait stays short; the first
record after a quiet spell waits at most the longer wait, at the first hop that meets it. (A
200 ms ceiling saved another 0.02-0.03 of a core, for twice that wait.)

Against Apache Kafka none of this is installed: there a long wait costs nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: The wait of a fetch that follows one that brought records.
EMBEDDED_FETCH_WAIT_MS = 25
#: The longest wait, reached after a few empty fetches in a row.
IDLE_FETCH_WAIT_MS = 100

_installed = False


@dataclass
class FetchWait:
    """How long the next fetch may wait, from what the last one brought."""

    busy_ms: int = EMBEDDED_FETCH_WAIT_MS
    idle_ms: int = IDLE_FETCH_WAIT_MS
    current_ms: int = EMBEDDED_FETCH_WAIT_MS

    def after(self, brought_records: bool) -> int:
        if brought_records:
            self.current_ms = self.busy_ms
        else:
            self.current_ms = min(self.idle_ms, self.current_ms * 2)
        return self.current_ms


def start_with_adaptive_wait(consumer: Any) -> None:
    """Give `consumer` (an AIOKafkaConsumer not yet started) the adaptive wait.

    Its fetcher is built in `start()` from the consumer's `_fetch_max_wait_ms`, so the first
    fetches already wait `EMBEDDED_FETCH_WAIT_MS`; once started, the fetcher's own
    `_fetch_max_wait_ms`, which it builds each request from, is set after every response. The
    fetch routine looks `_proc_fetch_request` up on the instance for every fetch; the
    wrapper's result is the method's own (whether the response added records)."""
    consumer._fetch_max_wait_ms = EMBEDDED_FETCH_WAIT_MS
    start = consumer.start

    async def _start() -> None:
        await start()
        fetcher = consumer._fetcher
        policy = FetchWait()
        process = fetcher._proc_fetch_request

        async def _proc_fetch_request(assignment: Any, node_id: int, request: Any) -> bool:
            brought = bool(await process(assignment, node_id, request))
            fetcher._fetch_max_wait_ms = policy.after(brought)
            return brought

        fetcher._proc_fetch_request = _proc_fetch_request

    consumer.start = _start


def install_faust_fetch_wait_fix() -> None:
    """Give Faust's worker consumer the adaptive wait instead of its fixed 1,500 ms."""
    global _installed
    if _installed:
        return
    from faust.transport.drivers import aiokafka as driver

    original = driver.AIOKafkaConsumerThread._create_worker_consumer

    def _create_worker_consumer(self: Any, transport: Any) -> Any:
        consumer = original(self, transport)
        start_with_adaptive_wait(consumer)
        return consumer

    driver.AIOKafkaConsumerThread._create_worker_consumer = _create_worker_consumer  # type: ignore[method-assign]
    _installed = True
