"""JourneyRuntime: runs the engine against the graph, inside the ingest transaction and for timers.

Journey effects of a batch commit atomically with the batch's events: a redelivered event is a
duplicate the store skips, so it can never advance or enroll anyone twice.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from neo4j import Driver, ManagedTransaction

from app.clock import Clock, SystemClock
from app.graph.queries import query
from app.intake.normalize import AnyEvent
from app.intake.plan import BatchPlan
from app.journeys.conditions import matches_properties
from app.journeys.engine import BUCKET_MS, Effects, EngineEvent, Enrollment, Walker
from app.journeys.resolver import AcceptingResolver, ActionOutcome, ActionResolver
from app.journeys.watermark import Watermark
from graph_models.journey import CountSpec, JourneyDefinition
from graph_models.segment import Group, Identify, Page, Screen, Track

log = logging.getLogger("journeys.engine")
SWEEP_BUCKETS = 1440  # minute buckets looked up per due-timer query (a day)


def engine_event(ev: AnyEvent, person_id: str, timestamp_ms: int) -> EngineEvent:
    """Track events match by their `event` name, other calls by their type ('identify', 'page', ...)."""
    props: dict[str, Any] = {}
    if isinstance(ev, Track | Page | Screen):
        props = dict(ev.properties)
    if isinstance(ev, Page | Screen):
        props.setdefault("name", ev.name)
        props.setdefault("category", ev.category)
    if isinstance(ev, Identify | Group):
        props = dict(ev.traits)
    name = ev.event if isinstance(ev, Track) else ev.type
    return EngineEvent(ev.messageId, person_id, name, ev.type, timestamp_ms, props)


def version_key(journey_id: str, version: int) -> str:
    return f"{journey_id}@{version}"


def step_key(journey_id: str, version: int, step_id: str) -> str:
    return f"{journey_id}@{version}/{step_id}"


@dataclass
class _Versions:
    status: dict[str, str] = field(default_factory=dict)
    checksum: dict[str, str] = field(default_factory=dict)
    published: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class EngineStats:
    events: int = 0
    enrolled: int = 0
    transitions: int = 0
    actions: int = 0
    timers_fired: int = 0


class JourneyRuntime:
    """Loads published journeys, applies batches and due timers, writes the effects."""

    def __init__(self, driver: Driver, database: str, *, clock: Clock | None = None,
                 resolver: ActionResolver | None = None) -> None:
        self.driver = driver
        self.database = database
        self.clock = clock or SystemClock()
        self.resolver = resolver or AcceptingResolver()
        self.stats = EngineStats()
        self._definitions: dict[tuple[str, str], JourneyDefinition] = {}
        self._lock = threading.Lock()

    # -- definitions ---------------------------------------------------------------------------------
    def _versions(self, tx: ManagedTransaction) -> _Versions:
        out = _Versions()
        for r in tx.run(query("journeys/engine_versions")):
            out.status[r["key"]] = r["status"]
            out.checksum[r["key"]] = r["checksum"]
            if r["status"] == "published":
                out.published.append((r["journeyId"], int(r["version"])))
        out.published.sort()
        return out

    def definition(self, tx: ManagedTransaction, journey_id: str, version: int, checksum: str) -> JourneyDefinition:
        key = (version_key(journey_id, version), checksum)
        with self._lock:
            cached = self._definitions.get(key)
        if cached is not None:
            return cached
        record = tx.run(query("journeys/engine_definition"), key=key[0]).single()
        if record is None:
            raise KeyError(f"journey version {key[0]} is not in the graph")
        parsed = JourneyDefinition.model_validate(json.loads(record["definition"]))
        with self._lock:
            self._definitions[key] = parsed
        return parsed

    # -- one unit of engine work ---------------------------------------------------------------------
    def _session(self, tx: ManagedTransaction, traits: dict[str, Mapping[str, Any]]) -> _Work:
        return _Work(self, tx, self._versions(tx), traits)

    def after_ingest(self, tx: ManagedTransaction, plan: BatchPlan) -> Effects:
        """Run the engine for a freshly written batch, inside the same transaction."""
        written = plan.result.written
        if not written:
            return Effects()
        events = [engine_event(ev, w.personId, w.timestampMs) for ev, w in zip(plan.events, written, strict=True)]
        persons = sorted({w.personId for w in written})
        traits: dict[str, Mapping[str, Any]] = {}
        enrollments: dict[str, list[Enrollment]] = defaultdict(list)
        for r in tx.run(query("journeys/engine_load_people"), persons=persons):
            traits[r["personId"]] = r["traits"]
            for props in r["enrollments"]:
                en = Enrollment.from_props(props)
                en.person_id = r["personId"]
                enrollments[r["personId"]].append(en)
        work = self._session(tx, traits)
        survivors = {survivor for _, survivor in plan.result.merges}
        for pid in sorted(survivors):
            work.dedupe_after_merge(enrollments[pid], plan)
        for event in events:
            work.apply(event, enrollments[event.person_id])
        self.stats.events += len(events)
        return work.commit()

    def fire_due(self, limit: int = 500, now_ms: int | None = None, *, watermark: Watermark | None = None) -> int:
        """Fire every timer due at `now` (default: the clock), `limit` enrollments per transaction.

        With a `watermark` (the timer service always passes one), `now` is `min(now, watermark)`: a timer
        fires only once the events up to its due time have been applied; no watermark yet: nothing fires.
        Sweeps minute buckets from the TimerCursor to now (equality lookups, indexed), then moves the
        cursor to the earliest bucket still holding a due timer (a paused version's), to the earliest
        bucket a transaction wrote a timer in while the sweep ran, or to now. Returns how many enrollments woke.
        """
        now = self.clock.now_ms() if now_ms is None else now_ms
        if watermark is not None:
            until = watermark.limit_ms(now)
            if until is None:
                return 0
            now = min(now, until)
        record = self.driver.execute_query(query("journeys/engine_cursor"), database_=self.database).records
        if not record or record[0]["bucket"] is None:
            return 0
        last = now // BUCKET_MS
        sweep_id = uuid.uuid4().hex
        begun = self.driver.execute_query(query("journeys/engine_begin_sweep"), sweepId=sweep_id, target=last,
                                          database_=self.database).records
        cursor = int(begun[0]["bucket"])
        total = 0
        held: int | None = None
        with self.driver.session(database=self.database) as session:
            versions = session.execute_read(self._versions)
        paused = sorted(key for key, status in versions.status.items() if status == "paused")
        for first in range(cursor, last + 1, SWEEP_BUCKETS):
            buckets = list(range(first, min(first + SWEEP_BUCKETS, last + 1)))
            while True:
                with self.driver.session(database=self.database) as session:
                    fired = session.execute_write(self._fire_batch, buckets, now, limit, paused)
                total += fired
                if fired < limit:
                    break
            if held is None:
                rows = self.driver.execute_query(query("journeys/engine_due_held"), buckets=buckets, nowMs=now,
                                                 database_=self.database).records
                held = rows[0]["earliest"] if rows else None
        self.driver.execute_query(query("journeys/engine_advance_cursor"), sweepId=sweep_id,
                                  bucket=min(held, last) if held is not None else last, database_=self.database)
        self.stats.timers_fired += total
        return total

    def _fire_batch(self, tx: ManagedTransaction, buckets: list[int], now: int, limit: int,
                    paused: list[str]) -> int:
        rows = list(tx.run(query("journeys/engine_due"), buckets=buckets, nowMs=now, limit=limit, paused=paused))
        if not rows:
            return 0
        traits = {r["personId"]: r["traits"] for r in rows}
        work = self._session(tx, traits)
        advanced = 0
        for r in rows:
            en = Enrollment.from_props(r["enrollment"])
            en.person_id = r["personId"]
            walker = work.walker(en.journey_id, en.version)
            if walker is not None:  # None only when the version vanished: never loop on such rows
                try:
                    walker.fire_due(en, now)
                except Exception as exc:  # a broken enrollment must not block every other timer
                    log.exception("enrollment %s failed at its timer; exiting it", en.enrollment_id)
                    walker.finish(en, "exited", f"engine_error:{type(exc).__name__}", max(en.updated_at_ms, now),
                                  "timer")
                work.effects.touch(en)
                advanced += 1
        work.commit()
        return advanced


class _Work:
    """The state of one engine transaction: versions, walkers, counts, effects."""

    def __init__(self, runtime: JourneyRuntime, tx: ManagedTransaction, versions: _Versions,
                 traits: dict[str, Mapping[str, Any]]) -> None:
        self.rt = runtime
        self.tx = tx
        self.versions = versions
        self.traits = traits
        self.effects = Effects()
        self._walkers: dict[str, Walker | None] = {}
        self._counts: dict[tuple[str, str, int], int] = {}

    def _traits_of(self, person_id: str) -> Mapping[str, Any]:
        return self.traits.get(person_id, {})

    def _count(self, person_id: str, spec: CountSpec, basis_ms: int) -> int:
        key = (person_id, spec.model_dump_json(), basis_ms)
        if key not in self._counts:
            since = basis_ms - spec.within.ms if spec.within else 0
            rows = self.tx.run(query("journeys/engine_count_events"), personId=person_id, event=spec.event,
                               fromMs=since, toMs=basis_ms)
            self._counts[key] = sum(
                1 for r in rows if matches_properties(spec.where, json.loads(r["properties"] or "{}"))
            )
        return self._counts[key]

    def walker(self, journey_id: str, version: int) -> Walker | None:
        """The walker for a version, or None when that version is paused (its people hold still)."""
        key = version_key(journey_id, version)
        if key not in self._walkers:
            status = self.versions.status.get(key)
            if status is None or status == "paused":
                self._walkers[key] = None
            else:
                definition = self.rt.definition(self.tx, journey_id, version, self.versions.checksum[key])
                self._walkers[key] = Walker(definition, version, self.effects, self._traits_of, self._count)
        return self._walkers[key]

    def dedupe_after_merge(self, enrollments: list[Enrollment], plan: BatchPlan) -> None:
        """Two merged persons in the same journey: the earliest enrollment stays, the others exit."""
        by_journey: dict[str, list[Enrollment]] = defaultdict(list)
        for en in enrollments:
            if en.live:
                by_journey[en.journey_id].append(en)
        at = max((w.timestampMs for w in plan.result.written), default=0)
        for live in by_journey.values():
            live.sort(key=lambda e: (e.entered_at_ms, e.enrollment_id))
            for extra in live[1:]:
                walker = self.walker(extra.journey_id, extra.version)
                if walker is not None:
                    walker.finish(extra, "exited", "merged_duplicate", max(at, extra.updated_at_ms), "merge")

    def apply(self, event: EngineEvent, enrollments: list[Enrollment]) -> None:
        for en in list(enrollments):
            walker = self.walker(en.journey_id, en.version)
            if walker is not None and en.live:
                walker.on_event(en, event)
        for journey_id, version in self.versions.published:
            walker = self.walker(journey_id, version)
            if walker is not None and walker.wants(event, event.person_id, enrollments):
                enrollments.append(walker.enter(event.person_id, event))
                self.rt.stats.enrolled += 1

    def commit(self) -> Effects:
        """Resolve action requests and write every change of this unit of work."""
        fx = self.effects
        if not fx:
            return fx
        outcomes: dict[str, ActionOutcome] = {}
        if fx.actions:
            outcomes = {o.action_id: o for o in self.rt.resolver.resolve(self.tx, fx.actions)}
        created = [en for en in fx.enrollments.values() if en.loaded_step is None]
        updated = [en for en in fx.enrollments.values() if en.loaded_step is not None]
        if created:
            self.tx.run(query("journeys/engine_create_enrollments"), rows=[
                {"props": en.to_props(), "personId": en.person_id,
                 "versionKey": version_key(en.journey_id, en.version),
                 "stepKey": step_key(en.journey_id, en.version, en.step_id)}
                for en in created
            ]).consume()
        if updated:
            self.tx.run(query("journeys/engine_update_enrollments"), rows=[
                {"props": en.to_props(), "stepKey": step_key(en.journey_id, en.version, en.step_id),
                 "moved": en.step_id != en.loaded_step}
                for en in updated
            ]).consume()
        buckets = [b for en in fx.enrollments.values() if (b := en.wake_bucket) is not None]
        if buckets:
            self.tx.run(query("journeys/engine_lower_cursor"), bucket=min(buckets)).consume()
        versions = {en.enrollment_id: (en.journey_id, en.version) for en in fx.enrollments.values()}
        if fx.visits:
            self.tx.run(query("journeys/engine_write_visits"), rows=[
                {"enrollmentId": v.enrollment_id, "stepKey": step_key(*versions[v.enrollment_id], v.step_id),
                 "seq": v.seq, "atMs": v.at_ms, "path": v.path, "trigger": v.trigger, "detail": v.detail}
                for v in fx.visits
            ]).consume()
        if fx.entered_by:
            self.tx.run(query("journeys/engine_write_entries"), rows=[
                {"enrollmentId": e, "messageId": m} for e, m in fx.entered_by
            ]).consume()
        if fx.actions:
            self.tx.run(query("journeys/engine_write_actions"), rows=[
                {"actionId": a.action_id, "enrollmentId": a.enrollment_id, "personId": a.person_id,
                 "stepKey": step_key(a.journey_id, a.version, a.step_id), "trigger": a.trigger,
                 "props": {"actionId": a.action_id, "channel": a.channel, "template": a.template,
                           "content": json.dumps(a.content, sort_keys=True), "priority": a.priority,
                           "tags": a.tags or None, "atMs": a.at_ms, "variant": a.variant,
                           "journeyId": a.journey_id, "version": a.version, "stepId": a.step_id,
                           "status": outcomes.get(a.action_id, ActionOutcome(a.action_id, "accepted")).status,
                           "reason": outcomes.get(a.action_id, ActionOutcome(a.action_id, "")).reason or None}}
                for a in fx.actions
            ]).consume()
        self.rt.stats.transitions += len(fx.visits)
        self.rt.stats.actions += len(fx.actions)
        return fx



