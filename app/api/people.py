"""Consent and suppression over HTTP (Bearer journey API keys: authors and admins write, any key reads).

`ref` is `userId:<x>`, `anonymousId:<x>`, `personId:<x>` or a bare userId. Bad bodies answer 400 naming the
field; an unknown person answers 404.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Literal, TypeVar, get_args

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, ValidationError
from starlette.concurrency import run_in_threadpool

from app.api.body import api_error, read_json
from app.api.deps import ServicesDep, allowed
from app.api.responses import responses
from app.decisions.person_state import (
    MAX_REASON,
    InvalidPersonState,
    PersonNotFound,
    PersonStateStore,
    check_list_id,
)
from graph_models.journey import CHANNELS
from graph_models.principal import Principal

router = APIRouter(tags=["people"])
MAX_BODY_BYTES = 256_000
MAX_PEOPLE = 1000
Channel = Literal["email", "sms", "push", "webhook", "in_app", "crm"]
assert get_args(Channel) == CHANNELS, "keep Channel in step with graph_models.journey.CHANNELS"
M = TypeVar("M", bound=BaseModel)


def get_people(services: ServicesDep) -> PersonStateStore:
    return PersonStateStore(services.driver, services.settings.neo4j_database, services.clock)


PeopleDep = Annotated[PersonStateStore, Depends(get_people)]
Reader = Annotated[Principal, Depends(allowed("read"))]
Writer = Annotated[Principal, Depends(allowed("push"))]  # authors and admins


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConsentBody(_Body):
    channel: Channel
    status: Literal["opted_in", "opted_out"]
    marketingOnly: StrictBool = Field(default=False, description="an opt-out of marketing only (receipts still go)")
    source: Literal["api", "callback"] = "api"


class SuppressBody(_Body):
    people: list[StrictStr] = Field(min_length=1, max_length=MAX_PEOPLE, description="person refs")
    reason: StrictStr = Field(min_length=1, max_length=MAX_REASON)


class ConsentOut(BaseModel):
    channel: str
    status: str = Field(description="opted_in, opted_out or unknown (no edge)")
    source: str | None = None
    atMs: int | None = None
    marketingOnly: bool = False
    messageId: str | None = None


class ListEntryOut(BaseModel):
    listId: str
    reason: str | None
    atMs: int | None
    source: str | None


class PersonConsentOut(BaseModel):
    personId: str
    userId: str | None
    channels: list[ConsentOut]
    suppressions: list[ListEntryOut]


class SuppressedPersonOut(BaseModel):
    personId: str | None
    userId: str | None
    reason: str | None
    atMs: int | None
    source: str | None


class SuppressionListOut(BaseModel):
    listId: str
    people: list[SuppressedPersonOut]


class SuppressOut(BaseModel):
    listId: str
    suppressed: list[str] = Field(description="refs put on the list")
    missing: list[str] = Field(description="refs that match no person (not written)")


class UnsuppressOut(BaseModel):
    listId: str
    removed: bool = Field(description="false when the person was not on the list")


def _body_schema(model: type[BaseModel]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": model.model_json_schema()}}}}


async def _parse(request: Request, model: type[M]) -> M:
    data = await read_json(request, MAX_BODY_BYTES)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [{"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]}
                  for e in exc.errors(include_url=False)]
        first = exc.errors(include_url=False)[0]
        field = str(first["loc"][0]) if first["loc"] else "body"
        raise api_error(400, f"{field}: {first['msg']}", field=field, errors=errors) from exc


def _error(exc: Exception) -> HTTPException:
    if isinstance(exc, PersonNotFound):
        return HTTPException(404, detail={"success": False, "error": str(exc), "field": "ref", "reason": exc.reason})
    assert isinstance(exc, InvalidPersonState)
    return api_error(400, str(exc), field=exc.field)


def _list_id(list_id: str) -> str:
    try:
        return check_list_id(list_id)
    except InvalidPersonState as exc:
        raise _error(exc) from exc


@router.get("/v1/people/{ref}/consent", responses=responses(401, 403, 404, 503))
async def get_consent(ref: str, people: PeopleDep, _principal: Reader) -> PersonConsentOut:
    """Every channel's consent (`unknown` where nothing was ever said) and the lists the person is on."""
    try:
        found = await run_in_threadpool(people.consent, ref)
    except PersonNotFound as exc:
        raise _error(exc) from exc
    return PersonConsentOut.model_validate(dataclasses.asdict(found))


@router.put("/v1/people/{ref}/consent", openapi_extra=_body_schema(ConsentBody),
            responses=responses(400, 401, 403, 404, 413, 503))
async def put_consent(ref: str, request: Request, people: PeopleDep, _principal: Writer) -> ConsentOut:
    """Set a person's consent on one channel now (replaces what traits, events or earlier calls said)."""
    body = await _parse(request, ConsentBody)
    try:
        stored = await run_in_threadpool(lambda: people.set_consent(
            ref, body.channel, body.status, marketing_only=body.marketingOnly, source=body.source))
    except (PersonNotFound, InvalidPersonState) as exc:
        raise _error(exc) from exc
    return ConsentOut.model_validate(dataclasses.asdict(stored))


@router.post("/v1/suppressions/{listId}", openapi_extra=_body_schema(SuppressBody),
             responses=responses(400, 401, 403, 413, 503))
async def suppress(listId: str, request: Request, people: PeopleDep,
                   _principal: Writer) -> SuppressOut:
    """Put people on a suppression list (created on first use); refs that match nobody are listed in `missing`."""
    list_id = _list_id(listId)
    body = await _parse(request, SuppressBody)
    try:
        done = await run_in_threadpool(people.suppress, list_id, body.people, body.reason)
    except InvalidPersonState as exc:
        raise _error(exc) from exc
    return SuppressOut(listId=done.listId, suppressed=done.suppressed, missing=done.missing)


@router.delete("/v1/suppressions/{listId}/{ref}", responses=responses(400, 401, 403, 404, 503))
async def unsuppress(listId: str, ref: str, people: PeopleDep,
                     _principal: Writer) -> UnsuppressOut:
    """Take a person off a list (`removed: false` when they were not on it)."""
    list_id = _list_id(listId)
    try:
        removed = await run_in_threadpool(people.unsuppress, list_id, ref)
    except PersonNotFound as exc:
        raise _error(exc) from exc
    return UnsuppressOut(listId=list_id, removed=removed)


@router.get("/v1/suppressions/{listId}", responses=responses(400, 401, 403, 422, 503))
async def list_suppressions(listId: str, people: PeopleDep, _principal: Reader,
                            limit: Annotated[int, Query(ge=1, le=10_000)] = 1000) -> SuppressionListOut:
    """The people on a list, newest first."""
    list_id = _list_id(listId)
    found = await run_in_threadpool(people.suppressions, list_id, limit)
    return SuppressionListOut(listId=list_id, people=[
        SuppressedPersonOut(personId=s.personId, userId=s.userId, reason=s.reason, atMs=s.atMs, source=s.source)
        for s in found])
