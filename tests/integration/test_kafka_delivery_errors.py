"""Permanent Kafka delivery errors on the real broker: a clear error, never an endless 503 or a stalled consumer.

The broker limit is the producer's `message.max.bytes` (librdkafka refuses a larger message at once with
MSG_SIZE_TOO_LARGE, exactly as a broker with a smaller `max.message.bytes` would on delivery).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from neo4j import Driver

from app.api.main import create_app
from app.api.services import Services
from app.kafka import AckProducer, DeliveryFailed
from app.runtime import build_consumer
from app.settings import Settings
from consumers.dead_letter import dlq_headers
from tests.conftest import wait_until
from tests.integration.support import produce_raw, read_topic, running_consumer

pytestmark = pytest.mark.integration
SMALL_LIMIT = {"message.max.bytes": 1000}  # librdkafka's minimum


@contextmanager
def limited_client(settings: Settings, graph: Driver) -> Iterator[TestClient]:
    producer = AckProducer(settings.kafka_bootstrap or "", extra=SMALL_LIMIT)
    services = Services(settings=settings, driver=graph, producer=producer, bootstrap=settings.kafka_bootstrap or "")
    try:
        with TestClient(create_app(services)) as client:
            client.auth = ("test-key", "")
            yield client
    finally:
        producer.close()


def test_http_intake_answers_413_when_the_broker_refuses_the_size(settings: Settings, graph: Driver) -> None:
    with limited_client(settings, graph) as client:
        small = client.post("/v1/track", json={"userId": "u", "event": "Small"})
        assert small.status_code == 200, small.text
        big = client.post("/v1/track", json={"userId": "u", "event": "Big", "properties": {"blob": "x" * 3000}})
        assert big.status_code == 413, big.text
        body = big.json()
        assert body["success"] is False and body["reason"] == "message_too_large"
        assert repr(settings.events_topic) in body["error"] and "MSG_SIZE_TOO_LARGE" in body["error"]
    assert len(read_topic(settings, settings.events_topic, expected=2, timeout=6)) == 1


def test_consumer_stops_with_a_clear_error_when_the_dlq_refuses_and_loses_nothing(settings: Settings,
                                                                                   graph: Driver) -> None:
    invalid = b'{"type": "track", "event": "No Person", "properties": {"blob": "' + b"x" * 3000 + b'"}}'
    produce_raw(settings, [("k1", invalid)])
    consumer = build_consumer(settings, graph, settings.kafka_bootstrap or "")
    consumer.dlq.close()
    consumer.dlq = AckProducer(settings.kafka_bootstrap or "", extra=SMALL_LIMIT)
    stop, errors = threading.Event(), list[BaseException]()

    def loop() -> None:
        try:
            consumer.run(stop)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        wait_until(lambda: not thread.is_alive(), timeout=60)  # stops: no endless retry
    finally:
        stop.set()
        thread.join(timeout=30)
    assert len(errors) == 1 and isinstance(errors[0], DeliveryFailed), errors
    assert errors[0].reason == "message_too_large" and repr(settings.dlq_topic) in str(errors[0])
    # The offset was not committed: a consumer whose DLQ accepts the message dead-letters it.
    with running_consumer(settings, graph):
        dead = read_topic(settings, settings.dlq_topic, expected=1, timeout=60)
    assert len(dead) == 1 and dead[0].value() == invalid
    assert dlq_headers(dead[0])["dlq.reason"] == "validation_error"
