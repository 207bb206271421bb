"""GET /health: can the service reach the graph and the broker?"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.api.deps import ServicesDep
from app.graph.queries import query
from app.kafka import broker_status

router = APIRouter(tags=["ops"])


def graph_status(services: ServicesDep) -> tuple[bool, str]:
    try:
        services.driver.execute_query(query("ops/ping"), database_=services.settings.neo4j_database)
        return True, "ok"
    except Exception as exc:  # any failure means "not reachable" for a health check
        return False, f"{type(exc).__name__}: {exc}"[:300]


HEALTH_STATUSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The graph and the broker answer."},
    503: {"description": "The graph or the broker (or the in-process consumer) is not well; the body says "
                         "which, in the same shape as the 200 answer. Safe to retry."},
}


@router.get("/health", responses=HEALTH_STATUSES)
def health(services: ServicesDep) -> JSONResponse:
    """200 when both are reachable (and the in-process consumer, if any, is not paused because every write
    fails), 503 otherwise; the body says which one failed and what the consumer is doing."""
    graph_ok, graph_detail = graph_status(services)
    broker_ok, broker_detail = broker_status(services.bootstrap)
    ok = graph_ok and broker_ok
    body: dict[str, Any] = {
        "graph": {"ok": graph_ok, "detail": graph_detail},
        "broker": {"ok": broker_ok, "detail": broker_detail},
    }
    if services.consumer_status is not None:
        consumer = services.consumer_status()
        consumer["ok"] = consumer.get("state") != "paused_systemic"
        ok = ok and consumer["ok"]
        body["consumer"] = consumer
    body = {"status": "ok" if ok else "degraded", **body}
    return JSONResponse(body, status_code=200 if ok else 503)
