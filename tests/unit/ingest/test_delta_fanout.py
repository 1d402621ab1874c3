import orjson
import pytest

from attrition.stream import delta_stream
from attrition.stream.delta_stream import DeltaFanout, sse_frame


def _delta(n: int, category: str = "tanks") -> bytes:
    return orjson.dumps({"delta_id": f"d{n}", "claimant": "ua_general_staff", "category": category})


def test_an_sse_frame_names_the_delta() -> None:
    payload = _delta(1)
    assert sse_frame("d1", payload) == b"id: d1\nevent: delta\ndata: " + payload + b"\n\n"


async def test_every_client_gets_the_deltas_it_asked_for() -> None:
    fanout = DeltaFanout()
    everything = fanout.subscribe({})
    tanks_only = fanout.subscribe({"category": "tanks"})
    fanout.offer(_delta(1))
    fanout.offer(_delta(2, "aircraft"))
    fanout.offer(b"not json")
    assert everything.queue.qsize() == 2
    assert [tanks_only.queue.get_nowait()] == [sse_frame("d1", _delta(1))]


async def test_a_slow_client_is_dropped_and_the_others_keep_getting_deltas(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(delta_stream, "CLIENT_QUEUE", 3)
    fanout = DeltaFanout()
    slow = fanout.subscribe({})
    fast = fanout.subscribe({})
    for n in range(5):
        fanout.offer(_delta(n))
        fast.queue.get_nowait()
    assert slow.dropped and slow not in fanout.clients
    assert slow.queue.get_nowait() is None  # its stream ends with the reason, not the backlog
    assert fast in fanout.clients and not fast.dropped


async def test_a_delta_batch_is_offered_delta_by_delta_in_order() -> None:
    fanout = DeltaFanout()
    client = fanout.subscribe({})
    deltas = [orjson.loads(_delta(n)) for n in range(3)]
    fanout.offer_batch(orjson.dumps({"events": deltas}))
    fanout.offer_batch(b'{"events": "not a list"}')
    fanout.offer_batch(b"not json")
    frames = [client.queue.get_nowait() for _ in range(client.queue.qsize())]
    assert frames == [sse_frame(f"d{n}", _delta(n)) for n in range(3)]
