"""`POST /v1/next-action`: what an onsite placement should show this person now (Segment write key auth).

The answer is the chosen offer or held in-app message with rendered content and the ids to track it by, or an
explicit nothing with the reasons. The decision is recorded in the graph (`GET /v1/decisions/{id}`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field, model_validator
from starlette.concurrency import run_in_threadpool

from app.api.deps import ServicesDep, basic_username, check_write_key
from app.api.responses import responses
from app.decisions.onsite import NextAction, OnsiteResolver, UnknownPlacement

router = APIRouter(prefix="/v1", tags=["decisions"])


class NextActionRequest(BaseModel):
    """Who is asking, for which placement, with what page context (read by offer conditions as properties)."""

    model_config = {"extra": "forbid"}

    userId: str | None = Field(default=None, min_length=1, max_length=512)
    anonymousId: str | None = Field(default=None, min_length=1, max_length=512)
    placement: str = Field(min_length=1, max_length=64)
    context: dict[str, Any] = Field(default_factory=dict)
    writeKey: str | None = None

    @model_validator(mode="after")
    def _someone(self) -> NextActionRequest:
        if self.userId is None and self.anonymousId is None:
            raise ValueError("userId or anonymousId is required")
        return self

    def ref(self) -> str:
        return f"userId:{self.userId}" if self.userId is not None else f"anonymousId:{self.anonymousId}"


class ActionOut(BaseModel):
    actionId: str
    source: str = Field(description="'offer' (decided now) or 'journey' (an in-app message held for pickup)")
    offerId: str | None = None
    journeyId: str | None = None
    version: int | None = None
    stepId: str | None = None
    channel: str | None = None
    template: str | None = None
    content: dict[str, Any] = Field(default_factory=dict, description="rendered subject / text / html")


class CandidateOut(BaseModel):
    actionId: str
    offerId: str | None = None
    outcome: str
    reason: str | None = None
    rank: int | None = None


class NextActionOut(BaseModel):
    """`action` is null when there is nothing to show; `reasons` say why."""

    decisionId: str | None
    placement: str
    personId: str | None
    action: ActionOut | None
    nothing: bool
    reasons: list[str]
    candidates: list[CandidateOut]
    tracking: dict[str, str | None]


def get_resolver(services: ServicesDep) -> OnsiteResolver:
    return services.onsite_resolver()


ResolverDep = Annotated[OnsiteResolver, Depends(get_resolver)]


def _out(result: NextAction) -> NextActionOut:
    action = ActionOut.model_validate(result.action) if result.action is not None else None
    return NextActionOut(
        decisionId=result.decision_id, placement=result.placement, personId=result.person_id, action=action,
        nothing=action is None, reasons=result.reasons,
        candidates=[CandidateOut.model_validate(c) for c in result.candidates],
        tracking={"decisionId": result.decision_id, "actionId": action.actionId if action else None,
                  "personId": result.person_id})


@router.post("/next-action", response_model=NextActionOut, responses=responses(400, 401, 404, 422, 503))
async def next_action(body: NextActionRequest, request: Request, services: ServicesDep,
                      resolver: ResolverDep) -> NextActionOut:
    """Decide the placement for the person now (offers, caps, consent, priorities), record the decision."""
    check_write_key(basic_username(request.headers.get("authorization")) or body.writeKey, services)
    try:
        result = await run_in_threadpool(resolver.next_action, body.ref(), body.placement, body.context)
    except UnknownPlacement as exc:
        raise HTTPException(404, detail={"success": False, "error": str(exc), "field": "placement",
                                         "reason": exc.reason}) from exc
    return _out(result)
