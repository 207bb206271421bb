"""Segment (audience) definitions and what the segment store answers (pure pydantic models; no I/O).

A segment is a question about a person, in the condition language of journey branches (traits, event
properties never: a segment has no triggering event) extended with what audiences need:

- `{trait: plan, op: eq, value: pro}`                         a trait of the person
- `{count: {event: Viewed Pricing, where: [...], within: 7d}, op: gte, value: 3}`   event counts in a window
- `{recency: {event: Ordered, where: [...]}, within: 30d}`     did it at least once within the window
- `{account: {traits: [{trait: seats, op: gt, value: 50}]}}`   member of an account matching all conditions
- `{all: [...]}`, `{any: [...]}`, `{not: ...}`

Events are named like journey entries: a track call by its `event` name, other calls by their type
(`identify`, `page`, `group`, ...).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Protocol, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

from graph_models.journey import CountCondition, Duration, PropertyCondition, TraitCondition

SegmentId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_\-]{0,63}$")]
SEGMENT_ID = re.compile(r"^[a-z][a-z0-9_\-]{0,63}$")
# The engine sees membership changes as events of this type (name `entered` or `left`, property `segment`).
SEGMENT_EVENT_TYPE = "segment"
# A scheduled send enters people as an event of this type, named after the journey (property `send`).
SCHEDULE_EVENT_TYPE = "schedule"
ENTERED = "entered"
LEFT = "left"


class ChangeEvent(Protocol):
    """What `is_segment_change` needs of an engine event."""

    @property
    def type(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def properties(self) -> Mapping[str, Any]: ...


def is_segment_change(event: ChangeEvent, change: str, segment_id: str) -> bool:
    """Is `event` the engine's view of a person entering (`change` 'entered') or leaving segment `segment_id`?"""
    return event.type == SEGMENT_EVENT_TYPE and event.name == change and event.properties.get("segment") == segment_id


def entry_accepts(segment: str | None, scheduled: bool, journey_id: str, event: ChangeEvent) -> bool:
    """May `event` enter a journey with this entry? Segment changes enter only journeys with `entry.segment`
    (that segment), scheduled sends only journeys with `entry.scheduled` (named by the send); such journeys
    are entered by nothing else."""
    if event.type == SEGMENT_EVENT_TYPE:
        return segment is not None and is_segment_change(event, ENTERED, segment)
    if event.type == SCHEDULE_EVENT_TYPE:
        return scheduled and event.name == journey_id
    return segment is None and not scheduled


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RecencySpec(_Strict):
    event: str
    where: list[PropertyCondition] = Field(default_factory=list)


class RecencyCondition(_Strict):
    """The person did `recency.event` (matching `where`) at least once within the last `within`."""

    recency: RecencySpec
    within: Duration

    @field_validator("within")
    @classmethod
    def _positive(cls, value: Duration) -> Duration:
        return value.positive("recency.within")


class AccountSpec(_Strict):
    id: str | None = Field(default=None, description="a given account (its groupId); default: any account")
    traits: list[TraitCondition] = Field(default_factory=list, description="all must hold for one account")


class AccountCondition(_Strict):
    """The person is a member of an account (`Person-[:MEMBER_OF]->Account`) matching `account`."""

    account: AccountSpec


class SegAll(_Strict):
    all: list[SegmentCondition] = Field(min_length=1)


class SegAny(_Strict):
    any: list[SegmentCondition] = Field(min_length=1)


class SegNot(_Strict):
    not_: SegmentCondition = Field(alias="not")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


SegmentCondition = TraitCondition | CountCondition | RecencyCondition | AccountCondition | SegAll | SegAny | SegNot
SegAll.model_rebuild()
SegAny.model_rebuild()
SegNot.model_rebuild()


class SegmentDefinition(_Strict):
    """One segment file."""

    id: SegmentId
    name: str
    description: str = ""
    condition: SegmentCondition
    tags: list[str] = Field(default_factory=list)
    evaluate_every: Duration | None = Field(default=None, description="also evaluate everyone in a batch this "
                                            "often (e.g. 1d), run by the timer service; default: never")

    @field_validator("evaluate_every")
    @classmethod
    def _every(cls, value: Duration | None) -> Duration | None:
        return None if value is None else value.positive("evaluate_every")


def walk(condition: SegmentCondition) -> list[SegmentCondition]:
    """The condition and every condition nested in it, depth first."""
    out: list[SegmentCondition] = [condition]
    if isinstance(condition, SegAll):
        for c in condition.all:
            out += walk(c)
    elif isinstance(condition, SegAny):
        for c in condition.any:
            out += walk(c)
    elif isinstance(condition, SegNot):
        out += walk(condition.not_)
    return out


class Mentions(BaseModel):
    """What a condition looks at: which events (by name or call type), traits, whether accounts; the
    largest event window (None: some count has no window, so every event of those names counts)."""

    events: set[str] = Field(default_factory=set)
    traits: set[str] = Field(default_factory=set)
    accounts: bool = False
    windowed: bool = False
    unbounded: bool = False
    max_window_ms: int = 0


def mentions(condition: SegmentCondition) -> Mentions:
    """What `condition` depends on: the streaming writer re-evaluates a segment only when one of these changes."""
    found = Mentions()
    for c in walk(condition):
        if isinstance(c, TraitCondition):
            found.traits.add(c.trait.split(".")[0])
        elif isinstance(c, CountCondition):
            found.events.add(c.count.event)
            if c.count.within is None:
                found.unbounded = True
            else:
                found.windowed = True
                found.max_window_ms = max(found.max_window_ms, c.count.within.ms)
        elif isinstance(c, RecencyCondition):
            found.events.add(c.recency.event)
            found.windowed = True
            found.max_window_ms = max(found.max_window_ms, c.within.ms)
        elif isinstance(c, AccountCondition):
            found.accounts = True
    return found


def segment_json_schema() -> dict[str, Any]:
    """JSON Schema of a segment file, for editor autocomplete."""
    schema = SegmentDefinition.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Segment definition"
    return schema


# --- what the store answers ----------------------------------------------------------------------------

SegmentStatus = Literal["draft", "in_review", "approved", "published", "archived"]
SEGMENT_STATUSES: tuple[str, ...] = get_args(SegmentStatus)
SegmentAuditAction = Literal["push", "submit", "approve", "publish", "archive", "evaluate"]


class SegmentVersionInfo(BaseModel):
    """One version of a segment definition and where it is in its lifecycle."""

    key: str = Field(description="'<segmentId>@<version>', the SegmentVersion node's key")
    segmentId: str
    version: int
    checksum: str
    status: SegmentStatus
    name: str = ""
    author: str | None = None
    createdAtMs: int | None = None
    updatedAtMs: int | None = None
    submittedBy: str | None = None
    approvedBy: str | None = None
    publishedBy: str | None = None
    publishedAtMs: int | None = None
    archivedBy: str | None = None
    created: bool = Field(default=False, description="push only: false when the definition was unchanged")


class SegmentSummary(BaseModel):
    """One segment: its latest version, its published version (if any) and how many people are in it."""

    segmentId: str
    name: str = ""
    createdAtMs: int | None = None
    latestVersion: int
    latestStatus: SegmentStatus | None = None
    publishedVersion: int | None = None
    members: int = 0


class SegmentAuditInfo(BaseModel):
    """One recorded change to a segment version."""

    auditId: str
    action: SegmentAuditAction
    principal: str
    role: str
    atMs: int
    segmentId: str
    version: int
    checksum: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)


class SegmentDetail(SegmentSummary):
    """A segment with all its versions (oldest first) and its recent audit entries (newest first)."""

    versions: list[SegmentVersionInfo] = Field(default_factory=list)
    audit: list[SegmentAuditInfo] = Field(default_factory=list)


class SegmentMember(BaseModel):
    """A person in a segment (or who would be, in a dry run)."""

    personId: str
    userId: str | None = None
    sinceMs: int | None = None


class SegmentSize(BaseModel):
    """How many people a definition selects (a dry run over the whole graph), with a sample of them."""

    segmentId: str
    version: int | None = None
    size: int
    scanned: int
    sample: list[SegmentMember] = Field(default_factory=list)
    tookMs: int = 0


class EvaluationInfo(BaseModel):
    """A batch evaluation of a published segment (resumable: a `SegmentEvaluation` node is its cursor)."""

    evaluationId: str
    segmentId: str
    version: int
    status: Literal["running", "done"]
    scanned: int = 0
    entered: int = 0
    left: int = 0
    cursor: str | None = Field(default=None, description="the last personId evaluated")
    startedAtMs: int | None = None
    finishedAtMs: int | None = None


# --- scheduled sends -------------------------------------------------------------------------------------

LOCAL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$")


class ScheduledSend(_Strict):
    """Everyone in `segment` enters `journey` (whose entry is `scheduled: true`) at `at`: a wall-clock time in
    each person's time zone (`local: true`, like a local-time send) or in `timezone`; at most
    `rate_per_minute` people enter per minute from the first moment on."""

    id: SegmentId
    segment: SegmentId
    journey: str
    at: str = Field(description="'YYYY-MM-DDTHH:MM' wall-clock time")
    local: bool = Field(default=False, description="in each person's time zone (timezone trait, context)")
    timezone: str = "UTC"
    rate_per_minute: int = Field(default=1000, ge=1, le=1_000_000)

    @field_validator("at")
    @classmethod
    def _at(cls, value: str) -> str:
        if not LOCAL_TIME.match(value):
            raise ValueError("`at` must look like 2026-03-05T09:00 (a wall-clock time, no zone)")
        return value


class SendPlan(BaseModel):
    """A scheduled send's dry run: who enters when (counted by zone), known before it starts."""

    sendId: str
    segmentId: str
    journeyId: str
    people: int
    byZone: dict[str, int] = Field(default_factory=dict)
    firstAtMs: int | None = None
    lastAtMs: int | None = None
    minutesAtRate: int = 0


class SendInfo(BaseModel):
    """Where a scheduled send is."""

    sendId: str
    status: Literal["scheduled", "running", "done", "cancelled"]
    segmentId: str | None = None
    journeyId: str | None = None
    at: str | None = None
    local: bool = False
    timezone: str | None = None
    ratePerMinute: int | None = None
    entered: int = 0
    startedAtMs: int | None = None
    finishedAtMs: int | None = None
