"""Real servers for integration tests: the embedded ArcadeDB Bolt server and Tansu broker on free ports,
or the official images through testcontainers when a Docker engine answers (JOURNEYS_TEST_DOCKER=1),
or servers you already run (NEO4J_URI + KAFKA_BOOTSTRAP)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from app.embedded import EmbeddedStack, free_port

TEST_PASSWORD = "journeys-test-password"


@dataclass
class ServerEndpoints:
    bolt_uri: str
    bootstrap: str
    password: str
    user: str = "neo4j"
    stack: EmbeddedStack | None = None


def docker_available() -> bool:
    if os.environ.get("JOURNEYS_TEST_DOCKER") != "1" or shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0


@contextmanager
def start_embedded(data_dir: Path) -> Iterator[EmbeddedStack]:
    stack = EmbeddedStack(data_dir=data_dir, password=TEST_PASSWORD, bolt_port=free_port(),
                          kafka_port=free_port(), http_port=free_port())
    with stack:
        yield stack


@contextmanager
def test_servers(data_dir: Path) -> Iterator[ServerEndpoints]:
    if os.environ.get("NEO4J_URI") and os.environ.get("KAFKA_BOOTSTRAP"):
        yield ServerEndpoints(os.environ["NEO4J_URI"], os.environ["KAFKA_BOOTSTRAP"],
                          os.environ.get("NEO4J_PASSWORD", TEST_PASSWORD), os.environ.get("NEO4J_USER", "neo4j"))
        return
    if docker_available():
        from testcontainers.kafka import KafkaContainer
        from testcontainers.neo4j import Neo4jContainer

        with Neo4jContainer("neo4j:5", password=TEST_PASSWORD) as neo, \
                KafkaContainer("apache/kafka:3.8.0").with_kraft() as kafka:
            yield ServerEndpoints(neo.get_connection_url(), kafka.get_bootstrap_server(), TEST_PASSWORD)
        return
    with start_embedded(data_dir) as stack:
        yield ServerEndpoints(stack.bolt_uri, stack.kafka_bootstrap, TEST_PASSWORD, stack=stack)
