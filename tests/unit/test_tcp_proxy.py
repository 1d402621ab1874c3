"""The fault tests' proxy: a cut resets every connection, as a network partition does, and a
restore lets new ones through again. An echo server on loopback stands behind it."""

from __future__ import annotations

import asyncio

import pytest

from attrition.broker.tcp_proxy import TcpProxy


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(1024):
        writer.write(data)
        await writer.drain()
    writer.close()


async def _round_trip(port: int, payload: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(payload)
        await writer.drain()
        return await reader.readexactly(len(payload))
    finally:
        writer.close()


async def test_a_cut_resets_open_and_new_connections_until_restored() -> None:
    upstream = await asyncio.start_server(_echo, "127.0.0.1", 0)
    proxy = await TcpProxy("127.0.0.1", upstream.sockets[0].getsockname()[1]).start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(b"ping")
        assert await reader.readexactly(4) == b"ping"

        proxy.cut()
        # A reset, not an orderly end: a client must see its connection broken.
        with pytest.raises(ConnectionResetError):
            await asyncio.wait_for(reader.read(1024), 5)
        writer.close()
        with pytest.raises((ConnectionResetError, asyncio.IncompleteReadError)):
            await asyncio.wait_for(_round_trip(proxy.port, b"during"), 5)

        proxy.restore()
        assert await asyncio.wait_for(_round_trip(proxy.port, b"after"), 5) == b"after"
        assert proxy.connections_seen == 2
    finally:
        await proxy.stop()
        upstream.close()
        await upstream.wait_closed()
