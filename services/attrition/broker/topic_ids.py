"""Each topic's id, as the broker reports it: a topic recreated (after a memory-only broker
restarted empty, or deleted and created again) gets a new one, however many messages its new
log already holds. The broker watch compares them between looks (stream/broker_watch.py).

Topic ids (KIP-516) come with Metadata v10 and later (Apache Kafka 2.8 onwards, and Tansu);
aiokafka 0.14 speaks Metadata up to v5 only, so the v10 request and response are declared here,
field for field as the Kafka protocol defines them. A broker without them gives no ids, and the
watch goes by offsets alone."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from io import BytesIO
from typing import Any

from aiokafka.client import AIOKafkaClient
from aiokafka.errors import IncompatibleBrokerVersion
from aiokafka.protocol.abstract import AbstractType
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import (
    Boolean,
    CompactArray,
    CompactString,
    Int16,
    Int32,
    Schema,
    TaggedFields,
)

#: What a broker sends for a topic it has no id for.
NO_ID = uuid.UUID(int=0)


# The `type: ignore`s: aiokafka's protocol base classes reach mypy as Any.
class _Uuid(AbstractType[uuid.UUID]):  # type: ignore[misc]
    @classmethod
    def encode(cls, value: uuid.UUID) -> bytes:
        return value.bytes

    @classmethod
    def decode(cls, data: BytesIO) -> uuid.UUID:
        return uuid.UUID(bytes=data.read(16))


class MetadataResponse_v10(Response):  # type: ignore[misc]
    API_KEY = 3
    API_VERSION = 10
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "brokers",
            CompactArray(
                ("node_id", Int32),
                ("host", CompactString("utf-8")),
                ("port", Int32),
                ("rack", CompactString("utf-8")),
                ("tags", TaggedFields),
            ),
        ),
        ("cluster_id", CompactString("utf-8")),
        ("controller_id", Int32),
        (
            "topics",
            CompactArray(
                ("error_code", Int16),
                ("name", CompactString("utf-8")),
                ("topic_id", _Uuid),
                ("is_internal", Boolean),
                (
                    "partitions",
                    CompactArray(
                        ("error_code", Int16),
                        ("partition_index", Int32),
                        ("leader_id", Int32),
                        ("leader_epoch", Int32),
                        ("replica_nodes", CompactArray(Int32)),
                        ("isr_nodes", CompactArray(Int32)),
                        ("offline_replicas", CompactArray(Int32)),
                        ("tags", TaggedFields),
                    ),
                ),
                ("topic_authorized_operations", Int32),
                ("tags", TaggedFields),
            ),
        ),
        ("cluster_authorized_operations", Int32),
        ("tags", TaggedFields),
    )


class MetadataRequest_v10(RequestStruct):  # type: ignore[misc]
    FLEXIBLE_VERSION = True
    API_KEY = 3
    API_VERSION = 10
    RESPONSE_TYPE = MetadataResponse_v10
    SCHEMA = Schema(
        (
            "topics",
            CompactArray(
                ("topic_id", _Uuid),
                ("name", CompactString("utf-8")),
                ("tags", TaggedFields),
            ),
        ),
        ("allow_auto_topic_creation", Boolean),
        ("include_cluster_authorized_operations", Boolean),
        ("include_topic_authorized_operations", Boolean),
        ("tags", TaggedFields),
    )


class TopicIdsRequest(Request[MetadataRequest_v10]):  # type: ignore[misc]
    API_KEY = 3

    def __init__(self, topics: Iterable[str]) -> None:
        self._topics = list(topics)

    def build(self, request_struct_class: type[MetadataRequest_v10]) -> MetadataRequest_v10:
        # Never lets the question create a topic: a missing topic must stay missing.
        return request_struct_class(
            [(NO_ID, name, {}) for name in self._topics], False, False, False, {}
        )


#: The error a broker answers for a topic that does not exist.
UNKNOWN_TOPIC = 3


async def topic_ids(
    client: AIOKafkaClient, topics: Iterable[str]
) -> dict[str, uuid.UUID | None] | None:
    """Each of `topics`' id, or None for a topic the broker says does not exist; a topic the
    broker answered with another error (a leader being elected, say) is left out, as unknown.
    None in place of the whole answer when the broker reports no topic ids (an Apache Kafka
    before 2.8)."""
    node = client.get_random_node()
    if node is None:
        raise ConnectionError("no broker known yet")
    try:
        answer: Any = await client.send(node, TopicIdsRequest(topics))
    except (IncompatibleBrokerVersion, NotImplementedError):
        return None
    found: dict[str, uuid.UUID | None] = {}
    for error_code, name, topic_id, *_ in answer.topics:
        if error_code == UNKNOWN_TOPIC:
            found[name] = None
        elif error_code == 0 and topic_id == NO_ID:
            return None
        elif error_code == 0:
            found[name] = topic_id
    return found
