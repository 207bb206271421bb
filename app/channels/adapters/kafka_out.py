"""Kafka adapter: each delivery as one record on an output topic for downstream execution systems.

Key = personId (one person's messages stay in order on one partition), value = the Delivery payload JSON
(ids, content, data), headers = `idempotency-key` and the lower-case `x-journeys-*` ids. Produced with
acks=all through app.kafka.AckProducer; its error classification decides: broker away / timeouts are
retryable, a refused message (too large, unknown topic, not authorised, invalid config) permanent. A re-send
after a crash produces a second record with the same key and `idempotency-key`: consumers dedupe on it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from app.channels.adapter import OutboundMessage, SendResult
from app.channels.adapters import id_headers
from app.errors import RetryableError
from app.kafka import AckProducer, DeliveryFailed, Headers, OutgoingMessage, ensure_topics

if TYPE_CHECKING:
    from app.settings import Settings


def record_for(message: OutboundMessage, topic: str) -> OutgoingMessage:
    """The record for `message`: key personId, value the payload JSON, id headers."""
    person = message.payload.get("personId") or message.recipient.get("personId")
    headers: Headers = [("idempotency-key", message.idempotency_key)]
    headers += [(name.lower(), value) for name, value in id_headers(message)]
    value = orjson.dumps(dict(message.payload), default=str, option=orjson.OPT_SORT_KEYS)
    return OutgoingMessage(topic=topic, key=str(person) if person is not None else None, value=value,
                           headers=headers)


class KafkaOutAdapter:
    """Produces to one topic and waits for the broker's acknowledgement (acks=all) before answering."""

    name = "kafka"

    def __init__(self, *, bootstrap: str, topic: str, timeout_s: float = 15.0, create_topic: bool = True,
                 partitions: int = 6, producer_config: dict[str, Any] | None = None) -> None:
        if create_topic:
            ensure_topics(bootstrap, {topic: partitions})
        self.topic = topic
        self._timeout_s = timeout_s
        self._producer = AckProducer(bootstrap, extra={"message.timeout.ms": int(timeout_s * 1000),
                                                       "enable.idempotence": True, **(producer_config or {})})

    @classmethod
    def from_settings(cls, settings: Settings) -> KafkaOutAdapter:
        """Fails fast (AdapterSettingsError) without a broker; creates the topic when allowed to."""
        bootstrap = settings.require_kafka_out(settings.kafka_bootstrap)
        return cls(bootstrap=bootstrap, topic=settings.kafka_out_topic, timeout_s=settings.kafka_out_timeout_s,
                   create_topic=settings.kafka_out_create_topic, partitions=settings.kafka_out_partitions)

    def send(self, message: OutboundMessage) -> SendResult:
        record = record_for(message, self.topic)
        try:
            self._producer.send_all_sync([record], timeout=self._timeout_s + 5)
        except DeliveryFailed as exc:
            return SendResult("permanent", error=f"{exc.code}: {exc}")
        except RetryableError as exc:
            return SendResult("retryable", error=str(exc))
        return SendResult("sent", provider_id=f"{self.topic}:{record.key}")

    def close(self) -> None:
        self._producer.close()
