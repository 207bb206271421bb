"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from neo4j.exceptions import ServiceUnavailable, SessionExpired, TransientError

from app.api import (
    callbacks,
    config,
    decisions,
    deliveries,
    explore,
    health,
    journeys,
    metrics,
    next_action,
    people,
    privacy,
    results,
    segments,
    simulate,
    tracking,
)
from app.api.services import Services


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    body = exc.detail if isinstance(exc.detail, dict) else {"success": False, "error": str(exc.detail)}
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


async def _graph_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    """The graph is down or busy: 503, which clients may retry (never a 500)."""
    return JSONResponse({"success": False, "error": f"graph unavailable, retry later: {type(exc).__name__}"},
                        status_code=503, headers={"Retry-After": "5"})


def create_app(services: Services) -> FastAPI:
    """The service with its routes; `services` is owned by the caller (closed by the caller)."""
    app = FastAPI(title="Journeys", version="0.1.0",
                  description="Segment-compatible intake and next-action API over a journey graph.")
    app.state.services = services
    app.add_exception_handler(HTTPException, _http_error)
    app.include_router(tracking.router)
    app.include_router(health.router)
    app.include_router(journeys.router)
    app.include_router(people.router)
    app.include_router(privacy.router)
    app.include_router(explore.router)
    explore.mount_static(app)
    app.include_router(decisions.router)
    app.include_router(next_action.router)
    app.include_router(callbacks.router)
    app.include_router(results.router)
    app.include_router(simulate.router)
    app.include_router(metrics.router)
    for error in journeys.ERROR_STATUS:
        app.add_exception_handler(error, journeys.journey_error)
    app.include_router(config.router)
    app.include_router(deliveries.router)
    for error in config.ERROR_STATUS:
        app.add_exception_handler(error, config.config_error)
    app.include_router(segments.router)
    for error in segments.ERROR_STATUS:
        app.add_exception_handler(error, segments.segment_error)
    for unavailable in (ServiceUnavailable, SessionExpired, TransientError):
        app.add_exception_handler(unavailable, _graph_unavailable)
    return app
