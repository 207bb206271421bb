"""A small run of the soak (bench/soak.py): consumer processes killed with SIGKILL mid-stream and restarted,
the graph server restarted, two consumers in one group with identity merges across partitions; then every
produced event is in the graph once, nothing is duplicated, no timer is lost, only the invalid events are
dead-lettered."""

from __future__ import annotations

import pytest
from neo4j import Driver

from app.settings import Settings
from bench.soak import SoakConfig, print_report, run_soak
from tests.servers import ServerEndpoints

pytestmark = pytest.mark.integration


def test_soak_kills_graph_restart_two_consumers(settings: Settings, graph: Driver, servers: ServerEndpoints) -> None:
    # No broker restart here: the embedded broker keeps messages in memory and other tests share it.
    cfg = SoakConfig(events=3000, kills=3, graph_restart=True, broker_restart=False, two_consumers=True,
                     timeout_s=180)
    report = run_soak(settings, graph, servers.stack, cfg)
    print_report(report)
    assert report.violations == []
    assert report.counts["events in graph"] == 3000
    assert report.counts["SIGKILLs"] == 3
