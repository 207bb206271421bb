"""Segments (audiences) over HTTP: lint, dry-run size, push, review, publish, archive, members, batch
evaluation (Bearer API keys, the journeys' roles). Bodies are a segment definition as JSON, or YAML with
`Content-Type: application/yaml`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from app.api.body import api_error, read_bytes
from app.api.deps import ServicesDep, allowed
from app.api.responses import responses
from app.decisions.resolver import ConstraintResolver
from app.journeys.runtime import JourneyRuntime
from app.segments.batch import SegmentEvaluator
from app.segments.definitions import ERROR, SegmentInvalid, lint_segment, parse_segment
from app.segments.schedule import ScheduledSends, default_send_id
from app.segments.store import SegmentStore
from graph_models.principal import Principal
from graph_models.segments import (
    EvaluationInfo,
    ScheduledSend,
    SegmentDefinition,
    SegmentDetail,
    SegmentMember,
    SegmentSize,
    SegmentSummary,
    SegmentVersionInfo,
    SendInfo,
    SendPlan,
    segment_json_schema,
)

router = APIRouter(prefix="/v1/segments", tags=["segments"])
MAX_DEFINITION_BYTES = 200_000
DEFINITION_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"type": "object", "description": "a segment definition (see GET "
                                                                     "/v1/segments/schema)"}},
    "application/yaml": {"schema": {"type": "string", "description": "a segment definition as YAML"}},
}}}
CHANGE_STATUSES = responses(400, 401, 403, 404, 409, 503)
# The store's Forbidden, NotFound and LifecycleError are the journey store's (handled by app.api.journeys).
ERROR_STATUS = {SegmentInvalid: 400}


async def segment_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SegmentInvalid)
    return JSONResponse({"success": False, "error": str(exc), "reason": exc.reason, "issues": exc.issues},
                        status_code=400)


def get_store(services: ServicesDep) -> SegmentStore:
    return SegmentStore(services.driver, services.settings.neo4j_database, services.clock)


def get_evaluator(services: ServicesDep) -> SegmentEvaluator:
    """Membership changes of a batch evaluation enter segment journeys, under the resolver's constraints."""
    engine = JourneyRuntime(services.driver, services.settings.neo4j_database, clock=services.clock,
                            resolver=ConstraintResolver())
    return SegmentEvaluator(services.driver, services.settings.neo4j_database, clock=services.clock,
                            sink=engine.apply_events)


def get_sends(services: ServicesDep) -> ScheduledSends:
    """Sends are created and planned here; the timer service runs them (through the engine)."""
    return ScheduledSends(services.driver, services.settings.neo4j_database, clock=services.clock)


StoreDep = Annotated[SegmentStore, Depends(get_store)]
SendsDep = Annotated[ScheduledSends, Depends(get_sends)]
EvaluatorDep = Annotated[SegmentEvaluator, Depends(get_evaluator)]
Reader = Annotated[Principal, Depends(allowed("read"))]


class SegmentIssueOut(BaseModel):
    code: str
    path: str
    message: str
    severity: str


class SegmentLintResult(BaseModel):
    ok: bool = Field(description="no errors (warnings allowed): the definition can be pushed")
    segmentId: str | None = None
    issues: list[SegmentIssueOut]


class MembersOut(BaseModel):
    segmentId: str
    size: int
    members: list[SegmentMember]


class ScheduleIn(BaseModel):
    """A scheduled send to the segment: everyone in it enters `journey` (entry `scheduled: true`) at `at`."""

    journey: str
    at: str = Field(description="'YYYY-MM-DDTHH:MM' wall-clock time")
    local: bool = Field(default=False, description="in each person's time zone (Braze-style local time)")
    timezone: str = Field(default="UTC", description="the zone of `at` when not local")
    rate_per_minute: int = Field(default=1000, ge=1, le=1_000_000)
    id: str | None = Field(default=None, description="the send's id (default: from journey, segment and time)")


class ScheduleOut(BaseModel):
    """The dry run (count by zone, first and last moment) and, unless it was a dry run, the stored send."""

    plan: SendPlan
    send: SendInfo | None = None


async def _definition(request: Request) -> SegmentDefinition:
    raw = await read_bytes(request, MAX_DEFINITION_BYTES)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise api_error(400, "body is not UTF-8 text") from exc
    return parse_segment(text, source="request body")


@router.post("/lint", openapi_extra=DEFINITION_BODY, responses=responses(400, 401, 403, 413))
async def lint(request: Request, _principal: Annotated[Principal, Depends(allowed("lint"))]) -> SegmentLintResult:
    """Check a definition without storing it: shape problems, then the linter's findings."""
    try:
        definition = await _definition(request)
    except SegmentInvalid as exc:
        return SegmentLintResult(ok=False, issues=[SegmentIssueOut(code=exc.reason, path="", message=m,
                                                                   severity=ERROR) for m in exc.issues])
    found = lint_segment(definition)
    return SegmentLintResult(ok=not any(i.severity == ERROR for i in found), segmentId=definition.id,
                             issues=[SegmentIssueOut(code=i.code, path=i.path, message=i.message,
                                                     severity=i.severity) for i in found])


@router.post("/size", openapi_extra=DEFINITION_BODY, responses=responses(400, 401, 403, 413, 503))
async def size_of_definition(request: Request, evaluator: EvaluatorDep,
                             _principal: Annotated[Principal, Depends(allowed("lint"))],
                             sample: Annotated[int, Query(ge=0, le=100)] = 10) -> SegmentSize:
    """A dry run: how many people the definition in the body selects now, with a sample; nothing is written."""
    definition = await _definition(request)
    return await run_in_threadpool(evaluator.dry_run, definition, sample=sample)


@router.get("/schema", responses=responses(401, 403))
def schema(_principal: Reader) -> dict[str, Any]:
    """The JSON Schema of a segment definition (for editors)."""
    return segment_json_schema()


@router.post("", status_code=201, openapi_extra=DEFINITION_BODY,
             responses={200: {"description": "unchanged: the latest version already has this definition"},
                        **responses(400, 401, 403, 409, 413, 503)})
async def push(request: Request, response: Response, store: StoreDep,
               principal: Annotated[Principal, Depends(allowed("push"))]) -> SegmentVersionInfo:
    """Store a definition as the segment's next draft version (201), or return the latest version when it is
    the same definition (200)."""
    definition = await _definition(request)
    info = await run_in_threadpool(store.push, definition, principal)
    if not info.created:
        response.status_code = 200
    return info


@router.get("", responses=responses(401, 403, 503))
def list_segments(store: StoreDep, _principal: Reader) -> list[SegmentSummary]:
    return store.list_segments()


@router.get("/{segment_id}", responses=responses(401, 403, 404, 503))
def get_segment(segment_id: str, store: StoreDep, _principal: Reader) -> SegmentDetail:
    return store.get(segment_id)


@router.post("/{segment_id}/versions/{version}/submit", responses=CHANGE_STATUSES)
def submit(segment_id: str, version: int, store: StoreDep,
           principal: Annotated[Principal, Depends(allowed("submit"))]) -> SegmentVersionInfo:
    """draft → in_review."""
    return store.submit(segment_id, version, principal)


@router.post("/{segment_id}/versions/{version}/approve", responses=CHANGE_STATUSES)
def approve(segment_id: str, version: int, store: StoreDep,
            principal: Annotated[Principal, Depends(allowed("approve"))]) -> SegmentVersionInfo:
    """in_review → approved (not by the author)."""
    return store.approve(segment_id, version, principal)


@router.post("/{segment_id}/versions/{version}/publish", responses=CHANGE_STATUSES)
def publish(segment_id: str, version: int, store: StoreDep,
            principal: Annotated[Principal, Depends(allowed("publish"))]) -> SegmentVersionInfo:
    """approved → published: streaming evaluation applies it from the next batch; run
    `POST /v1/segments/{id}/evaluate` to evaluate everyone already in the graph."""
    return store.publish(segment_id, version, principal)


@router.post("/{segment_id}/versions/{version}/archive", responses=CHANGE_STATUSES)
def archive(segment_id: str, version: int, store: StoreDep,
            principal: Annotated[Principal, Depends(allowed("archive"))]) -> SegmentVersionInfo:
    return store.archive(segment_id, version, principal)


@router.get("/{segment_id}/versions/{version}/size", responses=responses(401, 403, 404, 503))
def size_of_version(segment_id: str, version: int, store: StoreDep, evaluator: EvaluatorDep, _principal: Reader,
                    sample: Annotated[int, Query(ge=0, le=100)] = 10) -> SegmentSize:
    """A dry run of a stored version (e.g. before approving it): size now and a sample; nothing is written."""
    return evaluator.dry_run(store.definition(segment_id, version), version=version, sample=sample)


@router.get("/{segment_id}/members", responses=responses(401, 403, 404, 503))
def members(segment_id: str, store: StoreDep, _principal: Reader,
            limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> MembersOut:
    """People in the segment now (longest-standing first) and how many there are."""
    store.get(segment_id, audit_limit=0)  # 404 for an unknown segment
    return MembersOut(segmentId=segment_id, size=store.size(segment_id),
                      members=[SegmentMember.model_validate(m) for m in store.members(segment_id, limit)])


@router.post("/{segment_id}/evaluate", responses=responses(401, 403, 409, 503))
async def evaluate(segment_id: str, evaluator: EvaluatorDep, store: StoreDep,
                   principal: Annotated[Principal, Depends(allowed("publish"))],
                   resume: bool = True) -> EvaluationInfo:
    """Evaluate the published version for everyone now (resumes an interrupted run); writes the changes."""
    info = await run_in_threadpool(evaluator.evaluate, segment_id, resume=resume)
    await run_in_threadpool(store.record_evaluation, segment_id, info.version, principal,
                            {"scanned": info.scanned, "entered": info.entered, "left": info.left})
    return info


@router.post("/{segment_id}/schedules", status_code=201,
             responses={200: {"description": "dry run: the plan only, nothing stored"},
                        **responses(400, 401, 403, 404, 409, 422, 503)})
def schedule(segment_id: str, body: ScheduleIn, response: Response, store: StoreDep, sends: SendsDep,
             principal: Reader, dry_run: bool = False) -> ScheduleOut:
    """Schedule a send to the segment (needs the publish role), or with `dry_run=true` only plan it (any role):
    how many people would enter, by zone, and the first and last moment, before anything starts."""
    if not dry_run:
        allowed("publish")(principal)
    store.get(segment_id, audit_limit=0)  # 404 for an unknown segment
    try:
        send = ScheduledSend(id=body.id or default_send_id(body.journey, segment_id, body.at), segment=segment_id,
                             journey=body.journey, at=body.at, local=body.local, timezone=body.timezone,
                             rate_per_minute=body.rate_per_minute)
    except ValidationError as exc:
        raise api_error(400, "invalid scheduled send", errors=[
            {"field": ".".join(str(x) for x in e["loc"]), "message": e["msg"]} for e in exc.errors()]) from exc
    plan = sends.plan(send)
    if dry_run:
        response.status_code = 200
        return ScheduleOut(plan=plan)
    return ScheduleOut(plan=plan, send=sends.create(send, principal.name))


@router.get("/{segment_id}/schedules", responses=responses(401, 403, 404, 503))
def list_schedules(segment_id: str, store: StoreDep, sends: SendsDep, _principal: Reader) -> list[SendInfo]:
    """The scheduled sends to the segment (newest first) and where each is."""
    store.get(segment_id, audit_limit=0)
    return sends.list_sends(segment_id)
