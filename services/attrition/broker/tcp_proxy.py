"""A small TCP proxy that can cut every connection through it and later let them back in.

For fault tests: a worker whose broker address is the proxy loses its broker when `cut()` is
called, as a network partition looks to a client (open connections reset, new ones reset as
soon as they are accepted), and finds it again after `restore()`. Kafka clients connect to the
address the broker advertises after their first metadata request, so the broker behind the
proxy must advertise the proxy's address (`EmbeddedBroker.advertised_port`), or the clients
bypass it."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from dataclasses import dataclass, field


@dataclass
class TcpProxy:
    upstream_host: str
    upstream_port: int
    host: str = "127.0.0.1"
    port: int = 0
    connections_seen: int = 0
    _server: asyncio.Server | None = field(default=None, init=False, repr=False)
    _open: set[asyncio.StreamWriter] = field(default_factory=set, init=False, repr=False)
    _cut: bool = field(default=False, init=False, repr=False)

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._accept, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def cut(self) -> None:
        """Reset every open connection; refuse new ones until `restore()`."""
        self._cut = True
        for writer in list(self._open):
            _abort(writer)
        self._open.clear()

    def restore(self) -> None:
        self._cut = False

    @property
    def is_cut(self) -> bool:
        return self._cut

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._cut:
            _abort(writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(
                self.upstream_host, self.upstream_port
            )
        except OSError:
            _abort(writer)
            return
        self.connections_seen += 1
        self._open.update((writer, up_writer))
        try:
            await asyncio.gather(_pump(reader, up_writer), _pump(up_reader, writer))
        finally:
            for w in (writer, up_writer):
                self._open.discard(w)
                _abort(w)


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        _abort(writer)


def _abort(writer: asyncio.StreamWriter) -> None:
    # A reset (RST), as a real cut gives: abort() alone closes the socket at once but sends a
    # FIN, an orderly end, unless unread bytes happen to be waiting; a zero linger time makes
    # the kernel reset the connection whatever the buffers hold.
    with contextlib.suppress(Exception):
        sock = writer.transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(Exception):
        writer.transport.abort()
