"""The journey state machine (pure): enter, advance, wait, time out, exit. No I/O.

Time is never read from a clock here: event-driven transitions use the event's timestamp, timer-driven
ones the timer's due time. So replaying the same events (and firing the same timers) yields the same
enrollments, visits and action requests, ids included.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

from app.journeys.conditions import EvalContext, evaluate, get_path, matches_properties
from graph_models.ids import sorted_json
from graph_models.journey import (
    ActionStep,
    BranchStep,
    CountSpec,
    EndStep,
    ExitCriterion,
    JourneyDefinition,
    ReentryAfter,
    SplitStep,
    WaitForEventStep,
    WaitStep,
    WaitUntil,
)
from graph_models.segments import LEFT, entry_accepts, is_segment_change

MAX_STEPS_PER_WALK = 200
ACTIVE = "active"
BUCKET_MS = 60_000  # timers are looked up by minute (see cypher/schema/003_timers.cypher)


@dataclass
class Enrollment:
    """One person's progress through one journey version (mirrors the `Enrollment` node)."""

    enrollment_id: str
    journey_id: str
    version: int
    person_id: str
    entered_at_ms: int
    entry_message_id: str
    entry_properties: dict[str, Any] = field(default_factory=dict)
    status: str = ACTIVE
    step_id: str = ""
    due_at_ms: int | None = None
    expires_at_ms: int | None = None
    waiting_since_ms: int | None = None
    variant: str | None = None
    exit_reason: str | None = None
    ended_at_ms: int | None = None
    updated_at_ms: int = 0
    seq: int = 0
    loaded_step: str | None = field(default=None, compare=False)  # step when read from the graph; None: new
    # `entry_properties` as the JSON text the node holds (they never change once entered): encoded once
    entry_json: str | None = field(default=None, compare=False, repr=False)

    @property
    def live(self) -> bool:
        return self.status == ACTIVE

    @property
    def wake_at_ms(self) -> int | None:
        if not self.live:
            return None
        times = [t for t in (self.due_at_ms, self.expires_at_ms) if t is not None]
        return min(times) if times else None

    @property
    def wake_bucket(self) -> int | None:
        wake = self.wake_at_ms
        return wake // BUCKET_MS if wake is not None else None

    def to_props(self) -> dict[str, Any]:
        return {
            "enrollmentId": self.enrollment_id, "journeyId": self.journey_id, "version": self.version,
            "personId": self.person_id, "status": self.status, "stepId": self.step_id,
            "enteredAtMs": self.entered_at_ms, "entryMessageId": self.entry_message_id,
            "entryProperties": self.entry_text(),
            "dueAtMs": self.due_at_ms, "expiresAtMs": self.expires_at_ms, "wakeAtMs": self.wake_at_ms,
            "wakeBucket": self.wake_bucket,
            "waitingSinceMs": self.waiting_since_ms, "variant": self.variant, "exitReason": self.exit_reason,
            "endedAtMs": self.ended_at_ms, "updatedAtMs": self.updated_at_ms, "seq": self.seq,
        }

    def entry_text(self) -> str:
        """`entry_properties` as sorted JSON text (kept: they never change after entry)."""
        if self.entry_json is None:
            self.entry_json = sorted_json(self.entry_properties, default_str=True)
        return self.entry_json

    @classmethod
    def from_props(cls, p: Mapping[str, Any]) -> Enrollment:
        entry = p.get("entryProperties") or "{}"
        return cls(
            enrollment_id=p["enrollmentId"], journey_id=p["journeyId"], version=int(p["version"]),
            person_id=p.get("personId") or "", entered_at_ms=int(p["enteredAtMs"]),
            entry_message_id=p.get("entryMessageId") or "",
            entry_properties=json.loads(entry), entry_json=entry if entry.startswith("{") else None,
            status=p.get("status") or ACTIVE, step_id=p.get("stepId") or "",
            due_at_ms=p.get("dueAtMs"), expires_at_ms=p.get("expiresAtMs"),
            waiting_since_ms=p.get("waitingSinceMs"), variant=p.get("variant"), exit_reason=p.get("exitReason"),
            ended_at_ms=p.get("endedAtMs"), updated_at_ms=int(p.get("updatedAtMs") or 0), seq=int(p.get("seq") or 0),
            loaded_step=p.get("stepId") or "",
        )


@dataclass(frozen=True)
class EngineEvent:
    """An event as the engine sees it: its matching name ('Order Completed', or the call type)."""

    message_id: str
    person_id: str
    name: str
    type: str
    timestamp_ms: int
    properties: Mapping[str, Any]


@dataclass(frozen=True)
class Visit:
    enrollment_id: str
    seq: int
    step_id: str
    at_ms: int
    path: str
    trigger: str
    detail: str = ""


@dataclass(frozen=True)
class ActionRequest:
    """An action step reached: handed to the resolver, which decides whether and how it is sent."""

    action_id: str
    enrollment_id: str
    person_id: str
    journey_id: str
    version: int
    step_id: str
    channel: str
    template: str
    content: dict[str, Any]
    priority: int
    tags: list[str]
    at_ms: int
    trigger: str
    variant: str | None
    fallback: tuple[tuple[str, str], ...] = ()  # (channel, template) after the first
    transactional: bool = False
    score: float = 0.0
    entry_properties: Mapping[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Decided:
    """The resolver's answer to one action request, as far as the journey cares."""

    outcome: str  # chosen | deferred | error | a blocked outcome (suppressed, capped, ...)
    reason: str = ""
    defer_until_ms: int | None = None


CHOSEN = Decided("chosen")
DecideFn = Callable[[Sequence[ActionRequest]], Mapping[str, Decided]]
MAX_DECISION_ROUNDS = 50


@dataclass
class Effects:
    """Everything a batch of engine work changed, to be written in one transaction."""

    enrollments: dict[str, Enrollment] = field(default_factory=dict)
    visits: list[Visit] = field(default_factory=list)
    actions: list[ActionRequest] = field(default_factory=list)
    entered_by: list[tuple[str, str]] = field(default_factory=list)  # (enrollmentId, messageId)
    pending: list[ActionRequest] = field(default_factory=list)  # reached, not yet decided
    visit_at: dict[str, int] = field(default_factory=dict)  # actionId -> index of its visit

    def touch(self, en: Enrollment) -> None:
        self.enrollments[en.enrollment_id] = en

    def __bool__(self) -> bool:
        return bool(self.enrollments or self.visits or self.actions)


CountFn = Callable[[str, CountSpec, int], int]  # (personId, spec, basis_ms) -> count


def settle_moment(effects: Effects, decide: DecideFn,
                  walker_for: Callable[[ActionRequest], Walker | None],
                  enrollment_for: Callable[[ActionRequest], Enrollment | None]) -> None:
    """Decide every request reached at one moment together (one person's event, across journeys), then go on
    from each action step; going on may reach more action steps at the same moment, decided next round."""
    for _ in range(MAX_DECISION_ROUNDS):
        pending = effects.pending
        if not pending:
            return
        effects.pending = []
        answers = decide(pending)
        for request in pending:
            walker, en = walker_for(request), enrollment_for(request)
            if walker is not None and en is not None:
                walker.settle(en, request, answers.get(request.action_id, Decided("error", "no answer")))


def bucket(*parts: str) -> float:
    """A stable number in [0, 1) from the given strings (deterministic split assignment)."""
    digest = hashlib.sha256(":".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _parse_instant(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        return int(parsed.timestamp() * 1000)
    return None


def wait_until_ms(until: WaitUntil, basis_ms: int, traits: Mapping[str, Any]) -> int | None:
    """The due time of a `wait: until` (None when the trait holding the date is missing)."""
    offset = until.offset.ms if until.offset else 0
    if until.time_of_day is not None:
        zone = ZoneInfo(until.timezone)
        local = dt.datetime.fromtimestamp(basis_ms / 1000, zone)
        hour, minute = (int(x) for x in until.time_of_day.split(":"))
        target = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if target <= local:
            target = (local + dt.timedelta(days=1)).replace(hour=hour, minute=minute, second=0, microsecond=0)
        return int(target.timestamp() * 1000) + offset
    if until.date is not None:
        at = _parse_instant(until.date)
        return at + offset if at is not None else None
    assert until.trait is not None
    value = get_path(traits, until.trait)
    at = _parse_instant(value)
    return at + offset if at is not None else None


class Walker:
    """Moves enrollments of one journey version through its steps."""

    def __init__(self, definition: JourneyDefinition, version: int, effects: Effects,
                 traits: Callable[[str], Mapping[str, Any]], count: CountFn, decide: DecideFn | None = None) -> None:
        self.d = definition
        self.version = version
        self.steps = definition.step_map()
        self.effects = effects
        self.traits = traits
        self.count = count
        self.inline = decide is None  # no resolver: every action is chosen at once (unit tests, tools)
        self.decide: DecideFn = decide or (lambda requests: {r.action_id: CHOSEN for r in requests})

    # -- helpers ---------------------------------------------------------------------------------
    def _ctx(self, en: Enrollment, basis_ms: int, properties: Mapping[str, Any] | None) -> EvalContext:
        pid = en.person_id
        return EvalContext(properties=properties, traits=self.traits(pid), basis_ms=basis_ms,
                           count=lambda spec, basis: self.count(pid, spec, basis))

    def _visit(self, en: Enrollment, step_id: str, at_ms: int, path: str, trigger: str, detail: str = "") -> None:
        en.seq += 1
        en.updated_at_ms = max(en.updated_at_ms, at_ms)
        self.effects.visits.append(Visit(en.enrollment_id, en.seq, step_id, at_ms, path, trigger, detail))
        self.effects.touch(en)

    def finish(self, en: Enrollment, status: str, reason: str | None, at_ms: int, trigger: str) -> None:
        en.status = status
        en.exit_reason = reason
        en.ended_at_ms = at_ms
        en.due_at_ms = None
        en.waiting_since_ms = None
        en.updated_at_ms = max(en.updated_at_ms, at_ms)
        self.effects.touch(en)
        if status != "completed":
            self._visit(en, en.step_id, at_ms, "exit", trigger, reason or "")

    # -- entering and moving ---------------------------------------------------------------------
    def enter(self, person_id: str, event: EngineEvent) -> Enrollment:
        en = Enrollment(
            enrollment_id=f"{self.d.id}@{self.version}/{event.message_id}", journey_id=self.d.id,
            version=self.version, person_id=person_id, entered_at_ms=event.timestamp_ms,
            entry_message_id=event.message_id, entry_properties=dict(event.properties),
            expires_at_ms=event.timestamp_ms + self.d.timeout.ms if self.d.timeout else None,
            updated_at_ms=event.timestamp_ms,
        )
        self.effects.entered_by.append((en.enrollment_id, event.message_id))
        self.move(en, self.d.start, event.timestamp_ms, event.message_id, "entry", event.properties)
        return en

    def move(self, en: Enrollment, step_id: str, basis_ms: int, trigger: str, path: str,
             properties: Mapping[str, Any] | None = None) -> None:
        """Go to `step_id` and keep going through instant steps until a wait or the end."""
        for _ in range(MAX_STEPS_PER_WALK):
            step = self.steps[step_id]
            en.step_id = step_id
            en.due_at_ms = None
            en.waiting_since_ms = None
            if isinstance(step, WaitStep):
                due = basis_ms + step.duration.ms if step.duration else None
                detail = ""
                if step.until is not None:
                    due = wait_until_ms(step.until, basis_ms, self.traits(en.person_id))
                    if due is None:
                        detail = "date unknown: continuing at once"
                        due = basis_ms
                en.due_at_ms = max(due or basis_ms, basis_ms)
                self._visit(en, step_id, basis_ms, path, trigger, detail)
                return
            if isinstance(step, WaitForEventStep):
                en.waiting_since_ms = basis_ms
                en.due_at_ms = basis_ms + step.timeout.ms if step.timeout else None
                self._visit(en, step_id, basis_ms, path, trigger)
                return
            if isinstance(step, EndStep):
                self._visit(en, step_id, basis_ms, path, trigger)
                self.finish(en, "completed", None, basis_ms, trigger)
                return
            if isinstance(step, BranchStep):
                ctx = self._ctx(en, basis_ms, properties)
                chosen, label = step.default, "default"
                for i, case in enumerate(step.branches):
                    if evaluate(case.when, ctx):
                        chosen, label = case.next, case.name or f"case{i}"
                        break
                self._visit(en, step_id, basis_ms, path, trigger, f"took {label}")
                step_id, path = chosen, label
                continue
            if isinstance(step, SplitStep):
                total = sum(v.weight for v in step.variants)
                point = bucket(self.d.id, step.id, en.person_id) * total
                chosen_variant = step.variants[-1]
                for variant in step.variants:
                    if point < variant.weight:
                        chosen_variant = variant
                        break
                    point -= variant.weight
                en.variant = chosen_variant.name
                detail = f"variant {chosen_variant.name}" + (" (holdout)" if chosen_variant.holdout else "")
                self._visit(en, step_id, basis_ms, path, trigger, detail)
                step_id, path = chosen_variant.next, chosen_variant.name
                continue
            if isinstance(step, ActionStep):
                self._request(en, step, basis_ms, trigger, path)
                return  # parked until the resolver decides (see `settle`)
            raise TypeError(f"unknown step type {type(step).__name__}")
        self.finish(en, "exited", "too_many_steps", basis_ms, trigger)

    # -- actions ---------------------------------------------------------------------------------
    def _request(self, en: Enrollment, step: ActionStep, basis_ms: int, trigger: str, path: str) -> None:
        """Visit the action step and hand a request to the resolver; the enrollment waits for its answer."""
        self._visit(en, step.id, basis_ms, path, trigger, f"{step.channel}:{step.template}")
        request = ActionRequest(
            action_id=f"{en.enrollment_id}#{en.seq}", enrollment_id=en.enrollment_id,
            person_id=en.person_id, journey_id=en.journey_id, version=en.version, step_id=step.id,
            channel=step.channel, template=step.template, content=dict(step.content),
            priority=step.priority, tags=list(step.tags), at_ms=basis_ms, trigger=trigger,
            variant=en.variant, fallback=tuple((f.channel, f.template) for f in step.fallback),
            transactional=step.transactional, score=step.score, entry_properties=en.entry_properties,
        )
        self.effects.actions.append(request)
        self.effects.pending.append(request)
        self.effects.visit_at[request.action_id] = len(self.effects.visits) - 1
        if self.inline:
            self.settle_pending(en)

    def settle(self, en: Enrollment, request: ActionRequest, decided: Decided) -> None:
        """Go on from an action step by the resolver's answer: chosen → `next`; deferred → wait here until
        `defer_until_ms` (or `on_deferred`); blocked or error → `on_blocked`, else `next`."""
        index = self.effects.visit_at.pop(request.action_id, None)
        if index is not None:
            visit = self.effects.visits[index]
            note = f"{decided.outcome}: {decided.reason}" if decided.reason else decided.outcome
            self.effects.visits[index] = replace(visit, detail=f"{visit.detail} {note}"[:500])
        if not en.live or en.step_id != request.step_id:
            return
        step = self.steps[request.step_id]
        assert isinstance(step, ActionStep)
        if decided.outcome == "chosen":
            self.move(en, step.next, request.at_ms, request.trigger, "next")
        elif decided.outcome == "deferred" and step.on_deferred is None:
            en.due_at_ms = max(decided.defer_until_ms or request.at_ms, request.at_ms + 1)
            self.effects.touch(en)
        elif decided.outcome == "deferred":
            assert step.on_deferred is not None
            self.move(en, step.on_deferred, request.at_ms, request.trigger, "deferred")
        else:
            path = "error" if decided.outcome == "error" else "blocked"
            self.move(en, step.on_blocked or step.next, request.at_ms, request.trigger, path)

    def settle_pending(self, en: Enrollment) -> None:
        """Decide this enrollment's pending requests now (a timer's moment), and any they lead to."""
        for _ in range(MAX_DECISION_ROUNDS):
            mine = [r for r in self.effects.pending if r.enrollment_id == en.enrollment_id]
            if not mine:
                return
            self.effects.pending = [r for r in self.effects.pending if r.enrollment_id != en.enrollment_id]
            decided = self.decide(mine)
            for request in mine:
                self.settle(en, request, decided.get(request.action_id, CHOSEN))
        self.finish(en, "exited", "too_many_actions", en.updated_at_ms, "resolver")

    # -- timers ----------------------------------------------------------------------------------
    def fire_due(self, en: Enrollment, until_ms: int) -> None:
        """Fire every timer of `en` due at or before `until_ms`, in time order."""
        while en.live and en.wake_at_ms is not None and en.wake_at_ms <= until_ms:
            wake = en.wake_at_ms
            if en.expires_at_ms is not None and en.expires_at_ms == wake:
                self.finish(en, "exited", "journey_timeout", wake, "timer")
                return
            step = self.steps[en.step_id]
            if isinstance(step, WaitStep):
                self.move(en, step.next, wake, "timer", "next")
            elif isinstance(step, WaitForEventStep):
                if step.on_timeout:
                    self.move(en, step.on_timeout, wake, "timer", "timeout")
                else:
                    self.finish(en, "exited", "wait_timeout", wake, "timer")
            elif isinstance(step, ActionStep):  # deferred by quiet hours: decide again now
                self._request(en, step, wake, "timer", "retry")
            else:  # a due time on a non-waiting step is stale: clear it
                en.due_at_ms = None
                self.effects.touch(en)
            self.settle_pending(en)
            if self.trait_exit(en, wake, "timer"):
                return

    # -- events ----------------------------------------------------------------------------------
    def _exit_matches(self, crit: ExitCriterion, en: Enrollment, event: EngineEvent | None, basis: int) -> bool:
        if crit.left_segment is not None and (event is None or not is_segment_change(event, LEFT, crit.left_segment)):
            return False
        if crit.event is not None and (event is None or event.name != crit.event):
            return False
        if event is not None and not matches_properties(crit.where, event.properties):
            return False
        if crit.traits is not None:
            return evaluate(crit.traits, self._ctx(en, basis, event.properties if event else None))
        return True

    def trait_exit(self, en: Enrollment, basis: int, trigger: str) -> bool:
        for crit in self.d.exit:
            if crit.event is None and en.live and self._exit_matches(crit, en, None, basis):
                self.finish(en, "exited", f"exit:{crit.name or 'traits'}", basis, trigger)
                return True
        return False

    def on_event(self, en: Enrollment, event: EngineEvent) -> None:
        """Apply one of the person's events to a live enrollment (timers due before it fire first)."""
        if not en.live or event.timestamp_ms < en.entered_at_ms or event.message_id == en.entry_message_id:
            return
        self.fire_due(en, event.timestamp_ms)
        if not en.live:
            return
        for crit in self.d.exit:
            if self._exit_matches(crit, en, event, event.timestamp_ms):
                why = crit.name or crit.event or (f"left_segment:{crit.left_segment}" if crit.left_segment
                                                  else "traits")
                self.finish(en, "exited", f"exit:{why}", event.timestamp_ms,
                            event.message_id)
                return
        step = self.steps[en.step_id]
        if (isinstance(step, WaitForEventStep) and step.event == event.name
                and en.waiting_since_ms is not None and event.timestamp_ms >= en.waiting_since_ms
                and matches_properties(step.where, event.properties)
                and all(get_path(event.properties, k) == get_path(en.entry_properties, k)
                        for k in step.match_entry)):
            self.move(en, step.next, event.timestamp_ms, event.message_id, "event", event.properties)

    # -- entry -----------------------------------------------------------------------------------
    def wants(self, event: EngineEvent, person_id: str, history: Iterable[Enrollment]) -> bool:
        """Does this event enroll the person (entry conditions and the re-entry rule)?"""
        entry = self.d.entry
        if not entry_accepts(entry.segment, entry.scheduled, self.d.id, event):  # segment / scheduled journeys
            return False
        if entry.event is not None and (event.name != entry.event
                                        or not matches_properties(entry.where, event.properties)):
            return False
        past = [en for en in history if en.journey_id == self.d.id]
        if any(en.live for en in past):
            return False
        if past:
            if entry.reentry == "never":
                return False
            if isinstance(entry.reentry, ReentryAfter):
                last = max(en.entered_at_ms for en in past)
                if event.timestamp_ms < last + entry.reentry.after.ms:
                    return False
        if entry.traits is not None:
            ctx = EvalContext(properties=event.properties, traits=self.traits(person_id),
                              basis_ms=event.timestamp_ms,
                              count=lambda spec, basis: self.count(person_id, spec, basis))
            return evaluate(entry.traits, ctx)
        return True
