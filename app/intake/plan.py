"""Plan one batch's graph writes from validated events and what the graph already knows (pure)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.clock import to_iso
from app.decisions.timezones import context_timezone
from app.intake.identity import IdentityInput, KnownIdentity, identity_key, plan_identities
from app.intake.normalize import AnyEvent, epoch_ms
from app.intake.rows import RESERVED_ACCOUNT_KEYS, event_props, flatten_traits
from app.intake.sessions import SessionSpan, plan_sessions
from graph_models.ingest import IngestResult, WritePlan, WrittenEvent
from graph_models.segment import Alias, Group, Identify


@dataclass
class BatchPlan:
    """The write rows plus the result the consumer hands on (e.g. to the journey engine)."""

    writes: WritePlan
    result: IngestResult
    events: list[AnyEvent] = field(default_factory=list)


def unique_events(events: Sequence[AnyEvent], already_stored: set[str]) -> tuple[list[AnyEvent], list[str]]:
    """Drop repeats inside the batch and events already in the graph; sort by (timestamp, messageId)."""
    seen: set[str] = set()
    fresh: list[AnyEvent] = []
    dups: list[str] = []
    for ev in events:
        if ev.messageId in seen or ev.messageId in already_stored:
            dups.append(ev.messageId)
            continue
        seen.add(ev.messageId)
        fresh.append(ev)
    fresh.sort(key=lambda e: (e.timestamp, e.messageId))
    return fresh, dups


@dataclass
class PreparedBatch:
    """What planning a batch needs that does not depend on the graph, computed before its transaction opens
    (the consumer does it in its decode worker, under the previous batch's write).

    `fresh`, `repeats` and `windows` are exact for a batch none of whose events is stored or erased; the store
    recomputes them from `events` otherwise.
    """

    events: list[AnyEvent]  # as given
    ids: list[str]  # their messageIds, as given (the duplicate check)
    tombstones: list[str]  # the tombstone keys of their identities, sorted (the erasure check)
    fresh: list[AnyEvent]  # repeats inside the batch dropped, sorted by (timestamp, messageId)
    repeats: list[str]  # messageIds repeated inside the batch
    windows: dict[str, tuple[int, int]]  # identity_windows(fresh, gap)
    stamps: dict[str, int]  # messageId -> epoch ms of its timestamp
    props: dict[str, dict[str, Any]]  # messageId -> the Event node's properties
    inputs: dict[str, IdentityInput]  # messageId -> what identity resolution needs from the event


def prepare_batch(events: Sequence[AnyEvent], gap_ms: int, tombstone_keys: Callable[[AnyEvent], list[str]],
                  props: dict[str, dict[str, Any]] | None = None) -> PreparedBatch:
    """Everything about `events` the transaction does not have to compute (pure; `props` may be partial)."""
    all_props = dict(props) if props else {}
    for ev in events:
        if ev.messageId not in all_props:
            all_props[ev.messageId] = event_props(ev)
    stamps = {mid: int(p["timestampMs"]) for mid, p in all_props.items()}
    fresh, repeats = unique_events(events, set())
    return PreparedBatch(
        events=list(events), ids=[e.messageId for e in events],
        tombstones=sorted({k for ev in events for k in tombstone_keys(ev)}),
        fresh=fresh, repeats=repeats, windows=identity_windows(fresh, gap_ms, stamps), stamps=stamps,
        props=all_props, inputs={ev.messageId: _identity_input(ev, stamps[ev.messageId]) for ev in fresh})


def identity_keys(events: Sequence[AnyEvent]) -> list[str]:
    return sorted(identity_windows(events, 0))


def identity_windows(events: Sequence[AnyEvent], gap_ms: int,
                     stamps: dict[str, int] | None = None) -> dict[str, tuple[int, int]]:
    """Every identity key the batch mentions, with the time window its person's sessions must touch.

    An alias's previousId is looked up as both kinds. A merge unites windows in the planner, so a
    person's sessions are read through each of their keys and de-duplicated there.
    """
    lo_hi: dict[str, tuple[int, int]] = {}

    def add(key: str, ts: int) -> None:
        lo, hi = lo_hi.get(key, (ts, ts))
        lo_hi[key] = (min(lo, ts), max(hi, ts))

    for ev in events:
        ts = stamps[ev.messageId] if stamps is not None else epoch_ms(ev.timestamp)
        if ev.userId:
            add(identity_key("userId", ev.userId), ts)
        if ev.anonymousId:
            add(identity_key("anonymousId", ev.anonymousId), ts)
        if isinstance(ev, Alias):
            add(identity_key("userId", ev.previousId), ts)
            add(identity_key("anonymousId", ev.previousId), ts)
    return {k: (lo - gap_ms, hi + gap_ms) for k, (lo, hi) in lo_hi.items()}


def _identity_input(ev: AnyEvent, timestamp_ms: int) -> IdentityInput:
    return IdentityInput(
        type=ev.type,
        user_id=ev.userId,
        anonymous_id=ev.anonymousId,
        previous_id=ev.previousId if isinstance(ev, Alias) else None,
        timestamp_ms=timestamp_ms,
        message_id=ev.messageId,
    )



@dataclass
class BatchPlanner:
    """Two-phase planning: identities first (to know whose sessions to read), then everything else."""

    events: list[AnyEvent]
    known: list[KnownIdentity]
    new_id: Callable[[str], str]  # seed → id (see app.graph.event_store.stable_id)
    now_ms: int
    duplicates: list[str] = field(default_factory=list)
    props: dict[str, dict[str, Any]] | None = None
    prepared: PreparedBatch | None = None  # the batch's graph-independent part, when computed already

    def __post_init__(self) -> None:
        prep = self.prepared
        if prep is not None:
            self.stamps = [prep.stamps[e.messageId] for e in self.events]
            inputs = [prep.inputs[e.messageId] for e in self.events]
        else:
            self.stamps = [epoch_ms(e.timestamp) for e in self.events]
            inputs = [_identity_input(e, ts) for e, ts in zip(self.events, self.stamps, strict=True)]
        self.identity = plan_identities(inputs, self.known, self.new_id)
        renamed = {m.loser: m.survivor for m in self.identity.merges}
        self._known_users = {k.person_id: k.person_user_id for k in self.known}
        self._survivor = renamed

    def final(self, pid: str) -> str:
        while pid in self._survivor:
            pid = self._survivor[pid]
        return pid

    def plan(self, existing_sessions: Sequence[SessionSpan], gap_ms: int) -> BatchPlan:
        ident = self.identity
        spans = [
            SessionSpan(s.session_id, self.final(s.person_id), s.start_ms, s.end_ms, s.event_count)
            for s in existing_sessions
        ]
        sessions = plan_sessions(ident.event_person, self.stamps, spans, gap_ms, self.new_id)
        writes = WritePlan()
        writes.add("ingest/merge_persons", [
            {"loser": m.loser, "survivor": m.survivor, "messageId": m.message_id, "atMs": m.timestamp_ms,
             "reason": m.reason}
            for m in ident.merges
        ])
        persons = self._person_rows()
        writes.add("ingest/create_persons", [r for r in persons if r["personId"] in ident.new_persons])
        writes.add("ingest/update_persons", [self._known_person_row(r) for r in persons
                                             if r["personId"] not in ident.new_persons])
        first_seen = {pid: ts for pid, ts in reversed(list(zip(ident.event_person, self.stamps, strict=True)))}
        writes.add("ingest/link_identities", [
            {"key": key, "kind": kind, "value": value, "personId": pid, "atMs": first_seen.get(pid, self.now_ms)}
            for key, kind, value, pid in ident.links
        ])
        writes.add("ingest/apply_traits", self._trait_rows())
        writes.add("ingest/upsert_accounts", [
            {"groupId": ev.groupId, "personId": pid, "atMs": ts,
             "traits": flatten_traits(ev.traits, RESERVED_ACCOUNT_KEYS)}
            for ev, pid, ts in zip(self.events, ident.event_person, self.stamps, strict=True)
            if isinstance(ev, Group)
        ])
        writes.add("ingest/merge_sessions", [{"gone": g, "keep": k} for g, k in sessions.merges])
        known_sessions = {s.session_id for s in spans}
        session_rows = [
            {"sessionId": u.session_id, "personId": u.person_id, "startMs": u.start_ms, "endMs": u.end_ms,
             "startedAt": to_iso(u.start_ms), "endedAt": to_iso(u.end_ms), "eventCount": u.event_count}
            for u in sessions.upserts
        ]
        writes.add("ingest/create_sessions", [r for r in session_rows if r["sessionId"] not in known_sessions])
        writes.add("ingest/update_sessions", [r for r in session_rows if r["sessionId"] in known_sessions])
        writes.add("ingest/create_events", [
            {"messageId": ev.messageId, "personId": pid, "sessionId": sid, "props": self._props(ev)}
            for ev, pid, sid in zip(self.events, ident.event_person, sessions.event_session, strict=True)
        ])
        result = IngestResult(
            written=[
                WrittenEvent(ev.messageId, pid, sid, ev.type, ts)
                for ev, pid, sid, ts in zip(
                    self.events, ident.event_person, sessions.event_session, self.stamps, strict=True
                )
            ],
            duplicates=self.duplicates,
            merges=[(m.loser, self.final(m.survivor)) for m in ident.merges],
        )
        return BatchPlan(writes=writes, result=result, events=self.events)

    def _props(self, ev: AnyEvent) -> dict[str, Any]:
        props = self.prepared.props if self.prepared is not None else self.props
        cached = props.get(ev.messageId) if props else None
        return cached if cached is not None else event_props(ev)

    def _person_rows(self) -> list[dict[str, Any]]:
        first: dict[str, int] = {}
        last: dict[str, int] = {}
        for pid, ts in zip(self.identity.event_person, self.stamps, strict=True):
            first[pid] = min(first.get(pid, ts), ts)
            last[pid] = max(last.get(pid, ts), ts)
        user_ids = {**self.identity.user_ids, **{k: v for k, v in self.identity.new_persons.items() if v}}
        zones: dict[str, tuple[str, int]] = {}  # the latest event's valid context.timezone per person
        for ev, pid, ts in zip(self.events, self.identity.event_person, self.stamps, strict=True):
            zone = context_timezone(ev.context) if ev.context else None
            if zone is not None and ts >= zones.get(pid, (zone, ts))[1]:
                zones[pid] = (zone, ts)
        return [
            {"personId": pid, "userId": user_ids.get(pid), "firstMs": first[pid], "lastMs": last[pid],
             "nowMs": self.now_ms, **({"tz": zones[pid][0], "tzMs": zones[pid][1]} if pid in zones else {})}
            for pid in sorted(first)
        ]

    def _known_person_row(self, row: dict[str, Any]) -> dict[str, Any]:
        """An update row for a person read from the graph: `userId` only if the person had none (read with
        its identities), so a value it already holds is not written again."""
        if row["userId"] is not None and self._known_users.get(row["personId"]) is not None:
            row = {**row, "userId": None}
        return {k: v for k, v in row.items() if k != "nowMs"}

    def _trait_rows(self) -> list[dict[str, Any]]:
        merged: dict[str, dict[str, Any]] = {}
        at: dict[str, int] = {}
        for ev, pid, ts in zip(self.events, self.identity.event_person, self.stamps, strict=True):
            if isinstance(ev, Identify) and ev.traits:
                merged.setdefault(pid, {}).update(flatten_traits(ev.traits))
                at[pid] = max(at.get(pid, ts), ts)
        return [{"personId": pid, "traits": traits, "atMs": at[pid]} for pid, traits in merged.items()]
