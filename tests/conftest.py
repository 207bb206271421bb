"""Shared fixtures. Integration tests get real servers started once per session (see tests/servers.py)."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from neo4j import Driver

from app.graph.schema import apply_schema
from app.kafka import ensure_topics
from app.runtime import connect
from app.settings import Settings
from tests.servers import ServerEndpoints, test_servers, wipe_refusal


def wait_until(predicate: Callable[[], object], timeout: float = 60.0, interval: float = 0.1) -> object:
    """Poll until `predicate()` is truthy (a readiness wait, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: {getattr(predicate, '__name__', '')}")
        time.sleep(interval)


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerEndpoints]:
    with test_servers(Path(tmp_path_factory.mktemp("servers"))) as found:
        yield found


@pytest.fixture(scope="session")
def base_settings(servers: ServerEndpoints, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        neo4j_uri=servers.bolt_uri,
        neo4j_user=servers.user,
        neo4j_password=servers.password,
        kafka_bootstrap=servers.bootstrap,
        JOURNEYS_WRITE_KEYS="test-key",
        JOURNEYS_SESSION_TIMEOUT_MS=2000,
        JOURNEYS_HEARTBEAT_MS=300,
        JOURNEYS_TOPIC_PARTITIONS=3,
        JOURNEYS_DATA_DIR=tmp_path_factory.mktemp("data"),
    )


@pytest.fixture(scope="session")
def driver(base_settings: Settings) -> Iterator[Driver]:
    drv = connect(base_settings, base_settings.neo4j_uri or "")
    apply_schema(drv, base_settings.neo4j_database)
    yield drv
    drv.close()


@pytest.fixture
def graph(driver: Driver, base_settings: Settings, servers: ServerEndpoints) -> Driver:
    """The driver, with an empty graph (schema kept). Refuses on servers the tests did not start unless
    JOURNEYS_TEST_ALLOW_WIPE=1 (see tests/servers.py `wipe_refusal`)."""
    refusal = wipe_refusal(started_here=servers.started_here, bolt_uri=servers.bolt_uri,
                           database=base_settings.neo4j_database, env=os.environ)
    if refusal is not None:
        pytest.fail(refusal, pytrace=False)
    driver.execute_query("MATCH (n) WHERE NOT n:SchemaVersion AND NOT n:SchemaMigration DETACH DELETE n",
                         database_=base_settings.neo4j_database)
    return driver


@pytest.fixture
def settings(base_settings: Settings, graph: Driver) -> Settings:
    """Per-test settings: fresh topics and consumer group, so tests never see each other's messages."""
    suffix = uuid.uuid4().hex[:8]
    fresh = base_settings.model_copy(update={
        "events_topic": f"segment.events.{suffix}",
        "dlq_topic": f"segment.events.dlq.{suffix}",
        "consumer_group": f"journeys-{suffix}",
    })
    ensure_topics(fresh.kafka_bootstrap or "", {fresh.events_topic: fresh.topic_partitions, fresh.dlq_topic: 1})
    return fresh
