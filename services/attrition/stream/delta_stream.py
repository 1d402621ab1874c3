"""`GET /deltas/stream`: every new DeltaEvent as a server-sent event, for dashboards.

A consumer outside the worker's group follows every partition of the deltas topic from its
end, so each worker streams all deltas (not only its own partitions') and the stream adds no
lag to the pipeline's group. Each client has a bounded queue: one that cannot keep up is told
so and disconnected, never waited for. Optional filters: `?claimant=…&subject=…&category=…`."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web as aiohttp_web
from aiokafka import AIOKafkaConsumer, TopicPartition
from faust.web import View

from attrition.broker.consumer_progress import end_offsets
from attrition.broker.topic_reader import groupless_consumer
from attrition.settings import Settings

if TYPE_CHECKING:
    from attrition.stream.app import AttritionApp

log = logging.getLogger(__name__)

CLIENT_QUEUE = 1000  # deltas a client may fall behind by before it is dropped
MAX_CLIENTS = 100
HEARTBEAT_S = 15.0
_FILTERS = ("claimant", "subject", "category")


def sse_frame(delta_id: str, payload: bytes) -> bytes:
    """One event: orjson writes no newlines, so the JSON fits one `data:` line."""
    return b"id: " + delta_id.encode() + b"\nevent: delta\ndata: " + payload + b"\n\n"


@dataclass(eq=False)
class Client:
    filters: dict[str, str]
    queue: asyncio.Queue[bytes | None] = field(
        default_factory=lambda: asyncio.Queue(maxsize=CLIENT_QUEUE)
    )
    dropped: bool = False

    def wants(self, delta: dict[str, Any]) -> bool:
        return all(delta.get(name) == value for name, value in self.filters.items())

    def end(self) -> None:
        """Empty the queue and leave the end-of-stream mark (None) as its only item."""
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)


class DeltaFanout:
    def __init__(self) -> None:
        self.clients: set[Client] = set()
        self.ready = asyncio.Event()

    def subscribe(self, filters: dict[str, str]) -> Client:
        client = Client(filters)
        self.clients.add(client)
        return client

    def unsubscribe(self, client: Client) -> None:
        self.clients.discard(client)

    def offer_batch(self, payload: bytes) -> None:
        """One message of the deltas topic: a DeltaBatch, each of its deltas offered in order."""
        try:
            deltas = orjson.loads(payload)["events"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return  # not a delta batch; the topic's producers are ours, so never expected
        if isinstance(deltas, list):
            for delta in deltas:
                self.offer(orjson.dumps(delta))

    def offer(self, payload: bytes) -> None:
        """One delta's JSON."""
        try:
            delta = orjson.loads(payload)
            frame = sse_frame(str(delta["delta_id"]), payload)
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return  # not a delta; the topic's producers are ours, so this is never expected
        for client in list(self.clients):
            if not client.wants(delta):
                continue
            try:
                client.queue.put_nowait(frame)
            except asyncio.QueueFull:
                client.dropped = True
                self.unsubscribe(client)
                client.end()

    def close(self) -> None:
        for client in list(self.clients):
            self.unsubscribe(client)
            client.end()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    # Metadata for all topics, never for this one by name: asking by name would let the broker
    # auto-create it with its default partition count before the worker declares it.
    while True:
        await consumer.topics()
        partitions = consumer.partitions_for_topic(topic)
        if partitions:
            return [TopicPartition(topic, p) for p in sorted(partitions)]
        await asyncio.sleep(0.5)


def deltas_reader(settings: Settings) -> AIOKafkaConsumer:
    """The delta stream's consumer, not started; on the embedded broker with its adaptive
    fetch wait (broker/tansu_fetch_wait.py)."""
    consumer = groupless_consumer(settings)
    if settings.embedded_broker:
        from attrition.broker.tansu_fetch_wait import start_with_adaptive_wait

        start_with_adaptive_wait(consumer)
    return consumer


async def follow_deltas(settings: Settings, fanout: DeltaFanout) -> None:
    """Offer each delta written from now on to the fan-out, until cancelled."""
    consumer = deltas_reader(settings)
    await consumer.start()
    try:
        tps = await _partitions(consumer, settings.topics.deltas)
        consumer.assign(tps)
        for tp, offset in (await end_offsets(settings, consumer, tps)).items():
            consumer.seek(tp, offset)
        fanout.ready.set()
        while True:
            batch = await consumer.getmany(timeout_ms=1000)
            for records in batch.values():
                if not fanout.clients:
                    continue  # nobody to decode for
                for record in records:
                    if record.value is not None:
                        fanout.offer_batch(record.value)
    finally:
        fanout.ready.clear()
        fanout.close()
        await consumer.stop()


async def stream_response(request: Any, fanout: DeltaFanout) -> aiohttp_web.StreamResponse:
    if len(fanout.clients) >= MAX_CLIENTS:
        return aiohttp_web.json_response({"error": "too many stream clients"}, status=503)
    try:
        await asyncio.wait_for(fanout.ready.wait(), timeout=30)
    except TimeoutError:
        return aiohttp_web.json_response(
            {"error": "the deltas topic is not available yet"}, status=503
        )
    filters = {name: request.query[name] for name in _FILTERS if request.query.get(name)}
    client = fanout.subscribe(filters)
    response = aiohttp_web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",  # proxies must pass events on as they come
        }
    )
    try:
        await response.prepare(request)
        await _pump(response, client)
    except ConnectionResetError:
        pass  # the client went away: nothing to tell it
    finally:
        fanout.unsubscribe(client)
    return response


async def _pump(response: aiohttp_web.StreamResponse, client: Client) -> None:
    await response.write(b"retry: 3000\n: connected\n\n")
    while True:
        try:
            frame = await asyncio.wait_for(client.queue.get(), timeout=HEARTBEAT_S)
        except TimeoutError:
            await response.write(b": keep-alive\n\n")
            continue
        if frame is None:
            break
        await response.write(frame)
    if client.dropped:
        await response.write(
            b'event: dropped\ndata: {"reason": "client fell behind; reconnect"}\n\n'
        )
    await response.write_eof()


def register(app: AttritionApp) -> DeltaFanout:
    fanout = DeltaFanout()
    app.delta_fanout = fanout  # type: ignore[attr-defined]

    async def fan_out_deltas() -> None:
        await follow_deltas(app.settings, fanout)

    app.task(fan_out_deltas)

    # Open streams would hold the web server's shutdown until their next heartbeat write.
    @app.on_before_shutdown.connect  # type: ignore[arg-type]
    async def end_streams(app: Any, **kwargs: Any) -> None:
        fanout.close()

    @app.page("/deltas/stream")
    class DeltaStream(View):
        async def get(self, request: Any) -> Any:
            return await stream_response(request, fanout)

    return fanout
