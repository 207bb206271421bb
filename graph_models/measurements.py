"""The measurement stream's records (schema `journeys.measurement/v1`), one pydantic model per kind (pure; no I/O).

Every record carries the ids that join it to the rest: the Segment `messageId` that triggered it, the
`enrollmentId`, the `actionId` (an action step reached), the `decisionId` and the `deliveryId`, with the journey,
version, step, variant, person and time. `recordId` is deterministic: a consumer that sees a record twice (the
stream is at-least-once) drops the second by it. Fields not known for a kind are null.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from graph_models.ids import url_uuid5

SCHEMA = "journeys.measurement/v1"
Kind = Literal["entry", "visit", "decision", "delivery_attempt", "delivery_outcome"]
KINDS: tuple[str, ...] = ("entry", "visit", "decision", "delivery_attempt", "delivery_outcome")


def record_id(kind: str, *parts: object) -> str:
    """A stable id for one record (the same fact always gets the same id)."""
    return url_uuid5(f"journeys:measurement:{kind}:" + "|".join(map(str, parts)))


class BaseRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_: Literal["journeys.measurement/v1"] = Field(default="journeys.measurement/v1", alias="schema")
    recordId: str
    atMs: int = Field(description="when it happened (engine or callback time), epoch milliseconds")
    personId: str | None = None
    messageId: str | None = Field(default=None, description="the Segment messageId that caused it ('timer' or "
                                                            "'api' when nothing did)")
    enrollmentId: str | None = None
    journeyId: str | None = None
    version: int | None = None
    stepId: str | None = None
    variant: str | None = None
    actionId: str | None = None
    decisionId: str | None = None
    deliveryId: str | None = None

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class EntryRecord(BaseRecord):
    """A person entered a journey version (one per enrollment)."""

    kind: Literal["entry"] = "entry"


class VisitRecord(BaseRecord):
    """An enrollment moved through a step (one per VISITED edge)."""

    kind: Literal["visit"] = "visit"
    seq: int
    path: str
    detail: str = ""


class DecisionRecord(BaseRecord):
    """The resolver's outcome for one action request (chosen, or what blocked it)."""

    kind: Literal["decision"] = "decision"
    outcome: str
    reason: str = ""
    blockedBy: str | None = None
    channel: str | None = None
    template: str | None = None
    deferUntilMs: int | None = None


class DeliveryAttemptRecord(BaseRecord):
    """One send attempt of a delivery by an adapter."""

    kind: Literal["delivery_attempt"] = "delivery_attempt"
    attemptId: str
    n: int
    adapter: str
    channel: str | None = None
    outcome: Literal["sent", "retryable", "permanent"]
    statusCode: int | None = None
    error: str = ""
    latencyMs: float | None = None


class DeliveryOutcomeRecord(BaseRecord):
    """A delivery's state changed for good (`sent`, `dead`, `expired`) or a provider reported an event
    (`delivered`, `opened`, `clicked`, `bounced`, `complained`, `unsubscribed`)."""

    kind: Literal["delivery_outcome"] = "delivery_outcome"
    status: str
    channel: str | None = None
    eventId: str | None = None
    reason: str | None = None
    bounce: Literal["hard", "soft"] | None = None
    data: dict[str, Any] | None = None


MeasurementRecord = Annotated[
    EntryRecord | VisitRecord | DecisionRecord | DeliveryAttemptRecord | DeliveryOutcomeRecord,
    Field(discriminator="kind"),
]


class MeasurementEnvelope(BaseModel):
    """Parses any record of the stream (`MeasurementEnvelope.model_validate({"record": value}).record`)."""

    record: MeasurementRecord


def parse_record(value: dict[str, Any]) -> EntryRecord | VisitRecord | DecisionRecord | DeliveryAttemptRecord | \
        DeliveryOutcomeRecord:
    """Validate one record of the stream against the v1 schema."""
    return MeasurementEnvelope.model_validate({"record": value}).record


def measurement_json_schema() -> dict[str, Any]:
    """JSON Schema of the stream's records (one of the kinds)."""
    schema = MeasurementEnvelope.model_json_schema(by_alias=True)
    schema["title"] = SCHEMA
    return schema
