"""The Segment Spec as strict pydantic v2 models: common fields, the six call types, and a batch.

Errors name the offending field (`batch.3.timestamp`), which the HTTP API and the dead-letter topic
pass on unchanged. Unknown top-level keys that real SDKs send (`_metadata`, `channel`, `version`) are
accepted and ignored.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

MAX_EVENT_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
MISSING_ID = "userId or anonymousId is required"
EVENT_TYPES = ("track", "identify", "page", "screen", "group", "alias")

Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256)]
JsonObject = dict[str, Any]


def _coerce_id(value: object) -> object:
    """Segment accepts numeric ids and stores them as strings; booleans are never ids."""
    if isinstance(value, bool):
        raise ValueError("must be a string")
    if isinstance(value, int):
        return str(value)
    return value


class _Common(BaseModel):
    """Fields every Segment call shares."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, str_max_length=32 * 1024)

    messageId: Id
    anonymousId: Id | None = None
    userId: Id | None = None
    timestamp: AwareDatetime
    originalTimestamp: AwareDatetime | None = None
    sentAt: AwareDatetime | None = None
    receivedAt: AwareDatetime
    context: JsonObject = Field(default_factory=dict)
    integrations: JsonObject = Field(default_factory=dict)

    @field_validator("anonymousId", "userId", mode="before")
    @classmethod
    def _ids(cls, value: object) -> object:
        return _coerce_id(value)

    @model_validator(mode="before")
    @classmethod
    def _null_objects(cls, data: Any) -> Any:
        # SDKs send `"properties": null` / `"traits": null`; the Spec treats that as empty.
        if isinstance(data, dict):
            nulls = [k for k in ("context", "integrations", "properties", "traits") if k in data and data[k] is None]
            if nulls:
                data = {k: v for k, v in data.items() if k not in nulls}
        return data

    @model_validator(mode="after")
    def _someone(self) -> _Common:
        if self.userId is None and self.anonymousId is None:
            raise ValueError(MISSING_ID)
        return self

    @property
    def partition_key(self) -> str:
        """The Kafka key: the user id when known, else the anonymous id."""
        return self.userId or self.anonymousId or ""


class Track(_Common):
    type: Literal["track"] = "track"
    event: Name
    properties: JsonObject = Field(default_factory=dict)


class Identify(_Common):
    type: Literal["identify"] = "identify"
    traits: JsonObject = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _context_traits(cls, data: Any) -> Any:
        # analytics.js v1 puts traits under context.traits; the Spec allows both.
        if isinstance(data, dict) and "traits" not in data:
            ctx = data.get("context")
            if isinstance(ctx, dict) and isinstance(ctx.get("traits"), dict):
                data = {**data, "traits": ctx["traits"]}
        return data


class Page(_Common):
    type: Literal["page"] = "page"
    name: Name | None = None
    category: Name | None = None
    properties: JsonObject = Field(default_factory=dict)


class Screen(_Common):
    type: Literal["screen"] = "screen"
    name: Name | None = None
    category: Name | None = None
    properties: JsonObject = Field(default_factory=dict)


class Group(_Common):
    type: Literal["group"] = "group"
    groupId: Id
    traits: JsonObject = Field(default_factory=dict)

    @field_validator("groupId", mode="before")
    @classmethod
    def _group_id(cls, value: object) -> object:
        return _coerce_id(value)


class Alias(_Common):
    type: Literal["alias"] = "alias"
    previousId: Id
    userId: Id

    @field_validator("previousId", mode="before")
    @classmethod
    def _previous(cls, value: object) -> object:
        return _coerce_id(value)


SegmentEvent = Annotated[Track | Identify | Page | Screen | Group | Alias, Field(discriminator="type")]
EVENT_ADAPTER: TypeAdapter[Track | Identify | Page | Screen | Group | Alias] = TypeAdapter(SegmentEvent)


class BatchEnvelope(BaseModel):
    """The body of `POST /v1/batch` before each event is validated on its own."""

    model_config = ConfigDict(extra="ignore")

    batch: list[JsonObject] = Field(min_length=1, max_length=10_000)
    context: JsonObject = Field(default_factory=dict)
    integrations: JsonObject = Field(default_factory=dict)
    sentAt: AwareDatetime | None = None
    writeKey: str | None = None


class FieldError(BaseModel):
    """One validation problem: the dotted field path and what is wrong with it."""

    field: str
    message: str


def field_errors(exc: ValidationError, prefix: str = "") -> list[FieldError]:
    """pydantic's errors as `FieldError`s whose `field` is a dotted path (type tags removed)."""
    out: list[FieldError] = []
    for err in exc.errors(include_url=False):
        loc = [str(p) for p in err["loc"] if str(p) not in EVENT_TYPES]
        if not loc and MISSING_ID in err["msg"]:
            loc = ["userId"]
        elif err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc = [*loc, "type"]
        path = ".".join(([prefix] if prefix else []) + loc)
        out.append(FieldError(field=path or prefix or "body", message=err["msg"]))
    return out


def parse_event(data: JsonObject) -> Track | Identify | Page | Screen | Group | Alias:
    """Validate one prepared event dict (raises `ValidationError`)."""
    return EVENT_ADAPTER.validate_python(data)


def adjust_timestamp(timestamp: dt.datetime, sent_at: dt.datetime | None, received_at: dt.datetime) -> dt.datetime:
    """Segment's clock-skew correction: shift the device's timestamp by (receivedAt - sentAt)."""
    if sent_at is None:
        return timestamp
    return timestamp + (received_at - sent_at)
