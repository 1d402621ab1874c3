"""Embedded mode only: a short fetch wait, because Tansu answers a fetch at its deadline.

Apache Kafka answers a waiting fetch as soon as a record arrives; Tansu (measured: one idle
consumer, one record produced every 0.3 s) answers at the end of `fetch_max_wait_ms`. Faust
hard-codes 1,500 ms for its worker consumer, so on Tansu each hop between stages waited 0.5-1.3 s
for records that were already there (publish → delta p50 about 1.3 s at 100 documents/s). With
100 ms the same probe reads each record within 1-4 ms; 25 ms keeps the hops of a pipeline
short when records come sparsely (an idle fetch per partition leader every 25 ms costs nothing).
Against Apache Kafka none of this is installed: there a long wait costs nothing."""

from __future__ import annotations

from typing import Any

#: What the embedded broker's consumers wait at most for a fetch.
EMBEDDED_FETCH_WAIT_MS = 25

_installed = False


def install_faust_fetch_wait_fix() -> None:
    """Give Faust's worker consumer `EMBEDDED_FETCH_WAIT_MS` instead of its fixed 1,500 ms."""
    global _installed
    if _installed:
        return
    from faust.transport.drivers import aiokafka as driver

    original = driver.AIOKafkaConsumerThread._create_worker_consumer

    def _create_worker_consumer(self: Any, transport: Any) -> Any:
        consumer = original(self, transport)
        # Read by the consumer's fetcher, which it builds in start(), after this.
        consumer._fetch_max_wait_ms = EMBEDDED_FETCH_WAIT_MS
        return consumer

    driver.AIOKafkaConsumerThread._create_worker_consumer = _create_worker_consumer  # type: ignore[method-assign]
    _installed = True
