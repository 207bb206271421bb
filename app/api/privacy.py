"""Erasing a person over HTTP (admin Bearer keys only): `DELETE /v1/people/{ref}`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from starlette.concurrency import run_in_threadpool

from app.api.body import api_error
from app.api.deps import PrincipalDep, ServicesDep
from app.api.responses import responses
from app.privacy.erase import InvalidRef, PersonEraser
from graph_models.principal import Principal
from graph_models.privacy import ErasureReport

router = APIRouter(tags=["privacy"])


def get_eraser(services: ServicesDep) -> PersonEraser:
    return PersonEraser(services.driver, services.settings.neo4j_database, services.clock)


def admin_only(principal: PrincipalDep) -> Principal:
    """The principal, or 403 unless its role is admin."""
    if principal.role != "admin":
        raise HTTPException(403, detail={"success": False, "field": "authorization",
                                         "error": f"{principal.name!r} ({principal.role}) may not erase people; "
                                                  "that needs the role admin"})
    return principal


EraserDep = Annotated[PersonEraser, Depends(get_eraser)]
Admin = Annotated[Principal, Depends(admin_only)]


@router.delete("/v1/people/{ref}", responses=responses(400, 401, 403, 422, 503))
async def erase_person(ref: str, eraser: EraserDep, principal: Admin,
                       dry_run: Annotated[bool, Query(alias="dryRun", description="only count what would go")]
                       = False) -> ErasureReport:
    """Erase a person: identities, events, sessions, enrollments, action requests, decisions and deliveries
    are deleted; their identity keys are tombstoned (hashed) so events still in Kafka cannot re-create them;
    an audit entry keeps a hash of the personId. An unknown ref is tombstoned too (`found: false`)."""
    try:
        return await run_in_threadpool(eraser.erase, ref, principal, dry_run=dry_run)
    except InvalidRef as exc:
        raise api_error(400, str(exc), field="ref") from exc
