"""Commit the offsets of a finished burst now, not at the next tick of Faust's commit timer.

Faust commits what its agents acked every `broker_commit_interval` (0.25 s here). Under load
that is the right rhythm; at the end of a burst it is not: the last batches are acked when the
sinks' last write returns or the totals and alert stages' quiet flush is delivered, and then
nothing happens until the timer comes round. A committed offset is what `attrition run` waits
for before it says the warehouse holds a backfill, what a restarted worker resumes from, and
what the bench's pipeline row times; in logged runs of that row the last commit came 0.03-0.30 s
after the last write (0.1 s on average, a twentieth of the row).

So a stage that has just acked the last messages it holds asks for a commit (`request`). It is
Faust's own commit (`consumer.commit`): one at a time, and only what every reader of a partition has
acked, so nothing is committed sooner than the timer would have; it only comes sooner."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger(__name__)


class PromptCommits:
    """One per worker (`app.prompt_commits`); `request()` from any agent or timer."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._task: asyncio.Future[None] | None = None
        self._again = False

    def request(self) -> None:
        """Commit what is acked now, soon; requests made while one runs add one more round."""
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.ensure_future(self._commit())

    async def _commit(self) -> None:
        again = True
        while again and not self._app.should_stop:
            self._again = False
            consumer = self._app.consumer
            try:
                # One commit at a time, and one running now may have been taken before these
                # acks: Faust's commit would only wait for it, so wait first, then commit.
                await consumer.maybe_wait_for_commit_to_finish()
                await consumer.commit()
            except Exception as exc:  # the timer's next commit takes over
                log.warning("prompt commit failed: %r", exc)
                return
            again = self._again
