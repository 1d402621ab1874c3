"""With uvloop, a request written to a connection the broker has just reset is a connection
error, as it is with asyncio, not a RuntimeError that kills the client's background tasks.

aiokafka checks that a connection is open and then writes to its transport. When a reset
arrives between the two, asyncio's transport drops the write (and aiokafka's close callback
fails the connection's requests), but uvloop's raises `RuntimeError: unable to perform
operation on <TCPTransport closed=True ...>; the handler is closed`. aiokafka catches only
`OSError` there (aio-libs/aiokafka#1038, open for aiokafka 0.14), so the RuntimeError escapes
into whichever task sent the request. In the worker that was once the consumer client's
metadata synchronizer: it died, every later `force_metadata_update()` waited for it forever, and
the group coordinator, which awaits one while it looks for its coordinator, never found it
again. The worker then idled with its lag stuck until something killed it (the network-cut
fault test hung this way in 5 of 28 attempts one day, and in 1 of 7 with a core kept busy);
where the write was the producer's, the worker crashed instead.

The fix turns that RuntimeError into what an `OSError` at the same place becomes: the connection
is closed as broken and the caller gets `KafkaConnectionError`, which every aiokafka caller
retries after a metadata refresh."""

from __future__ import annotations

import functools
from typing import Any

_installed = False


def install_reset_connection_write_fix() -> None:
    """Patch `AIOKafkaConnection.send` (and its SASL twin) once per process."""
    global _installed
    if _installed:
        return
    from aiokafka.conn import AIOKafkaConnection

    AIOKafkaConnection.send = _guarded(AIOKafkaConnection.send)
    AIOKafkaConnection._send_sasl_token = _guarded(AIOKafkaConnection._send_sasl_token)
    _installed = True


def _guarded(write: Any) -> Any:
    from aiokafka.conn import CloseReason
    from aiokafka.errors import KafkaConnectionError

    @functools.wraps(write)  # keeps aiokafka's method at `__wrapped__`
    def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return write(self, *args, **kwargs)
        except RuntimeError as err:
            writer = self._writer
            # Only a write to a transport that is already closed: any other RuntimeError is a
            # bug that must stay loud.
            if writer is None or not writer.transport.is_closing():
                raise
            self.close(reason=CloseReason.CONNECTION_BROKEN)
            raise KafkaConnectionError(
                f"Connection at {self._host}:{self._port} broken: {err}"
            ) from err

    return guarded
