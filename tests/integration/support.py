"""Helpers for integration tests: run a consumer in a thread, produce raw events, read the DLQ."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from confluent_kafka import Consumer, Message
from fastapi.testclient import TestClient
from neo4j import Driver

from app.api.main import create_app
from app.runtime import build_consumer, make_services
from app.settings import Settings
from consumers.ingest import BatchHook, IngestConsumer


@contextmanager
def running_consumer(settings: Settings, driver: Driver, *, on_batch: BatchHook | None = None
                     ) -> Iterator[IngestConsumer]:
    consumer = build_consumer(settings, driver, settings.kafka_bootstrap or "", on_batch=on_batch)
    stop = threading.Event()
    errors: list[BaseException] = []

    def loop() -> None:
        try:
            consumer.run(stop)
        except BaseException as exc:  # surfaced to the test below
            errors.append(exc)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield consumer
    finally:
        stop.set()
        thread.join(timeout=30)
    if errors:
        raise errors[0]


@contextmanager
def api_client(settings: Settings, driver: Driver) -> Iterator[TestClient]:
    services = make_services(settings, driver, settings.kafka_bootstrap or "")
    try:
        with TestClient(create_app(services)) as client:
            client.auth = ("test-key", "")
            yield client
    finally:
        services.producer.close()


def produce_raw(settings: Settings, values: list[tuple[str | None, bytes]], topic: str | None = None) -> None:
    from app.kafka import AckProducer, OutgoingMessage

    producer = AckProducer(settings.kafka_bootstrap or "")
    try:
        producer.send_all_sync([
            OutgoingMessage(topic or settings.events_topic, key, value, [("origin", b"test")])
            for key, value in values
        ])
    finally:
        producer.close()


def produce_events(settings: Settings, events: list[dict[str, Any]]) -> None:
    produce_raw(settings, [(e.get("userId") or e.get("anonymousId"), json.dumps(e).encode()) for e in events])


def read_topic(settings: Settings, topic: str, expected: int, timeout: float = 60.0) -> list[Message]:
    consumer = Consumer({
        "bootstrap.servers": settings.kafka_bootstrap, "group.id": f"reader-{uuid.uuid4().hex[:6]}",
        "auto.offset.reset": "earliest", "enable.auto.commit": False,
        "session.timeout.ms": 2000, "heartbeat.interval.ms": 300,
    })
    consumer.subscribe([topic])
    out: list[Message] = []
    deadline = time.monotonic() + timeout
    try:
        while len(out) < expected and time.monotonic() < deadline:
            out += [m for m in consumer.consume(100, 0.5) if m.error() is None]
    finally:
        consumer.close()
    return out


def scalar(driver: Driver, settings: Settings, cypher: str, **params: Any) -> Any:
    records, _, _ = driver.execute_query(cypher, params, database_=settings.neo4j_database)
    return records[0][0] if records else None


def rows(driver: Driver, settings: Settings, cypher: str, **params: Any) -> list[dict[str, Any]]:
    records, _, _ = driver.execute_query(cypher, params, database_=settings.neo4j_database)
    return [r.data() for r in records]


def event_count(driver: Driver, settings: Settings) -> int:
    return int(scalar(driver, settings, "MATCH (e:Event) RETURN count(e)"))


def mid() -> str:
    return str(uuid.uuid4())
