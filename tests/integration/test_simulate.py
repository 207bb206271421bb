"""What-if replay on the real servers: people and events seeded through the real pipeline (Kafka, ingest, the
engine with the constraint resolver), published journeys and constraints; a draft is replayed over the window
(function, API, CLI) and compared with what the live version did; the graph is byte-for-byte unchanged and the
same events give hash-equal results."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from neo4j import Driver
from typer.testing import CliRunner

from app.api.main import create_app
from app.cli import app as cli_app
from app.clock import FakeClock
from app.runtime import make_services
from app.settings import Settings, get_settings
from app.simulate.replay import replay
from app.simulate.source import SimulationSource, simulate
from graph_models.journey import JourneyDefinition
from graph_models.principal import ApiKey
from graph_models.simulation import SimulationResult
from tests.integration.journey_support import harness, publish
from tests.integration.support import rows
from tests.integration.test_resolver import ev, promo_journey, publish_constraints

pytestmark = pytest.mark.integration

START = dt.datetime(2026, 3, 3, 15, 0, tzinfo=dt.UTC)
T0 = int(START.timestamp() * 1000)
H = 3_600_000
KEY = "sim-key-0123456789"


def snapshot(driver: Driver, settings: Settings) -> dict[str, Any]:
    """Counts of every label and relationship type, and a checksum of the properties of everything the live
    runtime writes (people included: a lock would bump `_rev`)."""
    labels = rows(driver, settings, "MATCH (n) UNWIND labels(n) AS label RETURN label, count(*) AS n ORDER BY label")
    types = rows(driver, settings, "MATCH ()-[r]->() RETURN type(r) AS type, count(*) AS n ORDER BY type")
    digest = hashlib.sha256()
    for label, key in (("Person", "personId"), ("Enrollment", "enrollmentId"), ("ActionRequest", "actionId"),
                       ("Decision", "decisionId"), ("Delivery", "deliveryId"), ("Event", "messageId")):
        found = rows(driver, settings, f"MATCH (n:{label}) RETURN properties(n) AS p ORDER BY n.{key}")
        digest.update(json.dumps([r["p"] for r in found], sort_keys=True, default=str).encode())
    return {"labels": labels, "types": types, "checksum": digest.hexdigest()}


def draft_definition() -> JourneyDefinition:
    """The live promo journey moved to push, after an hour's wait, with a purchase goal."""
    return JourneyDefinition.model_validate({
        "id": "promo", "name": "promo", "entry": {"event": "Promo", "reentry": "always"}, "start": "pause",
        "steps": [{"id": "pause", "type": "wait", "duration": "1h", "next": "send"},
                  {"id": "send", "type": "action", "channel": "push", "template": "cart_reminder_push",
                   "next": "done"},
                  {"id": "done", "type": "end"}],
        "goals": [{"id": "bought", "event": "Order Completed", "within": "1d"}]})


@pytest.fixture
def seeded(settings: Settings, graph: Driver) -> FakeClock:
    clock = FakeClock(T0)
    publish_constraints(graph, settings, clock, {
        "caps": [{"id": "email-daily", "max": 1, "window": "1d", "scope": {"channel": "email"}}],
        "priorities": {"rival": 90, "promo": 40}})
    publish(graph, settings, promo_journey(), clock)
    publish(graph, settings, promo_journey("rival", entry="Rival"), clock)
    with harness(settings, graph, clock) as h:
        h.send(ev("r1", 0, "Rival", userId="ann"),
               ev("b1", 5, "Promo", userId="bob"),
               ev("a1", 10, "Promo", userId="ann"),  # the rival's email used ann's daily cap
               ev("i1", 12, kind="identify", userId="cy", traits={"email_opt_in": False}),
               ev("c1", 15, "Promo", userId="cy"),
               ev("o1", 30, "Order Completed", userId="bob"))
        clock.advance(hours=3)
    got = sorted((r["journey"], r["status"]) for r in rows(graph, settings, """
        MATCH (a:ActionRequest) RETURN a.journeyId AS journey, a.status AS status"""))
    assert got == [("promo", "capped"), ("promo", "chosen"), ("promo", "no_consent"), ("rival", "chosen")]
    return clock


@pytest.fixture
def client(settings: Settings, graph: Driver, seeded: FakeClock) -> Iterator[TestClient]:
    keyed = settings.model_copy(update={"api_keys": [ApiKey("ada", "author", KEY)]})
    services = make_services(keyed, graph, keyed.kafka_bootstrap or "")
    services.clock = seeded
    try:
        with TestClient(create_app(services)) as test_client:
            yield test_client
    finally:
        services.producer.close()


def test_replay_the_live_version_matches_live(settings: Settings, graph: Driver, seeded: FakeClock) -> None:
    before = snapshot(graph, settings)
    live_definition = promo_journey()
    result = simulate(graph, settings.neo4j_database, live_definition, T0 - H, T0 + 24 * H)
    assert result.liveVersion == 1 and result.competing == ["rival@1"]
    assert result.people == 3 and result.events == 6
    assert result.constraintVersion.startswith("constraints/default@")
    # the same definition over the same events under the same constraints does what the live version did
    assert result.simulated.model_dump() == result.live.model_dump()
    assert result.live.entries == 3 and result.live.messages == {"email": 1}
    assert result.live.capsHit == {"email-daily": 1} and result.live.blocked == {"no_consent": 1}
    assert result.competingSimulated["rival@1"].messages == {"email": 1}
    # one person per page (several read transactions while the ids stream): the same inputs, the same hash
    seen: list[tuple[int, int]] = []
    paged = SimulationSource(graph, settings.neo4j_database, page_size=1).load(
        live_definition, T0 - H, T0 + 24 * H, lambda done, total: seen.append((done, total)))
    assert replay(paged).resultHash == result.resultHash
    assert seen[-1] == (3, 3) and len(seen) == 3
    assert snapshot(graph, settings) == before


def test_draft_against_live_isolated_and_hash_equal(settings: Settings, graph: Driver, seeded: FakeClock,
                                                    client: TestClient, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot(graph, settings)
    draft = draft_definition()
    first = simulate(graph, settings.neo4j_database, draft, T0 - H, T0 + 24 * H)
    second = simulate(graph, settings.neo4j_database, draft, T0 - H, T0 + 24 * H)
    assert first.resultHash == second.resultHash and len(first.resultHash) == 64
    assert first.canonical_json() == second.canonical_json()
    sim, live = first.simulated, first.live
    assert first.conversionBasis == "goals" and first.timersFired == 3
    assert (sim.entries, sim.messages, sim.capsHit, sim.blocked, sim.completed) == (3, {"push": 3}, {}, {}, 3)
    assert (live.entries, live.messages, live.capsHit, live.blocked) == (
        3, {"email": 1}, {"email-daily": 1}, {"no_consent": 1})
    assert sim.conversions == {"bought": 1} and live.conversions == {"bought": 1}
    # a window that ends before the hour's wait: the draft's people are still waiting
    short = simulate(graph, settings.neo4j_database, draft, T0 - H, T0 + 30 * 60_000)
    assert short.simulated.inFlight == 3 and short.simulated.messages == {}

    # the API: same hash; the Markdown report with its chart inlined
    auth = {"Authorization": f"Bearer {KEY}"}
    window = {"from": str(T0 - H), "to": START.replace(day=4).isoformat()}
    got = client.post("/v1/journeys/simulate", params=window, json=draft.model_dump(mode="json", by_alias=True,
                                                                                     exclude_none=True),
                      headers=auth)
    assert got.status_code == 200, got.text
    assert SimulationResult.model_validate(got.json()).resultHash == first.resultHash
    report = client.post("/v1/journeys/simulate", params={**window, "format": "markdown"},
                         content=yaml.safe_dump(draft.model_dump(mode="json", by_alias=True, exclude_none=True)),
                         headers={**auth, "Content-Type": "application/yaml"})
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/markdown")
    assert "data:image/svg+xml;base64," in report.text and first.resultHash in report.text
    assert client.post("/v1/journeys/simulate", params=window, json={"id": "x"}, headers=auth).status_code == 400
    assert client.post("/v1/journeys/simulate", params={"from": "2026-03-04", "to": "2026-03-03"},
                       json={}, headers=auth).status_code == 400
    assert client.post("/v1/journeys/simulate", params=window, json={}).status_code == 401

    # the CLI: report and chart written, JSON with the same hash
    for name, value in {"NEO4J_URI": settings.neo4j_uri or "", "NEO4J_USER": settings.neo4j_user,
                        "NEO4J_PASSWORD": settings.neo4j_password, "NEO4J_DATABASE": settings.neo4j_database}.items():
        monkeypatch.setenv(name, value)
    file = tmp_path / "draft.yaml"
    file.write_text(yaml.safe_dump(draft.model_dump(mode="json", by_alias=True, exclude_none=True)))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        out = tmp_path / "report.md"
        shown = runner.invoke(cli_app, ["journey", "simulate", str(file), "--from", str(T0 - H),
                                        "--to", "2026-03-04T15:00:00Z", "--out", str(out)])
        assert shown.exit_code == 0, shown.output
        assert "draft (replayed)" in shown.output
        assert first.resultHash in out.read_text() and "![draft vs live](report.svg)" in out.read_text()
        assert (tmp_path / "report.svg").read_text().startswith("<svg")
        as_json = runner.invoke(cli_app, ["journey", "simulate", str(file), "--from", str(T0 - H),
                                          "--to", str(T0 + 24 * H), "--json"])
        assert as_json.exit_code == 0, as_json.output
        assert json.loads(as_json.output)["resultHash"] == first.resultHash
    finally:
        get_settings.cache_clear()
    assert snapshot(graph, settings) == before
