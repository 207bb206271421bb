"""Journey definitions over HTTP: lint, push, review, publish, pause, archive (Bearer API keys).

Authors push and submit; approvers approve, publish, pause and archive; admins do everything; any key may
lint and read. Bodies are a journey definition as JSON, or as YAML with `Content-Type: application/yaml`.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from app.api.body import api_error, read_bytes
from app.api.deps import ServicesDep, allowed
from app.api.responses import responses
from app.decisions.conflict_review import ConflictReview
from app.errors import JourneysError
from app.journeys.catalog import default_catalog
from app.journeys.lint import ERROR, lint
from app.journeys.loader import JourneyInvalid, parse_definition
from app.journeys.runtime import JourneyRuntime
from app.journeys.store import Forbidden, InvalidMigration, JourneyStore, LifecycleError, NotFound
from graph_models.engine_failures import EngineFailureInfo, FailureStatus, ReapplyResult
from graph_models.journey import JourneyDefinition, journey_json_schema
from graph_models.journey_store import JourneyDetail, JourneySummary, VersionInfo
from graph_models.principal import Principal

router = APIRouter(prefix="/v1/journeys", tags=["journeys"])
MAX_DEFINITION_BYTES = 1_000_000
# The definition is read from the raw body (JSON or YAML), so OpenAPI is told what it may hold.
DEFINITION_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"type": "object", "description": "a journey definition (see GET "
                                                                     "/v1/journeys/schema)"}},
    "application/yaml": {"schema": {"type": "string", "description": "a journey definition as YAML"}},
}}}

# Lifecycle changes: bad request or migration (400), key (401), role or four-eyes rule (403), no such journey
# or version (404), wrong state (409), graph unavailable (503).
CHANGE_STATUSES = responses(400, 401, 403, 404, 409, 503)

# How the store's errors answer over HTTP (registered on the app by `create_app`).
ERROR_STATUS: dict[type[JourneysError], int] = {
    JourneyInvalid: 400, InvalidMigration: 400, Forbidden: 403, NotFound: 404, LifecycleError: 409,
}


async def journey_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, JourneysError)
    status = next(code for cls, code in ERROR_STATUS.items() if isinstance(exc, cls))
    body: dict[str, Any] = {"success": False, "error": str(exc), "reason": exc.reason}
    if isinstance(exc, JourneyInvalid):
        body["issues"] = exc.issues
    return JSONResponse(body, status_code=status)


def get_store(services: ServicesDep) -> JourneyStore:
    return JourneyStore(services.driver, services.settings.neo4j_database, services.clock)


StoreDep = Annotated[JourneyStore, Depends(get_store)]
Reader = Annotated[Principal, Depends(allowed("read"))]


class LintIssueOut(BaseModel):
    code: str
    step_id: str | None
    message: str
    severity: str


class LintResult(BaseModel):
    ok: bool = Field(description="no errors (warnings allowed): the definition can be pushed")
    journeyId: str | None = None
    issues: list[LintIssueOut]


class PublishBody(BaseModel):
    migrate: dict[str, str] | None = Field(
        default=None, description="move active enrollments of the previous live version: {old step: new step}")
    acknowledge_conflicts: bool = Field(default=False, description="needed when the approver required the "
                                                                   "version's conflicts to be acknowledged")


class ConflictOut(BaseModel):
    kind: str = Field(description="shared_trigger, shared_people, shared_channel, shared_cap or exclusion_group")
    journey: str
    detail: str


class ConflictsOut(BaseModel):
    journeyId: str
    version: int
    days: int
    conflicts: list[ConflictOut]


class MigrationPreviewRow(BaseModel):
    fromVersion: int
    fromStep: str
    people: int
    sample: list[str]
    toVersion: int
    toStep: str
    moves: bool


def get_review(services: ServicesDep) -> ConflictReview:
    return ConflictReview(services.driver, services.settings.neo4j_database, services.clock)


ReviewDep = Annotated[ConflictReview, Depends(get_review)]


async def _definition(request: Request) -> JourneyDefinition:
    """The definition in the body: JSON, or YAML (application/yaml, text/yaml); JourneyInvalid if bad."""
    raw = await read_bytes(request, MAX_DEFINITION_BYTES)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise api_error(400, "body is not UTF-8 text") from exc
    return parse_definition(text, source="request body")


@router.post("/lint", openapi_extra=DEFINITION_BODY, responses=responses(400, 401, 403, 413))
async def lint_definition(request: Request, _principal: Annotated[Principal, Depends(allowed("lint"))]
                          ) -> LintResult:
    """Check a definition without storing it: shape (schema) problems, then the linter's findings."""
    try:
        definition = await _definition(request)
    except JourneyInvalid as exc:
        issues = [LintIssueOut(code=exc.reason, step_id=None, message=m, severity=ERROR) for m in exc.issues]
        return LintResult(ok=False, issues=issues)
    found = lint(definition, default_catalog())
    return LintResult(ok=not any(i.severity == ERROR for i in found), journeyId=definition.id,
                      issues=[LintIssueOut(**dataclasses.asdict(i)) for i in found])


@router.get("/schema", responses=responses(401, 403))
def definition_schema(_principal: Reader) -> dict[str, Any]:
    """The JSON Schema of a journey definition (for editors)."""
    return journey_json_schema()


@router.post("", status_code=201, openapi_extra=DEFINITION_BODY,
             responses={200: {"description": "unchanged: the latest version already has this definition"},
                        **responses(400, 401, 403, 409, 413, 503)})
async def push(request: Request, response: Response, store: StoreDep,
               principal: Annotated[Principal, Depends(allowed("push"))]) -> VersionInfo:
    """Store a definition as the journey's next draft version (201), or return the latest version when it
    is the same definition (200)."""
    definition = await _definition(request)
    info = await run_in_threadpool(store.push, definition, principal)
    if not info.created:
        response.status_code = 200
    return info


@router.get("", responses=responses(401, 403, 503))
def list_journeys(store: StoreDep, _principal: Reader) -> list[JourneySummary]:
    return store.list_journeys()


@router.get("/{journey_id}", responses=responses(401, 403, 404, 503))
def get_journey(journey_id: str, store: StoreDep, _principal: Reader) -> JourneyDetail:
    return store.get(journey_id)


@router.post("/{journey_id}/versions/{version}/submit", responses=CHANGE_STATUSES)
def submit(journey_id: str, version: int, store: StoreDep, review: ReviewDep,
           principal: Annotated[Principal, Depends(allowed("submit"))]) -> VersionInfo:
    """draft → in_review; the version's conflicts with the live journeys are computed and recorded."""
    info = store.submit(journey_id, version, principal)
    review.review(journey_id, version)
    return info


@router.post("/{journey_id}/versions/{version}/approve", responses=CHANGE_STATUSES)
def approve(journey_id: str, version: int, store: StoreDep, review: ReviewDep,
            principal: Annotated[Principal, Depends(allowed("approve"))], require_ack: bool = False) -> VersionInfo:
    """in_review → approved (not by the author); records the conflicts as the approver saw them, and with
    `require_ack=true` publishing must acknowledge them."""
    review.review(journey_id, version)
    return store.approve(journey_id, version, principal, require_ack=require_ack)


@router.get("/{journey_id}/versions/{version}/conflicts", response_model=ConflictsOut,
            responses=responses(401, 403, 404, 422, 503))
def conflicts(journey_id: str, version: int, review: ReviewDep, _: Reader, days: int = 30) -> ConflictsOut:
    """The version's conflicts with the live journeys now: shared triggers, people shared in the last
    `days`, channels and caps they compete for, exclusion groups."""
    found = review.compute(journey_id, version, max(1, min(days, 365)))
    return ConflictsOut(journeyId=journey_id, version=version, days=days,
                        conflicts=[ConflictOut(**c.as_dict()) for c in found])


@router.post("/{journey_id}/versions/{version}/publish", responses=CHANGE_STATUSES)
def publish(journey_id: str, version: int, store: StoreDep,
            principal: Annotated[Principal, Depends(allowed("publish"))],
            body: PublishBody | None = None) -> VersionInfo:
    """approved or paused → published; archives the previous live version, optionally migrating people."""
    return store.publish(journey_id, version, principal, migrate=body.migrate if body else None,
                         acknowledge_conflicts=body.acknowledge_conflicts if body else False)


@router.post("/{journey_id}/versions/{version}/publish/preview", response_model=list[MigrationPreviewRow],
             responses=responses(400, 401, 403, 404, 422, 503))
def publish_preview(journey_id: str, version: int, store: StoreDep,
                    principal: Annotated[Principal, Depends(allowed("publish"))],
                    body: PublishBody | None = None) -> list[MigrationPreviewRow]:
    """What publishing would do to the people in flight (nothing is changed): per step of the live version,
    how many, a sample, and the step they would move to."""
    rows = store.migration_preview(journey_id, version, body.migrate if body else None)
    return [MigrationPreviewRow(**r) for r in rows]


@router.post("/{journey_id}/versions/{version}/archive", responses=CHANGE_STATUSES)
def archive(journey_id: str, version: int, store: StoreDep,
            principal: Annotated[Principal, Depends(allowed("archive"))]) -> VersionInfo:
    return store.archive(journey_id, version, principal)


@router.post("/{journey_id}/pause", responses=CHANGE_STATUSES)
def pause(journey_id: str, store: StoreDep,
          principal: Annotated[Principal, Depends(allowed("pause"))]) -> VersionInfo:
    """The published version → paused (nobody new enters; resume with publish)."""
    return store.pause(journey_id, principal)


def _engine(services: ServicesDep) -> JourneyRuntime:
    from app.runtime import make_engine  # app.runtime builds the app: import it when called, not at load

    return make_engine(services.settings, services.driver, clock=services.clock)


@router.get("/{journey_id}/failures", responses=responses(401, 403, 422, 503))
def list_failures(journey_id: str, services: ServicesDep, _principal: Reader,
                  status: Annotated[FailureStatus | None, Query(description="only open or resolved ones")] = None,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[EngineFailureInfo]:
    """Events a version of this journey failed on (the events landed; the version's work on them did not),
    newest first. Re-apply them with `POST .../versions/{version}/reapply` once the version is fixed."""
    return [EngineFailureInfo.model_validate(r) for r in _engine(services).failures(journey_id, status, limit)]


@router.post("/{journey_id}/versions/{version}/reapply", responses=responses(401, 403, 404, 409, 503))
def reapply(journey_id: str, version: int, services: ServicesDep,
            principal: Annotated[Principal, Depends(allowed("publish"))]) -> ReapplyResult:
    """Apply the version's open failures again (it must be published or archived: resume it first); each is
    resolved as it is applied, so calling this twice applies nothing twice."""
    done, again, still_open = _engine(services).reapply(journey_id, version, by=principal.name)
    return ReapplyResult(journeyId=journey_id, version=version, reapplied=done, failedAgain=again, open=still_open)
