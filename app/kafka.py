"""Kafka plumbing shared by the HTTP intake and the consumer: topics, an acknowledged producer, health."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from app.errors import PermanentError, RetryableError

log = logging.getLogger("journeys.kafka")

Headers = list[tuple[str, str | bytes | None]]


def _codes(*names: str) -> frozenset[int]:
    """KafkaError codes by name (names this client version lacks are skipped)."""
    return frozenset(code for name in names if isinstance(code := getattr(KafkaError, name, None), int))


# Delivery errors that retrying can fix: the broker is away, busy, or electing a leader.
TRANSIENT_CODES = _codes(
    "_MSG_TIMED_OUT", "_TIMED_OUT", "_TIMED_OUT_QUEUE", "_TRANSPORT", "_ALL_BROKERS_DOWN", "_RESOLVE",
    "_QUEUE_FULL", "_PURGE_QUEUE", "_PURGE_INFLIGHT", "_NODE_UPDATE", "_WAIT_COORD", "_IN_PROGRESS",
    "_PREV_IN_PROGRESS", "_INTR", "BROKER_NOT_AVAILABLE", "NOT_LEADER_FOR_PARTITION", "LEADER_NOT_AVAILABLE",
    "REQUEST_TIMED_OUT", "NOT_ENOUGH_REPLICAS", "NOT_ENOUGH_REPLICAS_AFTER_APPEND", "NETWORK_EXCEPTION",
    "KAFKA_STORAGE_ERROR", "THROTTLING_QUOTA_EXCEEDED", "NOT_CONTROLLER", "UNKNOWN_LEADER_EPOCH",
    "FENCED_LEADER_EPOCH", "OFFSET_NOT_AVAILABLE",
)
# Permanent ones, by kind: retrying gives the same answer until someone changes the broker or the config.
PERMANENT_CODES: dict[str, frozenset[int]] = {
    "message_too_large": _codes("MSG_SIZE_TOO_LARGE", "RECORD_LIST_TOO_LARGE"),
    "unknown_topic": _codes("_UNKNOWN_TOPIC", "UNKNOWN_TOPIC_OR_PART", "_UNKNOWN_PARTITION", "TOPIC_EXCEPTION"),
    "not_authorized": _codes("TOPIC_AUTHORIZATION_FAILED", "CLUSTER_AUTHORIZATION_FAILED",
                             "TRANSACTIONAL_ID_AUTHORIZATION_FAILED", "SASL_AUTHENTICATION_FAILED",
                             "_AUTHENTICATION"),
    "invalid_config": _codes("INVALID_CONFIG", "_INVALID_ARG", "INVALID_REQUIRED_ACKS", "UNSUPPORTED_VERSION",
                             "_UNSUPPORTED_FEATURE", "_INVALID_TYPE", "POLICY_VIOLATION"),
}


class DeliveryFailed(PermanentError):
    """The broker refused a message for good (too large, unknown topic, not authorised, invalid config).

    `reason` is the kind (`message_too_large`, `unknown_topic`, `not_authorized`, `invalid_config`,
    `rejected`), `code` the KafkaError name, `http_status` what the HTTP intake answers (413 or 500).
    """

    def __init__(self, message: str, *, reason: str, topic: str, code: str) -> None:
        super().__init__(message, reason=reason)
        self.topic = topic
        self.code = code
        self.http_status = 413 if reason == "message_too_large" else 500


def delivery_kind(err: KafkaError) -> str:
    """`transient`, or the kind of permanent failure (a key of PERMANENT_CODES, or `rejected`)."""
    code = err.code()
    for kind, codes in PERMANENT_CODES.items():
        if code in codes:
            return kind
    if err.fatal():
        return "rejected"
    if code in TRANSIENT_CODES or err.retriable():
        return "transient"
    return "rejected"


def delivery_error(err: KafkaError, topic: str, size: int | None = None) -> RetryableError | DeliveryFailed:
    """The error to raise for a failed delivery to `topic`: RetryableError only when retrying can help."""
    kind = delivery_kind(err)
    detail = f"{err.name()}: {err.str()}"
    if kind == "transient":
        return RetryableError(f"broker unavailable for topic {topic!r} ({detail})", reason="broker")
    if kind == "message_too_large":
        what = f"a message of {size} bytes" if size is not None else "the message"
        message = f"the broker or producer limit refuses {what} for topic {topic!r} ({detail})"
    elif kind == "unknown_topic":
        message = (f"topic {topic!r} does not exist on the broker, which does not create it automatically: "
                   f"create it (`journeys up` / `journeys consume` do) or fix the topic setting ({detail})")
    elif kind == "not_authorized":
        message = f"not authorised to write to topic {topic!r}: grant this client write access ({detail})"
    elif kind == "invalid_config":
        message = f"the producer or broker configuration is invalid for topic {topic!r} ({detail})"
    else:
        message = f"the broker rejected a message for topic {topic!r} ({detail})"
    return DeliveryFailed(message, reason=kind, topic=topic, code=err.name())


def ensure_topics(bootstrap: str, topics: dict[str, int], timeout: float = 15.0) -> None:
    """Create the topics that do not exist yet (name → partitions); existing ones are left alone."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    existing = admin.list_topics(timeout=timeout).topics
    wanted = [NewTopic(name, num_partitions=n, replication_factor=1) for name, n in topics.items()
              if name not in existing]
    if not wanted:
        return
    for name, fut in admin.create_topics(wanted, operation_timeout=timeout).items():
        try:
            fut.result(timeout=timeout)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise RetryableError(f"could not create topic {name}: {exc}", reason="broker") from exc


def broker_status(bootstrap: str, timeout: float = 3.0) -> tuple[bool, str]:
    """(reachable, detail) from a metadata request."""
    try:
        meta = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=timeout)
        return True, f"{len(meta.brokers)} broker(s), {len(meta.topics)} topic(s)"
    except KafkaException as exc:
        return False, str(exc)


@dataclass(frozen=True)
class OutgoingMessage:
    topic: str
    key: str | None
    value: bytes
    headers: Headers


class AckProducer:
    """A confluent-kafka producer whose sends complete only when the broker acknowledged them.

    A background thread serves delivery callbacks; `send_all` awaits every delivery from asyncio,
    `send_all_sync` blocks. A failed delivery raises `RetryableError` when retrying can help (timeouts,
    broker away, leader moving) and `DeliveryFailed` (a PermanentError) when it cannot (`delivery_error`).
    """

    def __init__(self, bootstrap: str, *, extra: dict[str, Any] | None = None) -> None:
        config: dict[str, Any] = {
            "bootstrap.servers": bootstrap,
            "acks": "all",
            "linger.ms": 2,
            "message.timeout.ms": 10_000,
            "socket.timeout.ms": 5_000,
            # Fail a message to a topic the broker says does not exist as `_UNKNOWN_TOPIC` (permanent)
            # before `message.timeout.ms` turns it into a timeout (transient, retried forever).
            "topic.metadata.propagation.max.ms": 5_000,
            **(extra or {}),
        }
        self._producer = Producer(config)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="kafka-delivery", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            self._producer.poll(0.05)

    def _produce(self, msg: OutgoingMessage, on_done: Any) -> None:
        """Queue `msg`; a refusal at once (too large for `message.max.bytes`, a topic known not to exist)
        raises what `delivery_error` says."""
        while True:
            try:
                self._producer.produce(msg.topic, value=msg.value, key=msg.key, headers=msg.headers,
                                       on_delivery=on_done)
                return
            except BufferError:
                self._producer.poll(0.05)
            except KafkaException as exc:
                raise _logged(delivery_error(exc.args[0], msg.topic, len(msg.value))) from exc

    async def send_all(self, messages: Sequence[OutgoingMessage]) -> None:
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[None]] = []
        try:
            for msg in messages:
                fut: asyncio.Future[None] = loop.create_future()

                def done(err: KafkaError | None, m: Message, fut: asyncio.Future[None] = fut,
                         size: int = len(msg.value)) -> None:
                    loop.call_soon_threadsafe(_settle, fut, err, m.topic() or "", size)

                self._produce(msg, done)
                futures.append(fut)
        except BaseException:
            await asyncio.gather(*futures, return_exceptions=True)  # settle what was queued, then raise
            raise
        await asyncio.gather(*futures)

    def send_all_sync(self, messages: Sequence[OutgoingMessage], timeout: float = 15.0) -> None:
        """Send and wait for every acknowledgement; raises RetryableError or DeliveryFailed (see the class)."""
        errors: list[RetryableError | DeliveryFailed] = []
        remaining = threading.Semaphore(0)

        def done(err: KafkaError | None, m: Message) -> None:
            if err is not None:
                errors.append(delivery_error(err, m.topic() or "", len(m.value() or b"")))
            remaining.release()

        for msg in messages:
            self._produce(msg, done)
        for _ in messages:
            if not remaining.acquire(timeout=timeout):
                raise RetryableError("broker did not acknowledge in time", reason="broker")
        if errors:
            permanent = [e for e in errors if isinstance(e, DeliveryFailed)]
            raise _logged(permanent[0] if permanent else errors[0])

    def close(self) -> None:
        self._producer.flush(5)
        self._stop.set()
        self._thread.join(timeout=2)


def _logged(error: RetryableError | DeliveryFailed) -> RetryableError | DeliveryFailed:
    if isinstance(error, DeliveryFailed):
        log.error("permanent Kafka delivery failure (%s, %s): %s", error.reason, error.code, error)
    return error


def _settle(fut: asyncio.Future[None], err: KafkaError | None, topic: str, size: int) -> None:
    if fut.done():
        return
    if err is None:
        fut.set_result(None)
    else:
        fut.set_exception(_logged(delivery_error(err, topic, size)))
