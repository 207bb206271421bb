"""A deterministic demo graph for the analysis notebooks (`journeys seed`).

Everything goes through the real pipeline: the sample constraints (plus the seed journeys in the exclusion group
and priorities) and five journeys are published through the review lifecycle; generated Segment events are
produced to Kafka; an ingest consumer with the journey engine and the constraint resolver writes them; timers
fire on a `FakeClock` stepped wave by wave (so a wait of days takes no time); one dispatcher pass with the log
adapter sends the deliveries due by the middle of the week and leaves the later ones pending.

Journeys: the three examples (welcome series, abandoned cart, trial conversion with its 10% holdout) and two that
compete for the same people: `spring-sale` (entry `Product Viewed`, a split A email / B push / 20% holdout, goal
`Order Completed` in 7 days) and `winback` (the same entry event, an email, lower priority). The sale is in the
`promotions` exclusion group with the cart and trial journeys; the win-back email loses arbitration to the sale's
email at the same moment.

Same `seed` and `people` -> the same people, events, enrollments, decisions and deliveries (ids included):
message ids, user ids and every random choice come from `random.Random(seed)`, person ids are derived from
identities, and the clock starts at `START_MS`. Bookkeeping nodes (consumer progress, audit entries, delivery
attempts) carry generated ids; `fingerprint()` covers the rest.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from neo4j import Driver

from app.channels.dispatcher import Dispatcher
from app.channels.registry import build_adapters, close_adapters
from app.clock import FakeClock, to_iso
from app.decisions.config_lint import example_path, load_config
from app.decisions.config_store import ConfigStore
from app.decisions.person_state import PersonStateStore
from app.graph.queries import query
from app.journeys.loader import example_paths, load_definition
from app.journeys.store import JourneyStore
from app.journeys.watermark import GraphWatermark
from app.kafka import AckProducer, OutgoingMessage, ensure_topics
from app.runtime import build_consumer, make_engine
from app.segments.definitions import validate_segment
from app.segments.store import SegmentStore
from app.settings import Settings
from graph_models.constraints import ConstraintSet, ExclusionGroup
from graph_models.journey import JourneyDefinition
from graph_models.principal import Principal

START_MS = 1_772_438_400_000  # Monday 2026-03-02 08:00 UTC
HOUR = 3_600_000
DAY = 24 * HOUR
AUTHOR = Principal(name="seed-author", role="author")
APPROVER = Principal(name="seed-approver", role="approver")
TIMEZONES = ("UTC", "America/New_York", "Europe/Berlin", "Asia/Tokyo")
PLANS = ("free", "trial", "pro")
FIRST_NAMES = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tim", "Margaret",
               "Linus")
PRODUCTS = ("Desk lamp", "Notebook", "Headphones", "Backpack", "Water bottle")

SEED_JOURNEYS: tuple[dict[str, Any], ...] = (
    {"id": "spring-sale", "name": "Spring sale",
     "description": "People who look at a product get the spring sale: variant A by email, B by push, 20% held "
                    "out; a second email two days later.",
     "entry": {"event": "Product Viewed", "reentry": "never"},
     "goals": [{"id": "ordered", "event": "Order Completed", "within": "7d"}],
     "start": "experiment",
     "steps": [
         {"id": "experiment", "type": "split", "variants": [
             {"name": "A", "weight": 40, "next": "sale_email"},
             {"name": "B", "weight": 40, "next": "sale_push"},
             {"name": "holdout", "weight": 20, "holdout": True, "next": "held_out"}]},
         {"id": "sale_email", "type": "action", "channel": "email", "template": "cart_reminder_email",
          "tags": ["promo"], "next": "wait_2d"},
         {"id": "sale_push", "type": "action", "channel": "push", "template": "win_back_push", "tags": ["promo"],
          "next": "wait_2d"},
         {"id": "wait_2d", "type": "wait", "duration": "2d", "next": "last_call"},
         {"id": "last_call", "type": "action", "channel": "email", "template": "cart_reminder_email",
          "tags": ["promo"], "next": "done"},
         {"id": "held_out", "type": "end", "name": "Holdout (no messages)"},
         {"id": "done", "type": "end"}]},
    {"id": "winback", "name": "Win back",
     "description": "Competes with the spring sale for the same viewers: one email, lower priority.",
     "entry": {"event": "Product Viewed", "reentry": "never"},
     "goals": [{"id": "ordered", "event": "Order Completed", "within": "7d"}],
     "start": "winback_email",
     "steps": [
         {"id": "winback_email", "type": "action", "channel": "email", "template": "cart_reminder_email",
          "tags": ["promo"], "next": "done"},
         {"id": "done", "type": "end"}]},
)


@dataclass
class SeedReport:
    """What `seed_graph()` wrote."""

    seed: int
    people: int
    events: int
    counts: dict[str, int] = field(default_factory=dict)
    dispatched: int = 0
    fingerprint: str = ""
    seconds: float = 0.0


@dataclass
class _Wave:
    """Events with timestamps up to `until_ms`; timers due by then fire after they are written."""

    until_ms: int
    events: list[dict[str, Any]] = field(default_factory=list)


class _Events:
    """Deterministic Segment events: message ids `seed-<seed>-<n>`."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.n = 0

    def make(self, kind: str, user: str, at_ms: int, name: str | None = None, **fields: Any) -> dict[str, Any]:
        self.n += 1
        body: dict[str, Any] = {"type": kind, "messageId": f"seed-{self.seed}-{self.n:05d}", "userId": user,
                                "timestamp": to_iso(at_ms), **fields}
        if name is not None:
            body["event"] = name
        return body


def constraints() -> ConstraintSet:
    """The sample constraints with `spring-sale` in the `promotions` exclusion group (`winback` is not: at one
    moment on one channel it loses arbitration to the sale instead) and both in the priorities."""
    base = load_config("constraints", example_path("constraints"))
    assert isinstance(base, ConstraintSet)
    groups = [g if g.id != "promotions" else ExclusionGroup.model_validate(
        {"id": g.id, "journeys": [*g.journeys, "spring-sale"], "window": g.window.text})
        for g in base.exclusion_groups]
    return base.model_copy(update={"exclusion_groups": groups,
                                   "priorities": {**base.priorities, "spring-sale": 70, "winback": 40}})


def journeys() -> list[JourneyDefinition]:
    """The example journeys and the two seed journeys."""
    return [*(load_definition(p) for p in example_paths()),
            *(JourneyDefinition.model_validate(d) for d in SEED_JOURNEYS)]


def generate(seed: int, people: int) -> tuple[list[str], list[_Wave], dict[str, dict[str, Any]]]:
    """The users, the event waves before conversions, and each user's profile (pure)."""
    rng = random.Random(seed)
    ev = _Events(seed)
    users = [f"user-{i:03d}" for i in range(1, people + 1)]
    profile: dict[str, dict[str, Any]] = {}
    w0, w1, w2, w3 = _Wave(START_MS + 2 * HOUR), _Wave(START_MS + 8 * HOUR), _Wave(START_MS + DAY + 6 * HOUR), \
        _Wave(START_MS + 2 * DAY + 6 * HOUR)
    for user in users:
        plan = rng.choice(PLANS)
        traits: dict[str, Any] = {
            "email": f"{user}@example.com", "first_name": rng.choice(FIRST_NAMES), "plan": plan,
            "timezone": rng.choice(TIMEZONES), "sms_opt_in": rng.random() < 0.5, "push_opt_in": rng.random() < 0.7}
        if rng.random() < 0.08:
            traits["email_opt_in"] = False
        if rng.random() < 0.05:
            traits["unsubscribed"] = True
        if plan == "trial":
            traits["trial_ends_at"] = to_iso(START_MS + rng.randint(3, 6) * DAY)
        profile[user] = {"plan": plan, "engaged": rng.random() < 0.5}
        t0 = START_MS + rng.randint(0, 90) * 60_000
        w0.events.append(ev.make("identify", user, t0, traits=traits))
        if rng.random() < 0.7:
            w0.events.append(ev.make("track", user, t0 + 60_000, "Signed Up"))
        if plan == "trial":
            w0.events.append(ev.make("track", user, t0 + 2 * 60_000, "Trial Started"))
        t1 = START_MS + 3 * HOUR + rng.randint(0, 240) * 60_000
        if rng.random() < 0.75:
            w1.events.append(ev.make("track", user, t1, "Product Viewed",
                                     properties={"product_name": rng.choice(PRODUCTS)}))
        if rng.random() < 0.5:
            cart = f"cart-{user}-1"
            w1.events.append(ev.make("track", user, t1 + 5 * 60_000, "Product Added",
                                     properties={"cart_id": cart, "product_name": rng.choice(PRODUCTS)}))
            if rng.random() < 0.3:
                w1.events.append(ev.make("track", user, t1 + 50 * 60_000, "Order Completed",
                                         properties={"cart_id": cart, "total": rng.randint(10, 200)}))
        t2 = START_MS + DAY + rng.randint(0, 300) * 60_000
        if plan == "trial":
            uses = rng.randint(3, 6) if profile[user]["engaged"] else rng.randint(0, 1)
            w2.events += [ev.make("track", user, t2 + k * 10 * 60_000, "Feature Used") for k in range(uses)]
        if rng.random() < 0.3:
            w2.events.append(ev.make("track", user, t2 + 90 * 60_000, "Project Created"))
        if rng.random() < 0.06:
            w2.events.append(ev.make("track", user, t2 + 100 * 60_000, "Unsubscribed",
                                     properties={"channel": "email"}))
        if rng.random() < 0.1:
            w2.events.append(ev.make("track", user, t2 + 110 * 60_000, "Subscribed", properties={"channel": "sms"}))
        if rng.random() < 0.35:
            cart = f"cart-{user}-2"
            t3 = START_MS + 2 * DAY + rng.randint(0, 300) * 60_000
            w3.events.append(ev.make("track", user, t3, "Product Added",
                                     properties={"cart_id": cart, "product_name": rng.choice(PRODUCTS)}))
    for wave in (w0, w1, w2, w3):
        wave.events.sort(key=lambda e: (e["timestamp"], e["messageId"]))
    profile["__counter__"] = {"n": ev.n}
    return users, [w0, w1, w2, w3], profile


def conversions(seed: int, n_start: int, variants: dict[str, str | None], profile: dict[str, dict[str, Any]]
                ) -> _Wave:
    """Orders and subscriptions on day 3-4: likelier for spring-sale variant A than B than holdout (pure)."""
    rng = random.Random(seed * 7919 + 1)
    ev = _Events(seed)
    ev.n = n_start
    wave = _Wave(START_MS + 4 * DAY)
    chance = {"A": 0.55, "B": 0.35, "holdout": 0.15, None: 0.2}
    for user in sorted(variants):
        at = START_MS + 3 * DAY + rng.randint(0, 600) * 60_000
        if rng.random() < chance.get(variants[user], 0.2):
            wave.events.append(ev.make("track", user, at, "Order Completed",
                                       properties={"cart_id": f"sale-{user}", "total": rng.randint(10, 200)}))
    for user in sorted(u for u in profile if not u.startswith("__")):
        if profile[user]["plan"] == "trial" and profile[user]["engaged"] and rng.random() < 0.6:
            wave.events.append(ev.make("track", user, START_MS + 3 * DAY + 12 * HOUR, "Subscription Started"))
    wave.events.sort(key=lambda e: (e["timestamp"], e["messageId"]))
    return wave


class _Pipeline:
    """Consumer (engine + resolver) in a thread on its own topic and group, timers on a FakeClock."""

    def __init__(self, settings: Settings, driver: Driver, clock: FakeClock) -> None:
        self.settings = settings
        self.driver = driver
        self.clock = clock
        self.engine = make_engine(settings, driver, clock=clock)
        self.consumer = build_consumer(settings, driver, settings.kafka_bootstrap or "", clock=clock,
                                       engine=self.engine)
        self.watermark = GraphWatermark.from_settings(driver, settings)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.consumer.run, args=(self.stop,), name="seed-consumer",
                                       daemon=True)

    def send(self, events: list[dict[str, Any]]) -> None:
        """Produce (acks=all, keyed by userId) and wait until the consumer has taken them all."""
        before = self.consumer.stats.consumed
        producer = AckProducer(self.settings.kafka_bootstrap or "")
        try:
            producer.send_all_sync([OutgoingMessage(self.settings.events_topic, e["userId"], json.dumps(e).encode(),
                                                    [("origin", b"seed")]) for e in events])
        finally:
            producer.close()
        _wait(lambda: self.consumer.stats.consumed >= before + len(events), "the consumer to take the wave")

    def advance_to(self, at_ms: int) -> int:
        """Move the clock to `at_ms`, wait until the consumer is caught up there, fire the timers due."""
        now = self.clock.now_ms()
        if at_ms > now:
            self.clock.advance(seconds=(at_ms - now) / 1000)
        target = self.clock.now_ms()
        _wait(lambda: (self.watermark.read().idle_since() or target - 1) >= target, "the consumer to catch up")
        return self.engine.fire_due(now_ms=target, watermark=self.watermark)


def _wait(predicate: Callable[[], object], what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"seed: timed out waiting for {what}")
        time.sleep(0.05)


@contextmanager
def _running(pipeline: _Pipeline) -> Iterator[_Pipeline]:
    pipeline.thread.start()
    try:
        yield pipeline
    finally:
        pipeline.stop.set()
        pipeline.thread.join(timeout=30)


# Segments for notebooks/segments.ipynb: live from the seed's events (trial users; product viewers of the last
# day, who leave as the window passes; people who added to a cart).
SEGMENTS: list[dict[str, Any]] = [
    {"id": "trial-users", "name": "Trial users", "condition": {"trait": "plan", "op": "eq", "value": "trial"}},
    {"id": "recent-viewers", "name": "Viewed a product in the last day",
     "condition": {"recency": {"event": "Product Viewed"}, "within": "1d"}},
    {"id": "cart-adders", "name": "Added a product to a cart",
     "condition": {"count": {"event": "Product Added", "within": "30d"}, "op": "gte", "value": 1}},
]


def publish_segments(driver: Driver, database: str, clock: FakeClock) -> None:
    """Publish the seed's segments through the review lifecycle (an already published one is left as is)."""
    store = SegmentStore(driver, database, clock)
    for data in SEGMENTS:
        v = store.push(validate_segment(data), AUTHOR)
        if v.status == "draft":
            v = store.submit(v.segmentId, v.version, AUTHOR)
        if v.status == "in_review":
            v = store.approve(v.segmentId, v.version, APPROVER)
        if v.status == "approved":
            store.publish(v.segmentId, v.version, APPROVER)


def publish_all(driver: Driver, database: str, clock: FakeClock) -> str:
    """Publish the constraints and every journey through the review lifecycle; returns the constraints key."""
    store = ConfigStore(driver, database, clock)
    cs = constraints()
    info = store.push("constraints", cs, AUTHOR)
    if info.status == "draft":
        info = store.submit("constraints", cs.id, info.version, AUTHOR)
    if info.status == "in_review":
        info = store.approve("constraints", cs.id, info.version, APPROVER)
    if info.status == "approved":
        info = store.publish("constraints", cs.id, info.version, APPROVER)
    jstore = JourneyStore(driver, database, clock=clock)
    for definition in journeys():
        v = jstore.push(definition, AUTHOR)
        if v.status == "draft":
            jstore.submit(definition.id, v.version, AUTHOR)
            v = v.model_copy(update={"status": "in_review"})
        if v.status == "in_review":
            jstore.approve(definition.id, v.version, APPROVER)
            v = v.model_copy(update={"status": "approved"})
        if v.status == "approved":
            jstore.publish(definition.id, v.version, APPROVER)
    publish_segments(driver, database, clock)
    return info.key


def seed_graph(settings: Settings, driver: Driver, *, seed: int = 7, people: int = 40, dispatch: bool = True,
         log: Callable[[str], None] | None = None) -> SeedReport:
    """Seed the graph through Kafka and the consumer (its own topic and group); expects an empty graph
    (`graph_is_empty`), the schema applied and the broker reachable."""
    say = log or (lambda _msg: None)
    began = time.monotonic()
    suffix = uuid.uuid4().hex[:8]
    s = settings.model_copy(update={"events_topic": f"journeys.seed.{seed}.{suffix}",
                                    "dlq_topic": f"journeys.seed.{seed}.{suffix}.dlq",
                                    "consumer_group": f"journeys-seed-{suffix}"})
    ensure_topics(s.kafka_bootstrap or "", {s.events_topic: 1, s.dlq_topic: 1})
    clock = FakeClock(START_MS - HOUR)
    publish_all(driver, s.neo4j_database, clock)
    say("published the constraints and 5 journeys")
    users, waves, profile = generate(seed, people)
    n_events = int(profile["__counter__"]["n"])
    sent = 0
    with _running(_Pipeline(s, driver, clock)) as pipe:
        pipe.advance_to(START_MS)
        for i, wave in enumerate(waves):
            pipe.send(wave.events)
            sent += len(wave.events)
            if i == 0:  # a bounced address: on the hard-bounces list (email) before the sale starts
                PersonStateStore(driver, s.neo4j_database, clock).suppress(
                    "hard-bounces", [f"userId:{users[0]}"], "seed: bounced", source="api")
            fired = pipe.advance_to(wave.until_ms)
            say(f"wave {i + 1}: {len(wave.events)} events, {fired} timers fired")
        variants = {r["userId"]: r["variant"] for r in driver.execute_query(
            query("analysis/seed_variants"), journeyId="spring-sale", database_=s.neo4j_database).records}
        last = conversions(seed, n_events, variants, profile)
        pipe.advance_to(START_MS + 3 * DAY)
        dispatched = 0
        if dispatch:
            dispatched = dispatch_once(s, driver, clock, seed)
            say(f"dispatcher (log adapter): {dispatched} deliveries handled")
        pipe.send(last.events)
        sent += len(last.events)
        for at in (last.until_ms, START_MS + 5 * DAY, START_MS + 7 * DAY, START_MS + 8 * DAY):
            fired = pipe.advance_to(at)
            say(f"clock at day {(at - START_MS) / DAY:g}: {fired} timers fired")
    report = SeedReport(seed, people, sent, counts(driver, s.neo4j_database), dispatched,
                        fingerprint(driver, s.neo4j_database), round(time.monotonic() - began, 1))
    return report


def dispatch_once(settings: Settings, driver: Driver, clock: FakeClock, seed: int) -> int:
    """One dispatcher pass with every channel on the log adapter (in-app stays held for pickup)."""
    s = settings.model_copy(update={"channel_adapters": {c: "log" for c in ("email", "sms", "push", "webhook",
                                                                              "crm")} | {"in_app": "in_app"}})
    adapters = build_adapters(s, clock)
    dispatcher = Dispatcher(driver, s.neo4j_database, adapters, clock, s, name="seed-dispatcher",
                            rng=random.Random(seed))
    try:
        return dispatcher.dispatch_once(clock.now_ms())
    finally:
        dispatcher.close()
        close_adapters(adapters)


def graph_is_empty(driver: Driver, database: str) -> bool:
    """True when the graph holds no Person and no Event."""
    rows = driver.execute_query(query("analysis/seed_counts"), database_=database).records
    return all(int(r["n"]) == 0 for r in rows if r["label"] in ("Person", "Event"))


def counts(driver: Driver, database: str) -> dict[str, int]:
    """Nodes per label the seed writes."""
    return {r["label"]: int(r["n"]) for r in driver.execute_query(query("analysis/seed_counts"),
                                                                  database_=database).records}


def fingerprint(driver: Driver, database: str) -> str:
    """SHA-256 over the seeded domain state (people, events, enrollments, requests, decisions, deliveries)."""
    rows = [r.data() for r in driver.execute_query(query("analysis/seed_fingerprint"), database_=database).records]
    text = json.dumps(sorted(json.dumps(r, sort_keys=True, default=str) for r in rows))
    return hashlib.sha256(text.encode()).hexdigest()
