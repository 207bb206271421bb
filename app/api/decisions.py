"""Reading decisions over HTTP (Bearer API keys, any role): one decision, why a person did or did not get a
journey's message, and a person's timeline. `ref` is `userId:<x>`, `anonymousId:<x>`, `personId:<x>` or a
bare userId."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from app.api.body import api_error
from app.api.deps import ServicesDep, allowed
from app.api.responses import responses
from app.decisions.explain import MAX_LIMIT, DecisionReader, InvalidCursor, NotFound
from graph_models.explain import DecisionView, Explanation, TimelinePage
from graph_models.principal import Principal

router = APIRouter(tags=["decisions"])
ERRORS = responses(401, 404, 422, 503)


def get_reader(services: ServicesDep) -> DecisionReader:
    return DecisionReader(services.driver, services.settings.neo4j_database)


ReaderDep = Annotated[DecisionReader, Depends(get_reader)]
Reader = Annotated[Principal, Depends(allowed("read"))]


@router.get("/v1/decisions/{decision_id}", responses=ERRORS)
async def get_decision(decision_id: str, reader: ReaderDep, _principal: Reader) -> DecisionView:
    """The decision, its person, trigger, constraint and journey versions, and every candidate with rank,
    outcome, reason, blocking constraint and (when chosen) rendered content."""
    try:
        return await run_in_threadpool(reader.decision, decision_id)
    except NotFound as exc:
        raise api_error(404, str(exc), field="decision_id") from exc


@router.get("/v1/people/{ref}/explain", responses=ERRORS)
async def explain(ref: str, reader: ReaderDep, _principal: Reader,
                  journey: Annotated[str, Query(min_length=1, description="the journey id")],
                  step: Annotated[str | None, Query(description="a step id of the journey")] = None,
                  limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="newest decisions")] = 50,
                  ) -> Explanation:
    """Why did (or didn't) this person get this journey's (step's) message: every decision touching it with
    each candidate, the blocking rule and the versions, and where the person's enrollments went."""
    try:
        return await run_in_threadpool(reader.explain, ref, journey, step, limit)
    except NotFound as exc:
        raise api_error(404, str(exc), field="ref") from exc


@router.get("/v1/people/{ref}/timeline", responses=responses(400, 401, 404, 422, 503))
async def timeline(ref: str, reader: ReaderDep, _principal: Reader,
                   limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
                   before: Annotated[str | None, Query(description="the previous page's `next`, epoch ms, or an "
                                                                   "ISO time")] = None,
                   ) -> TimelinePage:
    """The person's sessions, events, consent, enrollments, visits and decisions, newest first."""
    try:
        return await run_in_threadpool(reader.timeline, ref, limit, before)
    except NotFound as exc:
        raise api_error(404, str(exc), field="ref") from exc
    except InvalidCursor as exc:
        raise api_error(400, str(exc), field="before") from exc
