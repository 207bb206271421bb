"""Kafka delivery errors are classified: only transient ones are retried (app/kafka.py `delivery_error`)."""

from __future__ import annotations

import pytest
from confluent_kafka import KafkaError

from app.errors import PermanentError, RetryableError
from app.kafka import DeliveryFailed, delivery_error, delivery_kind


@pytest.mark.parametrize("code", [
    KafkaError._MSG_TIMED_OUT, KafkaError._TIMED_OUT, KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN,
    KafkaError.BROKER_NOT_AVAILABLE, KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE,
    KafkaError.REQUEST_TIMED_OUT, KafkaError.NOT_ENOUGH_REPLICAS, KafkaError._QUEUE_FULL,
])
def test_transient_errors_are_retryable(code: int) -> None:
    err = delivery_error(KafkaError(code), "segment.events")
    assert delivery_kind(KafkaError(code)) == "transient"
    assert isinstance(err, RetryableError) and err.retryable
    assert "segment.events" in str(err)


@pytest.mark.parametrize(("code", "kind", "status"), [
    (KafkaError.MSG_SIZE_TOO_LARGE, "message_too_large", 413),
    (KafkaError.RECORD_LIST_TOO_LARGE, "message_too_large", 413),
    (KafkaError._UNKNOWN_TOPIC, "unknown_topic", 500),
    (KafkaError.UNKNOWN_TOPIC_OR_PART, "unknown_topic", 500),
    (KafkaError.TOPIC_AUTHORIZATION_FAILED, "not_authorized", 500),
    (KafkaError.CLUSTER_AUTHORIZATION_FAILED, "not_authorized", 500),
    (KafkaError.INVALID_CONFIG, "invalid_config", 500),
    (KafkaError._INVALID_ARG, "invalid_config", 500),
])
def test_permanent_errors_name_the_topic_and_are_not_retried(code: int, kind: str, status: int) -> None:
    err = delivery_error(KafkaError(code), "segment.events.dlq", size=2048)
    assert isinstance(err, DeliveryFailed) and isinstance(err, PermanentError) and not err.retryable
    assert (err.reason, err.http_status, err.code) == (kind, status, KafkaError(code).name())
    assert "'segment.events.dlq'" in str(err)


def test_too_large_says_how_large() -> None:
    assert "2048 bytes" in str(delivery_error(KafkaError(KafkaError.MSG_SIZE_TOO_LARGE), "t", size=2048))


def test_unknown_topic_says_what_to_do() -> None:
    assert "does not exist" in str(delivery_error(KafkaError(KafkaError._UNKNOWN_TOPIC), "t"))


def test_fatal_errors_are_permanent_even_if_retriable() -> None:
    err = KafkaError(KafkaError._FATAL, fatal=True, retriable=True)
    assert delivery_kind(err) == "rejected"
    assert isinstance(delivery_error(err, "t"), DeliveryFailed)


def test_unlisted_codes_follow_the_retriable_flag() -> None:
    assert delivery_kind(KafkaError(KafkaError._BAD_MSG, retriable=True)) == "transient"
    assert delivery_kind(KafkaError(KafkaError._BAD_MSG)) == "rejected"
