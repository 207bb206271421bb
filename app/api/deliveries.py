"""The delivery outbox over HTTP (Bearer API keys): read a delivery with its attempts and events, list dead
letters, retry a dead delivery, and the kill switches (pause/resume a channel or an adapter, audited).

Reading needs any key; retry, pause and resume need the `pause` permission (approver or admin).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field, model_validator
from starlette.concurrency import run_in_threadpool

from app.api.deps import ServicesDep, allowed
from app.api.responses import responses
from app.channels.control import DEAD_PAGE_MAX, DeliveryConflict, DeliveryControl, DeliveryForbidden, DeliveryNotFound
from app.errors import JourneysError
from graph_models.principal import Principal

router = APIRouter(prefix="/v1/deliveries", tags=["deliveries"])

Reader = Annotated[Principal, Depends(allowed("read"))]
Operator = Annotated[Principal, Depends(allowed("pause"))]


def get_control(services: ServicesDep) -> DeliveryControl:
    return DeliveryControl(services.driver, services.settings.neo4j_database, services.clock)


ControlDep = Annotated[DeliveryControl, Depends(get_control)]


class PauseBody(BaseModel):
    """Exactly one of `channel` or `adapter`."""

    channel: str | None = Field(default=None, min_length=1, max_length=100)
    adapter: str | None = Field(default=None, min_length=1, max_length=100)
    note: str = Field(default="", max_length=500, description="kept in the audit entry")

    @model_validator(mode="after")
    def _one(self) -> PauseBody:
        if (self.channel is None) == (self.adapter is None):
            raise ValueError("give exactly one of `channel` or `adapter`")
        return self


class PauseOut(BaseModel):
    target: Literal["channel", "adapter"]
    name: str
    paused: bool


class DeliveryOut(BaseModel):
    """A delivery's properties (payload parsed), its attempts and its callback events, oldest first."""

    delivery: dict[str, Any]
    attempts: list[dict[str, Any]]
    events: list[dict[str, Any]]


class DeadPage(BaseModel):
    deliveries: list[dict[str, Any]]
    next: dict[str, Any] | None = Field(description="query parameters of the next page (null: the last page)")


class RetryOut(BaseModel):
    deliveryId: str
    status: str


def _raise(exc: JourneysError) -> HTTPException:
    status = 404 if isinstance(exc, DeliveryNotFound) else 409 if isinstance(exc, DeliveryConflict) else \
        403 if isinstance(exc, DeliveryForbidden) else 400
    return HTTPException(status, detail={"success": False, "error": str(exc), "reason": exc.reason})


@router.get("", responses=responses(400, 401, 403, 503))
def list_deliveries(control: ControlDep, _principal: Reader,
                    status: Annotated[Literal["dead"], Query(description="only `dead` (the dead-letter list)")],
                    limit: Annotated[int, Query(ge=1, le=DEAD_PAGE_MAX)] = 50,
                    before_ms: Annotated[int | None, Query(alias="beforeMs")] = None,
                    before_id: Annotated[str | None, Query(alias="beforeId", max_length=100)] = None) -> DeadPage:
    """Dead letters, newest first; page on with `beforeMs` and `beforeId` from `next`."""
    rows = control.dead(limit, before_ms, before_id)
    last = rows[-1] if len(rows) == limit else None
    return DeadPage(deliveries=rows, next=None if last is None else {
        "status": status, "limit": limit, "beforeMs": last.get("deadAtMs"), "beforeId": last.get("deliveryId")})


@router.get("/{delivery_id}", responses=responses(401, 403, 404, 503))
def get_delivery(delivery_id: str, control: ControlDep, _principal: Reader) -> DeliveryOut:
    """The delivery with every attempt (time, adapter, status code, error, latency) and callback event."""
    try:
        return DeliveryOut(**control.get(delivery_id))
    except JourneysError as exc:
        raise _raise(exc) from exc


@router.post("/{delivery_id}/retry", responses=responses(401, 403, 404, 409, 503))
async def retry_delivery(delivery_id: str, control: ControlDep, principal: Operator) -> RetryOut:
    """A dead delivery back to pending (due now, attempts reset, off the dead-letter list)."""
    try:
        status = await run_in_threadpool(control.retry, delivery_id, principal)
    except JourneysError as exc:
        raise _raise(exc) from exc
    return RetryOut(deliveryId=delivery_id, status=status)


async def _set(control: DeliveryControl, body: PauseBody, principal: Principal, paused: bool) -> PauseOut:
    target: Literal["channel", "adapter"] = "channel" if body.channel is not None else "adapter"
    name = body.channel if body.channel is not None else body.adapter
    assert name is not None
    try:
        state = await run_in_threadpool(control.set_paused, target, name, paused, principal, body.note)
    except JourneysError as exc:
        raise _raise(exc) from exc
    return PauseOut(target=state.target, name=state.name, paused=state.paused)


@router.post("/pause", responses=responses(400, 401, 403, 422, 503))
async def pause(body: PauseBody, control: ControlDep, principal: Operator) -> PauseOut:
    """Kill switch: hold every delivery of a channel or an adapter (takes effect at the next claim)."""
    return await _set(control, body, principal, True)


@router.post("/resume", responses=responses(400, 401, 403, 422, 503))
async def resume(body: PauseBody, control: ControlDep, principal: Operator) -> PauseOut:
    """Lift a kill switch; held deliveries go out at their next look (JOURNEYS_DISPATCH_PAUSE_RECHECK_S)."""
    return await _set(control, body, principal, False)
