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
