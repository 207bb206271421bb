"""Failures: the graph goes away and comes back; the consumer process is killed and restarted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from neo4j import Driver

from app.embedded import arcadedb_process, free_port
from app.graph.schema import apply_schema
from app.runtime import connect
from app.settings import Settings
from tests.conftest import wait_until
from tests.integration.support import event_count, produce_events, running_consumer, scalar
from tests.servers import TEST_PASSWORD, ServerEndpoints

pytestmark = pytest.mark.integration


def events(prefix: str, n: int, users: int = 50) -> list[dict[str, object]]:
    return [
        {"type": "track", "messageId": f"{prefix}-{i}", "userId": f"user-{i % users}", "event": "Tick",
         "timestamp": f"2026-03-01T10:{(i // 60) % 60:02d}:{i % 60:02d}Z", "properties": {"i": i}}
        for i in range(n)
    ]


def test_graph_outage_pauses_then_recovers_losing_nothing(settings: Settings, tmp_path: Path,
                                                          servers: ServerEndpoints) -> None:
    if servers.stack is None:
        pytest.skip("needs the embedded graph server, which this test stops and starts")
    port, http = free_port(), free_port()

    def graph_server() -> object:
        proc = arcadedb_process(tmp_path, bolt_port=port, http_port=http, password=TEST_PASSWORD)
        proc.start()
        return proc

    server = graph_server()
    local = settings.model_copy(update={"neo4j_uri": f"bolt://127.0.0.1:{port}"})
    driver = connect(local, local.neo4j_uri or "")
    try:
        apply_schema(driver, local.neo4j_database)
        with running_consumer(local, driver) as consumer:
            produce_events(local, events("before", 20))
            wait_until(lambda: consumer.stats.consumed == 20)
            server.stop()  # type: ignore[attr-defined]
            produce_events(local, events("during", 30))
            wait_until(lambda: consumer.stats.graph_retries > 0 and consumer.stats.paused_now)
            assert consumer.stats.consumed == 20  # nothing committed while the graph is down
            server = graph_server()
            wait_until(lambda: consumer.stats.consumed == 50, timeout=120)
            assert not consumer.stats.paused_now
        assert event_count(driver, local) == 50
        assert scalar(driver, local, "MATCH ()-[r:PERFORMED]->() RETURN count(r)") == 50
    finally:
        driver.close()
        server.stop()  # type: ignore[attr-defined]


def test_consumer_killed_mid_stream_restarts_without_loss_or_duplicates(settings: Settings, graph: Driver,
                                                                        tmp_path: Path) -> None:
    total = 3000
    produce_events(settings, events("crash", total, users=300))
    env = {
        **os.environ,
        "NEO4J_URI": settings.neo4j_uri or "", "NEO4J_PASSWORD": settings.neo4j_password,
        "KAFKA_BOOTSTRAP": settings.kafka_bootstrap or "",
        "JOURNEYS_EVENTS_TOPIC": settings.events_topic, "JOURNEYS_DLQ_TOPIC": settings.dlq_topic,
        "JOURNEYS_CONSUMER_GROUP": settings.consumer_group, "JOURNEYS_BATCH_SIZE": "100",
        "JOURNEYS_SESSION_TIMEOUT_MS": "2000", "JOURNEYS_HEARTBEAT_MS": "300",
        "JOURNEYS_DATA_DIR": str(tmp_path),
    }
    argv = [sys.executable, "-m", "app.cli", "consume"]
    log = (tmp_path / "consume.log").open("wb")
    first = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: event_count(graph, settings) >= 300, timeout=120)
    finally:
        first.send_signal(signal.SIGKILL)  # a crash: no clean shutdown, no final commit
        first.wait(timeout=30)
    written_at_crash = event_count(graph, settings)
    assert written_at_crash < total
    second = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: event_count(graph, settings) == total, timeout=180)
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 0
    assert scalar(graph, settings, "MATCH ()-[r:PERFORMED]->() RETURN count(r)") == total
    assert scalar(graph, settings, "MATCH ()-[r:IN_SESSION]->() RETURN count(r)") == total
    assert scalar(graph, settings, "MATCH (p:Person) RETURN count(p)") == 300
    assert scalar(graph, settings, "MATCH (s:Session) RETURN sum(s.eventCount)") == total
