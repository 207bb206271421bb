"""The delivery dispatcher on the real servers: a real HTTP endpoint that fails for a while then recovers, a
dispatcher killed between send and record, two dispatchers at once, rate limits, kill switches, dead letters
and retry over the API, in-app expiry and pickup. Deliveries come through the real pipeline (journey + events)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from neo4j import Driver

from app.channels.adapter import Adapter, OutboundMessage, SendResult
from app.channels.control import DeliveryControl
from app.channels.dispatcher import Dispatcher
from app.channels.registry import build_adapters, close_adapters
from app.clock import FakeClock
from app.journeys.store import JourneyStore
from app.settings import Settings
from graph_models.journey import JourneyDefinition
from graph_models.principal import ApiKey
from tests.integration.journey_support import APPROVER, AUTHOR, harness, publish
from tests.integration.support import api_client, rows

pytestmark = pytest.mark.integration

START = dt.datetime(2026, 3, 3, 15, 0, tzinfo=dt.UTC)


@dataclass
class Sink:
    """A real HTTP endpoint: answers `fail(n)` (a status) for the n-th request, records idempotency keys."""

    fail: Callable[[int], int] = lambda _n: 200
    requests: int = 0
    keys: list[str] = field(default_factory=list)     # keys of requests answered 2xx
    all_keys: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""


@contextmanager
def sink_server(sink: Sink) -> Iterator[Sink]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            key = self.headers.get("idempotency-key") or ""
            assert json.loads(body)["deliveryId"] == key
            with sink.lock:
                sink.requests += 1
                status = sink.fail(sink.requests)
                sink.all_keys.append(key)
                if 200 <= status < 300:
                    sink.keys.append(key)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    sink.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()


def webhook_settings(settings: Settings, sink: Sink, **update: Any) -> Settings:
    return settings.model_copy(update={
        "channel_adapters": {"email": "webhook", "in_app": "in_app"}, "webhook_url": sink.url,
        "webhook_secret": __import__("pydantic").SecretStr("test-secret"), "dispatch_backoff_base_s": 1.0,
        "dispatch_backoff_max_s": 8.0, "dispatch_lease_s": 30.0, **update})


def journey(journey_id: str = "promo", channel: str = "email", template: str = "cart_reminder_email"
            ) -> JourneyDefinition:
    return JourneyDefinition.model_validate({
        "id": journey_id, "name": journey_id, "entry": {"event": "Promo", "reentry": "always"}, "start": "send",
        "steps": [{"id": "send", "type": "action", "channel": channel, "template": template, "next": "done"},
                  {"id": "done", "type": "end"}]})


def make_deliveries(settings: Settings, graph: Driver, clock: FakeClock, n: int, **kw: str) -> list[str]:
    """n pending deliveries through the real pipeline (one Promo event per person)."""
    publish(graph, settings, journey(**kw), clock)
    with harness(settings, graph, clock) as h:
        h.send(*[{"type": "track", "event": "Promo", "messageId": f"m{i}", "userId": f"u{i}",
                  "timestamp": START.isoformat()} for i in range(n)])
    ids = [r["id"] for r in rows(graph, settings, "MATCH (d:Delivery) RETURN d.deliveryId AS id ORDER BY id")]
    assert len(ids) == n
    return ids


def statuses(graph: Driver, settings: Settings) -> Counter[str]:
    return Counter(r["s"] for r in rows(graph, settings, "MATCH (d:Delivery) RETURN d.status AS s"))


def attempts(graph: Driver, settings: Settings) -> list[dict[str, Any]]:
    return rows(graph, settings, """
        MATCH (d:Delivery)-[:ATTEMPT]->(a:DeliveryAttempt)
        RETURN d.deliveryId AS id, a.n AS n, a.outcome AS outcome, a.statusCode AS code, a.atMs AS atMs,
               a.adapter AS adapter, a.latencyMs AS latency, a.error AS error ORDER BY a.atMs, id""")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(int(START.timestamp() * 1000))


def drain(dispatcher: Dispatcher, clock: FakeClock, graph: Driver, settings: Settings, step_s: float = 1.0,
          rounds: int = 200) -> None:
    for _ in range(rounds):
        dispatcher.dispatch_once(clock.now_ms())
        if not statuses(graph, settings) - Counter({"sent": 10**9, "dead": 10**9}):
            return
        left = statuses(graph, settings)
        if left.keys() <= {"sent", "dead"}:
            return
        clock.advance(seconds=step_s)
    raise AssertionError(f"not drained: {statuses(graph, settings)}")


def test_endpoint_fails_then_recovers_nothing_lost_nothing_twice(settings: Settings, graph: Driver,
                                                                 clock: FakeClock) -> None:
    ids = make_deliveries(settings, graph, clock, 6)
    with sink_server(Sink(fail=lambda n: 503 if n <= 9 else 200)) as sink:
        s = webhook_settings(settings, sink)
        adapters = build_adapters(s, clock)
        dispatcher = Dispatcher(graph, s.neo4j_database, adapters, clock, s)
        try:
            drain(dispatcher, clock, graph, settings)
        finally:
            dispatcher.close()
            close_adapters(adapters)
    assert sorted(sink.keys) == ids  # every delivery accepted exactly once
    assert statuses(graph, settings) == {"sent": 6}
    found = attempts(graph, settings)
    assert len(found) == sink.requests  # every attempt recorded
    assert Counter(a["outcome"] for a in found) == {"retryable": 9, "sent": 6}
    assert {a["code"] for a in found if a["outcome"] == "retryable"} == {503}
    assert all(a["adapter"] == "webhook" and a["latency"] is not None for a in found)
    # back-off: a delivery's attempts are spaced by at least half the exponential delay (equal jitter)
    by_id: dict[str, list[int]] = {}
    for a in found:
        by_id.setdefault(a["id"], []).append(a["atMs"])
    for times in by_id.values():
        for n, (a, b) in enumerate(itertools.pairwise(times), start=1):
            assert b - a >= min(8000, 1000 * 2 ** (n - 1)) // 2


def test_permanent_error_dead_letter_and_retry_over_the_api(settings: Settings, graph: Driver,
                                                            clock: FakeClock) -> None:
    [dlv] = make_deliveries(settings, graph, clock, 1)
    with sink_server(Sink(fail=lambda n: 400 if n == 1 else 200)) as sink:
        s = webhook_settings(settings, sink)
        adapters = build_adapters(s, clock)
        dispatcher = Dispatcher(graph, s.neo4j_database, adapters, clock, s)
        try:
            dispatcher.dispatch_once(clock.now_ms())
            assert statuses(graph, settings) == {"dead": 1}
            with api_client(s, graph) as client:
                client.app.state.services.clock = clock  # type: ignore[attr-defined]
                client.auth = None  # Bearer keys here, not the write key
                admin = {"Authorization": "Bearer dev-admin-key"}
                page = client.get("/v1/deliveries", params={"status": "dead"}, headers=admin).json()
                assert [d["deliveryId"] for d in page["deliveries"]] == [dlv]
                assert page["deliveries"][0]["deadReason"].startswith("permanent error")
                one = client.get(f"/v1/deliveries/{dlv}", headers=admin).json()
                assert [a["statusCode"] for a in one["attempts"]] == [400]
                assert one["delivery"]["payload"]["deliveryId"] == dlv
                assert client.post(f"/v1/deliveries/{dlv}/retry", headers=admin).json()["status"] == "pending"
                assert client.post(f"/v1/deliveries/{dlv}/retry", headers=admin).status_code == 409
                assert client.get("/v1/deliveries/nope", headers=admin).status_code == 404
                assert client.get("/v1/deliveries", params={"status": "dead"},
                                  headers=admin).json()["deliveries"] == []
            dispatcher.dispatch_once(clock.now_ms())
        finally:
            dispatcher.close()
            close_adapters(adapters)
    assert statuses(graph, settings) == {"sent": 1}
    assert sink.keys == [dlv]


class KilledAfterSend:
    """Sends, then dies before the dispatcher can record (a process killed between send and record)."""

    def __init__(self, inner: Adapter) -> None:
        self.inner = inner
        self.name = inner.name

    def send(self, message: OutboundMessage) -> SendResult:
        self.inner.send(message)
        raise KeyboardInterrupt("killed between send and record")

    def close(self) -> None:
        self.inner.close()


def test_dispatcher_killed_between_send_and_record_resends_with_the_same_key(settings: Settings, graph: Driver,
                                                                            clock: FakeClock) -> None:
    ids = make_deliveries(settings, graph, clock, 3)
    with sink_server(Sink()) as sink:
        s = webhook_settings(settings, sink)
        adapters = build_adapters(s, clock)
        doomed = Dispatcher(graph, s.neo4j_database, {"email": KilledAfterSend(adapters["email"])}, clock, s)
        with pytest.raises(KeyboardInterrupt):
            doomed.dispatch_once(clock.now_ms())
        doomed.close()
        assert sorted(set(sink.keys)) == ids and attempts(graph, settings) == []
        survivor = Dispatcher(graph, s.neo4j_database, adapters, clock, s)
        try:
            assert survivor.dispatch_once(clock.now_ms()) == 0  # leased: nothing is due yet
            clock.advance(seconds=31)  # the lease has expired
            survivor.dispatch_once(clock.now_ms())
        finally:
            survivor.close()
            close_adapters(adapters)
    assert statuses(graph, settings) == {"sent": 3}
    assert Counter(sink.keys) == {i: 2 for i in ids}  # at-least-once, under the same idempotency key
    assert len(attempts(graph, settings)) == 3  # the killed attempt left no record


def test_two_dispatchers_at_once_send_nothing_twice(settings: Settings, graph: Driver, clock: FakeClock) -> None:
    ids = make_deliveries(settings, graph, clock, 30)
    with sink_server(Sink()) as sink:
        s = webhook_settings(settings, sink, dispatch_batch_size=7)
        adapters = build_adapters(s, clock)
        pair = [Dispatcher(graph, s.neo4j_database, adapters, clock, s, name=f"d{i}") for i in range(2)]
        errors: list[BaseException] = []
        go = threading.Barrier(2)

        def work(d: Dispatcher) -> None:
            try:
                go.wait()
                for _ in range(40):
                    d.dispatch_once(clock.now_ms())
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(d,)) for d in pair]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        for d in pair:
            d.close()
        close_adapters(adapters)
    assert not errors, errors
    assert sorted(sink.all_keys) == ids  # each delivery sent once, by one of the two
    assert statuses(graph, settings) == {"sent": 30}
    assert {a["n"] for a in attempts(graph, settings)} == {1}


def test_rate_limit_holds_deliveries_back_and_never_drops_them(settings: Settings, graph: Driver,
                                                               clock: FakeClock) -> None:
    ids = make_deliveries(settings, graph, clock, 12)
    with sink_server(Sink()) as sink:
        s = webhook_settings(settings, sink, rate_limits={"channel:email/s": 3.0, "adapter:webhook/m": 100.0})
        adapters = build_adapters(s, clock)
        dispatcher = Dispatcher(graph, s.neo4j_database, adapters, clock, s)
        start = clock.now_ms()
        try:
            drain(dispatcher, clock, graph, settings, step_s=0.25)
        finally:
            dispatcher.close()
            close_adapters(adapters)
    assert sorted(sink.keys) == ids
    found = attempts(graph, settings)
    # a token bucket's promise: at most capacity + rate * elapsed sends by any time
    for i, a in enumerate(found, start=1):
        assert i <= 3 + 3 * (a["atMs"] - start) / 1000, (i, a["atMs"] - start)
    assert dispatcher.stats.held > 0
    assert max(a["atMs"] for a in found) - start >= 3000  # 12 at 3/s after a burst of 3: three seconds at least


def test_kill_switches_hold_then_resume(settings: Settings, graph: Driver, clock: FakeClock) -> None:
    ids = make_deliveries(settings, graph, clock, 2)
    control = DeliveryControl(graph, settings.neo4j_database, clock)
    with sink_server(Sink()) as sink:
        s = webhook_settings(settings, sink)
        adapters = build_adapters(s, clock)
        dispatcher = Dispatcher(graph, s.neo4j_database, adapters, clock, s)
        try:
            for target, name in (("channel", "email"), ("adapter", "webhook")):
                clock.advance(seconds=6)  # past any earlier hold
                control.set_paused(target, name, True, APPROVER)  # type: ignore[arg-type]
                dispatcher.dispatch_once(clock.now_ms())
                held = rows(graph, settings, "MATCH (d:Delivery) RETURN d.status AS s, d.heldReason AS r")
                assert {(r["s"], r["r"]) for r in held} == {("pending", f"{target}_paused")}
                control.set_paused(target, name, False, APPROVER)  # type: ignore[arg-type]
                clock.advance(seconds=0.5)
                assert dispatcher.dispatch_once(clock.now_ms()) == 0  # held until its next look
            # a paused journey holds its deliveries too
            JourneyStore(graph, settings.neo4j_database, clock=clock).pause("promo", APPROVER)
            clock.advance(seconds=6)
            dispatcher.dispatch_once(clock.now_ms())
            assert {r["r"] for r in rows(graph, settings, "MATCH (d:Delivery) RETURN d.heldReason AS r")} == {
                "journey_paused"}
            assert sink.keys == []
            JourneyStore(graph, settings.neo4j_database, clock=clock).publish("promo", 1, APPROVER)
            clock.advance(seconds=6)
            dispatcher.dispatch_once(clock.now_ms())
        finally:
            dispatcher.close()
            close_adapters(adapters)
    assert sorted(sink.keys) == ids and statuses(graph, settings) == {"sent": 2}
    audit = rows(graph, settings, """MATCH (x)-[:AUDITED]->(a:AuditEntry) WHERE a.action STARTS WITH 'delivery_'
                                     RETURN a.action AS action, a.target AS target, a.principal AS who
                                     ORDER BY a.atMs, a.action""")
    assert [(a["action"], a["target"]) for a in audit] == [
        ("delivery_pause", "channel:email"), ("delivery_resume", "channel:email"),
        ("delivery_pause", "adapter:webhook"), ("delivery_resume", "adapter:webhook")]
    with pytest.raises(Exception, match="may not pause"):
        control.set_paused("channel", "email", True, AUTHOR)


def test_pause_and_resume_over_the_api(settings: Settings, graph: Driver) -> None:
    keyed = settings.model_copy(update={"api_keys": [ApiKey("root", "admin", "key-root"),
                                                     ApiKey("ada", "author", "key-ada")]})
    with api_client(keyed, graph) as client:
        client.auth = None
        admin = {"Authorization": "Bearer key-root"}
        answer = client.post("/v1/deliveries/pause", json={"channel": "sms"}, headers=admin)
        assert answer.status_code == 200 and answer.json() == {"target": "channel", "name": "sms", "paused": True}
        assert client.post("/v1/deliveries/resume", json={"adapter": "smtp"}, headers=admin).json()["paused"] is False
        assert client.post("/v1/deliveries/pause", json={}, headers=admin).status_code == 422
        assert client.post("/v1/deliveries/pause", json={"channel": "sms"}).status_code == 401
        assert client.post("/v1/deliveries/pause", json={"channel": "sms"},
                           headers={"Authorization": "Bearer key-ada"}).status_code == 403
    audit = rows(graph, settings,
                 "MATCH (:Channel {channelId: 'sms'})-[:AUDITED]->(a:AuditEntry) RETURN a.principal AS p")
    assert [a["p"] for a in audit] == ["root"]


def test_in_app_held_then_expired_by_the_sweep(settings: Settings, graph: Driver, clock: FakeClock) -> None:
    make_deliveries(settings, graph, clock, 1, channel="in_app", template="trial_tips_in_app")
    assert statuses(graph, settings) == {"held": 1}
    adapters = build_adapters(settings, clock)  # zero configuration: every channel to the log adapter
    dispatcher = Dispatcher(graph, settings.neo4j_database, adapters, clock, settings)
    try:
        assert dispatcher.dispatch_once(clock.now_ms()) == 0
        clock.advance(days=8)  # past the default 7-day in-app TTL
        dispatcher.dispatch_once(clock.now_ms())
    finally:
        dispatcher.close()
        close_adapters(adapters)
    assert statuses(graph, settings) == {"expired": 1}
