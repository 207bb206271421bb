"""Segment membership as graph data, kept current by streaming evaluation and durable timers.

- `Membership` evaluates people against published segments inside a caller's transaction: fixed named
  query `segments/facts` reads the facts (one row per person), `app.segments.evaluate` answers the
  conditions, changes are written as `(:Person)-[:IN_SEGMENT {sinceMs, messageId, reason}]->(:Segment)`
  plus a `(:SegmentChange)` in the person's history, and a person in windowed segments has one
  `(:SegmentTimer {key: personId})` holding each segment's next moment time alone could change the answer
  (written only when those moments change).
- `SegmentWriter` is the ingest hook (between person state and the journey engine): for each person in the
  batch it re-evaluates only the segments whose conditions mention one of the person's event names or
  changed traits (all of them after an identity merge), and hands the membership changes to the engine as
  events (`type: segment`, name `entered`/`left`, property `segment`).
- `SegmentTimers` sweeps due segment timers by minute bucket from `TimerCursor {id: 'segments'}` (the
  journeys' cursor protocol) so people leave (or join) when a window passes, and feeds the engine too.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
import logging
import os
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from neo4j import Driver, ManagedTransaction

from app.clock import Clock, SystemClock
from app.graph.queries import query
from app.intake.plan import BatchPlan
from app.journeys.engine import BUCKET_MS, EngineEvent
from app.journeys.watermark import Watermark
from app.segments.evaluate import (
    FactEvent,
    PersonFacts,
    evaluate,
    event_names,
    explain,
    fact_event,
    needs_properties,
    next_change_ms,
)
from app.segments.store import PublishedSegment, published_segments
from graph_models.segment import Group, Identify, Track
from graph_models.segments import ENTERED, LEFT, SEGMENT_EVENT_TYPE, Mentions, mentions

log = logging.getLogger("journeys.segments")
SWEEP_BUCKETS = 1440
EngineHook = Callable[[ManagedTransaction, BatchPlan, Sequence[EngineEvent]], object]
EventsSink = Callable[[ManagedTransaction, Sequence[EngineEvent]], object]


class _ChangeIds:
    """SegmentChange ids: a random prefix per process and a counter (a uuid4 per change cost more than the
    rest of the row); a forked child takes a new prefix so it never repeats its parent's ids."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.prefix = uuid.uuid4().hex
        self.counter = itertools.count(1)

    def next(self) -> str:
        return f"{self.prefix}-{next(self.counter)}"


_CHANGE_IDS = _ChangeIds()
os.register_at_fork(after_in_child=_CHANGE_IDS.reset)


@dataclass(frozen=True)
class Change:
    """One person entering or leaving one segment."""

    person_id: str
    segment_id: str
    version: int
    change: str  # entered | left
    at_ms: int
    message_id: str  # the event that caused it, or 'timer' / 'batch:<evaluationId>'
    reason: str

    def row(self) -> dict[str, Any]:
        return {"changeId": _CHANGE_IDS.next(), "personId": self.person_id, "segmentId": self.segment_id,
                "version": self.version, "atMs": self.at_ms, "at": iso(self.at_ms), "messageId": self.message_id,
                "reason": self.reason}

    def engine_event(self) -> EngineEvent:
        """The change as the journey engine sees it: entry `segment: <id>`, exit `left_segment: <id>`."""
        return EngineEvent(f"{self.message_id}#segment:{self.segment_id}:{self.change}", self.person_id,
                           self.change, SEGMENT_EVENT_TYPE, self.at_ms,
                           {"segment": self.segment_id, "reason": self.reason})


@functools.lru_cache(maxsize=1024)  # a batch writes many changes at the same time
def iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


Timer = dict[str, int]  # a person's segment timer: segment id -> the next time it could change by time alone


def timer_of(value: Any) -> Timer | None:
    """A `facts` row's `timer` ([segments, wakes] or null) as a map."""
    if not value:
        return None
    segments, wakes = [*value, None, None][:2]
    return {str(s): int(w) for s, w in zip(segments or [], wakes or [], strict=False) if s is not None
            and w is not None}


@dataclass
class Trigger:
    """Why a person is being evaluated: the basis time, the causing message and a word for the reason."""

    at_ms: int
    message_id: str
    reason: str


@dataclass(frozen=True)
class Known:
    """A person's facts a caller already holds and has proven current inside its transaction (so `apply`
    does not read them again): the facts, current memberships and segment timer."""

    facts: PersonFacts
    current: set[str]
    timer: Timer | None


@dataclass
class Outcome:
    changes: list[Change] = field(default_factory=list)
    evaluated: int = 0
    missing: set[str] = field(default_factory=set)  # people not found (merged away or erased meanwhile)


class Membership:
    """Evaluate people against segments and write what changed, inside the caller's transaction."""

    @staticmethod
    def read_facts(tx: ManagedTransaction, persons: Sequence[str], segments: Sequence[PublishedSegment],
                   now_ms: int) -> dict[str, Known]:
        """The facts of `persons` for `segments` (events only of the names they count, since the largest
        window), each person's current memberships and segment timer."""
        found: dict[str, Known] = {}
        if not persons:
            return found
        params = event_params(segments, now_ms)
        for r in tx.run(query("segments/facts"), persons=list(persons), **params):
            pid, person, segs = person_facts(r)
            found[pid] = Known(person, segs, timer_of(r["timer"]))
        return found

    def apply(self, tx: ManagedTransaction, wanted: Mapping[str, Sequence[PublishedSegment]],
              triggers: Mapping[str, Trigger], *, timers: bool = True, known: Mapping[str, Known] | None = None,
              live: set[str] | None = None) -> Outcome:
        """Evaluate each person of `wanted` for their segments at their trigger's time; write the changes
        and, with `timers`, the person's segment timer (the evaluated windowed segments' next wakes beside
        the others' kept ones; entries for segments not in `live`, when given, are dropped). The facts of
        people in `known` are not read again."""
        out = Outcome()
        persons = sorted(p for p, segs in wanted.items() if segs)
        if not persons:
            return out
        known = known or {}
        every: dict[str, PublishedSegment] = {s.segment_id: s for segs in wanted.values() for s in segs}
        unread = [p for p in persons if p not in known]
        latest = max((triggers[p].at_ms for p in unread), default=0)
        read = self.read_facts(tx, unread, list(every.values()), latest) if unread else {}
        set_rows: list[dict[str, Any]] = []
        new_rows: list[dict[str, Any]] = []
        clear: list[str] = []
        for pid in persons:
            state = known.get(pid) or read.get(pid)
            if state is None:  # merged away or erased meanwhile
                out.missing.add(pid)
                continue
            person, trig = state.facts, triggers[pid]
            until = _until(person, trig.at_ms)
            answers: dict[str, bool] = {}  # segments with the same condition are evaluated once per person
            wakes: dict[str, int | None] = {}
            timer: Timer = {s: w for s, w in (state.timer or {}).items() if live is None or s in live}
            for seg in wanted[pid]:
                out.evaluated += 1
                cond, same = seg.definition.condition, _condition_key(seg)
                if same not in answers:
                    answers[same] = evaluate(cond, until, trig.at_ms)
                now_in = answers[same]
                was_in = seg.segment_id in state.current
                if now_in != was_in:
                    out.changes.append(Change(pid, seg.segment_id, seg.version, ENTERED if now_in else LEFT,
                                              trig.at_ms, trig.message_id,
                                              f"{trig.reason}: {explain(cond, person, trig.at_ms)}"[:500]))
                if not timers:
                    continue
                timer.pop(seg.segment_id, None)
                if _windowed(seg):
                    if same not in wakes:
                        wakes[same] = next_change_ms(cond, person, trig.at_ms)
                    wake = wakes[same]
                    if wake is not None:
                        timer[seg.segment_id] = wake
            if timers and timer != (state.timer or {}):
                if timer:
                    segs = sorted(timer)
                    first = min(timer.values())
                    (set_rows if state.timer is not None else new_rows).append(
                        {"personId": pid, "segments": segs, "wakes": [timer[s] for s in segs], "wakeAtMs": first,
                         "wakeBucket": first // BUCKET_MS})
                else:
                    clear.append(pid)
        self.write(tx, out.changes)
        if clear:
            tx.run(query("segments/timer_clear"), keys=clear).consume()
        if set_rows:
            tx.run(query("segments/timer_set"), rows=set_rows).consume()
        if new_rows:  # read as absent under the person's lock: no MERGE lookup
            tx.run(query("segments/timer_create"), rows=new_rows).consume()
        if set_rows or new_rows:
            tx.run(query("segments/timer_lower_cursor"),
                   bucket=min(r["wakeBucket"] for r in set_rows + new_rows)).consume()
        return out

    @staticmethod
    def write(tx: ManagedTransaction, changes: Sequence[Change]) -> None:
        entered = [c.row() for c in changes if c.change == ENTERED]
        left = [c.row() for c in changes if c.change == LEFT]
        if left:
            tx.run(query("segments/membership_leave"), rows=left).consume()
        if entered:
            tx.run(query("segments/membership_enter"), rows=entered).consume()


_MENTIONS: dict[str, Mentions] = {}


def _mentions(seg: PublishedSegment) -> Mentions:
    found = _MENTIONS.get(seg.checksum)
    if found is None:
        found = _MENTIONS[seg.checksum] = mentions(seg.definition.condition)
    return found


_CONDITION_KEYS: dict[str, str] = {}


def _condition_key(seg: PublishedSegment) -> str:
    """The segment's condition as canonical JSON (segments may share a condition), cached by checksum."""
    found = _CONDITION_KEYS.get(seg.checksum)
    if found is None:
        if len(_CONDITION_KEYS) >= 10_000:
            _CONDITION_KEYS.clear()
        found = _CONDITION_KEYS[seg.checksum] = json.dumps(
            seg.definition.condition.model_dump(mode="json", by_alias=True), sort_keys=True)
    return found


def _windowed(seg: PublishedSegment) -> bool:
    return _mentions(seg).windowed


def event_params(segments: Sequence[PublishedSegment], now_ms: int) -> dict[str, Any]:
    """The event parameters of the facts queries for `segments`: the names they count (`names`), since when
    (`fromMs`: the largest window, or everything) and whether properties are needed (`props`)."""
    conditions = [s.definition.condition for s in segments]
    names = sorted(event_names(conditions))
    seen = [mentions(c) for c in conditions]
    since = 0 if not seen or any(m.unbounded for m in seen) else now_ms - max(m.max_window_ms for m in seen)
    return {"names": names, "fromMs": since, "props": needs_properties(conditions)}


def person_facts(row: Any) -> tuple[str, PersonFacts, set[str]]:
    """A `facts` / `facts_scan` row as (personId, facts with events in time order, current segment ids)."""
    pid = str(row["personId"])
    traits = row["traits"] or {}
    if isinstance(traits, list):  # facts_scan: only the [key, value] pairs the condition reads
        traits = {k: v for k, v in traits if v is not None}
    events = sorted((fact_event(e) for e in row["events"] or []), key=lambda e: e.timestamp_ms)
    person = PersonFacts(pid, traits, [a for a in row["accounts"] or [] if a], events, traits.get("userId"))
    return pid, person, {s for s in row["segments"] or [] if s}


def _until(facts: PersonFacts, now_ms: int) -> PersonFacts:
    """The facts without events later than `now_ms` (a late batch evaluates as of its own event time)."""
    if not facts.events or facts.events[-1].timestamp_ms <= now_ms:
        return facts
    kept: list[FactEvent] = [e for e in facts.events if e.timestamp_ms <= now_ms]
    return PersonFacts(facts.person_id, facts.traits, facts.accounts, kept, facts.user_id)


def relevant(segments: Iterable[PublishedSegment], names: set[str], traits: set[str], group: bool
             ) -> list[PublishedSegment]:
    """The segments an event of these names, these changed traits (or a group call) can change."""
    out = []
    for seg in segments:
        m = _mentions(seg)
        if m.events & names or m.traits & traits or (group and m.accounts):
            out.append(seg)
    return out


class SegmentWriter:
    """The streaming evaluation, an `EventStore.after_write` step between person state and the engine."""

    def __init__(self) -> None:
        self.membership = Membership()
        self.changes = 0

    def after_ingest(self, tx: ManagedTransaction, plan: BatchPlan) -> list[EngineEvent]:
        """Re-evaluate the batch's people for the segments their events can change; write the changes and
        return them as engine events (in time order)."""
        written = plan.result.written
        if not written:
            return []
        segments = published_segments(tx)
        if not segments:
            return []
        survivor = dict(plan.result.merges)
        names: dict[str, set[str]] = defaultdict(set)
        traits: dict[str, set[str]] = defaultdict(set)
        group: set[str] = set()
        triggers: dict[str, Trigger] = {}
        for ev, w in zip(plan.events, written, strict=True):
            pid = survivor.get(w.personId, w.personId)
            names[pid].add(ev.event if isinstance(ev, Track) else ev.type)
            if isinstance(ev, Identify):
                traits[pid] |= set(ev.traits)
            if isinstance(ev, Group):
                group.add(pid)
            if pid not in triggers or w.timestampMs >= triggers[pid].at_ms:
                triggers[pid] = Trigger(w.timestampMs, w.messageId, f"event {w.messageId}")
        merged = set(survivor.values())
        wanted: dict[str, list[PublishedSegment]] = {}
        for pid in triggers:
            if pid in merged:
                wanted[pid] = list(segments)
                triggers[pid].reason = "identity merge"
            else:
                wanted[pid] = relevant(segments, names[pid], traits[pid], pid in group)
        outcome = self.membership.apply(tx, wanted, triggers)
        self.changes += len(outcome.changes)
        return [c.engine_event() for c in sorted(outcome.changes, key=lambda c: c.at_ms)]

    def hook(self, then: EngineHook | None = None) -> Callable[[ManagedTransaction, BatchPlan], object]:
        """An `after_write` step: membership, then `then(tx, plan, segment_events)` (the journey engine)."""

        def after_write(tx: ManagedTransaction, plan: BatchPlan) -> object:
            events = self.after_ingest(tx, plan)
            return then(tx, plan, events) if then is not None else None

        return after_write


class SegmentTimers:
    """Fires due segment timers: re-evaluates the person for the segment at `now`, writes the change and
    hands it to `sink` (the journey engine's `apply_events`), in transactions of `limit` timers."""

    def __init__(self, driver: Driver, database: str, *, clock: Clock | None = None,
                 sink: EventsSink | None = None) -> None:
        self.driver = driver
        self.database = database
        self.clock = clock or SystemClock()
        self.sink = sink
        self.membership = Membership()
        self.fired = 0

    def fire_due(self, limit: int = 500, now_ms: int | None = None, *, watermark: Watermark | None = None) -> int:
        """Fire every segment timer due at `now` (default: the clock; with a watermark, no later than it)."""
        now = self.clock.now_ms() if now_ms is None else now_ms
        if watermark is not None:
            until = watermark.limit_ms(now)
            if until is None:
                return 0
            now = min(now, until)
        rows = self.driver.execute_query(query("segments/timer_cursor"), database_=self.database).records
        if not rows or rows[0]["bucket"] is None:
            return 0
        last = now // BUCKET_MS
        sweep_id = uuid.uuid4().hex
        begun = self.driver.execute_query(query("segments/timer_begin_sweep"), sweepId=sweep_id, target=last,
                                          database_=self.database).records
        cursor = int(begun[0]["bucket"])
        total = 0
        for first in range(cursor, last + 1, SWEEP_BUCKETS):
            buckets = list(range(first, min(first + SWEEP_BUCKETS, last + 1)))
            while True:
                with self.driver.session(database=self.database) as session:
                    fired = session.execute_write(self._fire_batch, buckets, now, limit)
                total += fired
                if fired < limit:
                    break
        self.driver.execute_query(query("segments/timer_advance_cursor"), sweepId=sweep_id, bucket=last,
                                  database_=self.database)
        self.fired += total
        return total

    def _fire_batch(self, tx: ManagedTransaction, buckets: list[int], now: int, limit: int) -> int:
        due = tx.run(query("segments/timer_due"), buckets=buckets, nowMs=now, limit=limit).data()
        if not due:
            return 0
        legacy = [r["key"] for r in due if r["key"] != r["personId"]]  # per (segment, person) timers
        if legacy:
            tx.run(query("segments/timer_clear"), keys=legacy).consume()
        live = {s.segment_id: s for s in published_segments(tx)}
        persons = sorted({r["personId"] for r in due})
        tx.run(query("segments/lock_people"), persons=persons).consume()
        wanted: dict[str, list[PublishedSegment]] = defaultdict(list)
        for r in due:
            for sid in r["segments"] or []:
                if sid in live and live[sid] not in wanted[r["personId"]]:
                    wanted[r["personId"]].append(live[sid])
        triggers = {pid: Trigger(now, "timer", "window passed") for pid in wanted}
        outcome = self.membership.apply(tx, wanted, triggers, live=set(live))
        idle = {r["personId"] for r in due if r["key"] == r["personId"] and not wanted.get(r["personId"])}
        gone = sorted(outcome.missing | idle)
        if gone:  # the person is gone or none of their timed segments is published any more
            tx.run(query("segments/timer_clear"), keys=gone).consume()
        if outcome.changes and self.sink is not None:
            self.sink(tx, [c.engine_event() for c in outcome.changes])
        return len(due)
