"""stream/deferred_writes.py: a stage's state written once per key per flush, its messages acked
only after that write, and never after a failure."""

from __future__ import annotations

import asyncio
import time

import pytest

from attrition.stream.deferred_writes import DeferredWrites


class Message:
    """What the helper touches of a Faust event: ack (via batches.release), and the reference
    batches.hold takes; it is handed to the write as the key's last message."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.acks = 0
        self.refs = 0
        self.message = self  # an event's message: what batches.hold takes a reference on

    def ack(self) -> None:
        self.acks += 1

    def incref(self) -> None:
        self.refs += 1


def _deferred(flush_every: float = 60.0) -> tuple[DeferredWrites, list[bytes], list[int]]:
    written: list[bytes] = []
    forgotten: list[int] = []

    async def write(key: bytes, last: object) -> None:
        written.append(key)

    deferred = DeferredWrites(
        write, flush_every=flush_every, quiet_after=0.05, on_forget=lambda: forgotten.append(1)
    )
    return deferred, written, forgotten


async def test_each_changed_key_is_written_once_per_flush_then_its_messages_are_acked() -> None:
    deferred, written, _ = _deferred()
    batches = [[Message("a1"), Message("b1")], [Message("a2")]]
    for batch in batches:
        for message in batch:
            deferred.changed(message.name[0].encode(), message)
        await deferred.batch_done(batch)
    assert written == [] and all(m.acks == 0 for b in batches for m in b)
    assert deferred.is_changed(b"a") and not deferred.is_changed(b"c")
    await deferred.flush()
    assert written == [b"a", b"b"]  # once each, however many batches changed them
    assert all(m.acks == 1 for b in batches for m in b)
    assert not deferred.is_changed(b"a") and not deferred.due()


async def test_each_key_is_written_with_its_last_message() -> None:
    """The message a table write takes its partition from (StateTable.set_for)."""
    written: list[tuple[bytes, str]] = []

    async def write(key: bytes, last: Message) -> None:
        written.append((key, last.name))

    deferred = DeferredWrites(write, flush_every=60.0, quiet_after=0.05)
    batch = [Message("a1"), Message("b1"), Message("a2")]
    for message in batch:
        deferred.changed(message.name[0].encode(), message)
    await deferred.batch_done(batch)
    await deferred.flush()
    assert written == [(b"a", "a2"), (b"b", "b1")]


async def test_a_batch_flushes_once_the_interval_has_run() -> None:
    deferred, written, _ = _deferred(flush_every=0.0)
    message = Message("k")
    deferred.changed(b"k", message)
    await deferred.batch_done([message])
    assert written == [b"k"] and message.acks == 1


async def test_a_quiet_input_is_due_for_a_flush() -> None:
    deferred, _, _ = _deferred()
    assert not deferred.due()  # nothing held
    message = Message("k")
    deferred.changed(b"k", message)
    await deferred.batch_done([message])
    assert not deferred.due()
    time.sleep(0.06)
    assert deferred.due()


async def test_after_a_failure_nothing_is_written_or_acked() -> None:
    deferred, written, forgotten = _deferred()
    message = Message("k")
    deferred.changed(b"k", message)
    await deferred.batch_done([message])
    deferred.forget()
    await deferred.flush()
    assert written == [] and message.acks == 0 and forgotten == [1]
    assert not deferred.due()


async def test_a_failed_batch_and_every_message_held_before_it_are_given_up() -> None:
    """What a worker stopping on the failure abandons (fatal.stop_on_failure): the messages
    held for the next flush, and the batch that failed, none of them acked."""
    deferred, written, _ = _deferred()
    earlier = Message("a1")
    deferred.changed(b"a", earlier)
    await deferred.batch_done([earlier])
    failing = [Message("b1"), Message("c1")]
    with pytest.raises(ValueError, match="no ledger"):
        async with deferred.batch(failing):
            deferred.changed(b"b", failing[0])
            raise ValueError("no ledger")
    assert deferred.unacked() == [earlier, *failing]
    assert all(m.refs == 1 for m in failing)  # held by the batch, never released
    await deferred.flush()
    assert written == [] and all(m.acks == 0 for m in [earlier, *failing])


def _delivering() -> tuple[DeferredWrites, list[asyncio.Future[None]]]:
    """A helper whose writes each leave one changelog send, resolved by the test."""
    sends: list[asyncio.Future[None]] = []
    pending: list[asyncio.Future[None]] = []

    async def write(key: bytes, last: object) -> None:
        pending.append(asyncio.get_running_loop().create_future())

    def sent() -> list[asyncio.Future[None]]:
        taken = list(pending)
        pending.clear()
        sends.extend(taken)
        return taken

    deferred = DeferredWrites(write, flush_every=60.0, quiet_after=0.05, sent=sent)
    return deferred, sends


async def test_messages_are_acked_only_once_their_state_is_delivered() -> None:
    deferred, sends = _delivering()
    messages = [Message("a1"), Message("b1")]
    for message in messages:
        deferred.changed(message.name[0].encode(), message)
    await deferred.batch_done(messages)
    await deferred.flush()
    assert len(sends) == 2
    sends[0].set_result(None)
    await asyncio.sleep(0)
    assert all(m.acks == 0 for m in messages)  # one ledger is still on its way
    later = Message("a2")  # the stage goes on meanwhile
    deferred.changed(b"a", later)
    await deferred.batch_done([later])
    sends[1].set_result(None)
    await deferred.delivered()
    assert all(m.acks == 1 for m in messages) and later.acks == 0


async def test_a_state_that_never_reaches_the_broker_leaves_its_messages_unacked() -> None:
    deferred, sends = _delivering()
    message = Message("k")
    deferred.changed(b"k", message)
    await deferred.batch_done([message])
    await deferred.flush()
    refused = ConnectionError("broker gone")
    sends[0].set_exception(refused)
    await deferred.delivered()
    assert message.acks == 0 and deferred.failed is refused


async def test_a_state_that_cannot_be_written_leaves_every_message_unacked() -> None:
    """A write that fails (a state too large for a record, say) stops the acks for good: the
    worker stops on `failed`, and what it held goes to the next worker."""
    written: list[bytes] = []
    too_large = ValueError("the totals-ledger state of big is 70,000 bytes")

    async def write(key: bytes, last: object) -> None:
        if key == b"big":
            raise too_large
        written.append(key)

    deferred = DeferredWrites(write, flush_every=60.0, quiet_after=0.05)
    first = [Message("big1"), Message("small1")]
    deferred.changed(b"big", first[0])
    deferred.changed(b"small", first[1])
    await deferred.batch_done(first)
    await deferred.flush()  # does not raise: the timer stops the worker on `failed`
    assert deferred.failed is too_large
    later = Message("small2")
    deferred.changed(b"small", later)
    await deferred.batch_done([later])
    await deferred.flush()
    assert written == [] and deferred.failed is too_large
    assert all(m.acks == 0 for m in [*first, later])


async def test_a_batch_is_held_and_handed_over_once_processed() -> None:
    deferred, written, _ = _deferred()
    batch = [Message("a1"), Message("b1")]
    async with deferred.batch(batch):
        assert deferred.lock.locked()  # no flush between a batch's changes
        for message in batch:
            deferred.changed(message.name[0].encode(), message)
    assert all(m.refs == 1 and m.acks == 0 for m in batch)
    await deferred.flush()
    assert written == [b"a", b"b"] and all(m.acks == 1 for m in batch)


async def test_a_batch_that_fails_is_forgotten_and_its_error_passed_on() -> None:
    deferred, written, forgotten = _deferred()
    batch = [Message("k")]
    with pytest.raises(ValueError, match="bad figure"):
        async with deferred.batch(batch):
            deferred.changed(b"k", batch[0])
            raise ValueError("bad figure")
    assert not deferred.lock.locked() and forgotten == [1]
    await deferred.flush()
    # Held, never acked: the message is redelivered after a restart.
    assert written == [] and batch[0].refs == 1 and batch[0].acks == 0


async def test_a_flush_on_quiet_input_reports_the_release_and_one_under_load_does_not() -> None:
    """The end of a burst asks for a commit (stream/prompt_commits.py); a flush under load
    leaves it to the commit timer."""
    released: list[str] = []

    async def write(key: bytes, last: object) -> None:
        pass

    def deferred(flush_every: float, name: str) -> DeferredWrites:
        return DeferredWrites(
            write,
            flush_every=flush_every,
            quiet_after=0.05,
            on_quiet_release=lambda: released.append(name),
        )

    under_load = deferred(0.0, "under load")
    busy = Message("a")
    under_load.changed(b"a", busy)
    await under_load.batch_done([busy])  # flushed at once: the interval has run
    assert busy.acks == 1 and released == []

    stopped = deferred(60.0, "stopped")
    last = Message("b")
    stopped.changed(b"b", last)
    await stopped.batch_done([last])
    time.sleep(0.06)
    assert stopped.due()
    await stopped.flush()  # as the timer does once the input is quiet
    assert last.acks == 1 and released == ["stopped"]
