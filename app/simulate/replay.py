"""The what-if replay loop (pure: in-memory inputs, no I/O, no wall clock).

A draft journey version is replayed over a window `[from, to)` of recorded events, together with the live
(published) journeys - in memory, so they compete for caps, exclusion groups and arbitration exactly as the
resolver would - under the published constraint set and each person's real state (traits, consent,
suppression lists, messages chosen before the window). The draft replaces the live version of its journey.

The clock is simulated: events are applied in `(timestamp, messageId)` order; before each one, every timer due
at or before its timestamp fires (in `(due, enrollmentId)` order), and after the last, every timer due before
the window's end. Each person starts the window with no enrollment in flight; enrollments that entered before
it count only for re-entry rules. Count conditions count the person's loaded events (the window, and the
lookback before it that the source reads).

The same input always gives the same `SimulationResult` (ids are derived from message ids, never random), so
two replays of the same events are hash-equal.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.decisions.policy import Consent, PersonState, Sent, decide
from app.decisions.resolver import journey_candidate
from app.decisions.timezones import person_timezone
from app.journeys.conditions import matches_properties
from app.journeys.engine import (
    ActionRequest,
    Decided,
    Effects,
    EngineEvent,
    Enrollment,
    Walker,
    settle_moment,
)
from app.journeys.loader import checksum
from graph_models.constraints import ConstraintSet
from graph_models.journey import CountSpec, JourneyDefinition
from graph_models.simulation import Outcomes, SimulationResult

DRAFT_VERSION = 0  # the draft's enrollments are `<journeyId>@0/<messageId>` in the replay
Progress = Callable[[int, int], None]  # (events done, events in all)


@dataclass(frozen=True)
class PriorEnrollment:
    """An enrollment that entered before the window (re-entry rules only)."""

    enrollment_id: str
    journey_id: str
    version: int
    entered_at_ms: int


@dataclass(frozen=True)
class PersonInput:
    """One person's real state, read-only, and their events."""

    person_id: str
    traits: Mapping[str, Any]
    consent: Mapping[str, Consent] = field(default_factory=dict)
    suppressed: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    history: tuple[Sent, ...] = ()  # messages chosen before the window (caps, exclusion groups)
    prior: tuple[PriorEnrollment, ...] = ()
    events: tuple[EngineEvent, ...] = ()  # in the window: replayed
    earlier: tuple[EngineEvent, ...] = ()  # before the window: for count conditions only


@dataclass(frozen=True)
class LiveAction:
    step_id: str
    at_ms: int
    status: str
    channel: str
    blocked_by: str | None = None


@dataclass(frozen=True)
class LiveEnrollment:
    """An enrollment of the live journey that entered in the window, as recorded in the graph."""

    enrollment_id: str
    person_id: str
    version: int
    entered_at_ms: int
    status: str
    exit_reason: str | None = None
    ended_at_ms: int | None = None
    actions: tuple[LiveAction, ...] = ()


@dataclass(frozen=True)
class ReplayInput:
    draft: JourneyDefinition
    from_ms: int
    to_ms: int
    constraint_version: str
    constraints: ConstraintSet
    live_journeys: tuple[tuple[JourneyDefinition, int], ...]  # published versions (the draft's journey's included)
    people: tuple[PersonInput, ...]
    live: tuple[LiveEnrollment, ...] = ()


@dataclass(frozen=True)
class SimMessage:
    """A message the replay chose (for tests and the report's timeline)."""

    journey_id: str
    person_id: str
    enrollment_id: str
    step_id: str
    channel: str
    at_ms: int


@dataclass
class _Tally:
    entries: int = 0
    messages: Counter[str] = field(default_factory=Counter)
    caps: Counter[str] = field(default_factory=Counter)
    blocked: Counter[str] = field(default_factory=Counter)


class Replayer:
    """One replay of a `ReplayInput` (use `run` once)."""

    def __init__(self, data: ReplayInput, progress: Progress | None = None) -> None:
        self.data = data
        self.progress = progress
        self.cs = data.constraints
        self.effects = Effects()
        self.people = {p.person_id: p for p in data.people}
        self.states = {p.person_id: PersonState(
            person_id=p.person_id, traits=p.traits, zone=person_timezone(p.traits, self.cs.default_timezone),
            consent=dict(p.consent), suppressed=dict(p.suppressed), history=list(p.history))
            for p in data.people}
        self.walkers: dict[str, Walker] = {}
        for definition, version in sorted(data.live_journeys, key=lambda jv: (jv[0].id, jv[1])):
            if definition.id != data.draft.id:
                self.walkers[definition.id] = self._walker(definition, version)
        self.walkers[data.draft.id] = self._walker(data.draft, DRAFT_VERSION)
        self.order = sorted(self.walkers)
        self.enrollments: dict[str, Enrollment] = {}
        self.by_person: dict[str, list[Enrollment]] = defaultdict(list)
        for p in data.people:
            for prior in sorted(p.prior, key=lambda e: (e.entered_at_ms, e.enrollment_id)):
                self.by_person[p.person_id].append(Enrollment(
                    enrollment_id=prior.enrollment_id, journey_id=prior.journey_id, version=prior.version,
                    person_id=p.person_id, entered_at_ms=prior.entered_at_ms, entry_message_id="",
                    status="exited", exit_reason="before_window"))
        self.timers: list[tuple[int, str]] = []
        self.timers_fired = 0
        self.tallies: dict[str, _Tally] = defaultdict(_Tally)
        self.messages: list[SimMessage] = []

    def _walker(self, definition: JourneyDefinition, version: int) -> Walker:
        return Walker(definition, version, self.effects, self._traits, self._count, self._decide)

    # -- the engine's callbacks ------------------------------------------------------------------
    def _traits(self, person_id: str) -> Mapping[str, Any]:
        person = self.people.get(person_id)
        return person.traits if person is not None else {}

    def _count(self, person_id: str, spec: CountSpec, basis_ms: int) -> int:
        person = self.people.get(person_id)
        if person is None:
            return 0
        since = basis_ms - spec.within.ms if spec.within else 0
        return sum(1 for e in (*person.earlier, *person.events)
                   if e.name == spec.event and since <= e.timestamp_ms <= basis_ms
                   and matches_properties(spec.where, e.properties))

    def _decide(self, requests: Sequence[ActionRequest]) -> dict[str, Decided]:
        """The resolver's rules over the in-memory person state (chosen messages join the history)."""
        by_person: dict[str, list[ActionRequest]] = defaultdict(list)
        for r in requests:
            by_person[r.person_id].append(r)
        out: dict[str, Decided] = {}
        for person_id, mine in sorted(by_person.items()):
            state = self.states.get(person_id)
            by_id = {r.action_id: r for r in mine}
            if state is None:
                for r in mine:
                    out[r.action_id] = Decided("error", "the person is not in the replay")
                continue
            for v in decide([journey_candidate(r) for r in mine], state, self.cs):
                r = by_id[v.candidate_id]
                tally = self.tallies[r.journey_id]
                if v.chosen:
                    tally.messages[v.channel] += 1
                    self.messages.append(SimMessage(r.journey_id, person_id, r.enrollment_id, r.step_id, v.channel,
                                                    r.at_ms))
                elif v.outcome == "capped" and v.blocked_by and v.blocked_by.startswith("cap:"):
                    tally.caps[v.blocked_by.removeprefix("cap:")] += 1
                else:
                    tally.blocked[v.outcome] += 1
                out[r.action_id] = Decided(v.outcome, v.reason, v.defer_until_ms)
        return out

    # -- the simulated clock ---------------------------------------------------------------------
    def _settle_moment(self) -> None:
        settle_moment(self.effects, self._decide, lambda r: self.walkers.get(r.journey_id),
                      lambda r: self.enrollments.get(r.enrollment_id))
        for en in self.effects.enrollments.values():
            wake = en.wake_at_ms
            if wake is not None:
                heapq.heappush(self.timers, (wake, en.enrollment_id))
        fx = self.effects
        fx.enrollments.clear()
        fx.visits.clear()
        fx.actions.clear()
        fx.entered_by.clear()
        fx.visit_at.clear()

    def _fire_until(self, until_ms: int) -> None:
        while self.timers and self.timers[0][0] <= until_ms:
            wake, enrollment_id = heapq.heappop(self.timers)
            en = self.enrollments[enrollment_id]
            if not en.live or en.wake_at_ms != wake:
                continue  # stale: the enrollment moved on since
            self.walkers[en.journey_id].fire_due(en, wake)
            self.timers_fired += 1
            self.effects.touch(en)
            self._settle_moment()

    def _apply(self, event: EngineEvent) -> None:
        mine = self.by_person[event.person_id]
        for en in list(mine):
            if en.live:
                self.walkers[en.journey_id].on_event(en, event)
        for journey_id in self.order:
            walker = self.walkers[journey_id]
            if walker.wants(event, event.person_id, mine):
                en = walker.enter(event.person_id, event)
                mine.append(en)
                self.enrollments[en.enrollment_id] = en
                self.tallies[journey_id].entries += 1
        self._settle_moment()

    def run(self) -> SimulationResult:
        events = sorted((e for p in self.data.people for e in p.events
                         if self.data.from_ms <= e.timestamp_ms < self.data.to_ms),
                        key=lambda e: (e.timestamp_ms, e.message_id))
        step = max(1, len(events) // 200)
        for i, event in enumerate(events, start=1):
            self._fire_until(event.timestamp_ms)
            self._apply(event)
            if self.progress is not None and (i % step == 0 or i == len(events)):
                self.progress(i, len(events))
        self._fire_until(self.data.to_ms - 1)
        return self._result(len(events))

    # -- the report ------------------------------------------------------------------------------
    def _outcomes(self, journey_id: str, definition: JourneyDefinition) -> Outcomes:
        tally = self.tallies[journey_id]
        ens = [en for en in self.enrollments.values() if en.journey_id == journey_id]
        exits: Counter[str] = Counter(en.exit_reason or "exited" for en in ens if en.status == "exited")
        firsts: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for m in self.messages:
            firsts[m.enrollment_id].append((m.step_id, m.at_ms))
        facts = [_Facts(en.person_id, en.entered_at_ms, en.exit_reason if en.status == "exited" else None,
                        tuple(firsts.get(en.enrollment_id, ()))) for en in ens]
        return Outcomes(entries=tally.entries, messages=dict(tally.messages), capsHit=dict(tally.caps),
                        blocked=dict(tally.blocked), exits=dict(exits),
                        completed=sum(1 for en in ens if en.status == "completed"),
                        inFlight=sum(1 for en in ens if en.live),
                        conversions=conversions(definition, facts, self.people, self.data.to_ms))

    def _result(self, event_count: int) -> SimulationResult:
        d = self.data
        live_version = next((v for j, v in d.live_journeys if j.id == d.draft.id), None)
        competing = [(j, v) for j, v in sorted(d.live_journeys, key=lambda jv: (jv[0].id, jv[1]))
                     if j.id != d.draft.id]
        return SimulationResult(
            journeyId=d.draft.id, draftChecksum=checksum(d.draft), fromMs=d.from_ms, toMs=d.to_ms,
            constraintVersion=d.constraint_version, liveVersion=live_version,
            competing=[f"{j.id}@{v}" for j, v in competing], people=len(d.people), events=event_count,
            timersFired=self.timers_fired, conversionBasis="goals" if d.draft.goals else "exit criteria",
            simulated=self._outcomes(d.draft.id, d.draft),
            live=live_outcomes(d.draft, d.live, self.people, d.from_ms, d.to_ms),
            competingSimulated={f"{j.id}@{v}": self._outcomes(j.id, j) for j, v in competing},
        ).sealed()


@dataclass(frozen=True)
class _Facts:
    person_id: str
    entered_at_ms: int
    exit_reason: str | None
    messages: tuple[tuple[str, int], ...]  # (stepId, atMs) of chosen messages


def conversions(definition: JourneyDefinition, facts: Sequence[_Facts], people: Mapping[str, PersonInput],
                to_ms: int) -> dict[str, int]:
    """Per goal: enrollments whose person performed the goal event within its window after entry (or the
    first message), before the window's end. Without goals: enrollments that left by a goal-event exit
    criterion, per criterion."""
    out: dict[str, int] = {}
    if definition.goals:
        for goal in definition.goals:
            done = 0
            for f in facts:
                anchor = f.entered_at_ms
                if goal.after == "message":
                    times = [at for step, at in f.messages if goal.step is None or step == goal.step]
                    anchor = min(times) if times else anchor
                person = people.get(f.person_id)
                events = person.events if person is not None else ()
                if any(e.name == goal.event and anchor < e.timestamp_ms <= anchor + goal.within.ms
                       and e.timestamp_ms < to_ms and matches_properties(goal.where, e.properties) for e in events):
                    done += 1
            out[goal.id] = done
        return out
    for crit in definition.exit:
        if crit.event is None:
            continue
        key = crit.name or crit.event
        out[key] = sum(1 for f in facts if f.exit_reason == f"exit:{key}")
    return out


def live_outcomes(definition: JourneyDefinition, live: Sequence[LiveEnrollment],
                  people: Mapping[str, PersonInput], from_ms: int, to_ms: int) -> Outcomes:
    """What the live journey did in the window, from its recorded enrollments and action requests."""
    messages: Counter[str] = Counter()
    caps: Counter[str] = Counter()
    blocked: Counter[str] = Counter()
    exits: Counter[str] = Counter()
    completed = in_flight = 0
    facts = []
    for en in live:
        chosen = []
        for a in en.actions:
            if not from_ms <= a.at_ms < to_ms:
                continue
            if a.status == "chosen":
                messages[a.channel] += 1
                chosen.append((a.step_id, a.at_ms))
            elif a.status == "capped" and a.blocked_by and a.blocked_by.startswith("cap:"):
                caps[a.blocked_by.removeprefix("cap:")] += 1
            else:
                blocked[a.status] += 1
        ended = en.ended_at_ms is not None and en.ended_at_ms < to_ms and en.status != "active"
        reason = None
        if not ended:
            in_flight += 1
        elif en.status == "completed":
            completed += 1
        else:
            reason = en.exit_reason or en.status
            exits[reason] += 1
        facts.append(_Facts(en.person_id, en.entered_at_ms, reason, tuple(chosen)))
    return Outcomes(entries=len(live), messages=dict(messages), capsHit=dict(caps), blocked=dict(blocked),
                    exits=dict(exits), completed=completed, inFlight=in_flight,
                    conversions=conversions(definition, facts, people, to_ms))


def replay(data: ReplayInput, progress: Progress | None = None) -> SimulationResult:
    """Replay `data` (see the module docstring)."""
    return Replayer(data, progress).run()

