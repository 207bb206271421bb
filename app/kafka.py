"""Kafka plumbing shared by the HTTP intake and the consumer: topics, an acknowledged producer, health."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from app.errors import RetryableError

Headers = list[tuple[str, str | bytes | None]]


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
    `send_all_sync` blocks. A failed delivery raises `RetryableError` (the broker is the problem).
    """

    def __init__(self, bootstrap: str, *, extra: dict[str, Any] | None = None) -> None:
        config: dict[str, Any] = {
            "bootstrap.servers": bootstrap,
            "acks": "all",
            "linger.ms": 2,
            "message.timeout.ms": 10_000,
            "socket.timeout.ms": 5_000,
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
        while True:
            try:
                self._producer.produce(msg.topic, value=msg.value, key=msg.key, headers=msg.headers,
                                       on_delivery=on_done)
                return
            except BufferError:
                self._producer.poll(0.05)

    async def send_all(self, messages: Sequence[OutgoingMessage]) -> None:
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[None]] = []
        for msg in messages:
            fut: asyncio.Future[None] = loop.create_future()

            def done(err: KafkaError | None, _m: Message, fut: asyncio.Future[None] = fut) -> None:
                loop.call_soon_threadsafe(_settle, fut, err)

            self._produce(msg, done)
            futures.append(fut)
        await asyncio.gather(*futures)

    def send_all_sync(self, messages: Sequence[OutgoingMessage], timeout: float = 15.0) -> None:
        errors: list[KafkaError] = []
        remaining = threading.Semaphore(0)

        def done(err: KafkaError | None, _m: Message) -> None:
            if err is not None:
                errors.append(err)
            remaining.release()

        for msg in messages:
            self._produce(msg, done)
        for _ in messages:
            if not remaining.acquire(timeout=timeout):
                raise RetryableError("broker did not acknowledge in time", reason="broker")
        if errors:
            raise RetryableError(f"broker rejected a message: {errors[0].str()}", reason="broker")

    def close(self) -> None:
        self._producer.flush(5)
        self._stop.set()
        self._thread.join(timeout=2)


def _settle(fut: asyncio.Future[None], err: KafkaError | None) -> None:
    if fut.done():
        return
    if err is None:
        fut.set_result(None)
    else:
        fut.set_exception(RetryableError(f"broker rejected a message: {err.str()}", reason="broker"))
