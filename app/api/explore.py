"""The graph explorer: `GET /explore` (a static page; it asks for a Bearer journey API key once) and the
read routes it calls (any role): read-only Cypher, the `cypher/debug` catalogue, a decision's neighbourhood
as nodes and edges, and a person's deliveries."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from app.api.body import api_error, read_json
from app.api.deps import ServicesDep, allowed
from app.api.responses import json_body, responses
from app.decisions.explain import DecisionReader, NotFound
from app.explorer import (
    DEFAULT_ROWS,
    MAX_ROWS,
    Explorer,
    QueryFailed,
    RefusedQuery,
    debug_queries,
    decision_graph,
)
from graph_models.principal import Principal

STATIC_DIR = Path(__file__).resolve().parent / "static"
router = APIRouter(tags=["explore"])
Reader = Annotated[Principal, Depends(allowed("read"))]


def get_explorer(services: ServicesDep) -> Explorer:
    return Explorer(services.driver, services.settings.neo4j_database)


ExplorerDep = Annotated[Explorer, Depends(get_explorer)]


def mount_static(app: Any) -> None:
    """Serve the page's files (the drawing library ships inside the package: no CDN)."""
    app.mount("/explore/static", StaticFiles(directory=STATIC_DIR), name="explore-static")


class CypherBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str = Field(min_length=1, description="one read query (MATCH ... RETURN); writes are refused")
    params: dict[str, Any] = Field(default_factory=dict)
    limit: int = Field(default=DEFAULT_ROWS, ge=1, le=MAX_ROWS, description="rows returned at most")


class CypherOut(BaseModel):
    columns: list[str]
    rows: list[list[Any]]
    truncated: bool = Field(description="more rows (or the time limit) were cut off")
    elapsedMs: int
    graph: dict[str, Any] = Field(description="nodes and relationships among the values, for drawing")


class GraphOut(BaseModel):
    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]


@router.get("/explore", include_in_schema=False)
async def explore_page() -> FileResponse:
    """The explorer page (static HTML; its API calls carry the key typed on the page)."""
    return FileResponse(STATIC_DIR / "explore.html", media_type="text/html")


@router.post("/v1/explore/cypher", openapi_extra=json_body(CypherBody.model_json_schema()),
             responses=responses(400, 401, 403, 413, 503))
async def run_cypher(request: Request, explorer: ExplorerDep, _principal: Reader) -> CypherOut:
    """Run one read-only query: write clauses (CREATE, MERGE, SET, DELETE, REMOVE, DROP, CALL, LOAD CSV,
    FOREACH, ...) are refused, it runs in a READ transaction, at most `limit` rows and 10 s."""
    try:
        body = CypherBody.model_validate(await read_json(request, 64_000))
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = str(first["loc"][0]) if first["loc"] else "body"
        raise api_error(400, f"{field}: {first['msg']}", field=field) from exc
    try:
        found = await run_in_threadpool(explorer.run_read, body.query, body.params, body.limit)
    except (RefusedQuery, QueryFailed) as exc:
        raise api_error(400, str(exc), field="query", reason=exc.reason) from exc
    return CypherOut(columns=found.columns, rows=found.rows, truncated=found.truncated, elapsedMs=found.elapsedMs,
                     graph=found.graph)


@router.get("/v1/explore/debug-queries", responses=responses(401, 403))
async def list_debug_queries(_principal: Reader) -> list[dict[str, Any]]:
    """The `cypher/debug` queries: name, description (the file's header comment), parameters with example
    values, and the text."""
    return debug_queries()


@router.get("/v1/explore/decisions/{decision_id}/graph", responses=responses(401, 403, 404, 503))
async def decision_neighbourhood(decision_id: str, services: ServicesDep, _principal: Reader) -> GraphOut:
    """A decision's neighbourhood as nodes and edges: person, trigger event, candidates (rank, outcome),
    blocking constraints, constraint and journey versions."""
    reader = DecisionReader(services.driver, services.settings.neo4j_database)
    try:
        view = await run_in_threadpool(reader.decision, decision_id)
    except NotFound as exc:
        raise api_error(404, str(exc), field="decision_id") from exc
    return GraphOut.model_validate(decision_graph(view))


@router.get("/v1/explore/people/{ref}/deliveries", responses=responses(401, 403, 404, 422, 503))
async def person_deliveries(ref: str, explorer: ExplorerDep, _principal: Reader,
                            limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[dict[str, Any]]:
    """A person's deliveries (outbox rows), newest first."""
    found = await run_in_threadpool(explorer.deliveries, ref, limit)
    if found is None:
        raise api_error(404, f"no person {ref!r}", field="ref")
    return found
