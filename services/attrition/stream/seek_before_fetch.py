"""No stream message is fetched between a table recovery and the seek to committed offsets,
and a partition with no committed offset is read from its start.

After it has read the tables' changelogs (a worker starting or restarting, or taking over
partitions that have state), Faust (faust-streaming 0.15, `Recovery.on_recovery_completed`)
resumes the stream partitions while the fetch flow it turned on to read the changelogs is still
on, and only then seeks them to their committed offsets. Messages fetched in between reach the
agents; the seek then moves the position back, and Faust's read-offset bookkeeping drops some
of the messages fetched again after it. Those are never processed nor acked: the partition's
commits stop at the first of them until the worker restarts, and their documents wait for that
restart. Seen after a SIGKILL and restart: 12 and 20 reports skipped, the parse stage's commits
stuck. Faust's `_resume_streams` has the same order (faust-streaming#216 fixed it once). Here
both keep the fetch flow stopped until the seek is done, and the seek also covers the
partitions Faust's leaves alone (`_rewind_uncommitted`). Keeping the partitions paused instead
left a restarted worker's newest reports unread in 4 of 6 runs of
`test_totals_survive_a_worker_restart`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import TopicPartition

_installed = False


def install() -> None:
    """Patch Faust's recovery once per process (every app in it benefits)."""
    global _installed
    if _installed:
        return
    from faust.tables.recovery import Recovery
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    Recovery.on_recovery_completed = _seeking_first(Recovery.on_recovery_completed)  # type: ignore[method-assign,assignment]
    Recovery._resume_streams = _seeking_first(Recovery._resume_streams)  # type: ignore[method-assign,assignment]
    AIOKafkaConsumerThread.verify_event_path = _positioned_only(  # type: ignore[method-assign,assignment]
        AIOKafkaConsumerThread.verify_event_path
    )
    _installed = True


def _positioned_only(
    verify: Callable[[Any, float, Any], None],
) -> Callable[[Any, float, Any], None]:
    """Faust's check that a partition's stream is moving, skipped while the partition has no
    position yet.

    The seek to the beginning below leaves a partition awaiting its reset until the next fetch
    resolves it; Faust's check (`_commit_livelock_detector`, every 2.5 commit intervals) reads
    aiokafka's `position` regardless, which asserts that there is one, and the assertion crashed
    the consumer: seen once in CI, a worker restarted after another had stopped on a
    warehouse outage exited 1. A partition without a position has nothing to check yet."""

    def verify_event_path(self: Any, now: float, tp: Any) -> None:
        consumer = self._consumer
        subscription = None if consumer is None else consumer._fetcher._subscriptions.subscription
        assignment = None if subscription is None else subscription.assignment
        if assignment is not None:
            state = assignment.state_value(TopicPartition(tp.topic, tp.partition))
            if state is not None and not state.has_valid_position:
                return None
        return verify(self, now, tp)

    return verify_event_path


def _seeking_first(
    resume_streams: Callable[..., Awaitable[None]],
) -> Callable[..., Awaitable[None]]:
    """`resume_streams` (a Recovery method that resumes the stream partitions, seeks them, then
    resumes the fetch flow) with the flow stopped until the seek is done."""

    async def seek_then_resume_streams(self: Any, generation_id: int = 0) -> None:
        consumer = self.app.consumer
        consumer_type = type(consumer)
        # Records fetched meanwhile are not delivered: Faust's fetcher sees the flow stopped,
        # drops them and seeks back (with the seek below while it is in place).
        consumer.stop_flow()

        async def seek_and_rewind() -> None:
            await consumer_type.perform_seek(consumer)
            streams = {tp for tp in consumer.assignment() if not self._is_changelog_tp(tp)}
            await _rewind_uncommitted(consumer, streams)

        # An instance attribute shadows the consumer's method for this call only.
        consumer.perform_seek = seek_and_rewind
        try:
            await resume_streams(self, generation_id)
        finally:
            del consumer.perform_seek

    return seek_then_resume_streams


async def _rewind_uncommitted(consumer: Any, partitions: set[Any]) -> None:
    """Seek the partitions that have no committed offset back to their first message.

    Faust's seek moves only partitions with a committed offset. Between an assignment and
    Faust's pausing of the new partitions, its fetcher can take records of a partition and drop
    them; with no committed offset to seek back to, they were lost for this worker, and the
    commits of later messages then passed over them (seen: a restarted worker that never read
    the first 27 loss events of a partition its predecessor had not yet committed)."""
    uncommitted = [tp for tp in partitions if not consumer._committed_offset.get(tp)]
    if uncommitted:
        await consumer._thread.seek_to_beginning(
            *(TopicPartition(tp.topic, tp.partition) for tp in uncommitted)
        )
