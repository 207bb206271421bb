"""Journey definitions as pydantic models: steps, conditions, durations (pure; no I/O).

A journey file (YAML or JSON) is validated by `JourneyDefinition`; `journey_json_schema()` gives editors
autocomplete. Structural checks that need the whole step graph (reachability, loops) live in the linter.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

CHANNELS = ("email", "sms", "push", "webhook", "in_app", "crm")
Channel = Literal["email", "sms", "push", "webhook", "in_app", "crm"]
StepId = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$")]
JourneyId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_\-]{0,63}$")]

_DURATION = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")
_OFFSET = re.compile(r"^\s*([+-]?)\s*(\d+(?:\.\d+)?\s*(?:ms|s|m|h|d|w))\s*$")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


def parse_duration(text: str | int) -> int:
    """'30m', '4h', '3d', '1w', '500ms', '-2d' (or an int of milliseconds) → milliseconds.

    Negative values are meaningful only as offsets (`until: {trait: ..., offset: -2d}`); waits,
    timeouts and windows reject them.
    """
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"{text!r} is not a duration like '30m', '4h', '3d', '1w'")
    return int(float(match.group(1)) * _UNIT_MS[match.group(2)])


class Duration(BaseModel):
    """A duration written as text; `.ms` is its length (negative only for offsets)."""

    model_config = ConfigDict(frozen=True)
    text: str
    ms: int

    def positive(self, what: str) -> Duration:
        if self.ms <= 0:
            raise ValueError(f"{what} must be a positive duration, got {self.text!r}")
        return self

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        if isinstance(value, str | int) and not isinstance(value, bool):
            return {"text": str(value), "ms": parse_duration(value)}
        return value

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        # Files hold the text form ('4h') or milliseconds, not the {text, ms} object the model keeps.
        return {
            "anyOf": [
                {"type": "string", "pattern": _DURATION.pattern, "examples": ["30m", "4h", "3d", "1w"]},
                {"type": "integer", "minimum": 0, "description": "milliseconds"},
            ],
            "description": "A duration: '500ms', '30s', '30m', '4h', '3d', '1w', or an integer of milliseconds.",
        }


class Offset(Duration):
    """A signed duration ('-2d' = two days before, '+1h' or '1h' = after); `.ms` is negative before."""

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return {"text": str(value), "ms": value}
        if isinstance(value, str):
            match = _OFFSET.match(value)
            if not match:
                raise ValueError(f"{value!r} is not an offset like '-2d', '-1h', '30m'")
            sign = -1 if match.group(1) == "-" else 1
            return {"text": value, "ms": sign * parse_duration(match.group(2))}
        return value

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        return {
            "anyOf": [
                {"type": "string", "pattern": _OFFSET.pattern, "examples": ["-2d", "-1h", "30m"]},
                {"type": "integer", "description": "milliseconds (negative = before)"},
            ],
            "description": "A signed duration: '-2d' is two days before, '1h' or '+1h' one hour after.",
        }


Op = Literal["eq", "neq", "gt", "gte", "lt", "lte", "in", "not_in", "contains", "exists", "not_exists"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PropertyCondition(_Strict):
    """A condition on the triggering event's properties (dotted paths reach nested values)."""

    property: str
    op: Op = "eq"
    value: Any = None


class TraitCondition(_Strict):
    """A condition on the person's traits (properties of the Person node)."""

    trait: str
    op: Op = "eq"
    value: Any = None


class CountSpec(_Strict):
    event: str
    where: list[PropertyCondition] = Field(default_factory=list)
    within: Duration | None = None

    @field_validator("within")
    @classmethod
    def _positive(cls, value: Duration | None) -> Duration | None:
        return value.positive("count.within") if value is not None else None


class CountCondition(_Strict):
    """How many times the person did `count.event` (optionally within a window): e.g. ordered ≥ 2 in 30d."""

    count: CountSpec
    op: Literal["eq", "neq", "gt", "gte", "lt", "lte"] = "gte"
    value: int = 1


class AllOf(_Strict):
    all: list[Condition]


class AnyOf(_Strict):
    any: list[Condition]


class NotOf(_Strict):
    not_: Condition = Field(alias="not")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


Condition = PropertyCondition | TraitCondition | CountCondition | AllOf | AnyOf | NotOf
AllOf.model_rebuild()
AnyOf.model_rebuild()
NotOf.model_rebuild()

Reentry = Literal["never", "always"]


class ReentryAfter(_Strict):
    after: Duration

    @field_validator("after")
    @classmethod
    def _positive(cls, value: Duration) -> Duration:
        return value.positive("reentry.after")


class Entry(_Strict):
    """Who enters: an event (with property conditions) and/or a condition on traits."""

    event: str | None = None
    where: list[PropertyCondition] = Field(default_factory=list)
    traits: Condition | None = None
    reentry: Reentry | ReentryAfter = "never"
    segment: str | None = Field(default=None, description="enter when the person joins this segment")
    scheduled: bool = Field(default=False, description="entered only by scheduled sends naming this journey")

    @model_validator(mode="after")
    def _something(self) -> Entry:
        if sum((self.segment is not None, self.event is not None, self.scheduled)) > 1:
            raise ValueError("entry takes one of `event`, `segment` or `scheduled`")
        if self.event is None and self.traits is None and self.segment is None and not self.scheduled:
            raise ValueError("entry needs an `event`, a `segment`, `scheduled` or a `traits` condition")
        return self


class ExitCriterion(_Strict):
    """Leave the journey wherever the person is: a goal event (with conditions) or a trait condition."""

    event: str | None = None
    where: list[PropertyCondition] = Field(default_factory=list)
    traits: Condition | None = None
    name: str | None = None
    left_segment: str | None = Field(default=None, description="leave when the person leaves this segment")

    @model_validator(mode="after")
    def _something(self) -> ExitCriterion:
        if self.left_segment is not None and self.event is not None:
            raise ValueError("an exit criterion takes an `event` or a `left_segment`, not both")
        if self.event is None and self.traits is None and self.left_segment is None:
            raise ValueError("an exit criterion needs an `event`, a `left_segment` or a `traits` condition")
        return self


class _Step(_Strict):
    id: StepId
    name: str | None = None


class WaitUntil(_Strict):
    """Wait until a time of day (next occurrence, in `timezone`), a fixed date, or a date held in a trait."""

    time_of_day: str | None = Field(default=None, pattern=r"^\d{2}:\d{2}$")
    timezone: str = "UTC"
    date: str | None = None
    trait: str | None = None
    offset: Offset | None = Field(default=None, description="shift the time: '-2d' is two days before")

    @model_validator(mode="after")
    def _one(self) -> WaitUntil:
        if sum(x is not None for x in (self.time_of_day, self.date, self.trait)) != 1:
            raise ValueError("wait `until` takes exactly one of time_of_day, date, trait")
        return self


class WaitStep(_Step):
    type: Literal["wait"]
    duration: Duration | None = None
    until: WaitUntil | None = None
    next: StepId

    @model_validator(mode="after")
    def _one(self) -> WaitStep:
        if (self.duration is None) == (self.until is None):
            raise ValueError("a wait step takes exactly one of `duration` or `until`")
        if self.duration is not None:
            self.duration.positive("wait duration")
        return self


class WaitForEventStep(_Step):
    type: Literal["wait_for_event"]
    event: str
    where: list[PropertyCondition] = Field(default_factory=list)
    match_entry: list[str] = Field(default_factory=list, description="properties equal to the entry event's")
    timeout: Duration | None = None
    next: StepId
    on_timeout: StepId | None = None

    @field_validator("timeout")
    @classmethod
    def _positive(cls, value: Duration | None) -> Duration | None:
        return value.positive("timeout") if value is not None else None


class BranchCase(_Strict):
    when: Condition
    next: StepId
    name: str | None = None


class BranchStep(_Step):
    type: Literal["branch"]
    branches: list[BranchCase] = Field(min_length=1)
    default: StepId


class FallbackChannel(_Strict):
    """Another channel an action may use when the person cannot be reached on the first (consent, suppression)."""

    channel: str
    template: str


class ActionStep(_Step):
    """Hand a message to the resolver. It is `chosen`, blocked (`suppressed`, `no_consent`, `holdout`,
    `capped`, `excluded`, `lost_arbitration`), `deferred` by quiet hours, or an `error`. Chosen goes to
    `next`; blocked and error go to `on_blocked` (else `next`); deferred waits at this step until the quiet
    hours end and decides again (or goes to `on_deferred` when set)."""

    type: Literal["action"]
    channel: str
    template: str
    fallback: list[FallbackChannel] = Field(default_factory=list, description="other channels, in order")
    content: dict[str, Any] = Field(default_factory=dict)
    priority: int = Field(default=0, ge=0, le=100)
    score: float = Field(default=0.0, description="ranks candidates of equal priority (higher first)")
    tags: list[str] = Field(default_factory=list)
    transactional: bool = Field(default=False, description="a receipt: bypasses marketing consent, caps, "
                                                           "quiet hours, holdouts; never an explicit opt-out")
    next: StepId
    on_blocked: StepId | None = None
    on_deferred: StepId | None = None

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str) -> str:
        return value  # unknown channels are reported by the linter with the step id


class Variant(_Strict):
    name: str
    weight: float = Field(gt=0)
    next: StepId
    holdout: bool = False


class SplitStep(_Step):
    type: Literal["split"]
    variants: list[Variant] = Field(min_length=1)

    @field_validator("variants")
    @classmethod
    def _unique(cls, variants: list[Variant]) -> list[Variant]:
        names = [v.name for v in variants]
        if len(set(names)) != len(names):
            raise ValueError("variant names must be unique")
        return variants


class EndStep(_Step):
    type: Literal["end"]


Step = Annotated[
    WaitStep | WaitForEventStep | BranchStep | ActionStep | SplitStep | EndStep, Field(discriminator="type")
]
WAITING_TYPES = ("wait", "wait_for_event")


class Goal(_Strict):
    """A conversion goal: the person performs `event` (matching `where`) within `within` after entering the
    journey (`after: entry`) or after its first chosen message (`after: message`, of `step` if given)."""

    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_\-]{0,63}$")
    event: str
    where: list[PropertyCondition] = Field(default_factory=list)
    within: Duration = Field(default_factory=lambda: Duration.model_validate("7d"))
    after: Literal["entry", "message"] = "entry"
    step: StepId | None = Field(default=None, description="after: message - only messages of this action step")

    @field_validator("within")
    @classmethod
    def _positive(cls, value: Duration) -> Duration:
        return value.positive("goal window")


class JourneyDefinition(_Strict):
    """One journey file."""

    id: JourneyId
    name: str
    description: str = ""
    entry: Entry
    start: StepId
    steps: list[Step] = Field(min_length=1)
    exit: list[ExitCriterion] = Field(default_factory=list)
    timeout: Duration | None = Field(default=None, description="global: leave after this long in the journey")
    goals: list[Goal] = Field(default_factory=list, description="conversion goals (results and lift)")

    @field_validator("timeout")
    @classmethod
    def _positive(cls, value: Duration | None) -> Duration | None:
        return value.positive("journey timeout") if value is not None else None

    @field_validator("steps")
    @classmethod
    def _unique_ids(cls, steps: list[Any]) -> list[Any]:
        seen: set[str] = set()
        for step in steps:
            if step.id in seen:
                raise ValueError(f"duplicate step id {step.id!r}")
            seen.add(step.id)
        return steps

    @field_validator("goals")
    @classmethod
    def _unique_goals(cls, goals: list[Goal]) -> list[Goal]:
        ids = [g.id for g in goals]
        if len(set(ids)) != len(ids):
            raise ValueError("goal ids must be unique")
        return goals

    def step(self, step_id: str) -> Any:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def step_map(self) -> dict[str, Any]:
        return {s.id: s for s in self.steps}


def successors(step: Any) -> list[tuple[str, str]]:
    """(path name, next step id) for each way out of a step."""
    if isinstance(step, WaitStep):
        return [("next", step.next)]
    if isinstance(step, WaitForEventStep):
        out = [("event", step.next)]
        if step.on_timeout:
            out.append(("timeout", step.on_timeout))
        return out
    if isinstance(step, BranchStep):
        return [(c.name or f"case{i}", c.next) for i, c in enumerate(step.branches)] + [("default", step.default)]
    if isinstance(step, ActionStep):
        out = [("next", step.next)]
        if step.on_blocked:
            out.append(("blocked", step.on_blocked))
        if step.on_deferred:
            out.append(("deferred", step.on_deferred))
        return out
    if isinstance(step, SplitStep):
        return [(v.name, v.next) for v in step.variants]
    return []


def journey_json_schema() -> dict[str, Any]:
    """JSON Schema of a journey file, for editor autocomplete (yaml-language-server, VS Code)."""
    schema = JourneyDefinition.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Journey definition"
    return schema
