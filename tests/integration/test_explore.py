"""The graph explorer on the real servers: its read routes (read-only Cypher refused writes, the debug
catalogue, a decision's neighbourhood, deliveries) and the page itself in headless Chromium (Debian's
package) against a uvicorn serving a person and a decision made by the real pipeline: the screenshot must
show a drawn graph and the DOM the timeline rows."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import tempfile
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from neo4j import Driver

from app.api.services import Services
from app.clock import FakeClock
from app.embedded import free_port
from app.runtime import ApiServer, build_consumer, make_engine, make_services
from app.settings import Settings
from graph_models.journey import JourneyDefinition
from graph_models.principal import ApiKey
from tests.conftest import wait_until
from tests.integration.journey_support import publish
from tests.integration.support import produce_events, scalar

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
START_MS = 1_772_359_200_000  # 2026-03-01T10:00:00Z
KEY = "key-ada"


def at(minutes: float) -> str:
    import datetime as dt
    return (dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC) + dt.timedelta(minutes=minutes)).isoformat()


def promo(journey_id: str, template: str) -> JourneyDefinition:
    return JourneyDefinition.model_validate({
        "id": journey_id, "name": journey_id, "entry": {"event": "Promo Viewed", "reentry": "always"},
        "start": "send",
        "steps": [{"id": "send", "type": "action", "channel": "email", "template": template, "next": "done"},
                  {"id": "done", "type": "end"}]})


@dataclass
class Seeded:
    services: Services
    decision: str


@pytest.fixture
def seeded(settings: Settings, graph: Driver) -> Iterator[Seeded]:
    """ann: two journeys compete for her `Promo Viewed` (one decision, two candidates, one delivery)."""
    clock = FakeClock(START_MS)
    publish(graph, settings, promo("promo-a", "welcome_email"), clock)
    publish(graph, settings, promo("promo-b", "onboarding_pro_email"), clock)
    events = [{"type": "identify", "messageId": "ann-1", "timestamp": at(0), "userId": "ann",
               "anonymousId": "anon-ann", "traits": {"first_name": "Ann"}},
              {"type": "track", "messageId": "ann-2", "timestamp": at(1), "userId": "ann", "event": "Promo Viewed"},
              {"type": "page", "messageId": "ann-3", "timestamp": at(2), "userId": "ann", "name": "Pricing"}]
    produce_events(settings, events)
    consumer = build_consumer(settings, graph, settings.kafka_bootstrap or "", clock=clock,
                              engine=make_engine(settings, graph, clock=clock))
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_until(lambda: consumer.stats.consumed >= len(events))
    finally:
        stop.set()
        thread.join(timeout=30)
    decision = scalar(graph, settings, "MATCH (:Identity {key: 'userId:ann'})-[:IDENTIFIES]->(:Person)"
                                       "<-[:FOR]-(d:Decision) RETURN d.decisionId")
    assert decision
    keyed = settings.model_copy(update={"api_keys": [ApiKey("ada", "author", KEY)]})
    services = make_services(keyed, graph, keyed.kafka_bootstrap or "")
    try:
        yield Seeded(services, str(decision))
    finally:
        services.producer.close()


def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {KEY}"}


def test_explore_routes(seeded: Seeded) -> None:
    from app.api.main import create_app
    with TestClient(create_app(seeded.services)) as client:
        page = client.get("/explore")
        assert page.status_code == 200 and "cytoscape-3.35.0.min.js" in page.text
        lib = client.get("/explore/static/cytoscape-3.35.0.min.js")
        assert lib.status_code == 200 and len(lib.content) > 100_000
        assert client.get("/explore/static/cytoscape.LICENSE.txt").text.startswith("Copyright")

        assert client.post("/v1/explore/cypher", json={"query": "MATCH (n) RETURN n"}).status_code == 401
        ok = client.post("/v1/explore/cypher", headers=auth(), json={
            "query": "MATCH (:Identity {key: $key})-[r:IDENTIFIES]->(p:Person) RETURN p, r, p.userId AS userId",
            "params": {"key": "userId:ann"}})
        assert ok.status_code == 200, ok.text
        body = ok.json()
        assert body["columns"] == ["p", "r", "userId"] and body["rows"][0][2] == "ann"
        assert body["rows"][0][0]["labels"] == ["Person"] and len(body["graph"]["nodes"]) == 2
        assert len(body["graph"]["edges"]) == 1

        limited = client.post("/v1/explore/cypher", headers=auth(),
                              json={"query": "MATCH (e:Event) RETURN e.messageId", "limit": 2}).json()
        assert len(limited["rows"]) == 2 and limited["truncated"] is True

        for write in ("CREATE (n:X) RETURN n", "MATCH (p:Person) SET p.x = 1", "MATCH (n) DETACH DELETE n",
                      "MERGE (n:X {a: 1})", "CALL db.labels()", "LOAD CSV FROM 'file:///etc/passwd' AS r RETURN r",
                      "MATCH (p) FOREACH (x IN [1] | REMOVE p.userId)", "MATCH (n) RETURN n; MATCH (m) RETURN m",
                      "match (p:Person) /* hidden */ set p.x = 1"):
            refused = client.post("/v1/explore/cypher", headers=auth(), json={"query": write})
            assert refused.status_code == 400, write
            assert refused.json()["field"] == "query"
        assert scalar(seeded.services.driver, seeded.services.settings, "MATCH (n:X) RETURN count(n)") == 0
        bad = client.post("/v1/explore/cypher", headers=auth(), json={"query": "MATCH (n RETURN n"})
        assert bad.status_code == 400 and bad.json()["reason"] == "query_failed"

        queries = client.get("/v1/explore/debug-queries", headers=auth()).json()
        names = [q["name"] for q in queries]
        assert "decision_neighbourhood" in names and "person_decisions" in names
        person_decisions = next(q for q in queries if q["name"] == "person_decisions")
        assert person_decisions["params"] == [{"name": "userId", "example": "'ann'"},
                                              {"name": "limit", "example": "20"}]
        assert person_decisions["description"].startswith("A person's decisions")
        # every debug query runs through the read-only box with its example parameters
        for q in queries:
            params = {p["name"]: _example(p["example"]) for p in q["params"]}
            params.update({k: v for k, v in (("decisionId", seeded.decision), ("userId", "ann")) if k in params})
            ran = client.post("/v1/explore/cypher", headers=auth(), json={"query": q["text"], "params": params})
            assert ran.status_code == 200, (q["name"], ran.text)

        graph = client.get(f"/v1/explore/decisions/{seeded.decision}/graph", headers=auth()).json()
        kinds = sorted(n["kind"] for n in graph["nodes"])
        assert kinds.count("Decision") == 1 and "Person" in kinds and "Event" in kinds and "Chosen" in kinds
        assert len(graph["edges"]) >= 4
        assert client.get("/v1/explore/decisions/nope/graph", headers=auth()).status_code == 404

        deliveries = client.get("/v1/explore/people/anonymousId:anon-ann/deliveries", headers=auth()).json()
        assert [(d["channel"], d["template"], d["decisionId"]) for d in deliveries] == [
            ("email", "welcome_email", seeded.decision)]
        assert client.get("/v1/explore/people/nobody/deliveries", headers=auth()).status_code == 404


def _example(text: str) -> Any:
    import json
    text = text.strip()
    if text.startswith("'") and text.endswith("'"):
        return text[1:-1]
    try:
        return json.loads(text)
    except ValueError:
        return text


# --- the page in headless Chromium -------------------------------------------------------------------------

def chromium() -> str:
    """The browser, installed by scripts/install-browser.sh when missing; skip with the reason if impossible."""
    if not os.path.exists(CHROMIUM):
        done = subprocess.run(["bash", str(ROOT / "scripts" / "install-browser.sh")], capture_output=True,
                              text=True, timeout=600)
        if not os.path.exists(CHROMIUM):
            pytest.skip(f"Debian's chromium could not be installed: {(done.stderr or done.stdout).strip()[-300:]}")
    return CHROMIUM


def headless(url: str, *extra: str) -> subprocess.CompletedProcess[bytes]:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                               "--no-first-run", "--disable-background-networking", "--disable-component-update",
                               "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={profile}",
                               "--window-size=1200,800", "--virtual-time-budget=8000", *extra, url],
                              capture_output=True, timeout=60)


def read_png(data: bytes) -> tuple[int, int, list[bytearray], int]:
    """(width, height, rows of raw pixels, bytes per pixel) of an 8-bit RGB/RGBA non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height, bpp = 8, b"", 0, 0, 0
    while pos < len(data):
        (length,), kind = struct.unpack(">I", data[pos:pos + 4]), data[pos + 4:pos + 8]
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            assert depth == 8 and color in (2, 6) and interlace == 0, (depth, color, interlace)
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows: list[bytearray] = []
    prev = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, corner = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        rows.append(line)
        prev = line
    return width, height, rows, bpp


def test_the_page_draws_a_decision_in_headless_chromium(seeded: Seeded, tmp_path: Path) -> None:
    browser = chromium()
    assert shutil.which(browser)
    port = free_port()
    api = ApiServer(seeded.services, "127.0.0.1", port)
    api.start()
    try:
        url = f"http://127.0.0.1:{port}/explore?key={KEY}&person=ann&decision={seeded.decision}"
        shot = tmp_path / "explore.png"
        done = headless(url, f"--screenshot={shot}")
        assert shot.exists(), done.stderr.decode(errors="replace")[-2000:]
        dom = headless(url, "--dump-dom").stdout.decode(errors="replace")
    finally:
        api.stop()

    # the timeline rendered rows (events, sessions, enrollment, decision, delivery) and the graph its nodes
    assert 'data-timeline-rows="' in dom, dom[-3000:]
    rows = int(dom.split('data-timeline-rows="')[1].split('"')[0])
    assert rows >= 5 and dom.count('class="kind-decision"') == 1 and 'class="kind-delivery"' in dom
    assert int(dom.split('data-graph-nodes="')[1].split('"')[0]) >= 5
    assert "Timeline of ann" in dom

    # the graph canvas (right of the 440 px timeline, below the header) holds a drawing in several colours
    width, height, pixels, bpp = read_png(shot.read_bytes())
    assert (width, height) == (1200, 800)
    background = bytes(pixels[300][1150 * bpp:1150 * bpp + 3])
    colours: set[bytes] = set()
    inked = 0
    for y in range(80, 480, 2):
        row = pixels[y]
        for x in range(460, 1180, 2):
            px = bytes(row[x * bpp:x * bpp + 3])
            if px != background:
                inked += 1
                colours.add(px)
    assert inked > 400, f"only {inked} drawn pixels in the graph area"
    assert len(colours) > 2, colours
