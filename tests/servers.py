"""Real servers for integration tests: the embedded ArcadeDB Bolt server and Tansu broker on free ports,
or the official images through testcontainers when a Docker engine answers (JOURNEYS_TEST_DOCKER=1),
or servers you already run (NEO4J_URI + KAFKA_BOOTSTRAP).

The `graph` fixture empties the graph before each test. It does so only on servers started here, unless
JOURNEYS_TEST_ALLOW_WIPE=1 says the servers behind NEO4J_URI hold nothing anyone needs (`wipe_refusal`)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from app.embedded import EmbeddedStack, free_port

TEST_PASSWORD = "journeys-test-password"
ALLOW_WIPE_ENV = "JOURNEYS_TEST_ALLOW_WIPE"
_YES = {"1", "true", "yes", "on"}


@dataclass
class ServerEndpoints:
    bolt_uri: str
    bootstrap: str
    password: str
    user: str = "neo4j"
    stack: EmbeddedStack | None = None
    started_here: bool = True  # False for servers someone else runs (NEO4J_URI + KAFKA_BOOTSTRAP)


def wipe_refusal(*, started_here: bool, bolt_uri: str, database: str, env: Mapping[str, str]) -> str | None:
    """None when the test fixtures may delete every node of `database`, else why they must not.

    Servers the fixtures started (embedded, testcontainers) are theirs to wipe. Servers found through
    NEO4J_URI belong to someone else: wiping them needs JOURNEYS_TEST_ALLOW_WIPE=1.
    """
    if started_here or env.get(ALLOW_WIPE_ENV, "").strip().lower() in _YES:
        return None
    return (f"refusing to wipe database {database!r} at {bolt_uri}: NEO4J_URI points the tests at a server "
            f"they did not start, and the `graph` fixture deletes every node before each test. Set "
            f"{ALLOW_WIPE_ENV}=1 if that database holds nothing you need (point NEO4J_DATABASE at a scratch "
            f"database first if the server has one), or unset NEO4J_URI and KAFKA_BOOTSTRAP to let the tests "
            f"start their own servers.")


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
                              os.environ.get("NEO4J_PASSWORD", TEST_PASSWORD), os.environ.get("NEO4J_USER", "neo4j"),
                              started_here=False)
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
