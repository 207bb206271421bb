"""What the decision read APIs answer: a decision with its candidates, a person's explanation for one journey
(and step), and a person's timeline (pure pydantic models; no I/O)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

TimelineKind = Literal["session", "event", "consent", "suppression", "enrollment", "visit", "decision"]


class ConstraintRef(BaseModel):
    """The constraint node of the decision's constraints version that blocked a candidate."""

    constraintId: str = Field(description="e.g. `cap:email-daily`, `quiet_hours:sms`, `arbitration`")
    kind: str | None = Field(default=None, description="cap, quiet_hours, consent, suppression, exclusion, ...")
    name: str | None = None
    key: str | None = Field(default=None, description="`<config version key>/<constraintId>`")
    config: dict[str, Any] | None = Field(default=None, description="the constraint's configuration (parsed JSON)")


class CandidateView(BaseModel):
    """One candidate a decision considered (an action request of a journey step, or an onsite offer)."""

    actionId: str
    kind: str = Field(description="`journey` or `onsite`")
    rank: int | None = None
    outcome: str = Field(description="chosen, suppressed, no_consent, holdout, deferred, capped, excluded, "
                                     "lost_arbitration, error")
    chosen: bool = False
    reason: str | None = Field(default=None, description="the resolver's own sentence")
    channel: str | None = None
    template: str | None = None
    journeyId: str | None = None
    version: int | None = None
    stepId: str | None = None
    offerId: str | None = None
    placement: str | None = None
    tags: list[str] = Field(default_factory=list)
    atMs: int | None = None
    deferUntilMs: int | None = None
    blockedBy: ConstraintRef | None = None
    rendered: dict[str, Any] | None = Field(default=None, description="subject/text/html when chosen")
    renderErrors: list[str] = Field(default_factory=list)
    sentence: str = Field(description="what happened to this candidate, in one plain sentence")


class ConfigVersionRef(BaseModel):
    key: str
    kind: str | None = None
    id: str | None = None
    version: int | None = None
    status: str | None = None


class JourneyVersionRef(BaseModel):
    key: str
    journeyId: str | None = None
    version: int | None = None
    status: str | None = None


class TriggerEvent(BaseModel):
    messageId: str
    type: str | None = None
    event: str | None = None
    timestampMs: int | None = None


class DecisionView(BaseModel):
    """One decision: who, when, why it was taken, under which versions, and every candidate."""

    decisionId: str
    kind: str | None = Field(default=None, description="`journey` or `onsite`")
    atMs: int | None = None
    at: str | None = None
    personId: str | None = None
    userId: str | None = None
    trigger: str | None = Field(default=None, description="the event's messageId, `timer` or `api`")
    triggerEvent: TriggerEvent | None = None
    placement: str | None = None
    chosenCount: int | None = None
    constraintVersion: str | None = Field(default=None, description="e.g. `constraints/default@3`")
    configVersions: list[ConfigVersionRef] = Field(default_factory=list)
    journeyVersions: list[JourneyVersionRef] = Field(default_factory=list)
    candidates: list[CandidateView] = Field(default_factory=list)
    sentences: list[str] = Field(default_factory=list, description="one per candidate, in rank order")


class PersonRef(BaseModel):
    personId: str
    userId: str | None = None


class Visit(BaseModel):
    seq: int
    atMs: int | None = None
    stepId: str | None = None
    stepKey: str | None = None
    path: str | None = None
    trigger: str | None = None
    detail: str | None = None


class RequestRef(BaseModel):
    """An action request of the enrollment (with or without a decision)."""

    actionId: str
    stepId: str | None = None
    status: str | None = None
    atMs: int | None = None
    channel: str | None = None
    template: str | None = None
    decisionId: str | None = None


class EnrollmentPath(BaseModel):
    """One enrollment of the person in the journey, with its VISITED history."""

    enrollmentId: str
    journeyId: str
    version: int | None = Field(default=None, description="the version it is on now")
    enteredVersion: int | None = Field(default=None, description="the version of the step it entered at")
    status: str | None = None
    stepId: str | None = None
    exitReason: str | None = None
    enteredAtMs: int | None = None
    endedAtMs: int | None = None
    wakeAtMs: int | None = None
    visits: list[Visit] = Field(default_factory=list)
    requests: list[RequestRef] = Field(default_factory=list)


class Explanation(BaseModel):
    """Why a person did or did not get a journey's (step's) message."""

    person: PersonRef
    journeyId: str
    stepId: str | None = None
    entered: bool = Field(description="the person has at least one enrollment in the journey")
    reachedStep: bool | None = Field(default=None, description="with `step`: some enrollment visited it")
    sentences: list[str] = Field(description="the answer in plain sentences, oldest first")
    enrollments: list[EnrollmentPath] = Field(default_factory=list)
    decisions: list[DecisionView] = Field(default_factory=list, description="oldest first")


class TimelineItem(BaseModel):
    atMs: int
    at: str
    kind: TimelineKind
    id: str = Field(description="messageId, sessionId, enrollmentId, `<enrollmentId>#<seq>`, decisionId, ...")
    summary: str
    data: dict[str, Any] = Field(default_factory=dict)


class TimelinePage(BaseModel):
    """A page of a person's timeline, newest first; pass `next` as `before` for the page after it."""

    person: PersonRef
    items: list[TimelineItem]
    next: str | None = Field(default=None, description="cursor for the next (older) page; null at the end")
