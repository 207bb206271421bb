"""Constraint and placement documents over HTTP: lint, push, review, publish, archive (Bearer API keys).

Roles as for journeys: authors push and submit; approvers approve, publish and archive; admins do
everything; any key may lint and read. Bodies are a document as JSON, or as YAML with
`Content-Type: application/yaml`. `{kind}` is `constraints` or `placements`.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from app.api.body import api_error, read_bytes
from app.api.deps import ServicesDep, allowed
from app.api.responses import responses
from app.decisions.config_lint import ERROR, ConfigInvalid, file_form, parse_config
from app.decisions.config_store import ConfigStore
from app.errors import JourneysError
from graph_models.config_store import ConfigDetail, ConfigSummary, ConfigVersionInfo
from graph_models.constraints import ConfigKind, ConfigModel
from graph_models.principal import Principal

router = APIRouter(prefix="/v1/config", tags=["config"])
MAX_DOCUMENT_BYTES = 1_000_000
DOCUMENT_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"type": "object", "description": "a constraints or placements document"}},
    "application/yaml": {"schema": {"type": "string", "description": "the document as YAML"}},
}}}

# How this router's own errors answer (the store's Forbidden, NotFound and LifecycleError are the journey
# store's and answer 403, 404 and 409 through the handlers app/api/journeys.py registers).
ERROR_STATUS: dict[type[JourneysError], int] = {ConfigInvalid: 400}


async def config_error(_request: Request, exc: Exception) -> JSONResponse:
    """400 with `issues` (each starting with its field path, e.g. `caps[1].window: ...`)."""
    assert isinstance(exc, ConfigInvalid)
    body: dict[str, Any] = {"success": False, "error": str(exc), "reason": exc.reason, "issues": exc.issues}
    if exc.lint_issues:
        body["lint"] = [dataclasses.asdict(i) for i in exc.lint_issues]
    return JSONResponse(body, status_code=400)


def get_store(services: ServicesDep) -> ConfigStore:
    return ConfigStore(services.driver, services.settings.neo4j_database, services.clock)


StoreDep = Annotated[ConfigStore, Depends(get_store)]
Reader = Annotated[Principal, Depends(allowed("read"))]
CHANGE_ERRORS = responses(400, 401, 403, 404, 409, 422, 503)
READ_ERRORS = responses(401, 404, 422, 503)


class ConfigIssueOut(BaseModel):
    code: str
    path: str = Field(description="the field, e.g. `caps[1].window` or `placements[0].offers[2].template`")
    message: str
    severity: str


class ConfigLintResult(BaseModel):
    ok: bool = Field(description="no errors (warnings allowed): the document can be pushed")
    kind: ConfigKind
    id: str | None = None
    issues: list[ConfigIssueOut]


class ConfigVersionDocument(BaseModel):
    """One version and its document (as a file would hold it)."""

    version: ConfigVersionInfo
    document: dict[str, Any]


async def _document(request: Request, kind: str) -> ConfigModel:
    """The document in the body: JSON, or YAML (application/yaml, text/yaml); ConfigInvalid if bad."""
    raw = await read_bytes(request, MAX_DOCUMENT_BYTES)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise api_error(400, "body is not UTF-8 text") from exc
    return parse_config(kind, text, source="request body")


@router.post("/{kind}/lint", openapi_extra=DOCUMENT_BODY, responses=responses(401, 403, 413, 422, 503))
async def lint_document(kind: ConfigKind, request: Request, store: StoreDep,
                        _principal: Annotated[Principal, Depends(allowed("lint"))]) -> ConfigLintResult:
    """Check a document without storing it: shape problems, then the linter's findings (journey names
    checked against the journeys in the graph)."""
    try:
        model = await _document(request, kind)
    except ConfigInvalid as exc:
        issues = [ConfigIssueOut(code=exc.reason, path=path, message=message or path, severity=ERROR)
                  for path, _, message in (m.partition(": ") for m in exc.issues)]
        return ConfigLintResult(ok=False, kind=kind, issues=issues)
    found = await run_in_threadpool(store.lint, kind, model)
    return ConfigLintResult(ok=not any(i.severity == ERROR for i in found), kind=kind, id=model.id,
                            issues=[ConfigIssueOut(**dataclasses.asdict(i)) for i in found])


@router.post("/{kind}", status_code=201, openapi_extra=DOCUMENT_BODY,
             responses={200: {"description": "unchanged: the latest version already has this document"},
                        **responses(400, 401, 403, 413, 422, 503)})
async def push(kind: ConfigKind, request: Request, response: Response, store: StoreDep,
               principal: Annotated[Principal, Depends(allowed("push"))]) -> ConfigVersionInfo:
    """Store a document as its next draft version (201), or return the latest version when it is the same
    document (200). Lint errors are a 400 naming each field."""
    model = await _document(request, kind)
    info = await run_in_threadpool(store.push, kind, model, principal)
    if not info.created:
        response.status_code = 200
    return info


@router.get("/{kind}", responses=responses(401, 422, 503))
def list_documents(kind: ConfigKind, store: StoreDep, _principal: Reader) -> list[ConfigSummary]:
    """Every document of this kind with its latest and published versions."""
    return store.list_documents(kind)


@router.get("/{kind}/{config_id}", responses=READ_ERRORS)
def get_document(kind: ConfigKind, config_id: str, store: StoreDep, _principal: Reader) -> ConfigDetail:
    """A document with every version (oldest first) and its recent audit entries (newest first)."""
    return store.get(kind, config_id)


@router.get("/{kind}/{config_id}/versions/{version}", responses=READ_ERRORS)
def get_version(kind: ConfigKind, config_id: str, version: int, store: StoreDep,
                _principal: Reader) -> ConfigVersionDocument:
    """One version with its document."""
    info = store.version(kind, config_id, version)
    return ConfigVersionDocument(version=info, document=file_form(store.definition(kind, config_id, version)))


@router.post("/{kind}/{config_id}/versions/{version}/submit", responses=CHANGE_ERRORS)
def submit(kind: ConfigKind, config_id: str, version: int, store: StoreDep,
           principal: Annotated[Principal, Depends(allowed("submit"))]) -> ConfigVersionInfo:
    """draft → in_review."""
    return store.submit(kind, config_id, version, principal)


@router.post("/{kind}/{config_id}/versions/{version}/approve", responses=CHANGE_ERRORS)
def approve(kind: ConfigKind, config_id: str, version: int, store: StoreDep,
            principal: Annotated[Principal, Depends(allowed("approve"))]) -> ConfigVersionInfo:
    """in_review → approved (not by the author: 403)."""
    return store.approve(kind, config_id, version, principal)


@router.post("/{kind}/{config_id}/versions/{version}/publish", responses=CHANGE_ERRORS)
def publish(kind: ConfigKind, config_id: str, version: int, store: StoreDep,
            principal: Annotated[Principal, Depends(allowed("publish"))]) -> ConfigVersionInfo:
    """approved → published; archives the previously published version."""
    return store.publish(kind, config_id, version, principal)


@router.post("/{kind}/{config_id}/versions/{version}/archive", responses=CHANGE_ERRORS)
def archive(kind: ConfigKind, config_id: str, version: int, store: StoreDep,
            principal: Annotated[Principal, Depends(allowed("archive"))]) -> ConfigVersionInfo:
    """Any status but archived → archived (archiving the published version leaves the defaults in force)."""
    return store.archive(kind, config_id, version, principal)
