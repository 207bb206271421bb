"""Prometheus metrics: one registry (`REGISTRY`) of process counters and histograms, and gauges computed at
scrape time from cheap graph reads (`render`). Exposed at `GET /metrics` (app/api/metrics.py)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from neo4j import Driver
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from app.graph.queries import query
from app.journeys.engine import BUCKET_MS

log = logging.getLogger("journeys.metrics")
REGISTRY = CollectorRegistry(auto_describe=True)
MAX_TIMER_BUCKETS = 1440  # the pending-timer gauge looks at most a day of minute buckets behind now

CONSUMED = Counter("journeys_consumer_events", "Events consumed from the intake topic (written, duplicates, "
                   "dead-lettered)", registry=REGISTRY)
BATCHES = Counter("journeys_consumer_batches", "Batches the ingest consumer finished", registry=REGISTRY)
BATCH_SECONDS = Histogram("journeys_consumer_batch_seconds", "Time to write and commit one consumed batch",
                          buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30), registry=REGISTRY)
DEAD_LETTERS = Counter("journeys_dead_letters", "Events sent to the dead-letter topic", registry=REGISTRY)
DECISION_SECONDS = Histogram("journeys_decision_seconds", "Resolver time to decide one moment's action requests",
                             buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
                             registry=REGISTRY)
DELIVERIES = Counter("journeys_deliveries", "Delivery attempts recorded, by channel and resulting status "
                     "(sent, retrying, dead, held)", ["channel", "status"], registry=REGISTRY)
CALLBACKS = Counter("journeys_delivery_callbacks", "Delivery callback events recorded, by type", ["type"],
                    registry=REGISTRY)
MEASUREMENTS = Counter("journeys_measurements_published", "Measurement records the relay published",
                       registry=REGISTRY)


def count_deliveries(deliveries: Iterable[Mapping[str, Any]], recorded: Mapping[str, str]) -> None:
    """The dispatcher recorded these claimed deliveries (`recorded`: deliveryId -> new status)."""
    for d in deliveries:
        status = recorded.get(str(d.get("deliveryId")))
        if status is not None:
            DELIVERIES.labels(str(d.get("channel")), status).inc()


def observe_batch(events: int, seconds: float, dead_letters: int) -> None:
    """One finished consumer batch."""
    CONSUMED.inc(events)
    BATCHES.inc()
    BATCH_SECONDS.observe(seconds)
    if dead_letters > 0:
        DEAD_LETTERS.inc(dead_letters)


class GraphGauges(Collector):
    """Gauges read at scrape time: due-but-unfired timers and the measurement outbox backlog."""

    def __init__(self, driver: Driver, database: str, now_ms: int) -> None:
        self.driver = driver
        self.database = database
        self.now_ms = now_ms

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from app.measurement.relay import pending  # the relay imports Kafka; only needed at scrape time

        timers = GaugeMetricFamily("journeys_timers_pending", "Journey timers due and not fired yet")
        outbox = GaugeMetricFamily("journeys_measurement_outbox_records", "Measurement records waiting for the relay")
        try:
            timers.add_metric([], self._timers_due())
            outbox.add_metric([], pending(self.driver, self.database)["records"])
        except Exception as exc:  # a scrape never fails because the graph is away
            log.warning("metrics: graph gauges unavailable: %s", exc)
            return
        yield timers
        yield outbox

    def _timers_due(self) -> int:
        records, _, _ = self.driver.execute_query(query("journeys/engine_cursor"), database_=self.database)
        cursor = records[0]["bucket"] if records else None
        if cursor is None:
            return 0
        now_bucket = self.now_ms // BUCKET_MS
        start = max(int(cursor), now_bucket - MAX_TIMER_BUCKETS)
        buckets = list(range(start, now_bucket + 1))
        records, _, _ = self.driver.execute_query(query("measurement/metrics_timers_due"), buckets=buckets,
                                                  nowMs=self.now_ms, database_=self.database)
        return int(records[0]["due"]) if records else 0


class ConsumerLag(Collector):
    """Lag per partition from the broker's high watermarks minus the group's committed offsets. Only where
    the broker reports true high watermarks (JOURNEYS_METRICS_CONSUMER_LAG); the embedded Tansu does not."""

    def __init__(self, bootstrap: str, group: str, topic: str) -> None:
        self.bootstrap, self.group, self.topic = bootstrap, group, topic

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from confluent_kafka import Consumer, TopicPartition

        lag = GaugeMetricFamily("journeys_consumer_lag", "High watermark minus committed offset", labels=["partition"])
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": self.group,
                             "enable.auto.commit": False})
        try:
            meta = consumer.list_topics(self.topic, timeout=3)
            parts = [TopicPartition(self.topic, p) for p in sorted(meta.topics[self.topic].partitions)]
            for tp in consumer.committed(parts, timeout=3):
                _low, high = consumer.get_watermark_offsets(tp, timeout=3)
                lag.add_metric([str(tp.partition)], max(0, high - tp.offset) if tp.offset >= 0 else high)
        except Exception as exc:
            log.warning("metrics: consumer lag unavailable: %s", exc)
            return
        finally:
            consumer.close()
        yield lag


def render(driver: Driver | None = None, database: str = "neo4j", now_ms: int = 0,
           lag: dict[str, Any] | None = None) -> bytes:
    """The exposition text: the process registry, then the scrape-time gauges."""
    out = generate_latest(REGISTRY)
    scrape = CollectorRegistry(auto_describe=False)
    if driver is not None:
        scrape.register(GraphGauges(driver, database, now_ms))
    if lag is not None:
        scrape.register(ConsumerLag(lag["bootstrap"], lag["group"], lag["topic"]))
    return out + generate_latest(scrape)
