"""`POST /v1/journeys/simulate?from=&to=`: the what-if replay of a draft journey (the body, JSON or YAML, as for
push) over a window of recorded events, read-only (app/simulate/). Any API key may simulate (role: lint)."""

from __future__ import annotations

import base64
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from app.api.body import api_error, read_bytes
from app.api.deps import ServicesDep, allowed
from app.api.responses import responses
from app.journeys.loader import parse_definition
from app.simulate.report import bar_chart_svg, markdown
from app.simulate.source import InvalidWindow, check_window, parse_time, simulate
from graph_models.principal import Principal
from graph_models.simulation import SimulationResult

router = APIRouter(prefix="/v1/journeys", tags=["simulate"])
MAX_DEFINITION_BYTES = 1_000_000
TIME_HELP = "epoch ms, an ISO-8601 date/time (UTC unless it has an offset), 'now' or 'now-7d'"
SIMULATE_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"type": "object", "description": "a journey definition (the draft)"}},
    "application/yaml": {"schema": {"type": "string", "description": "a journey definition as YAML"}},
}}}
MARKDOWN: dict[int | str, dict[str, Any]] = {200: {"content": {"text/markdown": {"schema": {"type": "string"}}},
                                                   "description": "the result (JSON), or the report with "
                                                                  "format=markdown"}}


def _time(value: str, name: str, now_ms: int) -> int:
    try:
        return parse_time(value, now_ms)
    except InvalidWindow as exc:
        raise api_error(400, f"{name} must be {TIME_HELP}", field=name) from exc


@router.post("/simulate", openapi_extra=SIMULATE_BODY, response_model=SimulationResult,
             responses={**MARKDOWN, **responses(400, 401, 403, 413, 422, 503)})
async def simulate_draft(
    request: Request, services: ServicesDep, _principal: Annotated[Principal, Depends(allowed("lint"))],
    from_: Annotated[str, Query(alias="from", description=f"window start: {TIME_HELP}")],
    to: Annotated[str, Query(description=f"window end (excluded): {TIME_HELP}")] = "now",
    format: Annotated[Literal["json", "markdown"], Query(description="json (the result) or markdown (the "
                                                                     "report, chart inlined)")] = "json",
) -> Any:
    """Replay the draft in the body over `[from, to)` with a simulated clock, in memory, against the live
    journeys, the published constraints and each person's real state, and compare it with what the live
    version of the same journey did. Reads only; the same events give the same `resultHash`."""
    now = services.clock.now_ms()
    lo, hi = _time(from_, "from", now), _time(to, "to", now)
    try:
        check_window(lo, hi)
    except InvalidWindow as exc:
        raise api_error(400, str(exc), field="to") from exc
    raw = await read_bytes(request, MAX_DEFINITION_BYTES)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise api_error(400, "body is not UTF-8 text") from exc
    definition = parse_definition(text, source="request body")  # JourneyInvalid: 400 (app.api.journeys)
    result = await run_in_threadpool(simulate, services.driver, services.settings.neo4j_database, definition,
                                     lo, hi)
    if format == "markdown":
        chart = base64.b64encode(bar_chart_svg(result).encode("utf-8")).decode("ascii")
        return Response(markdown(result, f"data:image/svg+xml;base64,{chart}"), media_type="text/markdown")
    return result
