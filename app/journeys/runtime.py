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
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from neo4j import Driver, ManagedTransaction
from neo4j.exceptions import ConstraintError, ServiceUnavailable, SessionExpired, TransientError

from app.clock import Clock, SystemClock
from app.graph.ahead import built_ahead
from app.graph.event_store import AFTER_WRITE_RETRY, AfterWriteFailed
from app.graph.params import Rows
from app.graph.queries import query
from app.intake.normalize import AnyEvent
from app.intake.plan import BatchPlan
from app.journeys.conditions import counted_events, matches_properties
from app.journeys.engine import (
    BUCKET_MS,
    ActionRequest,
    Decided,
    Effects,
    EngineEvent,
    Enrollment,
    Walker,
    settle_moment,
)
from app.journeys.resolver import AcceptingResolver, ActionOutcome, ActionResolver, ResolverSession
from app.journeys.store import JourneyStore, LifecycleError, NotFound
from app.journeys.watermark import Watermark
from app.measurement.outbox import batch_params, engine_records
from graph_models.ids import sorted_json
from graph_models.journey import CountSpec, JourneyDefinition, PropertyCondition
from graph_models.principal import Principal
from graph_models.segment import Group, Identify, Page, Screen, Track

log = logging.getLogger("journeys.engine")
SWEEP_BUCKETS = 1440  # minute buckets looked up per due-timer query (a day)
T = TypeVar("T")
ENGINE_PRINCIPAL = "journeys-engine"  # who the engine's own lifecycle changes are recorded as
# Errors that retry the whole transaction (a conflict, the server away): never an engine failure.
_LATEST_MS = 2**62  # "no upper bound" for time-window reads
_RETRIED = (TransientError, ServiceUnavailable, SessionExpired, ConstraintError)


@dataclass(frozen=True)
class EngineFailure:
    """One journey version failed on one event: recorded as an `EngineFailure` node, re-applied later.

    `kind`: `engine` (the walker raised), `resolver`, `write` (writing the engine's changes failed, so the
    batch was written again without this version) or `skipped` (an earlier event of the same unit of work
    failed on this version, which was then skipped for the rest of it)."""

    version_key: str
    message_id: str
    kind: str
    error: str

    @property
    def failure_id(self) -> str:
        return f"{self.version_key}/{self.message_id}"


class EngineWriteFailed(AfterWriteFailed):
    """Writing the engine's changes failed (the transaction is unusable): write the batch again with
    these versions skipped; `context` maps each version key to (kind, error, the batch's messageIds)."""


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


def stored_event(props: Mapping[str, Any], person_id: str) -> EngineEvent:
    """An `Event` node's properties as the engine sees the event (for re-applying failures)."""
    kind = str(props.get("type") or "track")
    fields: dict[str, Any] = {}
    if kind in ("track", "page", "screen"):
        fields = json.loads(props.get("properties") or "{}")
    if kind in ("page", "screen"):
        fields.setdefault("name", props.get("name"))
        fields.setdefault("category", props.get("category"))
    if kind in ("identify", "group"):
        fields = json.loads(props.get("traits") or "{}")
    name = str(props.get("event") or "") if kind == "track" else kind
    return EngineEvent(str(props["messageId"]), person_id, name, kind, int(props["timestampMs"]), fields)


def version_key(journey_id: str, version: int) -> str:
    return f"{journey_id}@{version}"


def step_key(journey_id: str, version: int, step_id: str) -> str:
    return f"{journey_id}@{version}/{step_id}"


@dataclass(frozen=True, slots=True)
class _Route:
    """A published version as the entry attempts see it (see `_Work.routes`)."""

    journey_id: str
    version: int
    key: str
    entry_event: str | None
    entry_where: list[PropertyCondition]
    broken: bool  # its definition failed to load


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
                 resolver: ActionResolver | None = None, failure_pause_after: int = 5) -> None:
        self.driver = driver
        self.database = database
        self.clock = clock or SystemClock()
        self.resolver = resolver or AcceptingResolver()
        self.failure_pause_after = failure_pause_after  # open failures that pause a version (0: never)
        self.stats = EngineStats()
        self._definitions: dict[tuple[str, str], JourneyDefinition] = {}
        self._counted: dict[tuple[str, str], set[str]] = {}
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

    def counted_events(self, key: str, checksum: str, definition: JourneyDefinition) -> set[str]:
        """The event names a version's count conditions count (cached by version and checksum)."""
        with self._lock:
            cached = self._counted.get((key, checksum))
        if cached is None:
            cached = counted_events(definition)
            with self._lock:
                self._counted[(key, checksum)] = cached
        return cached

    # -- one unit of engine work ---------------------------------------------------------------------
    def _session(self, tx: ManagedTransaction, traits: dict[str, Mapping[str, Any]], *, locked: bool,
                 persons: Collection[str] = ()) -> _Work:
        """A unit of work over the persons of `traits` (and `persons`); `locked`: `_load_people` locked them (or
        found them locked) before reading, so the resolver does not bump them again (the timer path reads
        unlocked)."""
        work = _Work(self, tx, self._versions(tx), traits)
        if locked:
            work.locked = set(traits) | set(persons)
        return work

    def after_ingest(self, tx: ManagedTransaction, plan: BatchPlan, extra: Sequence[EngineEvent] = ()) -> Effects:
        """Run the engine for a freshly written batch, inside the same transaction.

        A version that raises is undone and skipped for the rest of the batch, and the failure is written
        as graph data (the events land regardless). If writing the engine's changes fails, the transaction
        is unusable: `EngineWriteFailed` makes the store write the batch again, with `AFTER_WRITE_RETRY`
        naming the versions to skip. `extra`: the batch's segment membership changes (app/segments), applied
        after the batch's events."""
        written = plan.result.written
        if not written:
            return Effects()
        retry: Mapping[str, tuple[str, str, list[str]]] | None = AFTER_WRITE_RETRY.get()
        events = [engine_event(ev, w.personId, w.timestampMs) for ev, w in zip(plan.events, written, strict=True)]
        events += extra
        # The store locked (ingest/find_people) or created every person of `written` before reading them.
        locked = {w.personId for w in written}
        persons = sorted(locked | {e.person_id for e in extra})
        work = self._session(tx, {}, locked=True, persons=persons)
        for key, (kind, error, message_ids) in (retry or {}).items():
            work.skip.add(key)
            work.failures += [EngineFailure(key, m, kind, error) for m in message_ids]
        survivors = {survivor for _, survivor in plan.result.merges}
        # Everyone else is walked only through a live enrollment: their ended enrollments stay unread.
        full = work._entering(set(survivors), events)
        # A person this batch created (`ingest/create_persons`: none of their keys pointed at a person) has no
        # enrollment yet: unless an event of theirs may enter a version, there is nothing to read about them.
        created = {r["personId"] for r in plan.writes.rows.get("ingest/create_persons", ())}
        unread = created - full - {p for pair in plan.result.merges for p in pair}
        work.traits, enrollments = self._load_people(tx, [p for p in persons if p not in unread], locked, full)
        for pid in sorted(survivors):
            work.dedupe_after_merge(enrollments[pid], plan)
        work.expect_candidates(events, enrollments)
        work.prefetch_counts(events, enrollments)
        for event in events:
            work.apply(event, enrollments[event.person_id])
        self.stats.events += len(events)
        return self._commit_guarded(work, dict(retry or {}))

    def apply_events(self, tx: ManagedTransaction, events: Sequence[EngineEvent]) -> Effects:
        """Run the engine for events that are no batch's (segment changes found by a timer sweep, scheduled
        segment entries: app/segments), inside the caller's transaction."""
        if not events:
            return Effects()
        persons = sorted({e.person_id for e in events})
        traits, enrollments = self._load_people(tx, persons)
        work = self._session(tx, traits, locked=True, persons=persons)
        for event in events:
            work.apply(event, enrollments[event.person_id])
        self.stats.events += len(events)
        return self._commit_guarded(work, {})

    def _load_people(self, tx: ManagedTransaction, persons: list[str], locked: Collection[str] = (),
                     full: Collection[str] | None = None
                     ) -> tuple[dict[str, Mapping[str, Any]], dict[str, list[Enrollment]]]:
        """Lock the persons (but those in `locked`: already bumped in this transaction before anything was
        read about them), then read their traits and enrollments (`engine_load_people`). A person not in
        `full` (None: everyone is) comes back with their live enrollments only, and traits only with one:
        the caller walks them through a live enrollment or not at all."""
        traits: dict[str, Mapping[str, Any]] = {}
        enrollments: dict[str, list[Enrollment]] = defaultdict(list)
        rows = [{"personId": pid, "lock": pid not in locked, "full": full is None or pid in full}
                for pid in persons]
        for r in tx.run(query("journeys/engine_load_people"), persons=rows):
            pid = r["personId"]
            if r["traits"] is not None:
                traits[pid] = r["traits"]
            for props in r["enrollments"]:
                en = Enrollment.from_props(props)
                en.person_id = pid
                enrollments[pid].append(en)
        return traits, enrollments

    def _commit_guarded(self, work: _Work, retry: dict[str, tuple[str, str, list[str]]]) -> Effects:
        """Write the unit of work and its failures. A failed write asks for the batch again without half
        of the versions that had changes in it (all of them when one is left): each retry halves the
        suspects, so with two versions the innocent one is written on the first retry."""
        try:
            work.release_live_keys()
            fx = work.commit()
            work.record_failures()
            return fx
        except _RETRIED:
            raise
        except Exception as exc:
            suspects = sorted(work.versions_with_effects() - set(retry))
            if not suspects:
                raise
            suspects = suspects[:(len(suspects) + 1) // 2]
            error = f"{type(exc).__name__}: {exc}"[:1000]
            log.error("writing journey effects failed (%s); writing the batch again without %s",
                      error, ", ".join(suspects))
            for key in suspects:
                retry[key] = ("write", error, sorted(work.touched.get(key, set())))
            raise EngineWriteFailed(retry) from exc

    def reapply(self, journey_id: str, version: int, *, by: str = ENGINE_PRINCIPAL, chunk: int = 200
                ) -> tuple[int, int, int]:
        """Apply a version's open failures again (the version fixed, and published or archived), oldest event
        first, `chunk` per transaction; each applied failure is resolved in the transaction that applies
        it, so running it again does nothing twice. Stops at the first chunk where the version fails again.
        Returns (re-applied, failed again, still open)."""
        key = version_key(journey_id, version)
        done = failed = 0
        while True:
            with self.driver.session(database=self.database) as session:
                applied, again = session.execute_write(self._reapply_chunk, key, chunk, by)
            done += applied
            failed += again
            if again or applied < chunk:
                break
        records = self.driver.execute_query(query("journeys/failures_count_open"), key=key,
                                            database_=self.database).records
        return done, failed, int(records[0]["open"]) if records else 0

    def _reapply_chunk(self, tx: ManagedTransaction, key: str, limit: int, by: str) -> tuple[int, int]:
        versions = self._versions(tx)
        status = versions.status.get(key)
        if status is None:
            raise NotFound(f"no journey version {key}")
        if status not in ("published", "archived"):
            raise LifecycleError(f"{key} is {status}: publish (resume) it before re-applying its failures")
        rows = tx.run(query("journeys/failures_open"), key=key, limit=limit).data()
        if not rows:
            return 0, 0
        persons = sorted({r["personId"] for r in rows})
        traits, enrollments = self._load_people(tx, persons)
        work = self._session(tx, traits, locked=True, persons=persons)
        work.only = key
        for r in rows:
            work.apply(stored_event(r["event"], r["personId"]), enrollments[r["personId"]])
        again = {f.failure_id for f in work.failures}
        work.release_live_keys()
        work.commit()
        work.record_failures()
        resolved = [r["failureId"] for r in rows if r["failureId"] not in again]
        tx.run(query("journeys/failures_resolve"), ids=resolved, atMs=self.clock.now_ms(), by=by).consume()
        return len(resolved), len(again)

    def failures(self, journey_id: str, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """A journey's engine failures, newest first (`EngineFailureInfo` fields)."""
        records = self.driver.execute_query(query("journeys/failures_list"), journeyId=journey_id, status=status,
                                            limit=limit, database_=self.database).records
        return [r.data() for r in records]

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
                self.stats.timers_fired += fired  # counted as committed (a later step of the sweep may fail)
                if fired < limit:
                    break
            if held is None:
                rows = self.driver.execute_query(query("journeys/engine_due_held"), buckets=buckets, nowMs=now,
                                                 database_=self.database).records
                held = rows[0]["earliest"] if rows else None
        self.driver.execute_query(query("journeys/engine_advance_cursor"), sweepId=sweep_id,
                                  bucket=min(held, last) if held is not None else last, database_=self.database)
        return total

    def _fire_batch(self, tx: ManagedTransaction, buckets: list[int], now: int, limit: int,
                    paused: list[str]) -> int:
        rows = list(tx.run(query("journeys/engine_due"), buckets=buckets, nowMs=now, limit=limit, paused=paused))
        if not rows:
            return 0
        traits = {r["personId"]: r["traits"] for r in rows}
        work = self._session(tx, traits, locked=False)
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


def _outcome_props(outcome: ActionOutcome | None) -> dict[str, Any]:
    """What the resolver said about a request, as ActionRequest properties."""
    if outcome is None:
        return {"status": "error", "reason": "not decided"}
    return {**dict(outcome.props), "status": outcome.status, "reason": outcome.reason or None,
            "deferUntilMs": outcome.defer_until_ms}


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
        self._entry_memo: dict[tuple[str, str], bool] = {}  # (version key, messageId) -> may enter
        # (personId, event name) -> (fromMs read, [(atMs, properties)]): a person's events of one name, read
        # once per unit of work for every count condition on them (the engine writes no events meanwhile)
        self._events: dict[tuple[str, str], tuple[int, list[tuple[int, dict[str, Any]]]]] = {}
        # (persons, earliest ms): who will probably have candidates in this unit of work; the resolver reads
        # them all in one round trip when it opens, instead of one read per moment (others still read lazily)
        self.expected: tuple[list[str], int] | None = None
        self.decisions: ResolverSession | None = None  # opened at the first action request
        self.locked: set[str] = set()  # persons bumped in this transaction before anything was read about them
        self.outcomes: dict[str, ActionOutcome] = {}
        self.failures: list[EngineFailure] = []  # written by record_failures
        self.skip: set[str] = set()  # versions that failed in this unit of work: left alone from then on
        self.only: str | None = None  # re-applying failures: only this version runs
        self.touched: dict[str, set[str]] = defaultdict(set)  # version key -> messageIds that changed it
        # The published versions (`only` applied) as (journeyId, version, key, entry event, entry where, broken):
        # built once per unit of work; `_routes` keeps, per event name, those that event may enter.
        self._route_table: list[_Route] | None = None
        self._routes: dict[str, list[_Route]] = {}

    def _traits_of(self, person_id: str) -> Mapping[str, Any]:
        return self.traits.get(person_id, {})

    def _count(self, person_id: str, spec: CountSpec, basis_ms: int) -> int:
        since = basis_ms - spec.within.ms if spec.within else 0
        held = self._events.get((person_id, spec.event))
        if held is None or held[0] > since:  # one read per person and event name, from the earliest window
            rows = self.tx.run(query("journeys/engine_count_events"), personId=person_id, event=spec.event,
                               fromMs=since, toMs=_LATEST_MS)
            held = (since, [(int(r["atMs"]), json.loads(r["properties"] or "{}")) for r in rows])
            self._events[(person_id, spec.event)] = held
        return sum(1 for at, props in held[1] if since <= at <= basis_ms and matches_properties(spec.where, props))

    def walker(self, journey_id: str, version: int) -> Walker | None:
        """The walker for a version, or None when that version is paused (its people hold still)."""
        key = version_key(journey_id, version)
        if key in self.skip or (self.only is not None and key != self.only):
            return None
        if key not in self._walkers:
            status = self.versions.status.get(key)
            if status is None or status == "paused":
                self._walkers[key] = None
            else:
                definition = self.rt.definition(self.tx, journey_id, version, self.versions.checksum[key])
                self._walkers[key] = Walker(definition, version, self.effects, self._traits_of, self._count,
                                            self.decide)
        return self._walkers[key]

    def decide(self, requests: Sequence[ActionRequest]) -> dict[str, Decided]:
        """Ask the resolver about one moment's requests. A resolver that raises gives `error` outcomes (the
        steps go on by `on_blocked`, else `next`) instead of failing the batch's events."""
        opened = self.decisions is None
        if self.decisions is None:
            self.decisions = self.rt.resolver.session(self.tx)
            assume_locked = getattr(self.decisions, "assume_locked", None)
            if assume_locked is not None and self.locked:
                assume_locked(self.locked)  # no second lock bump on these persons
        try:
            preload = getattr(self.decisions, "load_people", None) if opened and self.expected else None
            if preload is not None and self.expected is not None:
                preload(*self.expected)
            answers = self.decisions.decide(requests)
        except _RETRIED:
            raise
        except Exception as exc:
            log.exception("the resolver failed on %d request(s)", len(requests))
            reason = f"resolver error: {type(exc).__name__}: {exc}"[:500]
            answers = {r.action_id: ActionOutcome(r.action_id, "error", reason) for r in requests}
        self.outcomes.update(answers)
        return {aid: Decided(o.status, o.reason, o.defer_until_ms) for aid, o in answers.items()}

    def settle_moment(self) -> None:
        """Decide every request reached at this moment (one event), then go on from each action step."""
        settle_moment(self.effects, self.decide, lambda r: self.walker(r.journey_id, r.version),
                      lambda r: self.effects.enrollments.get(r.enrollment_id))

    def dedupe_after_merge(self, enrollments: list[Enrollment], plan: BatchPlan) -> None:
        """Two merged persons in the same journey: the earliest enrollment stays, the others exit.

        The merge cleared the moved enrollments' `liveKey`; the one that stays is written again so it
        gets the survivor's key (after the others released theirs)."""
        by_journey: dict[str, list[Enrollment]] = defaultdict(list)
        for en in enrollments:
            if en.live:
                by_journey[en.journey_id].append(en)
        at = max((w.timestampMs for w in plan.result.written), default=0)
        trigger = plan.result.written[0].messageId if plan.result.written else "merge"
        for live in by_journey.values():
            live.sort(key=lambda e: (e.entered_at_ms, e.enrollment_id))
            kept = live[0]
            if self.walker(kept.journey_id, kept.version) is not None:
                self.effects.touch(kept)
            for extra in live[1:]:
                walker = self.walker(extra.journey_id, extra.version)
                if walker is not None:
                    self.guarded(version_key(extra.journey_id, extra.version), trigger,
                                 partial(walker.finish, extra, "exited", "merged_duplicate",
                                         max(at, extra.updated_at_ms), "merge"), extra)

    def guarded(self, key: str, message_id: str, fn: Callable[[], T], *enrollments: Enrollment,
                kind: str = "engine") -> T | None:
        """Run `fn` (engine or resolver work of version `key` on one event); None if it raised.

        On an exception the enrollments given and every effects list/dict are put back as they were,
        the failure is recorded against the version and the event, and the version is skipped for the
        rest of this unit of work (its later events are recorded as `skipped`). Server errors that retry
        the whole transaction (conflicts, the server away) pass through."""
        if key in self.skip:
            if not any(f.version_key == key and f.message_id == message_id for f in self.failures):
                self.failures.append(EngineFailure(key, message_id, "skipped",
                                                   "an earlier event of the same batch failed on this version"))
            return None
        saved = [(en, dict(vars(en))) for en in enrollments]
        marks = _marks(self.effects)
        try:
            result = fn()
        except _RETRIED:
            raise
        except Exception as exc:
            for en, state in saved:
                vars(en).clear()
                vars(en).update(state)
            _restore(self.effects, marks)
            log.exception("journey version %s failed on %s; recorded and skipped for this batch", key, message_id)
            self.skip.add(key)
            self.failures.append(EngineFailure(key, message_id, kind, f"{type(exc).__name__}: {exc}"[:1000]))
            return None
        if _marks(self.effects) != marks:
            self.touched[key].add(message_id)
        return result

    def versions_with_effects(self) -> set[str]:
        """The versions this unit of work changes something in (suspects when writing it fails)."""
        keys = {version_key(en.journey_id, en.version) for en in self.effects.enrollments.values()}
        return keys | {version_key(a.journey_id, a.version) for a in self.effects.actions}

    def may_enter(self, key: str, entry_event: str | None, where: list[PropertyCondition],
                  event: EngineEvent) -> bool:
        """False when `event` cannot enter version `key` (another name, or its `where` fails); True for an
        entry on any event. An error in the check says True, so the guarded attempt records it against the
        version. Memoized per unit of work: the batch's reads and the walk ask it for every (version, event)."""
        if entry_event is None:
            return True
        if entry_event != event.name:
            return False
        memo = (key, event.message_id)
        found = self._entry_memo.get(memo)
        if found is None:
            try:
                found = matches_properties(where, event.properties)
            except Exception:
                found = True
            self._entry_memo[memo] = found
        return found

    def _usable_definitions(self) -> list[tuple[str, JourneyDefinition]]:
        """(version key, definition) of every published version not skipped in this unit of work; a broken
        version is left out here (it fails, and is recorded, where it is used)."""
        out = []
        for journey_id, version in self.versions.published:
            key = version_key(journey_id, version)
            if key in self.skip:
                continue
            try:
                out.append((key, self.rt.definition(self.tx, journey_id, version, self.versions.checksum[key])))
            except _RETRIED:
                raise
            except Exception:
                continue
        return out

    def _route_list(self) -> list[_Route]:
        """The published versions this unit of work may run (`only` applied), each with its entry event and
        `where`; a version whose definition fails to load is `broken` (tried on every event, so the guarded
        attempt records the failure against the version)."""
        if self._route_table is None:
            table: list[_Route] = []
            for journey_id, version in self.versions.published:
                key = version_key(journey_id, version)
                if self.only is not None and key != self.only:
                    continue
                try:
                    entry = self.rt.definition(self.tx, journey_id, version, self.versions.checksum[key]).entry
                except _RETRIED:
                    raise
                except Exception:
                    table.append(_Route(journey_id, version, key, None, [], True))
                    continue
                table.append(_Route(journey_id, version, key, entry.event, entry.where, False))
            self._route_table = table
        return self._route_table

    def routes(self, name: str) -> list[_Route]:
        """The versions (published order) an event named `name` may enter: entry on that name or on any."""
        found = self._routes.get(name)
        if found is None:
            found = [r for r in self._route_list() if r.entry_event is None or r.entry_event == name]
            self._routes[name] = found
        return found

    def _entering(self, persons: set[str], events: list[EngineEvent], keys: Collection[str] | None = None
                  ) -> set[str]:
        """`persons` plus everyone with an event that may enter a usable version (of `keys`, when given)."""
        for ev in events:
            if ev.person_id in persons:
                continue
            for r in self.routes(ev.name):
                if (not r.broken and r.key not in self.skip and (keys is None or r.key in keys)
                        and self.may_enter(r.key, r.entry_event, r.entry_where, ev)):
                    persons.add(ev.person_id)
                    break
        return persons

    def expect_candidates(self, events: list[EngineEvent], enrollments: Mapping[str, list[Enrollment]]) -> None:
        """Note who may reach an action step in this batch (a person with a live enrollment, or with an event
        that matches a published version's entry event and conditions), so the resolver reads them at once.
        A guess, never a rule: a person left out is read when their first candidate comes."""
        persons = self._entering({p for p, ens in enrollments.items() if any(en.live for en in ens)}, events)
        if persons and events:
            self.expected = (sorted(persons), min(ev.timestamp_ms for ev in events))

    def prefetch_counts(self, events: list[EngineEvent], enrollments: Mapping[str, list[Enrollment]]) -> None:
        """Read in one round trip the events count conditions may count, for everyone who may evaluate one in
        this batch: a live enrollment on a version with count conditions, or an event entering one. A guess,
        never a rule: a count for anyone else is read when asked (`_count`)."""
        names: set[str] = set()
        keys: set[str] = set()
        counting: set[str] = set()
        for key, definition in self._usable_definitions():
            counted = self.rt.counted_events(key, self.versions.checksum[key], definition)
            if counted:
                names |= counted
                counting.add(definition.id)
                keys.add(key)
        if not names:
            return
        persons = self._entering({p for p, ens in enrollments.items()
                                  if any(en.live and en.journey_id in counting for en in ens)}, events, keys)
        if not persons:
            return
        held: dict[tuple[str, str], list[tuple[int, dict[str, Any]]]] = {
            (p, n): [] for p in persons for n in names}
        for r in self.tx.run(query("journeys/engine_count_events_batch"), persons=sorted(persons),
                             events=sorted(names)):
            held[(r["personId"], r["event"])].append((int(r["atMs"]), json.loads(r["properties"] or "{}")))
        for pair, rows in held.items():
            self._events[pair] = (-_LATEST_MS, rows)

    def release_live_keys(self) -> None:
        """Clear `liveKey` on enrollments this unit of work ends, before any new one claims the key."""
        ended = [en.enrollment_id for en in self.effects.enrollments.values()
                 if not en.live and en.loaded_step is not None]
        if ended:
            self.tx.run(query("journeys/engine_release_live_keys"), ids=ended).consume()

    def record_failures(self) -> None:
        """Write the failures as `EngineFailure` nodes; pause versions with too many open ones."""
        if not self.failures:
            return
        now = self.rt.clock.now_ms()
        rows: dict[str, dict[str, Any]] = {}
        for f in self.failures:  # the first failure of a (version, event) says why
            rows.setdefault(f.failure_id, {
                "failureId": f.failure_id, "versionKey": f.version_key, "messageId": f.message_id,
                "props": {"failureId": f.failure_id, "versionKey": f.version_key, "messageId": f.message_id,
                          "kind": f.kind, "error": f.error, "atMs": now}})
        self.tx.run(query("journeys/engine_record_failures"), rows=list(rows.values())).consume()
        limit = self.rt.failure_pause_after
        keys = sorted({f.version_key for f in self.failures if f.kind != "skipped"})
        if limit <= 0 or not keys:
            return
        for r in self.tx.run(query("journeys/engine_failure_counts"), keys=keys).data():
            if r["status"] == "published" and r["open"] >= limit:
                pause_for_failures(self.tx, self.rt, r["journeyId"], int(r["version"]), int(r["open"]))

    def _on_event(self, en: Enrollment, event: EngineEvent) -> None:
        walker = self.walker(en.journey_id, en.version)
        if walker is not None and en.live:
            walker.on_event(en, event)

    def _enter(self, journey_id: str, version: int, event: EngineEvent, enrollments: list[Enrollment]
               ) -> Enrollment | None:
        walker = self.walker(journey_id, version)
        if walker is not None and walker.wants(event, event.person_id, enrollments):
            return walker.enter(event.person_id, event)
        return None

    def _concerns(self, journey_id: str, version: int, event: EngineEvent, enrollments: list[Enrollment]) -> bool:
        """Could the event matter to a skipped version (a live enrollment on it, or its entry event)?"""
        key = version_key(journey_id, version)
        if key not in self.skip:
            return True
        if any(en.live and version_key(en.journey_id, en.version) == key for en in enrollments):
            return True
        try:
            entry = self.rt.definition(self.tx, journey_id, version, self.versions.checksum[key]).entry.event
        except _RETRIED:
            raise
        except Exception:
            return True
        return entry is None or entry == event.name

    def apply(self, event: EngineEvent, enrollments: list[Enrollment]) -> None:
        if enrollments:
            for en in list(enrollments):
                key = version_key(en.journey_id, en.version)
                if (en.live and (self.only is None or key == self.only)
                        and self.versions.status.get(key) != "paused"):
                    self.guarded(key, event.message_id, partial(self._on_event, en, event), en)
        if self.skip:
            self._enter_all(event, enrollments)
        else:  # no version failed so far: only the versions this event's name may enter
            for r in self.routes(event.name):
                if r.key in self.skip or (r.entry_event is not None
                                          and not self.may_enter(r.key, r.entry_event, r.entry_where, event)):
                    continue
                entered = self.guarded(r.key, event.message_id, partial(self._enter, r.journey_id, r.version,
                                                                        event, enrollments))
                if entered is not None:
                    enrollments.append(entered)
                    self.rt.stats.enrolled += 1
        if self.effects.pending:
            self.settle_moment()

    def _enter_all(self, event: EngineEvent, enrollments: list[Enrollment]) -> None:
        """Entry attempts once a version failed in this unit of work: every published version, so a skipped
        one the event concerns records it as `skipped`."""
        for journey_id, version in self.versions.published:
            key = version_key(journey_id, version)
            if (self.only is not None and key != self.only) or not self._concerns(journey_id, version, event,
                                                                                   enrollments):
                continue
            built = self._walkers.get(key)  # known not to enter on this event: skip the guard's cost
            if (built is not None and key not in self.skip and built.d.entry.event is not None
                    and not self.may_enter(key, built.d.entry.event, built.d.entry.where, event)):
                continue
            entered = self.guarded(key, event.message_id, partial(self._enter, journey_id, version, event,
                                                                  enrollments))
            if entered is not None:
                enrollments.append(entered)
                self.rt.stats.enrolled += 1

    def commit(self) -> Effects:
        """Resolve action requests and write every change of this unit of work. The statements' rows are
        built one step ahead, in a helper thread, while the graph runs the previous statement."""
        fx = self.effects
        if not fx:
            return fx
        for name, params in built_ahead(self._statements(fx, self.outcomes, self.rt.clock.now_ms())):
            if name == _FLUSH_DECISIONS:
                if self.decisions is not None:
                    self.decisions.flush()
                continue
            self.tx.run(query(name), **params).consume()
        self.rt.stats.transitions += len(fx.visits)
        self.rt.stats.actions += len(fx.actions)
        return fx

    @staticmethod
    def _statements(fx: Effects, outcomes: Mapping[str, ActionOutcome], now_ms: int
                    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """The write statements of `fx` in order, as (query name, parameters); pure: reads `fx` and
        `outcomes` only (see `commit`). `_FLUSH_DECISIONS` marks where the resolver's decisions are written
        (after their ActionRequest nodes exist)."""
        created = [en for en in fx.enrollments.values() if en.loaded_step is None]
        updated = [en for en in fx.enrollments.values() if en.loaded_step is not None]
        if created:
            yield "journeys/engine_create_enrollments", {"rows": Rows([
                {"props": en.to_props(), "personId": en.person_id,
                 "versionKey": version_key(en.journey_id, en.version),
                 "stepKey": step_key(en.journey_id, en.version, en.step_id)}
                for en in created
            ])}
        if updated:
            yield "journeys/engine_update_enrollments", {"rows": Rows([
                {"props": en.to_props(), "stepKey": step_key(en.journey_id, en.version, en.step_id),
                 "moved": en.step_id != en.loaded_step}
                for en in updated
            ])}
        buckets = [b for en in fx.enrollments.values() if (b := en.wake_bucket) is not None]
        if buckets:
            yield "journeys/engine_lower_cursor", {"bucket": min(buckets)}
        versions = {en.enrollment_id: (en.journey_id, en.version) for en in fx.enrollments.values()}
        if fx.visits:
            yield "journeys/engine_write_visits", {"rows": Rows([
                {"enrollmentId": v.enrollment_id, "stepKey": step_key(*versions[v.enrollment_id], v.step_id),
                 "seq": v.seq, "atMs": v.at_ms, "path": v.path, "trigger": v.trigger, "detail": v.detail}
                for v in fx.visits
            ])}
        if fx.entered_by:
            yield "journeys/engine_write_entries", {"rows": Rows([
                {"enrollmentId": e, "messageId": m} for e, m in fx.entered_by
            ])}
        if fx.actions:
            yield "journeys/engine_write_actions", {"rows": Rows([
                {"actionId": a.action_id, "enrollmentId": a.enrollment_id, "personId": a.person_id,
                 "stepKey": step_key(a.journey_id, a.version, a.step_id), "trigger": a.trigger,
                 "props": {"actionId": a.action_id, "channel": a.channel, "template": a.template,
                           "content": sorted_json(a.content), "priority": a.priority,
                           "tags": a.tags or None, "atMs": a.at_ms, "variant": a.variant,
                           "journeyId": a.journey_id, "version": a.version, "stepId": a.step_id,
                           "fallback": [f"{c}:{t}" for c, t in a.fallback] or None,
                           "transactional": a.transactional, "score": a.score, "kind": "journey",
                           **_outcome_props(outcomes.get(a.action_id))}}
                for a in fx.actions
            ])}
            yield _FLUSH_DECISIONS, {}
        records = batch_params(engine_records(fx, outcomes), now_ms)  # the measurement outbox
        if records is not None:
            yield "measurement/write_batch", records


_FLUSH_DECISIONS = ""  # a `_Work._statements` item: the resolver's decisions are written here


def _marks(fx: Effects) -> dict[str, int]:
    """The length of every list and dict of the effects (new fields included, whoever adds them)."""
    return {name: len(v) for name, v in vars(fx).items() if type(v) is list or type(v) is dict}  # (hot path)


def _restore(fx: Effects, marks: Mapping[str, int]) -> None:
    """Drop what was appended or added to the effects since `marks` (dicts keep insertion order)."""
    for name, size in marks.items():
        value = getattr(fx, name)
        if isinstance(value, list):
            del value[size:]
        else:
            for extra in list(value)[size:]:
                del value[extra]


def pause_for_failures(tx: ManagedTransaction, rt: JourneyRuntime, journey_id: str, version: int, failures: int
                       ) -> None:
    """Pause a published version in the engine's transaction, with an AuditEntry like the lifecycle's."""
    store = JourneyStore(rt.driver, rt.database, clock=rt.clock)
    principal = Principal(name=ENGINE_PRINCIPAL, role="admin")
    try:
        store._lock_journey(tx, journey_id)
        store._transition(tx, journey_id, version, principal, "pause", ["published"], "paused",
                          lambda _v, now: {"pausedBy": ENGINE_PRINCIPAL, "pausedAtMs": now,
                                           "pausedReason": f"{failures} engine failures"})
    except LifecycleError:
        return  # paused or archived meanwhile
    log.error("journey %s v%d paused after %d engine failures", journey_id, version, failures)
